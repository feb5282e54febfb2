"""What a domain hands the kernel when it joins Pipewise.

Each domain package has a ``domain.py`` with one ``register(kernel)``; ``pipewise.domains``
lists the domains once and calls them in order. The kernel below (records, events, auth,
db) never imports a domain: everything it needs to know about one arrives here.

Adapters (API routers, web pages, CLI commands) sit above the domains, so a domain names
them by ``"module:attribute"`` instead of importing them; the app and the CLI import what
is named when they are built. That keeps every import pointing down the layers."""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from pydantic import BaseModel

from pipewise.events import bus
from pipewise.records import personal_data, registry, timeline
from pipewise.records.registry import RecordSpec


@dataclass(frozen=True)
class CrudResource:
    """A record type's REST surface: list, create, read, update, delete, history."""

    service: Any
    out: type[BaseModel]
    create: type[BaseModel]
    update: type[BaseModel]
    path: str
    tag: str


@dataclass(frozen=True)
class CliCommand:
    name: str
    target: str  # "module:attribute": a Typer app (a command group) or a function (one command)


@dataclass
class Kernel:
    domains: list[str] = field(default_factory=list)
    crud_resources: list[CrudResource] = field(default_factory=list)
    api_routers: list[str] = field(default_factory=list)
    root_api_routers: list[str] = field(default_factory=list)
    web_pages: list[str] = field(default_factory=list)
    cli_commands: list[CliCommand] = field(default_factory=list)

    def join(self, name: str, register: Callable[["Kernel"], None]) -> None:
        if name in self.domains:
            return
        self.domains.append(name)
        register(self)

    # --- records -------------------------------------------------------------------
    def record_type(self, spec: RecordSpec, crud: CrudResource | None = None) -> None:
        registry.register(spec)
        if crud is not None:
            self.crud_resources.append(crud)

    def owned_table(self, table_name: str, singular: str, plural: str) -> None:
        """Rows of a table that is no record type but has an owner (sequences, templates):
        counted and reassigned when that user leaves."""
        registry.register_owned_table(table_name, singular, plural)

    def scrubbed_columns(self, table_name: str, *columns: str) -> None:
        """Text or JSON columns that may mention a person: an erasure scrubs them."""
        personal_data.register_scrubbed_columns(table_name, columns)

    def timeline_source(self, source: timeline.TimelineSource) -> None:
        timeline.add_source(source)

    # --- events ----------------------------------------------------------------------
    def handlers(self, table: bus.HandlerTable) -> None:
        bus.install(table)

    # --- adapters, named rather than imported ------------------------------------------
    def api(self, target: str) -> None:
        """An APIRouter, mounted under /api/v1 (its own paths name only the resource)."""
        self.api_routers.append(target)

    def root_api(self, target: str) -> None:
        """An APIRouter for public addresses outside the API (a hosted form's /f/{key}),
        mounted at the site root."""
        self.root_api_routers.append(target)

    def web(self, target: str) -> None:
        """A web page area's router (``web.common.web_router``)."""
        self.web_pages.append(target)

    def cli(self, name: str, target: str) -> None:
        self.cli_commands.append(CliCommand(name, target))


def resolve(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(import_module(module_name), attribute)
