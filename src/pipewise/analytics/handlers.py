"""What reports do when deals (leads, activities) change: within a minute the worker computes the changed
days' sums again (analytics/rollups.py), so reports read stored sums, not the deals."""

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from pipewise.analytics import rollups
from pipewise.analytics.days import stale_days
from pipewise.db.base import utcnow
from pipewise.crm.events import ActivityCreated
from pipewise.deals.events import DealCreated, DealDeleted, DealUpdated
from pipewise.events import bus
from pipewise.leads.events import LeadConverted, LeadCreated, LeadUpdated

REFRESH_ACTION = "reports.refresh_sums"
# Changed days computed again in one worker transaction (on SQLite it holds the write lock).
DAYS_A_REFRESH = 5


def refresh_soon(session: Session, event: bus.Event) -> None:
    """One refresh timer per minute, whatever the number of changes in it."""
    run_at = (utcnow() + timedelta(minutes=1)).replace(second=0, microsecond=0)
    bus.schedule(session, key=f"{REFRESH_ACTION}:{run_at.isoformat(timespec='minutes')}", kind=REFRESH_ACTION, run_at=run_at)


def refresh(session: Session, action: Any) -> None:
    """A few days per transaction; the next few right after, until none is left."""
    rollups.refresh(session, most=DAYS_A_REFRESH)
    if stale_days(session):
        now = utcnow()
        bus.schedule(session, key=f"{REFRESH_ACTION}:{now.isoformat()}", kind=REFRESH_ACTION, run_at=now)


TABLE = bus.HandlerTable(
    subscriptions=(bus.Subscription.to((DealCreated, DealUpdated, DealDeleted, LeadCreated, LeadUpdated, LeadConverted,
                                        ActivityCreated), "reports.refresh_sums", refresh_soon,
                                       rerun_safe=True),),
    timers={REFRESH_ACTION: bus.ActionKind(refresh, rerun_safe=True)},
)
