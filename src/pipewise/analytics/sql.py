"""Expressions that differ between SQLite and PostgreSQL, and the look-ups reports share."""

import json
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, Float, String, Text, Uuid, cast, extract, func, literal, select, text, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import Session

from pipewise.auth.models import Team, User
from pipewise.deals.models import Pipeline, Stage
from pipewise.leads.models import Lead


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def plan_for_the_values(session: Session) -> None:
    """On PostgreSQL, plan each of the transaction's statements for the values it runs with:
    a report's best plan depends on its range and id lists, and the generic plan a prepared
    statement switches to after five runs read the per-day sums ten times slower."""
    if is_postgres(session):
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


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


class raw_id(FunctionElement[str]):  # noqa: N801 (used as a function)
    """An id column read as text (hex digits from SQLite, the UUID's text from PostgreSQL),
    for ids that are only compared with each other: making a UUID of each, and hashing it
    in Python, took a third of a large report's time."""

    type = String()
    inherit_cache = True


@compiles(raw_id)
def _raw_id_as_stored(element: raw_id, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(raw_id, "postgresql")
def _raw_id_as_text(element: raw_id, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


def hex_text(session: Session, column: Any) -> Any:
    """An id column as its 32 hex digits (as ``uuid.UUID.hex``), computed by the database."""
    if is_postgres(session):
        return func.replace(cast(column, Text), "-", "")
    return type_coerce(column, String)


def among(session: Session, column: Any, ids: Iterable[Any]) -> Any:
    """``column IN ids`` for an id column, the ids (UUIDs, or as ``raw_id`` read them) sent
    as one text parameter: the statement is the same whatever their number (compiled once,
    no limit on parameters), and neither SQLAlchemy nor the driver converts them one by one
    (that cost more than the queries)."""
    if is_postgres(session):
        listed = "{" + ",".join(str(i) for i in ids) + "}"
        # As a subquery the text is made an array once: as a bare cast (a stable function of a
        # parameter) it was parsed again for every row a sequential scan tested.
        return column.in_(select(func.unnest(cast(literal(listed, String()), ARRAY(Uuid())))))
    listed = json.dumps([i.hex if isinstance(i, uuid.UUID) else i for i in ids])
    values = func.json_each(literal(listed, String())).table_valued("value")
    return column.in_(select(values.c.value))


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
