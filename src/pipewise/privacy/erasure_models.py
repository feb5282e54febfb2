"""The record of each erasure: proof that it happened, and what makes a second request a
no-op. It names the contact by id and the pseudonym its details became, nothing else."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, UUIDPrimaryKey, utcnow


class Erasure(UUIDPrimaryKey, Base):
    __tablename__ = "erasure"

    # No foreign key: the receipt outlives the contact's tombstone if that is deleted later.
    contact_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    token: Mapped[str] = mapped_column(String(16))  # the pseudonym's id: "Erased person <token>"
    actor_id: Mapped[uuid.UUID | None]
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # place -> rows (or files) changed
