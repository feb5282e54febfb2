"""Privacy joins the kernel: the daily retention timer, the handlers that write unsubscribes,
web-form consent and the record's own consent field to the consent ledger, and its adapters."""

from pipewise.kernel import Kernel
from pipewise.privacy import consent, retention, subject_export


def register(kernel: Kernel) -> None:
    kernel.handlers(retention.TABLE)
    kernel.handlers(subject_export.TABLE)
    kernel.handlers(consent.TABLE)
    # The ledger keeps a withdrawal's proof after an erasure, by record id; its note may name them.
    kernel.scrubbed_columns("consent_entry", "note")
    kernel.api("pipewise.api.v1.privacy:router")
    for page in ("consent", "retention"):
        kernel.web(f"pipewise.web.privacy.{page}:router")
