"""Reports join the kernel: their per-day sums of deals, kept by the worker, an API and
the web pages."""

from pipewise.analytics import handlers
from pipewise.analytics import models as report_models  # noqa: F401 - the per-day sums tables
from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    kernel.handlers(handlers.TABLE)
    kernel.api("pipewise.api.v1.reports:router")
    kernel.web("pipewise.web.reports.pages:router")
