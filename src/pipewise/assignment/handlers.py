"""Routing's timer: the first-touch SLA of an assignment."""

from pipewise.assignment import service
from pipewise.events import bus

TABLE = bus.HandlerTable(timers={service.SLA_ACTION: bus.ActionKind(service.check_sla)})
