"""The little of CalDAV (RFC 4791) that calendar sync needs: put an event, read the events
of a time range. Every request goes through ``netguard.http_client``: the server's address
is checked on each connection (no loopback or private network unless an operator allows
it), no redirect is followed and no proxy is taken from the environment."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from defusedxml import ElementTree

from pipewise import netguard

if TYPE_CHECKING:
    import httpx

TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 5_000_000
NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav"}


class CalDavError(Exception):
    """The server could not be reached or refused the request; the text says why."""


@dataclass(frozen=True)
class RemoteEvent:
    uid: str
    start: datetime
    end: datetime
    cancelled: bool
    transparent: bool  # "free" in the user's calendar: it does not block time


def _utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)  # an all-day event


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class CalDavClient:
    def __init__(self, url: str, username: str, password: str | None) -> None:
        self.url = url if url.endswith("/") else url + "/"
        import httpx  # httpx and icalendar load when a calendar is first synced, not at start

        self.auth = httpx.BasicAuth(username, password or "") if username else None

    def _request(self, method: str, url: str, *, body: str | None = None, headers: dict[str, str] | None = None) -> "httpx.Response":
        import httpx

        try:
            with netguard.http_client(TIMEOUT_SECONDS) as client:
                response = client.request(method, url, content=body.encode() if body else None, headers=headers, auth=self.auth)
        except netguard.BlockedAddress as exc:
            raise CalDavError(str(exc)) from None
        except httpx.HTTPError as exc:
            raise CalDavError(f"the calendar server did not answer ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            raise CalDavError("the calendar server refused the user name or app password")
        if response.status_code >= 300:
            raise CalDavError(f"the calendar server answered {response.status_code} to {method}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise CalDavError("the calendar server's answer is too large")
        return response

    def event_url(self, uid: str) -> str:
        return self.url + quote(uid, safe="") + ".ics"

    def put_event(self, uid: str, ical: str) -> None:
        """Create or replace the event stored under ``uid`` (the same address every time,
        so a repeated write leaves one event)."""
        self._request("PUT", self.event_url(uid), body=ical, headers={"Content-Type": "text/calendar; charset=utf-8"})

    def events(self, start: datetime, end: datetime) -> list[RemoteEvent]:
        """The events touching [start, end), recurring ones expanded by the server."""
        time_range = f'start="{_stamp(start)}" end="{_stamp(end)}"'
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
            f"<d:prop><c:calendar-data><c:expand {time_range}/></c:calendar-data></d:prop>"
            '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
            f"<c:time-range {time_range}/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
        )
        response = self._request("REPORT", self.url, body=body, headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
        try:
            tree = ElementTree.fromstring(response.content)
        except ElementTree.ParseError:
            raise CalDavError("the calendar server's answer is not CalDAV XML") from None
        found: list[RemoteEvent] = []
        for data in tree.iterfind(".//c:calendar-data", NS):
            found.extend(_parse(data.text or ""))
        return found


def _parse(text: str) -> list[RemoteEvent]:
    try:
        from icalendar import Calendar

        calendar = Calendar.from_ical(text)
    except ValueError:
        return []
    found = []
    for event in calendar.walk("VEVENT"):
        if event.get("dtstart") is None:
            continue
        start = _utc(event.decoded("dtstart"))
        if event.get("dtend") is not None:
            end = _utc(event.decoded("dtend"))
        elif event.get("duration") is not None:
            end = start + event.decoded("duration")
        else:
            end = start + (timedelta(days=1) if not isinstance(event.decoded("dtstart"), datetime) else timedelta())
        found.append(RemoteEvent(
            uid=str(event.get("uid", "")), start=start, end=end,
            cancelled=str(event.get("status", "")).upper() == "CANCELLED",
            transparent=str(event.get("transp", "")).upper() == "TRANSPARENT",
        ))
    return found
