"""Data-subject rights over the API: a person's consent ledger (read it, record consent
given or withdrawn), the export of everything held about them (admins), and retention
rules with their dry-run (admins)."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.privacy import consent, retention, subject_export

router = api_router(tags=["privacy"])

KINDS = {"contacts": "contact", "leads": "lead"}
Purpose = Annotated[str, Field(max_length=30, description=", ".join(consent.PURPOSES))]


class ConsentEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_type: str
    subject_id: uuid.UUID
    purpose: str
    legal_basis: str
    source: str
    action: str = Field(description="given or withdrawn")
    text_hash: str | None = Field(description="sha256 of the consent text the person was shown")
    note: str | None
    at: datetime
    recorded_at: datetime
    actor_label: str


class ConsentLedger(BaseModel):
    state: dict[str, ConsentEntryOut] = Field(description="each purpose's latest entry: its current state")
    entries: list[ConsentEntryOut] = Field(description="every entry, newest first")


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    action: Literal["given", "withdrawn"] = "given"
    legal_basis: str = Field("consent", max_length=30, description=", ".join(consent.LEGAL_BASES))
    source: str = Field("api", max_length=20, description=", ".join(consent.SOURCES))
    text: str | None = Field(None, max_length=20000, description="the consent text shown; its sha256 is kept")
    text_hash: str | None = Field(None, max_length=64, description="or the sha256 of that text")
    at: datetime | None = Field(None, description="when the person gave or withdrew it (default: now)")
    note: str | None = Field(None, max_length=2000)


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    source: str = Field("api", max_length=20, description=", ".join(consent.SOURCES))
    note: str | None = Field(None, max_length=2000)


def _ledger(session: Any, subject_type: str, subject_id: uuid.UUID, actor: Any) -> ConsentLedger:
    _subject, state, entries = consent.ledger(session, subject_type, subject_id, actor=actor)
    return ConsentLedger(state={k: ConsentEntryOut.model_validate(v) for k, v in state.items()},
                         entries=[ConsentEntryOut.model_validate(e) for e in entries])


def _record(session: Any, subject_type: str, subject_id: uuid.UUID, body: ConsentIn | WithdrawalIn, actor: Any) -> Any:
    values = body.model_dump()
    if isinstance(body, WithdrawalIn):
        values.update(action="withdrawn", legal_basis="consent")
    return ConsentEntryOut.model_validate(consent.record(session, subject_type, subject_id,
                                                         consent.ConsentChange(**values), actor=actor))


def _kind(request: Request) -> str:
    """contact or lead, from the path (/api/v1/contacts/… or /api/v1/leads/…)."""
    return KINDS[request.url.path.split("/")[3]]


@router.get("/contacts/{record_id}/consent", response_model=ConsentLedger,
            summary="A contact's consent: the current state per purpose and the whole ledger")
@router.get("/leads/{record_id}/consent", response_model=ConsentLedger,
            summary="A lead's consent: the current state per purpose and the whole ledger")
def read_consent(record_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    return _ledger(session, _kind(request), record_id, actor)


@router.post("/contacts/{record_id}/consent", response_model=ConsentEntryOut, status_code=201,
             summary="Record consent given or withdrawn by a contact (withdrawing mail purposes stops mail)")
@router.post("/leads/{record_id}/consent", response_model=ConsentEntryOut, status_code=201,
             summary="Record consent given or withdrawn by a lead (withdrawing mail purposes stops mail)")
def record_consent(record_id: uuid.UUID, body: ConsentIn, request: Request, session: DbSession,
                   actor: CurrentActor) -> Any:
    return _record(session, _kind(request), record_id, body, actor)


@router.post("/contacts/{record_id}/consent/withdraw", response_model=ConsentEntryOut, status_code=201,
             summary="Record that a contact withdrew consent for a purpose")
@router.post("/leads/{record_id}/consent/withdraw", response_model=ConsentEntryOut, status_code=201,
             summary="Record that a lead withdrew consent for a purpose")
def withdraw_consent(record_id: uuid.UUID, body: WithdrawalIn, request: Request, session: DbSession,
                     actor: CurrentActor) -> Any:
    return _record(session, _kind(request), record_id, body, actor)


# -- export ----------------------------------------------------------------------------


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: uuid.UUID | None = Field(None, description="the contact (with the leads of its address)")
    email: str | None = Field(None, max_length=254, description="or everyone (contacts and leads) with this address")


class ExportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    status: str = Field(description="queued, running, done or failed")
    done: int
    total: int | None
    step: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None = None


def _export_out(job: Any) -> ExportOut:
    out = ExportOut.model_validate(job)
    out.download_url = f"/api/v1/privacy/exports/{job.id}/download" if job.status == "done" else None
    return out


@router.post("/privacy/exports", response_model=ExportOut, status_code=202,
             summary="Start an export of everything held about a person (admins; audited)")
def start_export(body: ExportIn, session: DbSession, actor: CurrentActor) -> Any:
    job = subject_export.start(session, contact_id=body.contact_id, email=body.email, actor=actor)
    return _export_out(job)


@router.get("/privacy/exports/{job_id}", response_model=ExportOut, summary="An export's progress (admins)")
def read_export(job_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return _export_out(subject_export.export_job(session, job_id, actor=actor))


@router.get("/privacy/exports/{job_id}/download", response_class=Response,
            responses={200: {"content": {"application/zip": {}}}},
            summary="The finished export as a ZIP of JSON and .eml files (admins; audited)")
def download_export(job_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    path = subject_export.download(session, job_id, actor=actor)
    return FileResponse(path, media_type="application/zip", filename=f"subject-export-{job_id}.zip")


# -- retention rules ---------------------------------------------------------------------


class RetentionRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    kind: str = Field(max_length=30, description=", ".join(retention.KINDS))
    months: int = Field(description=f"records older than this many months ({retention.MONTHS[0]}–{retention.MONTHS[1]})")
    enabled: bool = True


class RetentionRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    kind: str | None = Field(None, max_length=30)
    months: int | None = None
    enabled: bool | None = None


class RetentionRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: str
    months: int
    enabled: bool
    author_id: uuid.UUID | None = Field(description="the admin whose rights the daily run uses (who saved it last)")
    last_run_at: datetime | None
    created_at: datetime


class PreviewItem(BaseModel):
    id: uuid.UUID
    label: str
    date: datetime


class PreviewOut(BaseModel):
    count: int = Field(description="how many records the rule would delete now")
    cutoff: datetime
    sample: list[PreviewItem] = Field(description=f"the first {retention.SAMPLE}, oldest first")


class RetentionRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    deleted: int
    record_ids: list[str]
    error: str | None


@router.get("/privacy/retention-rules", response_model=list[RetentionRuleOut], summary="Retention rules (admins)")
def list_rules(session: DbSession, actor: CurrentActor) -> Any:
    return retention.rules(session, actor=actor)


@router.post("/privacy/retention-rules", response_model=RetentionRuleOut, status_code=201,
             summary="Add a retention rule (admins; it runs daily with your rights)")
def create_rule(body: RetentionRuleIn, session: DbSession, actor: CurrentActor) -> Any:
    return retention.create_rule(session, body.model_dump(), actor=actor)


@router.patch("/privacy/retention-rules/{rule_id}", response_model=RetentionRuleOut, summary="Change a retention rule (admins)")
def update_rule(rule_id: uuid.UUID, body: RetentionRuleUpdate, session: DbSession, actor: CurrentActor) -> Any:
    return retention.update_rule(session, rule_id, body.model_dump(exclude_unset=True), actor=actor)


@router.delete("/privacy/retention-rules/{rule_id}", status_code=204, summary="Remove a retention rule (admins)")
def delete_rule(rule_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
    retention.delete_rule(session, rule_id, actor=actor)
    return Response(status_code=204)


@router.post("/privacy/retention-rules/{rule_id}/dry-run", response_model=PreviewOut,
             summary="How many records, and which, the rule would delete now (deletes nothing)")
def dry_run(rule_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    found = retention.preview(session, rule_id, actor=actor)
    return PreviewOut(count=found.count, cutoff=found.cutoff, sample=[PreviewItem(**item) for item in found.sample])


@router.post("/privacy/retention-rules/{rule_id}/run", response_model=RetentionRunOut,
             summary="Run a rule now instead of waiting for the daily run (admins; audited)")
def run_rule(rule_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return retention.run_now(session, rule_id, actor=actor)


@router.get("/privacy/retention-rules/{rule_id}/runs", response_model=list[RetentionRunOut],
            summary="What the rule's runs deleted, newest first (admins)")
def list_runs(rule_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return retention.runs(session, rule_id, actor=actor)
