"""`pipewise workflows …`: import, export, validate, simulate and list workflows."""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.automation import dryrun, io
from pipewise.automation.acting import acting_for
from pipewise.automation.definition import check_for_activation, load, parse
from pipewise.automation.models import Workflow
from pipewise.automation.service import workflow_service
from pipewise.automation.timing import parse_duration
from pipewise.cli.output import out
from pipewise.db.base import utcnow
from pipewise.db.session import session_scope
from pipewise.errors import NotFound, ValidationFailed

workflows_app = typer.Typer(help="Automation workflows: files in, files out, dry-runs.", no_args_is_help=True)


def _find(session: Session, ref: str) -> Workflow:
    """A workflow by id or by (unique) name."""
    try:
        return workflow_service.get(session, uuid.UUID(ref))
    except ValueError:
        pass
    found = list(session.scalars(select(Workflow).where(Workflow.name == ref)))
    if len(found) != 1:
        raise NotFound(f"no workflow named {ref!r}" if not found else f"{len(found)} workflows are named {ref!r}; use the id")
    return found[0]


def _actor(session: Session, email: str | None) -> Actor:
    if email is None:
        return SYSTEM_ACTOR
    user = session.scalar(select(User).where(User.email == email.lower()))
    if user is None:
        raise ValidationFailed.on("as", f"no user with e-mail {email}")
    return Actor.for_user(session, user)


def _read(path: Path) -> dict:
    if not path.exists():
        raise ValidationFailed.on("file", f"{path} does not exist")
    return io.parse_text(path.read_text(encoding="utf-8"), "json" if path.suffix == ".json" else None)


@workflows_app.command("list")
def list_workflows(status: str | None = typer.Option(None, help="draft, active, paused or archived")) -> None:
    """Show every workflow with its state, version and runs."""
    with session_scope(write=False) as session:
        table = Table("Id", "Name", "Status", "Record", "Live", "Latest", "Runs")
        for workflow in workflow_service.all(session, status=status):
            counts = workflow_service.counts(session, workflow.id)
            live = workflow_service.version_number(session, workflow.live_version_id)
            runs = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
            status_text = workflow.status + (" (awaiting approval)" if workflow.pending_version_id else "")
            table.add_row(str(workflow.id), workflow.name, status_text, workflow.record_type, str(live or "—"),
                          str(workflow.latest_version), runs)
    out.print(table)


@workflows_app.command("import")
def import_workflow(
    file: Path = typer.Argument(..., help="A .yaml, .yml or .json workflow file."),
    activate: bool = typer.Option(False, help="Activate it after import (validated first)."),
    as_user: str | None = typer.Option(None, "--as", help="E-mail of the person importing (default: the system)."),
) -> None:
    """Import a workflow file as a new draft."""
    document = _read(file)
    with session_scope() as session:
        actor = _actor(session, as_user)
        workflow = io.import_document(session, document, actor=actor)
        if activate:
            workflow_service.activate(session, workflow.id, actor=actor)
        out.print(f"Imported [bold]{workflow.name}[/] as {workflow.status} ({workflow.id}).")


@workflows_app.command("export")
def export_workflow(
    ref: str = typer.Argument(..., help="Workflow id or name."),
    fmt: str = typer.Option("yaml", "--format", help="yaml or json"),
    version: int | None = typer.Option(None, help="Version number (default: the latest)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Export a workflow as YAML or JSON."""
    if fmt not in io.FORMATS:
        raise ValidationFailed.on("format", "use yaml or json")
    with session_scope(write=False) as session:
        text = io.export_text(session, _find(session, ref).id, fmt=fmt, version_number=version)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"Wrote {output}.")


@workflows_app.command("validate")
def validate(source: str = typer.Argument(..., help="A workflow file, or the id or name of a stored workflow.")) -> None:
    """Check everything activation checks (fields, templates, reachable steps), saving nothing."""
    with session_scope(write=False) as session:
        path = Path(source)
        if path.suffix in (".yaml", ".yml", ".json"):
            _meta, definition = io.split_document(_read(path))
            check_for_activation(session, parse(definition))
        else:
            workflow_service.validate(session, _find(session, source).id)
        session.rollback()
    out.print(f"[green]Valid:[/] {source} can be activated.")


@workflows_app.command("simulate")
def simulate(
    source: str = typer.Argument(..., help="A workflow file, or the id or name of a stored workflow."),
    since: str = typer.Option("7d", help="How far back the window starts (e.g. 30d)."),
    until: datetime | None = typer.Option(None, help="End of the window (UTC; default: now)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
) -> None:
    """Dry-run over the recorded events of a past window: who would enroll, which steps
    would run and when. Nothing is changed."""
    try:
        back = parse_duration(since)
    except ValueError as exc:
        raise ValidationFailed.on("since", str(exc)) from None
    end = utcnow() if until is None else (until if until.tzinfo else until.replace(tzinfo=UTC))
    with session_scope(write=False) as session:
        path = Path(source)
        acting = None  # a file acts as whoever imports it; the report shows the system's view
        if path.suffix in (".yaml", ".yml", ".json"):
            definition = parse(io.split_document(_read(path))[1])
        else:
            workflow = _find(session, source)
            definition, acting = load(workflow_service.latest(session, workflow)), acting_for(session, workflow)
        report = dryrun.simulate(session, definition, start=end - back, end=end, acting=acting)
        session.rollback()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), default=str, indent=2))
        return
    out.print(f"Window {report.start:%Y-%m-%d %H:%M} → {report.end:%Y-%m-%d %H:%M} UTC; trigger: {report.trigger}; "
              f"{report.events_scanned:,} events replayed.")
    out.print(f"[bold]{len(report.runs)}[/] would enroll, [bold]{len(report.not_enrolled)}[/] would not.")
    for run in report.runs[:50]:
        out.print(f"  {run.record_id} at {run.enrolled_at:%Y-%m-%d %H:%M}: {run.outcome}")
        for step in run.steps:
            out.print(f"    {step.at:%Y-%m-%d %H:%M} {step.step_id}: {step.action}")
    for rejection in report.not_enrolled[:50]:
        out.print(f"  [dim]{rejection.record_id}: not enrolled — {rejection.reason}[/]")
    for note in report.notes:
        out.print(f"[yellow]Note:[/] {note}")

