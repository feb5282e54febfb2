"""Lead routing: ordered rules (conditions in the filter language → a user, a team or a
queue), the account owner first, capacity-weighted round-robin that skips people who are
away, and a response-time SLA that reassigns and tells the manager when it is missed.

Routing is a leaf: it is given a lead's id and fields and says where the lead goes; the
leads package applies that to the lead (leads/routing.py) and runs the SLA timer."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.assignment.events import LeadAssigned, LeadSlaBreached
from pipewise.assignment.hours import add_working_minutes
from pipewise.assignment.models import AssignmentRule, LeadAssignment, RoundRobinSlot, RoutingPolicy
from pipewise.auth.models import Team, User
from pipewise.auth.visibility import Actor
from pipewise.crm.models import Account, Activity, Task
from pipewise.db.base import utcnow, uuid7
from pipewise.db.session import cached_lookup, insert_later
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied, ValidationFailed
from pipewise.events import bus
from pipewise.notifications.service import notify
from pipewise.records import bounds
from pipewise.records.checks import check_timezone
from pipewise.records.filters import FilterCompiler, record_matches
from pipewise.records.registry import spec_for
from pipewise.records.service import check_assignable
from pipewise.runs.rotation import Seat, next_seat, starting_turns

TARGET_TYPES = ("user", "team", "queue")
SLA_ACTION = "lead.sla_check"
POLICY_ID = 1


# -- set-up: policy and rules --


def policy(session: Session) -> RoutingPolicy:
    # Held for the transaction: the worker routes a batch of leads in one.
    return cached_lookup(session, RoutingPolicy, POLICY_ID, lambda: _load_policy(session))


def _load_policy(session: Session) -> RoutingPolicy:
    row = session.get(RoutingPolicy, POLICY_ID)
    if row is None:
        row = RoutingPolicy(id=POLICY_ID, work_start="09:00", work_end="17:00", workdays=[0, 1, 2, 3, 4], timezone="UTC")
        session.add(row)
        session.flush()
    return row


def _require_manager(actor: Actor) -> None:
    if not actor.is_manager:
        raise PermissionDenied("only managers and admins may change routing")


def update_policy(session: Session, data: dict[str, Any], *, actor: Actor) -> RoutingPolicy:
    _require_manager(actor)
    errors = ErrorCollector()
    bounds.screen(RoutingPolicy, data, creating=False, errors=errors)
    if data.get("sla_minutes") is not None and not 1 <= int(data["sla_minutes"]) <= 10080:
        errors.add("sla_minutes", "must be between 1 minute and a week (10080), or empty for no SLA")
    for key in ("work_start", "work_end"):
        if key in data and not _is_clock(data[key]):
            errors.add(key, "must be a time of day such as 09:00")
    if "workdays" in data and not (
        isinstance(data["workdays"], list) and data["workdays"] and all(d in range(7) for d in data["workdays"])
    ):
        errors.add("workdays", "must list days 0 (Monday) to 6 (Sunday)")
    if "timezone" in data:
        try:
            check_timezone(data["timezone"])
        except ValueError as exc:
            errors.add("timezone", str(exc))
    errors.raise_if_any()
    row = policy(session)
    merged = {"work_start": row.work_start, "work_end": row.work_end, **data}
    if merged["work_start"] >= merged["work_end"]:
        raise ValidationFailed.on("work_end", "must be after work_start")
    for key, value in data.items():
        setattr(row, key, value)
    return row


def _is_clock(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    hours, minutes = value[:2], value[3:]
    return hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60


_IN_ORDER = select(AssignmentRule).order_by(AssignmentRule.position, AssignmentRule.created_at)
# Built once: making the statement again for every routed lead cost a tenth of routing it.
_ACTIVE_IN_ORDER = _IN_ORDER.where(AssignmentRule.is_active.is_(True))


def rules(session: Session, *, active_only: bool = False) -> list[AssignmentRule]:
    if active_only:
        # The rules routing runs, held for the transaction (a change to one is seen at once).
        return cached_lookup(session, AssignmentRule, "active", lambda: list(session.scalars(_ACTIVE_IN_ORDER)))
    return list(session.scalars(_IN_ORDER))


def _check_rule(session: Session, data: dict[str, Any], record: AssignmentRule | None) -> None:
    errors = ErrorCollector()
    bounds.screen(AssignmentRule, data, creating=record is None, errors=errors)
    merged = {c: getattr(record, c) for c in ("name", "target_type", "user_id", "team_id", "queue")} if record else {}
    merged.update(data)
    if not str(merged.get("name") or "").strip():
        errors.add("name", "is required")
    target = merged.get("target_type")
    if target not in TARGET_TYPES:
        errors.add("target_type", f"must be one of {', '.join(TARGET_TYPES)}")
    elif target == "user":
        user = session.get(User, merged.get("user_id")) if merged.get("user_id") else None
        if user is None or not user.is_active:
            errors.add("user_id", "name an active user to assign to")
    elif target == "team":
        if not merged.get("team_id") or session.get(Team, merged["team_id"]) is None:
            errors.add("team_id", "name a team for round-robin")
    elif not str(merged.get("queue") or "").strip():
        errors.add("queue", "name the queue")
    if "conditions" in data:
        try:
            FilterCompiler(session, spec_for("lead")).compile(data["conditions"] or {"all": []})
        except ValidationFailed as exc:
            for e in exc.errors:
                errors.add("conditions." + e.field.removeprefix("filter."), e.message)
    errors.raise_if_any()


def create_rule(session: Session, data: dict[str, Any], *, actor: Actor) -> AssignmentRule:
    _require_manager(actor)
    _check_rule(session, data, None)
    if data.get("position") is None:
        data["position"] = (session.scalar(select(func.max(AssignmentRule.position))) or 0) + 1
    rule = AssignmentRule(id=uuid7(), **{"conditions": {}, **data})
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, rule_id: uuid.UUID, data: dict[str, Any], *, actor: Actor) -> AssignmentRule:
    _require_manager(actor)
    rule = get_rule(session, rule_id)
    _check_rule(session, data, rule)
    for key, value in data.items():
        setattr(rule, key, value)
    return rule


def get_rule(session: Session, rule_id: uuid.UUID) -> AssignmentRule:
    rule = session.get(AssignmentRule, rule_id)
    if rule is None:
        raise NotFound(f"no assignment rule with id {rule_id}")
    return rule


def delete_rule(session: Session, rule_id: uuid.UUID, *, actor: Actor) -> None:
    _require_manager(actor)
    session.delete(get_rule(session, rule_id))


def reorder(session: Session, rule_ids: list[uuid.UUID], *, actor: Actor) -> list[AssignmentRule]:
    _require_manager(actor)
    existing = {r.id: r for r in rules(session)}
    if set(rule_ids) != set(existing) or len(rule_ids) != len(existing):
        raise ValidationFailed.on("rule_ids", "list every rule exactly once, in the new order")
    for position, rule_id in enumerate(rule_ids, start=1):
        existing[rule_id].position = position
    return [existing[i] for i in rule_ids]


# -- choosing an owner --


def _available(user: User | None, exclude: set[uuid.UUID]) -> bool:
    return user is not None and user.is_active and not user.is_away and user.capacity > 0 and user.id not in exclude


@dataclass
class _Turns:
    """A team's members and round-robin slots, read (and the slots locked) once per
    transaction: the worker routes a batch of leads in one, turn after turn."""

    members: list[User]
    slots: dict[uuid.UUID, RoundRobinSlot]


def _turns(session: Session, team_id: uuid.UUID) -> _Turns:
    # Kept under the users: forgotten when one is added or changed, or a savepoint rolls back.
    return cached_lookup(session, User, ("turns", team_id), lambda: _Turns(
        list(session.scalars(select(User).where(User.team_id == team_id).order_by(User.name, User.id))),
        {s.user_id: s for s in session.scalars(select(RoundRobinSlot).where(RoundRobinSlot.team_id == team_id).with_for_update())},
    ))


def round_robin(session: Session, team_id: uuid.UUID, *, exclude: set[uuid.UUID] = frozenset()) -> User | None:  # type: ignore[assignment]
    """The team member next in turn: the lowest share of leads given so far against their
    capacity, skipping people who are away. A newcomer starts level with the others."""
    turns = _turns(session, team_id)
    members = [u for u in turns.members if _available(u, set(exclude))]
    if not members:
        return None
    slots = turns.slots

    def seat(user: User) -> Seat[User]:
        slot = slots[user.id]
        return Seat(user, weight=user.capacity, turns=slot.assigned_count, last_turn=slot.last_assigned_at)

    seated = [seat(u) for u in members if u.id in slots]
    for user in members:
        if user.id not in slots:
            slots[user.id] = RoundRobinSlot(team_id=team_id, user_id=user.id, assigned_count=starting_turns(seated, user.capacity))
            session.add(slots[user.id])
    chosen = next_seat([seat(u) for u in members])
    assert chosen is not None  # members is not empty
    slots[chosen.member.id].assigned_count += 1
    slots[chosen.member.id].last_assigned_at = utcnow()
    return chosen.member


@dataclass(frozen=True)
class Placement:
    """Where a lead goes: an owner or a queue, by which rule (None by hand), and why."""

    owner: User | None
    queue: str | None
    rule: AssignmentRule | None
    reason: str


def _pick(
    session: Session, account_id: uuid.UUID | None, rule: AssignmentRule, exclude: set[uuid.UUID]
) -> Placement | None:
    """Where one matching rule places the lead, or None when it cannot."""
    if rule.prefer_account_owner and account_id:
        account = session.get(Account, account_id)
        owner = session.get(User, account.owner_id) if account and account.owner_id else None
        if _available(owner, exclude):
            return Placement(owner, None, rule, f"owner of the account {account.name}")
    if rule.target_type == "user":
        user = held(session, User, rule.user_id)
        return Placement(user, None, rule, f"assigned to {user.name}") if _available(user, exclude) else None
    if rule.target_type == "team":
        user = round_robin(session, rule.team_id, exclude=exclude)
        team = held(session, Team, rule.team_id)
        return Placement(user, None, rule, f"round-robin in {team.name if team else 'the team'}") if user else None
    return Placement(None, rule.queue, rule, f"put in the {rule.queue} queue")


def held(session: Session, model: type, row_id: Any) -> Any:
    """A row read once per transaction and held for the rest of it (a user or team a rule
    names, a routed lead's new owner): the identity map alone lets an unchanged object go."""
    return cached_lookup(session, model, ("routing", row_id), lambda: session.get(model, row_id))


def place(
    session: Session, lead_id: uuid.UUID, *, account_id: uuid.UUID | None, exclude: set[uuid.UUID] | None = None
) -> Placement | None:
    """Run the rules in order over the lead; the first that can place it does. None if none can."""
    exclude = set(exclude or ())
    for rule in rules(session, active_only=True):
        if rule.conditions and not record_matches(session, spec_for("lead"), lead_id, rule.conditions):
            continue
        placement = _pick(session, account_id, rule, exclude)
        if placement is not None:
            return placement
    return None


def placement_by_hand(session: Session, owner_id: uuid.UUID, *, actor: Actor) -> Placement:
    """A person chosen by ``actor``, who must be active and within the actor's reach."""
    owner = session.get(User, owner_id)
    if owner is None or not owner.is_active:
        raise ValidationFailed.on("owner_id", "name an active user")
    errors = ErrorCollector()
    check_assignable(session, owner_id, actor, errors)
    errors.raise_if_any()
    return Placement(owner, None, None, f"assigned to {owner.name}")


def record_assignment(
    session: Session, lead_id: uuid.UUID, placement: Placement, *, at: datetime, replaces: bool, actor: Actor,
    cause: str, submission_id: uuid.UUID | None = None, deferred: bool = False,
) -> LeadAssignment | None:
    """Keep the assignment (``replaces`` the lead's active ones when it had any), start its
    SLA clock and announce it. The lead's own owner and queue are the caller's to set.
    ``deferred``: the row waits with the transaction's other rows (``insert_later``) and
    none is returned, for the worker, which routes a batch of leads and reads none back: an
    object through the ORM's unit of work cost a twentieth of the worker's time a lead."""
    if replaces:
        for previous in session.scalars(
            select(LeadAssignment).where(LeadAssignment.lead_id == lead_id, LeadAssignment.status == "active")
        ):
            previous.status = "replaced"
    owner, rule = placement.owner, placement.rule
    cfg = policy(session)
    due = add_working_minutes(at, cfg.sla_minutes, cfg) if cfg.sla_minutes and owner is not None else None
    values = {
        "lead_id": lead_id, "owner_id": owner.id if owner else None, "team_id": owner.team_id if owner else None,
        "queue": placement.queue, "rule_id": rule.id if rule else None, "rule_name": rule.name if rule else cause,
        "reason": f"{placement.reason} ({cause})"[:300], "assigned_at": at, "sla_due_at": due, "status": "active",
    }
    assignment = None
    if deferred:
        insert_later(session, LeadAssignment, values)
    else:
        assignment = LeadAssignment(**values)
        session.add(assignment)
    if due is not None:
        # The timer names the assignment by its lead and moment, not by its id: the id would
        # take a flush of everything pending, once per routed lead of a worker batch.
        moment = at.isoformat()
        bus.schedule(session, key=f"{SLA_ACTION}:{lead_id}:{moment}", kind=SLA_ACTION, run_at=due,
                     payload={"lead_id": str(lead_id), "assigned_at": moment})
    bus.record(
        session,
        LeadAssigned(
            record_id=lead_id,
            actor_id=actor.id if actor.id.int else None,
            owner_id=owner.id if owner else None,
            queue=placement.queue,
            rule=values["rule_name"],
            rule_id=rule.id if rule else None,
            reason=values["reason"],
            sla_due_at=due,
            submission_id=submission_id,
        ),
    )
    return assignment


# -- first touch and the SLA --


def touched(session: Session, lead_id: uuid.UUID, at: datetime) -> None:
    """A person acted on the lead at ``at``: its active assignments from before then are touched."""
    for assignment in session.scalars(
        select(LeadAssignment).where(LeadAssignment.lead_id == lead_id, LeadAssignment.status == "active")
    ):
        if at >= assignment.assigned_at - timedelta(seconds=1):
            assignment.first_touch_at = assignment.first_touch_at or at
            assignment.status = "touched"


def _touched_since(session: Session, assignment: LeadAssignment) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(Activity)
            .where(
                Activity.lead_id == assignment.lead_id,
                Activity.automated.is_(False),
                Activity.created_at >= assignment.assigned_at,
            )
        )
        or 0
    ) > 0


def timed(session: Session, payload: dict[str, Any]) -> LeadAssignment | None:
    """The assignment an SLA timer's payload names."""
    if "assignment_id" in payload:  # a timer set before timers named the lead and moment
        return session.get(LeadAssignment, payload["assignment_id"])
    return session.scalars(
        select(LeadAssignment)
        .where(LeadAssignment.lead_id == uuid.UUID(payload["lead_id"]),
               LeadAssignment.assigned_at == datetime.fromisoformat(payload["assigned_at"]))
        .order_by(LeadAssignment.id.desc())
        .limit(1)
    ).first()


def overdue(session: Session, payload: dict[str, Any]) -> LeadAssignment | None:
    """The assignment whose SLA timer fired, if it is still active and nobody touched the
    lead since (one that was touched is marked so here)."""
    assignment = timed(session, payload)
    if assignment is None or assignment.status != "active":
        return None
    if _touched_since(session, assignment):
        assignment.status = "touched"
        return None
    return assignment


def mark_breached(assignment: LeadAssignment) -> None:
    """Before any reassignment, so that it does not count as replaced."""
    assignment.status, assignment.breached_at = "breached", utcnow()


def report_breach(
    session: Session, assignment: LeadAssignment, *, lead_name: str, reassigned: LeadAssignment | None
) -> None:
    """Tell the owner's manager (a notification and a task) and announce the breach."""
    owner = session.get(User, assignment.owner_id) if assignment.owner_id else None
    team = session.get(Team, owner.team_id) if owner and owner.team_id else None
    manager = session.get(User, team.manager_id) if team and team.manager_id else None
    if manager is not None:
        who = owner.name if owner else "nobody"
        notify(session, manager.id, "sla_breach", f"Response time missed: {lead_name} was not contacted by {who} in time",
               link=f"/leads/{assignment.lead_id}", record_type="lead", record_id=assignment.lead_id,
               key=f"sla_breach:{assignment.id}")
        session.add(
            Task(
                id=uuid7(),
                title=f"Response time missed: {lead_name} was not contacted by {who} in time",
                notes=(f"Due {assignment.sla_due_at:%Y-%m-%d %H:%M} UTC. "
                       + (f"Reassigned: {reassigned.reason}." if reassigned and reassigned.owner_id else "Not reassigned.")),
                due_at=assignment.breached_at,
                priority="high",
                owner_id=manager.id,
                related_type="lead",
                related_id=assignment.lead_id,
            )
        )
    bus.record(
        session,
        LeadSlaBreached(
            record_id=assignment.lead_id,
            owner_id=assignment.owner_id,
            due_at=assignment.sla_due_at,
            manager_id=manager.id if manager else None,
            reassigned_to=reassigned.owner_id if reassigned else None,
        ),
    )


def history(session: Session, lead_id: uuid.UUID) -> list[LeadAssignment]:
    return list(
        session.scalars(
            select(LeadAssignment).where(LeadAssignment.lead_id == lead_id).order_by(LeadAssignment.assigned_at.desc(), LeadAssignment.id.desc())
        )
    )
