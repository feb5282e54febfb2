"""Sales-signal guards. ``evaluate`` reads the live record (replies, meetings, manual
touches, deals, colleagues at the account, suppression, caps, window) and says whether an
enrollment may take its next step now, and if not, why and what to do instead.

The same evaluation runs when a contact is enrolled, when a signal arrives, when a step
comes due and again just before the SMTP transaction, so a schedule can never outrank a
signal. Every verdict carries a reason in words a rep understands."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.crm.models import Account, Activity, Contact
from pipewise.db.session import cached_lookup
from pipewise.deals.models import Deal, DealContact, Stage
from pipewise.mail.caps import CAP_PERIOD, automated_since, sender_clause
from pipewise.mail.mailboxes import mailbox_of
from pipewise.mail.models import EmailMessage, Mailbox
from pipewise.mail.suppression import refusal
from pipewise.meetings.models import Meeting
from pipewise.quotes.models import Quote, QuoteResponse
from pipewise.runs.verdicts import Verdict
from pipewise.sequences import holdouts
from pipewise.sequences.calendar import SendWindow, add_delay, zone_of
from pipewise.sequences.models import Enrollment, Sequence
from pipewise.sequences.schemas import SequenceRules, rules_of

# Signals this old are looked at when a contact is enrolled.
ENROLL_LOOKBACK = timedelta(days=7)


CLEAR = Verdict("go", "clear", "no sales signal stands in the way")


@dataclass
class Situation:
    """What the checks read, each piece loaded once, when a check first needs it."""

    session: Session
    enrollment: Enrollment
    sequence: Sequence
    rules: SequenceRules
    contact: Contact | None
    now: datetime

    @property
    def since(self) -> datetime:
        return self.enrollment.signals_after

    @cached_property
    def account(self) -> Account | None:
        return self.session.get(Account, self.contact.account_id) if self.contact.account_id else None

    @cached_property
    def country(self) -> str | None:
        return self.account.country if self.account else None

    @cached_property
    def mailbox(self) -> Mailbox:
        return mailbox_of(self.session, self.enrollment.sender_id)

    @cached_property
    def touches(self) -> list[Any]:
        """The contact's activities since ``since`` that may be a signal (meetings, and
        e-mails and calls that a person rather than automation logged), newest first:
        one indexed query for the reply, meeting and manual-touch checks."""
        since = self.since
        return list(
            self.session.execute(
                select(Activity.type, Activity.direction, Activity.subject, Activity.owner_id, Activity.created_at, Activity.occurred_at)
                # A booked meeting that was cancelled or missed (no-show) is no signal.
                .outerjoin(Meeting, Meeting.activity_id == Activity.id)
                .where(
                    Activity.contact_id == self.enrollment.contact_id,
                    or_(Activity.created_at >= since, Activity.occurred_at >= since),
                    or_(Activity.type == "meeting", Activity.type.in_(("email", "call")) & Activity.automated.is_(False)),
                    or_(Meeting.status.is_(None), Meeting.status.not_in(("cancelled", "no_show"))),
                )
                .order_by(Activity.created_at.desc())
            )
        )


def _on(action: str, code: str, reason: str, until: datetime | None = None) -> Verdict | None:
    """The verdict for a signal whose rule says ``action`` (exit | pause | ignore)."""
    if action == "ignore":
        return None
    return Verdict("exit" if action == "exit" else "pause", code, reason, until if action == "pause" else None)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


# -- signal checks: each returns a Verdict or None --


def _contact_and_consent(s: Situation) -> Verdict | None:
    if s.contact is None:
        return Verdict("exit", "contact_deleted", "the contact was deleted")
    reason = refusal(s.session, s.contact.email, s.contact)
    if reason is None:
        return None
    return Verdict("exit", "consent_withdrawn" if s.contact.consent_state == "withdrawn" else "suppressed", reason)


def _held_out(s: Situation) -> Verdict | None:
    return holdouts.guard(s.session, s.sequence, s.enrollment.contact_id)


def _replied(s: Situation) -> Verdict | None:
    reply = next((t for t in s.touches if t.type == "email" and t.direction == "inbound" and t.created_at >= s.since), None)
    if reply is None:
        return None
    return _on(s.rules.on_reply, "replied", f"{s.contact.full_name} replied on {_when(reply.created_at)}")


def _answered_quote(s: Situation) -> Verdict | None:
    """The contact accepted or declined a quote: an answer, so it counts like a reply."""
    row = s.session.execute(
        select(Quote.number, QuoteResponse.decision, QuoteResponse.created_at)
        .join(QuoteResponse, QuoteResponse.quote_id == Quote.id)
        .where(Quote.contact_id == s.enrollment.contact_id, QuoteResponse.created_at >= s.since)
        .order_by(QuoteResponse.created_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return _on(s.rules.on_reply, "quote_answered", f"{s.contact.full_name} {row.decision} quote {row.number} on {_when(row.created_at)}")


def _meeting(s: Situation) -> Verdict | None:
    meeting = next((t for t in s.touches if t.type == "meeting" and t.created_at >= s.since), None)
    if meeting is None:
        return None
    return _on(s.rules.on_meeting, "meeting", f"a meeting was booked or held with {s.contact.full_name}: “{meeting.subject}”")


def _related_deals(s: Situation) -> list[tuple[Deal, Stage, bool]]:
    """The contact's deals and its account's, each with its stage and whether the contact
    is linked to it; open ones, and closed ones closed since the signals count."""
    # The ids first, from two indexed lookups: "linked OR at the account" in one query
    # makes the database scan every deal. Most contacts have none, and it stops there.
    linked = set(s.session.scalars(select(DealContact.deal_id).where(DealContact.contact_id == s.enrollment.contact_id)))
    ids = set(linked)
    if s.contact.account_id is not None:
        ids |= set(s.session.scalars(select(Deal.id).where(Deal.account_id == s.contact.account_id)))
    if not ids:
        return []
    rows = s.session.execute(
        select(Deal, Stage).join(Stage, Stage.id == Deal.stage_id).where(
            Deal.id.in_(ids), or_(Stage.kind == "open", Deal.closed_at >= s.since)
        )
    )
    return [(deal, stage, deal.id in linked) for deal, stage in rows]


def _first_position(session: Session, pipeline_id: uuid.UUID) -> int | None:
    return cached_lookup(
        session, Stage, ("first", pipeline_id), lambda: session.scalar(select(func.min(Stage.position)).where(Stage.pipeline_id == pipeline_id))
    )


def _threshold(s: Situation, stage: Stage) -> tuple[int, str] | None:
    """The position a deal of ``stage``'s pipeline must reach, and the stage's name."""
    chosen = s.session.get(Stage, s.rules.exit_stage_id) if s.rules.exit_stage_id else None
    if chosen is not None:
        return (chosen.position, chosen.name) if chosen.pipeline_id == stage.pipeline_id else None
    first = _first_position(s.session, stage.pipeline_id)
    return (first + 1, "its first stage") if first is not None else None


def _deals(s: Situation) -> Verdict | None:
    deals = _related_deals(s)
    for deal, stage, linked in deals:
        if stage.kind != "open":
            # Won or lost: the deal is past any exit stage. The account's other contacts
            # leave only where the sequence coordinates by account.
            if linked or s.rules.account_coordination:
                verdict = _on(s.rules.on_deal_stage, "deal_closed", f"deal “{deal.name}” was closed at {stage.name} on {_when(deal.closed_at)}")
                if verdict:
                    return verdict
            continue
        threshold = _threshold(s, stage)
        if threshold is not None and stage.position >= threshold[0]:
            verdict = _on(
                s.rules.on_deal_stage, "deal_stage", f"deal “{deal.name}” is at {stage.name} (the sequence stops at {threshold[1]})"
            )
            if verdict:
                return verdict
    # A deal that already existed at enrollment is not news, whatever the look-back.
    created_after = max(s.since, s.enrollment.enrolled_at)
    for deal, stage, _linked in deals:
        if stage.kind == "open" and deal.created_at >= created_after:
            verdict = _on(s.rules.on_deal_created, "deal_created", f"deal “{deal.name}” was created on {_when(deal.created_at)}")
            if verdict:
                return verdict
    return None


def _colleagues(s: Situation) -> Verdict | None:
    if not s.rules.account_coordination or s.contact.account_id is None:
        return None
    row = s.session.execute(
        select(Activity.type, Activity.created_at, Contact.first_name, Contact.last_name)
        .join(Contact, Contact.id == Activity.contact_id)
        .where(
            Activity.account_id == s.contact.account_id,
            Activity.contact_id != s.contact.id,
            Activity.created_at >= s.since,
            or_(
                Activity.type == "meeting",
                (Activity.type == "email") & (Activity.direction == "inbound") & Activity.automated.is_(False),
            ),
        )
        .order_by(Activity.created_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    colleague = " ".join(part for part in (row.first_name, row.last_name) if part)
    what = "booked a meeting" if row.type == "meeting" else "replied"
    return Verdict("pause", "account_engaged", f"{colleague} at the same account {what} on {_when(row.created_at)}")


def _manual_touch(s: Situation) -> Verdict | None:
    touches = [
        t for t in s.touches
        if t.type in ("email", "call") and t.direction in (None, "outbound") and t.occurred_at >= s.since
    ]
    if not touches:
        return None
    touch = max(touches, key=lambda t: t.occurred_at)
    days = s.rules.manual_touch_pause_days
    zone = zone_of(s.contact.timezone)
    resume = add_delay(touch.occurred_at, days=days, business=True, zone=zone, country=s.country)
    if resume <= s.now:
        return None
    kind = "e-mailed" if touch.type == "email" else "called"
    rep = s.session.get(User, touch.owner_id) if touch.owner_id else None
    who = rep.name if rep else "a rep"
    return _on(
        s.rules.on_manual_touch,
        "manual_touch",
        f"{who} {kind} {s.contact.full_name} by hand on {_when(touch.occurred_at)} (“{touch.subject}”); "
        f"automated steps wait {days} business days, until {_when(resume)}",
        resume,
    )


SIGNAL_CHECKS: tuple[Callable[[Situation], Verdict | None], ...] = (
    _contact_and_consent,
    _held_out,
    _replied,
    _answered_quote,
    _meeting,
    _deals,
    _colleagues,
    _manual_touch,
)


# -- delivery checks, only when an automated e-mail is about to be queued --


def country_of(session: Session, contact: Contact) -> str | None:
    return session.scalar(select(Account.country).where(Account.id == contact.account_id)) if contact.account_id else None


def recipient_zone(session: Session, contact: Contact, sender_id: uuid.UUID | None) -> ZoneInfo:
    """The contact's time zone, else the sender's (whose row is read only then)."""
    if contact.timezone:
        try:
            return ZoneInfo(contact.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    sender = session.get(User, sender_id) if sender_id else None
    return zone_of(sender.timezone if sender else None)


def send_window(mailbox: Mailbox, zone: ZoneInfo, country: str | None) -> SendWindow:
    return SendWindow(
        zone=zone, days=frozenset(mailbox.send_days), start_hour=mailbox.send_start_hour, end_hour=mailbox.send_end_hour, country=country
    )


def window_for(session: Session, contact: Contact, sender_id: uuid.UUID | None) -> SendWindow:
    return send_window(mailbox_of(session, sender_id), recipient_zone(session, contact, sender_id), country_of(session, contact))


def _out_of_office(s: Situation) -> Verdict | None:
    received = s.session.scalar(
        select(func.max(EmailMessage.created_at)).where(
            EmailMessage.contact_id == s.enrollment.contact_id,
            EmailMessage.direction == "inbound",
            EmailMessage.kind == "auto_reply",
            EmailMessage.created_at >= s.since,
        )
    )
    if received is None:
        return None
    days = s.rules.out_of_office_delay_days
    until = add_delay(received, days=days, business=True, zone=zone_of(s.contact.timezone), country=s.country)
    if until <= s.now:
        return None
    return Verdict("hold", "out_of_office", f"{s.contact.full_name} is out of office (auto-reply on {_when(received)}); waiting {days} business days", until)


def _cap(s: Situation, clause: Any, cap: int, code: str, what: Callable[[], str]) -> Verdict | None:
    count, oldest = automated_since(s.session, clause, s.now)
    if count < cap:
        return None
    return Verdict("hold", code, f"{what()} already had {count} automated e-mails in 24 hours (cap {cap})", oldest + CAP_PERIOD)


def _mailbox_cap(s: Situation) -> Verdict | None:
    return _cap(s, sender_clause(s.enrollment.sender_id), s.mailbox.daily_cap, "mailbox_cap", lambda: s.mailbox.from_address)


def _account_cap(s: Situation) -> Verdict | None:
    if s.contact.account_id is None:
        return None
    return _cap(
        s, EmailMessage.account_id == s.contact.account_id, s.rules.account_daily_cap, "account_cap", lambda: f"account {s.account.name}"
    )


def _window(s: Situation) -> Verdict | None:
    window = send_window(s.mailbox, recipient_zone(s.session, s.contact, s.enrollment.sender_id), s.country)
    if window.contains(s.now):
        return None
    opens = window.place(s.now)
    local = opens.astimezone(window.zone)
    return Verdict("hold", "send_window", f"outside the send window in {window.zone.key}; next opening {local:%a %Y-%m-%d %H:%M} local", opens)


DELIVERY_CHECKS: tuple[Callable[[Situation], Verdict | None], ...] = (_out_of_office, _window, _mailbox_cap, _account_cap)


def situation(session: Session, enrollment: Enrollment, now: datetime) -> Situation:
    sequence = session.get(Sequence, enrollment.sequence_id)
    return Situation(session, enrollment, sequence, rules_of(sequence.rules), session.get(Contact, enrollment.contact_id), now)


def evaluate(session: Session, enrollment: Enrollment, *, now: datetime, sending: bool) -> Verdict:
    """Whether ``enrollment`` may go on now; ``sending`` adds the delivery checks."""
    s = situation(session, enrollment, now)
    checks = SIGNAL_CHECKS + (DELIVERY_CHECKS if sending else ())
    for check in checks:
        verdict = check(s)
        if verdict is not None:
            return verdict
    if sending and not s.contact.email:
        return Verdict("exit", "no_email", f"{s.contact.full_name} has no e-mail address")
    return CLEAR
