"""The mail package's timer: checking on a queued message and sending it when due."""

from pipewise.events import bus
from pipewise.mail import delivery

TABLE = bus.HandlerTable(timers={delivery.DELIVER_ACTION: bus.ActionKind(delivery.run_delivery_check)})
