"""Sequences API: sequences, steps and variants, enrollments, mailboxes, templates,
suppression, sender addresses, sent mail, previews, metrics; plus the public endpoints
(under ``public_router``): inbound mail from the gateway, tracking, unsubscribe and
sender-address confirmation."""

import uuid
from typing import Any

from fastapi import Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import escape

from pipewise.api.deps import CurrentActor, DbSession, RawBody, Unauthorized, api_router
from pipewise.errors import PipewiseError, ValidationFailed
from pipewise.mail import consent, gateway, ledger, tracking
from pipewise.mail import schemas as mail_schemas
from pipewise.mail.mailboxes import mailbox_service
from pipewise.mail.senders import sender_address_service
from pipewise.mail.suppression import suppression_service
from pipewise.sequences import inbound
from pipewise.sequences import schemas as s
from pipewise.sequences.decisions import decisions_for
from pipewise.sequences.library import template_service
from pipewise.sequences.metrics import step_metrics
from pipewise.sequences.service import sequence_service

router = api_router(tags=["sequences"])
public_router = api_router(tags=["e-mail (public)"])

PLAIN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family:sans-serif;max-width:32rem;margin:4rem auto"><h1>{title}</h1><p>{text}</p>{form}</body></html>"""


def _sequence(session: Any, sequence_id: uuid.UUID) -> dict[str, Any]:
    return sequence_service.describe(session, sequence_service.get(session, sequence_id))


@router.get("/sequences", response_model=list[s.Sequence])
def list_sequences(session: DbSession, actor: CurrentActor, status: str | None = None) -> Any:
    return [sequence_service.describe(session, q) for q in sequence_service.all(session, status=status)]


@router.post("/sequences", status_code=201, response_model=s.Sequence)
def create_sequence(body: s.SequenceCreate, session: DbSession, actor: CurrentActor) -> Any:
    sequence = sequence_service.create(session, data=body.model_dump(), actor=actor)
    session.flush()
    return _sequence(session, sequence.id)


@router.get("/sequences/{sequence_id}", response_model=s.Sequence)
def read_sequence(sequence_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return _sequence(session, sequence_id)


@router.patch("/sequences/{sequence_id}", response_model=s.Sequence)
def update_sequence(sequence_id: uuid.UUID, body: s.SequenceUpdate, session: DbSession, actor: CurrentActor) -> Any:
    sequence_service.update(session, sequence_id, data=body.model_dump(exclude_unset=True), actor=actor)
    session.flush()
    return _sequence(session, sequence_id)


@router.post("/sequences/{sequence_id}/activate", response_model=s.Sequence, summary="Validate every step and go live")
def activate_sequence(sequence_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    sequence_service.activate(session, sequence_id, actor=actor)
    return _sequence(session, sequence_id)


@router.post("/sequences/{sequence_id}/pause", response_model=s.Sequence, summary="Pause a sequence (enrollments wait)")
def pause_sequence(sequence_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    sequence_service.set_status(session, sequence_id, "paused", actor=actor)
    return _sequence(session, sequence_id)


@router.post("/sequences/{sequence_id}/archive", response_model=s.Sequence, summary="Archive a sequence")
def archive_sequence(sequence_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    sequence_service.set_status(session, sequence_id, "archived", actor=actor)
    return _sequence(session, sequence_id)


@router.post("/sequences/{sequence_id}/steps", status_code=201, response_model=s.Sequence)
def add_step(sequence_id: uuid.UUID, body: s.StepIn, session: DbSession, actor: CurrentActor) -> Any:
    sequence_service.add_step(session, sequence_id, step=body, actor=actor)
    return _sequence(session, sequence_id)


@router.patch("/sequences/{sequence_id}/steps/{step_id}", response_model=s.Sequence)
def update_step(sequence_id: uuid.UUID, step_id: uuid.UUID, body: s.StepUpdate, session: DbSession, actor: CurrentActor) -> Any:
    sequence_service.update_step(session, sequence_id, step_id, change=body, actor=actor)
    return _sequence(session, sequence_id)


@router.delete("/sequences/{sequence_id}/steps/{step_id}", status_code=204)
def delete_step(sequence_id: uuid.UUID, step_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> None:
    sequence_service.delete_step(session, sequence_id, step_id, actor=actor)


@router.post("/sequences/{sequence_id}/steps/{step_id}/move", response_model=s.Sequence, summary="Swap a step with its neighbour")
def move_step(sequence_id: uuid.UUID, step_id: uuid.UUID, body: s.MoveStepIn, session: DbSession, actor: CurrentActor) -> Any:
    sequence_service.move_step(session, sequence_id, step_id, direction=body.direction, actor=actor)
    return _sequence(session, sequence_id)


@router.post("/tasks/{task_id}/send-step", status_code=201, response_model=s.QueuedEmail,
             summary="Send the e-mail a manual sequence step asks for; the task is then done")
def send_manual_step(task_id: uuid.UUID, body: s.ManualStepSend, session: DbSession, actor: CurrentActor) -> Any:
    return sequence_service.send_manual_step(session, task_id=task_id, subject=body.subject, body_text=body.body_text, actor=actor)


@router.post("/sequences/{sequence_id}/enrollments", response_model=s.EnrollResult, summary="Enroll one or many contacts")
def enroll(sequence_id: uuid.UUID, body: s.EnrollIn, session: DbSession, actor: CurrentActor) -> Any:
    """Each contact is enrolled or refused with the reason; refusals do not undo the others."""
    enrolled, refused = [], []
    for contact_id in dict.fromkeys(body.contact_ids):
        try:
            with session.begin_nested():
                enrollment = sequence_service.enroll(session, sequence_id=sequence_id, contact_id=contact_id, actor=actor, reason=body.reason)
            enrolled.append(enrollment)
        except PipewiseError as exc:
            if exc.status == 404 and str(exc).startswith("no sequence"):
                raise
            refused.append({"contact_id": contact_id, "status": exc.status, "message": exc.detail})
    session.flush()
    return {"enrolled": enrolled, "refused": refused}


@router.post("/sequences/{sequence_id}/unenroll", response_model=s.Enrollment)
def unenroll(sequence_id: uuid.UUID, body: s.UnenrollIn, session: DbSession, actor: CurrentActor) -> Any:
    return sequence_service.unenroll(session, sequence_id=sequence_id, contact_id=body.contact_id, actor=actor, reason=body.reason)


@router.get("/sequence-enrollments", response_model=list[s.Enrollment])
def list_enrollments(
    session: DbSession, actor: CurrentActor, sequence_id: uuid.UUID | None = None, contact_id: uuid.UUID | None = None,
    status: str | None = None, limit: int = Query(200, ge=1, le=1000),
) -> Any:
    return sequence_service.enrollments(session, actor=actor, sequence_id=sequence_id, contact_id=contact_id, status=status, limit=limit)


@router.post("/sequence-enrollments/{enrollment_id}/pause", response_model=s.Enrollment)
def pause_enrollment(enrollment_id: uuid.UUID, body: s.ResumeIn, session: DbSession, actor: CurrentActor) -> Any:
    return sequence_service.pause(session, enrollment_id, actor=actor, reason=body.reason)


@router.post("/sequence-enrollments/{enrollment_id}/resume", response_model=s.Enrollment)
def resume_enrollment(enrollment_id: uuid.UUID, body: s.ResumeIn, session: DbSession, actor: CurrentActor) -> Any:
    return sequence_service.resume(session, enrollment_id, actor=actor, reason=body.reason)


@router.get("/sequence-enrollments/{enrollment_id}/decisions", response_model=list[s.Decision], summary="Why the enrollment did what it did")
def enrollment_decisions(enrollment_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    sequence_service.enrollment(session, enrollment_id, actor=actor)
    return decisions_for(session, enrollment_id=enrollment_id)


@router.get("/sequences/{sequence_id}/metrics", summary="Per-step and per-variant results")
def sequence_metrics(sequence_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    sequence_service.get(session, sequence_id)
    return step_metrics(session, sequence_id, actor=actor)


@router.post("/email/preview", response_model=s.Preview, summary="Render a subject and body with a real contact")
def preview(body: s.PreviewIn, session: DbSession, actor: CurrentActor) -> Any:
    rendered = sequence_service.preview(
        session, contact_id=body.contact_id, subject=body.subject, body_html=body.body_html, body_text=body.body_text, actor=actor
    )
    return {"subject": rendered.subject, "html": rendered.html, "text": rendered.text}


@router.get("/mailboxes", response_model=list[mail_schemas.Mailbox])
def list_mailboxes(session: DbSession, actor: CurrentActor) -> Any:
    return mailbox_service.all(session, actor=actor)


@router.put("/mailboxes", response_model=mail_schemas.Mailbox, summary="Set up or change a user's mailbox (yours by default)")
def save_mailbox(body: mail_schemas.MailboxCreate, session: DbSession, actor: CurrentActor) -> Any:
    return mailbox_service.save(session, data=body.model_dump(exclude_unset=True), actor=actor)


@router.get("/mail-addresses", response_model=list[mail_schemas.MailAddressOut], summary="From addresses you may send as (admins: everyone's)")
def list_mail_addresses(session: DbSession, actor: CurrentActor) -> Any:
    return sender_address_service.all(session, actor=actor)


@router.post("/mail-addresses", status_code=201, response_model=mail_schemas.MailAddressOut,
             summary="Ask to send as an address: an admin approves it, anyone else gets a confirmation link e-mailed to it")
def add_mail_address(body: mail_schemas.MailAddressIn, session: DbSession, actor: CurrentActor) -> Any:
    return sender_address_service.request(session, address=body.address, user_id=body.user_id, actor=actor)


@router.delete("/mail-addresses/{address_id}", status_code=204)
def remove_mail_address(address_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> None:
    sender_address_service.remove(session, address_id, actor=actor)


@router.get("/email-messages", response_model=list[mail_schemas.SentMessage], summary="Sent mail: yours and your team's (admins: all)")
def list_sent_messages(session: DbSession, actor: CurrentActor, status: str | None = None, limit: int = Query(100, ge=1, le=1000)) -> Any:
    return ledger.outbound(session, actor=actor, status=status, limit=limit)


@router.get("/email-messages/{message_id}", response_model=mail_schemas.SentMessage)
def read_sent_message(message_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return ledger.get(session, message_id, actor=actor)


@router.get("/email-templates", response_model=list[s.Template])
def list_templates(session: DbSession, actor: CurrentActor, kind: str | None = None) -> Any:
    return template_service.all(session, kind=kind)


@router.post("/email-templates", status_code=201, response_model=s.Template)
def create_template(body: s.TemplateCreate, session: DbSession, actor: CurrentActor) -> Any:
    return template_service.create(session, data=body.model_dump(), actor=actor)


@router.patch("/email-templates/{template_id}", response_model=s.Template)
def update_template(template_id: uuid.UUID, body: s.TemplateUpdate, session: DbSession, actor: CurrentActor) -> Any:
    return template_service.update(session, template_id, data=body.model_dump(exclude_unset=True), actor=actor)


@router.delete("/email-templates/{template_id}", status_code=204)
def delete_template(template_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> None:
    template_service.delete(session, template_id, actor=actor)


@router.get("/suppressions", response_model=list[mail_schemas.SuppressionOut])
def list_suppressions(session: DbSession, actor: CurrentActor) -> Any:
    return suppression_service.all(session)


@router.post("/suppressions", status_code=201, response_model=mail_schemas.SuppressionOut)
def add_suppression(body: mail_schemas.SuppressionIn, session: DbSession, actor: CurrentActor) -> Any:
    return suppression_service.add(session, address=body.address, reason=body.reason, detail=body.detail, actor=actor)


@router.delete("/suppressions/{address}", status_code=204)
def remove_suppression(address: str, session: DbSession, actor: CurrentActor) -> None:
    suppression_service.remove(session, address=address, actor=actor)


# -- public: mail gateways, recipients' mail clients --


@public_router.post("/inbound/email", response_model=mail_schemas.InboundResult, summary="Hand over one raw RFC 822 message (mail gateway)")
def inbound_email(request: Request, session: DbSession, raw: RawBody) -> Any:
    """For the mail gateway only: the body is the raw message, signed with the gateway
    secret (``X-Pipewise-Signature``, see docs/sequences.md); a user's API token is not
    accepted."""
    problem = gateway.refusal(request.headers.get(gateway.SIGNATURE_HEADER), raw)
    if problem is not None:
        raise Unauthorized(problem)
    if not raw.strip():
        raise ValidationFailed.on("body", "send the raw RFC 822 message as the request body")
    outcome = inbound.process(session, raw)
    return {"kind": outcome.kind, "message_id": outcome.message_id, "contact_id": outcome.contact_id, "detail": outcome.detail}


@public_router.get("/mail-addresses/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm_sender_address(token: str, session: DbSession) -> Any:
    try:
        row = sender_address_service.confirm(session, token)
    except PipewiseError as exc:
        return HTMLResponse(PLAIN_PAGE.format(title="Link not valid", text=escape(exc.detail), form=""), exc.status)
    return PLAIN_PAGE.format(title="Address confirmed", text=f"You may now send as {escape(row.address)}.", form="")


@public_router.get("/t/open/{token}.gif", include_in_schema=False)
def open_pixel(token: str, session: DbSession) -> Response:
    consent.record_open(session, token)
    return Response(tracking.PIXEL_GIF, media_type="image/gif", headers={"Cache-Control": "no-store"})


@public_router.get("/t/click/{token}", include_in_schema=False)
def click(token: str, session: DbSession) -> Response:
    return RedirectResponse(consent.record_click(session, token), status_code=302)


@public_router.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_page(token: str) -> Any:
    if tracking.unsign("unsubscribe", token) is None:
        return HTMLResponse(PLAIN_PAGE.format(title="Link not valid", text="This unsubscribe link is not valid.", form=""), 404)
    form = '<form method="post"><button type="submit">Unsubscribe me</button></form>'
    return PLAIN_PAGE.format(title="Unsubscribe", text="Stop all e-mail from us to this address?", form=form)


@public_router.post("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe(token: str, session: DbSession, one_click: str | None = Form(None, alias="List-Unsubscribe")) -> Any:
    """The page's button and RFC 8058 one-click (body ``List-Unsubscribe=One-Click``)."""
    via = "one-click" if one_click == "One-Click" else "the unsubscribe page"
    message = consent.unsubscribe(session, token, via=via)
    return PLAIN_PAGE.format(title="Unsubscribed", text=f"{escape(message.to_address)} will get no more e-mail from us.", form="")
