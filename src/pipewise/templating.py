"""The one bounded sandbox for user templates (e-mails, workflow texts).

Jinja2's sandbox stops templates from reaching Python internals; this one also bounds
what a render may cost. Each render (or a group of renders inside ``bounded()``) gets
a budget: about a second of time, a number of steps (loop turns and calls, which catches
nested loops and runaway macro recursion deterministically) and a number of characters
of output, counted wherever text is built (the output, blocks, macros, ``*``, ``%`` and
the filters and string methods that widen text). Going over raises ``TemplateLimit``,
a ``SecurityError`` with a sentence a person can act on."""

import re
import string
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import Template, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_SECONDS = 1.0
MAX_STEPS = 100_000
MAX_OUTPUT = 1_000_000  # characters
MAX_SOURCE = 200_000  # characters of template source
GUARD_FILTER = "_bounded_iter"


class TemplateLimit(SecurityError):
    """The template would take too long or produce too much."""


@dataclass
class _Budget:
    deadline: float
    steps: int = 0


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


@contextmanager
def bounded() -> Iterator[None]:
    """Share one budget between the renders inside (nested calls join the outer one)."""
    if _budget.get() is not None:
        yield
        return
    token = _budget.set(_Budget(time.monotonic() + MAX_SECONDS))
    try:
        yield
    finally:
        _budget.reset(token)


def _tick() -> None:
    budget = _budget.get()
    if budget is None:
        return
    budget.steps += 1
    if budget.steps > MAX_STEPS:
        raise TemplateLimit(f"the template does too much work (more than {MAX_STEPS:,} loop turns or calls)")
    if time.monotonic() > budget.deadline:
        raise TemplateLimit(f"the template takes too long (more than {MAX_SECONDS:g} s)")


def _check_size(size: int) -> None:
    if size > MAX_OUTPUT:
        raise TemplateLimit(f"the template produces too much text (more than {MAX_OUTPUT:,} characters)")


def _bounded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _tick()
        yield item


def _bounded_range(*args: int) -> Iterator[int]:
    return _bounded_iter(range(*args))


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_format(text: str, *, percent: bool) -> None:
    """Refuse format strings whose widths or precisions would build huge text."""
    numbers: list[str] = []
    if percent:
        for match in _PERCENT_SPEC.finditer(text):
            numbers += [group for group in match.groups() if group]
    else:
        try:
            numbers = [n for _lit, _name, spec, _conv in string.Formatter().parse(text) if spec for n in re.findall(r"\d+", spec)]
        except ValueError:
            return  # not a valid format string; formatting it fails by itself
    if any(n == "*" or int(n) > MAX_OUTPUT for n in numbers):
        raise TemplateLimit("a width or precision in that format is too large for a template")


def _check_args(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_OUTPUT:
            raise TemplateLimit("a number that large cannot be used as a width or count in a template")


def _check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        hits = (len(text) + 1) if old == "" else text.count(old)
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        _check_size(len(text) + hits * max(len(new) - len(old), 0))


def _guarded_filter(name: str, original: Any) -> Any:
    passes_first = hasattr(original, "jinja_pass_arg")  # the context, eval context or environment

    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        values = list(args[1:] if passes_first else args)
        _check_args([*values[1:], *kwargs.values()])
        if name == "format" and values and isinstance(values[0], str):
            _check_format(values[0], percent=True)
        if name == "replace" and len(values) >= 3:
            _check_replace(*values[:4])
        return original(*args, **kwargs)

    if passes_first:
        guarded.jinja_pass_arg = original.jinja_pass_arg  # type: ignore[attr-defined]
    return guarded


# Filters that build text from a width, a count or a replacement.
_WIDENING_FILTERS = ("center", "indent", "format", "replace", "wordwrap", "truncate", "join")


class BoundedTemplate(Template):
    def render(self, *args: Any, **kwargs: Any) -> str:
        with bounded():
            try:
                size, parts = 0, []
                for chunk in self.generate(*args, **kwargs):
                    size += len(chunk)
                    _check_size(size)
                    parts.append(chunk)
                return "".join(parts)
            except RecursionError:
                raise TemplateLimit("the template nests or recurses too deeply") from None
            except MemoryError:
                raise TemplateLimit("the template needs too much memory") from None


class BoundedEnvironment(SandboxedEnvironment):
    """A sandbox whose renders are bounded in time and size (see the module)."""

    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        self.filters[GUARD_FILTER] = _bounded_iter
        for name in _WIDENING_FILTERS:
            self.filters[name] = _guarded_filter(name, self.filters[name])
        self.concat = self._concat  # type: ignore[method-assign] - blocks, macros and sets join through it

    @staticmethod
    def _concat(parts: Iterable[str]) -> str:
        parts = list(parts)
        _check_size(sum(len(part) for part in parts))
        return "".join(parts)

    def from_string(self, source: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(source, str) and len(source) > MAX_SOURCE:
            raise TemplateLimit(f"the template is too long (more than {MAX_SOURCE:,} characters)")
        try:
            return super().from_string(source, *args, **kwargs)
        except RecursionError:
            raise TemplateLimit("the template nests too deeply") from None

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Every ``for`` loop iterates through the step counter."""
        try:
            tree = super()._parse(source, name, filename)
        except RecursionError:
            raise TemplateLimit("the template nests too deeply") from None
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, GUARD_FILTER, [], [], None, None, lineno=loop.lineno)
        return tree

    def wrap_str_format(self, value: Any) -> Any:
        """``"…".format`` is wrapped by the sandbox when it is read: check its widths then."""
        if getattr(value, "__name__", "") in ("format", "format_map") and isinstance(getattr(value, "__self__", None), str):
            _check_format(value.__self__, percent=False)
        return super().wrap_str_format(value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        _tick()
        if __obj is not _bounded_range:  # a long range is fine: its turns are counted
            _check_args([*args, *kwargs.values()])
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") == "replace" and len(args) >= 2:
            _check_replace(owner, *args[:3])
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and (
                right > 64 or left.bit_length() * right > 65_536
            ):
                raise TemplateLimit("that power is too large for a template")
        elif operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
                    _check_size(len(sequence) * times)
        elif operator == "%" and isinstance(left, str):
            _check_format(left, percent=True)
        return super().call_binop(context, operator, left, right)


def render(env: SandboxedEnvironment, source: str, context: dict[str, Any]) -> str:
    """Render ``source`` in ``env`` within one budget."""
    with bounded():
        return env.from_string(source).render(context)
