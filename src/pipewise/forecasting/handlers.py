"""What forecasting does when other things happen: a new deal makes sure the weekly
snapshot timer is set (the timer then sets itself for each next Monday)."""

from sqlalchemy.orm import Session

from pipewise.deals.events import DealCreated
from pipewise.events import bus
from pipewise.forecasting import snapshots


def keep_snapshots_running(session: Session, event: bus.Event) -> None:
    snapshots.schedule_next(session)


TABLE = bus.HandlerTable(
    subscriptions=(bus.Subscription.to(DealCreated, "forecast.snapshot_timer", keep_snapshots_running, rerun_safe=True),),
    timers={snapshots.SNAPSHOT_ACTION: bus.ActionKind(snapshots.run_weekly, rerun_safe=True)},
)
