"""Lead scoring joins the kernel: its timers and its commands."""

from pipewise.kernel import Kernel
from pipewise.scoring import handlers


def register(kernel: Kernel) -> None:
    kernel.handlers(handlers.TABLE)
    kernel.cli("scoring", "pipewise.cli.scoring:scoring_app")
