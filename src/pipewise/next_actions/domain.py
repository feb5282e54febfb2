"""Deal health and the next best actions join the kernel: their API and web pages."""

from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    kernel.api("pipewise.api.v1.next_actions:router")
    kernel.web("pipewise.web.deals.health:router")
    kernel.web("pipewise.web.next.pages:router")
