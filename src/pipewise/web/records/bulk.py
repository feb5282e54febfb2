"""What a list does to the rows ticked on it: assign them to someone, set one field, delete
them or download them as CSV. Each record goes through its service in its own savepoint,
with the viewer's rights, exactly as one by one: a record the viewer may not change (or
that may not be deleted, such as an account with deals) is left as it was and named in
the answer, and the others are done."""

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.errors import PipewiseError, ValidationFailed
from pipewise.records import csv_cells
from pipewise.records.repository import MAX_PAGE, ListQuery
from pipewise.web.common import WebUser, flash, redirect, safe_next
from pipewise.web.forms import FormField, parse, parse_uuid
from pipewise.web.records.display import Display
from pipewise.web.records.views import Column, RecordView

ACTIONS = ("assign", "edit", "delete", "export", "enroll")
# Field kinds one value can be set to across many records from the bulk bar.
EDITABLE_KINDS = frozenset({"choice", "text", "date", "number", "money"})
SHOWN_FAILURES = 5


def editable_fields(view: RecordView) -> tuple[FormField, ...]:
    return tuple(f for f in view.fields if f.kind in EDITABLE_KINDS and not f.wide and f.name != "currency")


@dataclass
class Outcome:
    done: int = 0
    refused: list[str] = field(default_factory=list)


def chosen_ids(form: FormData, view: RecordView) -> list[uuid.UUID]:
    ids = [parse_uuid(str(v)) for v in form.getlist(f"{view.name}_id")]
    return list(dict.fromkeys(i for i in ids if i is not None))[:MAX_PAGE]


def _each(session: Session, view: RecordView, me: WebUser, ids: list[uuid.UUID], change: Callable[[Any], None]) -> Outcome:
    outcome = Outcome()
    for record_id in ids:
        name = str(record_id)
        try:
            with session.begin_nested():
                record = view.service.get(session, record_id, actor=me.actor, write=True)
                name = view.title_of(record)
                change(record)
                session.flush()
        except ValidationFailed as exc:
            outcome.refused.append(f"{name}: " + ("; ".join(e.message for e in exc.errors) or exc.detail))
        except PipewiseError as exc:
            outcome.refused.append(f"{name}: {exc.detail}")
        except IntegrityError:
            outcome.refused.append(f"{name}: other records still point at it")
        else:
            outcome.done += 1
    return outcome


def _tell(request: Request, view: RecordView, outcome: Outcome, verb: str) -> None:
    if outcome.done:
        noun = view.name if outcome.done == 1 else view.plural
        flash(request, f"{outcome.done} {noun} {verb}.")
    if outcome.refused:
        more = len(outcome.refused) - SHOWN_FAILURES
        text = " ".join(outcome.refused[:SHOWN_FAILURES]) + (f" (and {more} more)" if more > 0 else "")
        flash(request, f"{len(outcome.refused)} left unchanged — {text}", "error")


def _edit_values(view: RecordView, form: FormData, me: WebUser) -> dict[str, Any]:
    wanted = str(form.get("field") or "")
    chosen = next((f for f in editable_fields(view) if f.name == wanted), None)
    if chosen is None:
        raise ValidationFailed.on("field", "choose a field to set")
    data, errors = parse((chosen,), view.schema, {chosen.name: str(form.get("value") or "")}, tz=me.user.timezone)
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    return data


def export(session: Session, view: RecordView, me: WebUser, ids: list[uuid.UUID], columns: tuple[Column, ...],
           show: Display) -> Response:
    """The ticked records the viewer may see, one row each, in the list's columns."""
    query = ListQuery(filter={"field": "id", "op": "in", "value": [str(i) for i in ids]}, limit=MAX_PAGE)
    records = view.service.list(session, actor=me.actor, query=query).items
    show.lookups.load_accounts(getattr(r, "account_id", None) for r in records)
    out = io.StringIO()
    writer = csv_cells.writer(out)
    writer.writerow(["id", *(c.label for c in columns)])
    for record in records:
        cells = [show.cell(record, c.key, c.kind) for c in columns]
        writer.writerow([str(record.id), *(show.moment_text(c.at) if c.at else ("" if c.muted else c.text) for c in cells)])
    headers = {"Content-Disposition": f'attachment; filename="{view.plural}.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def apply(request: Request, session: Session, view: RecordView, me: WebUser, form: FormData, *,
          columns: tuple[Column, ...], show: Display) -> Response:
    back = safe_next(str(form.get("next") or ""), view.url)
    action = str(form.get("action") or "")
    ids = chosen_ids(form, view)
    if action not in ACTIONS or not ids:
        flash(request, "Tick some rows, then choose what to do with them.", "error")
        return redirect(back)
    if action == "export":
        return export(session, view, me, ids, columns, show)
    if action == "enroll" and view.name == "contact":
        return redirect("/sequence-enroll?" + urlencode([("contact_id", str(i)) for i in ids]))
    try:
        if action == "assign":
            owner_id = parse_uuid(str(form.get("owner_id") or ""))
            if owner_id is None:
                raise ValidationFailed.on("owner_id", "choose whom to assign them to")
            outcome = _each(session, view, me, ids,
                            lambda r: view.service.update(session, r, data={"owner_id": owner_id}, actor=me.actor))
            _tell(request, view, outcome, f"assigned to {show.lookups.user_name(owner_id)}")
        elif action == "edit":
            data = _edit_values(view, form, me)
            outcome = _each(session, view, me, ids, lambda r: view.service.update(session, r, data=dict(data), actor=me.actor))
            _tell(request, view, outcome, "changed")
        elif action == "delete":
            outcome = _each(session, view, me, ids, lambda r: view.service.delete(session, r, actor=me.actor))
            _tell(request, view, outcome, "deleted")
        else:
            raise ValidationFailed.on("action", f"{view.plural} cannot be {action}ed")
    except ValidationFailed as exc:
        flash(request, "; ".join(e.message for e in exc.errors) or exc.detail, "error")
    return redirect(back)
