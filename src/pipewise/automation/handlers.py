"""Wires the automation engine into the event bus: every event may start, release or
end a run; steps and time-based triggers run as scheduled actions."""

from pipewise.automation import batch, engine
from pipewise.events import bus

# Rerun-safe: the engine's only effects outside the database go through effects.once.
bus.subscribe("*", name="automation.engine", prepare=engine.prepare_events, rerun_safe=True)(engine.on_event)
bus.handles_action(engine.STEP_KIND, prepare=batch.prepare_steps, rerun_safe=True)(engine.run_step)
bus.handles_action(engine.TICK_KIND, rerun_safe=True)(engine.run_tick)
