"""Every CSS class a template uses has a rule in static/css: a class without one is an
unstyled element on some page.

Class attributes are read from the templates' source. Jinja inside an attribute is read
as the class names it can print: the string literals of ``{{ ' active' if on }}`` are
classes (literals that are arguments or compared values are not), and a name glued to an
expression, as in ``badge-{{ status }}``, asks for at least one rule of that family
(``.badge-…``)."""

import re
from collections import defaultdict
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "src" / "pipewise" / "web"
CLASS_ATTRIBUTE = re.compile(r"""\bclass=(?:"([^"]*)"|'([^']*)')""")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
LITERAL = re.compile(r"""(['"])(.*?)\1""")
NAME = re.compile(r"-?[_a-zA-Z][\w-]*")
NOT_A_CLASS_BEFORE = ("(", ",", "==", "!=", " in", "[", ":", "~")
NOT_A_CLASS_AFTER = ("==", "!=", " in ", ")", "]", ",")


def printed_literals(expression: str) -> list[str]:
    """The string literals a Jinja expression may print (not arguments, keys or compared values)."""
    found = []
    for match in LITERAL.finditer(expression):
        before = expression[: match.start()].rstrip()
        after = expression[match.end() :]
        if before.endswith(NOT_A_CLASS_BEFORE) or after.lstrip().startswith(NOT_A_CLASS_AFTER) or after.startswith(" in "):
            continue
        found.append(match.group(2))
    return found


def classes_in(value: str) -> tuple[set[str], set[str]]:
    """The class names and the glued families (prefixes) of one class attribute."""
    names: set[str] = set()
    families: set[str] = set()
    position = 0
    plain = []
    for match in JINJA.finditer(value):
        text = value[position : match.start()]
        plain.append(text)
        glued = re.search(r"(-?[_a-zA-Z][\w-]*-)$", text)
        literals = printed_literals(match.group(0)) if match.group(0).startswith("{{") else []
        if glued:
            plain[-1] = text[: glued.start()]
            families.add(glued.group(1))
            names.update(glued.group(1) + literal.strip() for literal in literals if NAME.fullmatch(literal.strip() or "-"))
        else:
            names.update(word for literal in literals for word in literal.split() if NAME.fullmatch(word))
        plain.append(" ")
        position = match.end()
    plain.append(value[position:])
    names.update(word for word in "".join(plain).split() if NAME.fullmatch(word))
    return names, families


def used_classes() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    names: dict[str, set[str]] = defaultdict(set)
    families: dict[str, set[str]] = defaultdict(set)
    for template in sorted((WEB / "templates").rglob("*.html")):
        where = str(template.relative_to(WEB / "templates"))
        for match in CLASS_ATTRIBUTE.finditer(template.read_text()):
            found, glued = classes_in(match.group(1) if match.group(1) is not None else match.group(2))
            for name in found:
                names[name].add(where)
            for family in glued:
                families[family].add(where)
    return names, families


def styled_classes() -> set[str]:
    """Every class named in a selector of static/css/*.css."""
    styled: set[str] = set()
    for sheet in (WEB / "static" / "css").glob("*.css"):
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)
        for prelude in re.findall(r"([^{}]+)\{", text):
            if not prelude.strip().startswith("@"):
                styled.update(re.findall(r"\.(-?[_a-zA-Z][\w-]*)", prelude))
    return styled


def test_the_reader_understands_jinja_in_class_attributes():
    names, families = classes_in("field{{ ' field-wide' if f.wide }}{{ ' has-error' if problems.of('subject') }} badge-{{ s }}")
    assert names == {"field", "field-wide", "has-error"}
    assert families == {"badge-"}
    names, families = classes_in("job-{{ 'interrupted' if gone else job.status }}")
    assert names == {"job-interrupted"} and families == {"job-"}


def test_every_class_used_in_a_template_has_a_rule():
    names, families = used_classes()
    styled = styled_classes()
    assert len(names) > 100, "the templates were not read"
    unstyled = {name: sorted(where) for name, where in names.items() if name not in styled}
    no_family = {family: sorted(where) for family, where in families.items() if not any(s.startswith(family) for s in styled)}
    assert unstyled == {} and no_family == {}, (
        "classes without a rule in static/css:\n"
        + "\n".join(f"  .{name}: {', '.join(where)}" for name, where in sorted({**unstyled, **no_family}.items()))
    )
