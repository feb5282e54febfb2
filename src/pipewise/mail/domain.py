"""The mail path joins the kernel: its delivery timer and its commands."""

from pipewise.kernel import Kernel
from pipewise.mail import handlers


def register(kernel: Kernel) -> None:
    kernel.handlers(handlers.TABLE)
    kernel.cli("mail", "pipewise.cli.mail:mail_app")
