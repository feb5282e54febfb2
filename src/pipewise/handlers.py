"""Wires every package's event subscribers and scheduled-action handlers into the bus.
Importing a handlers module registers it; this is the one place that lists them."""

import importlib

HANDLER_MODULES: tuple[str, ...] = ("pipewise.automation.handlers", "pipewise.leads.handlers", "pipewise.sequences.handlers")


def register_all() -> None:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
