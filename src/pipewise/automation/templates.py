"""User templates (e-mail subjects and bodies, task titles, notification texts): Jinja2
in a sandbox, because they are user input."""

from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from pipewise.automation.context import PermanentStepFailure

# Names a template may use; anything else is reported when the workflow is validated.
TEMPLATE_NAMES = frozenset({"record", "owner", "workflow", "now", "recipient"})

_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _env.from_string(source)


def render(source: str, context: dict[str, Any]) -> str:
    try:
        return _compiled(source).render(**context)
    except TemplateError as exc:
        raise PermanentStepFailure(f"the template could not be rendered: {exc}") from None


def template_problem(source: str) -> str | None:
    """Why ``source`` cannot be used as a template, or None."""
    try:
        names = meta.find_undeclared_variables(_env.parse(source))
    except TemplateSyntaxError as exc:
        return f"template error on line {exc.lineno}: {exc.message}"
    unknown = sorted(names - TEMPLATE_NAMES)
    if unknown:
        return f"unknown template variable {', '.join(unknown)}; use {', '.join(sorted(TEMPLATE_NAMES))}"
    return None
