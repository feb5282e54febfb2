"""Every API operation with valid input, and who may call it.

``OPERATIONS`` maps ``(METHOD, path)`` as the OpenAPI document spells it to an ``Op``:
the kind of record its path (or body) names, made fresh for each call by ``World.make``;
the request's body; the rule saying who may call it on a record of each owner; the
statuses a permitted call may answer; and, for lists, the kind of record the list must
show (every one its caller may see). A route missing here fails the matrix and the walk."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.security.world import MAKERS, MANAGERS, OWNERS, WORKFLOW, World, email_sequence, manages, sees

ALLOW, HIDDEN, FORBIDDEN = "allow", "hidden", "forbidden"
Rule = Callable[[str, str], str]


def anyone(actor: str, owner: str) -> str:
    return ALLOW


def visible(actor: str, owner: str) -> str:
    return ALLOW if sees(actor, owner) else HIDDEN


def admins(actor: str, owner: str) -> str:
    return ALLOW if actor == "admin" else FORBIDDEN


def managers(actor: str, owner: str) -> str:
    return ALLOW if actor in MANAGERS else FORBIDDEN


def owner_or_managers(actor: str, owner: str) -> str:
    """Editing a workflow: its author, the author's managers and admins; those who do not
    see it (another team's) get 404."""
    if not sees(actor, owner):
        return HIDDEN
    return ALLOW if manages(actor, owner) else FORBIDDEN


def approvers(actor: str, owner: str) -> str:
    """Approving, pausing, archiving a workflow: the author's managers and admins."""
    if not sees(actor, owner):
        return HIDDEN
    return ALLOW if manages(actor, owner) and actor != OWNERS[owner] else FORBIDDEN


def owner_or_any_manager(actor: str, owner: str) -> str:
    return ALLOW if actor in MANAGERS or actor == OWNERS[owner] else FORBIDDEN


def owner_only(actor: str, owner: str) -> str:
    """A private saved view, an API token: its owner (and admins) alone know it exists."""
    return ALLOW if actor in ("admin", OWNERS[owner]) else HIDDEN


def owner_and_managers_see(actor: str, owner: str) -> str:
    """A lead import: its author, the author's managers and admins."""
    return ALLOW if manages(actor, owner) else HIDDEN


def self_only(actor: str, owner: str) -> str:
    """A notification: its user alone, not even an admin, knows it exists (the "unowned"
    one is the admin's own)."""
    return ALLOW if actor == (OWNERS[owner] or "admin") else HIDDEN


def gateway_only(actor: str, owner: str) -> str:
    """Inbound e-mail takes the mail gateway's credential, not a user's token."""
    return FORBIDDEN


@dataclass(frozen=True)
class Call:
    world: World
    ids: dict[str, Any]
    actor: str

    def __getitem__(self, key: str) -> str:
        return str(self.ids[key])


Body = Callable[[Call], dict[str, Any]]
ALL = ("own", "foreign", "unowned")
USERS = ("own", "foreign")
NONE = ("-",)


@dataclass(frozen=True)
class Op:
    target: str | None = None  # kind of record named by the path or body, made by World.make
    rule: Rule = anyone
    body: Body | None = None
    ok: tuple[int, ...] = (200, 201, 204)
    owners: tuple[str, ...] | None = None  # owners of the target to try; default by kind
    lists: str | None = None  # kind of base record this list must show to whoever may see it
    why: str = ""  # why a 4xx is among the statuses of a permitted call
    # A bulk call answering per id it was given (refused ones too): repeating an asked id is
    # no leak as long as a hidden id answers exactly as one that names nothing.
    echoes: bool = False

    def owner_variants(self) -> tuple[str, ...]:
        if self.owners is not None:
            return self.owners
        if self.target is None:
            return NONE
        if self.target in REFERENCE_KINDS:
            return ("unowned",)
        return USERS if self.target in USER_KINDS else ALL


REFERENCE_KINDS = {"product", "pipeline", "stage", "custom_field", "user", "team", "lead_form", "routing_rule", "training",
                   "webhook_endpoint"}
USER_KINDS = {"notification", "email_message", "mail_address", "saved_view", "workflow", "pending_workflow", "paused_workflow", "lead_import", "record_import", "token", "template",
              "sequence", "live_sequence"}


def js(data: dict[str, Any]) -> dict[str, Any]:
    return {"json": data}


def unique(c: Call) -> str:
    return uuid.uuid4().hex[:10]


def window() -> dict[str, str]:
    end = datetime.now(UTC)
    return {"start": (end - timedelta(days=7)).isoformat(), "end": end.isoformat()}


def record_csv(header: str, row: str) -> Body:
    """A one-row CSV of accounts, contacts or deals; ``{w}`` is a fresh word."""
    def body(c: Call) -> dict[str, Any]:
        content = f"{header}\n{row.format(w=unique(c))}\n".encode()
        return {"files": {"file": ("records.csv", content, "text/csv")}}

    return body


def csv_file(c: Call) -> dict[str, Any]:
    word = unique(c)
    content = f"first_name,last_name,email\nNew,Lead {word},{word}@new.example\n".encode()
    return {"files": {"file": ("leads.csv", content, "text/csv")}}


RAW_EMAIL = (b"From: someone@example.net\r\nTo: sales@example.com\r\nSubject: Hello\r\n"
             b"Message-ID: <matrix@example.net>\r\n\r\nHello there\r\n")

CREATE_BODIES: dict[str, tuple[str | None, Body]] = {
    # plural: (kind named in the body, body)
    "accounts": (None, lambda c: js({"name": f"New account {unique(c)}"})),
    "contacts": ("account", lambda c: js({"last_name": "New", "account_id": c["account_id"]})),
    "leads": (None, lambda c: js({"last_name": "New", "company": f"Co {unique(c)}"})),
    "deals": ("account", lambda c: js({"name": "New deal", "account_id": c["account_id"],
                                       "stage_id": str(c.world.shared["stages"][0].id)})),
    "activities": ("contact", lambda c: js({"type": "note", "subject": "New", "contact_id": c["contact_id"]})),
    "tasks": (None, lambda c: js({"title": "New task"})),
    "products": (None, lambda c: js({"sku": unique(c), "name": "New product", "price": "12.50"})),
    "pipelines": (None, lambda c: js({"name": f"Pipeline {unique(c)}"})),
    "stages": (None, lambda c: js({"pipeline_id": str(c.world.shared["pipeline"].id), "name": f"Stage {unique(c)}"})),
    "custom-fields": (None, lambda c: js({"record_type": "deal", "key": f"k{unique(c)}", "label": "Tier",
                                          "field_type": "text"})),
    "users": (None, lambda c: js({"email": f"{unique(c)}@staff.example", "name": "New user"})),
    "teams": (None, lambda c: js({"name": f"Team {unique(c)}"})),
}
UPDATE_FIELD = {"accounts": "name", "contacts": "last_name", "leads": "last_name", "deals": "name",
                "activities": "subject", "tasks": "title", "products": "name", "pipelines": "name", "stages": "name",
                "custom-fields": "label", "users": "name", "teams": "name"}
KIND_OF = {"accounts": "account", "contacts": "contact", "leads": "lead", "deals": "deal", "activities": "activity",
           "tasks": "task", "products": "product", "pipelines": "pipeline", "stages": "stage",
           "custom-fields": "custom_field", "users": "user", "teams": "team"}
WRITERS = {"products": managers}  # reference data other than products: admins only


LONG_PAGE: Body = lambda c: {"params": {"limit": 500}}  # noqa: E731 - every record the world holds


def bulk_of(create_body: Body, mode: str = "all_or_nothing") -> Body:
    """A create body as the one item of a bulk call; all_or_nothing by default, so that the
    call's status is its item's verdict."""
    return lambda c: js({"mode": mode, "items": [create_body(c)["json"]]})


def crud_operations() -> dict[tuple[str, str], Op]:
    ops: dict[tuple[str, str], Op] = {}
    for plural, kind in KIND_OF.items():
        base, item = f"/api/v1/{plural}", f"/api/v1/{plural}/{{record_id}}"
        owned = kind not in REFERENCE_KINDS
        write = visible if owned else WRITERS.get(plural, admins)
        ref_kind, create_body = CREATE_BODIES[plural]
        field = UPDATE_FIELD[plural]
        ops[("GET", base)] = Op(lists=kind if owned else None, body=LONG_PAGE)
        ops[("GET", base + "/export")] = Op(lists=kind if owned else None)
        ops[("POST", base)] = Op(target=ref_kind, rule=visible if ref_kind else write, body=create_body)
        ops[("POST", base + "/bulk")] = Op(target=ref_kind, rule=visible if ref_kind else write, body=bulk_of(create_body),
                                           ok=(200,))
        ops[("GET", item)] = Op(target=kind, rule=visible)
        ops[("GET", item + "/history")] = Op(target=kind, rule=visible)
        ops[("PATCH", item)] = Op(target=kind, rule=write, body=lambda c, f=field: js({f: f"Changed {unique(c)}"}))
        ops[("DELETE", item)] = Op(target=kind, rule=write)
    return ops


def step_body(c: Call) -> dict[str, Any]:
    return js({"kind": "auto_email", "delay_days": 2,
               "variants": [{"label": "A", "subject": "Follow-up", "body_html": "<p>Still there?</p>"}]})


def all_rule_ids(c: Call) -> list[str]:
    from sqlalchemy import select

    from pipewise.assignment.models import AssignmentRule

    c.world.session.expire_all()
    return [str(i) for i in c.world.session.scalars(select(AssignmentRule.id).order_by(AssignmentRule.position))]


OTHER_OPERATIONS: dict[tuple[str, str], Op] = {
    # -- record actions --
    ("POST", "/api/v1/deals/{deal_id}/move"): Op(
        target="deal", rule=visible, body=lambda c: js({"stage_id": str(c.world.shared["stages"][1].id)})),
    ("GET", "/api/v1/deals/{deal_id}/contacts"): Op(target="deal_contact", rule=visible),
    ("POST", "/api/v1/deals/{deal_id}/contacts"): Op(
        target="deal_and_contact", rule=visible, body=lambda c: js({"contact_id": c["contact_id"], "role": "buyer"})),
    ("DELETE", "/api/v1/deals/{deal_id}/contacts/{contact_id}"): Op(target="deal_contact", rule=visible),
    ("GET", "/api/v1/deals/{deal_id}/health"): Op(target="deal", rule=visible),
    ("GET", "/api/v1/next-actions"): Op(),
    ("POST", "/api/v1/leads/{lead_id}/convert"): Op(target="lead", rule=visible, body=lambda c: js({"create_deal": False})),
    ("POST", "/api/v1/tasks/{task_id}/complete"): Op(target="task", rule=visible),
    ("GET", "/api/v1/{plural}/{record_id}/timeline"): Op(target="deal", rule=visible),
    ("GET", "/api/v1/me"): Op(),
    ("POST", "/api/v1/me/tokens"): Op(body=lambda c: js({"name": "laptop"})),
    ("DELETE", "/api/v1/me/tokens/{token_id}"): Op(target="token", rule=owner_only),
    ("POST", "/api/v1/tasks/{task_id}/snooze"): Op(
        target="task", rule=visible, body=lambda c: js({"until": (datetime.now(UTC) + timedelta(days=1)).isoformat()})),
    ("GET", "/api/v1/calendar-feed"): Op(),
    ("POST", "/api/v1/calendar-feed"): Op(),
    # -- notifications: each user's own --
    ("GET", "/api/v1/notifications"): Op(),
    ("POST", "/api/v1/notifications/read-all"): Op(),
    ("POST", "/api/v1/notifications/{notification_id}/read"): Op(target="notification", rule=self_only, owners=("unowned", "own", "foreign")),
    # -- the audit trail: admins alone read it, export it and set its retention --
    ("GET", "/api/v1/audit"): Op(rule=admins),
    ("POST", "/api/v1/audit/export"): Op(rule=admins),
    ("GET", "/api/v1/audit/retention"): Op(rule=admins),
    ("PUT", "/api/v1/audit/retention"): Op(rule=admins, body=lambda c: js({"retention_days": 400})),
    # -- erasure of a person: admins alone, whoever owns the contact --
    ("POST", "/api/v1/contacts/{contact_id}/erase"): Op(target="contact", rule=admins, body=lambda c: js({"dry_run": False}),
                                                         ok=(200,)),
    # -- webhook endpoints: the company's integrations, admins alone manage them and read their log --
    ("GET", "/api/v1/webhooks"): Op(rule=admins),
    ("POST", "/api/v1/webhooks"): Op(rule=admins, body=lambda c: js({"url": "https://hooks.example.com/new",
                                                                     "event_types": ["deal.*", "contact.created"]})),
    ("GET", "/api/v1/webhooks/{endpoint_id}"): Op(target="webhook_endpoint", rule=admins),
    ("PATCH", "/api/v1/webhooks/{endpoint_id}"): Op(target="webhook_endpoint", rule=admins,
                                                    body=lambda c: js({"description": f"Changed {unique(c)}"})),
    ("DELETE", "/api/v1/webhooks/{endpoint_id}"): Op(target="webhook_endpoint", rule=admins),
    ("POST", "/api/v1/webhooks/{endpoint_id}/rotate-secret"): Op(target="webhook_endpoint", rule=admins),
    ("POST", "/api/v1/webhooks/{endpoint_id}/ping"): Op(target="webhook_endpoint", rule=admins, ok=(202,)),
    ("GET", "/api/v1/webhooks/{endpoint_id}/messages"): Op(target="webhook_endpoint", rule=admins),
    ("GET", "/api/v1/webhooks/{endpoint_id}/messages/{message_id}"): Op(target="webhook_endpoint", rule=admins),
    ("POST", "/api/v1/webhooks/{endpoint_id}/messages/{message_id}/replay"): Op(target="webhook_endpoint", rule=admins,
                                                                                 ok=(202,)),
    ("POST", "/api/v1/webhooks/{endpoint_id}/replay"): Op(
        target="webhook_endpoint", rule=admins, ok=(202,),
        body=lambda c: js({"since": window()["start"], "until": window()["end"]})),
    ("GET", "/api/v1/webhooks/{endpoint_id}/attempts"): Op(target="webhook_endpoint", rule=admins),
    ("GET", "/api/v1/notification-preferences"): Op(),
    ("PUT", "/api/v1/notification-preferences"): Op(body=lambda c: js({"email": {"reminder": True}})),
    # -- saved views --
    ("GET", "/api/v1/saved-views"): Op(lists="saved_view"),
    ("GET", "/api/v1/search"): Op(body=lambda c: {"params": {"q": "zq", "per_type": 20}}),
    ("POST", "/api/v1/saved-views"): Op(body=lambda c: js({"name": f"Mine {unique(c)}", "record_type": "contact",
                                                           "query": "q=ada"})),
    ("GET", "/api/v1/saved-views/{view_id}"): Op(target="saved_view", rule=owner_only),
    ("PATCH", "/api/v1/saved-views/{view_id}"): Op(target="saved_view", rule=owner_only,
                                                   body=lambda c: js({"name": f"Renamed {unique(c)}"})),
    ("DELETE", "/api/v1/saved-views/{view_id}"): Op(target="saved_view", rule=owner_only),
    # -- workflows --
    ("GET", "/api/v1/workflows"): Op(),
    ("POST", "/api/v1/workflows"): Op(body=lambda c: js({"name": f"Flow {unique(c)}", "definition": WORKFLOW})),
    ("POST", "/api/v1/workflows/import"): Op(body=lambda c: {
        "content": json.dumps({"name": f"Imported {unique(c)}", **WORKFLOW}),
        "headers": {"Content-Type": "application/json"}}),
    ("POST", "/api/v1/workflows/simulate"): Op(body=lambda c: js({**window(), "definition": WORKFLOW})),
    ("GET", "/api/v1/workflows/{workflow_id}"): Op(target="workflow", rule=visible),
    ("PATCH", "/api/v1/workflows/{workflow_id}"): Op(target="workflow", rule=owner_or_managers,
                                                     body=lambda c: js({"description": "changed"})),
    ("POST", "/api/v1/workflows/{workflow_id}/validate"): Op(target="workflow", rule=visible),
    ("POST", "/api/v1/workflows/{workflow_id}/activate"): Op(target="workflow", rule=owner_or_managers, body=lambda c: js({})),
    ("POST", "/api/v1/workflows/{workflow_id}/approve"): Op(target="pending_workflow", rule=approvers,
                                                            body=lambda c: js({"reason": "fine"})),
    ("POST", "/api/v1/workflows/{workflow_id}/reject"): Op(target="pending_workflow", rule=approvers,
                                                           body=lambda c: js({"reason": "too broad"})),
    ("POST", "/api/v1/workflows/{workflow_id}/pause"): Op(target="live_workflow", rule=approvers,
                                                          body=lambda c: js({"reason": "checking"})),
    ("POST", "/api/v1/workflows/{workflow_id}/resume"): Op(target="paused_workflow", rule=approvers,
                                                           body=lambda c: js({})),
    ("POST", "/api/v1/workflows/{workflow_id}/archive"): Op(target="live_workflow", rule=approvers,
                                                            body=lambda c: js({"reason": "done"})),
    ("GET", "/api/v1/workflows/{workflow_id}/versions"): Op(target="workflow", rule=visible),
    ("GET", "/api/v1/workflows/{workflow_id}/export"): Op(target="workflow", rule=visible),
    ("POST", "/api/v1/workflows/{workflow_id}/simulate"): Op(target="workflow", rule=visible, body=lambda c: js(window())),
    ("POST", "/api/v1/workflows/{workflow_id}/test"): Op(
        target="workflow_and_contact", rule=visible, body=lambda c: js({"record_id": c["record_id"]})),
    ("POST", "/api/v1/workflows/{workflow_id}/enrollments"): Op(
        target="workflow_and_contact", rule=visible, body=lambda c: js({"record_ids": [c["record_id"]]})),
    ("GET", "/api/v1/workflows/{workflow_id}/enrollments"): Op(target="shared_workflow", lists="workflow_enrollment", body=LONG_PAGE),
    ("GET", "/api/v1/workflows/{workflow_id}/runs"): Op(target="shared_workflow", lists="workflow_enrollment", body=LONG_PAGE),
    ("GET", "/api/v1/workflows/{workflow_id}/overrides"): Op(target="shared_workflow"),
    ("GET", "/api/v1/workflows/{workflow_id}/holdout-effect"): Op(target="workflow", rule=visible),
    ("GET", "/api/v1/enrollments/{enrollment_id}"): Op(target="workflow_enrollment", rule=visible),
    ("POST", "/api/v1/enrollments/{enrollment_id}/pause"): Op(target="workflow_enrollment", rule=visible,
                                                              body=lambda c: js({"reason": "on holiday"})),
    ("POST", "/api/v1/enrollments/{enrollment_id}/resume"): Op(target="paused_workflow_enrollment", rule=visible,
                                                               body=lambda c: js({})),
    ("POST", "/api/v1/enrollments/{enrollment_id}/cancel"): Op(target="workflow_enrollment", rule=visible,
                                                               body=lambda c: js({"reason": "wrong record"})),
    ("POST", "/api/v1/enrollments/{enrollment_id}/retry"): Op(
        target="workflow_enrollment", rule=visible, body=lambda c: js({}), ok=(200, 409),
        why="409: only a failed run can be retried; a failed run needs a failing step, out of this table's reach"),
    # -- lead capture, import, duplicates --
    ("POST", "/f/{form_key}"): Op(target="lead_form", body=lambda c: js({"email": f"{unique(c)}@form.example",
                                                                          "name": "Form Person"})),
    ("GET", "/api/v1/lead-forms"): Op(),
    ("POST", "/api/v1/lead-forms"): Op(rule=managers, body=lambda c: js({"name": f"Form {unique(c)}",
                                                                          "field_map": {"email": "email"}})),
    ("GET", "/api/v1/lead-forms/{form_id}"): Op(target="lead_form"),
    ("PATCH", "/api/v1/lead-forms/{form_id}"): Op(target="lead_form", rule=managers, body=lambda c: js({"source": "site"})),
    ("GET", "/api/v1/lead-forms/{form_id}/snippet"): Op(target="lead_form"),
    ("POST", "/api/v1/leads/capture"): Op(body=lambda c: js({"last_name": "Captured", "email": f"{unique(c)}@cap.example"})),
    ("POST", "/api/v1/lead-imports/preview"): Op(body=csv_file),
    ("GET", "/api/v1/lead-imports"): Op(lists="lead_import"),
    ("POST", "/api/v1/lead-imports"): Op(body=csv_file),
    ("GET", "/api/v1/lead-imports/{import_id}"): Op(target="lead_import", rule=owner_and_managers_see),
    ("GET", "/api/v1/lead-imports/{import_id}/rows"): Op(target="lead_import", rule=owner_and_managers_see),
    ("GET", "/api/v1/lead-imports/{import_id}/report.csv"): Op(target="lead_import", rule=owner_and_managers_see),
    # -- imports of accounts, contacts and deals: anyone may import (as themselves); an
    # import and its report are for its author, the author's managers and admins --
    **{("POST", f"/api/v1/{plural}/import{tail}"): Op(body=record_csv(header, row), ok=ok)
       for plural, header, row in (("accounts", "Account name,Website", "Imported {w},{w}.example"),
                                   ("contacts", "First name,Last name,Email", "Ima,Port {w},{w}@import.example"),
                                   ("deals", "Deal name,Amount", "Deal {w},1200"))
       for tail, ok in (("/preview", (200,)), ("", (202,)))},
    ("GET", "/api/v1/record-imports"): Op(),
    ("GET", "/api/v1/record-imports/{import_id}"): Op(target="record_import", rule=owner_and_managers_see),
    ("GET", "/api/v1/record-imports/{import_id}/rows"): Op(target="record_import", rule=owner_and_managers_see),
    ("GET", "/api/v1/record-imports/{import_id}/report.csv"): Op(target="record_import", rule=owner_and_managers_see),
    ("GET", "/api/v1/leads/{lead_id}/duplicates"): Op(target="duplicate", rule=visible),
    ("GET", "/api/v1/duplicates"): Op(lists="duplicate", body=LONG_PAGE),
    ("POST", "/api/v1/duplicates/scan"): Op(rule=managers),
    ("POST", "/api/v1/duplicates/{candidate_id}/dismiss"): Op(target="duplicate", rule=visible),
    ("POST", "/api/v1/merges"): Op(target="duplicate", rule=visible, body=lambda c: js(
        {"record_type": "lead", "survivor_id": c["lead_id"], "merged_ids": [c["merged_id"]]})),
    # -- scoring --
    ("GET", "/api/v1/leads/{lead_id}/score"): Op(target="lead", rule=visible),
    ("POST", "/api/v1/leads/{lead_id}/engagement"): Op(target="lead", rule=visible, body=lambda c: js({"kind": "email_open"})),
    ("GET", "/api/v1/scoring/config"): Op(),
    ("PATCH", "/api/v1/scoring/config"): Op(rule=managers, body=lambda c: js({"mql_threshold": 55})),
    ("POST", "/api/v1/scoring/rescore"): Op(rule=managers),
    ("GET", "/api/v1/scoring/models"): Op(),
    ("POST", "/api/v1/scoring/models"): Op(rule=managers, ok=(201, 202, 422),
                                          why="422: a model needs closed leads of both outcomes to learn from"),
    ("GET", "/api/v1/scoring/trainings/{training_id}"): Op(target="training", rule=managers),
    # -- routing --
    ("GET", "/api/v1/routing/rules"): Op(),
    ("POST", "/api/v1/routing/rules"): Op(rule=managers, body=lambda c: js(
        {"name": f"Rule {unique(c)}", "target_type": "user", "user_id": str(c.world.users["east_rep"].id)})),
    ("PATCH", "/api/v1/routing/rules/{rule_id}"): Op(target="routing_rule", rule=managers, body=lambda c: js({"is_active": False})),
    ("DELETE", "/api/v1/routing/rules/{rule_id}"): Op(target="routing_rule", rule=managers),
    ("PUT", "/api/v1/routing/rules/order"): Op(target="routing_rule", rule=managers,
                                               body=lambda c: js({"rule_ids": all_rule_ids(c)})),
    ("GET", "/api/v1/routing/policy"): Op(),
    ("PATCH", "/api/v1/routing/policy"): Op(rule=managers, body=lambda c: js({"sla_minutes": 45})),
    ("POST", "/api/v1/leads/{lead_id}/assign"): Op(
        target="lead", rule=visible, body=lambda c: js({"owner_id": str(c.world.users[c.actor].id)})),
    ("GET", "/api/v1/leads/{lead_id}/assignments"): Op(target="lead", rule=visible),
    ("GET", "/api/v1/leads/{lead_id}/speed-to-lead"): Op(target="lead", rule=visible),
    # -- sequences and e-mail --
    ("GET", "/api/v1/sequences"): Op(),
    ("POST", "/api/v1/sequences"): Op(body=lambda c: js(email_sequence(f"Cadence {unique(c)}"))),
    ("GET", "/api/v1/sequences/{sequence_id}"): Op(target="sequence"),
    ("PATCH", "/api/v1/sequences/{sequence_id}"): Op(target="sequence", rule=owner_or_any_manager,
                                                     body=lambda c: js({"description": "changed"})),
    ("POST", "/api/v1/sequences/{sequence_id}/activate"): Op(target="sequence", rule=owner_or_any_manager),
    ("POST", "/api/v1/sequences/{sequence_id}/{status}"): Op(target="live_sequence", rule=owner_or_any_manager),
    ("POST", "/api/v1/sequences/{sequence_id}/pause"): Op(target="live_sequence", rule=owner_or_any_manager),
    ("POST", "/api/v1/sequences/{sequence_id}/archive"): Op(target="live_sequence", rule=owner_or_any_manager),
    ("POST", "/api/v1/sequences/{sequence_id}/steps"): Op(target="sequence", rule=owner_or_any_manager, body=step_body),
    ("PATCH", "/api/v1/sequences/{sequence_id}/steps/{step_id}"): Op(target="sequence", rule=owner_or_any_manager,
                                                                    body=lambda c: js({"delay_days": 3})),
    ("DELETE", "/api/v1/sequences/{sequence_id}/steps/{step_id}"): Op(target="sequence", rule=owner_or_any_manager),
    ("POST", "/api/v1/sequences/{sequence_id}/steps/{step_id}/move"): Op(
        target="sequence", rule=owner_or_any_manager, body=lambda c: js({"direction": "down"})),
    ("POST", "/api/v1/tasks/{task_id}/send-step"): Op(
        target="manual_step_task", rule=visible, body=lambda c: js({"subject": "As promised", "body_text": "Here it is."})),
    ("POST", "/api/v1/sequences/{sequence_id}/enrollments"): Op(
        target="sequence_and_contact", rule=visible, echoes=True, body=lambda c: js({"contact_ids": [c["contact_id"]]})),
    ("POST", "/api/v1/sequences/{sequence_id}/unenroll"): Op(
        target="sequence_enrollment", rule=visible, body=lambda c: js({"contact_id": c["contact_id"]})),
    ("GET", "/api/v1/sequence-enrollments"): Op(lists="sequence_enrollment", body=LONG_PAGE),
    ("POST", "/api/v1/sequence-enrollments/{enrollment_id}/pause"): Op(
        target="sequence_enrollment", rule=visible, body=lambda c: js({"reason": "on holiday"})),
    ("POST", "/api/v1/sequence-enrollments/{enrollment_id}/resume"): Op(
        target="paused_sequence_enrollment", rule=visible, body=lambda c: js({"reason": "back"})),
    ("GET", "/api/v1/sequence-enrollments/{enrollment_id}/decisions"): Op(target="sequence_enrollment", rule=visible),
    ("GET", "/api/v1/sequences/{sequence_id}/metrics"): Op(target="sequence"),
    ("GET", "/api/v1/sequences/{sequence_id}/holdout-effect"): Op(target="sequence"),
    ("POST", "/api/v1/email/preview"): Op(target="contact", rule=visible,
                                          body=lambda c: js({"contact_id": c["contact_id"], "subject": "Hi {{ contact.first_name }}"})),
    ("GET", "/api/v1/mailboxes"): Op(),
    ("PUT", "/api/v1/mailboxes"): Op(body=lambda c: js({"from_name": "Me", "signature_text": "Regards"})),
    ("GET", "/api/v1/email-templates"): Op(),
    ("POST", "/api/v1/email-templates"): Op(body=lambda c: js({"name": f"Template {unique(c)}", "subject": "Hi",
                                                              "body_html": "<p>Hi</p>"})),
    ("PATCH", "/api/v1/email-templates/{template_id}"): Op(target="template", rule=owner_or_any_manager,
                                                           body=lambda c: js({"subject": "Hello"})),
    ("DELETE", "/api/v1/email-templates/{template_id}"): Op(target="template", rule=owner_or_any_manager),
    ("GET", "/api/v1/mail-addresses"): Op(lists="mail_address"),
    ("POST", "/api/v1/mail-addresses"): Op(body=lambda c: js({"address": f"{unique(c)}@sender.example"})),
    ("DELETE", "/api/v1/mail-addresses/{address_id}"): Op(target="mail_address", rule=owner_only),
    ("GET", "/api/v1/email-messages"): Op(lists="email_message", body=LONG_PAGE),
    ("GET", "/api/v1/email-messages/{message_id}"): Op(target="email_message", rule=visible),
    ("GET", "/api/v1/suppressions"): Op(),
    ("POST", "/api/v1/suppressions"): Op(body=lambda c: js({"address": f"{unique(c)}@blocked.example"})),
    ("DELETE", "/api/v1/suppressions/{address}"): Op(target="suppression", rule=admins),
    ("POST", "/api/v1/inbound/email"): Op(rule=gateway_only, body=lambda c: {"content": RAW_EMAIL}),
}



def _draft_quote(world: World, owner: str) -> dict[str, Any]:
    """A draft quote on a deal of ``owner`` for a contact with an address (quote sending)."""
    from tests.quotes.accept_support import make_quote

    word, user = world.marker(owner), world.owner_user(owner)
    contact = world.factory.contact(owner=user, last_name=f"Buyer {word}", email=f"buyer-{word}@example.org")
    deal = world.factory.deal(owner=user, name=f"Deal {word}", stage_id=world.shared["stages"][0].id)
    quote = make_quote(world.session, world.factory, owner=user, deal=deal, contact=contact, number=f"Q-{word}")
    world.mark(owner, quote.id, deal.id, word)
    return {"quote_id": quote.id}


MAKERS["draft_quote"] = _draft_quote
OTHER_OPERATIONS[("POST", "/api/v1/quotes/{quote_id}/send")] = Op(
    target="draft_quote", rule=visible, body=lambda c: js({"message": "Our offer"}), ok=(200,))
OTHER_OPERATIONS[("GET", "/api/v1/quotes/{quote_id}/acceptance")] = Op(target="draft_quote", rule=visible)


def _next_week_slot(c: Call) -> str:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=500, hours=len(c.ids))
    return start.isoformat()


# A slot far beyond the horizon is refused (409): the matrix checks who may ask, not the calendar.
TAKEN = "the slot lies beyond the page's booking horizon"
MEETING_OPERATIONS: dict[tuple[str, str], Op] = {
    ("GET", "/api/v1/booking-pages"): Op(),
    ("POST", "/api/v1/booking-pages"): Op(body=lambda c: js({"slug": f"s-{unique(c)}", "title": "Intro"})),
    ("GET", "/api/v1/booking-pages/{page_id}"): Op(target="booking_page", rule=visible, owners=USERS),
    ("PATCH", "/api/v1/booking-pages/{page_id}"): Op(target="booking_page", rule=visible, owners=USERS,
                                                     body=lambda c: js({"title": "Renamed"})),
    ("DELETE", "/api/v1/booking-pages/{page_id}"): Op(target="booking_page", rule=visible, owners=USERS),
    ("GET", "/api/v1/booking-pages/{page_id}/slots"): Op(target="booking_page", rule=visible, owners=USERS),
    ("GET", "/api/v1/meetings/availability"): Op(),
    ("PUT", "/api/v1/meetings/availability"): Op(body=lambda c: js({"timezone": "Europe/Paris", "buffer_after_minutes": 10})),
    ("GET", "/api/v1/meetings"): Op(),
    ("GET", "/api/v1/meetings/{meeting_id}"): Op(target="meeting", rule=visible, owners=USERS),
    ("POST", "/api/v1/meetings/{meeting_id}/cancel"): Op(target="meeting", rule=visible, owners=USERS, body=lambda c: js({})),
    ("POST", "/api/v1/meetings/{meeting_id}/reschedule"): Op(target="meeting", rule=visible, owners=USERS,
                                                             body=lambda c: js({"start": _next_week_slot(c)}), ok=(200, 409), why=TAKEN),
    ("POST", "/api/v1/meetings/{meeting_id}/outcome"): Op(target="meeting", rule=visible, owners=USERS,
                                                          body=lambda c: js({"status": "held"})),
    ("GET", "/book/{slug}/info"): Op(target="public_booking_page", owners=USERS),
    ("GET", "/book/{slug}/slots"): Op(target="public_booking_page", owners=USERS),
    ("POST", "/book/{slug}/bookings"): Op(target="public_booking_page", owners=USERS, ok=(201, 409), why=TAKEN,
                                          body=lambda c: js({"start": _next_week_slot(c), "name": "Visitor",
                                                             "email": f"{unique(c)}@visitor.example"})),
    ("GET", "/book/manage/{token}/meeting"): Op(target="meeting_link", owners=USERS),
    ("POST", "/book/manage/{token}/reschedule"): Op(target="meeting_link", owners=USERS, ok=(200, 409), why=TAKEN,
                                                    body=lambda c: js({"start": _next_week_slot(c)})),
    ("POST", "/book/manage/{token}/cancel"): Op(target="meeting_link", owners=USERS, body=lambda c: js({})),
}

# A caller's own calendar connection and reminder settings: no record of anyone else's is
# named, so every signed-in caller may; disconnecting when nothing is connected is a 404.
CALENDAR_OPERATIONS: dict[tuple[str, str], Op] = {
    ("GET", "/api/v1/calendar-connection"): Op(),
    ("PUT", "/api/v1/calendar-connection"): Op(body=lambda c: js({"url": "https://caldav.example.com/dav/work/",
                                                                  "username": "rep", "password": "app-password"})),
    ("DELETE", "/api/v1/calendar-connection"): Op(ok=(204, 404), why="no calendar is connected"),
    ("GET", "/api/v1/meeting-reminders"): Op(),
    ("PUT", "/api/v1/meeting-reminders"): Op(body=lambda c: js({"offsets_minutes": [1440, 60], "remind_invitee": True})),
}

OPERATIONS: dict[tuple[str, str], Op] = {**crud_operations(), **OTHER_OPERATIONS}
OPERATIONS.update(MEETING_OPERATIONS)
OPERATIONS.update(CALENDAR_OPERATIONS)


def api_operations(app: Any) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document."""
    return [(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")]


def documented_operations() -> list[tuple[str, str]]:
    """The operations the tests walk: those of the document (a route missing from
    OPERATIONS then fails its own test, named after it)."""
    from pipewise.app import create_app

    return sorted(api_operations(create_app(start_worker=False)))


def op_for(key: tuple[str, str]) -> Op:
    assert key in OPERATIONS, f"{key[0]} {key[1]} is not in tests/security/operations.py: add it with valid input and its rule"
    return OPERATIONS[key]


def url_for(path: str, ids: dict[str, Any]) -> str:
    defaults = {"status": "pause", "plural": "deals"}
    return path.format(**{**defaults, **{k: str(v) for k, v in ids.items()}})


# -- orders, invoices and stock (tests/billing/matrix.py makes their records) --

from tests.billing.matrix import MAKERS as BILLING_MAKERS  # noqa: E402
from tests.security.world import MAKERS  # noqa: E402

MAKERS.update(BILLING_MAKERS)


def seen_by_managers(actor: str, owner: str) -> str:
    """Posting, voiding, payments, converting a quote: managers and admins who see the deal."""
    if not sees(actor, owner):
        return HIDDEN
    return ALLOW if actor in MANAGERS else FORBIDDEN


STOCK_ONLY = ("unowned",)
BILLING_OPERATIONS: dict[tuple[str, str], Op] = {
    ("GET", "/api/v1/orders"): Op(),
    ("POST", "/api/v1/orders"): Op(target="accepted_quote", rule=seen_by_managers, body=lambda c: js({"quote_id": c["quote_id"]})),
    ("GET", "/api/v1/orders/{order_id}"): Op(target="order", rule=visible),
    ("POST", "/api/v1/orders/{order_id}/confirm"): Op(target="order", rule=visible),
    ("POST", "/api/v1/orders/{order_id}/deliveries"): Op(target="confirmed_order", rule=visible, body=lambda c: js({})),
    ("POST", "/api/v1/orders/{order_id}/cancel"): Op(target="order", rule=visible, body=lambda c: js({"reason": "changed"})),
    ("GET", "/api/v1/invoices"): Op(),
    ("POST", "/api/v1/invoices/from-order"): Op(target="confirmed_order", rule=visible,
                                                body=lambda c: js({"order_id": c["order_id"]})),
    ("POST", "/api/v1/invoices/from-deal"): Op(target="deal_with_lines", rule=visible,
                                               body=lambda c: js({"deal_id": c["deal_id"]})),
    ("GET", "/api/v1/invoices/{invoice_id}"): Op(target="invoice", rule=visible),
    ("PATCH", "/api/v1/invoices/{invoice_id}"): Op(target="invoice", rule=visible, body=lambda c: js({"notes": "thanks"})),
    ("POST", "/api/v1/invoices/{invoice_id}/post"): Op(target="invoice", rule=seen_by_managers),
    ("POST", "/api/v1/invoices/{invoice_id}/payments"): Op(target="posted_invoice", rule=seen_by_managers,
                                                           body=lambda c: js({"amount": "1.00"})),
    ("POST", "/api/v1/invoices/{invoice_id}/credit-note"): Op(target="posted_invoice", rule=seen_by_managers,
                                                              body=lambda c: js({"reason": "wrong"})),
    ("GET", "/api/v1/invoices/{invoice_id}/documents/{kind}"): Op(target="posted_invoice", rule=visible),
    ("GET", "/api/v1/stock"): Op(),
    ("GET", "/api/v1/stock/moves"): Op(),
    ("POST", "/api/v1/stock/receipts"): Op(target="stocked_product", rule=managers, owners=STOCK_ONLY,
                                          body=lambda c: js({"product_id": c["product_id"], "quantity": "3"})),
    ("POST", "/api/v1/stock/adjustments"): Op(target="stocked_product", rule=managers, owners=STOCK_ONLY,
                                             body=lambda c: js({"product_id": c["product_id"], "quantity": "-1",
                                                                "reason": "count"})),
    ("PUT", "/api/v1/stock/thresholds"): Op(target="stocked_product", rule=managers, owners=STOCK_ONLY,
                                           body=lambda c: js({"product_id": c["product_id"], "low_threshold": "2"})),
}
OPERATIONS.update(BILLING_OPERATIONS)
# The quotes domain's routes, kept beside its tests.
from tests.quotes.matrix_ops import quote_operations  # noqa: E402

OPERATIONS.update(quote_operations())
# The reports' routes, kept beside their tests.
from tests.analytics.matrix_ops import report_operations  # noqa: E402

OPERATIONS.update(report_operations(Op))

# -- the forecast --


def forecast_caller(actor: str, owner: str) -> str:
    """Calling a deal's forecast category: its owner and the managers who see it (an
    unowned deal: any manager); a teammate rep may see it but not call it."""
    if not sees(actor, owner):
        return HIDDEN
    if OWNERS[owner] is None:
        return ALLOW if actor in MANAGERS else FORBIDDEN
    return ALLOW if manages(actor, owner) else FORBIDDEN


def east_quota_setters(actor: str, owner: str) -> str:
    """The East rep's quota: the East manager and admins; anyone else is refused."""
    return ALLOW if actor in ("admin", "east_manager") else FORBIDDEN


def _east_rep_quota(c: Call) -> dict[str, Any]:
    month = datetime.now(UTC).strftime("%Y-%m")
    return js({"period": month, "amount": "1000", "user_id": str(c.world.users["east_rep"].id)})


def _history_file(c: Call) -> dict[str, Any]:
    content = (b"opportunity_id,sales_agent,product,deal_stage,engage_date,close_date,close_value\n"
               b"A1,Rep,GTX,Won,2017-01-02,2017-01-20,100\nA2,Rep,GTX,Lost,2017-01-03,2017-02-10,0\n"
               b"A3,Rep,GTX,Engaging,2017-02-01,,\n")
    return {"files": {"file": ("history.csv", content, "text/csv")}}


FORECAST_OPERATIONS: dict[tuple[str, str], Op] = {
    ("GET", "/api/v1/forecast"): Op(),
    ("GET", "/api/v1/forecast/deals"): Op(),
    ("GET", "/api/v1/forecast/deals/{deal_id}"): Op(target="deal", rule=visible),
    ("GET", "/api/v1/forecast/deals/{deal_id}/calls"): Op(target="deal", rule=visible),
    ("POST", "/api/v1/forecast/deals/{deal_id}/calls"): Op(target="deal", rule=forecast_caller,
                                                          body=lambda c: js({"category": "commit", "reason": "matrix"})),
    ("GET", "/api/v1/forecast/quotas"): Op(),
    ("PUT", "/api/v1/forecast/quotas"): Op(rule=east_quota_setters, body=_east_rep_quota),
    ("GET", "/api/v1/forecast/forecast-vs-actual"): Op(),
    ("GET", "/api/v1/forecast/slipped"): Op(),
    ("GET", "/api/v1/forecast/coverage"): Op(),
    ("POST", "/api/v1/forecast/snapshots"): Op(rule=managers),
    ("GET", "/api/v1/forecast/predictive"): Op(),
    ("POST", "/api/v1/forecast/backtest"): Op(body=_history_file),
}
OPERATIONS.update(FORECAST_OPERATIONS)

# -- privacy: consent follows the person's visibility; exports and retention are admins' --

from tests.privacy.matrix_world import MAKERS as PRIVACY_MAKERS  # noqa: E402

MAKERS.update(PRIVACY_MAKERS)
ADMINS_OWN = ("unowned",)
_CONSENT_GIVEN: Body = lambda c: js({"purpose": "profiling", "action": "given", "text": "We may score your fit."})  # noqa: E731
PRIVACY_OPERATIONS: dict[tuple[str, str], Op] = {
    **{key: op for plural, kind in (("contacts", "contact"), ("leads", "lead")) for key, op in {
        ("GET", f"/api/v1/{plural}/{{record_id}}/consent"): Op(target=kind, rule=visible),
        ("POST", f"/api/v1/{plural}/{{record_id}}/consent"): Op(target=kind, rule=visible, body=_CONSENT_GIVEN),
        ("POST", f"/api/v1/{plural}/{{record_id}}/consent/withdraw"): Op(
            target=kind, rule=visible, body=lambda c: js({"purpose": "profiling"})),
    }.items()},
    ("POST", "/api/v1/privacy/exports"): Op(target="contact", rule=admins, ok=(202,),
                                            body=lambda c: js({"contact_id": c["contact_id"]})),
    ("GET", "/api/v1/privacy/exports/{job_id}"): Op(target="subject_export", rule=admins, owners=ADMINS_OWN),
    ("GET", "/api/v1/privacy/exports/{job_id}/download"): Op(target="subject_export", rule=admins, owners=ADMINS_OWN),
    ("GET", "/api/v1/privacy/retention-rules"): Op(rule=admins),
    ("POST", "/api/v1/privacy/retention-rules"): Op(rule=admins, body=lambda c: js(
        {"name": "Old activities", "kind": "old_activities", "months": 60, "enabled": False})),
    ("PATCH", "/api/v1/privacy/retention-rules/{rule_id}"): Op(target="retention_rule", rule=admins, owners=ADMINS_OWN,
                                                              body=lambda c: js({"months": 96})),
    ("DELETE", "/api/v1/privacy/retention-rules/{rule_id}"): Op(target="retention_rule", rule=admins, owners=ADMINS_OWN),
    ("POST", "/api/v1/privacy/retention-rules/{rule_id}/dry-run"): Op(target="retention_rule", rule=admins,
                                                                      owners=ADMINS_OWN),
    ("POST", "/api/v1/privacy/retention-rules/{rule_id}/run"): Op(target="retention_rule", rule=admins, owners=ADMINS_OWN),
    ("GET", "/api/v1/privacy/retention-rules/{rule_id}/runs"): Op(target="retention_rule", rule=admins, owners=ADMINS_OWN),
}
OPERATIONS.update(PRIVACY_OPERATIONS)
# A list's export answers as the list does: the same records, to the same people.
OPERATIONS.update({("GET", f"/api/v1/{plural}/export"): Op(lists=OPERATIONS[("GET", f"/api/v1/{plural}")].lists)
                   for plural in ("price-books", "price-book-entries", "quote-templates", "quotes")})
