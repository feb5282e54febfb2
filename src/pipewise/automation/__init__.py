"""Workflows as data: a trigger, enrollment conditions and steps, run by durable timers,
with every decision explained."""
