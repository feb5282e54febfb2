"""Products join the kernel."""

from pipewise.kernel import CrudResource, Kernel
from pipewise.quotes import accept_handlers, schemas
from pipewise.quotes.models import Product
from pipewise.quotes.service import product_service
from pipewise.records.registry import MANAGERS, RecordSpec


def register(kernel: Kernel) -> None:
    kernel.record_type(
        RecordSpec(
            "product", "products", Product, ("name", "sku"), owned=False, write_roles=MANAGERS, has_custom_fields=False
        ),
        CrudResource(product_service, schemas.Product, schemas.ProductCreate, schemas.ProductUpdate, "/products", "products"),
    )
    register_sending(kernel)


def register_sending(kernel: Kernel) -> None:
    """Sending quotes, the public accept page, expiry and the deal's timeline entries."""
    kernel.handlers(accept_handlers.TABLE)
    kernel.timeline_source(accept_handlers.quote_timeline)
    kernel.api("pipewise.api.v1.quote_sending:router")
    kernel.web("pipewise.web.quotes.public:router")
    kernel.web("pipewise.web.quotes.send:router")
