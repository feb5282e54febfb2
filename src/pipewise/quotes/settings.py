"""The company settings row: read by documents, quotes, stock and invoices, created with
its defaults the first time anything asks."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.quotes.models import CompanySettings
from pipewise.quotes.money import Rounding


def company_settings(session: Session) -> CompanySettings:
    row = session.scalars(select(CompanySettings).order_by(CompanySettings.created_at).limit(1)).first()
    if row is None:
        row = CompanySettings()
        session.add(row)
        session.flush()
    return row


def rounding_for(settings: CompanySettings, currency: str | None = None) -> Rounding:
    return Rounding(currency or settings.currency, settings.tax_mode, settings.rounding_mode)
