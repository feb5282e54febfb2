"""User templates (e-mail subjects and bodies, task titles, notification texts): Jinja2
in the bounded sandbox (``pipewise.templating``), because they are user input."""

from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, meta

from pipewise.automation.context import PermanentStepFailure
from pipewise.templating import BoundedEnvironment, TemplateLimit

# Names a template may use; anything else is reported when the workflow is validated.
TEMPLATE_NAMES = frozenset({"record", "owner", "workflow", "now", "recipient"})
# What a template is tried on when it is saved, to refuse one that runs away.
SAMPLE_CONTEXT: dict[str, Any] = {
    "record": {}, "owner": {"name": "", "email": ""}, "workflow": {"name": "", "version": 1}, "now": "", "recipient": "",
}

_env = BoundedEnvironment(autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _env.from_string(source)


def render(source: str, context: dict[str, Any]) -> str:
    try:
        return _compiled(source).render(**context)
    except (TemplateError, TypeError, ArithmeticError) as exc:
        raise PermanentStepFailure(f"the template could not be rendered: {exc}") from None


def template_problem(source: str) -> str | None:
    """Why ``source`` cannot be used as a template, or None."""
    try:
        names = meta.find_undeclared_variables(_env.parse(source))
    except TemplateSyntaxError as exc:
        return f"template error on line {exc.lineno}: {exc.message}"
    except TemplateLimit as exc:
        return str(exc)
    unknown = sorted(names - TEMPLATE_NAMES)
    if unknown:
        return f"unknown template variable {', '.join(unknown)}; use {', '.join(sorted(TEMPLATE_NAMES))}"
    return runaway_problem(source)


def runaway_problem(source: str) -> str | None:
    """Whether ``source`` goes over the time or size bounds on sample values (other
    errors depend on the record and are reported when it runs)."""
    if "{" not in source:
        return None
    try:
        _compiled(source).render(**SAMPLE_CONTEXT)
    except TemplateLimit as exc:
        return f"the template cannot be used: {exc}"
    except Exception:  # noqa: BLE001 - a record's real values may well render fine
        return None
    return None
