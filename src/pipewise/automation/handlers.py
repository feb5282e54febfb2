"""Wires the automation engine into the event bus: every event may start, release or
end a run; steps and time-based triggers run as scheduled actions."""

from sqlalchemy.orm import Session

from pipewise.automation import batch, engine
from pipewise.events import bus


def _under_each_name(events: list[bus.Event]) -> list[bus.Event]:
    """Each event under each of its names, its own first. Workflows listen by name: a
    stage change (``deal.stage_changed``) starts those listening to it and those
    listening to ``deal.updated``, as it is both, while stored and delivered once."""
    return [event if name == event.name else event.named(name) for event in events for name in event.names]


def on_event(session: Session, event: bus.Event) -> None:
    for seen in _under_each_name([event]):
        engine.on_event(session, seen)


def prepare_events(session: Session, events: list[bus.Event]) -> None:
    engine.prepare_events(session, _under_each_name(events))


# Rerun-safe: the engine's only effects outside the database go through effects.once.
TABLE = bus.HandlerTable(
    subscriptions=(
        bus.Subscription("*", "automation.engine", on_event, rerun_safe=True, prepare=prepare_events),
    ),
    timers={
        engine.STEP_KIND: bus.ActionKind(engine.run_step, prepare=batch.prepare_steps, rerun_safe=True),
        engine.TICK_KIND: bus.ActionKind(engine.run_tick, rerun_safe=True),
    },
)
