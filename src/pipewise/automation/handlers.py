"""Wires the automation engine into the event bus: every event may start, release or
end a run; steps and time-based triggers run as scheduled actions."""

from pipewise.automation import batch, engine
from pipewise.events import bus

# Rerun-safe: the engine's only effects outside the database go through effects.once.
TABLE = bus.HandlerTable(
    subscriptions=(
        bus.Subscription("*", "automation.engine", engine.on_event, rerun_safe=True, prepare=engine.prepare_events),
    ),
    timers={
        engine.STEP_KIND: bus.ActionKind(engine.run_step, prepare=batch.prepare_steps, rerun_safe=True),
        engine.TICK_KIND: bus.ActionKind(engine.run_tick, rerun_safe=True),
    },
)
