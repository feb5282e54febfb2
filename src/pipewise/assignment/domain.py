"""Lead routing joins the kernel: its SLA timer."""

from pipewise.assignment import handlers
from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    kernel.handlers(handlers.TABLE)
