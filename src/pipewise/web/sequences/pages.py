"""Sequence pages: the list, the settings form (sender, concurrency, what each sales
signal does, the exit stage, the account cap), the builder page with its steps and the
activate / pause / archive controls, and the per-step, per-variant results."""

import re
import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.errors import Conflict, FieldError, ValidationFailed
from pipewise.sequences import queries
from pipewise.sequences.metrics import COUNTS, step_metrics
from pipewise.sequences.models import Sequence
from pipewise.sequences.schemas import SequenceCreate, SequenceUpdate
from pipewise.sequences.service import sequence_service
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import Problems, checked
from pipewise.web.lookups import Lookups
from pipewise.web.sequences.forms import (
    RULE_CHOICES,
    RULE_NUMBERS,
    SETTINGS_FIELDS,
    STEP_KINDS,
    read_settings,
    settings_values,
)

router = web_router()
STATUS_ACTIONS = {"activate": "active", "pause": "paused", "archive": "archived"}
STEP_FIELD = re.compile(r"^steps\[(\d+)\]\.?(.*)$")


@router.get("/sequences")
def sequence_list(request: Request, session: DbSession, me: CurrentUser, status: str = "") -> Response:
    lookups = Lookups(session, me.actor)
    sequences = sequence_service.all(session, status=status or None)
    return render(request, "sequences/list.html", {
        "sequences": sequences, "status": status, "lookups": lookups,
        "steps": queries.step_counts(session), "counts": queries.enrollment_counts(session, me.actor),
    })


# -- settings form --


def _settings_form(request: Request, session: Session, me: WebUser, sequence: Sequence | None, values: dict[str, Any],
                   problems: Problems | None = None, status: int = 200) -> Response:
    return render(request, "sequences/form.html", {
        "sequence": sequence, "values": values, "problems": problems or Problems(), "lookups": Lookups(session, me.actor),
        "rule_choices": RULE_CHOICES, "rule_numbers": RULE_NUMBERS,
    }, status_code=status)


@router.get("/sequences/new")
def new_sequence(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _settings_form(request, session, me, None, settings_values(None))


@router.get("/sequences/{sequence_id}/edit")
def edit_sequence(sequence_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    sequence = sequence_service.get(session, sequence_id)
    return _settings_form(request, session, me, sequence, settings_values(sequence))


@router.post("/sequences/new")
@router.post("/sequences/{sequence_id}/edit")
def save_sequence(request: Request, session: DbSession, me: CurrentUser, form: PostedForm,
                  sequence_id: uuid.UUID | None = None) -> Response:
    sequence = sequence_service.get(session, sequence_id) if sequence_id else None
    values, data = read_settings(form)
    parsed, errors = checked(SequenceCreate if sequence is None else SequenceUpdate, data)
    problems = Problems()
    if parsed is None:
        problems.add(errors, SETTINGS_FIELDS)
        return _settings_form(request, session, me, sequence, values, problems, 422)
    try:
        with session.begin_nested():
            if sequence is None:
                sequence = sequence_service.create(session, data=parsed.model_dump(), actor=me.actor)
            else:
                sequence_service.update(session, sequence.id, data=parsed.model_dump(exclude_unset=True), actor=me.actor)
            session.flush()
    except ValidationFailed as exc:
        problems.add(exc.errors or [FieldError("", exc.detail)], SETTINGS_FIELDS)
        return _settings_form(request, session, me, sequence, values, problems, 422)
    flash(request, f"Sequence “{sequence.name}” saved.")
    return redirect(f"/sequences/{sequence.id}")


# -- the builder page --


def activation_problems(errors: list[FieldError]) -> tuple[dict[int, list[str]], list[str]]:
    """Validation errors grouped by step (``steps[2].variants[0].subject`` → step 3)."""
    by_step: dict[int, list[str]] = {}
    general = []
    for error in errors:
        match = STEP_FIELD.match(error.field)
        if match:
            where = match.group(2).replace("_", " ")
            by_step.setdefault(int(match.group(1)), []).append(f"{where}: {error.message}" if where else error.message)
        else:
            general.append(f"{error.field.replace('_', ' ')}: {error.message}" if error.field else error.message)
    return by_step, general


def _detail(request: Request, session: Session, me: WebUser, sequence: Sequence, *, errors: list[FieldError] | None = None,
            status: int = 200) -> Response:
    lookups = Lookups(session, me.actor)
    steps = [(step, sequence_service.variants(session, step.id)) for step in sequence_service.steps(session, sequence.id)]
    by_step, general = activation_problems(errors or [])
    rules = sequence.rules or {}
    exit_stage = lookups.stages.get(uuid.UUID(rules["exit_stage_id"])) if rules.get("exit_stage_id") else None
    return render(request, "sequences/detail.html", {
        "sequence": sequence, "steps": steps, "lookups": lookups, "step_kinds": STEP_KINDS, "rules": rules,
        "exit_stage": exit_stage, "step_problems": by_step, "general_problems": general,
        "enrollments": queries.enrollment_rows(session, actor=me.actor, sequence_id=sequence.id, limit=10),
        "counts": queries.enrollment_counts(session, me.actor).get(sequence.id, {}),
        "rule_choices": RULE_CHOICES, "rule_numbers": RULE_NUMBERS,
    }, status_code=status)


@router.get("/sequences/{sequence_id}")
def sequence_page(sequence_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _detail(request, session, me, sequence_service.get(session, sequence_id))


@router.post("/sequences/{sequence_id}/status")
def change_status(sequence_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    action = str(form.get("action") or "")
    sequence = sequence_service.get(session, sequence_id)
    if action not in STATUS_ACTIONS:
        raise ValidationFailed.on("action", "use activate, pause or archive")
    try:
        with session.begin_nested():
            if action == "activate":
                sequence_service.activate(session, sequence_id, actor=me.actor)
            else:
                sequence_service.set_status(session, sequence_id, STATUS_ACTIONS[action], actor=me.actor)
    except ValidationFailed as exc:
        session.refresh(sequence)
        return _detail(request, session, me, sequence, errors=exc.errors or [FieldError("", exc.detail)], status=422)
    except Conflict as exc:
        flash(request, exc.detail, "error")
        return redirect(f"/sequences/{sequence_id}")
    flash(request, f"“{sequence.name}” is now {sequence.status}.")
    return redirect(f"/sequences/{sequence_id}")


# -- results --


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


@router.get("/sequences/{sequence_id}/metrics")
def metrics_page(sequence_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    sequence = sequence_service.get(session, sequence_id)
    rows = step_metrics(session, sequence.id, actor=me.actor)
    for row in [*rows, *(v for r in rows for v in r["variants"])]:
        row["rates"] = {name: _rate(row[name], row["sent"]) for name in COUNTS if name != "sent"}
    return render(request, "sequences/metrics.html", {
        "sequence": sequence, "rows": rows, "counts": [c for c in COUNTS if c != "sent"], "step_kinds": STEP_KINDS,
    })
