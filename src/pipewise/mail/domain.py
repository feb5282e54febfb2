"""The mail path joins the kernel: its delivery timer, its pages and its commands."""

from pipewise.kernel import Kernel
from pipewise.mail import handlers


def register(kernel: Kernel) -> None:
    kernel.handlers(handlers.TABLE)
    for page in ("mailbox", "outbox", "suppressions"):
        kernel.web(f"pipewise.web.mail.{page}:router")
    kernel.cli("mail", "pipewise.cli.mail:mail_app")
