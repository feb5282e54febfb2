"""Reading the sequence pages' forms: the sequence's settings and rules, and a step with
its A/B variants. Problems are collected by form field with ``web.forms.Problems``."""

from collections.abc import Mapping
from typing import Any

from pipewise.errors import FieldError
from pipewise.sequences.schemas import EMAIL_STEPS, SequenceRules, StepIn, StepUpdate
from pipewise.web.forms import checked

RULE_ACTIONS = ("exit", "pause", "ignore")
RULE_CHOICES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("on_reply", "When the contact replies", ("exit", "pause")),
    ("on_meeting", "When a meeting is booked or held", RULE_ACTIONS),
    ("on_manual_touch", "When a rep calls or e-mails by hand", RULE_ACTIONS),
    ("on_deal_created", "When a deal is created", RULE_ACTIONS),
    ("on_deal_stage", "When a deal reaches the exit stage", RULE_ACTIONS),
)
RULE_NUMBERS: tuple[tuple[str, str], ...] = (
    ("manual_touch_pause_days", "Business days to pause after a manual touch"),
    ("account_daily_cap", "Automated e-mails per account per day"),
    ("out_of_office_delay_days", "Business days to wait after an out-of-office reply"),
)
STEP_KINDS = {"auto_email": "Automatic e-mail", "manual_email": "Manual e-mail", "call": "Call", "task": "Other task"}
VARIANT_PARTS = ("label", "weight", "subject", "body_html", "body_text")


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _optional(value: str) -> str | None:
    return value or None


# -- the sequence's settings --

SETTINGS_FIELDS = (
    "name", "description", "sender_id", "allow_concurrent", "holdout_percent", "rules.exit_stage_id", "rules.account_coordination",
    *(f"rules.{name}" for name, _label, _choices in RULE_CHOICES), *(f"rules.{name}" for name, _label in RULE_NUMBERS),
)


def settings_values(sequence: Any) -> dict[str, Any]:
    """The form's values for an existing sequence (or the defaults for a new one)."""
    rules = SequenceRules.model_validate((sequence.rules if sequence else None) or {})
    values: dict[str, Any] = {
        "name": sequence.name if sequence else "",
        "description": (sequence.description or "") if sequence else "",
        "sender_id": str(sequence.sender_id or "") if sequence else "",
        "allow_concurrent": bool(sequence.allow_concurrent) if sequence else False,
        "holdout_percent": str(sequence.holdout_percent) if sequence else "0",
    }
    for key, value in rules.model_dump(mode="json").items():
        values[f"rules.{key}"] = "" if value is None else value
    return values


def read_settings(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values as typed, the data for ``sequence_service.create``/``update``)."""
    values: dict[str, Any] = {name: _text(form, name) for name in SETTINGS_FIELDS}
    for flag in ("allow_concurrent", "rules.account_coordination"):
        values[flag] = form.get(flag) == "on"
    rules: dict[str, Any] = {name[6:]: values[name] for name in SETTINGS_FIELDS if name.startswith("rules.")}
    rules["exit_stage_id"] = _optional(values["rules.exit_stage_id"])
    for name, _label in RULE_NUMBERS:
        if rules[name] == "":
            del rules[name]  # the default
    data = {
        "name": values["name"],
        "description": _optional(values["description"]),
        "sender_id": _optional(values["sender_id"]),
        "allow_concurrent": values["allow_concurrent"],
        "holdout_percent": values["holdout_percent"] or "0",
        "rules": rules,
    }
    return values, data


# -- a step and its variants --


def step_values(step: Any, variants: list[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": step.kind, "delay_days": str(step.delay_days), "business_days": step.business_days, "thread": step.thread,
        "task_title": step.task_title or "", "task_notes": step.task_notes or "",
    }
    values["variants"] = [
        {"label": v.label, "weight": str(v.weight), "subject": v.subject, "body_html": v.body_html, "body_text": v.body_text or ""}
        for v in variants
    ]
    return values


def new_step_values(kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": kind, "delay_days": "0" if kind == "auto_email" else "1", "business_days": True, "thread": True,
        "task_title": "", "task_notes": "", "variants": [],
    }
    if kind in EMAIL_STEPS:
        values["variants"].append(blank_variant("A"))
    return values


def blank_variant(label: str) -> dict[str, str]:
    return {"label": label, "weight": "1", "subject": "", "body_html": "", "body_text": ""}


def next_label(variants: list[dict[str, str]]) -> str:
    used = {v["label"] for v in variants}
    return next((chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in used), f"V{len(variants) + 1}")


def read_step(form: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The step's values as typed; variants come as ``variants[N].<part>``."""
    values: dict[str, Any] = {
        "kind": kind, "delay_days": _text(form, "delay_days"), "business_days": form.get("business_days") == "on",
        "thread": form.get("thread") == "on", "task_title": _text(form, "task_title"),
        "task_notes": str(form.get("task_notes") or "").strip(), "variants": [],
    }
    indexes = sorted({int(k.split("]")[0][9:]) for k in form if k.startswith("variants[") and k.split("]")[0][9:].isdigit()})
    for index in indexes:
        values["variants"].append({part: str(form.get(f"variants[{index}].{part}") or "").strip() for part in VARIANT_PARTS})
    return values


def step_data(values: dict[str, Any]) -> dict[str, Any]:
    """What ``StepIn``/``StepUpdate`` read; empty optional parts are left out."""
    variants = []
    for variant in values["variants"]:
        data = {"label": variant["label"], "weight": variant["weight"] or "1", "subject": variant["subject"], "body_html": variant["body_html"]}
        if variant["body_text"]:
            data["body_text"] = variant["body_text"]
        variants.append(data)
    data: dict[str, Any] = {
        "delay_days": values["delay_days"] or "0", "business_days": values["business_days"], "thread": values["thread"],
        "task_title": _optional(values["task_title"]), "task_notes": _optional(values["task_notes"]),
    }
    if values["kind"] in EMAIL_STEPS:
        data["variants"] = variants
    return data


def parse_step(values: dict[str, Any], *, new: bool) -> tuple[StepIn | StepUpdate | None, list[FieldError]]:
    data = step_data(values)
    if new:
        return checked(StepIn, {"kind": values["kind"], **data})  # type: ignore[return-value]
    return checked(StepUpdate, data)  # type: ignore[return-value]


def step_fields(values: dict[str, Any]) -> list[str]:
    names = ["kind", "delay_days", "business_days", "thread", "task_title", "task_notes", "variants"]
    for index in range(len(values["variants"])):
        names += [f"variants[{index}].{part}" for part in (*VARIANT_PARTS, "template_id")]
    return names
