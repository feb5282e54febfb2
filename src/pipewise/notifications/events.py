import uuid
from dataclasses import dataclass
from typing import ClassVar

from pipewise.events.base import DomainEvent


@dataclass(frozen=True, kw_only=True)
class NotificationCreated(DomainEvent):
    """A notification landed in a user's inbox (``record_id`` is the notification's id)."""

    name: ClassVar[str] = "notification.created"
    record_type: ClassVar[str] = "notification"
    user_id: uuid.UUID
    kind: str
