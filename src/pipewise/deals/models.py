import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, LargestFirst, Timestamps, UUIDPrimaryKey, Versioned, utcnow
from pipewise.records.models import custom_fields, owner_fk
from pipewise.records.search_keys import search_indexes


class Pipeline(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "pipeline"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    # Deals with no activity for this many days are flagged stale.
    stale_after_days: Mapped[int] = mapped_column(default=14)


class Stage(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "stage"

    pipeline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pipeline.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int]
    probability: Mapped[int] = mapped_column(default=0)  # percent
    kind: Mapped[str] = mapped_column(String(10), default="open")  # open | won | lost
    # Deal fields (or custom.<key>) that must be filled before a deal may enter.
    required_fields: Mapped[list[Any]] = mapped_column(default=list)

    __table_args__ = (UniqueConstraint("pipeline_id", "name"),)


class Deal(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "deal"

    name: Mapped[str] = mapped_column(String(200))  # sorted and searched by lower(name)
    # pipeline_id, stage_id and owner_id are indexed as the first columns of the composite indexes below.
    pipeline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pipeline.id", ondelete="RESTRICT"))
    stage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stage.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    close_date: Mapped[date | None] = mapped_column(index=True)
    owner_id: Mapped[uuid.UUID | None] = owner_fk(index=False)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    next_step: Mapped[str | None] = mapped_column(String(300))
    lost_reason: Mapped[str | None] = mapped_column(Text)
    stage_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    custom: Mapped[dict[str, Any]] = custom_fields()
    # The amount is the sum of the deal's line items (kept so as they change).
    amount_from_lines: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_deal_stage_created", "stage_id", "created_at"),
        Index("ix_deal_owner_created", "owner_id", "created_at"),
        Index("ix_deal_pipeline_created", "pipeline_id", "created_at"),
        Index("ix_deal_stage_close", "stage_id", "close_date"),
        Index("ix_deal_owner_close", "owner_id", "close_date"),
        Index("ix_deal_closed_at", "closed_at"),  # the reports' days of deals closed
    )


Index("ix_deal_amount", LargestFirst(Deal.__table__.c.amount))  # a list sorted biggest first walks it
search_indexes(Deal, "name")


class DealContact(Base):
    __tablename__ = "deal_contact"

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str | None] = mapped_column(String(60))

    __table_args__ = (Index("ix_deal_contact_contact", "contact_id"),)


class DealStageChange(Base):
    """Stage history of a deal, for velocity and cycle-length analytics."""

    __tablename__ = "deal_stage_change"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"), index=True)
    from_stage_id: Mapped[uuid.UUID | None]
    to_stage_id: Mapped[uuid.UUID]
    actor_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)

    # Reports find the stays that ended in a range by when they ended, and each one's start.
    __table_args__ = (Index("ix_deal_stage_change_at", "at"), Index("ix_deal_stage_change_deal_at", "deal_id", "at"))
