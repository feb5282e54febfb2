import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey, utcnow


class AssignmentRule(UUIDPrimaryKey, Timestamps, Base):
    """Rules run in ``position`` order; the first whose conditions match assigns the lead."""

    __tablename__ = "assignment_rule"

    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    # A tree in the filter language over lead fields; empty matches every lead.
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    target_type: Mapped[str] = mapped_column(String(10))  # user | team | queue
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    queue: Mapped[str | None] = mapped_column(String(60))
    # Give a lead that matches an account to the account's owner before this rule's target.
    prefer_account_owner: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)


class RoutingPolicy(Timestamps, Base):
    """Response-time SLA and working hours; one row (id 1)."""

    __tablename__ = "routing_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_minutes: Mapped[int | None] = mapped_column(default=None)
    work_start: Mapped[str] = mapped_column(String(5), default="09:00")
    work_end: Mapped[str] = mapped_column(String(5), default="17:00")
    workdays: Mapped[list[Any]] = mapped_column(default=lambda: [0, 1, 2, 3, 4])
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    reassign_on_breach: Mapped[bool] = mapped_column(default=True)


class RoundRobinSlot(Base):
    """How many leads a team member has been given by round-robin, for capacity weighting."""

    __tablename__ = "round_robin_slot"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    assigned_count: Mapped[int] = mapped_column(default=0)
    last_assigned_at: Mapped[datetime | None]


class LeadAssignment(Base):
    """Every time a lead gets an owner or a queue, with the rule that did it and its SLA."""

    __tablename__ = "lead_assignment"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    queue: Mapped[str | None] = mapped_column(String(60))
    rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assignment_rule.id", ondelete="SET NULL"))
    rule_name: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(300))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    sla_due_at: Mapped[datetime | None]
    first_touch_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | touched | breached | replaced

    __table_args__ = (Index("ix_lead_assignment_lead", "lead_id", "assigned_at"),)
