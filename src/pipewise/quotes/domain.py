"""Products join the kernel."""

from pipewise.kernel import CrudResource, Kernel
from pipewise.quotes import schemas
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
