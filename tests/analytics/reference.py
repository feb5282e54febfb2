"""The same numbers as the reports, computed independently: plain Python over every row
of the tables (no report code), with visibility applied by hand."""

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from pipewise.auth.models import Team, User
from pipewise.crm.models import Activity
from pipewise.deals.models import Deal, DealContact, DealStageChange, Stage
from pipewise.leads.models import Lead
from pipewise.mail.models import EmailMessage

WINDOW = timedelta(days=30)


def q(values: list[float], which: float) -> float | None:
    """Median / 90th percentile with linear interpolation (the 'inclusive' method)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    if which == 0.5:
        return statistics.median(values)
    return statistics.quantiles(values, n=10, method="inclusive")[round(which * 10) - 1]


class Rows:
    """Every row the reports read, loaded once, and who may see what."""

    def __init__(self, session: Any, viewer: User | None = None) -> None:
        load = lambda model: list(session.scalars(select(model)))  # noqa: E731
        self.users = {u.id: u for u in load(User)}
        self.teams = load(Team)
        self.stages = {s.id: s for s in load(Stage)}
        self.deals = load(Deal)
        self.changes = sorted(load(DealStageChange), key=lambda c: (c.at, c.id))
        self.activities = load(Activity)
        self.leads = load(Lead)
        self.messages = load(EmailMessage)
        self.deal_contacts = session.execute(select(DealContact.deal_id, DealContact.contact_id)).all()
        self.viewer = viewer

    def sees(self, owner_id: Any) -> bool:
        viewer = self.viewer
        if viewer is None or viewer.role == "admin" or owner_id is None or owner_id == viewer.id:
            return True
        teams = {t.id for t in self.teams if t.manager_id == viewer.id} | ({viewer.team_id} if viewer.team_id else set())
        owner = self.users.get(owner_id)
        return owner is not None and owner.team_id in teams

    def visible_deals(self) -> list[Deal]:
        return [d for d in self.deals if self.sees(d.owner_id)]

    def kind(self, deal: Deal) -> str:
        return self.stages[deal.stage_id].kind


def in_range(at: datetime | None, since: datetime, until: datetime) -> bool:
    return at is not None and since <= at < until


def pipeline_by_stage(rows: Rows, since: datetime, until: datetime) -> dict[str, tuple[int, Decimal, Decimal]]:
    found: dict[str, list[Decimal]] = defaultdict(list)
    for deal in rows.visible_deals():
        if rows.kind(deal) == "open" and in_range(deal.created_at, since, until):
            found[rows.stages[deal.stage_id].name].append(deal.amount or Decimal(0))
    result = {}
    for stage in rows.stages.values():
        if stage.kind == "open":
            amounts = found.get(stage.name, [])
            value = sum(amounts, Decimal(0))
            result[stage.name] = (len(amounts), value, (value * stage.probability / 100).quantize(Decimal("0.01")))
    return result


def flow(rows: Rows, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
    months: dict[str, dict[str, int]] = defaultdict(lambda: {"created": 0, "won": 0, "lost": 0})
    for deal in rows.visible_deals():
        if in_range(deal.created_at, since, until):
            months[deal.created_at.strftime("%Y-%m")]["created"] += 1
        if rows.kind(deal) in ("won", "lost") and in_range(deal.closed_at, since, until):
            months[deal.closed_at.strftime("%Y-%m")][rows.kind(deal)] += 1
    return dict(months)


def funnel(rows: Rows, pipeline_id: Any, since: datetime, until: datetime) -> tuple[list[tuple[str, int]], float | None]:
    cohort = [d for d in rows.visible_deals() if d.pipeline_id == pipeline_id and in_range(d.created_at, since, until)]
    furthest: dict[Any, int] = defaultdict(int)
    for change in rows.changes:
        stage = rows.stages[change.to_stage_id]
        if stage.kind == "open":
            furthest[change.deal_id] = max(furthest[change.deal_id], stage.position)
    open_stages = sorted((s for s in rows.stages.values() if s.pipeline_id == pipeline_id and s.kind == "open"), key=lambda s: s.position)
    reached = [(s.name, sum(1 for d in cohort if rows.kind(d) == "won" or furthest[d.id] >= s.position)) for s in open_stages]
    won = sum(1 for d in cohort if rows.kind(d) == "won")
    lost = sum(1 for d in cohort if rows.kind(d) == "lost")
    return [*reached, ("Won", won)], (won / (won + lost) if won + lost else None)


def velocity(rows: Rows, since: datetime, until: datetime) -> dict[str, Any]:
    deals = rows.visible_deals()
    open_count = sum(1 for d in deals if rows.kind(d) == "open" and d.created_at < until)
    won = [d for d in deals if rows.kind(d) == "won" and in_range(d.closed_at, since, until)]
    lost = [d for d in deals if rows.kind(d) == "lost" and in_range(d.closed_at, since, until)]
    win_rate = len(won) / (len(won) + len(lost))
    average = sum((d.amount or Decimal(0) for d in won), Decimal(0)) / len(won)
    cycle = sum((d.closed_at - d.created_at).total_seconds() / 86400 for d in won) / len(won)
    return {"open_deals": open_count, "win_rate": win_rate, "average_won": average, "cycle_days": cycle,
            "velocity_per_day": float(open_count * win_rate * float(average) / cycle)}


def stage_stays(rows: Rows, since: datetime, until: datetime) -> dict[str, tuple[float | None, float | None, int]]:
    by_deal: dict[Any, list[DealStageChange]] = defaultdict(list)
    visible = {d.id for d in rows.visible_deals()}
    for change in rows.changes:
        if change.deal_id in visible:
            by_deal[change.deal_id].append(change)
    stays: dict[str, list[float]] = defaultdict(list)
    for changes in by_deal.values():
        for entered, left in zip(changes, changes[1:], strict=False):
            if in_range(left.at, since, until):
                stays[rows.stages[entered.to_stage_id].name].append((left.at - entered.at).total_seconds() / 86400)
    return {name: (q(days, 0.5), q(days, 0.9), len(days)) for name, days in stays.items()}


def won_cycle_median(rows: Rows, since: datetime, until: datetime) -> float | None:
    return q([(d.closed_at - d.created_at).total_seconds() / 86400 for d in won_deals(rows, since, until)], 0.5)


def automation_deals(rows: Rows, exposures: list[tuple[Any, Any, list[datetime]]]) -> set[Any]:
    """The deals an automation touched: open at the exposure's first touch, or created within
    the window after one of its touches, at its contact's account or with its contact.
    ``exposures``: (contact id, account id, touch times)."""
    contacts_of: dict[Any, set[Any]] = defaultdict(set)
    for deal_id, contact_id in rows.deal_contacts:
        contacts_of[deal_id].add(contact_id)
    found = set()
    for contact_id, account_id, touches in exposures:
        if not touches:
            continue
        first = min(touches)
        for deal in rows.deals:
            if not ((account_id and deal.account_id == account_id) or contact_id in contacts_of[deal.id]):
                continue
            open_then = deal.created_at <= first and (deal.closed_at is None or deal.closed_at > first)
            if open_then or any(t <= deal.created_at <= t + WINDOW for t in touches):
                found.add(deal.id)
    return found


def won_deals(rows: Rows, since: datetime, until: datetime) -> list[Deal]:
    return [d for d in rows.visible_deals() if rows.kind(d) == "won" and in_range(d.closed_at, since, until)]


def activities_per_rep(rows: Rows, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for activity in rows.activities:
        if rows.sees(activity.owner_id) and in_range(activity.occurred_at, since, until):
            name = rows.users[activity.owner_id].name if activity.owner_id else "Unassigned"
            found[name][activity.type] += 1
    return {k: dict(v) for k, v in found.items()}


def speed_to_lead(rows: Rows, since: datetime, until: datetime) -> dict[str, float | None]:
    minutes: dict[str, list[float]] = defaultdict(list)
    for lead in rows.leads:
        if not rows.sees(lead.owner_id) or not in_range(lead.created_at, since, until):
            continue
        touches = [a.occurred_at for a in rows.activities if a.lead_id == lead.id and not a.automated]
        first = lead.first_touched_at or (min(touches) if touches else None)
        minutes[lead.source or "(none)"]
        if first is not None:
            minutes[lead.source or "(none)"].append(max(0.0, (first - lead.created_at).total_seconds() / 60))
    return {source: q(values, 0.5) for source, values in minutes.items()}


def revenue_by_source(rows: Rows, since: datetime, until: datetime) -> dict[str, Decimal]:
    deals = {d.id: d for d in rows.visible_deals()}
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for lead in rows.leads:
        if rows.sees(lead.owner_id) and in_range(lead.created_at, since, until):
            deal = deals.get(lead.converted_deal_id)
            revenue[lead.source or "(none)"] += deal.amount if deal is not None and rows.kind(deal) == "won" else Decimal(0)
    return dict(revenue)


def sequence_deals(rows: Rows, enrollment_ids: set[Any]) -> set[Any]:
    """Deals created at a recipient's account (or with the recipient as a contact) no
    earlier than one of the sequence's e-mails to them and at most 30 days after it."""
    sent = [m for m in rows.messages if m.enrollment_id in enrollment_ids and m.status == "sent" and m.direction == "outbound"]
    contacts_of: dict[Any, set[Any]] = defaultdict(set)
    for deal_id, contact_id in rows.deal_contacts:
        contacts_of[deal_id].add(contact_id)
    found = set()
    for deal in rows.visible_deals():
        for message in sent:
            at_account = deal.account_id is not None and deal.account_id == message.account_id
            if (at_account or message.contact_id in contacts_of[deal.id]) and message.sent_at <= deal.created_at <= message.sent_at + WINDOW:
                found.add(deal.id)
    return found


def year_range() -> tuple[datetime, datetime]:
    today = datetime.now(UTC).date()
    start = today - timedelta(days=365)
    since = datetime(start.year, start.month, start.day, tzinfo=UTC)
    return since, datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
