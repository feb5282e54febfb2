"""The import rules of docs/design.md, read from the source: every import points down the
layers (or stays inside its own package), and no module takes part in an import cycle.

Imports inside functions and under ``if TYPE_CHECKING:`` count too: moving an import
there hides a cycle from Python, not from the design."""

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# Bottom to top. A module may import its own unit and the units listed before it.
# Entry points (the composition root, the app, the CLI's entry, Alembic's env) sit on top.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("pipewise", "pipewise.config", "pipewise.errors", "pipewise.schemas", "pipewise.templating",
              "pipewise.outbound_http", "pipewise.netguard", "pipewise.origin", "pipewise.ratelimit")),
    ("infrastructure", ("pipewise.db", "pipewise.events", "pipewise.worker")),
    ("kernel", ("pipewise.auth", "pipewise.audit", "pipewise.records", "pipewise.runs", "pipewise.notifications",
                "pipewise.jobs", "pipewise.kernel")),
    ("domains", ("pipewise.people", "pipewise.crm", "pipewise.deals", "pipewise.quotes", "pipewise.billing", "pipewise.mail",
                 "pipewise.scoring", "pipewise.assignment", "pipewise.meetings", "pipewise.leads", "pipewise.sequences",
                 "pipewise.automation", "pipewise.analytics", "pipewise.forecasting", "pipewise.next_actions",
                 "pipewise.integrations.webhooks", "pipewise.dataio", "pipewise.privacy")),
    ("adapters", ("pipewise.api", "pipewise.web", "pipewise.integrations.mcp", "pipewise.demo", "pipewise.cli")),
    ("entry points", ("pipewise.domains", "pipewise.app", "pipewise.cli.main", "pipewise.db.migrations")),
)
UNITS = [unit for _layer, units in LAYERS for unit in units]

# Imports that break the rules today and are being removed; the list only shrinks.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> int:
    """Index of the most specific unit that contains ``module``."""
    best = -1
    for index, unit in enumerate(UNITS):
        if (module == unit or module.startswith(unit + ".")) and (best < 0 or len(unit) > len(UNITS[best])):
            best = index
    assert best >= 0, f"{module} is in no layer: add its package to LAYERS"
    return best


def imports() -> dict[str, set[str]]:
    """module -> the pipewise modules it imports (``from a import b`` counts ``a.b`` when
    ``a.b`` is a module)."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                base = node.module
                if node.level:
                    package = name.split(".")[: len(name.split(".")) - node.level + (path.name == "__init__.py")]
                    base = ".".join([*package, node.module])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                if target.split(".")[0] == "pipewise" and target != name:
                    graph[name].add(target if target in modules else target.rsplit(".", 1)[0])
    return graph


def upward_imports() -> set[tuple[str, str]]:
    found = set()
    for module, targets in imports().items():
        own = unit_of(module)
        for target in targets:
            if unit_of(target) > own:
                found.add((module, target))
    return found


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = imports()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_every_import_points_down_the_layers() -> None:
    upward = upward_imports()
    new = sorted(upward - KNOWN_VIOLATIONS)
    assert not new, "imports from a lower layer to a higher one:\n" + "\n".join(f"  {a} -> {b}" for a, b in new)
    assert not (KNOWN_VIOLATIONS - upward), "fixed: drop these from KNOWN_VIOLATIONS"


def test_no_import_cycles() -> None:
    found = cycles()
    assert not found, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in found)


def test_the_rule_catches_an_upward_import() -> None:
    """The checker itself: a kernel module naming a domain, or a domain naming an adapter."""
    assert unit_of("pipewise.records.service") < unit_of("pipewise.deals.service")
    assert unit_of("pipewise.sequences.engine") < unit_of("pipewise.web.sequences")
    assert unit_of("pipewise.cli.leads") < unit_of("pipewise.cli.main")
