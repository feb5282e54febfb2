"""The CRM record events other packages subscribe to. The record kernel writes them
(``<type>.<action>`` with the changed fields); these classes name them for subscribers."""

from dataclasses import dataclass
from typing import ClassVar

from pipewise.events.base import RecordEvent


@dataclass(frozen=True, kw_only=True)
class ActivityCreated(RecordEvent):
    name: ClassVar[str] = "activity.created"


@dataclass(frozen=True, kw_only=True)
class ContactCreated(RecordEvent):
    name: ClassVar[str] = "contact.created"


@dataclass(frozen=True, kw_only=True)
class ContactUpdated(RecordEvent):
    name: ClassVar[str] = "contact.updated"


@dataclass(frozen=True, kw_only=True)
class TaskUpdated(RecordEvent):
    name: ClassVar[str] = "task.updated"


@dataclass(frozen=True, kw_only=True)
class AccountUpdated(RecordEvent):
    name: ClassVar[str] = "account.updated"
