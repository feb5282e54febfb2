"""Forecasting joins the kernel: the weekly snapshot timer, forecast calls on a deal's
timeline, and its API, page and commands."""

from pipewise.forecasting import handlers, timeline
from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("forecast_override", "reason")
    kernel.handlers(handlers.TABLE)
    kernel.timeline_source(timeline.forecast_calls)
    kernel.api("pipewise.api.v1.forecast:router")
    kernel.web("pipewise.web.forecast.pages:router")
    kernel.cli("forecast", "pipewise.cli.forecast:forecast_app")
