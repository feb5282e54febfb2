"""Global search over contacts, accounts, deals, leads and quotes: what the search box
(Ctrl/Cmd-K on every page) and ``GET /api/v1/search`` answer. Matching lives in
``records/search.py``; this module says which record types are searched and how a match
reads (a title, a line under it, the page it opens)."""

import uuid
from typing import Any

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.auth.visibility import Actor
from pipewise.records.search import MAX_CHARS, search

router = api_router(tags=["search"])
SEARCHED_TYPES = ("contact", "account", "deal", "lead", "quote")
PLURALS = {"contact": "contacts", "account": "accounts", "deal": "deals", "lead": "leads", "quote": "quotes"}
PER_TYPE = 5


class SearchResult(BaseModel):
    type: str = Field(description="contact, account, deal, lead or quote")
    id: uuid.UUID
    title: str
    subtitle: str = Field(description="the e-mail, company, amount or status that tells two matches apart")
    url: str = Field(description="the record's page in the web UI")


class SearchResults(BaseModel):
    q: str
    results: list[SearchResult]


def _person(record: Any) -> str:
    return " ".join(p for p in (record.first_name, record.last_name) if p) or "(no name)"


def _amount(record: Any) -> str:
    return f"{record.currency} {record.amount:,.2f}" if record.amount is not None else "no amount"


def describe(record_type: str, record: Any) -> tuple[str, str]:
    """A match's title and the line under it."""
    if record_type == "contact":
        return _person(record), " · ".join(p for p in (record.email, record.phone, record.title) if p)
    if record_type == "lead":
        return _person(record), " · ".join(p for p in (record.company, record.email, record.phone) if p)
    if record_type == "account":
        return record.name, " · ".join(p for p in (record.domain, record.industry) if p)
    if record_type == "deal":
        return record.name, _amount(record)
    return f"{record.number} · {record.title}", record.status.replace("_", " ")


def find(session: Session, actor: Actor, q: str, *, per_type: int = PER_TYPE) -> list[SearchResult]:
    results = []
    for hit in search(session, actor, q, SEARCHED_TYPES, per_type=per_type):
        title, subtitle = describe(hit.record_type, hit.record)
        results.append(SearchResult(type=hit.record_type, id=hit.record.id, title=title, subtitle=subtitle,
                                    url=f"/{PLURALS[hit.record_type]}/{hit.record.id}"))
    return results


@router.get("/search", response_model=SearchResults, summary="Find contacts, accounts, deals, leads and quotes")
def search_records(
    session: DbSession,
    actor: CurrentActor,
    q: str = Query(max_length=MAX_CHARS, description="the start of a name, e-mail, phone number or domain (2 characters at least)"),
    per_type: int = Query(PER_TYPE, ge=1, le=20, description="matches of each record type at most"),
) -> Any:
    return SearchResults(q=q, results=find(session, actor, q, per_type=per_type))
