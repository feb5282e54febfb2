"""axe-core in the browser tests: its script (as the ``axe-playwright-python`` test package
ships it) and the call that runs it on the page and returns its violations."""

from importlib.resources import files

from playwright.sync_api import Page

BLOCKING = ("serious", "critical")

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")}));
}"""


def axe_source() -> str:
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def blocking_violations(page: Page) -> list[str]:
    """Serious and critical violations on ``page`` (axe is injected first if it is not there)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(axe_source())
    return [f"{v['impact']} {v['id']}: {v['help']} — {v['nodes']}" for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]
