"""Enrollment pages: the list (per sequence, or across them, filtered by state and
owner) with the recorded reason for each state; pause, resume and unenroll; and the
enroll page that takes one contact (from their page) or many (the contacts list's bulk
action), reporting each refusal with its reason."""

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.crm.service import contact_service
from pipewise.errors import Conflict, FieldError, PipewiseError, ValidationFailed
from pipewise.records.repository import MAX_PAGE, ListQuery
from pipewise.sequences import queries
from pipewise.sequences.service import sequence_service
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, safe_next, web_router
from pipewise.web.forms import Problems, parse_uuid
from pipewise.web.lookups import ids_filter
from pipewise.web.sequences.forms import STEP_KINDS

router = web_router()
LIST_LIMIT = 200
MAX_ENROLL = 1000


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


@router.get("/sequence-enrollments")
def enrollment_list(request: Request, session: DbSession, me: CurrentUser) -> Response:
    params = request.query_params
    sequence_id = parse_uuid(params.get("sequence_id"))
    status = params.get("status") or ""
    problems = Problems()
    if params.get("sequence_id") and sequence_id is None:
        problems.add([FieldError("sequence_id", "is not one of the choices")], ["sequence_id"])
    if status and status not in queries.ENROLLMENT_STATUSES:
        problems.add([FieldError("status", "is not one of the choices")], ["status"])
    mine = params.get("owner") == "me"
    rows = [] if problems else queries.enrollment_rows(
        session, actor=me.actor, sequence_id=sequence_id, status=status or None, owner_id=me.id if mine else None, limit=LIST_LIMIT,
    )
    return render(request, "sequences/enrollments.html", {
        "enrollments": rows, "sequences": sequence_service.all(session), "sequence_id": str(sequence_id or ""), "status": status,
        "mine": mine, "statuses": queries.ENROLLMENT_STATUSES, "problems": problems, "step_kinds": STEP_KINDS,
        "show_sequence": True, "filtered": bool(sequence_id or status or mine), "here": _here(request),
    }, status_code=400 if problems else 200)


@router.post("/sequence-enrollments/{enrollment_id}/{action}")
def enrollment_action(enrollment_id: uuid.UUID, action: str, request: Request, session: DbSession, me: CurrentUser,
                      form: PostedForm) -> Response:
    if action not in ("pause", "resume", "unenroll"):
        raise ValidationFailed.on("action", "use pause, resume or unenroll")
    enrollment = sequence_service.enrollment(session, enrollment_id, actor=me.actor)
    reason = str(form.get("reason") or "").strip()[:500] or f"{action} from the enrollment list"
    back = safe_next(str(form.get("next") or ""), f"/sequence-enrollments?sequence_id={enrollment.sequence_id}")
    try:
        with session.begin_nested():
            if action == "pause":
                sequence_service.pause(session, enrollment.id, actor=me.actor, reason=reason)
            elif action == "resume":
                sequence_service.resume(session, enrollment.id, actor=me.actor, reason=reason)
            else:
                sequence_service.unenroll(
                    session, sequence_id=enrollment.sequence_id, contact_id=enrollment.contact_id, actor=me.actor, reason=reason,
                )
    except Conflict as exc:
        flash(request, exc.detail, "error")
        return redirect(back)
    flash(request, {"pause": "Enrollment paused.", "resume": "Enrollment resumed.", "unenroll": "Contact removed from the sequence."}[action])
    return redirect(back)


# -- enrolling --


@dataclass(frozen=True)
class Refusal:
    contact: Any
    message: str


def _chosen_contacts(session: Session, me: WebUser, raw_ids: list[str], problems: Problems) -> list[Any]:
    ids = [parse_uuid(value) for value in dict.fromkeys(raw_ids) if value]
    if any(i is None for i in ids):
        problems.add([FieldError("contact_id", "one of the chosen contacts is not a valid id")], ["contact_id"])
    ids = [i for i in ids if i is not None]
    if len(ids) > MAX_ENROLL:
        problems.add([FieldError("contact_id", f"choose at most {MAX_ENROLL} contacts at a time")], ["contact_id"])
        return []
    if not ids:
        return []
    query = ListQuery(filter=ids_filter(ids), sort="last_name", limit=MAX_PAGE)
    found: list[Any] = []
    while True:
        page = contact_service.list(session, actor=me.actor, query=query)
        found += page.items
        if page.next_cursor is None:
            break
        query = dataclasses.replace(query, cursor=page.next_cursor)
    if found and len(found) < len(ids):
        problems.add([FieldError("contact_id", f"{len(ids) - len(found)} of the chosen contacts are not ones you can see")], ["contact_id"])
    return found


def _enroll_page(request: Request, session: Session, me: WebUser, *, contacts: list[Any], values: dict[str, Any],
                 problems: Problems, status: int = 200, **extra: Any) -> Response:
    return render(request, "sequences/enroll.html", {
        "contacts": contacts, "values": values, "problems": problems, "sequences": sequence_service.all(session, status="active"),
        "enrolled": [], "refused": [], **extra,
    }, status_code=status)


@router.get("/sequence-enroll")
def enroll_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    problems = Problems()
    contacts = _chosen_contacts(session, me, request.query_params.getlist("contact_id"), problems)
    values = {"sequence_id": request.query_params.get("sequence_id", ""), "reason": ""}
    return _enroll_page(request, session, me, contacts=contacts, values=values, problems=problems, status=400 if problems else 200)


@router.post("/sequence-enroll")
def enroll(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    problems = Problems()
    contacts = _chosen_contacts(session, me, [str(v) for v in form.getlist("contact_id")], problems)
    values = {"sequence_id": str(form.get("sequence_id") or ""), "reason": str(form.get("reason") or "").strip()}
    sequence_id = parse_uuid(values["sequence_id"])
    if sequence_id is None:
        problems.add([FieldError("sequence_id", "choose a sequence")], ["sequence_id"])
    if not contacts and not problems.of("contact_id"):
        problems.add([FieldError("contact_id", "choose at least one contact you can see")], ["contact_id"])
    if len(values["reason"]) > 500:
        problems.add([FieldError("reason", "must be at most 500 characters")], ["reason"])
    if problems:
        return _enroll_page(request, session, me, contacts=contacts, values=values, problems=problems, status=422)
    sequence = sequence_service.get(session, sequence_id)  # type: ignore[arg-type]
    enrolled, refused = [], []
    for contact in contacts:
        try:
            with session.begin_nested():
                sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=me.actor, reason=values["reason"] or None)
        except PipewiseError as exc:
            refused.append(Refusal(contact, exc.errors[0].message if exc.errors else exc.detail))
        else:
            enrolled.append(contact)
    return _enroll_page(
        request, session, me, contacts=contacts, values=values, problems=problems, status=200 if enrolled else 409,
        sequence=sequence, enrolled=enrolled, refused=refused,
        list_url="/sequence-enrollments?" + urlencode({"sequence_id": str(sequence.id)}),
    )
