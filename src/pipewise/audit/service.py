"""Writing, searching and purging the audit trail.

``log`` adds one entry in the caller's transaction (a deferred insert: it commits or rolls
back with the work it describes). ``note_record_change`` is called for every record write
and keeps what a security review asks about: changes to shared settings and people
(record types that are reference data, such as users, teams, pipelines, custom fields),
every delete and merge, and every write that no person made at that moment (a workflow,
a sequence, the worker). Nothing in Pipewise updates an entry; the daily purge removes
entries older than the retention period."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from pipewise import origin as origins
from pipewise.audit.models import AuditEntry, AuditPolicy
from pipewise.auth.clients import client_address
from pipewise.auth.visibility import Actor
from pipewise.db.append_only import AppendOnly, append_only  # noqa: F401 - AppendOnly: what a caller catches
from pipewise.db.base import utcnow
from pipewise.db.session import insert_later
from pipewise.errors import PermissionDenied, ValidationFailed
from pipewise.events import bus

PURGE_ACTION = "audit.purge"
DEFAULT_RETENTION_DAYS = 730
RETENTION_LIMITS = (30, 3650)  # a month to ten years
AUDITED_ACTIONS = frozenset({"deleted", "merged", "converted", "restored"})

_purge_scheduled_for: set[date] = set()

append_only(AuditEntry, on_change="audit entries are never changed",
            on_delete="audit entries are removed only by the retention purge")


ERASABLE_COLUMNS = ("actor_label", "summary", "details")


def erase_mentions(
    session: Session, *, where: Callable[[Table], ColumnElement[bool]], rewrite: Callable[[Any], dict[str, Any]],
    actor: Actor, dry_run: bool = False,
) -> int:
    """The one exception to append-only, for a data subject's erasure: in the entries
    ``where(table)`` picks, ``rewrite(row)`` gives new values for ``ERASABLE_COLUMNS``
    (the person's details replaced by a pseudonym); who acted, when, from where, the
    action and its target stay. The rewrite is itself recorded, naming no one. Returns
    how many entries changed (or, ``dry_run``, would)."""
    table: Table = AuditEntry.__table__  # type: ignore[assignment]
    changed = 0
    for row in session.execute(select(table).where(where(table))).all():
        values = {k: v for k, v in rewrite(row).items() if k in ERASABLE_COLUMNS and v != row._mapping[k]}
        if values:
            changed += 1
            if not dry_run:
                session.execute(update(table).where(table.c.id == row.id).values(**values))
    if changed and not dry_run:
        log(session, "audit.erased_mentions", actor=actor, summary=f"a person's details pseudonymised in {changed} entries",
            details={"entries": changed})
    return changed


def as_person(user: Any) -> Actor:
    """An ``Actor`` naming ``user`` for an entry (its rights are not used here)."""
    return Actor(id=user.id, role=user.role, email=user.email, name=user.name)


def actor_label(actor: Actor | None, fallback: str = "anonymous") -> str:
    if actor is None:
        return fallback
    if actor.id.int == 0:
        return actor.name or "Pipewise automation"
    return actor.email or actor.name or str(actor.id)


def log(
    session: Session,
    action: str,
    *,
    actor: Actor | None,
    summary: str,
    target_type: str | None = None,
    target_id: uuid.UUID | str | None = None,
    details: dict[str, Any] | None = None,
    label: str | None = None,
) -> None:
    """One entry, from wherever the current work comes from (``origin.current()``)."""
    source = origins.current()
    insert_later(session, AuditEntry, {
        "at": utcnow(),
        "actor_id": actor.id if actor is not None and actor.id.int != 0 else None,
        "actor_label": (label or actor_label(actor))[:200],
        "channel": source.channel,
        "via": source.via[:200] if source.via else None,
        "action": action[:60],
        "target_type": target_type,
        "target_id": str(target_id) if target_id is not None else None,
        "summary": summary[:300],
        "details": details or {},
        **_client(source),
    }, ignore_conflicts=False)
    _schedule_purge(session)


def _client(source: origins.Origin) -> dict[str, str | None]:
    """The HTTP client's address (the first untrusted hop) and user agent, if a request."""
    if source.scope is None:
        return {"ip": None, "user_agent": None}
    request = HTTPConnection(source.scope)
    agent = request.headers.get("user-agent")
    return {"ip": client_address(request), "user_agent": agent[:300] if agent else None}


def note_record_change(
    session: Session, *, record_type: str, record_id: uuid.UUID, action: str, changes: dict[str, Any],
    actor: Actor | None, shared: bool,
) -> None:
    """Called with every record write (``records.history.record_change``); keeps the ones
    the audit trail is for. ``changes`` is already JSON-ready."""
    if not (shared or action in AUDITED_ACTIONS or origins.current().automated):
        return
    fields = sorted(changes) if action == "updated" else []
    summary = f"{record_type.replace('_', ' ')} {action}" + (f": {', '.join(fields)}" if fields else "")
    log(session, f"{record_type}.{action}", actor=actor, summary=summary, target_type=record_type,
        target_id=record_id, details={"changes": changes})


def _schedule_purge(session: Session) -> None:
    """The daily purge is due at 03:00 UTC the next day; one timer per day (by key), asked
    for once per process and day."""
    today = utcnow().date()
    if today in _purge_scheduled_for:
        return
    run_at = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=utcnow().tzinfo).replace(hour=3)
    bus.schedule(session, key=f"{PURGE_ACTION}:{run_at.date().isoformat()}", kind=PURGE_ACTION, run_at=run_at)
    _purge_scheduled_for.add(today)


# -- retention ---------------------------------------------------------------------


def retention_days(session: Session) -> int:
    policy = session.get(AuditPolicy, 1)
    return policy.retention_days if policy is not None else DEFAULT_RETENTION_DAYS


def set_retention(session: Session, days: int, *, actor: Actor) -> int:
    if not actor.is_admin:
        raise PermissionDenied("only admins may change how long the audit trail is kept")
    low, high = RETENTION_LIMITS
    if not isinstance(days, int) or isinstance(days, bool) or not low <= days <= high:
        raise ValidationFailed.on("retention_days", f"keep the audit trail between {low} and {high} days")
    policy = session.get(AuditPolicy, 1)
    before = policy.retention_days if policy is not None else DEFAULT_RETENTION_DAYS
    if policy is None:
        policy = AuditPolicy(id=1)
        session.add(policy)
    policy.retention_days, policy.updated_at, policy.updated_by = days, utcnow(), actor.id
    log(session, "audit.retention_changed", actor=actor, summary=f"audit retention {before} → {days} days",
        details={"retention_days": [before, days]})
    session.flush()
    return days


def purge(session: Session, *, now: datetime | None = None) -> int:
    """Remove entries older than the retention period; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days(session))
    result = session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def run_purge(session: Session, action: Any) -> None:
    removed = purge(session)
    if removed:
        log(session, "audit.purged", actor=None, label="Pipewise", summary=f"{removed} entries past retention removed")


TABLE = bus.HandlerTable(timers={PURGE_ACTION: bus.ActionKind(run_purge, rerun_safe=True)})


# -- reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    actor_id: uuid.UUID | None = None
    channel: str | None = None
    action: str | None = None  # "user.updated", or a prefix ending in a dot: "user."
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    before_id: int | None = None
    limit: int = 100


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only admins may read the audit trail")


def _filtered(query: AuditQuery) -> Any:
    stmt = select(AuditEntry)
    if query.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == query.actor_id)
    if query.channel:
        stmt = stmt.where(AuditEntry.channel == query.channel)
    if query.action:
        stmt = stmt.where(AuditEntry.action.startswith(query.action, autoescape=True) if query.action.endswith(".")
                          else AuditEntry.action == query.action)
    if query.target_type:
        stmt = stmt.where(AuditEntry.target_type == query.target_type)
    if query.target_id:
        stmt = stmt.where(AuditEntry.target_id == query.target_id)
    if query.since is not None:
        stmt = stmt.where(AuditEntry.at >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditEntry.at < query.until)
    if query.text:
        pattern = query.text.strip().lower()
        stmt = stmt.where(AuditEntry.summary.icontains(pattern, autoescape=True)
                          | AuditEntry.actor_label.icontains(pattern, autoescape=True))
    return stmt


def search(session: Session, query: AuditQuery, *, actor: Actor) -> list[AuditEntry]:
    """Newest first; page on with ``before_id`` = the last entry's id."""
    require_admin(actor)
    stmt = _filtered(query)
    if query.before_id is not None:
        stmt = stmt.where(AuditEntry.id < query.before_id)
    return list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(max(1, min(query.limit, 500)))))


EXPORT_COLUMNS = ("id", "at", "actor_label", "actor_id", "channel", "via", "action", "target_type", "target_id",
                  "summary", "ip", "user_agent")


def export(session: Session, query: AuditQuery, *, actor: Actor) -> Iterator[list[Any]]:
    """Every matching entry, oldest first, as rows of ``EXPORT_COLUMNS``; the export is
    itself recorded (in the caller's transaction)."""
    require_admin(actor)
    log(session, "audit.exported", actor=actor, summary="audit trail exported",
        details={k: str(v) for k, v in vars(query).items() if v is not None and k not in ("limit", "before_id")})
    stmt = _filtered(query).order_by(AuditEntry.id).execution_options(yield_per=1000)
    for entry in session.scalars(stmt):
        yield [getattr(entry, column) for column in EXPORT_COLUMNS]
