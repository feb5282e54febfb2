"""Read-only views over sequences for people: enrollments with the contact, the step they
are on and the decision that explains their state; a rep's queue of manual steps and
tasks due today; the pre-filled draft of a manual e-mail step. Every query applies the
acting user's visibility through the contact (or task) it reads."""

import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.crm.models import Contact, Task
from pipewise.crm.service import contact_service, task_service
from pipewise.sequences import templates
from pipewise.sequences.compose import pick_variant
from pipewise.sequences.decisions import STATE_DECISIONS
from pipewise.sequences.models import Enrollment, Sequence, SequenceDecision, SequenceStep

ENROLLMENT_STATUSES = ("active", "paused", "finished", "exited", "held_out")


@dataclass(frozen=True)
class EnrollmentRow:
    enrollment: Enrollment
    contact: Contact
    sequence: Sequence
    step: SequenceStep | None
    # The recorded decision that put the enrollment in its current state.
    decision: SequenceDecision | None


def enrollment_rows(
    session: Session, *, actor: Actor, sequence_id: uuid.UUID | None = None, contact_id: uuid.UUID | None = None,
    status: str | None = None, owner_id: uuid.UUID | None = None, limit: int = 200,
) -> list[EnrollmentRow]:
    """Enrollments of contacts ``actor`` may see, newest first."""
    stmt = (
        select(Enrollment, Contact, Sequence, SequenceStep)
        .join(Contact, Contact.id == Enrollment.contact_id)
        .join(Sequence, Sequence.id == Enrollment.sequence_id)
        .outerjoin(SequenceStep, SequenceStep.id == Enrollment.next_step_id)
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
        .limit(limit)
    )
    if sequence_id is not None:
        stmt = stmt.where(Enrollment.sequence_id == sequence_id)
    if contact_id is not None:
        stmt = stmt.where(Enrollment.contact_id == contact_id)
    if status:
        stmt = stmt.where(Enrollment.status == status)
    if owner_id is not None:
        stmt = stmt.where(Contact.owner_id == owner_id)
    rows = session.execute(contact_service.repository(session).visible(stmt, actor)).all()
    latest = _state_decisions(session, [row[0].id for row in rows])
    return [EnrollmentRow(e, c, s, step, latest.get(e.id)) for e, c, s, step in rows]


def _state_decisions(session: Session, enrollment_ids: list[uuid.UUID]) -> dict[uuid.UUID, SequenceDecision]:
    if not enrollment_ids:
        return {}
    newest = (
        select(SequenceDecision.enrollment_id, func.max(SequenceDecision.id).label("id"))
        .where(SequenceDecision.enrollment_id.in_(enrollment_ids), SequenceDecision.decision.in_(STATE_DECISIONS))
        .group_by(SequenceDecision.enrollment_id)
        .subquery()
    )
    rows = session.scalars(select(SequenceDecision).join(newest, newest.c.id == SequenceDecision.id))
    return {row.enrollment_id: row for row in rows}


def enrollment_counts(session: Session, actor: Actor) -> dict[uuid.UUID, Counter[str]]:
    """Enrollments per sequence and status, of the contacts ``actor`` may see."""
    counts: dict[uuid.UUID, Counter[str]] = {}
    stmt = (
        select(Enrollment.sequence_id, Enrollment.status, func.count())
        .join(Contact, Contact.id == Enrollment.contact_id)
        .group_by(Enrollment.sequence_id, Enrollment.status)
    )
    rows = session.execute(contact_service.repository(session).visible(stmt, actor))
    for sequence_id, status, n in rows:
        counts.setdefault(sequence_id, Counter())[status] = n
    return counts


def step_counts(session: Session) -> dict[uuid.UUID, int]:
    return dict(session.execute(select(SequenceStep.sequence_id, func.count()).group_by(SequenceStep.sequence_id)).all())


# -- the rep's "today" queue --


@dataclass(frozen=True)
class QueueItem:
    task: Task
    contact: Contact | None
    # Set when the task is a sequence step waiting on a person.
    enrollment: Enrollment | None
    sequence: Sequence | None
    step: SequenceStep | None

    @property
    def kind(self) -> str:
        """manual_email | call | task"""
        return self.step.kind if self.step is not None and self.step.kind != "auto_email" else "task"


def end_of_today(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    return datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=local.tzinfo)


def today_queue(session: Session, *, actor: Actor, owner_id: uuid.UUID, now: datetime, zone: str, limit: int = 200,
                owner_ids: Collection[uuid.UUID] | None = None) -> list[QueueItem]:
    """Open tasks of ``owner_id`` (or of everyone in ``owner_ids``) due today (in ``zone``)
    or overdue, oldest due first."""
    stmt = (
        select(Task, Contact, Enrollment, Sequence, SequenceStep)
        .outerjoin(Contact, (Task.related_type == "contact") & (Contact.id == Task.related_id))
        .outerjoin(Enrollment, Enrollment.waiting_task_id == Task.id)
        .outerjoin(Sequence, Sequence.id == Enrollment.sequence_id)
        .outerjoin(SequenceStep, SequenceStep.id == Enrollment.next_step_id)
        .where(Task.owner_id.in_(owner_ids) if owner_ids else Task.owner_id == owner_id)
        .where(Task.status == "open", Task.due_at < end_of_today(now, zone))
        .order_by(Task.due_at, Task.id)
        .limit(limit)
    )
    rows = session.execute(task_service.repository(session).visible(stmt, actor)).all()
    return [QueueItem(*row) for row in rows]


def queue_item(session: Session, *, actor: Actor, task_id: uuid.UUID) -> QueueItem:
    """One task of the queue, with its sequence step if it has one (NotFound if hidden)."""
    task = task_service.get(session, task_id, actor=actor)
    contact = session.get(Contact, task.related_id) if task.related_type == "contact" and task.related_id else None
    enrollment = session.scalar(select(Enrollment).where(Enrollment.waiting_task_id == task.id))
    sequence = session.get(Sequence, enrollment.sequence_id) if enrollment else None
    step = session.get(SequenceStep, enrollment.next_step_id) if enrollment and enrollment.next_step_id else None
    return QueueItem(task, contact, enrollment, sequence, step)


@dataclass(frozen=True)
class ManualDraft:
    subject: str
    body: str


def manual_draft(session: Session, item: QueueItem) -> ManualDraft | None:
    """The e-mail a manual step suggests, written for its contact and sender."""
    if item.kind != "manual_email" or item.contact is None or item.enrollment is None or item.step is None:
        return None
    variant = pick_variant(session, item.step, item.enrollment.id)
    if variant is None:
        return None
    sender_id = item.enrollment.sender_id or item.task.owner_id
    sender = session.get(User, sender_id) if sender_id else None
    context = templates.merge_fields(session, item.contact, sender=sender)
    rendered = templates.render(session, subject=variant.subject, body_html=variant.body_html, body_text=variant.body_text, context=context)
    return ManualDraft(rendered.subject, rendered.text)


def team_members(session: Session, actor: Actor) -> list[User]:
    """The active people whose queue ``actor`` may open: themselves, and for a manager
    the members of their teams (everyone for an admin)."""
    stmt = select(User).where(User.is_active.is_(True)).order_by(User.name)
    if not actor.is_admin:
        if not actor.is_manager or not actor.team_ids:
            stmt = stmt.where(User.id == actor.id)
        else:
            stmt = stmt.where((User.team_id.in_(actor.team_ids)) | (User.id == actor.id))
    return list(session.scalars(stmt))
