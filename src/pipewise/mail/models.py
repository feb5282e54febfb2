"""Tables of the mail package: mailboxes (how a user sends), the sender addresses a user
may use, the e-mail ledger (outbound and inbound) and the suppression list.

The ledger keeps its links to sequence enrollments, steps and variants as plain foreign
keys by table name; the mail package itself never reads those tables."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey, utcnow


def _user_fk(*, nullable: bool = True, unique: bool = False) -> Any:
    return mapped_column(ForeignKey("user.id", ondelete="SET NULL" if nullable else "CASCADE"), index=True, unique=unique)


class Mailbox(UUIDPrimaryKey, Timestamps, Base):
    """How one user sends: identity, SMTP server (else the global one), caps and window."""

    __tablename__ = "mailbox"

    user_id: Mapped[uuid.UUID] = _user_fk(nullable=False, unique=True)
    from_name: Mapped[str] = mapped_column(String(200))
    from_address: Mapped[str] = mapped_column(String(254))
    signature_html: Mapped[str | None] = mapped_column(Text)
    signature_text: Mapped[str | None] = mapped_column(Text)
    smtp_host: Mapped[str | None] = mapped_column(String(253))
    smtp_port: Mapped[int | None]
    smtp_security: Mapped[str] = mapped_column(String(10), default="starttls")
    smtp_username: Mapped[str | None] = mapped_column(String(254))
    # Encrypted at rest (mail/secrets.py); never returned by the API.
    smtp_password: Mapped[str | None] = mapped_column(String(500))
    imap_host: Mapped[str | None] = mapped_column(String(253))
    imap_port: Mapped[int | None]
    imap_security: Mapped[str] = mapped_column(String(10), default="ssl")
    imap_username: Mapped[str | None] = mapped_column(String(254))
    imap_password: Mapped[str | None] = mapped_column(String(500))  # encrypted, like smtp_password
    imap_folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    imap_uidvalidity: Mapped[int | None]
    imap_last_uid: Mapped[int] = mapped_column(default=0)
    daily_cap: Mapped[int] = mapped_column(default=200)
    send_days: Mapped[list[Any]] = mapped_column(default=lambda: [0, 1, 2, 3, 4])
    send_start_hour: Mapped[int] = mapped_column(default=9)
    send_end_hour: Mapped[int] = mapped_column(default=17)
    track_opens: Mapped[bool] = mapped_column(default=True)
    track_clicks: Mapped[bool] = mapped_column(default=True)


class EmailMessage(UUIDPrimaryKey, Timestamps, Base):
    """The e-mail ledger. An outbound row is written, committed, before any SMTP traffic;
    its status walks queued → sending → committing → sent, so a crashed worker's retry
    knows whether the message may already have reached the server."""

    __tablename__ = "email_message"

    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    direction: Mapped[str] = mapped_column(String(10))  # outbound | inbound
    # sequence | manual | workflow | reply | auto_reply | bounce | other
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), index=True)
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enrollment.id", ondelete="SET NULL"), index=True)
    step_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sequence_step.id", ondelete="SET NULL"), index=True)
    variant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("step_variant.id", ondelete="SET NULL"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    account_id: Mapped[uuid.UUID | None]
    sender_id: Mapped[uuid.UUID | None]
    # The outbound message an inbound one answers or reports on.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("email_message.id", ondelete="SET NULL"))
    from_address: Mapped[str] = mapped_column(String(254))
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    references: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    automated: Mapped[bool] = mapped_column(default=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    open_count: Mapped[int] = mapped_column(default=0)
    click_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The caller's idempotency key of a one-off send (a workflow step's key): the same
    # key never writes a second message.
    send_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The sender says the content carries a price, discount or offer (the pricing guard).
    mentions_pricing: Mapped[bool] = mapped_column(default=False, server_default=false())
    # An iTIP calendar object (RFC 6047) sent inline and as an .ics attachment.
    ical: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_email_message_contact", "contact_id", "direction", "created_at"),
        # The daily caps: a mailbox's and an account's automated mail of the last 24 hours.
        Index("ix_email_message_account_created", "account_id", "created_at"),
        Index("ix_email_message_sender_created", "sender_id", "created_at"),
        Index("ix_email_message_step_variant", "step_id", "variant_id"),
    )


class EmailAttachment(Base):
    """A file sent with an outbound message, kept with the ledger row: what was sent."""

    __tablename__ = "email_attachment"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("email_message.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class Suppression(Base):
    """An address that nothing in Pipewise may e-mail again, whoever sends."""

    __tablename__ = "suppression"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    reason: Mapped[str] = mapped_column(String(20))  # unsubscribe | bounce | complaint | manual
    detail: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailAddress(UUIDPrimaryKey, Timestamps, Base):
    """A From address a user may send as besides their login address: approved by an
    admin, or proven by the confirmation link sent to it (``verified_at`` set)."""

    __tablename__ = "mail_address"

    user_id: Mapped[uuid.UUID] = _user_fk(nullable=False)
    address: Mapped[str] = mapped_column(String(254))
    method: Mapped[str] = mapped_column(String(10))  # admin | link | existing
    verified_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None]

    __table_args__ = (UniqueConstraint("user_id", "address"),)
