"""Retention rules: what Pipewise deletes once it is older than a number of months.

An admin defines a rule (delete unconverted leads, activities, or contacts with no
activity and no deal, after N months) and sees first, with a dry-run, how many records
it would delete and which. Enabled rules run every day at 03:30 UTC in the worker (one
durable timer a day, each run scheduling the next), with the rights of the admin who
last saved the rule: records are deleted through their services, so field history, the
audit trail and the events are written as for a delete by hand. Each run is recorded
(how many, the first ids); a run deletes at most ``MAX_PER_RUN`` records and the next
day's run goes on where it stopped."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from pipewise import origin as origins
from pipewise.audit import service as audit
from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.crm.models import Activity, Contact
from pipewise.crm.service import activity_service, contact_service
from pipewise.db.base import utcnow, uuid7
from pipewise.deals.models import DealContact
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied
from pipewise.events import bus
from pipewise.leads.models import Lead
from pipewise.leads.service import lead_service
from pipewise.privacy import subject_export
from pipewise.privacy.models import RetentionRule, RetentionRun

TIMER = "privacy.retention"
RUN_HOUR, RUN_MINUTE = 3, 30
MONTHS = (1, 240)
MAX_PER_RUN = 5000
BATCH = 200
SAMPLE = 50
KEPT_IDS = 100


@dataclass(frozen=True)
class Kind:
    label: str
    model: Any
    service: Any
    date_column: Any


KINDS: dict[str, Kind] = {
    "unconverted_leads": Kind("Leads never converted", Lead, lead_service, Lead.created_at),
    "old_activities": Kind("Activities", Activity, activity_service,
                           Activity.occurred_at),
    "idle_contacts": Kind("Contacts with no activity and no deal", Contact, contact_service,
                          Contact.created_at),
}


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only admins may manage retention rules")


def months_before(moment: datetime, months: int) -> datetime:
    """The same day ``months`` calendar months earlier (the month's last day if shorter)."""
    year, month = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + year, month + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def matching(rule: RetentionRule, now: datetime | None = None) -> Select[Any]:
    """The ids of the records ``rule`` deletes now, oldest first."""
    kind = KINDS[rule.kind]
    cutoff = months_before(now or utcnow(), rule.months)
    stmt = select(kind.model.id).where(kind.date_column < cutoff)
    if rule.kind == "unconverted_leads":
        stmt = stmt.where(Lead.status != "converted", Lead.converted_at.is_(None))
    elif rule.kind == "idle_contacts":
        stmt = stmt.where(
            ~exists().where(Activity.contact_id == Contact.id, Activity.occurred_at >= cutoff),
            ~exists().where(DealContact.contact_id == Contact.id))
    return stmt.order_by(kind.date_column, kind.model.id)


# -- the rules -------------------------------------------------------------------


def _validated(data: dict[str, Any], rule: RetentionRule | None) -> dict[str, Any]:
    errors = ErrorCollector()
    clean: dict[str, Any] = {}
    if "name" in data or rule is None:
        name = str(data.get("name") or "").strip()
        if not 1 <= len(name) <= 200:
            errors.add("name", "give the rule a name (up to 200 characters)")
        clean["name"] = name
    if "kind" in data or rule is None:
        if data.get("kind") not in KINDS:
            errors.add("kind", f"must be one of {', '.join(KINDS)}")
        clean["kind"] = data.get("kind")
    if "months" in data or rule is None:
        months = data.get("months")
        if not isinstance(months, int) or isinstance(months, bool) or not MONTHS[0] <= months <= MONTHS[1]:
            errors.add("months", f"a whole number of months between {MONTHS[0]} and {MONTHS[1]}")
        clean["months"] = months
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            errors.add("enabled", "true or false")
        clean["enabled"] = data["enabled"]
    errors.raise_if_any()
    return clean


def rules(session: Session, *, actor: Actor) -> list[RetentionRule]:
    require_admin(actor)
    return list(session.scalars(select(RetentionRule).order_by(RetentionRule.created_at)))


def get_rule(session: Session, rule_id: uuid.UUID, *, actor: Actor) -> RetentionRule:
    require_admin(actor)
    rule = session.get(RetentionRule, rule_id)
    if rule is None:
        raise NotFound(f"no retention rule with id {rule_id}")
    return rule


def create_rule(session: Session, data: dict[str, Any], *, actor: Actor) -> RetentionRule:
    require_admin(actor)
    rule = RetentionRule(id=uuid7(), author_id=actor.id, **{"enabled": True, **_validated(data, None)})
    session.add(rule)
    session.flush()
    audit.log(session, "retention_rule.created", actor=actor, summary=f"retention rule created: {rule.name}",
              target_type="retention_rule", target_id=rule.id,
              details={"kind": rule.kind, "months": rule.months, "enabled": rule.enabled})
    schedule_next(session)
    return rule


def update_rule(session: Session, rule_id: uuid.UUID, data: dict[str, Any], *, actor: Actor) -> RetentionRule:
    rule = get_rule(session, rule_id, actor=actor)
    changes = {}
    for key, value in _validated(data, rule).items():
        if getattr(rule, key) != value:
            changes[key] = [getattr(rule, key), value]
            setattr(rule, key, value)
    rule.author_id = actor.id  # it now runs with the rights of whoever saved it last
    session.flush()
    audit.log(session, "retention_rule.updated", actor=actor, summary=f"retention rule changed: {rule.name}",
              target_type="retention_rule", target_id=rule.id, details={"changes": changes})
    schedule_next(session)
    return rule


def delete_rule(session: Session, rule_id: uuid.UUID, *, actor: Actor) -> None:
    rule = get_rule(session, rule_id, actor=actor)
    audit.log(session, "retention_rule.deleted", actor=actor, summary=f"retention rule deleted: {rule.name}",
              target_type="retention_rule", target_id=rule.id, details={"kind": rule.kind, "months": rule.months})
    session.delete(rule)
    session.flush()


def runs(session: Session, rule_id: uuid.UUID, *, actor: Actor, limit: int = 30) -> list[RetentionRun]:
    get_rule(session, rule_id, actor=actor)
    return list(session.scalars(select(RetentionRun).where(RetentionRun.rule_id == rule_id)
                                .order_by(RetentionRun.id.desc()).limit(limit)))


# -- dry-run and run -------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    count: int
    cutoff: datetime
    sample: list[dict[str, Any]]  # the first records it would delete: id, label, date


def _label(record: Any) -> str:
    if isinstance(record, Activity):
        return f"{record.type}: {record.subject}"
    name = record.full_name
    return f"{name} ({record.company})" if isinstance(record, Lead) and record.company else name


def preview(session: Session, rule_id: uuid.UUID, *, actor: Actor, now: datetime | None = None) -> Preview:
    """What the rule would delete if it ran now, deleting nothing."""
    rule = get_rule(session, rule_id, actor=actor)
    kind, stmt = KINDS[rule.kind], matching(rule, now)
    count = int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
    ids = list(session.scalars(stmt.limit(SAMPLE)))
    records = {r.id: r for r in session.scalars(select(kind.model).where(kind.model.id.in_(ids)))} if ids else {}
    sample = [{"id": i, "label": _label(records[i]), "date": getattr(records[i], kind.date_column.key)} for i in ids]
    return Preview(count, months_before(now or utcnow(), rule.months), sample)


def _author(session: Session, rule: RetentionRule) -> Actor | None:
    user = session.get(User, rule.author_id) if rule.author_id else None
    if user is None or not user.is_active:
        return None
    actor = Actor.for_user(session, user)
    return actor if actor.is_admin else None


def run_rule(session: Session, rule: RetentionRule, *, now: datetime | None = None) -> RetentionRun:
    """Delete what ``rule`` matches now (up to ``MAX_PER_RUN``), as its author, and record it."""
    run = RetentionRun(rule_id=rule.id, at=utcnow(), deleted=0, record_ids=[])
    actor = _author(session, rule)
    rule.last_run_at = run.at
    if actor is None:
        run.error = "not run: the admin who last saved this rule is no longer an active admin; an admin must save it again"
    else:
        kind, deleted = KINDS[rule.kind], []
        with origins.acting("worker", via=f"retention rule {rule.name}"[:200]):
            while len(deleted) < MAX_PER_RUN:
                ids = list(session.scalars(matching(rule, now).limit(min(BATCH, MAX_PER_RUN - len(deleted)))))
                if not ids:
                    break
                for record in session.scalars(select(kind.model).where(kind.model.id.in_(ids))):
                    kind.service.delete(session, record, actor=actor)
                    deleted.append(str(record.id))
            run.deleted, run.record_ids = len(deleted), deleted[:KEPT_IDS]
            audit.log(session, "retention.ran", actor=actor, summary=f"retention rule {rule.name}: {len(deleted)} deleted",
                      target_type="retention_rule", target_id=rule.id,
                      details={"kind": rule.kind, "months": rule.months, "deleted": len(deleted),
                               "first_ids": deleted[:KEPT_IDS]})
    session.add(run)
    session.flush()
    return run


def run_now(session: Session, rule_id: uuid.UUID, *, actor: Actor) -> RetentionRun:
    """Run one rule at once (an admin's "run now"), whether or not it is enabled."""
    return run_rule(session, get_rule(session, rule_id, actor=actor))


# -- the daily timer ---------------------------------------------------------------


def next_run_at(now: datetime | None = None) -> datetime:
    moment = now or utcnow()
    today = moment.replace(hour=RUN_HOUR, minute=RUN_MINUTE, second=0, microsecond=0)
    return today if today > moment else today + timedelta(days=1)


def schedule_next(session: Session, now: datetime | None = None) -> None:
    """The next daily run (one timer per day, by key)."""
    run_at = next_run_at(now)
    bus.schedule(session, key=f"{TIMER}:{run_at.date().isoformat()}", kind=TIMER, run_at=run_at)


def run_daily(session: Session, action: Any) -> None:
    """Every enabled rule, each in its own savepoint (one failing rule does not stop the others)."""
    for rule in session.scalars(select(RetentionRule).where(RetentionRule.enabled.is_(True)).order_by(RetentionRule.created_at)):
        try:
            with session.begin_nested():
                run_rule(session, rule)
        except Exception as exc:  # noqa: BLE001 - recorded on the rule's runs; the others go on
            session.add(RetentionRun(rule_id=rule.id, at=utcnow(), deleted=0, record_ids=[],
                                     error=f"stopped on an error: {type(exc).__name__}: {exc}"[:2000]))
    subject_export.remove_old_exports()
    if session.scalar(select(exists().where(RetentionRule.enabled.is_(True)))):
        schedule_next(session, max(utcnow(), action.run_at) + timedelta(minutes=1))


TABLE = bus.HandlerTable(timers={TIMER: bus.ActionKind(run_daily, rerun_safe=True)})
