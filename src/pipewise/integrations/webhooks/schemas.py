"""What the API and the settings page take and give for webhook endpoints and their log."""

import re
import uuid
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from pipewise import netguard

# ``*``, an event name (``deal.stage_changed``), or a prefix and a wildcard (``deal.*``).
PATTERN_RE = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")
MAX_PATTERNS = 50


def checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password; the signature authenticates each request")
    if parts.fragment:
        raise ValueError("must not have a #fragment")
    problem = netguard.url_problem(url)
    if problem:
        raise ValueError(problem)
    return url


def checked_patterns(patterns: list[str]) -> list[str]:
    cleaned = []
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if not PATTERN_RE.match(pattern):
            raise ValueError(f"{pattern!r} is not an event type or pattern: use a name such as deal.stage_changed, "
                             "a prefix such as deal.*, or * for every event")
        if pattern not in cleaned:
            cleaned.append(pattern)
    if not cleaned:
        raise ValueError("name at least one event type, or * for every event")
    return cleaned


class _EndpointFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("url", check_fields=False)
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else checked_url(value)

    @field_validator("event_types", check_fields=False)
    @classmethod
    def _patterns(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else checked_patterns(value)


class WebhookEndpointCreate(_EndpointFields):
    url: str = Field(max_length=2000, description="where the events are POSTed (http or https)")
    event_types: list[str] = Field(max_length=MAX_PATTERNS, description="event names or patterns: `deal.*`, `*`")
    description: str = Field("", max_length=500)
    enabled: bool = True
    ordered: bool = Field(False, description="deliver a record's events one at a time, in order")


class WebhookEndpointUpdate(_EndpointFields):
    url: str | None = Field(None, max_length=2000)
    event_types: list[str] | None = Field(None, max_length=MAX_PATTERNS)
    description: str | None = Field(None, max_length=500)
    enabled: bool | None = None
    ordered: bool | None = None


class WebhookEndpoint(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    ordered: bool
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_until: datetime | None = Field(description="until then the previous secret signs too")
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpoint):
    secret: str = Field(description="the signing secret; shown now and never again")


class WebhookSecret(BaseModel):
    secret: str = Field(description="the new signing secret; shown now and never again")
    previous_secret_until: datetime = Field(description="until then deliveries are signed with the old secret too")


class WebhookMessage(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    webhook_id: str = Field(description="the `webhook-id` header: the same on every attempt and replay")
    event_type: str = Field(validation_alias=AliasChoices("event_name", "event_type"))
    record_id: uuid.UUID | None
    status: Literal["pending", "waiting", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class WebhookAttempt(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: uuid.UUID
    at: datetime
    outcome: Literal["delivered", "failed", "refused", "gone"]
    url: str
    request_headers: dict[str, Any]
    response_status: int | None
    response_body: str | None = Field(description="the start of the receiver's answer")
    duration_ms: int
    error: str | None


class WebhookMessageDetail(WebhookMessage):
    body: str = Field(description="the request body, byte for byte as sent on every attempt")
    attempts_made: list[WebhookAttempt]


class ReplayRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime
    until: datetime
    only_failed: bool = Field(False, description="replay only the messages that were given up")


class Replayed(BaseModel):
    replayed: int
