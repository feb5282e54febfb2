"""Quotes: made from a deal's line items or a template, numbered ``Q-<year>-<seq>``, priced
with the company's rounding (kept on the quote), revised rather than changed once sent.

Statuses: draft → pending_approval → approved | rejected (when a discount needed a
manager) → sent → accepted | declined | expired; superseded when revision n+1 replaces
it. A quote may be sent iff it is ``draft`` (no approval needed) or ``approved``
(``SENDABLE``). Sent, answered, expired and superseded quotes are frozen: a change is a
409, and ``revise`` makes the next revision as a draft."""

import uuid
from dataclasses import dataclass
from collections.abc import Collection, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import list_currencies
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Account
from pipewise.db.base import utcnow, uuid7
from pipewise.deals.models import Deal, Stage
from pipewise.deals.service import deal_service
from pipewise.errors import Conflict, ErrorCollector, NotFound, PermissionDenied, ValidationFailed
from pipewise.quotes import money
from pipewise.quotes.approvals import approval_service
from pipewise.quotes.line_items import LINE_COLUMNS, price_line
from pipewise.quotes.models import CompanySettings, DealLineItem, Quote, QuoteLine, QuoteTemplate
from pipewise.quotes.settings import company_settings, rounding_for
from pipewise.records.checks import check_required_text
from pipewise.records.history import record_change
from pipewise.records.service import RecordService, apply_changes, check_version

FROZEN = frozenset({"sent", "accepted", "declined", "expired", "superseded"})
SENDABLE = frozenset({"draft", "approved"})
STATUSES = ("draft", "pending_approval", "approved", "rejected", "sent", "accepted", "declined", "expired", "superseded")
NUMBER_PREFIX = "Q"
NUMBERING_LOCK = 0x51554F5445  # "QUOTE": the advisory lock quote numbering takes on PostgreSQL


def is_frozen(quote: Quote) -> bool:
    return quote.status in FROZEN


def may_send(quote: Quote) -> bool:
    """The contract with sending: no approval is needed, or it was given."""
    return quote.status in SENDABLE


@dataclass(frozen=True)
class Preview:
    lines: list[dict[str, Any]]  # priced, with their column values
    totals: money.Totals
    rounding: money.Rounding
    max_discount: Decimal


class QuoteService(RecordService[Quote]):
    record_type = "quote"

    # -- the record kernel's hooks --

    def check_writable(self, session: Session, record: Any, *, actor: Actor) -> None:
        super().check_writable(session, record, actor=actor)
        if is_frozen(record):
            raise Conflict(
                f"quote {record.number} revision {record.revision} is {record.status} and cannot change: "
                "revise it to make the next revision"
            )

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "title", record, errors)
        if "language" in data and data["language"] is not None:
            data["language"] = str(data["language"]).replace("-", "_")
        if data.get("status") is not None and data["status"] not in STATUSES:
            errors.add("status", f"must be one of {', '.join(STATUSES)}")

    def create(self, session: Session, *, data: dict[str, Any], actor: Actor) -> Quote:
        data = dict(data)
        template_id = data.pop("template_id", None)
        deal = self._deal(session, data.get("deal_id"), actor)
        template = None
        if template_id is not None:
            template = session.get(QuoteTemplate, template_id)
            if template is None:
                raise ValidationFailed.on("template_id", f"no quote template with id {template_id}")
        settings = company_settings(session)
        valid_days = template.valid_days if template is not None else settings.quote_valid_days
        defaults = {
            "title": deal.name, "valid_until": utcnow().date() + timedelta(days=valid_days),
            "terms": template.terms if template is not None else settings.payment_terms, "language": settings.language,
        }
        for key, value in defaults.items():
            if data.get(key) is None:
                data[key] = value
        data.update(
            number=self._next_number(session), revision=1, status="draft", owner_id=deal.owner_id,
            account_id=deal.account_id, currency=deal.currency, tax_mode=settings.tax_mode,
            rounding_mode=settings.rounding_mode,
        )
        quote = super().create(session, data=data, actor=actor)
        session.flush()
        if template is not None:
            lines = [{"product_id": uuid.UUID(line["product_id"]), "quantity": Decimal(line["quantity"]),
                      "discount_percent": Decimal(line["discount_percent"]), "optional": line["optional"],
                      "selected": not line["optional"]} for line in template.lines]
        else:
            lines = [{**{k: getattr(item, k) for k in LINE_COLUMNS}, "optional": False, "selected": True}
                     for item in self._deal_lines(session, deal.id)]
        self._store_lines(session, quote, lines, actor=actor, reprice=template is not None)
        return quote

    # -- reads --

    def lines(self, session: Session, quote_id: uuid.UUID) -> list[QuoteLine]:
        return list(session.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote_id).order_by(QuoteLine.position)))

    def with_lines(self, session: Session, quote_id: uuid.UUID, *, actor: Actor) -> tuple[Quote, list[QuoteLine]]:
        quote = self.get(session, quote_id, actor=actor)
        return quote, self.lines(session, quote.id)

    def of_deal(self, session: Session, deal_id: uuid.UUID, *, actor: Actor) -> list[Quote]:
        deal = deal_service.get(session, deal_id, actor=actor)
        return list(session.scalars(
            select(Quote).where(Quote.deal_id == deal.id).order_by(Quote.number.desc(), Quote.revision.desc())
        ))

    def preview(self, session: Session, deal_id: uuid.UUID, lines: Sequence[dict[str, Any]], *, actor: Actor,
                rounding: money.Rounding | None = None) -> Preview:
        """Lines priced for a deal and their totals, stored nowhere: the quote builder's live
        totals come from here, never from the browser. ``rounding``: a quote's own (else
        the company's)."""
        deal = deal_service.get(session, deal_id, actor=actor)
        priced = self._price_all(session, deal, lines, reprice=False)
        counted = [line for line in priced if line["selected"] or not line["optional"]]
        rounding = rounding or rounding_for(company_settings(session), deal.currency)
        amounts = [money.Line(line["quantity"], line["unit_price"], line["discount_percent"], line["tax_rate"])
                   for line in counted]
        for line in priced:
            line["net_amount"] = money.line_amounts(
                money.Line(line["quantity"], line["unit_price"], line["discount_percent"], line["tax_rate"]), rounding).net
        biggest = max((line["discount_percent"] for line in priced), default=Decimal(0))
        return Preview(priced, money.totals(amounts, rounding), rounding, biggest)

    def preview_quote(self, session: Session, quote_id: uuid.UUID, lines: Sequence[dict[str, Any]], *, actor: Actor
                      ) -> Preview:
        """What saving ``lines`` on the quote would store, with the rounding it keeps."""
        quote = self.get(session, quote_id, actor=actor)
        rounding = money.Rounding(quote.currency, quote.tax_mode, quote.rounding_mode)
        return self.preview(session, quote.deal_id, lines, actor=actor, rounding=rounding)

    # -- writes --

    def set_lines(
        self, session: Session, quote_id: uuid.UUID, lines: Sequence[dict[str, Any]], *, actor: Actor,
        expected_version: int | Collection[int] | None = None,
    ) -> Quote:
        """Replace the quote's lines. A discount above the editor's limit sends the quote for
        approval; an approved quote whose lines change is judged again."""
        quote = self.get(session, quote_id, actor=actor, write=True, expected_version=expected_version)
        self._store_lines(session, quote, lines, actor=actor, reprice=False)
        return quote

    def revise(
        self, session: Session, quote_id: uuid.UUID, *, actor: Actor, expected_version: int | Collection[int] | None = None,
    ) -> Quote:
        """Revision n+1 as a draft with the same lines; the old revision is superseded."""
        old = self.repository(session).get(quote_id, actor, lock=True)
        if old is None:
            raise NotFound(f"no quote with id {quote_id}")
        RecordService.check_writable(self, session, old, actor=actor)
        check_version(old, expected_version)
        if old.status == "superseded":
            raise Conflict(f"revision {old.revision} of {old.number} was already revised: change the latest revision")
        if old.status == "accepted":
            raise Conflict(f"{old.number} was accepted: an accepted quote is final")
        settings = company_settings(session)
        data = {c: getattr(old, c) for c in ("number", "title", "deal_id", "account_id", "contact_id", "owner_id",
                                              "currency", "language", "valid_until", "terms")}
        data.update(revision=old.revision + 1, previous_id=old.id, status="draft", tax_mode=settings.tax_mode,
                    rounding_mode=settings.rounding_mode)
        if data["valid_until"] is None or data["valid_until"] < utcnow().date():
            data["valid_until"] = utcnow().date() + timedelta(days=settings.quote_valid_days)
        new = RecordService.create(self, session, data=data, actor=actor)
        session.flush()
        self.write(session, old, {"status": "superseded"}, actor=actor)
        lines = [{**{k: getattr(line, k) for k in LINE_COLUMNS}, "optional": line.optional, "selected": line.selected}
                 for line in self.lines(session, old.id)]
        self._store_lines(session, new, lines, actor=actor, reprice=False)
        return new

    def write(self, session: Session, quote: Quote, data: dict[str, Any], *, actor: Actor) -> dict[str, Any]:
        """Set fields the quote's own flow owns (status, totals, sent_at…) with history and
        ``quote.updated``, frozen or not: sending and the buyer's answer come through here."""
        changes = apply_changes(quote, data)
        if changes:
            record_change(session, record_type="quote", record_id=quote.id, action="updated", changes=changes, actor=actor)
        return changes

    # -- helpers --

    def _deal(self, session: Session, deal_id: uuid.UUID | None, actor: Actor) -> Deal:
        if deal_id is None:
            raise ValidationFailed.on("deal_id", "is required")
        try:
            return deal_service.get(session, deal_id, actor=actor, write=True)
        except NotFound:
            raise ValidationFailed.on("deal_id", f"no deal with id {deal_id}") from None

    def _deal_lines(self, session: Session, deal_id: uuid.UUID) -> list[DealLineItem]:
        return list(session.scalars(
            select(DealLineItem).where(DealLineItem.deal_id == deal_id).order_by(DealLineItem.position)
        ))

    def _next_number(self, session: Session) -> str:
        """The next ``Q-<year>-<seq>``. Transactions numbering quotes take turns until they
        commit: on PostgreSQL under a transaction-scoped advisory lock, on SQLite under the
        write lock every writer already holds (and the unique key backs both)."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": NUMBERING_LOCK})
        prefix = f"{NUMBER_PREFIX}-{utcnow().year}-"
        last = session.scalar(select(func.max(Quote.number)).where(Quote.number.like(prefix + "%")))
        sequence = int(last.removeprefix(prefix)) + 1 if last else 1
        return f"{prefix}{sequence:05d}"

    def _price_all(self, session: Session, deal: Deal, lines: Sequence[dict[str, Any]], *, reprice: bool
                   ) -> list[dict[str, Any]]:
        account = session.get(Account, deal.account_id) if deal.account_id else None
        today = utcnow().date()
        priced, errors = [], ErrorCollector()
        for index, line in enumerate(lines):
            values = dict(line)
            if reprice:
                values.pop("unit_price", None)
            try:
                row = price_line(session, values, account=account, currency=deal.currency, on_date=today,
                                 prefix=f"lines.{index}.")
            except ValidationFailed as exc:
                errors.errors.extend(exc.errors)
                continue
            optional = bool(line.get("optional"))
            row.update(optional=optional, selected=bool(line.get("selected", True)) or not optional, position=index + 1)
            priced.append(row)
        errors.raise_if_any()
        return priced

    def _store_lines(self, session: Session, quote: Quote, lines: Sequence[dict[str, Any]], *, actor: Actor,
                     reprice: bool) -> None:
        """Replace the quote's lines (one DELETE, one multi-row INSERT), store their totals
        with the rounding the quote keeps, and judge the discount."""
        deal = session.get(Deal, quote.deal_id)
        priced = self._price_all(session, deal, lines, reprice=reprice) if lines else []
        rounding = money.Rounding(quote.currency, quote.tax_mode, quote.rounding_mode)
        session.execute(delete(QuoteLine).where(QuoteLine.quote_id == quote.id))
        counted, rows = [], []
        for row in priced:
            amounts = money.Line(row["quantity"], row["unit_price"], row["discount_percent"], row["tax_rate"])
            rows.append({**row, "id": uuid7(), "quote_id": quote.id, "net_amount": money.line_amounts(amounts, rounding).net})
            if row["selected"] or not row["optional"]:
                counted.append(amounts)
        if rows:
            session.execute(insert(QuoteLine), rows)
        totals = money.totals(counted, rounding)
        biggest = max((row["discount_percent"] for row in priced), default=Decimal(0))
        data: dict[str, Any] = {
            "net_total": totals.net, "tax_total": totals.tax, "gross_total": totals.gross,
            "discount_total": totals.discount, "max_discount_percent": biggest,
            "status": approval_service.review(session, quote, discount=biggest, actor=actor),
        }
        self.write(session, quote, data, actor=actor)
        session.flush()


quote_service = QuoteService()


SETTINGS_FIELDS = frozenset({
    "name", "legal_name", "street", "city", "postcode", "country", "vat_id", "email", "iban", "bic", "brand_color",
    "currency", "language", "tax_mode", "rounding_mode", "discount_limits", "quote_valid_days", "accepted_stage_id",
    "invoice_prefix", "invoice_due_days",
})


def update_company_settings(
    session: Session, data: dict[str, Any], *, actor: Actor, expected_version: int | Collection[int] | None = None,
) -> CompanySettings:
    """Admins change who sells and how money is rounded; quotes already made keep theirs."""
    if not actor.is_admin:
        raise PermissionDenied("only admins may change the company settings")
    settings = company_settings(session)
    session.refresh(settings, with_for_update=True)
    check_version(settings, expected_version)
    errors = ErrorCollector()
    unknown = set(data) - SETTINGS_FIELDS
    for key in sorted(unknown):
        errors.add(key, "is not a company setting")
    for key in ("currency", "country"):
        if data.get(key) is not None:
            data[key] = str(data[key]).upper()
    if data.get("currency") is not None and data["currency"] not in list_currencies():
        errors.add("currency", "is not an ISO 4217 currency")
    if data.get("accepted_stage_id") is not None and session.get(Stage, data["accepted_stage_id"]) is None:
        errors.add("accepted_stage_id", f"no stage with id {data['accepted_stage_id']}")
    if "discount_limits" in data:
        limits = data["discount_limits"] or {}
        data["discount_limits"] = {**(settings.discount_limits or {}), **{k: str(v) for k, v in limits.items()}}
    for key in ("name", "country", "currency", "language", "tax_mode", "rounding_mode", "brand_color",
                "quote_valid_days", "invoice_prefix", "invoice_due_days"):
        if key in data and data[key] is None:
            errors.add(key, "cannot be empty")
    errors.raise_if_any()
    apply_changes(settings, data)
    session.flush()
    return settings
