"""Schemas of the mail API: mailboxes, verified sender addresses, the suppression list,
sent messages and what the inbound gateway did with a message."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from pipewise.schemas import InputModel, OutputModel, RecordOut, partial


class MailboxCreate(InputModel):
    user_id: uuid.UUID | None = None
    from_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    from_address: Annotated[str, Field(max_length=254)] | None = None
    signature_html: Annotated[str, Field(max_length=20_000)] | None = None
    signature_text: Annotated[str, Field(max_length=20_000)] | None = None
    smtp_host: Annotated[str, Field(max_length=253)] | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_username: Annotated[str, Field(max_length=254)] | None = None
    smtp_password: Annotated[str, Field(max_length=200)] | None = None
    imap_host: Annotated[str, Field(max_length=253)] | None = None
    imap_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    imap_security: Literal["none", "starttls", "ssl"] = "ssl"
    imap_username: Annotated[str, Field(max_length=254)] | None = None
    imap_password: Annotated[str, Field(max_length=200)] | None = None
    imap_folder: Annotated[str, Field(min_length=1, max_length=200)] = "INBOX"
    daily_cap: Annotated[int, Field(ge=1, le=10_000)] = 200
    send_days: list[Annotated[int, Field(ge=0, le=6)]] = [0, 1, 2, 3, 4]
    send_start_hour: Annotated[int, Field(ge=0, le=23)] = 9
    send_end_hour: Annotated[int, Field(ge=1, le=24)] = 17
    track_opens: bool = True
    track_clicks: bool = True


MailboxUpdate = partial(MailboxCreate, "MailboxUpdate")


class Mailbox(RecordOut):
    user_id: uuid.UUID
    from_name: str
    from_address: str
    signature_html: str | None
    signature_text: str | None
    smtp_host: str | None
    smtp_port: int | None
    smtp_security: str
    smtp_username: str | None
    imap_host: str | None
    imap_port: int | None
    imap_security: str
    imap_username: str | None
    imap_folder: str
    daily_cap: int
    send_days: list[int]
    send_start_hour: int
    send_end_hour: int
    track_opens: bool
    track_clicks: bool


class SuppressionIn(InputModel):
    address: Annotated[str, Field(min_length=3, max_length=254)]
    reason: Literal["unsubscribe", "bounce", "complaint", "manual"] = "manual"
    detail: Annotated[str, Field(max_length=2000)] | None = None


class SuppressionOut(OutputModel):
    address: str
    reason: str
    detail: str | None
    contact_id: uuid.UUID | None
    created_at: datetime


class InboundResult(BaseModel):
    kind: str
    message_id: str
    contact_id: uuid.UUID | None = None
    detail: str


class MailAddressIn(InputModel):
    address: Annotated[str, Field(min_length=3, max_length=254)]
    user_id: uuid.UUID | None = None


class MailAddressOut(OutputModel):
    id: uuid.UUID
    user_id: uuid.UUID
    address: str
    method: str
    verified_at: datetime | None
    created_at: datetime


class SentMessage(OutputModel):
    id: uuid.UUID
    message_id: str
    kind: str
    status: str
    sender_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    from_address: str
    to_address: str
    subject: str
    created_at: datetime
    sent_at: datetime | None
    error: str | None
