"""``Idempotency-Key`` on writes: the first response is stored in the same transaction
as the write, and a retry with the same key and body gets that response back."""

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pipewise.db.base import Base, BigIntPK, utcnow
from pipewise.errors import FieldError, ValidationFailed


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_record"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (Index("ix_idempotency_record_user_key", "user_id", "key", unique=True),)


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def lookup(session: Session, *, user_id: uuid.UUID, key: str, print_: str) -> IdempotencyRecord | None:
    if len(key) > 255:
        raise ValidationFailed("Idempotency-Key is too long", errors=[FieldError("Idempotency-Key", "at most 255 characters")])
    stored = session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    )
    if stored is not None and stored.fingerprint != print_:
        raise ValidationFailed(
            "this Idempotency-Key was used for a different request",
            errors=[FieldError("Idempotency-Key", "was used for a different request")],
        )
    return stored


def remember(
    session: Session, *, user_id: uuid.UUID, key: str, print_: str, status_code: int, body: dict[str, Any] | None
) -> None:
    session.add(IdempotencyRecord(user_id=user_id, key=key, fingerprint=print_, status_code=status_code, body=body))


def purge(session: Session, *, older_than: timedelta) -> int:
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - older_than))
    return result.rowcount or 0
