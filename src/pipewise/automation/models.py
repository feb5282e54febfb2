"""Automation tables: workflows and their immutable versions, enrollments, the decisions
the engine explains, the external effects it has attempted, manual overrides, and the
small pieces of state steps need (tags, round-robin positions)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey, utcnow

WORKFLOW_STATES = ("draft", "active", "paused", "archived")
# running: the next step is scheduled; waiting: a wait step holds it; the rest are final
# except paused (a person stopped it) and failed (dead-letter: a person may retry it).
# held_out: the record would have enrolled and is in the workflow's holdout group (runs/holdout.py).
ENROLLMENT_STATES = ("running", "waiting", "paused", "completed", "exited", "cancelled", "failed", "held_out")
OPEN_ENROLLMENT_STATES = ("running", "waiting", "paused", "failed")


class Workflow(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "workflow"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    record_type: Mapped[str] = mapped_column(String(20))
    # The event name the live version's trigger listens to ("deal.updated", "tick" for
    # time-based triggers); lets the engine find candidate workflows with one indexed query.
    trigger_event: Mapped[str | None] = mapped_column(String(80))
    # Plain ids rather than foreign keys: versions already point at their workflow, and a
    # cycle of foreign keys would make the two tables impossible to empty or drop in order.
    live_version_id: Mapped[uuid.UUID | None]
    latest_version: Mapped[int] = mapped_column(default=1)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    # Set when an activation waits for a manager: the version that would go live.
    pending_version_id: Mapped[uuid.UUID | None]
    created_by: Mapped[uuid.UUID | None]
    # The percentage of records that would enroll held out to measure the effect (runs/holdout.py).
    holdout_percent: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    __table_args__ = (Index("ix_workflow_trigger", "status", "trigger_event"),)


class WorkflowVersion(UUIDPrimaryKey, Base):
    """A snapshot of the workflow's definition. Once published it never changes: running
    enrollments keep pointing at the version they started on."""

    __tablename__ = "workflow_version"

    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    definition: Mapped[dict[str, Any]]
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None]
    approved_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("workflow_id", "number"),)


class Enrollment(UUIDPrimaryKey, Base):
    __tablename__ = "workflow_enrollment"

    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_version.id", ondelete="CASCADE"))
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    # "" for the one enrollment a record may have; the trigger's occurrence (event id,
    # schedule slot) when re-enrollment is allowed.
    run_key: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(20), default="running")
    current_step: Mapped[str | None] = mapped_column(String(60))
    # How many times the current step has been tried (failures retry with backoff).
    attempt: Mapped[int] = mapped_column(default=0)
    # The scheduled action that moves this enrollment on next (pause cancels it).
    action_key: Mapped[str | None] = mapped_column(String(200))
    wait_until: Mapped[datetime | None]
    # A wait-for-event step: the event pattern (and data) that releases it.
    wait_event: Mapped[dict[str, Any] | None]
    armed_goals: Mapped[list[Any]] = mapped_column(default=list)
    test_mode: Mapped[bool] = mapped_column(default=False)
    tester_id: Mapped[uuid.UUID | None]
    trigger_event_id: Mapped[int | None]
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("workflow_id", "record_type", "record_id", "run_key", name="uq_workflow_enrollment_once"),
        Index("ix_workflow_enrollment_record", "record_id", "status"),
        Index("ix_workflow_enrollment_status", "workflow_id", "status"),
    )


class Decision(Base):
    """One explained decision: enrolled, not enrolled (and why), waited, acted, skipped,
    exited on goal, failed. Shown on the record's timeline and in the run history."""

    __tablename__ = "automation_decision"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow.id", ondelete="CASCADE"))
    version_number: Mapped[int]
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_enrollment.id", ondelete="CASCADE"))
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(30))
    step_id: Mapped[str | None] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    test_mode: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_automation_decision_record", "record_type", "record_id", "at"),
        Index("ix_automation_decision_workflow", "workflow_id", "id"),
        Index("ix_automation_decision_enrollment", "enrollment_id", "id"),
    )


class Effect(Base):
    """An external effect (webhook call, e-mail) keyed by the step's idempotency key.
    Written before the effect is attempted and again with its outcome, so a retry knows
    it is a retry and a finished effect is never repeated."""

    __tablename__ = "automation_effect"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="attempted")  # attempted | succeeded | failed
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Override(Base):
    """A person's manual intervention: approve, pause, resume, cancel, retry; who and why."""

    __tablename__ = "automation_override"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow.id", ondelete="CASCADE"), index=True)
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_enrollment.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordTag(Base):
    __tablename__ = "record_tag"

    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_record_tag_tag", "tag"),)


class RoundRobinPosition(Base):
    """Where round-robin assignment within a team stands, per workflow step."""

    __tablename__ = "automation_round_robin"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
