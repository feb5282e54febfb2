"""The audit trail, for admins: search it, export it (the export is itself recorded), and
set how long it is kept. Nothing here changes or removes an entry."""

import io
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.audit import service as audit
from pipewise.auth.visibility import Actor
from pipewise.records import csv_cells
from pipewise.records.bounds import INT64

router = api_router(prefix="/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_label: str
    channel: str = Field(description="web, api, cli, mcp, worker, workflow, sequence or system")
    via: str | None
    action: str
    target_type: str | None
    target_id: str | None
    summary: str
    details: dict[str, Any]
    ip: str | None
    user_agent: str | None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before_id: int | None = Field(description="pass as `before_id` for the next (older) page; null: no more")


class Retention(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retention_days: int = Field(description="entries older than this are removed by the daily purge (30–3650)")


class AuditFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor_id: uuid.UUID | None = None
    channel: str | None = Field(None, max_length=20, description="web, api, cli, mcp, worker, workflow, sequence, system")
    action: str | None = Field(None, max_length=60, description="an action, or a prefix ending in a dot: `user.`")
    target_type: str | None = Field(None, max_length=40)
    target_id: str | None = Field(None, max_length=64)
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = Field(None, max_length=200, description="words in the summary or the actor's name")


class AuditPageFilter(AuditFilter):
    before_id: int | None = Field(None, ge=1, le=INT64[1])
    limit: int = Field(100, ge=1, le=500)


def _query(filters: AuditFilter, before_id: int | None = None, limit: int = 100) -> audit.AuditQuery:
    return audit.AuditQuery(actor_id=filters.actor_id, channel=filters.channel, action=filters.action,
                            target_type=filters.target_type, target_id=filters.target_id, since=filters.since,
                            until=filters.until, text=filters.q, before_id=before_id, limit=limit)


@router.get("", response_model=AuditPage, summary="Search the audit trail, newest first (admins)")
def search(session: DbSession, actor: CurrentActor, filters: Annotated[AuditPageFilter, Query()]) -> Any:
    query = _query(filters, filters.before_id, filters.limit)
    items = audit.search(session, query, actor=actor)
    return AuditPage(items=items, next_before_id=items[-1].id if len(items) == query.limit else None)


@router.post("/export", summary="Every matching entry as CSV, oldest first (admins; the export is recorded)",
             response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export(session: DbSession, actor: CurrentActor, filters: Annotated[AuditFilter, Query()]) -> Response:
    return Response(export_csv(session, _query(filters), actor), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


def export_csv(session: Session, query: audit.AuditQuery, actor: Actor) -> str:
    buffer = io.StringIO()
    writer = csv_cells.writer(buffer)
    writer.writerow(audit.EXPORT_COLUMNS)
    writer.writerows(audit.export(session, query, actor=actor))
    return buffer.getvalue()


@router.get("/retention", response_model=Retention, summary="How long the audit trail is kept (admins)")
def read_retention(session: DbSession, actor: CurrentActor) -> Any:
    audit.require_admin(actor)
    return Retention(retention_days=audit.retention_days(session))


@router.put("/retention", response_model=Retention, summary="Set how long the audit trail is kept (admins)")
def set_retention(body: Retention, session: DbSession, actor: CurrentActor) -> Any:
    return Retention(retention_days=audit.set_retention(session, body.retention_days, actor=actor))
