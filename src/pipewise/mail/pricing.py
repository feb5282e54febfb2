"""The pricing guard on the mail path: at the last look before SMTP, an automated
e-mail (a sequence step or a workflow; never a rep's own send) that carries a price
while its contact or account has an open sent quote is held: cancelled in the ledger
with the reason "open quote Q-… at €…" (a sequence also logs it as a decision and
pauses), and the quote's owner gets a task saying what was held."""

from datetime import datetime

from sqlalchemy.orm import Session

from pipewise.mail.hooks import MailHooks
from pipewise.mail.models import EmailMessage
from pipewise.quotes import pricing_guard, sending

GUARDED_KINDS = ("sequence", "workflow")


class PricingGuardHooks(MailHooks):
    def last_look(self, session: Session, message: EmailMessage, now: datetime) -> str | None:
        if not message.automated or message.kind not in GUARDED_KINDS:
            return None
        held = pricing_guard.hold_reason(
            session, contact_id=message.contact_id, account_id=message.account_id, flagged=message.mentions_pricing,
            subject=message.subject, body=message.body_text or message.body_html,
        )
        if held is None:
            return None
        reason, quote = held
        sending.tell_owner(
            session, quote, f"Held an automated e-mail to {message.to_address}: {reason}",
            f"\"{message.subject}\" ({message.kind}) talks about price while quote {quote.number} is open, "
            "so it was not sent. Follow up yourself if the buyer should hear about it.",
        )
        return reason
