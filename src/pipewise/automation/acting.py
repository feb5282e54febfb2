"""Whose rights a workflow acts with, and who may see, change and approve a workflow.

A workflow acts as its owner: the person who created it (``created_by``). Approving a
workflow does not change that; an admin's approval lets a rep's workflow run, with the
rep's rights. A workflow with no owner (made by the operator from the command line or
by the system) acts as the system. The engine enrolls only records the owner can see
(the rules of ``auth/visibility.py``), re-checks that before every step, and every step
writes through the services with the owner's actor; a deactivated owner's workflows do
not act at all.

People: a workflow is seen by whoever could see a record owned by its owner; it is
changed by its owner, a manager of the owner's team and admins; a manager approves only
workflows of their teams' people, and nobody but an admin approves their own."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor, can_reach_owner, owner_clause
from pipewise.automation.models import Workflow
from pipewise.automation.triggers import ENROLLABLE
from pipewise.config import get_settings
from pipewise.db.session import cached_lookup
from pipewise.errors import NotFound, PermissionDenied
from pipewise.records.registry import spec_for


@dataclass(frozen=True)
class Reach:
    """The record owners an actor may read and change, held in memory so that a batch
    checks many records without a query each (the rule of ``owner_clause``)."""

    actor: Actor
    owners: frozenset[uuid.UUID] | None  # None: every owner (an admin, the system)

    @classmethod
    def of(cls, session: Session, actor: Actor) -> "Reach":
        if actor.is_admin:
            return cls(actor, None)
        teammates = session.scalars(select(User.id).where(User.team_id.in_(actor.team_ids))) if actor.team_ids else []
        return cls(actor, frozenset({actor.id, *teammates}))

    def may_write(self, owner_id: uuid.UUID | None) -> bool:
        return self.owners is None or owner_id is None or owner_id in self.owners

    def may_read(self, owner_id: uuid.UUID | None) -> bool:
        return self.may_write(owner_id) or get_settings().open_read_access


@dataclass(frozen=True)
class Acting:
    """Who a workflow acts as: ``reach`` is None when it may not act (``refusal`` says why)."""

    label: str
    reach: Reach | None
    refusal: str | None = None

    @property
    def actor(self) -> Actor:
        assert self.reach is not None, self.refusal
        return self.reach.actor

    def refusal_for(self, record_type: str, owner_id: uuid.UUID | None) -> str | None:
        """Why the workflow may not act on a record owned by ``owner_id``; None if it may."""
        if self.reach is None:
            return self.refusal
        if not self.reach.may_read(owner_id):
            return f"the workflow acts as {self.label}, who cannot see this {record_type}"
        return None


def acting_for(session: Session, workflow: Workflow) -> Acting:
    """Who ``workflow`` acts as, looked up once per transaction (a worker's batch)."""
    owner_id = workflow.created_by
    if owner_id is None:
        return Acting("the system", Reach(SYSTEM_ACTOR, None))
    return cached_lookup(session, User, ("automation.acting", owner_id), lambda: _acting(session, owner_id))


def _acting(session: Session, owner_id: uuid.UUID) -> Acting:
    owner = session.get(User, owner_id)
    if owner is None:
        return Acting("a removed user", None, "the workflow's owner no longer exists, so it does not act")
    label = f"its owner {owner.name}"
    if not owner.is_active:
        return Acting(label, None, f"the workflow's owner {owner.name} is deactivated, so it does not act")
    return Acting(label, Reach.of(session, Actor.for_user(session, owner)))


def record_owner(record: Any) -> uuid.UUID | None:
    return getattr(record, "owner_id", None)


def visible_records(record_type: Any, record_id: Any, actor: Actor) -> ColumnElement[bool] | None:
    """A WHERE clause keeping rows (enrollments, decisions) about records ``actor`` may
    read; rows about records that no longer exist stay visible. None: every row."""
    parts = []
    for name in ENROLLABLE:
        model = spec_for(name).model
        clause = owner_clause(model.owner_id, actor, write=False)
        if clause is None:
            return None
        gone = ~exists(select(model.id).where(model.id == record_id))
        parts.append(and_(record_type == name, or_(record_id.in_(select(model.id).where(clause)), gone)))
    return or_(*parts) if parts else false()


# -- people and workflows ------------------------------------------------------------------


def _owner_team(session: Session, workflow: Workflow) -> uuid.UUID | None:
    return session.scalar(select(User.team_id).where(User.id == workflow.created_by))


def may_see(session: Session, workflow: Workflow, actor: Actor) -> bool:
    return can_reach_owner(session, workflow.created_by, actor, write=False)


def may_edit(session: Session, workflow: Workflow, actor: Actor) -> bool:
    if actor.is_admin:
        return True
    if workflow.created_by is None:
        return False
    if workflow.created_by == actor.id:
        return True
    return actor.is_manager and _owner_team(session, workflow) in actor.team_ids


def may_approve(session: Session, workflow: Workflow, actor: Actor) -> bool:
    if actor.is_admin:
        return True
    if not actor.is_manager or workflow.created_by in (None, actor.id):
        return False
    return _owner_team(session, workflow) in actor.team_ids


def check_visible(session: Session, workflow: Workflow | None, workflow_id: uuid.UUID, actor: Actor) -> Workflow:
    if workflow is None or not may_see(session, workflow, actor):
        raise NotFound(f"no workflow with id {workflow_id}")
    return workflow


def check_editable(session: Session, workflow: Workflow, actor: Actor) -> None:
    if not may_edit(session, workflow, actor):
        raise PermissionDenied("only the workflow's owner, a manager of the owner's team or an admin may change it")


def workflow_clause(actor: Actor) -> ColumnElement[bool] | None:
    """A WHERE clause keeping the workflows ``actor`` may see; None: all."""
    return owner_clause(Workflow.created_by, actor, write=False)


def acting_as(session: Session, actor: Actor) -> Acting:
    """A workflow not saved yet acts as the person about to save it."""
    return Acting(actor.name or actor.email or "you", Reach.of(session, actor))
