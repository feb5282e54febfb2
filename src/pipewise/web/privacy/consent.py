"""A person's consent on their page (the card a contact or lead page loads beside its
details: the state per purpose, the ledger, a form to record consent given or withdrawn),
and the export of everything held about them for admins."""

import uuid

from fastapi import Request, Response
from fastapi.responses import FileResponse

from pipewise.errors import ValidationFailed
from pipewise.privacy import consent, subject_export
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router

router = web_router()
KINDS = {"contacts": "contact", "leads": "lead"}
SHOWN_ENTRIES = 20


def _plural(request: Request) -> str:
    """``contacts`` or ``leads``: the first part of the page's path."""
    return request.url.path.split("/")[1]


@router.get("/contacts/{record_id}/consent")
@router.get("/leads/{record_id}/consent")
def consent_card(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    plural = _plural(request)
    kind = KINDS[plural]
    subject, state, entries = consent.ledger(session, kind, record_id, actor=me.actor, limit=SHOWN_ENTRIES + 1)
    return render(request, "privacy/_consent_card.html", {
        "subject": subject, "kind": kind, "url": f"/{plural}/{record_id}", "state": state,
        "entries": entries[:SHOWN_ENTRIES], "more": len(entries) > SHOWN_ENTRIES, "purposes": consent.PURPOSES,
        "bases": consent.LEGAL_BASES, "sources": consent.SOURCES, "mirrored": consent.MIRRORED_PURPOSE, "may_export": me.actor.is_admin and kind == "contact",
    })


@router.post("/contacts/{record_id}/consent")
@router.post("/leads/{record_id}/consent")
def record_consent(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    plural = _plural(request)
    kind = KINDS[plural]
    values = {name: str(form.get(name) or "").strip() for name in ("purpose", "action", "legal_basis", "source", "text", "note")}
    change = consent.ConsentChange(
        purpose=values["purpose"], action=values["action"], legal_basis=values["legal_basis"] or "consent",
        source=values["source"] or "rep", text=values["text"][:20000] or None, note=values["note"][:2000] or None)
    try:
        consent.record(session, kind, record_id, change, actor=me.actor)
    except ValidationFailed as exc:
        flash(request, "Consent not recorded: " + "; ".join(f"{e.field.replace('_', ' ')}: {e.message}" for e in exc.errors),
              "error")
        return redirect(f"/{plural}/{record_id}")
    flash(request, f"{values['purpose'].replace('_', ' ').capitalize()} consent {values['action']}.")
    return redirect(f"/{plural}/{record_id}")


@router.post("/contacts/{contact_id}/export")
def start_export(contact_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    job = subject_export.start(session, contact_id=contact_id, email=None, actor=me.actor)
    return redirect(f"/jobs/{job.id}")


@router.get("/privacy/exports/{job_id}/download")
def download_export(job_id: uuid.UUID, session: DbSession, me: CurrentUser) -> Response:
    path = subject_export.download(session, job_id, actor=me.actor)
    return FileResponse(path, media_type="application/zip", filename=f"subject-export-{job_id}.zip")
