"""`pipewise meetings pages | slots | list | cancel`: booking pages and meetings from the terminal."""

import uuid
from datetime import date

import typer

from pipewise.auth.visibility import Actor
from pipewise.cli.output import out
from pipewise.db.session import session_scope
from pipewise.errors import ValidationFailed
from pipewise.meetings import booking, service
from pipewise.meetings.availability import zone
from pipewise.meetings.slots import visible_slots
from pipewise.people.service import user_service

meetings_app = typer.Typer(help="Booking pages and meetings.", no_args_is_help=True)
AS_USER = typer.Option(..., "--as", help="E-mail of the person acting (their visibility applies).")


def _actor(session, email: str) -> Actor:  # type: ignore[no-untyped-def]
    return Actor.for_user(session, user_service.by_email(session, email))


@meetings_app.command()
def pages(as_user: str = AS_USER) -> None:
    """The booking pages you may see, with their public address."""
    with session_scope(write=False) as session:
        for page in service.pages(session, actor=_actor(session, as_user)):
            out.print(f"{page.slug:30} {page.kind:12} {page.duration_minutes:>4} min  {page.title}{'' if page.is_active else ' (off)'}")


@meetings_app.command()
def slots(
    slug: str = typer.Argument(..., help="The page's address (/book/SLUG)."),
    tz: str = typer.Option("UTC", "--tz", help="Show times in this zone."),
    start: str = typer.Option(None, "--from", help="First day, YYYY-MM-DD (default today)."),
    days: int = typer.Option(7, "--days", min=1, max=42),
) -> None:
    """A page's free times, as a visitor sees them."""
    if zone(tz).key != tz:
        raise ValidationFailed.on("tz", "is not a known time zone")
    with session_scope(write=False) as session:
        page = booking.page_by_slug(session, slug)
        first = date.fromisoformat(start) if start else None
        for day, times in visible_slots(session, page, first, days, zone(tz), booking.now()).items():
            out.print(f"{day}  " + " ".join(t.strftime("%H:%M") for t in times))


@meetings_app.command("list")
def list_meetings(as_user: str = AS_USER, status: str = typer.Option(None, "--status")) -> None:
    """Meetings you may see, latest first."""
    with session_scope(write=False) as session:
        for m in service.meetings(session, actor=_actor(session, as_user), status=status):
            out.print(f"{m.id}  {m.start_at:%Y-%m-%d %H:%M} UTC  {m.status:11} {m.title}")


@meetings_app.command()
def cancel(meeting_id: uuid.UUID, as_user: str = AS_USER, reason: str = typer.Option(None, "--reason")) -> None:
    """Cancel a meeting; the invitee gets the cancellation."""
    with session_scope() as session:
        meeting = service.meeting(session, meeting_id, actor=_actor(session, as_user), write=True)
        booking.cancel(session, meeting, reason=reason)
        out.print(f"Cancelled {meeting.title}.")
