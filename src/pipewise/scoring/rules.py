"""Rule scores. Fit: conditions in the filter language over the lead (and its account),
each worth points. Engagement: points per thing the lead did, halved every
``half_life_days`` so that last quarter's clicks count for little today."""

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from pipewise.db.base import among
from pipewise.errors import ErrorCollector, ValidationFailed
from pipewise.records.filters import FilterCompiler
from pipewise.records.registry import spec_for
from pipewise.scoring.models import EngagementEvent

ENGAGEMENT_KINDS = {
    "email_open": "e-mail open",
    "email_click": "e-mail click",
    "email_reply": "e-mail reply",
    "form_fill": "form filled in",
    "page_visit": "page visit",
    "meeting": "meeting",
}
DEFAULT_ENGAGEMENT_POINTS = {
    "email_open": 1,
    "email_click": 4,
    "email_reply": 12,
    "form_fill": 10,
    "page_visit": 2,
    "meeting": 20,
}
SENIOR_TITLES = ["chief", "ceo", "cto", "cfo", "coo", "cmo", "cio", "founder", "owner", "president", "partner"]
DIRECTOR_TITLES = ["vp", "vice president", "head of", "director"]
DEFAULT_FIT_RULES: list[dict[str, Any]] = [
    {"label": "C-level or founder", "points": 25, "when": {"any": [{"field": "title", "op": "contains", "value": t} for t in SENIOR_TITLES]}},
    {"label": "VP, head or director", "points": 15, "when": {"any": [{"field": "title", "op": "contains", "value": t} for t in DIRECTOR_TITLES]}},
    {"label": "Manager", "points": 8, "when": {"field": "title", "op": "contains", "value": "manager"}},
    {"label": "Student or intern", "points": -15, "when": {"any": [{"field": "title", "op": "contains", "value": t} for t in ("student", "intern")]}},
    {"label": "Company of 50–5,000 people", "points": 15, "when": {"all": [{"field": "company_size", "op": "gte", "value": 50}, {"field": "company_size", "op": "lte", "value": 5000}]}},
    {"label": "Company e-mail domain", "points": 5, "when": {"field": "domain", "op": "is_not_empty"}},
    {"label": "Already a known account", "points": 10, "when": {"field": "account_id", "op": "is_not_empty"}},
]
MAX_ENGAGEMENT = 60


@dataclass(frozen=True)
class Reason:
    text: str
    points: int

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "points": self.points}


def check_rules(rules: Any, errors: ErrorCollector) -> list[dict[str, Any]]:
    """Validate fit rules (each compiled once against the lead schema)."""
    if not isinstance(rules, list):
        errors.add("fit_rules", "must be a list of {label, points, when}")
        return []
    compiler = FilterCompiler(None, spec_for("lead"))
    cleaned = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not str(rule.get("label", "")).strip():
            errors.add(f"fit_rules[{i}].label", "is required")
            continue
        if not isinstance(rule.get("points"), int) or isinstance(rule.get("points"), bool) or abs(rule["points"]) > 100:
            errors.add(f"fit_rules[{i}].points", "must be a whole number between -100 and 100")
            continue
        try:
            compiler.compile(rule.get("when") or {"all": []})
        except ValidationFailed as exc:
            for e in exc.errors:
                errors.add(f"fit_rules[{i}].when.{e.field}", e.message)
            continue
        cleaned.append({"label": str(rule["label"]).strip(), "points": rule["points"], "when": rule.get("when") or {"all": []}})
    return cleaned


def fit_scores(
    session: Session, lead_ids: list[uuid.UUID], rules: list[dict[str, Any]], *, key: str | None = None
) -> dict[uuid.UUID, tuple[int, list[Reason]]]:
    """Fit score and the rules behind it, for many leads in one query. The rules are filters
    over the ``lead`` record type, so the query goes to the table registered for it; ``key``
    is the rules as sorted JSON, when the caller has it."""
    if not rules or not lead_ids:
        return {i: (0, []) for i in lead_ids}
    flags = _compiled(session, key or json.dumps(rules, sort_keys=True))
    lead = spec_for("lead").model
    out: dict[uuid.UUID, tuple[int, list[Reason]]] = {}
    for row in session.execute(select(lead.id, *flags).where(among(session, lead.id, lead_ids))):  # type: ignore[attr-defined]
        reasons = [Reason(rule["label"], rule["points"]) for rule, hit in zip(rules, row[1:], strict=True) if hit]
        out[row[0]] = (sum(r.points for r in reasons), reasons)
    return out


_compiled_rules: dict[str, list[Any]] = {}


def _compiled(session: Session, key: str) -> list[Any]:
    """Each distinct rule set is compiled to SQL once per process (scoring runs on every
    form post; compiling the filter trees each time would cost more than the query)."""
    if key not in _compiled_rules:
        compiler = FilterCompiler(session, spec_for("lead"))
        if len(_compiled_rules) > 16:
            _compiled_rules.clear()
        _compiled_rules[key] = [case((compiler.compile(rule["when"]), 1), else_=0) for rule in json.loads(key)]
    return _compiled_rules[key]


def decay(age_days: float, half_life_days: float) -> float:
    return 0.5 ** (max(age_days, 0.0) / half_life_days) if half_life_days > 0 else 1.0


def engagement_scores(
    session: Session, lead_ids: list[uuid.UUID], points: dict[str, int], half_life_days: float, now: datetime
) -> dict[uuid.UUID, tuple[int, list[Reason]]]:
    """Decayed engagement points per lead, with one reason per kind of engagement."""
    totals: dict[uuid.UUID, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    if lead_ids:
        rows = session.execute(
            select(EngagementEvent.lead_id, EngagementEvent.kind, EngagementEvent.occurred_at).where(
                among(session, EngagementEvent.lead_id, lead_ids)
            )
        )
        for lead_id, kind, occurred_at in rows:
            age = (now - occurred_at).total_seconds() / 86400
            totals[lead_id][kind].append(points.get(kind, 0) * decay(age, half_life_days))
    out = {}
    for lead_id in lead_ids:
        reasons = []
        for kind, values in totals.get(lead_id, {}).items():
            value = round(sum(values))
            if value:
                label = ENGAGEMENT_KINDS.get(kind, kind.replace("_", " "))
                count = len(values)
                reasons.append(Reason(f"{count} × {label}{'s' if count > 1 and not label.endswith('in') else ''} (recent ones count most)", value))
        total = min(sum(r.points for r in reasons), MAX_ENGAGEMENT)
        out[lead_id] = (total, sorted(reasons, key=lambda r: -abs(r.points)))
    return out


def combine(fit: int, engagement: int, probability: float | None, predictive_weight: float) -> int:
    rule_score = max(0, min(100, fit + engagement))
    if probability is None or predictive_weight <= 0:
        return rule_score
    return int(round((1 - predictive_weight) * rule_score + predictive_weight * probability * 100))

