"""`pipewise sequences …`: list sequences, enroll and remove contacts, explain an enrollment."""

import uuid

import typer
from rich.table import Table
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.cli.output import out
from pipewise.db.session import session_scope
from pipewise.errors import NotFound
from pipewise.sequences.decisions import decisions_for
from pipewise.sequences.models import Sequence
from pipewise.sequences.service import sequence_service

sequences_app = typer.Typer(help="Sequences: list, enroll, remove, explain.", no_args_is_help=True)


def _sequence_id(session, ref: str) -> uuid.UUID:  # type: ignore[no-untyped-def]
    try:
        return uuid.UUID(ref)
    except ValueError:
        found = session.scalar(select(Sequence.id).where(Sequence.name == ref))
        if found is None:
            raise NotFound(f"no sequence named {ref!r}") from None
        return found


@sequences_app.command("list")
def list_sequences() -> None:
    with session_scope(write=False) as session:
        table = Table("name", "status", "steps", "live enrollments", "id")
        for sequence in sequence_service.all(session):
            live = [e for e in sequence_service.enrollments(session, actor=SYSTEM_ACTOR, sequence_id=sequence.id, limit=100_000) if e.status in ("active", "paused")]
            table.add_row(sequence.name, sequence.status, str(len(sequence_service.steps(session, sequence.id))), str(len(live)), str(sequence.id))
        out.print(table)


@sequences_app.command()
def enroll(sequence: str, contact_ids: list[uuid.UUID], reason: str = typer.Option("enrolled from the command line")) -> None:
    """Enroll contacts; each one that may not be enrolled is listed with the reason."""
    for contact_id in contact_ids:
        try:
            with session_scope() as session:
                sequence_service.enroll(session, sequence_id=_sequence_id(session, sequence), contact_id=contact_id, actor=SYSTEM_ACTOR, reason=reason)
            out.print(f"{contact_id}: enrolled")
        except NotFound:
            raise
        except Exception as exc:  # noqa: BLE001 - report each refusal and go on
            out.print(f"{contact_id}: not enrolled: {getattr(exc, 'detail', exc)}")


@sequences_app.command()
def remove(sequence: str, contact_id: uuid.UUID, reason: str = typer.Option("removed from the command line")) -> None:
    with session_scope() as session:
        sequence_service.unenroll(session, sequence_id=_sequence_id(session, sequence), contact_id=contact_id, actor=SYSTEM_ACTOR, reason=reason)
    out.print("removed")


@sequences_app.command()
def explain(contact_id: uuid.UUID) -> None:
    """Every decision automation made about a contact's sequences, newest first."""
    with session_scope(write=False) as session:
        table = Table("when (UTC)", "decision", "why")
        for row in decisions_for(session, contact_id=contact_id):
            table.add_row(f"{row.at:%Y-%m-%d %H:%M}", row.decision, row.reason)
        out.print(table)
