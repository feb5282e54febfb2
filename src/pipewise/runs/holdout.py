"""Holdout groups: a sequence or a workflow may hold out a share (5–20 %) of the records
that would enroll, so that what automation does can be measured against records it left
alone.

Which records are held out is decided by a hash, not a random draw: SHA-256 of the
subject (the sequence's or workflow's id) and the record's id gives a number in [0, 1);
the record is held out when it falls below the share. The same ids give the same answer
in every process and on every retry, and each subject splits the records independently
(a record held out of one sequence is not thereby held out of the others). The first
answer is stored (``holdout_assignment``) and then frozen: raising or lowering the share,
or switching it off, changes nothing for records already assigned, so neither group is
ever reshuffled while outcomes accrue.

A held-out record gets no automated touch from its subject: each engine asks here when a
record would enroll (``assign``) and again before every step and at the last look before
SMTP (``held_out``), and logs the answer in its decision log (``verdict``)."""

import hashlib
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator
from sqlalchemy import String, exists, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pipewise.auth.visibility import Actor
from pipewise.db.base import Base, utcnow
from pipewise.db.session import cached_lookup, dialect_insert
from pipewise.db.unit_of_work import unit_of_work
from pipewise.records.registry import RECORD_TYPES
from pipewise.records.repository import RecordRepository
from pipewise.runs.verdicts import Verdict

MIN_SHARE, MAX_SHARE = 5, 20
HELD_OUT = "held_out"  # the enrollment status and the decision code of a held-out record


SHARE_RULE = f"use 0 (no holdout) or a whole percentage from {MIN_SHARE} to {MAX_SHARE}"


def check_share(value: int) -> int:
    if value != 0 and not MIN_SHARE <= value <= MAX_SHARE:
        raise ValueError(SHARE_RULE)
    return value


def read_share(text: str) -> int:
    """A share as typed in a form (empty: 0); ValueError in words a person reads."""
    try:
        value = int(text.strip() or "0")
    except ValueError:
        raise ValueError(SHARE_RULE) from None
    return check_share(value)


# The setting on a sequence or a workflow: the percentage of records held out (0: none).
HoldoutShare = Annotated[int, AfterValidator(check_share)]


class HoldoutAssignment(Base):
    """A record's group for one sequence or workflow, fixed the first time it would enroll."""

    __tablename__ = "holdout_assignment"

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)  # sequence | workflow
    subject_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20))
    held_out: Mapped[bool]
    share: Mapped[int]  # the percentage in force when the record was assigned
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


def bucket(scope: str, subject_id: uuid.UUID, record_id: uuid.UUID) -> float:
    """Where the record falls for this subject, uniformly in [0, 1)."""
    digest = hashlib.sha256(f"pipewise-holdout:{scope}:{subject_id}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def falls_in_holdout(scope: str, subject_id: uuid.UUID, record_id: uuid.UUID, share: int) -> bool:
    return bucket(scope, subject_id, record_id) < share / 100


def assign(
    session: Session, *, scope: str, subject_id: uuid.UUID, record_type: str, record_id: uuid.UUID, share: int, at: datetime,
) -> HoldoutAssignment | None:
    """The record's group: the stored one, else (when a share is set) a new one from the
    hash. None when no holdout applies to the record now or ever did. Two processes
    assigning the same record at once agree (same hash); the first row stays."""
    key = (scope, subject_id, record_id)
    known = session.get(HoldoutAssignment, key)
    if known is not None or share == 0:
        return known
    session.execute(
        dialect_insert(session)(HoldoutAssignment)
        .values(
            scope=scope, subject_id=subject_id, record_id=record_id, record_type=record_type,
            held_out=falls_in_holdout(scope, subject_id, record_id, share), share=share, assigned_at=at,
        )
        .on_conflict_do_nothing()
    )
    unit_of_work(session).forget(HoldoutAssignment)
    return session.get(HoldoutAssignment, key)


def held_out(session: Session, scope: str, subject_id: uuid.UUID, record_id: uuid.UUID) -> HoldoutAssignment | None:
    """The record's assignment if it is held out of the subject. Asked before every step,
    so a subject without held-out records costs one query per transaction."""
    if not cached_lookup(session, HoldoutAssignment, ("held_out", scope, subject_id), lambda: session.scalar(
        select(exists().where(
            HoldoutAssignment.scope == scope, HoldoutAssignment.subject_id == subject_id, HoldoutAssignment.held_out.is_(True),
        ))
    )):
        return None
    row = session.get(HoldoutAssignment, (scope, subject_id, record_id))
    return row if row is not None and row.held_out else None


def reason(assignment: HoldoutAssignment, what: str) -> str:
    """Why a held-out record is left alone, in a rep's words; ``what``: "this sequence"."""
    return (
        f"held out of {what}: chosen at random for its holdout group ({assignment.share} % of records, "
        f"since {assignment.assigned_at:%Y-%m-%d}), which measures its effect, so it gets no automated touch from it"
    )


def verdict(assignment: HoldoutAssignment, what: str) -> Verdict:
    return Verdict("exit", HELD_OUT, reason(assignment, what))


def population(session: Session, scope: str, subject_id: uuid.UUID, *, actor: Actor) -> list[HoldoutAssignment]:
    """The subject's assigned records that ``actor`` may see and that still exist."""
    found: list[HoldoutAssignment] = []
    record_types = session.scalars(
        select(HoldoutAssignment.record_type)
        .where(HoldoutAssignment.scope == scope, HoldoutAssignment.subject_id == subject_id)
        .distinct()
    )
    for record_type in list(record_types):
        spec = RECORD_TYPES.get(record_type)
        if spec is None:
            continue
        stmt = (
            select(HoldoutAssignment)
            .join(spec.model, spec.model.id == HoldoutAssignment.record_id)
            .where(
                HoldoutAssignment.scope == scope, HoldoutAssignment.subject_id == subject_id,
                HoldoutAssignment.record_type == record_type,
            )
        )
        found += session.scalars(RecordRepository(session, spec).visible(stmt, actor))
    return found
