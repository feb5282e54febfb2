"""Your connected calendar (CalDAV) and your meeting reminders. The app password goes in
and never comes back out."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.meetings import calendar_sync, reminders
from pipewise.schemas import InputModel, OutputModel

router = api_router(tags=["meetings"])


class CalendarConnectionIn(InputModel):
    url: Annotated[str, Field(max_length=1000)]
    username: Annotated[str, Field(max_length=200)]
    password: Annotated[str | None, Field(max_length=300, description="an app password; leave out to keep the stored one")] = None


class CalendarConnection(OutputModel):
    connected: bool
    url: str | None = None
    username: str | None = None
    last_read_at: datetime | None = Field(None, description="when this server last read the calendar's busy times")
    last_error: str | None = Field(None, description="why that read failed, if it did")


class ReminderSettingsIn(InputModel):
    offsets_minutes: list[int] | None = Field(None, description="minutes before the start, e.g. [1440, 60]")
    remind_invitee: bool | None = None


class ReminderSettings(OutputModel):
    offsets_minutes: list[int]
    remind_invitee: bool


def _connection_out(row: Any) -> CalendarConnection:
    if row is None:
        return CalendarConnection(connected=False)
    status = calendar_sync.read_status(row.user_id)
    return CalendarConnection(connected=True, url=row.url, username=row.username,
                              last_read_at=status.at if status else None, last_error=status.error if status else None)


@router.get("/calendar-connection", response_model=CalendarConnection, summary="Your connected calendar")
def read_connection(session: DbSession, actor: CurrentActor) -> Any:
    return _connection_out(calendar_sync.connection_of(session, actor.id))


@router.put("/calendar-connection", response_model=CalendarConnection, summary="Connect a CalDAV calendar")
def save_connection(body: CalendarConnectionIn, session: DbSession, actor: CurrentActor) -> Any:
    return _connection_out(calendar_sync.connect(session, body.model_dump(), actor=actor))


@router.delete("/calendar-connection", status_code=204, summary="Disconnect your calendar")
def delete_connection(session: DbSession, actor: CurrentActor) -> None:
    calendar_sync.disconnect(session, actor=actor)


@router.get("/meeting-reminders", response_model=ReminderSettings, summary="When your meetings remind")
def read_reminders(session: DbSession, actor: CurrentActor) -> Any:
    return reminders.settings_of(session, actor.id)


@router.put("/meeting-reminders", response_model=ReminderSettings)
def save_reminders(body: ReminderSettingsIn, session: DbSession, actor: CurrentActor) -> Any:
    return reminders.save_settings(session, body.model_dump(exclude_unset=True), actor=actor)
