"""The mail path joins the kernel: its delivery timer, its pages and its commands."""

from pipewise.kernel import Kernel
from pipewise.mail import handlers, hooks, quote_mail
from pipewise.mail.pricing import PricingGuardHooks


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("email_message", "to_address", "from_address", "subject", "body_text", "body_html", "error")
    kernel.handlers(handlers.TABLE)
    kernel.handlers(quote_mail.TABLE)
    hooks.register(PricingGuardHooks())
    for page in ("mailbox", "outbox", "suppressions"):
        kernel.web(f"pipewise.web.mail.{page}:router")
    kernel.cli("mail", "pipewise.cli.mail:mail_app")
