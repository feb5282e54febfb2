"""Saved views: a named filter and sort of one record type's list, private to its owner or
shared with everyone. The filter is the one filter language, so a view opens a list page,
filters an API list (``?view=<id>``) and becomes a workflow's enrollment condition."""

import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pipewise.auth.visibility import Actor
from pipewise.db.base import Base, Timestamps, UUIDPrimaryKey
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied
from pipewise.records.filters import FilterCompiler, FilterError, conditions_from_params
from pipewise.records.registry import RECORD_TYPES, spec_for


def listable() -> tuple[str, ...]:
    """Record types a saved view can be about: the owned ones, whose lists people work."""
    return tuple(name for name, spec in RECORD_TYPES.items() if spec.owned)


class SavedView(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "saved_view"

    name: Mapped[str] = mapped_column(String(120))
    record_type: Mapped[str] = mapped_column(String(20))
    filter: Mapped[dict[str, Any] | None]
    sort: Mapped[str | None] = mapped_column(String(60))
    # The list page's query string, to open the page with its widgets set as saved.
    query: Mapped[str] = mapped_column(String(2000), default="")
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("owner_id", "record_type", "name", name="uq_saved_view_owner_type_name"),)


def filter_from_query(record_type: str, query: str) -> dict[str, Any] | None:
    """The filter a list page's query string means: its field conditions and its search."""
    params = dict(parse_qsl(query, keep_blank_values=False))
    parts: list[dict[str, Any]] = conditions_from_params(params)
    search = params.get("q", "").strip()
    fields = spec_for(record_type).search_fields
    if search and fields:
        parts.append({"any": [{"field": f, "op": "contains", "value": search} for f in fields]})
    return {"all": parts} if parts else None


def page_query(query: str) -> str:
    """The part of a list's query string worth saving (no cursor or empty values)."""
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k not in ("cursor", "view")]
    return urlencode(kept)


class SavedViewService:
    def visible(self, actor: Actor, record_type: str | None = None) -> Any:
        stmt = select(SavedView).where(or_(SavedView.owner_id == actor.id, SavedView.shared.is_(True)))
        if record_type is not None:
            stmt = stmt.where(SavedView.record_type == record_type)
        return stmt.order_by(SavedView.record_type, SavedView.name)

    def list(self, session: Session, actor: Actor, record_type: str | None = None) -> list[SavedView]:
        return list(session.scalars(self.visible(actor, record_type)))

    def get(self, session: Session, view_id: uuid.UUID, actor: Actor) -> SavedView:
        view = session.get(SavedView, view_id)
        if view is None or not (view.shared or view.owner_id == actor.id or actor.role == "admin"):
            raise NotFound(f"no saved view with id {view_id}")
        return view

    def create(self, session: Session, data: dict[str, Any], *, actor: Actor) -> SavedView:
        view = SavedView(owner_id=actor.id, shared=False, query="")
        self._apply(session, view, data, actor=actor, creating=True)
        session.add(view)
        session.flush()
        return view

    def update(self, session: Session, view_id: uuid.UUID, data: dict[str, Any], *, actor: Actor) -> SavedView:
        view = self._writable(session, view_id, actor)
        self._apply(session, view, data, actor=actor, creating=False)
        session.flush()
        return view

    def delete(self, session: Session, view_id: uuid.UUID, *, actor: Actor) -> None:
        session.delete(self._writable(session, view_id, actor))
        session.flush()

    def _writable(self, session: Session, view_id: uuid.UUID, actor: Actor) -> SavedView:
        view = self.get(session, view_id, actor)
        if view.owner_id != actor.id and actor.role != "admin":
            raise PermissionDenied("only the owner of a view (or an admin) may change it")
        return view

    def _apply(self, session: Session, view: SavedView, data: dict[str, Any], *, actor: Actor, creating: bool) -> None:
        errors = ErrorCollector()
        name = str(data.get("name", view.name if not creating else "") or "").strip()
        record_type = data.get("record_type", None if creating else view.record_type)
        if not name:
            errors.add("name", "is required")
        elif len(name) > 120:
            errors.add("name", "is longer than 120 characters")
        if not creating and "record_type" in data and data["record_type"] != view.record_type:
            errors.add("record_type", "cannot change; save a new view")
        elif record_type not in listable():
            errors.add("record_type", f"must be one of {', '.join(listable())}")
        if "query" in data:
            query = page_query(str(data["query"] or ""))
            data = {**data, "query": query}
            if "filter" not in data and record_type in listable():
                data["filter"] = filter_from_query(record_type, query)
        tree = data.get("filter", view.filter)
        if record_type in listable() and tree is not None:
            try:
                FilterCompiler(session, RECORD_TYPES[record_type]).compile(tree)
            except FilterError as exc:
                for error in exc.errors:
                    errors.add(error.field, error.message)
        if data.get("shared") and actor.role not in ("admin", "manager"):
            errors.add("shared", "only managers and admins share views with everyone")
        if not errors.errors and self._name_taken(session, view, name, record_type, actor):
            errors.add("name", f"you already have a {record_type} view called {name!r}")
        errors.raise_if_any()
        view.name, view.record_type, view.filter = name, record_type, tree
        view.sort = data.get("sort", view.sort) or None
        view.query = data.get("query", view.query) or ""
        view.shared = bool(data.get("shared", view.shared))

    def _name_taken(self, session: Session, view: SavedView, name: str, record_type: str, actor: Actor) -> bool:
        stmt = select(SavedView.id).where(
            SavedView.owner_id == (view.owner_id or actor.id), SavedView.record_type == record_type, SavedView.name == name
        )
        if view.id is not None:
            stmt = stmt.where(SavedView.id != view.id)
        return session.scalar(stmt) is not None


saved_view_service = SavedViewService()
