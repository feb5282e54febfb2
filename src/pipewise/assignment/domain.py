"""Lead routing joins the kernel. It registers nothing of its own: its SLA timer needs the
lead, so the leads package runs it (leads/handlers.py), and its routes are the leads'."""

from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    """Every domain joins the same way, even one with nothing to hand over yet."""
