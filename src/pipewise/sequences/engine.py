"""Running enrollments: scheduling each step as a durable timer, re-checking the guards
when it comes due, acting on the verdict (send, hold, pause, exit), advancing after a
send or a completed task. Sending itself, and the suppression list, belong to ``mail``."""

import logging
import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipewise import origin as origins
from pipewise.crm.models import Contact, Task
from pipewise.errors import ValidationFailed
from pipewise.events.models import ScheduledAction
from pipewise.mail import delivery
from pipewise.mail.mailboxes import mailbox_of
from pipewise.runs import timers
from pipewise.runs.verdicts import Verdict
from pipewise.sequences import clock, templates
from pipewise.sequences.calendar import add_delay, zone_of
from pipewise.sequences.compose import Draft, compose, pick_variant, step_message_id, thread_of
from pipewise.sequences.decisions import decide, orphan_check
from pipewise.sequences.events import add_task
from pipewise.sequences.guards import country_of, evaluate, window_for
from pipewise.sequences.models import EmailMessage, Enrollment, SequenceStep
from pipewise.sequences.schemas import EMAIL_STEPS

log = logging.getLogger("pipewise.sequences")

STEP_ACTION = "sequence.step"
RESUME_ACTION = "sequence.resume"
KIND_LABELS = {"auto_email": "automatic e-mail", "manual_email": "manual e-mail", "call": "call", "task": "task"}


def steps_of(session: Session, sequence_id: uuid.UUID) -> list[SequenceStep]:
    return list(session.scalars(select(SequenceStep).where(SequenceStep.sequence_id == sequence_id).order_by(SequenceStep.position)))


def step_after(session: Session, step: SequenceStep | None, sequence_id: uuid.UUID) -> SequenceStep | None:
    stmt = select(SequenceStep).where(SequenceStep.sequence_id == sequence_id)
    if step is not None:
        stmt = stmt.where(SequenceStep.position > step.position)
    return session.scalar(stmt.order_by(SequenceStep.position).limit(1))


def _local(session: Session, enrollment: Enrollment, moment: datetime) -> str:
    contact = session.get(Contact, enrollment.contact_id)
    zone = zone_of(contact.timezone if contact else None)
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M} {zone.key}"


# -- scheduling --


def _arm(session: Session, enrollment: Enrollment, step: SequenceStep, run_at: datetime) -> None:
    """Point the enrollment at ``step`` due at ``run_at``. Every arming gets a new timer
    key, so a timer from before a pause or hold finds itself stale and does nothing."""
    enrollment.schedule_version += 1
    enrollment.next_step_id = step.id
    enrollment.next_run_at = run_at
    version = enrollment.schedule_version
    timers.schedule_step(
        session, key=timers.timer_key("seq", enrollment.id, step.id, version), kind=STEP_ACTION, run_at=run_at,
        enrollment_id=enrollment.id, step_id=step.id, version=version,
    )


def place(session: Session, enrollment: Enrollment, step: SequenceStep, moment: datetime) -> datetime:
    """E-mail steps go inside the send window in the recipient's zone."""
    if step.kind != "auto_email":
        return moment
    contact = session.get(Contact, enrollment.contact_id)
    return window_for(session, contact, enrollment.sender_id).place(moment)


def schedule_step(session: Session, enrollment: Enrollment, step: SequenceStep, *, after: datetime) -> datetime:
    contact = session.get(Contact, enrollment.contact_id)
    due = add_delay(after, days=step.delay_days, business=step.business_days, zone=zone_of(contact.timezone), country=country_of(session, contact))
    run_at = place(session, enrollment, step, due)
    _arm(session, enrollment, step, run_at)
    return run_at


def advance(session: Session, enrollment: Enrollment, *, done: SequenceStep | None, at: datetime) -> None:
    """Move past ``done``: schedule the next step, or finish the sequence."""
    enrollment.waiting_task_id = None
    nxt = step_after(session, done, enrollment.sequence_id)
    if nxt is None:
        finish(session, enrollment)
        return
    run_at = schedule_step(session, enrollment, nxt, after=at)
    decide(
        session, enrollment, "scheduled", "next_step",
        f"step {nxt.position} ({KIND_LABELS[nxt.kind]}) planned for {_local(session, enrollment, run_at)}", step_id=nxt.id,
    )


def finish(session: Session, enrollment: Enrollment) -> None:
    _end(session, enrollment, "finished", "completed", "every step of the sequence is done")
    orphan_check(session, enrollment, what_happened="The sequence ended")


def _end(session: Session, enrollment: Enrollment, status: str, code: str, reason: str) -> None:
    enrollment.status = status
    enrollment.ended_at = clock.now()
    enrollment.next_run_at = None
    enrollment.paused_until = None
    enrollment.schedule_version += 1
    decide(session, enrollment, status, code, reason)
    # A rep's own send (a manual step) is their call: it goes out even when it was the last step.
    session.execute(
        update(EmailMessage)
        .where(EmailMessage.enrollment_id == enrollment.id, EmailMessage.status == "queued", EmailMessage.automated.is_(True))
        .values(status="cancelled", error=f"enrollment {status}: {reason}")
    )


def exit_enrollment(session: Session, enrollment: Enrollment, *, code: str, reason: str) -> None:
    if enrollment.status not in ("active", "paused"):
        return
    _end(session, enrollment, "exited", code, reason)
    orphan_check(session, enrollment, what_happened=f"Left the sequence: {reason}")


def pause(session: Session, enrollment: Enrollment, *, code: str, reason: str, until: datetime | None) -> None:
    enrollment.status = "paused"
    enrollment.paused_until = until
    enrollment.schedule_version += 1
    step = session.get(SequenceStep, enrollment.next_step_id) if enrollment.next_step_id else None
    held = f"; step {step.position} ({KIND_LABELS[step.kind]}) is held" if step else ""
    if until is not None:
        decide(session, enrollment, "paused", code, f"{reason}{held} until {_local(session, enrollment, until)}", step_id=step.id if step else None)
        version = enrollment.schedule_version
        timers.schedule_step(
            session, key=timers.timer_key("seq-resume", enrollment.id, version), kind=RESUME_ACTION, run_at=until,
            enrollment_id=enrollment.id, version=version,
        )
        return
    decide(session, enrollment, "paused", code, f"{reason}{held} until someone resumes it", step_id=step.id if step else None)
    orphan_check(session, enrollment, what_happened=f"Sequence paused: {reason}")


def resume(session: Session, enrollment: Enrollment, *, reason: str, by_person: bool) -> None:
    now = clock.now()
    if by_person:
        enrollment.signals_after = now  # the person has seen what paused it
    enrollment.status = "active"
    enrollment.paused_until = None
    decide(session, enrollment, "resumed", "resumed", reason)
    step = session.get(SequenceStep, enrollment.next_step_id) if enrollment.next_step_id else None
    if step is None:
        advance(session, enrollment, done=None, at=now) if enrollment.last_touch_at is None else finish(session, enrollment)
        return
    due = max(now, enrollment.next_run_at or now)
    _arm(session, enrollment, step, place(session, enrollment, step, due))


def apply(session: Session, enrollment: Enrollment, verdict: Verdict, *, step: SequenceStep | None) -> None:
    """Act on a guard's verdict that is not "send"."""
    if verdict.action == "exit":
        exit_enrollment(session, enrollment, code=verdict.code, reason=verdict.reason)
    elif verdict.action == "pause":
        if enrollment.status == "paused" and enrollment.paused_until == verdict.until:
            return
        pause(session, enrollment, code=verdict.code, reason=verdict.reason, until=verdict.until)
    elif verdict.action == "hold" and step is not None:
        run_at = place(session, enrollment, step, verdict.until or clock.now())
        _arm(session, enrollment, step, run_at)
        decide(
            session, enrollment, "held", verdict.code,
            f"{verdict.reason}; step {step.position} now planned for {_local(session, enrollment, run_at)}", step_id=step.id,
        )


def reevaluate(session: Session, enrollments: list[Enrollment]) -> None:
    """A signal arrived: let every affected live enrollment react now, not at its next step."""
    now = clock.now()
    for enrollment in enrollments:
        verdict = evaluate(session, enrollment, now=now, sending=False)
        if verdict.action == "exit" or (verdict.action == "pause" and enrollment.status == "active"):
            apply(session, enrollment, verdict, step=None)


def check_now(session: Session, enrollment: Enrollment, *, now: datetime) -> Verdict:
    """The guard check just before SMTP, acted upon when it says stop."""
    return evaluate(session, enrollment, now=now, sending=False)


# -- timers --


def _live_enrollment(session: Session, timer: timers.StepTimer) -> Enrollment | None:
    enrollment = session.get(Enrollment, timer.enrollment_id, with_for_update=True)
    if enrollment is None or enrollment.schedule_version != timer.payload.get("version"):
        return None  # rescheduled, paused or ended since this timer was set
    return enrollment


def run_step(session: Session, action: ScheduledAction) -> None:
    timer = timers.StepTimer.of(action)
    with origins.acting("sequence", via=f"sequence step {timer.step_id}"):
        _run_step(session, timer)


def _run_step(session: Session, timer: timers.StepTimer) -> None:
    enrollment = _live_enrollment(session, timer)
    if enrollment is None or enrollment.status != "active":
        return
    step = session.get(SequenceStep, uuid.UUID(timer.step_id))
    if step is None:
        advance(session, enrollment, done=None, at=clock.now()) if enrollment.last_touch_at is None else finish(session, enrollment)
        return
    enrollment.next_run_at = None
    verdict = evaluate(session, enrollment, now=clock.now(), sending=step.kind == "auto_email")
    if not verdict.clear:
        apply(session, enrollment, verdict, step=step)
        return
    if step.kind == "auto_email":
        _queue_email(session, enrollment, step)
    else:
        _open_task(session, enrollment, step)


def run_resume(session: Session, action: ScheduledAction) -> None:
    enrollment = _live_enrollment(session, timers.StepTimer.of(action))
    if enrollment is None or enrollment.status != "paused":
        return
    verdict = evaluate(session, enrollment, now=clock.now(), sending=False)
    if verdict.clear:
        resume(session, enrollment, reason="the pause ended and no new signal stands in the way", by_person=False)
    else:
        apply(session, enrollment, verdict, step=None)


def _draft(session: Session, enrollment: Enrollment, step: SequenceStep) -> tuple[Draft, object]:
    variant = pick_variant(session, step, enrollment.id)
    if variant is None:
        raise ValidationFailed.on("variants", f"step {step.position} has no e-mail to send")
    return Draft(variant.subject, variant.body_html, variant.body_text), variant


def _queue_email(session: Session, enrollment: Enrollment, step: SequenceStep) -> None:
    contact = session.get(Contact, enrollment.contact_id)
    mailbox = mailbox_of(session, enrollment.sender_id)
    message_id = step_message_id(enrollment, step, mailbox.from_address)
    existing = session.scalar(select(EmailMessage).where(EmailMessage.message_id == message_id))
    if existing is not None:
        if existing.status == "cancelled":
            existing.status, existing.error, existing.next_attempt_at = "queued", None, None
        delivery.enqueue(session, existing, immediately=True)
        return
    try:
        draft, variant = _draft(session, enrollment, step)
        compose(
            session, contact=contact, sender_id=enrollment.sender_id, draft=draft, kind="sequence", automated=True,
            message_id=message_id, enrollment=enrollment, step=step, variant=variant,
            thread=thread_of(session, enrollment.id) if step.thread else None, immediately=True,
        )
    except ValidationFailed as exc:
        decide(session, enrollment, "skipped", "cannot_render", f"step {step.position} could not be written: {exc.detail}", step_id=step.id)
        pause(session, enrollment, code="cannot_render", reason="an e-mail of the sequence cannot be written", until=None)


def _open_task(session: Session, enrollment: Enrollment, step: SequenceStep) -> None:
    contact = session.get(Contact, enrollment.contact_id)
    notes = step.task_notes
    title = step.task_title or f"{KIND_LABELS[step.kind].capitalize()}: {contact.full_name}"
    if step.kind == "manual_email":
        draft, _variant = _draft(session, enrollment, step)
        rendered = templates.render(
            session, subject=draft.subject, body_html=draft.body_html, body_text=draft.body_text,
            context=templates.merge_fields(session, contact, sender=None),
        )
        notes = f"Subject: {rendered.subject}\n\n{rendered.text}" + (f"\n\n{notes}" if notes else "")
        title = step.task_title or f"E-mail {contact.full_name}: {rendered.subject}"
    task = add_task(session, title=title, notes=notes, owner_id=enrollment.sender_id or contact.owner_id, contact_id=contact.id)
    enrollment.waiting_task_id = task.id
    decide(session, enrollment, "waiting", "task_created", f"step {step.position} is for a person: “{task.title}”", step_id=step.id)


def task_closed(session: Session, task: Task) -> None:
    """A manual step's task was done (or cancelled): the sequence goes on."""
    enrollment = session.scalar(select(Enrollment).where(Enrollment.waiting_task_id == task.id).with_for_update())
    if enrollment is None or enrollment.status not in ("active", "paused"):
        return
    step = session.get(SequenceStep, enrollment.next_step_id) if enrollment.next_step_id else None
    verb = "done" if task.status == "done" else "cancelled"
    decide(session, enrollment, "completed" if verb == "done" else "skipped", f"task_{verb}", f"“{task.title}” was marked {verb}", step_id=step.id if step else None)
    enrollment.last_touch_at = clock.now()
    if enrollment.status == "active":
        advance(session, enrollment, done=step, at=clock.now())
    else:
        enrollment.waiting_task_id = None


# -- after delivery --


def after_sent(session: Session, message: EmailMessage) -> None:
    enrollment = session.get(Enrollment, message.enrollment_id, with_for_update=True)
    if enrollment is None:
        return
    step = session.get(SequenceStep, message.step_id) if message.step_id else None
    enrollment.last_touch_at = message.sent_at
    decide(
        session, enrollment, "sent", "sent",
        f"step {step.position if step else '?'} e-mailed to {message.to_address}: “{message.subject}”"
        + (f" ({message.error})" if message.error else ""),
        step_id=step.id if step else None, data={"message_id": message.message_id},
    )
    if enrollment.status == "active" and enrollment.next_step_id == message.step_id:
        advance(session, enrollment, done=step, at=message.sent_at)


def send_refused(session: Session, message: EmailMessage, reason: str) -> None:
    """The last look before SMTP stopped a sequence e-mail: say so, and let the guards act."""
    enrollment = session.get(Enrollment, message.enrollment_id, with_for_update=True)
    if enrollment is None:
        return
    decide(session, enrollment, "skipped", "blocked_at_send", f"not sent: {reason}", step_id=message.step_id)
    if enrollment.status == "active":
        verdict = evaluate(session, enrollment, now=clock.now(), sending=False)
        step = session.get(SequenceStep, message.step_id) if message.step_id else None
        if verdict.clear:
            pause(session, enrollment, code="send_failed", reason=reason, until=None)
        else:
            apply(session, enrollment, verdict, step=step)


def enrollment_steps_kinds(session: Session, sequence_id: uuid.UUID) -> set[str]:
    return {s.kind for s in steps_of(session, sequence_id)}


def has_email_steps(session: Session, sequence_id: uuid.UUID) -> bool:
    return bool(enrollment_steps_kinds(session, sequence_id) & set(EMAIL_STEPS))
