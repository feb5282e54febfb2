"""The catalogue, price books, deal line items, quotes and their approval join the kernel."""

from pipewise.kernel import CrudResource, Kernel
from pipewise.quotes import accept_handlers, schemas
from pipewise.quotes.approvals import deal_timeline
from pipewise.quotes.catalogue import price_book_entry_service, price_book_service, product_service, quote_template_service
from pipewise.quotes.models import PriceBook, PriceBookEntry, Product, Quote, QuoteTemplate
from pipewise.quotes.service import quote_service
from pipewise.records.registry import MANAGERS, OWNER, RecordSpec


def _reference(name: str, plural: str, model: type, search: tuple[str, ...], **relations: tuple[str, str]) -> RecordSpec:
    return RecordSpec(name, plural, model, search, owned=False, write_roles=MANAGERS, has_custom_fields=False,
                      relations=dict(relations))


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("quote", "title", "terms")
    kernel.scrubbed_columns("quote_response", "signer_name", "reason")
    kernel.scrubbed_columns("quote_approval", "reason", "comment")
    kernel.record_type(
        _reference("product", "products", Product, ("name", "sku")),
        CrudResource(product_service, schemas.Product, schemas.ProductCreate, schemas.ProductUpdate, "/products", "products"),
    )
    kernel.record_type(
        _reference("price_book", "price books", PriceBook, ("name", "segment")),
        CrudResource(price_book_service, schemas.PriceBook, schemas.PriceBookCreate, schemas.PriceBookUpdate,
                     "/price-books", "catalogue"),
    )
    kernel.record_type(
        _reference("price_book_entry", "price book entries", PriceBookEntry, (),
                   price_book=("price_book_id", "price_book"), product=("product_id", "product")),
        CrudResource(price_book_entry_service, schemas.PriceBookEntry, schemas.PriceBookEntryCreate,
                     schemas.PriceBookEntryUpdate, "/price-book-entries", "catalogue"),
    )
    kernel.record_type(
        _reference("quote_template", "quote templates", QuoteTemplate, ("name",)),
        CrudResource(quote_template_service, schemas.QuoteTemplate, schemas.QuoteTemplateCreate,
                     schemas.QuoteTemplateUpdate, "/quote-templates", "quotes"),
    )
    kernel.record_type(
        RecordSpec(
            "quote", "quotes", Quote, ("number", "title"), has_custom_fields=False,
            relations={**OWNER, "deal": ("deal_id", "deal"), "account": ("account_id", "account"),
                       "contact": ("contact_id", "contact")},
            hidden_fields=frozenset({"pdf"}),
        ),
        CrudResource(quote_service, schemas.Quote, schemas.QuoteCreate, schemas.QuoteUpdate, "/quotes", "quotes"),
    )
    kernel.timeline_source(deal_timeline)
    kernel.api("pipewise.api.v1.catalogue:router")
    kernel.api("pipewise.api.v1.quotes:router")
    kernel.web("pipewise.web.quotes.lines:router")
    kernel.web("pipewise.web.quotes.builder:router")
    kernel.web("pipewise.web.quotes.desk:router")
    kernel.cli("quotes", "pipewise.cli.quotes:app")
    register_sending(kernel)


def register_sending(kernel: Kernel) -> None:
    """Sending quotes, the public accept page, expiry and the deal's timeline entries."""
    kernel.handlers(accept_handlers.TABLE)
    kernel.timeline_source(accept_handlers.quote_timeline)
    kernel.api("pipewise.api.v1.quote_sending:router")
    kernel.web("pipewise.web.quotes.public:router")
    kernel.web("pipewise.web.quotes.send:router")
