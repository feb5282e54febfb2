"""Privacy joins the kernel: the daily retention timer, the unsubscribe hook that writes
withdrawals to the consent ledger, and its adapters."""

from pipewise.kernel import Kernel
from pipewise.mail import hooks
from pipewise.privacy import retention, subject_export
from pipewise.privacy.consent import UnsubscribeHooks


def register(kernel: Kernel) -> None:
    kernel.handlers(retention.TABLE)
    kernel.handlers(subject_export.TABLE)
    hooks.register(UnsubscribeHooks())
    kernel.api("pipewise.api.v1.privacy:router")
    for page in ("consent", "retention"):
        kernel.web(f"pipewise.web.privacy.{page}:router")
