"""The sequences service: building sequences (steps, A/B variants, rules), putting them
live after validating every template, enrolling and removing contacts, pausing and
resuming by hand, and one-off e-mails for workflows.

``sequence_service.enroll`` / ``unenroll`` are the entry points other packages use (the
automation engine's "enroll in / remove from a sequence" steps)."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.crm.models import Contact
from pipewise.crm.service import contact_service, task_service
from pipewise.db.base import uuid7
from pipewise.deals.models import Stage
from pipewise.errors import Conflict, ErrorCollector, NotFound, PermissionDenied, ValidationFailed
from pipewise.mail.mailboxes import mailbox_of
from pipewise.sequences import clock, engine, holdouts, templates
from pipewise.sequences.compose import Draft, compose, pick_variant, step_message_id, thread_of
from pipewise.sequences.decisions import decide
from pipewise.sequences.guards import ENROLL_LOOKBACK, evaluate
from pipewise.sequences.models import (
    LIVE_STATES,
    EmailMessage,
    EmailTemplate,
    Enrollment,
    Sequence,
    SequenceStep,
    StepVariant,
)
from pipewise.sequences.schemas import EMAIL_STEPS, SequenceRules, StepIn, StepUpdate, VariantIn


def _actor_label(actor: Actor) -> str:
    return actor.name or actor.email or "someone"


def _check_parts(session: Session, subject: str, body_html: str, body_text: str | None) -> None:
    """Raise with a field error for each part of a one-off e-mail that cannot render."""
    errors = ErrorCollector()
    templates.validate_parts(session, {"subject": subject, "body_html": body_html, "body_text": body_text}, errors)
    errors.raise_if_any()


class SequenceService:
    # -- reading --

    def get(self, session: Session, sequence_id: uuid.UUID) -> Sequence:
        sequence = session.get(Sequence, sequence_id)
        if sequence is None:
            raise NotFound(f"no sequence with id {sequence_id}")
        return sequence

    def all(self, session: Session, *, status: str | None = None) -> list[Sequence]:
        stmt = select(Sequence).order_by(Sequence.name)
        if status:
            stmt = stmt.where(Sequence.status == status)
        return list(session.scalars(stmt))

    def steps(self, session: Session, sequence_id: uuid.UUID) -> list[SequenceStep]:
        return engine.steps_of(session, sequence_id)

    def variants(self, session: Session, step_id: uuid.UUID) -> list[StepVariant]:
        return list(session.scalars(select(StepVariant).where(StepVariant.step_id == step_id).order_by(StepVariant.label)))

    def describe(self, session: Session, sequence: Sequence) -> dict[str, Any]:
        """The sequence with its steps and variants, as the API returns it."""
        steps = [
            {**{c: getattr(s, c) for c in ("id", "position", "kind", "delay_days", "business_days", "thread", "task_title", "task_notes")},
             "variants": self.variants(session, s.id)}
            for s in self.steps(session, sequence.id)
        ]
        fields = (
            "id", "name", "description", "status", "owner_id", "sender_id", "allow_concurrent", "rules", "holdout_percent",
            "created_at", "updated_at",
        )
        return {**{c: getattr(sequence, c) for c in fields}, "steps": steps}

    # -- writing --

    def _check_writable(self, sequence: Sequence, actor: Actor) -> None:
        if not (actor.is_manager or sequence.owner_id in (None, actor.id)):
            raise PermissionDenied("only the sequence's owner or a manager may change it")

    def _check_rules(self, session: Session, rules: SequenceRules, errors: ErrorCollector) -> None:
        if rules.exit_stage_id and session.get(Stage, rules.exit_stage_id) is None:
            errors.add("rules.exit_stage_id", f"no stage with id {rules.exit_stage_id}")

    def _check_sender(self, session: Session, sender_id: uuid.UUID | None, errors: ErrorCollector) -> None:
        if sender_id and session.scalar(select(User.id).where(User.id == sender_id, User.is_active.is_(True))) is None:
            errors.add("sender_id", f"no active user with id {sender_id}")

    def create(self, session: Session, *, data: dict[str, Any], actor: Actor) -> Sequence:
        errors = ErrorCollector()
        rules = SequenceRules.model_validate(data.get("rules") or {})
        self._check_rules(session, rules, errors)
        self._check_sender(session, data.get("sender_id"), errors)
        if session.scalar(select(Sequence.id).where(Sequence.name == data["name"])) is not None:
            errors.add("name", f"a sequence named {data['name']!r} exists")
        steps = [StepIn.model_validate(s) for s in data.get("steps") or []]
        for index, step in enumerate(steps):
            self._check_step(session, step.kind, step.variants, errors, prefix=f"steps[{index}].")
        errors.raise_if_any()
        sequence = Sequence(
            id=uuid7(),
            name=data["name"],
            description=data.get("description"),
            owner_id=None if actor is SYSTEM_ACTOR else actor.id,
            sender_id=data.get("sender_id"),
            allow_concurrent=bool(data.get("allow_concurrent", False)),
            rules=rules.model_dump(mode="json"),
            holdout_percent=data.get("holdout_percent") or 0,
        )
        session.add(sequence)
        session.flush()
        for step in steps:
            self._add_step(session, sequence, step)
        return sequence

    def update(self, session: Session, sequence_id: uuid.UUID, *, data: dict[str, Any], actor: Actor) -> Sequence:
        sequence = self.get(session, sequence_id)
        self._check_writable(sequence, actor)
        errors = ErrorCollector()
        if "rules" in data and data["rules"] is not None:
            rules = SequenceRules.model_validate(data["rules"])
            self._check_rules(session, rules, errors)
            data["rules"] = rules.model_dump(mode="json")
        self._check_sender(session, data.get("sender_id"), errors)
        if data.get("name") and data["name"] != sequence.name:
            if session.scalar(select(Sequence.id).where(Sequence.name == data["name"])) is not None:
                errors.add("name", f"a sequence named {data['name']!r} exists")
        errors.raise_if_any()
        for key, value in data.items():
            if value is not None or key in ("description", "sender_id"):
                setattr(sequence, key, value)
        return sequence

    def _check_step(self, session: Session, kind: str, variants: list[VariantIn], errors: ErrorCollector, *, prefix: str) -> None:
        if kind in EMAIL_STEPS and not variants:
            errors.add(f"{prefix}variants", "an e-mail step needs at least one variant")
        labels = [v.label for v in variants]
        if len(set(labels)) != len(labels):
            errors.add(f"{prefix}variants", "variant labels must differ")
        for index, variant in enumerate(variants):
            if variant.template_id and session.get(EmailTemplate, variant.template_id) is None:
                errors.add(f"{prefix}variants[{index}].template_id", f"no template with id {variant.template_id}")
            templates.validate_parts(
                session, {"subject": variant.subject, "body_html": variant.body_html, "body_text": variant.body_text},
                errors, prefix=f"{prefix}variants[{index}].",
            )

    def _variant_rows(self, session: Session, step_id: uuid.UUID, variants: list[VariantIn]) -> None:
        for variant in variants:
            subject, body_html, body_text = variant.subject, variant.body_html, variant.body_text
            pricing = variant.mentions_pricing
            if variant.template_id:
                template = session.get(EmailTemplate, variant.template_id)
                subject, body_html, body_text = subject or template.subject, body_html or template.body_html, body_text or template.body_text
                pricing = pricing or template.mentions_pricing
            session.add(StepVariant(
                step_id=step_id, label=variant.label, weight=variant.weight, subject=subject, body_html=body_html, body_text=body_text,
                mentions_pricing=pricing,
            ))

    def _add_step(self, session: Session, sequence: Sequence, step: StepIn) -> SequenceStep:
        last = self.steps(session, sequence.id)
        row = SequenceStep(
            id=uuid7(),
            sequence_id=sequence.id,
            position=(last[-1].position + 1) if last else 1,
            **step.model_dump(exclude={"variants"}),
        )
        session.add(row)
        session.flush()
        self._variant_rows(session, row.id, step.variants)
        session.flush()
        return row

    def add_step(self, session: Session, sequence_id: uuid.UUID, *, step: StepIn, actor: Actor) -> SequenceStep:
        sequence = self.get(session, sequence_id)
        self._check_writable(sequence, actor)
        errors = ErrorCollector()
        self._check_step(session, step.kind, step.variants, errors, prefix="")
        errors.raise_if_any()
        return self._add_step(session, sequence, step)

    def _step(self, session: Session, sequence_id: uuid.UUID, step_id: uuid.UUID) -> SequenceStep:
        step = session.get(SequenceStep, step_id)
        if step is None or step.sequence_id != sequence_id:
            raise NotFound(f"the sequence has no step with id {step_id}")
        return step

    def update_step(self, session: Session, sequence_id: uuid.UUID, step_id: uuid.UUID, *, change: StepUpdate, actor: Actor) -> SequenceStep:
        self._check_writable(self.get(session, sequence_id), actor)
        step = self._step(session, sequence_id, step_id)
        errors = ErrorCollector()
        if change.variants is not None:
            self._check_step(session, step.kind, change.variants, errors, prefix="")
        errors.raise_if_any()
        for key, value in change.model_dump(exclude_unset=True, exclude={"variants"}).items():
            setattr(step, key, value)
        if change.variants is not None:
            for old in self.variants(session, step.id):
                session.delete(old)
            session.flush()
            self._variant_rows(session, step.id, change.variants)
        session.flush()
        return step

    def delete_step(self, session: Session, sequence_id: uuid.UUID, step_id: uuid.UUID, *, actor: Actor) -> None:
        self._check_writable(self.get(session, sequence_id), actor)
        session.delete(self._step(session, sequence_id, step_id))
        session.flush()

    def move_step(self, session: Session, sequence_id: uuid.UUID, step_id: uuid.UUID, *, direction: str, actor: Actor) -> list[SequenceStep]:
        """Swap a step with its neighbour ("up" or "down"); returns the steps in order.
        Enrollments keep pointing at the step they wait on, wherever it now stands."""
        if direction not in ("up", "down"):
            raise ValidationFailed.on("direction", "use up or down")
        self._check_writable(self.get(session, sequence_id), actor)
        self._step(session, sequence_id, step_id)
        steps = self.steps(session, sequence_id)
        index = next(i for i, s in enumerate(steps) if s.id == step_id)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(steps):
            moving, neighbour = steps[index], steps[other]
            target, source = neighbour.position, moving.position
            # Through a free position: (sequence, position) is unique at every flush.
            moving.position = steps[-1].position + 1
            session.flush()
            neighbour.position = source
            session.flush()
            moving.position = target
            session.flush()
        return self.steps(session, sequence_id)

    def validate(self, session: Session, sequence: Sequence) -> None:
        """Everything that must hold before a sequence may send: raises with every problem."""
        errors = ErrorCollector()
        steps = self.steps(session, sequence.id)
        if not steps:
            errors.add("steps", "a sequence needs at least one step")
        threaded = False
        for index, step in enumerate(steps):
            variants = self.variants(session, step.id)
            incoming = [VariantIn(label=v.label, weight=v.weight, subject=v.subject, body_html=v.body_html, body_text=v.body_text) for v in variants]
            self._check_step(session, step.kind, incoming, errors, prefix=f"steps[{index}].")
            if step.kind == "auto_email":
                for v_index, variant in enumerate(variants):
                    if not variant.subject.strip() and not (step.thread and threaded):
                        errors.add(f"steps[{index}].variants[{v_index}].subject", "is required (only follow-ups in a thread may leave it empty)")
                    if not variant.body_html.strip():
                        errors.add(f"steps[{index}].variants[{v_index}].body_html", "is required")
                threaded = True
        self._check_rules(session, SequenceRules.model_validate(sequence.rules or {}), errors)
        errors.raise_if_any()

    def activate(self, session: Session, sequence_id: uuid.UUID, *, actor: Actor) -> Sequence:
        sequence = self.get(session, sequence_id)
        self._check_writable(sequence, actor)
        self.validate(session, sequence)
        sequence.status = "active"
        return sequence

    def set_status(self, session: Session, sequence_id: uuid.UUID, status: str, *, actor: Actor) -> Sequence:
        sequence = self.get(session, sequence_id)
        self._check_writable(sequence, actor)
        sequence.status = status
        return sequence

    # -- enrollment --

    def _sender(self, sequence: Sequence, contact: Contact, actor: Actor) -> uuid.UUID | None:
        if sequence.sender_id:
            return sequence.sender_id
        if contact.owner_id:
            return contact.owner_id
        return None if actor is SYSTEM_ACTOR else actor.id

    def _check_concurrency(self, session: Session, sequence: Sequence, contact: Contact) -> None:
        rows = session.execute(
            select(Enrollment, Sequence)
            .join(Sequence, Sequence.id == Enrollment.sequence_id)
            .where(Enrollment.contact_id == contact.id, Enrollment.status.in_(LIVE_STATES))
        ).all()
        for enrollment, other in rows:
            if other.id == sequence.id:
                raise Conflict(f"{contact.full_name} is already in “{sequence.name}” ({enrollment.status})")
            if not (sequence.allow_concurrent and other.allow_concurrent):
                raise Conflict(f"{contact.full_name} is already in the sequence “{other.name}”; one sequence at a time")

    def enroll(self, session: Session, *, sequence_id: uuid.UUID, contact_id: uuid.UUID, actor: Actor, reason: str | None = None) -> Enrollment:
        sequence = self.get(session, sequence_id)
        if sequence.status != "active":
            raise Conflict(f"the sequence “{sequence.name}” is {sequence.status}; only an active sequence takes enrollments")
        contact = contact_service.get(session, contact_id, actor=actor, write=True)
        if engine.has_email_steps(session, sequence.id) and not contact.email:
            raise ValidationFailed.on("contact_id", f"{contact.full_name} has no e-mail address")
        self._check_concurrency(session, sequence, contact)
        now = clock.now()
        enrollment = Enrollment(
            id=uuid7(),
            sequence_id=sequence.id,
            contact_id=contact.id,
            account_id=contact.account_id,
            sender_id=self._sender(sequence, contact, actor),
            status="active",
            enrolled_by=None if actor is SYSTEM_ACTOR else actor.id,
            enrolled_at=now,
            signals_after=now - ENROLL_LOOKBACK,
        )
        verdict = evaluate(session, enrollment, now=now, sending=False)
        by = "automation" if actor is SYSTEM_ACTOR else _actor_label(actor)
        if (held := holdouts.choose(session, sequence, contact.id, verdict, now)) is not None:
            return holdouts.hold_out(session, sequence, enrollment, held, by=by)
        if verdict.action == "exit" or (verdict.action == "pause" and verdict.until is None):
            raise Conflict(f"{contact.full_name} was not enrolled: {verdict.reason}")
        session.add(enrollment)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            raise Conflict(f"{contact.full_name} is already in “{sequence.name}”") from None
        decide(session, enrollment, "enrolled", "enrolled", f"enrolled by {by}" + (f": {reason}" if reason else ""))
        engine.advance(session, enrollment, done=None, at=now)
        if verdict.action == "pause":
            engine.pause(session, enrollment, code=verdict.code, reason=verdict.reason, until=verdict.until)
        return enrollment

    def live_enrollment(self, session: Session, sequence_id: uuid.UUID, contact_id: uuid.UUID) -> Enrollment:
        enrollment = session.scalar(
            select(Enrollment).where(
                Enrollment.sequence_id == sequence_id, Enrollment.contact_id == contact_id, Enrollment.status.in_(LIVE_STATES)
            )
        )
        if enrollment is None:
            raise NotFound("that contact is not in this sequence")
        return enrollment

    def unenroll(self, session: Session, *, sequence_id: uuid.UUID, contact_id: uuid.UUID, actor: Actor, reason: str) -> Enrollment:
        contact_service.get(session, contact_id, actor=actor, write=True)
        enrollment = self.live_enrollment(session, sequence_id, contact_id)
        by = "automation" if actor is SYSTEM_ACTOR else _actor_label(actor)
        engine.exit_enrollment(session, enrollment, code="removed", reason=f"removed by {by}: {reason}")
        return enrollment

    def enrollment(self, session: Session, enrollment_id: uuid.UUID, *, actor: Actor) -> Enrollment:
        missing = NotFound(f"no enrollment with id {enrollment_id}")
        enrollment = session.get(Enrollment, enrollment_id)
        if enrollment is None:
            raise missing
        try:
            contact_service.get(session, enrollment.contact_id, actor=actor)
        except NotFound:  # a hidden contact's enrollment answers as one that does not exist
            raise missing from None
        return enrollment

    def pause(self, session: Session, enrollment_id: uuid.UUID, *, actor: Actor, reason: str) -> Enrollment:
        enrollment = self.enrollment(session, enrollment_id, actor=actor)
        contact_service.get(session, enrollment.contact_id, actor=actor, write=True)
        if enrollment.status != "active":
            raise Conflict(f"the enrollment is {enrollment.status}")
        engine.pause(session, enrollment, code="paused_by_hand", reason=f"paused by {_actor_label(actor)}: {reason}", until=None)
        return enrollment

    def resume(self, session: Session, enrollment_id: uuid.UUID, *, actor: Actor, reason: str) -> Enrollment:
        enrollment = self.enrollment(session, enrollment_id, actor=actor)
        contact_service.get(session, enrollment.contact_id, actor=actor, write=True)
        if enrollment.status != "paused":
            raise Conflict(f"the enrollment is {enrollment.status}, not paused")
        engine.resume(session, enrollment, reason=f"resumed by {_actor_label(actor)}: {reason}", by_person=True)
        return enrollment

    def enrollments(self, session: Session, *, actor: Actor, sequence_id: uuid.UUID | None = None, contact_id: uuid.UUID | None = None,
                    status: str | None = None, limit: int = 200) -> list[Enrollment]:
        """Enrollments of contacts ``actor`` may see, newest first."""
        stmt = select(Enrollment).join(Contact, Contact.id == Enrollment.contact_id).order_by(Enrollment.enrolled_at.desc()).limit(limit)
        if sequence_id:
            stmt = stmt.where(Enrollment.sequence_id == sequence_id)
        if contact_id:
            stmt = stmt.where(Enrollment.contact_id == contact_id)
        if status:
            stmt = stmt.where(Enrollment.status == status)
        return list(session.scalars(contact_service.repository(session).visible(stmt, actor)))

    # -- one-off e-mail (workflows, a rep's draft) --

    def send_email(
        self, session: Session, *, contact_id: uuid.UUID, subject: str, body_html: str, actor: Actor,
        body_text: str | None = None, sender_id: uuid.UUID | None = None, kind: str = "workflow",
    ) -> EmailMessage:
        """Queue one e-mail to a contact through the same ledger, suppression list and
        delivery as sequence mail. Workflows use kind "workflow" (automated)."""
        contact = contact_service.get(session, contact_id, actor=actor)
        _check_parts(session, subject, body_html, body_text)
        sender = sender_id or contact.owner_id or (None if actor is SYSTEM_ACTOR else actor.id)
        return compose(
            session, contact=contact, sender_id=sender, draft=Draft(subject, body_html, body_text),
            kind=kind, automated=kind != "manual", immediately=False,
        )

    def send_manual_step(self, session: Session, *, task_id: uuid.UUID, subject: str, body_text: str, actor: Actor) -> EmailMessage:
        """A rep sends the e-mail a manual step asked for (from their queue): it goes out as
        that step of the enrollment (threaded, with the step's variant), not as a separate
        touch by hand, so it holds neither this sequence nor its caps; the task is then done
        and the sequence goes on."""
        task_service.get(session, task_id, actor=actor, write=True)
        enrollment = session.scalar(select(Enrollment).where(Enrollment.waiting_task_id == task_id).with_for_update())
        step = session.get(SequenceStep, enrollment.next_step_id) if enrollment and enrollment.next_step_id else None
        if enrollment is None or step is None or step.kind != "manual_email":
            raise ValidationFailed.on("task_id", "this task is not a manual e-mail step of a sequence")
        try:
            contact = contact_service.get(session, enrollment.contact_id, actor=actor)
        except NotFound:  # the task is theirs but its contact is not: answered as for a hidden task
            raise NotFound(f"no task with id {task_id}") from None
        body_html = templates.text_to_html(body_text)
        _check_parts(session, subject, body_html, body_text)
        mailbox = mailbox_of(session, enrollment.sender_id)
        message_id = step_message_id(enrollment, step, mailbox.from_address)
        if session.scalar(select(EmailMessage.id).where(EmailMessage.message_id == message_id)) is not None:
            raise Conflict("this step's e-mail has already been sent")
        message = compose(
            session, contact=contact, sender_id=enrollment.sender_id or actor.id, draft=Draft(subject, body_html, body_text),
            kind="sequence", automated=False, message_id=message_id, enrollment=enrollment, step=step,
            variant=pick_variant(session, step, enrollment.id), thread=thread_of(session, enrollment.id) if step.thread else None,
            immediately=False,
        )
        task_service.complete(session, task_id, actor=actor)
        return message

    def preview(self, session: Session, *, contact_id: uuid.UUID, subject: str, body_html: str, body_text: str | None,
                actor: Actor) -> templates.Rendered:
        contact = contact_service.get(session, contact_id, actor=actor)
        _check_parts(session, subject, body_html, body_text)
        sender = session.get(User, contact.owner_id) if contact.owner_id else None
        context = templates.merge_fields(session, contact, sender=sender, unsubscribe_url="#unsubscribe")
        return templates.render(session, subject=subject, body_html=body_html, body_text=body_text, context=context)


sequence_service = SequenceService()
