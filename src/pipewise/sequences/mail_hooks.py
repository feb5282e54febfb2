"""What sequences do when the mail package reports on one of their messages: re-check
the enrollment at the last look before SMTP, advance it once sent, say why when a send
was refused, end the enrollments of a suppressed address, and name the sequence and
variant in the ``email.*`` events."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pipewise.mail.hooks import MailHooks
from pipewise.mail.models import EmailMessage
from pipewise.sequences import engine
from pipewise.sequences.decisions import live_enrollments
from pipewise.sequences.models import Enrollment, StepVariant


class SequenceMailHooks(MailHooks):
    def last_look(self, session: Session, message: EmailMessage, now: datetime) -> str | None:
        if message.enrollment_id is None or not message.automated:
            return None  # a rep's own send (a manual step) is their call, not the guards'
        enrollment = session.get(Enrollment, message.enrollment_id)
        if enrollment is None or enrollment.status != "active":
            return f"the enrollment is {enrollment.status if enrollment else 'gone'}"
        verdict = engine.check_now(session, enrollment, now=now)
        return None if verdict.clear else verdict.reason

    def sent(self, session: Session, message: EmailMessage) -> None:
        if message.enrollment_id:
            engine.after_sent(session, message)

    def refused(self, session: Session, message: EmailMessage, reason: str) -> None:
        if message.enrollment_id:
            engine.send_refused(session, message, reason)

    def suppressed(self, session: Session, address: str, contact_ids: set[uuid.UUID], reason: str) -> None:
        for enrollment in live_enrollments(session, contact_ids=contact_ids):
            engine.exit_enrollment(session, enrollment, code="suppressed", reason=f"{address} is on the suppression list ({reason})")

    def event_data(self, session: Session, message: EmailMessage) -> dict[str, Any]:
        if message.enrollment_id is None:
            return {}
        enrollment = session.get(Enrollment, message.enrollment_id)
        variant = session.get(StepVariant, message.variant_id) if message.variant_id else None
        return {
            "sequence_id": str(enrollment.sequence_id) if enrollment else None,
            "variant": variant.label if variant else None,
        }
