"""Expressions that differ between SQLite and PostgreSQL, and the look-ups reports share."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Float, cast, extract, func, select
from sqlalchemy.orm import Session

from pipewise.auth.models import Team, User
from pipewise.deals.models import Pipeline, Stage
from pipewise.leads.models import Lead


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def days_expr(session: Session, start: Any, end: Any) -> Any:
    """Days from ``start`` to ``end`` as a float, computed by the database."""
    if is_postgres(session):
        return extract("epoch", end - start) / 86400.0
    return cast(func.julianday(end) - func.julianday(start), Float)


def epoch_days(session: Session, moment: Any) -> Any:
    """Days since 1970-01-01 00:00 UTC as a float, computed by the database."""
    if is_postgres(session):
        return extract("epoch", moment) / 86400.0
    return cast(func.julianday(moment) - 2440587.5, Float)


def by_every_form(ids: Iterable[uuid.UUID]) -> dict[Any, uuid.UUID]:
    """Ids by every form a database returns them in when a column is read untyped (as the
    UUID, its hex digits or its text), to look up what came back raw."""
    return {form: value for value in ids for form in (value, value.hex, str(value))}


def user_names(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID | None, str]:
    wanted = [i for i in ids if i is not None]
    names: dict[uuid.UUID | None, str] = {None: "Unassigned"}
    if wanted:
        names.update(session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())
    return names


def stages(session: Session, pipeline_id: uuid.UUID | None = None) -> list[Stage]:
    stmt = select(Stage).order_by(Stage.pipeline_id, Stage.position)
    if pipeline_id is not None:
        stmt = stmt.where(Stage.pipeline_id == pipeline_id)
    return list(session.scalars(stmt))


def pipeline_names(session: Session) -> dict[uuid.UUID, str]:
    return dict(session.execute(select(Pipeline.id, Pipeline.name)).all())


def funnel_pipeline(session: Session, pipeline_id: uuid.UUID | None) -> uuid.UUID | None:
    """The pipeline a funnel walks: the chosen one, else the default, else the first."""
    if pipeline_id is not None:
        return pipeline_id
    return session.scalar(select(Pipeline.id).order_by(Pipeline.is_default.desc(), Pipeline.created_at).limit(1))


def greatest(session: Session, *values: Any) -> Any:
    return (func.greatest if is_postgres(session) else func.max)(*values)


def least(session: Session, *values: Any) -> Any:
    return (func.least if is_postgres(session) else func.min)(*values)


def filter_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """(value, label) pairs for the filter form: pipelines, teams, people, lead sources."""
    return {
        "pipelines": [(str(i), n) for i, n in session.execute(select(Pipeline.id, Pipeline.name).order_by(Pipeline.name))],
        "teams": [(str(i), n) for i, n in session.execute(select(Team.id, Team.name).order_by(Team.name))],
        "owners": [(str(i), n) for i, n in session.execute(select(User.id, User.name).where(User.is_active.is_(True)).order_by(User.name))],
        "sources": [(s, s) for s in session.scalars(select(Lead.source).where(Lead.source.is_not(None)).distinct().order_by(Lead.source))],
    }
