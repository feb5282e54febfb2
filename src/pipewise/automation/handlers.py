"""Wires the automation engine into the event bus: every event may start, release or
end a run; steps and time-based triggers run as scheduled actions."""

from pipewise.automation import engine
from pipewise.events import bus

bus.subscribe("*", name="automation.engine")(engine.on_event)
bus.handles_action(engine.STEP_KIND)(engine.run_step)
bus.handles_action(engine.TICK_KIND)(engine.run_tick)
