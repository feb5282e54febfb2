from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.billing.models import StockLevel


def fresh(session: Session) -> Session:
    """The checking session, ready to read what the requests committed since."""
    session.commit()
    session.expire_all()
    return session


def level(session: Session, product) -> StockLevel:  # type: ignore[no-untyped-def]
    return fresh(session).scalar(select(StockLevel).where(StockLevel.product_id == product.id))
