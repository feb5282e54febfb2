"""The scoring configuration as scoring reads it, cached per process.

Each transaction that scores asks the database only for the configuration's version — the
configuration row's ``updated_at`` and the active model's id, in one single-row statement
— and reads the configuration again when that changed; otherwise it uses the process's
copy (the rules parsed, their SQL compiled once). A change is so seen by the next
transaction in this process and in every other; the transaction that makes it reads its
own change (``changed``)."""

import json
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.db.session import cached_lookup
from pipewise.db.unit_of_work import unit_of_work
from pipewise.scoring import rules
from pipewise.scoring.models import ScoringConfig, ScoringModel

CONFIG_ID = 1
DEFAULTS: dict[str, Any] = {
    "fit_rules": rules.DEFAULT_FIT_RULES,
    "engagement_points": rules.DEFAULT_ENGAGEMENT_POINTS,
    "half_life_days": 14.0,
    "mql_threshold": 60,
    "predictive_weight": 0.0,
}


def config(session: Session) -> ScoringConfig:
    # Held for the transaction: the session keeps loaded rows only while someone refers to
    # them, and a capture asks for the configuration several times.
    return cached_lookup(session, ScoringConfig, CONFIG_ID, lambda: _load_config(session))


def _load_config(session: Session) -> ScoringConfig:
    row = session.get(ScoringConfig, CONFIG_ID)
    if row is None:
        row = ScoringConfig(id=CONFIG_ID, **{**DEFAULTS, "engagement_points": dict(rules.DEFAULT_ENGAGEMENT_POINTS)})
        session.add(row)
        session.flush()
    return row


@dataclass(frozen=True)
class Setup:
    """The configuration as scoring reads it, with the active predictive model's id;
    shared by the transactions of a process until its ``version`` changes."""

    fit_rules: list[dict[str, Any]]
    engagement_points: dict[str, int]
    half_life_days: float
    mql_threshold: int
    predictive_weight: float
    model_id: uuid.UUID | None
    version: tuple[Any, ...] = ()

    @cached_property
    def rules_key(self) -> str:
        """The fit rules as JSON: the name of their compiled SQL (``rules.fit_scores``)."""
        return json.dumps(self.fit_rules, sort_keys=True)


# By database: the last setup read, checked against the version once per transaction.
_setups: dict[str, Setup] = {}


def _version_statement() -> Any:
    updated = select(ScoringConfig.updated_at).where(ScoringConfig.id == CONFIG_ID).scalar_subquery()
    model = select(ScoringModel.id).where(ScoringModel.is_active.is_(True)).limit(1).scalar_subquery()
    return select(updated, model)


def current(session: Session) -> Setup:
    """The scoring configuration for this transaction: the process's copy while its version
    is the database's, else read again. A change made in this transaction is read from it."""
    work = unit_of_work(session).state(_SetupWork)
    if work.setup is not None:
        return work.setup
    if work.config_changed:
        row = config(session)
        found = _setup_of(row, _active_model(session))
    else:
        version = tuple(session.execute(_version_statement()).one())
        database = str(session.get_bind().url)
        found = _setups.get(database)  # type: ignore[assignment]
        if found is None or found.version != version:
            row = session.get(ScoringConfig, CONFIG_ID)
            found = _setup_of(row, version[1], version)
            _setups[database] = found
    work.setup = found
    return found


def _setup_of(row: ScoringConfig | None, model_id: uuid.UUID | None, version: tuple[Any, ...] = ()) -> Setup:
    values = DEFAULTS if row is None else {name: getattr(row, name) for name in DEFAULTS}
    return Setup(
        fit_rules=list(values["fit_rules"]), engagement_points=dict(values["engagement_points"]),
        half_life_days=float(values["half_life_days"]), mql_threshold=int(values["mql_threshold"]),
        predictive_weight=float(values["predictive_weight"]), model_id=model_id, version=version,
    )


def _active_model(session: Session) -> uuid.UUID | None:
    return session.scalar(select(ScoringModel.id).where(ScoringModel.is_active.is_(True)).limit(1))


def changed(session: Session) -> None:
    """The configuration or the active model changed in this transaction: read them from it
    until it ends (the version check then tells every process)."""
    work = unit_of_work(session).state(_SetupWork)
    work.config_changed, work.setup = True, None


@dataclass
class _SetupWork:
    """The configuration a transaction reads, and whether it changed it."""

    setup: Setup | None = None
    config_changed: bool = False
