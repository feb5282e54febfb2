"""The notification inbox: ``notify`` is how every part of Pipewise tells a person
something (docs/notifications.md). A user reads, and marks read, only their own.

``notify`` is one INSERT that ignores a repeated key, so a retried handler or timer never
tells anyone twice; when the row is new it records ``notification.created``, which the
mail package turns into an e-mail for the kinds the user asked to get by e-mail.
``notify_later`` does the same for a worker batch's many notifications in one INSERT."""

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.orm import Session

from pipewise.db.base import utcnow, uuid7
from pipewise.db.session import cached_lookup, dialect_insert, insert_ignoring, insert_ignoring_rows, read
from pipewise.db.unit_of_work import unit_of_work
from pipewise.errors import ErrorCollector, NotFound, ValidationFailed
from pipewise.events import bus
from pipewise.notifications.events import NotificationCreated
from pipewise.notifications.models import Notification, NotificationPreference

# What a notification can be about. A kind is a word a person picks e-mail preferences by.
KINDS: dict[str, str] = {
    "task_assigned": "A task is assigned to you",
    "reminder": "A task's reminder is due",
    "lead_routed": "A lead is routed to you",
    "sla_breach": "A lead in your team missed its response time",
    "approval_requested": "A quote waits for your approval",
    "quote_accepted": "A buyer accepted a quote",
    "quote_declined": "A buyer declined a quote",
    "meeting_booked": "A meeting is booked with you",
    "workflow": "A workflow notifies you",
    "webhook_disabled": "A webhook endpoint was disabled after failing",
}
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _checked_link(link: str | None) -> str | None:
    """Links stay inside the app: a path, never another site."""
    if link is None:
        return None
    if not link.startswith("/") or link.startswith("//") or any(ch in link for ch in "\\\r\n\t"):
        raise ValueError(f"a notification link is a path in the app, not {link!r}")
    return link


def _row(
    user_id: uuid.UUID, kind: str, title: str, *, body: str | None, link: str | None, record_type: str | None,
    record_id: uuid.UUID | None, key: str | None,
) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r} (one of {', '.join(KINDS)})")
    new_id = uuid7()
    return {
        "id": new_id, "user_id": user_id, "kind": kind, "title": title[:300], "body": body or None,
        "link": _checked_link(link), "record_type": record_type, "record_id": record_id,
        "key": (key or f"{kind}:{new_id}")[:200], "created_at": utcnow(), "read_at": None,
    }


def notify(
    session: Session, user_id: uuid.UUID, kind: str, title: str, *, body: str | None = None, link: str | None = None,
    record_type: str | None = None, record_id: uuid.UUID | None = None, key: str | None = None,
) -> uuid.UUID | None:
    """Put a notification in ``user_id``'s inbox; returns its id, or None when ``key`` was
    used before (nothing new is written and no event recorded)."""
    values = _row(user_id, kind, title, body=body, link=link, record_type=record_type, record_id=record_id, key=key)
    # On the driver's cursor: through SQLAlchemy's execute, the notification routed with
    # each lead took a tenth of the worker's time for that lead.
    statement = insert_ignoring(session, Notification, conflict_on=("key",), returning="id", plain=True)
    inserted = read(session, statement, values).scalar()
    if inserted is None:
        return None
    bus.record(session, NotificationCreated(record_id=inserted, user_id=user_id, kind=kind))
    return inserted


@dataclass
class _Waiting:
    """The notifications of a worker batch, written together right before its commit."""

    rows: list[dict[str, Any]] = field(default_factory=list)


def notify_later(
    session: Session, user_id: uuid.UUID, kind: str, title: str, *, body: str | None = None, link: str | None = None,
    record_type: str | None = None, record_id: uuid.UUID | None = None, key: str | None = None,
) -> None:
    """``notify``, for a subscriber that tells someone per event: in the worker's optimistic
    batch the notifications wait and go out right before its commit, in one INSERT that
    ignores repeated keys and returns the new rows, whose events are then recorded (one
    statement per lead routed was a fifth of the worker's time per lead on PostgreSQL).
    Anywhere else, including inside an item's savepoint (whose rollback must take the
    notification with it), it is written at once."""
    if not bus.optimistic(session) or session.in_nested_transaction():
        notify(session, user_id, kind, title, body=body, link=link, record_type=record_type, record_id=record_id, key=key)
        return
    work = unit_of_work(session)
    waiting = work.state(_Waiting)
    if not waiting.rows:
        work.before_commit(lambda: _write_waiting(session, waiting))
    waiting.rows.append(_row(user_id, kind, title, body=body, link=link, record_type=record_type, record_id=record_id, key=key))


def _write_waiting(session: Session, waiting: _Waiting) -> None:
    rows, waiting.rows = waiting.rows, []
    inserted_rows = insert_ignoring_rows(session, Notification, rows, conflict_on=("key",), returning=("id", "user_id", "kind"))
    for inserted, user_id, kind in inserted_rows:
        bus.record(session, NotificationCreated(record_id=inserted, user_id=user_id, kind=kind))


@dataclass(frozen=True)
class InboxPage:
    items: list[Notification]
    next_cursor: str | None


def _cursor(value: str | None) -> tuple[datetime, uuid.UUID] | None:
    """A cursor is the position of the last row given: its time and id (ids made in the
    same millisecond are not ordered, times almost always are; the id breaks ties)."""
    if not value:
        return None
    try:
        at, _, ident = base64.urlsafe_b64decode(value.encode() + b"==").decode().partition("|")
        return datetime.fromisoformat(at), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed.on("cursor", "is not a cursor this list gave out") from None


def _cursor_of(row: Notification) -> str:
    return base64.urlsafe_b64encode(f"{row.created_at.isoformat()}|{row.id}".encode()).decode().rstrip("=")


def inbox(
    session: Session, user_id: uuid.UUID, *, unread: bool = False, cursor: str | None = None, limit: int = PAGE_SIZE
) -> InboxPage:
    """The user's notifications, newest first, ``limit`` at a time after ``cursor``."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed.on("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    query = select(Notification).where(Notification.user_id == user_id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    after = _cursor(cursor)
    if after is not None:
        query = query.where(tuple_(Notification.created_at, Notification.id) < tuple_(*after))
    newest_first = (Notification.created_at.desc(), Notification.id.desc())
    rows = list(session.scalars(query.order_by(*newest_first).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return InboxPage(rows, _cursor_of(rows[-1]) if more else None)


def unread_count(session: Session, user_id: uuid.UUID) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def get(session: Session, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    """One of the user's notifications; another user's answers as one that does not exist."""
    row = session.scalar(select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id))
    if row is None:
        raise NotFound(f"no notification with id {notification_id}")
    return row


def mark_read(session: Session, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    row = get(session, user_id, notification_id)
    if row.read_at is None:
        row.read_at = utcnow()
        session.flush()
    return row


def mark_all_read(session: Session, user_id: uuid.UUID) -> int:
    """Mark every unread notification of the user read; returns how many were."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def preferences(session: Session, user_id: uuid.UUID) -> dict[str, bool]:
    """Every kind with whether the user gets it by e-mail too."""
    rows = session.execute(
        select(NotificationPreference.kind, NotificationPreference.email).where(NotificationPreference.user_id == user_id)
    )
    chosen = {kind: email for kind, email in rows}
    return {kind: bool(chosen.get(kind, False)) for kind in KINDS}


def set_preferences(session: Session, user_id: uuid.UUID, email: dict[str, bool]) -> dict[str, bool]:
    """Set which kinds also come by e-mail; kinds not named keep their setting."""
    errors = ErrorCollector()
    for kind in email:
        if kind not in KINDS:
            errors.add(f"email.{kind}", f"no such kind (one of {', '.join(KINDS)})")
    errors.raise_if_any()
    for kind, wanted in email.items():
        statement = dialect_insert(session)(NotificationPreference).values(user_id=user_id, kind=kind, email=bool(wanted))
        session.execute(statement.on_conflict_do_update(index_elements=["user_id", "kind"], set_={"email": bool(wanted)}))
    unit_of_work(session).forget(NotificationPreference)  # a Core write: the cached answers do not see it
    return preferences(session, user_id)


def wants_email(session: Session, user_id: uuid.UUID, kind: str) -> bool:
    """Whether the user asked for ``kind`` by e-mail too; asked once per transaction (a worker
    batch notifies the same few people many times)."""
    return cached_lookup(session, NotificationPreference, (user_id, kind),
                         lambda: bool(read(session, _WANTS_EMAIL, {"user_id": user_id, "kind": kind}).scalar()))


_WANTS_EMAIL = select(NotificationPreference.email).where(
    NotificationPreference.user_id == bindparam("user_id"), NotificationPreference.kind == bindparam("kind")
)
