"""The e-mail of a sent quote: when ``quote.sent`` is recorded, the worker writes the
message to the ledger through the one mail path (suppression, consent, the rep's
mailbox and verified From address), with the exact PDF attached and the signed accept
link in the text. A rep's own send: not automated, no tracking (the link stays as
signed), keyed by quote revision so a retried event never writes a second e-mail. If
nothing may go to the address, the rep gets a task saying why."""


from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.crm.models import Contact
from pipewise.errors import ValidationFailed
from pipewise.events import bus
from pipewise.mail import compose
from pipewise.mail.settings import get_mail_settings
from pipewise.quotes import acceptance, sending
from pipewise.quotes.events import QuoteSent
from pipewise.quotes.models import Quote


def accept_url(token: str) -> str:
    return f"{get_mail_settings().public_url.rstrip('/')}/q/{token}"


def _text(quote: Quote, contact: Contact | None, sender: User | None, url: str, message: str | None) -> str:
    greeting = f"Dear {contact.full_name}," if contact and contact.full_name else "Hello,"
    valid = f" It is valid until {quote.valid_until:%d %B %Y}." if quote.valid_until else ""
    parts = [
        greeting,
        message or f"please find our quote {quote.number} for {quote.title} attached.",
        f"Total: {acceptance.money_text(quote.gross_total, quote.currency)}.{valid}",
        f"You can review it, choose optional items and accept or decline it here:\n{url}",
        f"Kind regards,\n{sender.name}" if sender else "Kind regards",
    ]
    return "\n\n".join(parts)


def on_quote_sent(session: Session, event: bus.Event) -> None:
    quote = session.get(Quote, event.record_id)
    if quote is None or quote.status != "sent" or quote.pdf is None:
        return
    data = event.payload.get("data") or {}
    to = data.get("to") or ""
    token = sending.accept_token(session, quote)
    contact = session.get(Contact, quote.contact_id) if quote.contact_id else None
    if contact is not None and (contact.email or "").lower() != to.lower():
        contact = None
    sender_id = event.actor_id if event.actor_id and session.get(User, event.actor_id) else quote.owner_id
    sender = session.get(User, sender_id) if sender_id else None
    letter = compose.Letter(
        to_address=to, subject=" ".join(f"Quote {quote.number}: {quote.title}".split()),  # one header line
        text=_text(quote, contact, sender, accept_url(token or ""), data.get("message")),
        kind="manual", automated=False, contact=contact, sender_id=sender_id,
        send_key=f"quote:{quote.id}:r{quote.revision}",
        attachments=[compose.Attachment(f"{quote.number}-r{quote.revision}.pdf", "application/pdf", quote.pdf)],
    )
    try:
        compose.queue(session, letter, immediately=True)
    except ValidationFailed as exc:
        sending.tell_owner(session, quote, f"Quote {quote.number} was not e-mailed to {to}", exc.detail)


TABLE = bus.HandlerTable(subscriptions=(bus.Subscription.to(QuoteSent, "mail.quote_sent", on_quote_sent),))
