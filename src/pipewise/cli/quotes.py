"""`pipewise quotes …`: price books and their tiers, the price of a product, quotes and
their revisions, the approval queue and the company settings, as someone (`--as`)."""

import uuid
from datetime import date
from decimal import Decimal

import typer
from pydantic import ValidationError as PydanticError
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.cli.output import out
from pipewise.db.base import utcnow
from pipewise.db.session import session_scope
from pipewise.errors import FieldError, ValidationFailed
from pipewise.quotes import schemas
from pipewise.quotes.approvals import approval_service
from pipewise.quotes.catalogue import price_book_entry_service, price_book_service, product_by_sku, resolve_price
from pipewise.quotes.service import STATUSES, quote_service, update_company_settings
from pipewise.quotes.settings import company_settings
from pipewise.records.repository import ListQuery

app = typer.Typer(help="Price books, quotes and discount approvals.", no_args_is_help=True)
books_app = typer.Typer(help="Price books and their volume tiers.", no_args_is_help=True)
app.add_typer(books_app, name="price-books")

AS_USER = typer.Option(None, "--as", help="E-mail of the person acting (default: the system, which sees everything).")


def _actor(session: Session, email: str | None) -> Actor:
    if email is None:
        return SYSTEM_ACTOR
    user = session.scalar(select(User).where(User.email == email.lower()))
    if user is None or not user.is_active:
        raise ValidationFailed.on("as", f"no active user with e-mail {email}")
    return Actor.for_user(session, user)


# -- price books --


@books_app.command("list")
def list_books() -> None:
    """Every price book: currency, scope, validity."""
    with session_scope() as session:
        books = price_book_service.list(session, actor=SYSTEM_ACTOR, query=ListQuery(sort="name", limit=500)).items
        table = Table("id", "name", "currency", "for", "valid", "active")
        for book in books:
            scope = "everyone (default)" if book.is_default else (f"segment {book.segment}" if book.segment else
                                                                   f"account {book.account_id}" if book.account_id else "—")
            table.add_row(str(book.id), book.name, book.currency, scope,
                          f"{book.valid_from or '…'} – {book.valid_to or '…'}", "yes" if book.active else "no")
    out.print(table)


@books_app.command("create")
def create_book(
    name: str = typer.Option(..., "--name"),
    currency: str = typer.Option(..., "--currency"),
    default: bool = typer.Option(False, "--default", help="The book for everyone."),
    segment: str | None = typer.Option(None, "--segment", help="For accounts of this industry."),
    account_id: uuid.UUID | None = typer.Option(None, "--account-id", help="For this account only."),
    valid_from: str | None = typer.Option(None, "--valid-from", help="YYYY-MM-DD"),
    valid_to: str | None = typer.Option(None, "--valid-to", help="YYYY-MM-DD"),
    as_user: str | None = AS_USER,
) -> None:
    """Create a price book (managers and admins)."""
    with session_scope() as session:
        data = {"name": name, "currency": currency, "is_default": default, "segment": segment, "account_id": account_id,
                "valid_from": _date(valid_from, "valid_from"), "valid_to": _date(valid_to, "valid_to")}
        book = price_book_service.create(session, data={k: v for k, v in data.items() if v is not None},
                                         actor=_actor(session, as_user))
        session.flush()
        out.print(f"Price book {book.name} ({book.id})")


@books_app.command("add-entry")
def add_entry(
    book_id: uuid.UUID = typer.Argument(..., help="The price book's id."),
    sku: str = typer.Option(..., "--sku"),
    unit_price: Decimal = typer.Option(..., "--price"),
    min_quantity: Decimal = typer.Option(Decimal(1), "--min-quantity", help="A volume tier: from this quantity up."),
    as_user: str | None = AS_USER,
) -> None:
    """Price a product in a book, from a quantity up."""
    with session_scope() as session:
        product = product_by_sku(session, sku)
        price_book_entry_service.create(session, data={"price_book_id": book_id, "product_id": product.id,
                                                       "unit_price": unit_price, "min_quantity": min_quantity},
                                        actor=_actor(session, as_user))
        out.print(f"{product.name}: {unit_price} from {min_quantity}")


@app.command()
def price(
    sku: str = typer.Option(..., "--sku"),
    currency: str = typer.Option(..., "--currency"),
    quantity: Decimal = typer.Option(Decimal(1), "--quantity"),
    account_id: uuid.UUID | None = typer.Option(None, "--account-id"),
    on: str | None = typer.Option(None, "--on", help="YYYY-MM-DD (default: today)"),
    as_user: str | None = AS_USER,
) -> None:
    """The unit price a line would get, and which book gave it."""
    with session_scope() as session:
        product = product_by_sku(session, sku)
        found = resolve_price(session, product_id=product.id, quantity=quantity, account_id=account_id,
                              currency=currency, on_date=_date(on, "on") or utcnow().date(), actor=_actor(session, as_user))
    out.print(f"{found.unit_price} {currency.upper()} ({found.source}{', from ' + str(found.min_quantity) if found.min_quantity else ''})")


# -- quotes --


@app.command("list")
def list_quotes(status: str | None = typer.Option(None, "--status", help=", ".join(STATUSES)),
                as_user: str | None = AS_USER) -> None:
    """Quotes with their status and totals (the newest first)."""
    with session_scope() as session:
        query = ListQuery(filter={"field": "status", "op": "eq", "value": status} if status else None, limit=200)
        quotes = quote_service.list(session, actor=_actor(session, as_user), query=query).items
        table = Table("id", "number", "rev", "status", "net", "gross", "valid until")
        for quote in quotes:
            table.add_row(str(quote.id), quote.number, str(quote.revision), quote.status,
                          f"{quote.net_total} {quote.currency}", f"{quote.gross_total} {quote.currency}",
                          str(quote.valid_until or "—"))
    out.print(table)


@app.command()
def create(deal_id: uuid.UUID = typer.Option(..., "--deal-id"),
           template_id: uuid.UUID | None = typer.Option(None, "--template-id"), as_user: str | None = AS_USER) -> None:
    """A quote from a deal's line items (or a template)."""
    with session_scope() as session:
        data = {"deal_id": deal_id, **({"template_id": template_id} if template_id else {})}
        quote = quote_service.create(session, data=data, actor=_actor(session, as_user))
        session.flush()
        out.print(f"{quote.number} revision {quote.revision}: {quote.status}, {quote.gross_total} {quote.currency} ({quote.id})")


@app.command()
def revise(quote_id: uuid.UUID = typer.Argument(...), as_user: str | None = AS_USER) -> None:
    """Make the next revision of a quote (the old one is superseded)."""
    with session_scope() as session:
        quote = quote_service.revise(session, quote_id, actor=_actor(session, as_user))
        session.flush()
        out.print(f"{quote.number} revision {quote.revision} ({quote.id})")


@app.command()
def approvals(as_user: str | None = AS_USER) -> None:
    """Discount requests waiting for a decision."""
    with session_scope() as session:
        rows = approval_service.queue(session, actor=_actor(session, as_user))
        for approval, quote in rows:  # one line each, ids whole: they are what `decide` takes
            out.print(f"{approval.id}  {quote.number} rev {quote.revision}  {quote.gross_total} {quote.currency}  "
                      f"{approval.reason}")
        if not rows:
            out.print("Nothing waits for approval.")


@app.command()
def decide(
    approval_id: uuid.UUID = typer.Argument(...),
    reject: bool = typer.Option(False, "--reject", help="Reject instead of approving."),
    comment: str | None = typer.Option(None, "--comment"),
    as_user: str = typer.Option(..., "--as", help="E-mail of the manager or admin deciding."),
) -> None:
    """Approve (or --reject) a discount request."""
    with session_scope() as session:
        approval = approval_service.decide(session, approval_id, decision="rejected" if reject else "approved",
                                           comment=comment, actor=_actor(session, as_user))
        out.print(f"Discount {approval.status}.")


@app.command()
def settings(assignments: list[str] = typer.Argument(None, help="key=value pairs to change, e.g. tax_mode=on_totals"),
             as_user: str | None = AS_USER) -> None:
    """Show the company settings, or change them (admins)."""
    with session_scope() as session:
        if assignments:
            data: dict[str, object] = {}
            for item in assignments:
                key, sep, value = item.partition("=")
                if not sep:
                    raise ValidationFailed.on(item, "write key=value")
                if key.startswith("limit."):
                    data.setdefault("discount_limits", {})[key[6:]] = value  # type: ignore[index]
                else:
                    data[key] = value or None
            parsed, errors = checked_settings(data)
            if errors:
                raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
            update_company_settings(session, parsed, actor=_actor(session, as_user))
        row = company_settings(session)
        for key in ("name", "vat_id", "iban", "currency", "language", "tax_mode", "rounding_mode", "discount_limits",
                    "quote_valid_days", "invoice_prefix", "invoice_due_days"):
            out.print(f"{key}: {getattr(row, key)}")


def checked_settings(data: dict[str, object]) -> tuple[dict[str, object], list[FieldError]]:
    try:
        return schemas.CompanySettingsUpdate.model_validate(data).model_dump(exclude_unset=True), []
    except PydanticError as exc:
        return {}, [FieldError(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]


def _date(text: str | None, field_name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.on(field_name, "is not a date (YYYY-MM-DD)") from None
