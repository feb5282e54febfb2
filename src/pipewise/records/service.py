"""The generic record service: create / read / update / delete for any record type,
with visibility, reference checks, custom-field validation, field history and events.
Domain services subclass it and add their own rules in ``prepare``."""

import uuid
from collections.abc import Collection, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor, can_reach_owner
from pipewise.db.base import uuid7
from pipewise.db.process_cache import ProcessCache
from pipewise.db.session import add_later, cached_lookup
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied, PreconditionFailed
from pipewise.events.base import RecordEvent
from pipewise.records import bounds, custom_fields
from pipewise.records.history import record_change
from pipewise.records.registry import RecordSpec, spec_for
from pipewise.records.repository import ListQuery, Page, RecordRepository

M = TypeVar("M")


def apply_changes(record: Any, data: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``data`` on ``record``; return the fields that really changed, as [old, new]."""
    changes: dict[str, list[Any]] = {}
    for key, value in data.items():
        old = getattr(record, key)
        if old != value:
            changes[key] = [old, value]
            setattr(record, key, value)
    return changes


# Whether a user is active, read on every write that sets an owner; a deactivation made in
# another process applies to new assignments within the cache's few seconds.
_active_users: ProcessCache[uuid.UUID | None] = ProcessCache("active users", models=(User,))


def _active_user(session: Session, user_id: uuid.UUID) -> uuid.UUID | None:
    return _active_users.get(
        session, user_id, lambda: session.scalar(select(User.id).where(User.id == user_id, User.is_active.is_(True)))
    )


def note_active_user(session: Session, user_id: uuid.UUID) -> None:
    """The caller has just seen ``user_id`` active (e.g. its API token resolved): owner
    checks in this transaction need not ask again."""
    cached_lookup(session, User, user_id, lambda: user_id)


def check_version(record: Any, expected: int | Collection[int] | None) -> None:
    """Refuse the write unless the record is at the ``expected`` version (one of them)."""
    if expected is None or not hasattr(record, "version"):
        return
    allowed = {expected} if isinstance(expected, int) else set(expected)
    if record.version not in allowed:
        raise PreconditionFailed(
            f"the {type(record).__name__.lower()} is at version {record.version}; someone changed it since "
            "you read it: read it again and reapply your change"
        )


def assignable_users(actor: Actor) -> ColumnElement[bool] | None:
    """Whom ``actor`` may make an owner or assignee: themselves and the members of the teams
    they act for (a rep's team; a manager's own and managed teams); admins anyone. None: anyone."""
    if actor.is_admin:
        return None
    return or_(User.id == actor.id, User.team_id.in_(actor.team_ids)) if actor.team_ids else User.id == actor.id


def check_assignable(session: Session, owner_id: uuid.UUID | None, actor: Actor, errors: ErrorCollector) -> None:
    if owner_id is None or actor.is_admin or owner_id == actor.id:
        return
    if not can_reach_owner(session, owner_id, actor, write=True):
        errors.add("owner_id", "you may assign only to yourself or to members of the teams you work for")


class RecordService(Generic[M]):
    record_type: str = ""

    def __init__(self, record_type: str | None = None) -> None:
        if record_type:
            self.record_type = record_type

    @property
    def spec(self) -> RecordSpec:
        # Looked up when used: services are built at import, before the domains register.
        return spec_for(self.record_type)

    def repository(self, session: Session) -> RecordRepository[M]:
        return RecordRepository.from_session(session, self.spec)

    # -- reads --

    def get(
        self, session: Session, record_id: uuid.UUID, *, actor: Actor, write: bool = False,
        expected_version: int | Collection[int] | None = None,
    ) -> M:
        """A visible record. ``write``: locked until commit, so that a partial update merges
        into the current row, and checked against ``expected_version`` (a client's If-Match)."""
        record = self.repository(session).get(record_id, actor, lock=write)
        if record is None:
            raise NotFound(f"no {self.spec.name} with id {record_id}")
        if write:
            self.check_writable(session, record, actor=actor)
            check_version(record, expected_version)
        return record

    def list(self, session: Session, *, actor: Actor, query: ListQuery) -> Page[M]:
        return self.repository(session).list(actor, query)

    # -- writes --

    def check_writable(self, session: Session, record: Any, *, actor: Actor) -> None:
        if self.spec.write_roles is not None and actor.role not in self.spec.write_roles:
            raise PermissionDenied(f"only {' or '.join(sorted(self.spec.write_roles))} users may change {self.spec.plural}")
        if self.spec.owned and not can_reach_owner(session, record.owner_id, actor, write=True):
            raise PermissionDenied(f"you may read this {self.spec.name} but not change it")

    def check_may_create(self, actor: Actor) -> None:
        """Whether ``actor``'s role may create records of this type at all."""
        if self.spec.write_roles is not None and actor.role not in self.spec.write_roles:
            raise PermissionDenied(f"only {' or '.join(sorted(self.spec.write_roles))} users may create {self.spec.plural}")

    def create(self, session: Session, *, data: dict[str, Any], actor: Actor) -> M:
        self.check_may_create(actor)
        data = dict(data)
        if self.spec.owned and "owner_id" not in data and actor is not SYSTEM_ACTOR:
            data["owner_id"] = actor.id
        data = self.prepare(session, data, actor=actor, record=None)
        record = add_later(session, self.spec.model, {"id": uuid7(), **data})
        changes = {k: [None, v] for k, v in data.items() if v not in (None, {}, [])}
        record_change(
            session, record_type=self.spec.name, record_id=record.id, action="created", changes=self._shown(changes),
            actor=actor,
        )
        self.after_create(session, record, actor=actor)
        return record

    def update(self, session: Session, record: M, *, data: dict[str, Any], actor: Actor) -> M:
        self.check_writable(session, record, actor=actor)
        data = self.prepare(session, dict(data), actor=actor, record=record)
        changes = apply_changes(record, data)
        if changes:
            shown = self._shown(changes)
            record_change(
                session, record_type=self.spec.name, record_id=record.id, action="updated", changes=shown, actor=actor,
                event=self.update_event(session, record, shown),
            )
            self.after_update(session, record, changes, actor=actor)
        return record

    def _shown(self, changes: dict[str, Any]) -> dict[str, Any]:
        """``changes`` as history, events and the audit trail keep them: a hidden field (a
        password hash) is named as changed, its values are not."""
        if not self.spec.hidden_fields.intersection(changes):
            return changes
        return {k: (["(hidden)", "(hidden)"] if k in self.spec.hidden_fields else v) for k, v in changes.items()}

    def delete_options(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Keyword arguments for ``delete`` read from a request's query (users: reassign_to)."""
        return {}

    def delete(self, session: Session, record: M, *, actor: Actor) -> None:
        self.check_writable(session, record, actor=actor)
        snapshot = {c.key: [getattr(record, c.key), None] for c in self.spec.model.__table__.columns}
        for hidden in self.spec.hidden_fields:
            snapshot.pop(hidden, None)
        record_id = record.id
        session.delete(record)
        session.flush()
        record_change(
            session, record_type=self.spec.name, record_id=record_id, action="deleted", changes=snapshot, actor=actor
        )

    # -- hooks for domain services --

    def prepare(self, session: Session, data: dict[str, Any], *, actor: Actor, record: M | None) -> dict[str, Any]:
        """Validate and normalise incoming values; raise ValidationFailed with every field error."""
        errors = ErrorCollector()
        bounds.screen(self.spec.model, data, creating=record is None, errors=errors)
        self.validate(session, data, actor=actor, record=record, errors=errors)
        bounds.check_lengths(self.spec.model, data, errors)
        if self.spec.has_custom_fields and ("custom" in data or record is None):
            data["custom"] = custom_fields.validate(
                session,
                self.spec.name,
                data.get("custom") or {},
                existing=getattr(record, "custom", None) if record is not None else None,
                errors=errors,
            )
        self.check_references(session, data, actor=actor, errors=errors)
        if self.spec.owned and "owner_id" in data and data["owner_id"] != getattr(record, "owner_id", None):
            check_assignable(session, data["owner_id"], actor, errors)
        errors.raise_if_any()
        return data

    def validate(
        self, session: Session, data: dict[str, Any], *, actor: Actor, record: M | None, errors: ErrorCollector
    ) -> None:
        """Field rules of one record type; add to ``errors`` and normalise ``data`` in place."""

    def check_references(self, session: Session, data: dict[str, Any], *, actor: Actor, errors: ErrorCollector) -> None:
        for _relation, (fk_column, target) in self.spec.relations.items():
            target_id = data.get(fk_column)
            if target_id is None:
                continue
            target_spec = spec_for(target)
            if target == "user":
                found = cached_lookup(session, User, target_id, lambda: _active_user(session, target_id))
            else:
                found = RecordRepository(session, target_spec).get(target_id, actor)
            if found is None:
                errors.add(fk_column, f"no {target_spec.name} with id {target_id}")

    def after_create(self, session: Session, record: M, *, actor: Actor) -> None:
        pass

    def after_update(self, session: Session, record: M, changes: dict[str, Any], *, actor: Actor) -> None:
        pass

    def update_event(self, session: Session, record: M, changes: dict[str, Any]) -> RecordEvent | None:
        """The one event this update records when it is a more specific fact than
        ``<type>.updated`` (a subclass of it, e.g. a deal's stage change); None: the generic one."""
        return None
