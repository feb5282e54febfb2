"""A deal's forecast calls on its timeline: who put it in which category, and why."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.forecasting import categories
from pipewise.forecasting.models import ForecastOverride
from pipewise.records.timeline import TimelineEntry


def forecast_calls(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    if record_type != "deal":
        return []
    calls = session.scalars(select(ForecastOverride).where(ForecastOverride.deal_id == record_id)
                            .order_by(ForecastOverride.id.desc()).limit(100))
    return [TimelineEntry(kind="forecast", at=call.at, actor_id=call.actor_id,
                          title=f"Forecast category: {categories.label(call.previous)} → {categories.label(call.category)}"
                                f" ({call.level}'s call)",
                          detail=call.reason,
                          data={"level": call.level, "category": call.category, "previous": call.previous})
            for call in calls]
