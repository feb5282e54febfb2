"""Webhook subscriptions join the kernel: the worker's fan-out and deliveries, the API
and the settings page."""

from pipewise.events import bus
from pipewise.integrations.webhooks import delivery
from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    kernel.handlers(bus.HandlerTable(subscriptions=delivery.SUBSCRIPTIONS, timers=delivery.TIMERS))
    kernel.api("pipewise.api.v1.webhooks:router")
    kernel.web("pipewise.web.settings.webhooks:router")
