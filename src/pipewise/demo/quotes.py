"""The demo's back half of the deal: a seller's company details, a small catalogue with
stock, and quotes on the open deals that are furthest along — drafts, some waiting for a
manager's approval of their discount, some sent to the buyer — so the quote list, the
approval queue, the stock page and the deal pages have something to show."""

import random
import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.billing import stock
from pipewise.crm.models import Contact
from pipewise.deals.models import Deal, Stage
from pipewise.demo.organisation import SalesOrg
from pipewise.errors import PipewiseError
from pipewise.quotes import sending
from pipewise.quotes.catalogue import product_service
from pipewise.quotes.line_items import line_item_service
from pipewise.quotes.models import Product
from pipewise.quotes.service import quote_service
from pipewise.quotes.settings import company_settings

# (sku, name, list price, unit, tax rate, stocked, opening stock)
CATALOGUE = (
    ("PW-SEAT", "Pipewise seat, yearly", "480.00", "C62", "19", False, 0),
    ("PW-ONBOARD", "Onboarding workshop", "1500.00", "C62", "19", False, 0),
    ("PW-SUPPORT", "Premium support, yearly", "2400.00", "C62", "19", False, 0),
    ("PW-HOUR", "Consulting hour", "150.00", "HUR", "19", False, 0),
    ("PW-PHONE", "Desk phone", "129.00", "C62", "19", True, 40),
    ("PW-HEADSET", "Wireless headset", "89.00", "C62", "19", True, 8),
)
QUOTED_DEALS = 40


def set_up_company(session: Session) -> None:
    settings = company_settings(session)
    settings.name, settings.legal_name = "Pipewise Demo", "Pipewise Demo GmbH"
    settings.street, settings.postcode, settings.city, settings.country = "Torstraße 1", "10119", "Berlin", "DE"
    settings.vat_id, settings.company_id = "DE123456789", "HRB 123456"
    settings.email, settings.phone = "billing@pipewise.example", "+49 30 1234567"
    settings.iban, settings.bic = "DE89370400440532013000", "COBADEFFXXX"
    settings.currency = "USD"
    settings.payment_terms = "Payable within 30 days of the invoice date."


def load_catalogue(session: Session) -> list[Product]:
    products = []
    for sku, name, price, unit, tax, stocked, on_hand in CATALOGUE:
        product = product_service.create(session, actor=SYSTEM_ACTOR, data={
            "sku": sku, "name": name, "price": Decimal(price), "currency": "USD", "unit": unit,
            "tax_rate": Decimal(tax), "stocked": stocked})
        if on_hand:
            stock.receive(session, product_id=product.id, quantity=Decimal(on_hand), reason="opening stock",
                          actor=SYSTEM_ACTOR)
        products.append(product)
    return products


def quote_open_deals(session: Session, org: SalesOrg, rng: random.Random, products: list[Product]) -> None:
    """Line items and a quote on the open deals in the later stages, as their owners."""
    deals = session.scalars(
        select(Deal).join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == "open", Stage.probability >= 50, Deal.owner_id.is_not(None))
        .order_by(Deal.created_at.desc()).limit(QUOTED_DEALS)
    ).all()
    for deal in deals:
        actor = org.actor(deal.owner_id)
        for product in rng.sample(products, rng.randint(1, 3)):
            quantity = Decimal(rng.choice((1, 2, 5, 10, 20, 50))) if product.unit == "C62" else Decimal(rng.randint(4, 40))
            line_item_service.add(session, deal.id, data={"product_id": product.id, "quantity": quantity}, actor=actor)
        quote = quote_service.create(session, data={"deal_id": deal.id}, actor=actor)
        roll = rng.random()
        if roll < 0.25:  # a discount beyond a rep's limit: it waits in the manager's queue
            lines = quote_service.lines(session, quote.id)
            discounted = [_line_data(line, discount=Decimal(rng.choice((12, 15, 20)))) for line in lines]
            quote_service.set_lines(session, quote.id, discounted, actor=actor)
        elif roll < 0.6:
            _send(session, quote.id, deal, actor)


def _line_data(line, *, discount: Decimal) -> dict:  # type: ignore[no-untyped-def]
    return {"product_id": line.product_id, "name": line.name, "quantity": line.quantity, "unit_price": line.unit_price,
            "discount_percent": discount, "tax_rate": line.tax_rate, "optional": line.optional}


def _send(session: Session, quote_id: uuid.UUID, deal: Deal, actor) -> None:  # type: ignore[no-untyped-def]
    buyer = session.scalar(select(Contact.email).where(Contact.account_id == deal.account_id, Contact.email.is_not(None))
                           .order_by(Contact.created_at).limit(1))
    if buyer is None:
        return
    try:
        sending.send_quote(session, quote_id, actor, to=buyer)
    except PipewiseError:
        return  # e.g. a buyer on the suppression list: the quote stays a draft
