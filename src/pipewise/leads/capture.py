"""Lead capture: public web forms (POST /f/{key}) and the API's capture call share one
path — clean, de-duplicate, score, route — and a form post also keeps its consent and
the timings that make up speed to lead. Capture scores and routes in its own transaction
(the answer names the owner, and speed to lead counts from the post); the fuzzy duplicate
check runs right after commit."""

import html
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.db.base import utcnow, uuid7
from pipewise.errors import ErrorCollector, NotFound, PipewiseError, ValidationFailed
from pipewise.events import bus
from pipewise.leads import routing, scores
from pipewise.leads.events import LeadCaptured
from pipewise.leads.models import FormSubmission, Lead, LeadForm
from pipewise.leads.service import clean_lead_fields, lead_service
from pipewise.records import bounds

HONEYPOT_FIELD = "pw_website"
CONSENT_FIELD = "consent"
ATTRIBUTION_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer", "landing_page")
MAPPABLE = (
    "first_name", "last_name", "full_name", "email", "phone", "title", "company", "industry",
    "company_size", "country", "region",
)
FILLABLE = frozenset(MAPPABLE) - {"full_name"}
TRUTHY = frozenset({"on", "true", "1", "yes", "y", "checked"})


class RateLimited(PipewiseError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


# -- forms --


def check_form(session: Session, data: dict[str, Any], record: LeadForm | None) -> None:
    errors = ErrorCollector()
    bounds.screen(LeadForm, data, creating=record is None, errors=errors)
    if record is None and not str(data.get("name") or "").strip():
        errors.add("name", "is required")
    field_map = data.get("field_map")
    if field_map is not None:
        if not isinstance(field_map, dict) or not field_map:
            errors.add("field_map", "map at least one form field to a lead field")
        else:
            for form_field, target in field_map.items():
                if not (target in MAPPABLE or (isinstance(target, str) and target.startswith("custom.") and len(target) > 7)):
                    errors.add(f"field_map.{form_field}", f"{target!r} is not a lead field; use one of {', '.join(MAPPABLE)} or custom.<key>")
            targets = set(field_map.values())
            if not targets & {"last_name", "full_name", "email"}:
                errors.add("field_map", "a form needs a name or an e-mail field")
    elif record is None:
        errors.add("field_map", "is required")
    required = data.get("required_fields")
    if required is not None and field_map is not None and isinstance(field_map, dict):
        for name in required:
            if name not in field_map:
                errors.add("required_fields", f"{name!r} is not a field of this form")
    if data.get("consent_required") and not (data.get("consent_text") or getattr(record, "consent_text", None)):
        errors.add("consent_text", "a form that requires consent must say what is consented to")
    limit = data.get("rate_limit_per_minute")
    if limit is not None and not 1 <= int(limit) <= 10_000:
        errors.add("rate_limit_per_minute", "must be between 1 and 10000")
    errors.raise_if_any()


def create_form(session: Session, data: dict[str, Any], *, actor: Actor) -> LeadForm:
    check_form(session, data, None)
    form = LeadForm(id=uuid7(), key=secrets.token_urlsafe(12), **data)
    session.add(form)
    session.flush()
    return form


def update_form(session: Session, form: LeadForm, data: dict[str, Any], *, actor: Actor) -> LeadForm:
    check_form(session, data, form)
    forget_form(form.key)
    for key, value in data.items():
        setattr(form, key, value)
    return form


def form_by_key(session: Session, key: str) -> LeadForm:
    form = session.scalar(select(LeadForm).where(LeadForm.key == key))
    if form is None or not form.is_active:
        raise NotFound("there is no such form, or it no longer takes submissions")
    return form


# -- capture --


@dataclass
class Captured:
    lead: Lead | None
    is_new: bool
    submission: FormSubmission | None = None


def capture(
    session: Session,
    data: dict[str, Any],
    *,
    actor: Actor = SYSTEM_ACTOR,
    attribution: dict[str, str] | None = None,
    submission: FormSubmission | None = None,
    form: LeadForm | None = None,
) -> Captured:
    """Create the lead, or update the one with the same e-mail; score and route it in this
    transaction (the answer names its owner). The fuzzy duplicate check follows right after
    commit, as for every lead (``intake``)."""
    data = dict(data)
    _tidy_capture_fields(data)
    existing = session.scalar(select(Lead).where(Lead.email == data["email"]).order_by(Lead.created_at).limit(1)) if data.get("email") else None
    if attribution:
        data["attribution"] = {**(existing.attribution if existing else {}), **attribution}
    if existing is not None:
        fill = {k: v for k, v in data.items() if v not in (None, "") and getattr(existing, k, None) in (None, "", {})}
        if "attribution" in data:
            fill["attribution"] = data["attribution"]
        if data.get("consent_state") == "granted":
            fill["consent_state"] = "granted"
        lead, is_new = lead_service.update(session, existing, data=fill, actor=SYSTEM_ACTOR), False
    else:
        data.setdefault("owner_id", None)
        lead, is_new = lead_service.create(session, data=data, actor=SYSTEM_ACTOR), True
    session.flush()
    if submission is not None:
        submission.lead_id = lead.id
        scores.record_engagement(session, lead.id, kind="form_fill", detail={"form": form.name if form else None})
    else:
        scores.score_leads(session, [lead.id], cause="captured" if is_new else "captured again", actor=actor)
    assignment = None
    if lead.owner_id is None:
        assignment = routing.assign(session, lead, actor=actor, cause=f"captured from {form.name}" if form else "captured",
                            submission_id=submission.id if submission else None)
    if submission is not None and assignment is not None:
        submission.assigned_at = assignment.assigned_at
    bus.record(
        session,
        LeadCaptured(
            record_id=lead.id,
            is_new=is_new,
            form_id=form.id if form else None,
            submission_id=submission.id if submission else None,
        ),
    )
    return Captured(lead, is_new, submission)


# A busy form is read once a few seconds per process, not once a post. A change made in this
# process is seen at once (``update_form`` forgets the form); other processes see it within
# FORM_CACHE_SECONDS.
FORM_CACHE_SECONDS = 5.0
_form_views: dict[str, tuple[float, LeadForm]] = {}


def form_view(session: Session, key: str) -> LeadForm:
    """The active form ``key``, detached from the session (its values loaded, read-only)."""
    now = time.monotonic()
    cached = _form_views.get(key)
    if cached is not None and now - cached[0] < FORM_CACHE_SECONDS:
        return cached[1]
    form = form_by_key(session, key)
    session.expunge(form)
    _form_views[key] = (now, form)
    return form


def forget_form(key: str) -> None:
    _form_views.pop(key, None)


@dataclass
class Submission:
    """A form post checked and cleaned, ready to be written."""

    form: LeadForm
    fields: dict[str, str]
    received: datetime
    spam: bool = False
    consent: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    attribution: dict[str, str] = field(default_factory=dict)


def prepare(form: LeadForm, fields: dict[str, Any], *, received: datetime | None = None) -> Submission:
    """Everything about a post that needs no database: the honeypot, required fields,
    consent, field mapping and the cleaning of every value. ValidationFailed names each
    problem by the form's own field names."""
    fields = {str(k): ("" if v is None else str(v)).strip() for k, v in fields.items()}
    post = Submission(form, fields, received or utcnow())
    if fields.get(HONEYPOT_FIELD):
        post.spam = True
        return post
    post.consent = fields.get(CONSENT_FIELD, "").lower() in TRUTHY
    errors = ErrorCollector()
    if form.consent_required and not post.consent:
        errors.add(CONSENT_FIELD, "please tick the consent box")
    for name in form.required_fields:
        if not fields.get(name):
            errors.add(name, "is required")
    data = post.data
    for form_field, target in form.field_map.items():
        value = fields.get(form_field)
        if not value:
            continue
        if target.startswith("custom."):
            data.setdefault("custom", {})[target[7:]] = value
        elif target == "company_size":
            if value.isdigit():
                data[target] = int(value)
            else:
                errors.add(form_field, "must be a whole number")
        else:
            data[target] = value
    named = bool(data.get("email") or data.get("last_name") or data.get("full_name"))
    if not named:
        errors.add(next(iter(form.field_map)), "give at least a name or an e-mail address")
    if post.consent and form.consent_text:
        data["consent_state"] = "granted"
    data["source"] = form.source
    if named:
        try:
            _tidy_capture_fields(data)
        except ValidationFailed as exc:  # every problem of the post at once, named as the form names it
            for error in exc.errors:
                renamed = _to_form_field(error, form)
                errors.add(renamed.field, renamed.message)
    errors.raise_if_any()
    post.attribution = {k: fields[k][:500] for k in (*ATTRIBUTION_FIELDS, *form.hidden_fields) if fields.get(k)}
    post.attribution["form"] = form.name
    return post


def write(session: Session, post: Submission, *, ip: str | None) -> Captured:
    """The prepared post in the caller's (write) transaction: the rate limit, the
    submission with its consent, and the lead captured, scored and routed."""
    form = post.form
    if ip:
        recent = session.scalar(
            select(func.count()).select_from(FormSubmission).where(
                FormSubmission.ip == ip, FormSubmission.received_at >= post.received - timedelta(minutes=1)
            )
        )
        if (recent or 0) >= form.rate_limit_per_minute:
            raise RateLimited("too many submissions from this address; try again in a minute", retry_after=60)
    submission = FormSubmission(id=uuid7(), form_id=form.id, ip=ip, received_at=post.received, payload=_trimmed(post.fields))
    if post.spam:
        # Bots fill every field; people never see this one. Answer as if all went well.
        submission.status = "spam"
        session.add(submission)
        return Captured(None, False, submission)
    if post.consent and form.consent_text:
        submission.consent_given, submission.consent_text, submission.consented_at = True, form.consent_text, post.received
    # A failure rolls back the caller's whole transaction: nothing of the post is kept.
    try:
        captured = capture(session, post.data, attribution=post.attribution, submission=submission, form=form)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.detail, errors=[_to_form_field(e, form) for e in exc.errors]) from None
    session.add(submission)  # last, with its lead and assignment time: one INSERT, no UPDATEs
    return captured


def _tidy_capture_fields(data: dict[str, Any]) -> None:
    """Split a full name, fall back on the address for a last name, clean every value (in
    place; running it again on clean values changes nothing)."""
    if "full_name" in data:
        first, _, last = str(data.pop("full_name") or "").strip().rpartition(" ")
        data.setdefault("first_name", first or None)
        data.setdefault("last_name", last or None)
    if not data.get("last_name") and data.get("email"):
        # A newsletter form asks only for the address; the name can come later.
        data["last_name"] = str(data["email"]).partition("@")[0]
    errors = ErrorCollector()
    clean_lead_fields(data, None, errors)
    errors.raise_if_any()


def submit(session: Session, key: str, fields: dict[str, Any], *, ip: str | None) -> Captured:
    """One post to a public form, in the caller's transaction."""
    received = utcnow()
    return write(session, prepare(form_view(session, key), fields, received=received), ip=ip)


def _to_form_field(error: Any, form: LeadForm) -> Any:
    """Name the field as the form calls it, not as the lead does."""
    for form_field, target in form.field_map.items():
        if target == error.field:
            return type(error)(form_field, error.message)
    return error


def _trimmed(fields: dict[str, str]) -> dict[str, str]:
    return {k[:100]: v[:2000] for k, v in list(fields.items())[:100]}


# -- the embeddable snippet --

_LABELS = {
    "first_name": "First name", "last_name": "Last name", "full_name": "Name", "email": "E-mail",
    "phone": "Phone", "title": "Job title", "company": "Company", "industry": "Industry",
    "company_size": "Company size", "country": "Country", "region": "State / region",
}


@dataclass(frozen=True)
class FormField:
    """One field of a form as a person fills it in: its name in the post, label and input type."""

    name: str
    label: str
    kind: str  # email | tel | text
    required: bool


def fields_of(form: LeadForm) -> list[FormField]:
    fields = []
    for name, target in form.field_map.items():
        label = _LABELS.get(target, target.removeprefix("custom.").replace("_", " ").capitalize())
        kind = "email" if target == "email" else "tel" if target == "phone" else "text"
        fields.append(FormField(name, label, kind, name in form.required_fields))
    return fields


def hidden_fields_of(form: LeadForm) -> tuple[str, ...]:
    """The fields a page fills in itself: attribution (UTM, referrer) and the form's own."""
    return (*ATTRIBUTION_FIELDS, *form.hidden_fields)


def snippet(form: LeadForm, base_url: str) -> str:
    """HTML to paste into any page: the fields, hidden UTM fields filled from the page's
    address, the honeypot and the consent box."""
    action = f"{base_url.rstrip('/')}/f/{form.key}"
    lines = [f'<form class="pipewise-form" method="post" action="{html.escape(action)}" accept-charset="utf-8">']
    for field_ in fields_of(form):
        required = " required" if field_.required else ""
        lines.append(f'  <label>{html.escape(field_.label)} <input type="{field_.kind}" name="{html.escape(field_.name)}"{required}></label>')
    for name in hidden_fields_of(form):
        lines.append(f'  <input type="hidden" name="{html.escape(name)}">')
    lines.append(
        f'  <div style="position:absolute;left:-5000px" aria-hidden="true"><input type="text" name="{HONEYPOT_FIELD}" tabindex="-1" autocomplete="off"></div>'
    )
    if form.consent_text:
        required = " required" if form.consent_required else ""
        lines.append(f'  <label><input type="checkbox" name="{CONSENT_FIELD}" value="yes"{required}> {html.escape(form.consent_text)}</label>')
    lines.append('  <button type="submit">Send</button>')
    lines.append("</form>")
    lines.append(
        "<script>(function(f){var p=new URLSearchParams(location.search);"
        "f.querySelectorAll('input[type=hidden]').forEach(function(i){"
        "if(i.name==='referrer'){i.value=document.referrer}else if(i.name==='landing_page'){i.value=location.href}"
        "else if(p.get(i.name)){i.value=p.get(i.name)}});})(document.currentScript.previousElementSibling);</script>"
    )
    return "\n".join(lines)


def speed_to_lead(session: Session, lead_id: uuid.UUID) -> FormSubmission | None:
    return session.scalar(
        select(FormSubmission).where(FormSubmission.lead_id == lead_id).order_by(FormSubmission.received_at.desc()).limit(1)
    )
