"""Meetings join the kernel: booking pages are owned rows; the API, the public booking
pages and the web pages are named here."""

from pipewise.kernel import Kernel
from pipewise.meetings import handlers, sync_models  # noqa: F401 - sync_models: the calendar and reminder tables
from pipewise.meetings import models  # noqa: F401 - the tables


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("meeting", "title", "location", "answers", "cancel_reason")
    kernel.scrubbed_columns("meeting_attendee", "name")
    kernel.owned_table("booking_page", "booking page", "booking pages")
    kernel.api("pipewise.api.v1.meetings:router")
    kernel.root_api("pipewise.api.v1.meetings_public:root_router")
    kernel.web("pipewise.web.meetings.pages:router")
    kernel.web("pipewise.web.meetings.public:router")
    kernel.cli("meetings", "pipewise.cli.meetings:meetings_app")
    kernel.handlers(handlers.TABLE)
    kernel.api("pipewise.api.v1.calendar_connections:router")
    kernel.web("pipewise.web.meetings.follow_ups:router")
