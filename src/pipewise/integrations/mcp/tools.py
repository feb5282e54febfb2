"""The tools an AI assistant may call. Each one is thin: it names the service the REST
API calls for the same thing (in the comment above its work), passes the caller as the
actor, and lets ``calls`` do the rest (authentication, rate limit, transaction, dry run,
audit, errors).

Every write takes ``dry_run`` (everything is checked and done, then rolled back: the
answer shows what would have happened) and ``version``, the record's version as
``read_record`` gave it: with it, the write is refused (412) if the record has changed
since, as an ``If-Match`` header is in the REST API."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import CallToolResult
from pydantic import Field
from sqlalchemy.orm import Session
from starlette.requests import Request

from pipewise.analytics import catalogue
from pipewise.api.v1.search import MAX_CHARS, PER_TYPE, find
from pipewise.auth.visibility import Actor
from pipewise.crm import schemas as crm
from pipewise.crm.service import activity_service, task_service
from pipewise.deals import schemas as deals
from pipewise.deals.service import deal_service, pipeline_service
from pipewise.errors import NotFound, ValidationFailed
from pipewise.integrations.mcp.calls import Calls, Credential
from pipewise.leads import schemas as leads
from pipewise.records.service import RecordService, check_version
from pipewise.records.timeline import timeline
from pipewise.sequences import schemas as sequences
from pipewise.sequences.service import sequence_service

RecordType = Literal["contact", "account", "lead", "deal"]
OUT = {"contact": crm.Contact, "account": crm.Account, "lead": leads.Lead, "deal": deals.Deal}
ReportSlug = Literal[tuple(catalogue.REPORTS)]  # type: ignore[valid-type]

Id = Annotated[uuid.UUID, Field(description="the record's id")]
Version = Annotated[int | None, Field(description="the record's version from read_record; the write is refused "
                                                  "if the record has changed since (omit: apply to the current record)")]
DryRun = Annotated[bool, Field(description="check everything and report what would happen, but change nothing")]
TIMELINE_LIMIT = 10


def _given(**values: Any) -> dict[str, Any]:
    """The arguments the caller gave (as the fields a REST body would carry)."""
    return {k: v for k, v in values.items() if v is not None}


def _check_version(session: Session, actor: Actor, record_type: str | None, record_id: uuid.UUID | None,
                   version: int | None) -> None:
    if version is None:
        return
    if record_type is None or record_id is None:
        raise ValidationFailed.on("version", "names the version of a record: give record_type and record_id too")
    # Locked until commit, as a REST write's record is: nobody changes it between the check and the write.
    record = RecordService(record_type).repository(session).get(record_id, actor, lock=True)
    if record is None:
        raise NotFound(f"no {record_type} with id {record_id}")
    check_version(record, version)


def register(server: FastMCP, calls: Calls, token: str | None = None) -> None:
    """Add the tools to ``server``; ``token``: the stdio server's API token (over HTTP each
    request's ``Authorization`` header is used instead)."""

    def credential(ctx: Context) -> Credential:  # type: ignore[type-arg]
        request = ctx.request_context.request
        return Credential(request=request) if isinstance(request, Request) else Credential(token=token)

    @server.tool()
    async def search_records(
        ctx: Context,  # type: ignore[type-arg]
        query: Annotated[str, Field(max_length=MAX_CHARS, description="the start of a name, e-mail, phone number or domain")],
        per_type: Annotated[int, Field(ge=1, le=20, description="matches of each record type at most")] = PER_TYPE,
    ) -> CallToolResult:
        """Find contacts, accounts, deals, leads and quotes you may see, by the start of a name,
        e-mail, phone number or domain (2 characters at least)."""
        # GET /api/v1/search
        def work(session: Session, actor: Actor) -> Any:
            return {"query": query, "results": find(session, actor, query, per_type=per_type)}

        return await calls.read(credential(ctx), "search_records", work)

    @server.tool()
    async def read_record(
        ctx: Context,  # type: ignore[type-arg]
        record_type: RecordType,
        record_id: Id,
        timeline_entries: Annotated[int, Field(ge=0, le=100, description="latest timeline entries to include")] = TIMELINE_LIMIT,
    ) -> CallToolResult:
        """A contact, account, lead or deal with its version (for a later write) and the latest
        entries of its timeline: activities, tasks, field changes and automation decisions.
        A deal comes with the stages of its pipeline (the ids move_deal takes)."""
        # GET /api/v1/{plural}/{id} and /timeline
        def work(session: Session, actor: Actor) -> Any:
            record = RecordService(record_type).get(session, record_id, actor=actor)
            entries = timeline(session, record_type, record_id)[:timeline_entries]
            found = {"record_type": record_type, "record": OUT[record_type].model_validate(record),
                     "timeline": [e.model_dump(mode="json", exclude={"data"}) for e in entries]}
            if record_type == "deal":
                found["stages"] = [{"id": st.id, "name": st.name, "required_fields": st.required_fields}
                                   for st in pipeline_service.stages(session, record.pipeline_id)]
            return found

        return await calls.read(credential(ctx), "read_record", work)

    @server.tool()
    async def log_activity(
        ctx: Context,  # type: ignore[type-arg]
        record_type: Annotated[RecordType, Field(description="what the activity is about")],
        record_id: Id,
        type: Literal["call", "email", "meeting", "note"],
        subject: str,
        body: str | None = None,
        direction: Literal["inbound", "outbound"] | None = None,
        occurred_at: datetime | None = None,
        duration_minutes: int | None = None,
        version: Version = None,
        dry_run: DryRun = False,
    ) -> CallToolResult:
        """Log a call, e-mail, meeting or note on a contact, account, lead or deal."""
        # POST /api/v1/activities
        def work(session: Session, actor: Actor) -> Any:
            _check_version(session, actor, record_type, record_id, version)
            data = crm.ActivityCreate.model_validate(_given(
                type=type, subject=subject, body=body, direction=direction, occurred_at=occurred_at,
                duration_minutes=duration_minutes, **{f"{record_type}_id": record_id}))
            activity = activity_service.create(session, data=data.model_dump(exclude_unset=True), actor=actor)
            session.flush()
            return {"activity": crm.Activity.model_validate(activity)}

        return await calls.write(credential(ctx), "log_activity", work, dry_run=dry_run,
                                 summary=f"logged a {type} on {record_type} {record_id}", target=(record_type, record_id))

    @server.tool()
    async def create_task(
        ctx: Context,  # type: ignore[type-arg]
        title: str,
        record_type: Annotated[RecordType | None, Field(description="the record the task is about, if any")] = None,
        record_id: uuid.UUID | None = None,
        notes: str | None = None,
        due_at: datetime | None = None,
        remind_at: datetime | None = None,
        priority: Literal["low", "normal", "high"] | None = None,
        owner_id: Annotated[uuid.UUID | None, Field(description="who does it (default: you)")] = None,
        version: Version = None,
        dry_run: DryRun = False,
    ) -> CallToolResult:
        """Create a task (a follow-up, a reminder), on a record or on its own."""
        # POST /api/v1/tasks
        def work(session: Session, actor: Actor) -> Any:
            _check_version(session, actor, record_type, record_id, version)
            data = crm.TaskCreate.model_validate(_given(
                title=title, notes=notes, due_at=due_at, remind_at=remind_at, priority=priority, owner_id=owner_id,
                related_type=record_type, related_id=record_id))
            task = task_service.create(session, data=data.model_dump(exclude_unset=True), actor=actor)
            session.flush()
            return {"task": crm.Task.model_validate(task)}

        return await calls.write(credential(ctx), "create_task", work, dry_run=dry_run,
                                 summary=f"created task {title!r}" + (f" on {record_type} {record_id}" if record_id else ""),
                                 target=(record_type, record_id) if record_type and record_id else None)

    @server.tool()
    async def move_deal(
        ctx: Context,  # type: ignore[type-arg]
        deal_id: uuid.UUID,
        stage_id: Annotated[uuid.UUID, Field(description="a stage of the deal's pipeline")],
        version: Version = None,
        dry_run: DryRun = False,
    ) -> CallToolResult:
        """Move a deal to another stage (its stage rules apply, as on the board)."""
        # POST /api/v1/deals/{deal_id}/move
        def work(session: Session, actor: Actor) -> Any:
            expected = None if version is None else frozenset({version})
            deal = deal_service.move_to_stage(session, deal_id, stage_id, actor=actor, expected_version=expected)
            session.flush()
            return {"deal": deals.Deal.model_validate(deal)}

        return await calls.write(credential(ctx), "move_deal", work, dry_run=dry_run,
                                 summary=f"moved deal {deal_id} to stage {stage_id}", target=("deal", deal_id))

    @server.tool()
    async def list_sequences(
        ctx: Context,  # type: ignore[type-arg]
        status: Literal["active", "draft", "paused", "archived"] | None = "active",
    ) -> CallToolResult:
        """The sequences (multi-step cadences) there are, with their steps: the ids
        enroll_in_sequence takes. Default: the active ones, which take enrollments."""
        # GET /api/v1/sequences
        def work(session: Session, actor: Actor) -> Any:
            return {"sequences": [sequence_service.describe(session, q) for q in sequence_service.all(session, status=status)]}

        return await calls.read(credential(ctx), "list_sequences", work)

    @server.tool()
    async def enroll_in_sequence(
        ctx: Context,  # type: ignore[type-arg]
        sequence_id: uuid.UUID,
        contact_id: uuid.UUID,
        reason: Annotated[str | None, Field(max_length=300)] = None,
        version: Annotated[int | None, Field(description="the contact's version from read_record")] = None,
        dry_run: DryRun = False,
    ) -> CallToolResult:
        """Enroll a contact in an active sequence (refused, with the reason, when a live sales
        signal or another sequence stands in the way)."""
        # POST /api/v1/sequences/{sequence_id}/enrollments
        def work(session: Session, actor: Actor) -> Any:
            _check_version(session, actor, "contact", contact_id, version)
            enrollment = sequence_service.enroll(session, sequence_id=sequence_id, contact_id=contact_id, actor=actor,
                                                 reason=reason)
            session.flush()
            return {"enrollment": sequences.Enrollment.model_validate(enrollment)}

        return await calls.write(credential(ctx), "enroll_in_sequence", work, dry_run=dry_run,
                                 summary=f"enrolled contact {contact_id} in sequence {sequence_id}", target=("contact", contact_id))

    @server.tool()
    async def explain_automation(
        ctx: Context,  # type: ignore[type-arg]
        record_type: RecordType,
        record_id: Id,
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
    ) -> CallToolResult:
        """Why automation did what it did on a record: every workflow and sequence decision
        (enrolled, waited, sent, skipped, paused, exited…) with its reason, newest first."""
        # GET /api/v1/{plural}/{id}/timeline (its automation entries)
        def work(session: Session, actor: Actor) -> Any:
            RecordService(record_type).get(session, record_id, actor=actor)
            decisions = [e for e in timeline(session, record_type, record_id) if e.kind == "automation"][:limit]
            return {"record_type": record_type, "record_id": record_id,
                    "decisions": [{"at": e.at, "what": e.title, "why": e.detail, "details": e.data} for e in decisions]}

        return await calls.read(credential(ctx), "explain_automation", work)

    @server.tool()
    async def run_report(
        ctx: Context,  # type: ignore[type-arg]
        report: Annotated[ReportSlug, Field(description="; ".join(f"{k.slug}: {k.title}" for k in catalogue.REPORTS.values()))],
        start: Annotated[str | None, Field(description="first day, YYYY-MM-DD (default: a year before the end)")] = None,
        end: Annotated[str | None, Field(description="last day, YYYY-MM-DD, inclusive (default: today)")] = None,
        pipeline_id: uuid.UUID | None = None,
        team_id: uuid.UUID | None = None,
        owner_id: uuid.UUID | None = None,
        source: Annotated[str | None, Field(max_length=60, description="lead source (first touch)")] = None,
        interval: Literal["week", "month"] = "month",
    ) -> CallToolResult:
        """Run a report over the records you may see: headline figures, tables and chart data."""
        # GET /api/v1/reports/{slug}
        def work(session: Session, actor: Actor) -> Any:
            params = {"start": start, "end": end, "pipeline_id": pipeline_id, "team_id": team_id, "owner_id": owner_id,
                      "source": source, "interval": interval}
            return catalogue.run_json(session, report, params, actor=actor)

        return await calls.read(credential(ctx), "run_report", work)
