"""Forecast tables: category overrides (append-only: the latest per deal and level is the
call), quotas per user, team or the company and period, and weekly snapshots of every
deal's forecast so that past forecasts can be compared with what happened."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey, utcnow


class ForecastOverride(Base):
    """A rep's or a manager's call on a deal's category, with who, when and why. Rows are
    never changed or deleted (except with their deal): a new call is a new row."""

    __tablename__ = "forecast_override"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(10))  # rep | manager
    category: Mapped[str] = mapped_column(String(12))
    previous: Mapped[str] = mapped_column(String(12))  # the category it replaced
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_forecast_override_deal_level", "deal_id", "level", "id"),)


class Quota(UUIDPrimaryKey, Timestamps, Base):
    """The target of one user, one team or the whole company (``scope``: ``user:<id>``,
    ``team:<id>`` or ``company``) for one month or quarter."""

    __tablename__ = "forecast_quota"

    period: Mapped[str] = mapped_column(String(7))  # 2026-12 | 2026-Q4
    period_start: Mapped[date]
    period_end: Mapped[date]
    scope: Mapped[str] = mapped_column(String(45))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    set_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (UniqueConstraint("period", "scope"),)


class ForecastSnapshot(UUIDPrimaryKey, Base):
    """The forecast as it stood at one moment (every Monday, or by hand)."""

    __tablename__ = "forecast_snapshot"

    taken_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(10), default="weekly")  # weekly | manual
    # The Monday of a weekly snapshot: one per week, whatever retries the timer has.
    week: Mapped[date | None] = mapped_column(unique=True)


class ForecastSnapshotLine(Base):
    """One deal in a snapshot. The deal id is kept without a foreign key so that the past
    stays as it was when a deal is deleted; its owner decides who sees the line."""

    __tablename__ = "forecast_snapshot_line"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("forecast_snapshot.id", ondelete="CASCADE"))
    deal_id: Mapped[uuid.UUID] = mapped_column(index=True)
    owner_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(200))
    stage_kind: Mapped[str] = mapped_column(String(10))  # open | won | lost
    stage_probability: Mapped[int]
    category: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3))
    close_date: Mapped[date | None]
    closed_on: Mapped[date | None]

    __table_args__ = (Index("ix_forecast_snapshot_line_snapshot_close", "snapshot_id", "close_date"),)
