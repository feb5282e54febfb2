"""How packages that send through mail hear about their messages, without the mail
package importing them: sequences register a ``MailHooks`` (see sequences/handlers.py)
to re-check an enrollment just before SMTP, advance it once sent, and end enrollments of
a suppressed address. Every method is optional."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pipewise.mail.models import EmailMessage


class MailHooks:
    def last_look(self, session: Session, message: EmailMessage, now: datetime) -> str | None:
        """Why ``message`` must not go now (it is then cancelled), or None."""
        return None

    def sent(self, session: Session, message: EmailMessage) -> None:
        """The server accepted ``message``."""

    def refused(self, session: Session, message: EmailMessage, reason: str) -> None:
        """``message`` was cancelled at the last look or given up on."""

    def suppressed(self, session: Session, address: str, contact_ids: set[uuid.UUID], reason: str) -> None:
        """``address`` went on the suppression list."""

    def event_data(self, session: Session, message: EmailMessage) -> dict[str, Any]:
        """Extra fields for the ``email.*`` events of ``message``."""
        return {}


_registered: dict[type, MailHooks] = {}


def register(hooks: MailHooks) -> None:
    _registered[type(hooks)] = hooks


def all_hooks() -> list[MailHooks]:
    return list(_registered.values())


def last_look(session: Session, message: EmailMessage, now: datetime) -> str | None:
    for hooks in all_hooks():
        reason = hooks.last_look(session, message, now)
        if reason is not None:
            return reason
    return None


def sent(session: Session, message: EmailMessage) -> None:
    for hooks in all_hooks():
        hooks.sent(session, message)


def refused(session: Session, message: EmailMessage, reason: str) -> None:
    for hooks in all_hooks():
        hooks.refused(session, message, reason)


def suppressed(session: Session, address: str, contact_ids: set[uuid.UUID], reason: str) -> None:
    for hooks in all_hooks():
        hooks.suppressed(session, address, contact_ids, reason)


def event_data(session: Session, message: EmailMessage) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for hooks in all_hooks():
        data.update(hooks.event_data(session, message))
    return data
