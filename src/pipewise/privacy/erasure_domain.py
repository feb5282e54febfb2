"""Erasure joins the kernel: its receipts, its API route and the contact page's button,
and the kernel's own tables whose free text and JSON may mention a person."""

from pipewise.kernel import Kernel
from pipewise.privacy import erasure_models  # noqa: F401 - the erasure receipts

KERNEL_COLUMNS = {
    "record_history": ("changes",),
    "outbox_event": ("payload",),
    "scheduled_action": ("payload", "last_error"),
    "event_delivery": ("last_error",),
    "idempotency_record": ("body",),
    "notification": ("title", "body"),
    "job": ("title", "error"),
    "saved_view": ("query", "filter"),
}


def register(kernel: Kernel) -> None:
    for table, columns in KERNEL_COLUMNS.items():
        kernel.scrubbed_columns(table, *columns)
    kernel.api("pipewise.api.v1.erasure:router")
    kernel.web("pipewise.web.records.erasure:router")
