"""Reports join the kernel: no tables of their own, an API and the web pages."""

from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    kernel.api("pipewise.api.v1.reports:router")
    kernel.web("pipewise.web.reports.pages:router")
