"""The routing page: the rules in order, each sending a lead to a user, a team or a queue,
and the response-time SLA with its working hours."""

import json
import uuid

from fastapi import Request, Response

from pipewise.assignment import service as routing
from pipewise.errors import ValidationFailed
from pipewise.people import queries as people
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router

router = web_router()


@router.get("/lead-routing")
def routing_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    users = people.active_users(session)
    teams = people.teams(session)
    return render(request, "leads/routing.html", {
        "rules": routing.rules(session), "policy": routing.policy(session), "users": users, "teams": teams,
        "names": {u.id: u.name for u in users} | {t.id: t.name for t in teams}, "tab": "routing",
    })


@router.post("/lead-routing")
def routing_action(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    action = form.get("action")
    if action == "add":
        conditions = str(form.get("conditions") or "").strip()
        try:
            tree = json.loads(conditions) if conditions else {}
        except json.JSONDecodeError:
            raise ValidationFailed.on("conditions", "is not JSON in the filter language") from None
        target = str(form.get("target_type"))
        data = {"name": str(form.get("name") or ""), "conditions": tree, "target_type": target,
                "prefer_account_owner": form.get("prefer_account_owner") == "on"}
        if target == "user" and form.get("user_id"):
            data["user_id"] = uuid.UUID(str(form.get("user_id")))
        if target == "team" and form.get("team_id"):
            data["team_id"] = uuid.UUID(str(form.get("team_id")))
        if target == "queue":
            data["queue"] = str(form.get("queue") or "")
        routing.create_rule(session, data, actor=me.actor)
        flash(request, "Rule added.")
    elif action in ("up", "down", "delete", "toggle"):
        rule_id = uuid.UUID(str(form.get("rule_id")))
        if action == "delete":
            routing.delete_rule(session, rule_id, actor=me.actor)
        elif action == "toggle":
            rule = routing.get_rule(session, rule_id)
            routing.update_rule(session, rule_id, {"is_active": not rule.is_active}, actor=me.actor)
        else:
            ids = [r.id for r in routing.rules(session)]
            i = ids.index(rule_id)
            j = i - 1 if action == "up" else i + 1
            if 0 <= j < len(ids):
                ids[i], ids[j] = ids[j], ids[i]
                routing.reorder(session, ids, actor=me.actor)
    elif action == "policy":
        sla = str(form.get("sla_minutes") or "").strip()
        routing.update_policy(session, {
            "sla_minutes": int(sla) if sla.isdigit() else None, "work_start": str(form.get("work_start")),
            "work_end": str(form.get("work_end")), "timezone": str(form.get("timezone")),
            "workdays": [int(d) for d in form.getlist("workdays")], "reassign_on_breach": form.get("reassign_on_breach") == "on",
        }, actor=me.actor)
        flash(request, "Response-time SLA saved.")
    return redirect("/lead-routing")
