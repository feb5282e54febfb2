"""Names and choices a page needs beside its records (owners, accounts, stages), read
through the services once per request so visibility rules apply here too; and the
look-up behind every searchable picker (``GET /web/lookup/<kind>?q=…``), which offers
the first matches the viewer may see instead of a capped list of everything."""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.crm.models import Account
from pipewise.crm.service import account_service, contact_service
from pipewise.deals.models import Pipeline, Stage
from pipewise.deals.service import pipeline_service, stage_service
from pipewise.errors import NotFound, ValidationFailed
from pipewise.people.service import user_service
from pipewise.records import custom_fields
from pipewise.records.models import CustomFieldDefinition
from pipewise.records.repository import MAX_PAGE, ListQuery
from pipewise.records.service import RecordService
from pipewise.web.common import CurrentUser, DbSession, render, web_router

# A picker's suggestions: how many by default and at most, and how much may be typed.
SUGGESTIONS = 20
MAX_SUGGESTIONS = 50
MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 6


def ids_filter(ids: Iterable[uuid.UUID | None]) -> dict[str, Any]:
    return {"field": "id", "op": "in", "value": sorted({str(i) for i in ids if i is not None})}


@dataclass(frozen=True)
class Choice:
    """One suggestion, or a picker's current value: the id it posts and what it shows."""

    id: uuid.UUID
    label: str
    meta: str = ""
    hidden: bool = False  # a current value the viewer may not see


@dataclass(frozen=True)
class PickerKind:
    """What a picker of one kind searches, and how its records read."""

    noun: str
    service: RecordService[Any]
    search_fields: tuple[str, ...]
    sort: str
    label: Callable[[Any], str]
    meta: Callable[[Any], str]
    always: dict[str, Any] | None = None  # a condition every suggestion meets

    def choice(self, record: Any) -> Choice:
        return Choice(record.id, self.label(record), self.meta(record))


PICKER_KINDS: dict[str, PickerKind] = {
    "account": PickerKind(
        "account", account_service, ("name", "domain"), "name", lambda a: a.name, lambda a: a.domain or ""
    ),
    "contact": PickerKind(
        "contact",
        contact_service,
        ("first_name", "last_name", "email"),
        "last_name",
        lambda c: c.full_name or c.last_name,
        lambda c: c.email or "",
    ),
    "user": PickerKind(
        "user",
        user_service,
        ("name", "email"),
        "name",
        lambda u: u.name,
        lambda u: u.email,
        always={"field": "is_active", "op": "eq", "value": True},
    ),
}


def search_filter(kind: PickerKind, q: str) -> dict[str, Any] | None:
    """Every typed word must appear in one of the kind's fields ("ada love" finds Ada Lovelace)."""
    words = q.split()[:MAX_QUERY_WORDS]
    conditions = [{"any": [{"field": f, "op": "contains", "value": w} for f in kind.search_fields]} for w in words]
    if kind.always:
        conditions.append(kind.always)
    return {"all": conditions} if conditions else None


class Lookups:
    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self._accounts: dict[uuid.UUID, Account] = {}

    # -- people --

    @cached_property
    def users(self) -> dict[uuid.UUID, User]:
        query = ListQuery(sort="name", limit=MAX_PAGE)
        return {u.id: u for u in user_service.list(self.session, actor=self.actor, query=query).items}

    def user(self, user_id: uuid.UUID) -> User | None:
        """A user by id, also one past the first page of names."""
        if user_id not in self.users:
            found = self.find("user", [user_id])
            if found:
                self.users[user_id] = found[0]
        return self.users.get(user_id)

    def user_name(self, user_id: uuid.UUID | None) -> str:
        user = self.user(user_id) if user_id else None
        return user.name if user else ("Pipewise" if user_id is None else "Former user")

    # -- accounts and contacts --

    def load_accounts(self, ids: Iterable[uuid.UUID | None]) -> None:
        """Fetch the named accounts the user may see, in one query, for ``account``."""
        wanted = [i for i in ids if i is not None and i not in self._accounts]
        for account in self.find("account", wanted):
            self._accounts[account.id] = account

    def account(self, account_id: uuid.UUID | None) -> Account | None:
        if account_id is None:
            return None
        if account_id not in self._accounts:
            self.load_accounts([account_id])
        return self._accounts.get(account_id)

    # -- pickers --

    def find(self, kind: str, ids: Iterable[uuid.UUID | None]) -> list[Any]:
        """The records of ``kind`` with these ids that the user may see."""
        wanted = ids_filter(ids)
        if not wanted["value"]:
            return []
        query = ListQuery(filter=wanted, sort=PICKER_KINDS[kind].sort, limit=MAX_PAGE)
        return list(PICKER_KINDS[kind].service.list(self.session, actor=self.actor, query=query).items)

    def chosen(self, kind: str, values: Iterable[str | uuid.UUID | None]) -> list[Choice]:
        """What a picker shows for the ids it holds; one the user may not see keeps its
        id (so saving unchanged keeps it) and reads as hidden."""
        ids = [i for i in (_as_uuid(v) for v in values) if i is not None]
        found = {r.id: PICKER_KINDS[kind].choice(r) for r in self.find(kind, ids)}
        return [found.get(i) or Choice(i, f"Hidden {PICKER_KINDS[kind].noun}", hidden=True) for i in ids]

    def suggestions(self, kind: str, q: str, *, limit: int = SUGGESTIONS, selected: str = "") -> list[Choice]:
        """The first ``limit`` records of ``kind`` matching ``q`` that the user may see.
        With nothing typed, the picker's current value (``selected``) comes first."""
        spec = PICKER_KINDS[kind]
        query = ListQuery(filter=search_filter(spec, q), sort=spec.sort, limit=limit)
        found = [spec.choice(r) for r in spec.service.list(self.session, actor=self.actor, query=query).items]
        if not q.strip() and selected:
            current = [c for c in self.chosen(kind, [selected]) if not c.hidden]
            found = (current + [c for c in found if c not in current])[:limit]
        return found

    # -- pipelines --

    @cached_property
    def pipelines(self) -> list[Pipeline]:
        query = ListQuery(sort="name", limit=MAX_PAGE)
        return list(pipeline_service.list(self.session, actor=self.actor, query=query).items)

    @cached_property
    def stages(self) -> dict[uuid.UUID, Stage]:
        query = ListQuery(sort="position", limit=MAX_PAGE)
        return {s.id: s for s in stage_service.list(self.session, actor=self.actor, query=query).items}

    def stages_of(self, pipeline_id: uuid.UUID) -> list[Stage]:
        return pipeline_service.stages(self.session, pipeline_id)

    def stage_name(self, stage_id: uuid.UUID | None) -> str:
        stage = self.stages.get(stage_id) if stage_id else None
        return stage.name if stage else "—"

    # -- custom fields --

    def custom_fields(self, record_type: str) -> list[CustomFieldDefinition]:
        return sorted(custom_fields.definitions(self.session, record_type).values(), key=lambda d: d.label.lower())


def _as_uuid(value: str | uuid.UUID | None) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID) or not value:
        return value or None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# -- the picker's look-up --

router = web_router()


@router.get("/web/lookup/{kind}")
def lookup(kind: str, request: Request, session: DbSession, me: CurrentUser) -> Response:
    """Suggestions for a picker, as the options of its listbox."""
    if kind not in PICKER_KINDS:
        raise NotFound(f"nothing to look up called {kind!r}")
    q = request.query_params.get("q", "")
    if len(q) > MAX_QUERY_LENGTH:
        raise ValidationFailed.on("q", f"must be at most {MAX_QUERY_LENGTH} characters")
    raw_limit = request.query_params.get("limit", str(SUGGESTIONS))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_SUGGESTIONS:
        raise ValidationFailed.on("limit", f"must be a whole number from 1 to {MAX_SUGGESTIONS}")
    choices = Lookups(session, me.actor).suggestions(
        kind, q, limit=int(raw_limit), selected=request.query_params.get("selected", "")
    )
    context = {"choices": choices, "noun": PICKER_KINDS[kind].noun, "q": q.strip(), "limit": int(raw_limit)}
    return render(request, "_picker_options.html", context)
