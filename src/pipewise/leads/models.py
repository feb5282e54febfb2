import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey, Versioned, utcnow
from pipewise.records.import_models import ImportRun
from pipewise.records.models import custom_fields, index_of_set_values, owner_fk
from pipewise.records.search_keys import search_indexes


class Lead(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "lead"
    # Columns without an index of their own: each is the first of a composite index below,
    # which serves the same lookups (created_at: ix_lead_created_cover).
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))  # sorted and searched by lower(last_name)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(150))
    company: Mapped[str | None] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    company_size: Mapped[int | None]
    country: Mapped[str | None] = mapped_column(String(2))
    # ISO 3166-2 subdivision, e.g. US-CA or DE-BY.
    region: Mapped[str | None] = mapped_column(String(6))
    source: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="new")
    lifecycle_stage: Mapped[str] = mapped_column(String(20), default="lead", index=True)
    disqualified_reason: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID | None] = owner_fk(index=False)
    # A named queue for leads routed to no one in particular (owner stays empty).
    queue: Mapped[str | None] = mapped_column(String(60))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    converted_at: Mapped[datetime | None]
    converted_contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    converted_deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deal.id", ondelete="SET NULL"))
    # utm_source / utm_medium / utm_campaign / referrer / form, as captured.
    attribution: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent_state: Mapped[str] = mapped_column(String(20), default="unknown")
    score: Mapped[int] = mapped_column(default=0, index=True)
    fit_score: Mapped[int] = mapped_column(default=0)
    engagement_score: Mapped[int] = mapped_column(default=0)
    predicted_probability: Mapped[float | None]
    # The few reasons behind the score, in words: [{"text", "points"}].
    score_reasons: Mapped[list[Any]] = mapped_column(default=list)
    scored_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    first_touched_at: Mapped[datetime | None]
    custom: Mapped[dict[str, Any]] = custom_fields()

    __table_args__ = (
        Index("ix_lead_owner_score", "owner_id", "score"),
        Index("ix_lead_status_created", "status", "created_at"),
        Index("ix_lead_owner_created", "owner_id", "created_at"),
        Index("ix_lead_status_score", "status", "score"),
        Index("ix_lead_fit_score", "fit_score"),
        Index("ix_lead_engagement_score", "engagement_score"),
        # Speed to lead reads the leads created in a range from the index alone (analytics.people).
        Index("ix_lead_created_cover", "created_at", "source", "owner_id", "first_touched_at", "id"),
        # Speed to lead groups by source and owner: this order gives the groups without a
        # sort, each group's range of days found by a seek (SQLite's skip-scan).
        Index("ix_lead_source_owner_created", "source", "owner_id", "created_at", "first_touched_at", "id"),
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


search_indexes(Lead, "first_name", "last_name", "email", "company", "domain", "phone")
# Most leads have no queue, no account and no deal of their own yet.
for _name in ("queue", "account_id", "converted_deal_id"):
    index_of_set_values(Lead, _name)


class LeadForm(UUIDPrimaryKey, Timestamps, Base):
    """A public web form: its key is the URL (POST /f/{key})."""

    __tablename__ = "lead_form"

    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # form field name -> lead field (first_name, email, custom.<key>, ...)
    field_map: Mapped[dict[str, Any]] = mapped_column(default=dict)
    required_fields: Mapped[list[Any]] = mapped_column(default=list)
    # Hidden fields copied into the lead's attribution (utm_source, ...).
    hidden_fields: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(60), default="web form")
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_required: Mapped[bool] = mapped_column(default=False)
    success_message: Mapped[str] = mapped_column(String(300), default="Thank you — we will be in touch.")
    redirect_url: Mapped[str | None] = mapped_column(String(500))
    rate_limit_per_minute: Mapped[int] = mapped_column(default=10)
    is_active: Mapped[bool] = mapped_column(default=True)


class FormSubmission(UUIDPrimaryKey, Base):
    """One post to a form, kept with its consent and the timings of speed to lead."""

    __tablename__ = "form_submission"

    form_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_form.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lead.id", ondelete="SET NULL"), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    status: Mapped[str] = mapped_column(String(20), default="accepted")  # accepted | spam | rejected
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent_given: Mapped[bool] = mapped_column(default=False)
    consent_text: Mapped[str | None] = mapped_column(Text)
    consented_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]
    # From receipt to the owner being told (scored, de-duplicated and assigned on the way).
    speed_to_lead_ms: Mapped[int | None]

    __table_args__ = (Index("ix_form_submission_ip_received", "ip", "received_at"),)


class DuplicateCandidate(Base):
    """A possible duplicate found on create, import or a full scan, waiting for review."""

    __tablename__ = "duplicate_candidate"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    candidate_type: Mapped[str] = mapped_column(String(20))
    candidate_id: Mapped[uuid.UUID] = mapped_column(index=True)
    score: Mapped[float]
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | dismissed | merged
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("record_type", "record_id", "candidate_type", "candidate_id"),)


class MatchKey(Base):
    """A blocking key of a lead or a contact (``match_keys.py``): records that share a key are
    the only ones a new or changed lead is compared with. The table is its own index, by key."""

    __tablename__ = "match_key"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(10))

    __table_args__ = ({"sqlite_with_rowid": False},)


class LeadImport(ImportRun, UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "lead_import"  # status: pending | running | done | failed


class LeadImportRow(Base):
    """A row of an import that did not land as-is: rejected (with the reason) or skipped."""

    __tablename__ = "lead_import_row"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_import.id", ondelete="CASCADE"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(10), default="rejected")  # rejected | skipped
    reason: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str | None] = mapped_column(String(300))


