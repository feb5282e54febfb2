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
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.crm.models import Account, Activity, Contact
from pipewise.deals.models import Deal, DealContact, Stage
from pipewise.sequences.calendar import SendWindow, add_delay, zone_of
from pipewise.sequences.models import EmailMessage, Enrollment, Mailbox, Sequence, Suppression
from pipewise.sequences.schemas import SequenceRules, rules_of

# Signals this old are looked at when a contact is enrolled.
ENROLL_LOOKBACK = timedelta(days=7)
COUNTED_STATUSES = ("queued", "sending", "committing", "sent", "bounced")
CAP_PERIOD = timedelta(hours=24)


@dataclass(frozen=True)
class Verdict:
    action: Literal["send", "hold", "pause", "exit"]
    code: str
    reason: str
    # hold: try again then; pause: resume by itself then (None: wait for a person).
    until: datetime | None = None

    @property
    def clear(self) -> bool:
        return self.action == "send"


CLEAR = Verdict("send", "clear", "no sales signal stands in the way")


@dataclass
class Situation:
    session: Session
    enrollment: Enrollment
    sequence: Sequence
    rules: SequenceRules
    contact: Contact | None
    now: datetime

    @property
    def since(self) -> datetime:
        return self.enrollment.signals_after


def _on(action: str, code: str, reason: str, until: datetime | None = None) -> Verdict | None:
    """The verdict for a signal whose rule says ``action`` (exit | pause | ignore)."""
    if action == "ignore":
        return None
    return Verdict("exit" if action == "exit" else "pause", code, reason, until if action == "pause" else None)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def normalize_address(address: str) -> str:
    return address.strip().lower()


def suppression_of(session: Session, address: str | None) -> Suppression | None:
    if not address:
        return None
    return session.scalar(select(Suppression).where(Suppression.address == normalize_address(address)))


# -- signal checks: each returns a Verdict or None --


def _contact_and_consent(s: Situation) -> Verdict | None:
    if s.contact is None:
        return Verdict("exit", "contact_deleted", "the contact was deleted")
    if s.contact.consent_state == "withdrawn":
        return Verdict("exit", "consent_withdrawn", f"{s.contact.full_name} withdrew consent to be contacted")
    suppressed = suppression_of(s.session, s.contact.email)
    if suppressed is not None:
        return Verdict("exit", "suppressed", f"{suppressed.address} is on the suppression list ({suppressed.reason})")
    return None


def _replied(s: Situation) -> Verdict | None:
    reply = s.session.scalar(
        select(Activity)
        .where(
            Activity.contact_id == s.enrollment.contact_id,
            Activity.type == "email",
            Activity.direction == "inbound",
            Activity.automated.is_(False),
            Activity.created_at >= s.since,
        )
        .order_by(Activity.created_at.desc())
        .limit(1)
    )
    if reply is None:
        return None
    return _on(s.rules.on_reply, "replied", f"{s.contact.full_name} replied on {_when(reply.created_at)}")


def _meeting(s: Situation) -> Verdict | None:
    meeting = s.session.scalar(
        select(Activity)
        .where(Activity.contact_id == s.enrollment.contact_id, Activity.type == "meeting", Activity.created_at >= s.since)
        .order_by(Activity.created_at.desc())
        .limit(1)
    )
    if meeting is None:
        return None
    return _on(s.rules.on_meeting, "meeting", f"a meeting was booked or held with {s.contact.full_name}: “{meeting.subject}”")


def _related_deals(s: Situation) -> list[tuple[Deal, Stage]]:
    linked = select(DealContact.deal_id).where(DealContact.contact_id == s.enrollment.contact_id)
    clause = Deal.id.in_(linked)
    if s.contact.account_id is not None:
        clause = or_(clause, Deal.account_id == s.contact.account_id)
    rows = s.session.execute(select(Deal, Stage).join(Stage, Stage.id == Deal.stage_id).where(clause, Stage.kind == "open"))
    return [(deal, stage) for deal, stage in rows]


def _threshold(s: Situation, stage: Stage) -> tuple[int, str] | None:
    """The position a deal of ``stage``'s pipeline must reach, and the stage's name."""
    chosen = s.session.get(Stage, s.rules.exit_stage_id) if s.rules.exit_stage_id else None
    if chosen is not None:
        return (chosen.position, chosen.name) if chosen.pipeline_id == stage.pipeline_id else None
    first = s.session.scalar(select(func.min(Stage.position)).where(Stage.pipeline_id == stage.pipeline_id))
    return (first + 1, "its first stage") if first is not None else None


def _deals(s: Situation) -> Verdict | None:
    deals = _related_deals(s)
    for deal, stage in deals:
        threshold = _threshold(s, stage)
        if threshold is not None and stage.position >= threshold[0]:
            verdict = _on(
                s.rules.on_deal_stage, "deal_stage", f"deal “{deal.name}” is at {stage.name} (the sequence stops at {threshold[1]})"
            )
            if verdict:
                return verdict
    # A deal that already existed at enrollment is not news, whatever the look-back.
    created_after = max(s.since, s.enrollment.enrolled_at)
    for deal, _stage in deals:
        if deal.created_at >= created_after:
            verdict = _on(s.rules.on_deal_created, "deal_created", f"deal “{deal.name}” was created on {_when(deal.created_at)}")
            if verdict:
                return verdict
    return None


def _colleagues(s: Situation) -> Verdict | None:
    if not s.rules.account_coordination or s.contact.account_id is None:
        return None
    row = s.session.execute(
        select(Activity, Contact)
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
    activity, colleague = row
    what = "booked a meeting" if activity.type == "meeting" else "replied"
    return Verdict("pause", "account_engaged", f"{colleague.full_name} at the same account {what} on {_when(activity.created_at)}")


def _manual_touch(s: Situation) -> Verdict | None:
    touch = s.session.scalar(
        select(Activity)
        .where(
            Activity.contact_id == s.enrollment.contact_id,
            Activity.type.in_(("email", "call")),
            Activity.automated.is_(False),
            or_(Activity.direction.is_(None), Activity.direction == "outbound"),
            Activity.occurred_at >= s.since,
        )
        .order_by(Activity.occurred_at.desc())
        .limit(1)
    )
    if touch is None:
        return None
    days = s.rules.manual_touch_pause_days
    zone = zone_of(s.contact.timezone)
    resume = add_delay(touch.occurred_at, days=days, business=True, zone=zone, country=country_of(s.session, s.contact))
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
    _replied,
    _meeting,
    _deals,
    _colleagues,
    _manual_touch,
)


# -- delivery checks, only when an automated e-mail is about to be queued --


def country_of(session: Session, contact: Contact) -> str | None:
    return session.scalar(select(Account.country).where(Account.id == contact.account_id)) if contact.account_id else None


def mailbox_of(session: Session, user_id: uuid.UUID | None) -> Mailbox:
    """The user's mailbox; a user who never set one up sends with the defaults."""
    mailbox = session.scalar(select(Mailbox).where(Mailbox.user_id == user_id)) if user_id else None
    if mailbox is not None:
        return mailbox
    user = session.get(User, user_id) if user_id else None
    return Mailbox(
        user_id=user_id,
        from_name=user.name if user else "Pipewise",
        from_address=user.email if user else "pipewise@localhost",
        daily_cap=200,
        send_days=[0, 1, 2, 3, 4],
        send_start_hour=9,
        send_end_hour=17,
        track_opens=True,
        track_clicks=True,
        smtp_security="starttls",
    )


def window_for(session: Session, contact: Contact, sender_id: uuid.UUID | None) -> SendWindow:
    mailbox = mailbox_of(session, sender_id)
    sender = session.get(User, sender_id) if sender_id else None
    return SendWindow(
        zone=zone_of(contact.timezone, sender.timezone if sender else "UTC"),
        days=frozenset(mailbox.send_days),
        start_hour=mailbox.send_start_hour,
        end_hour=mailbox.send_end_hour,
        country=country_of(session, contact),
    )


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
    until = add_delay(received, days=days, business=True, zone=zone_of(s.contact.timezone), country=country_of(s.session, s.contact))
    if until <= s.now:
        return None
    return Verdict("hold", "out_of_office", f"{s.contact.full_name} is out of office (auto-reply on {_when(received)}); waiting {days} business days", until)


def _cap(s: Situation, clause: object, cap: int, code: str, what: str) -> Verdict | None:
    since = s.now - CAP_PERIOD
    count, oldest = s.session.execute(
        select(func.count(), func.min(EmailMessage.created_at)).where(
            clause,
            EmailMessage.direction == "outbound",
            EmailMessage.automated.is_(True),
            EmailMessage.status.in_(COUNTED_STATUSES),
            EmailMessage.created_at > since,
        )
    ).one()
    if count < cap:
        return None
    return Verdict("hold", code, f"{what} already had {count} automated e-mails in 24 hours (cap {cap})", oldest + CAP_PERIOD)


def _mailbox_cap(s: Situation) -> Verdict | None:
    mailbox = mailbox_of(s.session, s.enrollment.sender_id)
    return _cap(s, EmailMessage.sender_id == s.enrollment.sender_id, mailbox.daily_cap, "mailbox_cap", f"{mailbox.from_address}")


def _account_cap(s: Situation) -> Verdict | None:
    if s.contact.account_id is None:
        return None
    account = s.session.get(Account, s.contact.account_id)
    return _cap(s, EmailMessage.account_id == s.contact.account_id, s.rules.account_daily_cap, "account_cap", f"account {account.name}")


def _window(s: Situation) -> Verdict | None:
    window = window_for(s.session, s.contact, s.enrollment.sender_id)
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
