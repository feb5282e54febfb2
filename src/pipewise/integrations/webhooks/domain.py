"""Webhook subscriptions join the kernel: the worker's fan-out and deliveries, the API
and the settings page."""

from pipewise.events import bus
from pipewise.integrations.webhooks import delivery
from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    kernel.handlers(bus.HandlerTable(subscriptions=delivery.SUBSCRIPTIONS, timers=delivery.TIMERS))
    # What went out, and what receivers answered, may name a person an erasure removes.
    kernel.scrubbed_columns("webhook_message", "body", "last_error")
    kernel.scrubbed_columns("webhook_attempt", "response_body", "error")
    kernel.api("pipewise.api.v1.webhooks:router")
    kernel.web("pipewise.web.settings.webhooks:router")
