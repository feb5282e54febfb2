"""Orders, stock and invoices join the kernel: the acceptance handler and the overdue
timer, a deal's orders and invoices on its timeline, and their API, pages and commands."""

from pipewise.billing import handlers, timeline
from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("invoice", "notes", "payment_terms")
    kernel.scrubbed_columns("sales_order", "notes")
    kernel.scrubbed_columns("delivery_note", "note")
    kernel.scrubbed_columns("payment", "reference")
    kernel.handlers(handlers.TABLE)
    kernel.timeline_source(timeline.orders_and_invoices)
    kernel.api("pipewise.api.v1.billing:router")
    kernel.web("pipewise.web.billing.pages:router")
    kernel.cli("billing", "pipewise.cli.billing:billing_app")
