"""Daily caps: how many automated e-mails a mailbox (or an account) had in the last 24
hours. Sequences hold a step at the cap; delivery holds any other automated message
(workflow mail) until the oldest of the period is 24 hours old."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from pipewise.mail.models import EmailMessage

CAP_PERIOD = timedelta(hours=24)
# Written for sending counts too: a queued message has taken its place under the cap.
COUNTED_STATUSES = ("queued", "sending", "committing", "sent", "bounced")
GONE_OUT = ("sending", "committing", "sent", "bounced")


def automated_since(session: Session, clause: ColumnElement[bool], now: datetime, *, statuses: tuple[str, ...] = COUNTED_STATUSES) -> tuple[int, datetime | None]:
    """Automated outbound messages matching ``clause`` in the 24 hours before ``now``, and
    when the oldest of them was written."""
    count, oldest = session.execute(
        select(func.count(), func.min(EmailMessage.created_at)).where(
            clause,
            EmailMessage.direction == "outbound",
            EmailMessage.automated.is_(True),
            EmailMessage.status.in_(statuses),
            EmailMessage.created_at > now - CAP_PERIOD,
        )
    ).one()
    return count, oldest


def held_by_cap(session: Session, message: EmailMessage, cap: int, now: datetime) -> datetime | None:
    """For an automated message about to go out: when its sender's mailbox has room again,
    if the mail that already went out in the last 24 hours fills the cap."""
    if not message.automated:
        return None
    clause = sender_clause(message.sender_id) & (EmailMessage.id != message.id)
    count, oldest = automated_since(session, clause, now, statuses=GONE_OUT)
    if count < cap or oldest is None:
        return None
    return oldest + CAP_PERIOD


def sender_clause(sender_id: uuid.UUID | None) -> ColumnElement[bool]:
    return (EmailMessage.sender_id == sender_id) if sender_id else EmailMessage.sender_id.is_(None)
