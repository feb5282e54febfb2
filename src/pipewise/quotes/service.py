from decimal import Decimal

from pipewise.deals.service import CURRENCY_RE
from pipewise.quotes.models import Product
from pipewise.records.checks import check_required_text
from pipewise.records.service import RecordService


class ProductService(RecordService[Product]):
    record_type = "product"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "name", record, errors)
        check_required_text(data, "sku", record, errors)
        if "price" in data:
            if data["price"] is None or data["price"] < 0:
                errors.add("price", "must be zero or more")
            else:
                data["price"] = Decimal(data["price"]).quantize(Decimal("0.01"))
        elif record is None:
            errors.add("price", "is required")
        if "currency" in data:
            data["currency"] = str(data["currency"] or "").upper()
            if not CURRENCY_RE.match(data["currency"]):
                errors.add("currency", "must be a three-letter ISO 4217 code such as EUR")


product_service = ProductService()
