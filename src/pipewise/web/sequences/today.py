"""A rep's "Today" queue: manual e-mail steps with their pre-filled draft (edit, send
or skip), call tasks and other tasks due today or overdue. Managers may open the queue
of anyone in their teams. Closing a sequence's task lets the sequence go on."""

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.crm.service import task_service
from pipewise.errors import FieldError, PermissionDenied, ValidationFailed
from pipewise.sequences import clock, queries, templates
from pipewise.sequences.service import sequence_service
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, safe_next, web_router
from pipewise.web.forms import Problems, parse_uuid
from pipewise.web.records.scope import SCOPES, current_scope, remember
from pipewise.web.sequences.forms import STEP_KINDS

router = web_router()
DRAFT_FIELDS = ("subject", "body")
# The service validates the draft as a template: its parts map onto the form's fields.
DRAFT_ERROR_FIELDS = {"subject": "subject", "body_html": "body", "body_text": "body", "contact_id": "body"}


def _queue_owner(session: Session, me: WebUser, rep: str | None) -> Any:
    members = queries.team_members(session, me.actor)
    if not rep:
        return me.user, members
    wanted = parse_uuid(rep)
    owner = next((m for m in members if m.id == wanted), None)
    if owner is None:
        raise PermissionDenied("you may open your own queue, and a manager the queues of their teams")
    return owner, members


def _today(request: Request, session: Session, me: WebUser, rep: str | None, *, editing: dict[uuid.UUID, dict[str, Any]] | None = None,
           status: int = 200) -> Response:
    owner, members = _queue_owner(session, me, rep)
    # Without a chosen rep, a manager sees their team's queue (the remembered scope switch).
    whose = current_scope(request, me)
    owner_ids = [m.id for m in members] if not rep and whose.key != "me" else None
    items = queries.today_queue(session, actor=me.actor, owner_id=owner.id, now=clock.now(), zone=me.user.timezone,
                                owner_ids=owner_ids)
    drafts: dict[uuid.UUID, dict[str, Any]] = {}
    for item in items:
        if item.kind != "manual_email":
            continue
        try:
            draft = queries.manual_draft(session, item)
        except ValidationFailed as exc:
            drafts[item.task.id] = {"values": {"subject": "", "body": item.task.notes or ""}, "problems": _problems(exc.errors)}
            continue
        values = {"subject": draft.subject, "body": draft.body} if draft else {"subject": "", "body": item.task.notes or ""}
        drafts[item.task.id] = {"values": values, "problems": Problems()}
    drafts.update(editing or {})
    groups = [
        ("manual_email", "E-mails to write", [i for i in items if i.kind == "manual_email"]),
        ("call", "Calls", [i for i in items if i.kind == "call"]),
        ("task", "Other tasks", [i for i in items if i.kind == "task"]),
    ]
    return render(request, "sequences/today.html", {
        "owner": owner, "members": members, "groups": groups, "drafts": drafts, "step_kinds": STEP_KINDS,
        "count": len(items), "rep": str(owner.id) if owner.id != me.id else "",
        "filters": {"scope": whose}, "scopes": SCOPES, "owner_names": {m.id: m.name for m in members} if owner_ids else {},
    }, status_code=status)


def _problems(errors: list[FieldError]) -> Problems:
    problems = Problems()
    problems.add([FieldError(DRAFT_ERROR_FIELDS.get(e.field, e.field), e.message) for e in errors], DRAFT_FIELDS)
    return problems


@router.get("/today")
def today(request: Request, session: DbSession, me: CurrentUser, rep: str = "") -> Response:
    return remember(_today(request, session, me, rep or None), me, current_scope(request, me))


def _back(form: FormData) -> str:
    return safe_next(str(form.get("next") or ""), "/today")


@router.post("/today/{task_id}/send")
def send(task_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    task_service.get(session, task_id, actor=me.actor, write=True)
    item = queries.queue_item(session, actor=me.actor, task_id=task_id)
    values = {"subject": str(form.get("subject") or "").strip(), "body": str(form.get("body") or "").strip()}
    errors = [FieldError(name, "is required") for name in DRAFT_FIELDS if not values[name]]
    if item.contact is None:
        errors.append(FieldError("body", "this task is not about a contact, so there is nobody to e-mail"))
    if not errors:
        try:
            with session.begin_nested():
                if item.kind == "manual_email" and item.enrollment is not None:
                    sequence_service.send_manual_step(
                        session, task_id=task_id, subject=values["subject"], body_text=values["body"], actor=me.actor
                    )
                else:
                    sequence_service.send_email(
                        session, contact_id=item.contact.id, subject=values["subject"], body_html=templates.text_to_html(values["body"]),
                        body_text=values["body"], actor=me.actor, sender_id=item.task.owner_id, kind="manual",
                    )
                    task_service.complete(session, task_id, actor=me.actor)
        except ValidationFailed as exc:
            errors = exc.errors or [FieldError("body", exc.detail)]
    if errors:
        editing = {task_id: {"values": values, "problems": _problems(errors)}}
        return _today(request, session, me, str(form.get("rep") or "") or None, editing=editing, status=422)
    flash(request, f"E-mail to {item.contact.full_name} queued for sending.")
    return redirect(_back(form))


def _close(request: Request, session: Session, me: WebUser, task_id: uuid.UUID, status: str, form: FormData) -> Response:
    task = task_service.get(session, task_id, actor=me.actor, write=True)
    task_service.update(session, task, data={"status": status}, actor=me.actor)
    flash(request, f"“{task.title}” {'done' if status == 'done' else 'skipped'}.")
    return redirect(_back(form))


@router.post("/today/{task_id}/done")
def done(task_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    return _close(request, session, me, task_id, "done", form)


@router.post("/today/{task_id}/skip")
def skip(task_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    return _close(request, session, me, task_id, "cancelled", form)
