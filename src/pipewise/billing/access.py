"""Who may see and act on orders and invoices: whoever may see their deal. Stock is
shared reference data, changed by managers and admins."""

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor, owner_clause
from pipewise.deals.models import Deal
from pipewise.errors import NotFound, PermissionDenied

M = TypeVar("M")


def deal_clause(deal_column: Any, actor: Actor, *, write: bool = False) -> ColumnElement[bool] | None:
    """Limits ``deal_column`` to the deals ``actor`` may see (None: every deal)."""
    owners = owner_clause(Deal.owner_id, actor, write=write)
    if owners is None:
        return None
    return deal_column.in_(select(Deal.id).where(owners))


def visible(stmt: Select, deal_column: Any, actor: Actor, *, write: bool = False) -> Select:
    clause = deal_clause(deal_column, actor, write=write)
    return stmt if clause is None else stmt.where(clause)


def get_visible(
    session: Session, model: type[M], record_id: uuid.UUID, actor: Actor, *, write: bool = False, what: str
) -> M:
    """The record if its deal is within reach; a hidden one answers as a missing one. A
    write reads it fresh and locks its row until commit."""
    stmt = visible(select(model).where(model.id == record_id), model.deal_id, actor, write=write)  # type: ignore[attr-defined]
    if write:
        stmt = stmt.with_for_update(of=model).execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(f"no {what} with id {record_id}")
    return row


def deal_for(session: Session, deal_id: uuid.UUID, actor: Actor, *, write: bool = False) -> Deal:
    deal = session.scalar(visible(select(Deal).where(Deal.id == deal_id), Deal.id, actor, write=write))
    if deal is None:
        raise NotFound(f"no deal with id {deal_id}")
    return deal


def require_manager(actor: Actor, action: str) -> None:
    if not actor.is_manager:
        raise PermissionDenied(f"only managers and admins may {action}")
