"""Lead scoring joins the kernel: its commands. Its timers (decay, training) need the leads,
so the leads package runs them (leads/handlers.py)."""

from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("engagement_event", "detail")
    kernel.cli("scoring", "pipewise.cli.scoring:scoring_app")
