"""A user's connected calendar (CalDAV) and their reminder settings."""

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, Timestamps

DEFAULT_REMINDERS = [1440, 60]  # minutes before the start: 24 h and 1 h


class CalendarConnection(Timestamps, Base):
    """One CalDAV calendar per user: Pipewise reads its busy times and writes its meetings
    into it. ``password`` is encrypted at rest (mail/secrets.py) and never returned."""

    __tablename__ = "calendar_connection"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    url: Mapped[str] = mapped_column(String(1000))
    username: Mapped[str] = mapped_column(String(200))
    password: Mapped[str | None] = mapped_column(String(500))


class ReminderSettings(Timestamps, Base):
    """When a host's meetings remind: minutes before the start (exact durations, so a
    24-hour reminder is 24 real hours before, whatever the clocks do in between)."""

    __tablename__ = "meeting_reminder_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    offsets_minutes: Mapped[list[Any]] = mapped_column(default=lambda: list(DEFAULT_REMINDERS))
    remind_invitee: Mapped[bool] = mapped_column(default=False)
