import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.crm.models import custom_fields, owner_fk
from pipewise.db.base import Base, Timestamps, UUIDPrimaryKey


class Lead(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "lead"

    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(150))
    company: Mapped[str | None] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    company_size: Mapped[int | None]
    country: Mapped[str | None] = mapped_column(String(2))
    source: Mapped[str | None] = mapped_column(String(60), index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    disqualified_reason: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID | None] = owner_fk()
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    converted_at: Mapped[datetime | None]
    converted_contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    converted_deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deal.id", ondelete="SET NULL"))
    custom: Mapped[dict[str, Any]] = custom_fields()

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)
