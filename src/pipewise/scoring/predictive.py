"""Predictive lead scoring (filled in by the model module)."""

import uuid
from typing import Any

from sqlalchemy.orm import Session


def predict_leads(session: Session, leads: list[Any]) -> dict[uuid.UUID, tuple[float | None, list[dict[str, Any]]]]:
    return {}
