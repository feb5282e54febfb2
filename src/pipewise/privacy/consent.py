"""The consent ledger: every consent a person gave or withdrew, per purpose, with its
legal basis, where it came from and the version (sha256) of the text they were shown.
Entries are only ever added; a purpose's current state is its latest entry.

Withdrawing consent to be mailed (marketing e-mail or sales outreach) stops the mail at
once: the person's address goes on the suppression list (queued mail is cancelled, their
sequence enrollments end) and the record's marketing consent reads "withdrawn", which the
mail path checks before every send. Giving marketing consent again lifts only the
suppression a withdrawal put there, never one from an unsubscribe link, a bounce or a
complaint (an admin lifts those on the suppression list)."""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.audit import service as audit
from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.crm.events import ContactUpdated
from pipewise.crm.models import Contact
from pipewise.crm.service import contact_service
from pipewise.db.append_only import AppendOnly, append_only  # noqa: F401 - AppendOnly: what a caller catches
from pipewise.db.base import utcnow
from pipewise.errors import ErrorCollector
from pipewise.events import bus
from pipewise.leads.events import LeadCaptured, LeadUpdated
from pipewise.leads.models import FormSubmission, LeadForm
from pipewise.leads.service import lead_service
from pipewise.mail.events import EmailUnsubscribed
from pipewise.mail.suppression import suppress, suppression_of
from pipewise.privacy.models import ConsentEntry

PURPOSES = ("marketing_email", "sales_outreach", "profiling", "phone_calls")
LEGAL_BASES = ("consent", "legitimate_interest", "contract", "legal_obligation", "vital_interest", "public_task")
SOURCES = ("web_form", "import", "api", "unsubscribe", "rep")
ACTIONS = ("given", "withdrawn")
SUBJECT_TYPES = ("contact", "lead")
MAIL_PURPOSES = ("marketing_email", "sales_outreach")  # withdrawing either stops mail to the person
MIRRORED_PURPOSE = "marketing_email"  # the record's own "Marketing consent" field follows this one
SUPPRESSION_REASON = "consent"
CLOCK_SKEW = timedelta(minutes=5)
HEX64 = re.compile(r"^[0-9a-f]{64}$")
SERVICES: dict[str, Any] = {"contact": contact_service, "lead": lead_service}


append_only(ConsentEntry, on_change="consent entries are never changed; add a new one",
            on_delete="consent entries are never deleted one by one")


def text_hash(text: str) -> str:
    """The version of a consent text: sha256 of its UTF-8 bytes, hex."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ConsentChange:
    purpose: str
    action: str
    legal_basis: str = "consent"
    source: str = "api"
    text: str | None = None
    text_hash: str | None = None
    at: datetime | None = None
    note: str | None = None


def _checked(change: ConsentChange) -> str | None:
    """The change's text hash once every field is valid; raises with every field error."""
    errors = ErrorCollector()
    for name, allowed in (("purpose", PURPOSES), ("action", ACTIONS), ("legal_basis", LEGAL_BASES), ("source", SOURCES)):
        if getattr(change, name) not in allowed:
            errors.add(name, f"must be one of {', '.join(allowed)}")
    digest = change.text_hash.strip().lower() if change.text_hash else None
    if digest is not None and not HEX64.match(digest):
        errors.add("text_hash", "must be the sha256 of the text shown, as 64 hex digits")
    if change.text is not None:
        if digest is not None and digest != text_hash(change.text):
            errors.add("text_hash", "does not match the text given")
        digest = text_hash(change.text)
    if change.action == "given" and change.legal_basis == "consent" and digest is None:
        errors.add("text", "consent given must say what the person agreed to: send the text shown (or its sha256)")
    if change.at is not None and (change.at.tzinfo is None or change.at > utcnow() + CLOCK_SKEW):
        errors.add("at", "must be a time with its zone, not in the future")
    errors.raise_if_any()
    return digest


def subject_of(session: Session, subject_type: str, subject_id: uuid.UUID, *, actor: Actor, write: bool = False) -> Any:
    """The contact or lead, if ``actor`` may see it (and change it, with ``write``)."""
    return SERVICES[subject_type].get(session, subject_id, actor=actor, write=write)


def record(session: Session, subject_type: str, subject_id: uuid.UUID, change: ConsentChange, *, actor: Actor) -> ConsentEntry:
    """Add one entry for a person ``actor`` may change, and act on it (see the module)."""
    digest = _checked(change)
    subject = subject_of(session, subject_type, subject_id, actor=actor, write=True)
    return _append(session, subject_type, subject, change, digest, actor=actor, label=audit.actor_label(actor))


def _append(session: Session, subject_type: str, subject: Any, change: ConsentChange, digest: str | None, *,
            actor: Actor, label: str) -> ConsentEntry:
    entry = ConsentEntry(
        subject_type=subject_type, subject_id=subject.id, purpose=change.purpose, legal_basis=change.legal_basis,
        source=change.source, action=change.action, text_hash=digest, note=change.note, at=change.at or utcnow(),
        recorded_at=utcnow(), actor_id=actor.id if actor.id.int else None, actor_label=label[:200],
    )
    session.add(entry)
    session.flush()
    audit.log(session, f"consent.{change.action}", actor=actor, label=label,
              summary=f"{change.purpose.replace('_', ' ')} consent {change.action} ({change.source})",
              target_type=subject_type, target_id=subject.id,
              details={"purpose": change.purpose, "legal_basis": change.legal_basis, "source": change.source,
                       "text_hash": digest})
    _apply(session, subject_type, subject, actor)
    return entry


def _apply(session: Session, subject_type: str, subject: Any, actor: Actor) -> None:
    """Bring the record's marketing consent and the suppression list in line with the ledger.
    Only a suppression the ledger itself made (reason "consent") is lifted, by the person's
    own renewed consent: no admin's rights are borrowed, and other suppressions stay."""
    current = state(session, subject_type, subject.id)
    mirrored = current.get(MIRRORED_PURPOSE)
    wanted = {"given": "granted", "withdrawn": "withdrawn"}.get(mirrored.action) if mirrored else None
    if wanted and subject.consent_state != wanted:
        SERVICES[subject_type].update(session, subject, data={"consent_state": wanted}, actor=actor)
    if not subject.email:
        return
    mail_withdrawn = [p for p in MAIL_PURPOSES if p in current and current[p].action == "withdrawn"]
    suppressed = suppression_of(session, subject.email)
    if mail_withdrawn and suppressed is None:
        suppress(session, subject.email, reason=SUPPRESSION_REASON, detail=f"consent withdrawn: {', '.join(mail_withdrawn)}",
                 contact_id=subject.id if subject_type == "contact" else None)
    elif not mail_withdrawn and suppressed is not None and suppressed.reason == SUPPRESSION_REASON:
        session.delete(suppressed)


def state(session: Session, subject_type: str, subject_id: uuid.UUID) -> dict[str, ConsentEntry]:
    """purpose -> its latest entry (purposes never recorded are absent)."""
    latest: dict[str, ConsentEntry] = {}
    for entry in session.scalars(select(ConsentEntry).where(
            ConsentEntry.subject_type == subject_type, ConsentEntry.subject_id == subject_id).order_by(ConsentEntry.id)):
        latest[entry.purpose] = entry
    return latest


def ledger(session: Session, subject_type: str, subject_id: uuid.UUID, *, actor: Actor,
           limit: int = 500) -> tuple[Any, dict[str, ConsentEntry], list[ConsentEntry]]:
    """The person (if visible to ``actor``), their current state and their entries, newest first."""
    subject = subject_of(session, subject_type, subject_id, actor=actor)
    entries = list(session.scalars(select(ConsentEntry).where(
        ConsentEntry.subject_type == subject_type, ConsentEntry.subject_id == subject_id)
        .order_by(ConsentEntry.id.desc()).limit(limit)))
    return subject, state(session, subject_type, subject_id), entries


def on_unsubscribed(session: Session, event: bus.Event) -> None:
    """An unsubscribe (the link, the one-click POST or a reply to the List-Unsubscribe
    address) is the recipient withdrawing marketing consent: it goes in the contact's
    ledger (the address is already suppressed), once."""
    contact = session.get(Contact, event.record_id) if event.record_id else None
    latest = state(session, "contact", contact.id).get(MIRRORED_PURPOSE) if contact is not None else None
    if contact is None or (latest is not None and latest.action == "withdrawn"):
        return
    change = ConsentChange(purpose=MIRRORED_PURPOSE, action="withdrawn", source="unsubscribe", at=event.occurred_at,
                           note=f"unsubscribed from {event.payload.get('data', {}).get('message_id', 'an e-mail')}"[:2000])
    _append(session, "contact", contact, change, None, actor=SYSTEM_ACTOR, label="the recipient (unsubscribe)")


def on_lead_captured(session: Session, event: bus.Event) -> None:
    """A web form whose consent box was ticked: the lead's marketing consent, with the
    form's text as shown, goes in the ledger (once per submission)."""
    submission_id = event.payload.get("data", {}).get("submission_id")
    submission = session.get(FormSubmission, uuid.UUID(submission_id)) if submission_id else None
    if submission is None or not submission.consent_given or not submission.consent_text or submission.lead_id is None:
        return
    note = f"form submission {submission.id}"
    if session.scalar(select(ConsentEntry.id).where(ConsentEntry.subject_type == "lead",
                                                    ConsentEntry.subject_id == submission.lead_id, ConsentEntry.note == note)):
        return
    lead = lead_service.repository(session).get(submission.lead_id, SYSTEM_ACTOR)
    if lead is None:
        return
    form = session.get(LeadForm, submission.form_id)
    change = ConsentChange(purpose=MIRRORED_PURPOSE, action="given", source="web_form", at=submission.consented_at,
                           note=note)
    _append(session, "lead", lead, change, text_hash(submission.consent_text), actor=SYSTEM_ACTOR,
            label=f"the person (form {form.name if form else 'removed'})")


def on_consent_field_changed(session: Session, event: bus.Event) -> None:
    """A person set a record's "Marketing consent" field by hand (the record's form, a
    PATCH): that is consent given or withdrawn, so it goes in the ledger too, and a
    withdrawal stops the mail. A change the ledger itself made is already there."""
    old_new = event.payload.get("changes", {}).get("consent_state")
    wanted = {"granted": "given", "withdrawn": "withdrawn"}.get(old_new[1]) if old_new else None
    subject_type = event.record_type or ""
    subject = session.get(SERVICES[subject_type].spec.model, event.record_id) if wanted and subject_type in SERVICES else None
    if subject is None or subject.consent_state != old_new[1]:
        return
    latest = state(session, subject_type, subject.id).get(MIRRORED_PURPOSE)
    if latest is not None and latest.action == wanted:
        return
    user = session.get(User, event.actor_id) if event.actor_id else None
    if user is None:  # Pipewise's own writes (a form capture, an unsubscribe) write their own entries
        return
    actor = Actor.for_user(session, user)
    change = ConsentChange(purpose=MIRRORED_PURPOSE, action=wanted, source="rep", at=event.occurred_at,
                           note="set on the record's Marketing consent field")
    _append(session, subject_type, subject, change, None, actor=actor, label=audit.actor_label(actor))


TABLE = bus.HandlerTable(subscriptions=(
    bus.Subscription.to(EmailUnsubscribed, "privacy.unsubscribe", on_unsubscribed, rerun_safe=True),
    bus.Subscription.to(LeadCaptured, "privacy.form_consent", on_lead_captured, rerun_safe=True),
    bus.Subscription.to((ContactUpdated, LeadUpdated), "privacy.consent_field", on_consent_field_changed, rerun_safe=True),
))
