"""Settings › Scoring and Routing: fit rules and routing rules built from condition rows
(field, operator, value) instead of typed JSON, and the response-time SLA with time and
day controls. Saved through the scoring and assignment services, which check each rule."""

import re
import uuid
import zoneinfo
from functools import cache
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.assignment import service as routing
from pipewise.errors import FieldError, ValidationFailed
from pipewise.leads import scores
from pipewise.people import queries as people
from pipewise.scoring import service as scoring
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import Problems, parse_uuid
from pipewise.web.settings import conditions
from pipewise.web.settings.common import require_manager, sections_for

router = web_router()

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
RULE_ERROR = re.compile(r"^fit_rules\[(\d+)\]\.?(\w*)")


@cache
def time_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _common(me: WebUser) -> dict[str, Any]:
    return {"lead_fields": conditions.LEAD_FIELDS, "operators": conditions.operators(), "matches": conditions.MATCHES,
            "op_names": dict(conditions.operators()), "sections": sections_for(me)}


# -- scoring --


def _scoring_page(request: Request, session: Session, me: WebUser, *, rules: list[dict[str, Any]] | None = None,
                  values: dict[str, str] | None = None, problems: dict[str, Problems] | None = None,
                  status: int = 200) -> Response:
    cfg = scoring.config(session)
    shown = rules if rules is not None else [
        {"label": r["label"], "points": str(r["points"]), "when": conditions.from_tree(r.get("when"))} for r in cfg.fit_rules
    ]
    blank = {"label": "", "points": "", "when": conditions.from_tree(None)}
    context = {
        **_common(me),
        "rules": [*shown, blank] if rules is None else shown,
        "values": values or {"mql_threshold": str(cfg.mql_threshold), "half_life_days": f"{cfg.half_life_days:g}"},
        "problems": problems or {},
    }
    return render(request, "settings/scoring.html", context, status_code=status)


@router.get("/settings/scoring")
def scoring_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_manager(me)
    return _scoring_page(request, session, me)


def _posted_rules(form: FormData) -> list[dict[str, Any]]:
    rules, i = [], 0
    while f"rule{i}-label" in form:
        rules.append({"label": str(form.get(f"rule{i}-label") or "").strip(),
                      "points": str(form.get(f"rule{i}-points") or "").strip(),
                      "remove": form.get(f"rule{i}-remove") == "on",
                      "when": conditions.from_form(form, f"rule{i}-when")})
        i += 1
    return rules


def _number(text: str, kind: type, name: str, errors: list[FieldError]) -> Any:
    try:
        return kind(text)
    except ValueError:
        errors.append(FieldError(name, "must be a whole number" if kind is int else "must be a number"))
        return None


@router.post("/settings/scoring")
def save_scoring(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_manager(me)
    posted = _posted_rules(form)
    values = {name: str(form.get(name) or "").strip() for name in ("mql_threshold", "half_life_days")}
    errors: list[FieldError] = []
    kept = [(i, r) for i, r in enumerate(posted) if not r["remove"] and (r["label"] or r["points"] or any(c.field for c in r["when"].rows))]
    fit_rules = []
    for index, (form_index, rule) in enumerate(kept):
        points = _number(rule["points"], int, f"fit_rules[{index}].points", errors) if rule["points"] else None
        fit_rules.append({"label": rule["label"], "points": points, "when": rule["when"].tree()})
    data = {"fit_rules": fit_rules, "mql_threshold": _number(values["mql_threshold"], int, "mql_threshold", errors),
            "half_life_days": _number(values["half_life_days"], float, "half_life_days", errors)}
    if not errors:
        try:
            with session.begin_nested():
                scoring.update_config(session, data)
        except ValidationFailed as exc:
            errors = exc.errors or [FieldError("fit_rules", exc.detail)]
    if errors:
        problems: dict[str, Problems] = {"page": Problems()}
        for error in errors:
            match = RULE_ERROR.match(error.field)
            if match:
                key = str(kept[int(match.group(1))][0])
                problems.setdefault(key, Problems()).add([FieldError(match.group(2) or "when", error.message)], ("label", "points"))
            else:
                problems["page"].add([error], ("mql_threshold", "half_life_days"))
        return _scoring_page(request, session, me, rules=posted, values=values, problems=problems, status=422)
    flash(request, f"Scoring saved; {scores.rescore_open(session):,} open leads re-scored.")
    return redirect("/settings/scoring")


# -- routing --


def _routing_page(request: Request, session: Session, me: WebUser, *, new: dict[str, Any] | None = None,
                  policy_values: dict[str, Any] | None = None, problems: dict[str, Problems] | None = None,
                  status: int = 200) -> Response:
    users, teams = people.active_users(session), people.teams(session)
    policy = routing.policy(session)
    context = {
        **_common(me),
        "rules": routing.rules(session),
        "users": users,
        "teams": teams,
        "names": {u.id: u.name for u in users} | {t.id: t.name for t in teams},
        "new": new or {"name": "", "target_type": "team", "team_id": "", "user_id": "", "queue": "",
                       "prefer_account_owner": True, "when": conditions.from_tree(None)},
        "policy": policy_values or {"sla_minutes": str(policy.sla_minutes or ""), "work_start": policy.work_start,
                                    "work_end": policy.work_end, "timezone": policy.timezone, "workdays": policy.workdays,
                                    "reassign_on_breach": policy.reassign_on_breach},
        "time_zones": [(zone, zone) for zone in time_zones()],
        "weekdays": WEEKDAYS,
        "problems": problems or {},
        "describe": lambda tree: conditions.from_tree(tree),
    }
    return render(request, "settings/routing.html", context, status_code=status)


@router.get("/settings/routing")
def routing_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_manager(me)
    return _routing_page(request, session, me)


def _problems(errors: list[FieldError], shown: tuple[str, ...]) -> Problems:
    problems = Problems()
    problems.add([FieldError(e.field.split(".")[0], e.message) for e in errors], shown)
    return problems


@router.post("/settings/routing/rules")
def add_rule(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_manager(me)
    target = str(form.get("target_type") or "")
    new = {name: str(form.get(name) or "").strip() for name in ("name", "team_id", "user_id", "queue")}
    new |= {"target_type": target, "prefer_account_owner": form.get("prefer_account_owner") == "on",
            "when": conditions.from_form(form, "when")}
    data: dict[str, Any] = {"name": new["name"], "target_type": target, "conditions": new["when"].tree(),
                            "prefer_account_owner": new["prefer_account_owner"]}
    if target in ("user", "team"):
        data[f"{target}_id"] = parse_uuid(new[f"{target}_id"])
    elif target == "queue":
        data["queue"] = new["queue"]
    try:
        with session.begin_nested():
            routing.create_rule(session, data, actor=me.actor)
    except ValidationFailed as exc:
        shown = ("name", "target_type", "team_id", "user_id", "queue", "conditions")
        problems = {"new": _problems(exc.errors or [FieldError("name", exc.detail)], shown)}
        return _routing_page(request, session, me, new=new, problems=problems, status=422)
    flash(request, f"Rule {new['name']} added.")
    return redirect("/settings/routing")


@router.post("/settings/routing/rules/{rule_id}")
def change_rule(rule_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    """Move a rule up or down, turn it on or off, or delete it."""
    require_manager(me)
    action = form.get("action")
    rule = routing.get_rule(session, rule_id)
    if action == "delete":
        routing.delete_rule(session, rule_id, actor=me.actor)
    elif action == "toggle":
        routing.update_rule(session, rule_id, {"is_active": not rule.is_active}, actor=me.actor)
    elif action in ("up", "down"):
        ids = [r.id for r in routing.rules(session)]
        here = ids.index(rule_id)
        there = here - 1 if action == "up" else here + 1
        if 0 <= there < len(ids):
            ids[here], ids[there] = ids[there], ids[here]
            routing.reorder(session, ids, actor=me.actor)
    else:
        raise ValidationFailed.on("action", "is not one of up, down, toggle, delete")
    return redirect("/settings/routing")


@router.post("/settings/routing/sla")
def save_sla(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_manager(me)
    values: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in ("sla_minutes", "work_start", "work_end", "timezone")}
    values["workdays"] = [int(d) for d in form.getlist("workdays") if str(d).isdigit()]
    values["reassign_on_breach"] = form.get("reassign_on_breach") == "on"
    errors: list[FieldError] = []
    sla = _number(values["sla_minutes"], int, "sla_minutes", errors) if values["sla_minutes"] else None
    if not errors:
        try:
            with session.begin_nested():
                routing.update_policy(session, {**values, "sla_minutes": sla}, actor=me.actor)
        except ValidationFailed as exc:
            errors = exc.errors or [FieldError("sla_minutes", exc.detail)]
    if errors:
        problems = {"sla": _problems(errors, ("sla_minutes", "work_start", "work_end", "timezone", "workdays"))}
        return _routing_page(request, session, me, policy_values=values, problems=problems, status=422)
    flash(request, "Response-time SLA saved.")
    return redirect("/settings/routing")
