"""Per-day (and per-month) sums of deals, activities and leads that the reports read instead
of a million records (analytics/rollups.py keeps them; docs/reports.md "Speed at scale").

Database triggers (migrations 0044–0046) note every day whose sums a write may change in
``report_stale_day``; a report adds up the stored sums of the other days and computes the
noted days from the records themselves, so it is exact at every moment. ``refresh`` then
recomputes the noted days and clears the notes."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK

# The source of the sums over every deal; the other rows count the deals whose converted
# leads have that source (a deal with leads from two sources is in both).
EVERY_SOURCE = ""


class ReportDealDay(Base):
    """Deals created (``basis`` created) or closed (``basis`` closed) on ``day`` (UTC), or
    expected to close then (``basis`` due: their close date), by what reports filter and
    group on."""

    __tablename__ = "report_deal_day"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    basis: Mapped[str] = mapped_column(String(7))  # created | closed | due
    grain: Mapped[str] = mapped_column(String(5), default="day")  # day | month (``day`` is then its 1st)
    day: Mapped[date]
    pipeline_id: Mapped[uuid.UUID]
    owner_id: Mapped[uuid.UUID | None]
    stage_id: Mapped[uuid.UUID]
    # The position of the furthest open stage the deal's history shows (0: none); created only.
    furthest: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(60), default=EVERY_SOURCE)
    deals: Mapped[int]
    amount: Mapped[Decimal | None]
    # Days from creation to close, summed (closed only).
    cycle_days: Mapped[float] = mapped_column(default=0.0)
    # The deals' creation (created) or closing (closed) moments as days since 1970, summed:
    # the automation report's open deal-days come from them.
    moment_days: Mapped[float] = mapped_column(default=0.0)

    __table_args__ = (Index("ix_report_deal_day_basis_day", "basis", "source", "grain", "day"),)


class ReportStaleDay(Base):
    """A day whose sums a write changed since they were computed; no day: every day."""

    __tablename__ = "report_stale_day"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    day: Mapped[date | None] = mapped_column(index=True)


class ReportDurationDay(Base):
    """How many stays in a stage ended (``kind`` stay), or deals closed (``kind`` cycle,
    the stage is the closing one), on ``day`` (UTC) with a length in ``bucket``: a
    histogram from which the time-in-stage report takes its percentiles over many rows.
    ``every_owner`` rows add up all owners (owner_id empty); the others are per owner."""

    __tablename__ = "report_duration_day"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(5))
    grain: Mapped[str] = mapped_column(String(5), default="day")  # day | month (``day`` is then its 1st)
    day: Mapped[date]
    stage_id: Mapped[uuid.UUID]
    pipeline_id: Mapped[uuid.UUID]
    owner_id: Mapped[uuid.UUID | None]
    every_owner: Mapped[bool]
    source: Mapped[str] = mapped_column(String(60), default=EVERY_SOURCE)
    bucket: Mapped[int]
    count: Mapped[int]

    # The owner before the day: a rep's rows are a few owners' ranges, not every owner's days.
    __table_args__ = (Index("ix_report_duration_day_kind_day", "kind", "every_owner", "source", "grain", "owner_id", "day"),)


class ReportActivityDay(Base):
    """Activities of one ``type`` that happened on ``day`` (UTC), per the person who logged
    them and the pipeline, owner and outcome (``kind`` of its stage; empty: no deal) of the
    deal they were logged on, with that deal's keys (``analytics/activity_sums.py``) so that a
    range counts each deal once. ``every_owner`` rows add up all people (both owners empty)."""

    __tablename__ = "report_activity_day"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    grain: Mapped[str] = mapped_column(String(5), default="day")  # day | month (``day`` is then its 1st)
    day: Mapped[date]
    every_owner: Mapped[bool]
    owner_id: Mapped[uuid.UUID | None]
    deal_owner_id: Mapped[uuid.UUID | None]
    pipeline_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(4), default="")
    type: Mapped[str] = mapped_column(String(20))
    activities: Mapped[int]
    deal_keys: Mapped[bytes] = mapped_column(LargeBinary, default=b"")

    __table_args__ = (Index("ix_report_activity_day_day", "every_owner", "grain", "owner_id", "day"),)


class ReportLeadDay(Base):
    """Leads created on ``day`` (UTC) by owner and first touch (source and UTM fields), with
    what the deals they converted into are worth now, per that deal's owner and pipeline."""

    __tablename__ = "report_lead_day"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    grain: Mapped[str] = mapped_column(String(5), default="day")  # day | month (``day`` is then its 1st)
    day: Mapped[date]
    owner_id: Mapped[uuid.UUID | None]
    source: Mapped[str | None] = mapped_column(String(60))
    utm_source: Mapped[str | None] = mapped_column(Text)
    utm_campaign: Mapped[str | None] = mapped_column(Text)
    deal_owner_id: Mapped[uuid.UUID | None]
    pipeline_id: Mapped[uuid.UUID | None]
    leads: Mapped[int]
    deals: Mapped[int]  # leads converted into a deal
    open_amount: Mapped[Decimal | None]
    won_deals: Mapped[int]  # of those, deals won with an amount
    won_amount: Mapped[Decimal | None]

    __table_args__ = (Index("ix_report_lead_day_day", "grain", "day"),)
