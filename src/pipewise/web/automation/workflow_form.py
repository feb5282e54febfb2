"""The workflow builder's form: one widget per option of the trigger and of each step,
derived from the workflow format's own models, so a new step type or option shows up in
the builder without a template change. Conditions and goals are edited as rows
(field, operator, value) matched all/any; a filter too deep for rows is edited as JSON."""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import BaseModel

from pipewise.automation.definition import Step
from pipewise.automation.triggers import Trigger
from pipewise.errors import FieldError
from pipewise.records.filters import NO_VALUE_OPS
from pipewise.records.registry import spec_for

LONG_TEXT = frozenset({"body", "notes"})
# Options naming a record of reference data are picked by name from a list, not typed as ids.
REFERENCE_KINDS = {"user_id": "user", "team_id": "team", "stage_id": "stage", "from_stage_id": "stage",
                   "to_stage_id": "stage", "pipeline_id": "pipeline", "sequence_id": "sequence"}
ADVANCED = frozenset({"label", "next"})
LIST_OPS = frozenset({"in", "not_in"})
MAX_ROWS = 50


@dataclass(frozen=True)
class Widget:
    """One input: ``kind`` is text, long_text, number, choice, choices, flag, json, any
    (text read as JSON when it parses, else kept as text) or a kind of ``REFERENCE_KINDS``
    (an id picked by name, read as text)."""

    name: str
    label: str
    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    default: Any = None
    group: str = ""  # the nested object a widget belongs to, e.g. "assignee"
    advanced: bool = False


@dataclass
class FormState:
    """What the builder shows: the values typed, and the problems by place."""

    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)
    places: set[str] = field(default_factory=set)  # where the form can show a problem

    def add(self, place: str, message: str) -> None:
        self.errors.setdefault(place, []).append(message)


def _models(union: Any) -> dict[str, type[BaseModel]]:
    members = get_args(get_args(union)[0])
    return {get_args(model.model_fields["type"].annotation)[0]: model for model in members}


STEP_MODELS = _models(Step)
TRIGGER_MODELS = _models(Trigger)


def _kind(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> tuple[str, tuple[str, ...], bool]:
    """(widget kind, choices, optional) for one JSON-schema property."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    optional = len(options) < len(schema.get("anyOf", [schema]))
    one = options[0] if len(options) == 1 else {}
    if "enum" in one:
        return "choice", tuple(one["enum"]), optional
    if one.get("type") == "array" and "enum" in one.get("items", {}):
        return "choices", tuple(one["items"]["enum"]), optional
    if one.get("type") in ("integer", "number"):
        return "number", (), optional
    if one.get("type") == "string":
        return "text", (), optional
    if one.get("type") == "boolean":
        return "flag", (), optional
    if "$ref" in one:
        return "group", (), optional
    if one.get("type") in ("object", "array"):
        return "json", (), optional
    return "any", (), optional


def widgets_of(model: type[BaseModel], skip: frozenset[str] = frozenset({"type", "record_type"})) -> list[Widget]:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    widgets: list[Widget] = []
    for name, prop in schema["properties"].items():
        if name in skip:
            continue
        kind, choices, optional = _kind(prop, defs)
        label = prop.get("title", name).capitalize()
        if kind == "group":
            ref = next(s["$ref"] for s in prop.get("anyOf", [prop]) if "$ref" in s).rsplit("/", 1)[-1]
            for inner in _group_widgets(defs[ref], defs, name):
                widgets.append(inner)
            continue
        if kind == "text" and name in LONG_TEXT:
            kind = "long_text"
        kind = REFERENCE_KINDS.get(name, kind) if kind == "text" else kind
        widgets.append(Widget(
            name, label, kind, required=name in required and not optional, choices=choices,
            help=prop.get("description", ""), default=prop.get("default"), advanced=name in ADVANCED,
        ))
    return widgets


def _group_widgets(schema: Mapping[str, Any], defs: Mapping[str, Any], group: str) -> list[Widget]:
    found = []
    for name, prop in schema["properties"].items():
        kind, choices, _ = _kind(prop, defs)
        kind = REFERENCE_KINDS.get(name, kind) if kind == "text" else kind
        found.append(Widget(
            f"{group}.{name}", f"{group.capitalize()}: {prop.get('title', name).lower()}", kind, choices=choices,
            help=prop.get("description", ""), default=prop.get("default"), group=group,
        ))
    return found


STEP_WIDGETS = {name: widgets_of(model, frozenset({"type", "record_type", "id"})) for name, model in STEP_MODELS.items()}
TRIGGER_WIDGETS = {name: widgets_of(model) for name, model in TRIGGER_MODELS.items()}


def condition_fields(record_type: str) -> list[str]:
    """Field names offered for a record type's conditions (typing others is allowed)."""
    spec = spec_for(record_type)
    names = [c.key for c in spec.model.__table__.columns if c.key not in spec.hidden_fields and c.key != "custom"]
    names += [f"{relation}.name" for relation in spec.relations if relation in ("account", "owner")]
    return names


# -- definition → what the form shows ------------------------------------------------


def _shown(widget: Widget, value: Any) -> Any:
    if value is None:
        return ""
    if widget.kind in ("json", "any") and not isinstance(value, str):
        return json.dumps(value)
    return value


def _widget_values(widgets: list[Widget], data: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for widget in widgets:
        if widget.group:
            value = (data.get(widget.group) or {}).get(widget.name.split(".", 1)[1])
        else:
            value = data.get(widget.name, widget.default)
        shown[widget.name] = value if widget.kind in ("flag", "choices") else _shown(widget, value)
    return shown


def condition_rows(tree: Any) -> tuple[str, list[dict[str, str]], str]:
    """(all|any, rows, JSON) for the editor: flat trees become rows, the rest JSON."""
    if not tree:
        return "all", [], ""
    items = tree.get("all") or tree.get("any") if isinstance(tree, Mapping) else None
    match = "any" if isinstance(tree, Mapping) and "any" in tree else "all"
    if items is None and isinstance(tree, Mapping) and "field" in tree:
        items = [tree]
    if items is not None and all(isinstance(i, Mapping) and set(i) <= {"field", "op", "value"} for i in items):
        rows = [
            {"field": str(i["field"]), "op": str(i.get("op", "eq")),
             "value": ", ".join(map(str, i["value"])) if isinstance(i.get("value"), list) else _shown(Widget("", "", "any"), i.get("value"))}
            for i in items
        ]
        return match, rows, ""
    return "all", [], json.dumps(tree, indent=2)


def values_from_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    trigger = dict(definition["trigger"])
    kind = trigger["type"]
    values: dict[str, Any] = {
        "trigger_type": kind,
        "record_type": trigger.get("record_type", "contact"),
        "trigger": {kind: _widget_values(TRIGGER_WIDGETS[kind], trigger)},
        "allow_reenrollment": definition.get("allow_reenrollment", False),
        "steps": [
            {"type": step["type"], "id": step["id"], **_widget_values(STEP_WIDGETS[step["type"]], step)}
            for step in definition["steps"]
        ],
    }
    for key in ("conditions", "goal"):
        match, rows, text = condition_rows(definition.get(key))
        values[key] = {"match": match, "rows": rows, "json": text}
    return values


# -- the posted form → a definition ----------------------------------------------------

_STEP_KEY = re.compile(r"^steps-(\d+)-(.+)$")


def _read_widget(widget: Widget, raw: list[str], place: str, state: FormState) -> Any:
    """The value a widget contributes, or None when left empty."""
    if widget.kind == "choices":
        return [v for v in raw if v] or None
    text = raw[0].strip() if raw else ""
    if widget.kind == "flag":
        return text in ("on", "true", "1")
    if text == "":
        return None
    if widget.kind in ("json", "any"):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            if widget.kind == "any":
                return text
            state.add(place, f"{widget.label}: could not be read as JSON ({exc})")
            return None
    return text


def _fill(widgets: list[Widget], form: Any, prefix: str, place: str, state: FormState) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the definition's part, what to show again) from the fields named ``prefix + name``."""
    data: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    for widget in widgets:
        raw = form.getlist(prefix + widget.name)
        shown[widget.name] = [v for v in raw if v] if widget.kind == "choices" else (raw[0] if raw else "")
        if widget.kind == "flag":
            shown[widget.name] = bool(raw and raw[0] in ("on", "true", "1"))
        state.places.add(f"{place}.{widget.name}")
        value = _read_widget(widget, raw, f"{place}.{widget.name}", state)
        if value is None:
            continue
        if widget.group:
            data.setdefault(widget.group, {})[widget.name.split(".", 1)[1]] = value
        else:
            data[widget.name] = value
    return data, shown


def _read_conditions(form: Any, key: str, state: FormState) -> Any:
    match = "any" if form.get(f"{key}-match") == "any" else "all"
    text = str(form.get(f"{key}-json") or "").strip()
    rows: list[dict[str, str]] = []
    items: list[dict[str, Any]] = []
    for n in range(MAX_ROWS):
        name = str(form.get(f"{key}-{n}-field") or "").strip()
        op = str(form.get(f"{key}-{n}-op") or "eq")
        value = str(form.get(f"{key}-{n}-value") or "").strip()
        if not name:
            continue
        rows.append({"field": name, "op": op, "value": value})
        item: dict[str, Any] = {"field": name, "op": op}
        if op in LIST_OPS:
            item["value"] = [v.strip() for v in value.split(",") if v.strip()]
        elif op not in NO_VALUE_OPS:
            item["value"] = value
        items.append(item)
    state.values[key] = {"match": match, "rows": rows, "json": text}
    if text:
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            state.add(key, f"could not be read: {exc}")
            return None
    return {match: items} if items else None


def read_form(form: Any) -> tuple[dict[str, Any], FormState]:
    """(the definition the form describes, what to show again with any reading problems)."""
    trigger_type = str(form.get("trigger_type") or "record_created")
    record_type = str(form.get("record_type") or "contact")
    state = FormState(values={
        "name": str(form.get("name") or ""), "description": str(form.get("description") or ""),
        "requires_approval": form.get("requires_approval") == "on",
        "holdout_percent": str(form.get("holdout_percent") or "").strip(),
        "allow_reenrollment": form.get("allow_reenrollment") == "on",
        "trigger_type": trigger_type, "record_type": record_type,
    })
    trigger: dict[str, Any] = {"type": trigger_type, "record_type": record_type}
    if trigger_type in TRIGGER_WIDGETS:
        options, shown = _fill(TRIGGER_WIDGETS[trigger_type], form, f"trigger-{trigger_type}-", "trigger", state)
        trigger.update(options)
        state.values["trigger"] = {trigger_type: shown}
    # Steps keep the order in which the page lists them, whatever their input names say.
    indices = list(dict.fromkeys(int(m.group(1)) for key, _ in form.multi_items() if (m := _STEP_KEY.match(key))))
    steps, shown_steps = [], []
    for position, index in enumerate(indices):
        kind = str(form.get(f"steps-{index}-type") or "")
        step: dict[str, Any] = {"type": kind, "id": str(form.get(f"steps-{index}-id") or "").strip()}
        shown_step: dict[str, Any] = dict(step)
        state.places.update(f"steps[{position}]{suffix}" for suffix in ("", ".id", ".type"))
        if kind in STEP_WIDGETS:
            options, shown = _fill(STEP_WIDGETS[kind], form, f"steps-{index}-", f"steps[{position}]", state)
            step.update(options)
            shown_step.update(shown)
        steps.append(step)
        shown_steps.append(shown_step)
    state.values["steps"] = shown_steps
    definition: dict[str, Any] = {"trigger": trigger, "allow_reenrollment": state.values["allow_reenrollment"], "steps": steps}
    for key in ("conditions", "goal"):
        tree = _read_conditions(form, key, state)
        if tree is not None:
            definition[key] = tree
    return definition, state


_PLACE = re.compile(r"^(?:definition\.)?(?P<place>(?P<section>steps\[\d+\]|trigger|conditions|goal|name)[\w.\[\]]*)")


def place_errors(state: FormState, errors: list[FieldError]) -> None:
    """File the service's problems under the widget, step or section they are about."""
    for error in errors:
        match = _PLACE.match(error.field)
        place = "definition"
        if match:
            place = match.group("place")
            while place not in state.places and place != match.group("section"):
                shorter = re.sub(r"(\.[^.]*|\[\d+\])$", "", place)
                place = shorter if shorter != place else match.group("section")
        where = error.field.removeprefix("definition.")
        state.add(place, error.message if where == place else f"{where}: {error.message}")
