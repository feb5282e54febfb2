"""A small company for the security tests.

Two teams, East and West, each with a manager and a rep, and an admin. Records of every
kind are owned by the East rep ("own"), the West rep ("foreign") or nobody ("unowned").
Every record carries a marker (its id, and a unique word in its name), so a response that
contains a marker of a record its caller may not see has leaked that record.

``World.make(kind, owner)`` creates a fresh record of a kind for one call, so a call that
changes or deletes its target never disturbs the next one."""

import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import pipewise.automation.handlers  # noqa: F401 - registers the engine on the bus
from pipewise.assignment import service as routing
from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.service import workflow_service
from pipewise.deals.service import deal_service
from pipewise.jobs import service as jobs
from pipewise.leads import capture
from pipewise.leads.models import DuplicateCandidate
from pipewise.notifications.service import notify
from pipewise.people.service import token_service
from pipewise.quotes.catalogue import product_service
from pipewise.records.saved_views import saved_view_service
from pipewise.sequences.library import template_service
from pipewise.sequences.service import sequence_service
from tests.factories import Factory

ACTORS = ("admin", "east_manager", "east_rep", "west_rep", "west_manager")
# Who owns the target of a call: the East rep, the West rep, or nobody.
OWNERS: dict[str, str | None] = {"own": "east_rep", "foreign": "west_rep", "unowned": None}
TEAM_OF = {"east_manager": "East", "east_rep": "East", "west_rep": "West", "west_manager": "West"}
MANAGERS = ("admin", "east_manager", "west_manager")
_n = itertools.count(1)
PASSWORD = "correct-horse"
WEB_USERS = ("east_rep", "west_manager")  # the people whose web pages are checked


MARKER_RE = re.compile(r"zq[a-z]+\d+z")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX_RE = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def sees(actor: str, owner: str) -> bool:
    """Whether ``actor`` may see (and change) a record owned by ``owner`` ("own", ...)."""
    user = OWNERS[owner]
    return actor == "admin" or user is None or TEAM_OF[actor] == TEAM_OF[user]


def manages(actor: str, owner: str) -> bool:
    """Whether ``actor`` is the owner's manager or an admin (or the owner)."""
    user = OWNERS[owner]
    if actor == "admin" or actor == user:
        return True
    return user is not None and actor.endswith("manager") and TEAM_OF[actor] == TEAM_OF[user]


WORKFLOW = {
    "trigger": {"type": "record_created", "record_type": "contact"},
    "steps": [{"id": "pause", "type": "wait", "duration": "30d"}, {"id": "tag", "type": "add_tag", "tag": "checked"}],
}


def email_sequence(name: str) -> dict[str, Any]:
    step = {"kind": "auto_email", "delay_days": 30, "business_days": False,
            "variants": [{"label": "A", "subject": "Hello", "body_html": "<p>Hi {{ contact.first_name }}</p>"}]}
    return {"name": name, "steps": [step]}


@dataclass
class World:
    session: Session
    factory: Factory
    client: TestClient
    users: dict[str, User] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    teams: dict[str, Any] = field(default_factory=dict)
    base: dict[str, dict[str, Any]] = field(default_factory=dict)  # owner -> kind -> id
    marks: list[tuple[str, str]] = field(default_factory=list)  # (owner, text)
    shared: dict[str, Any] = field(default_factory=dict)

    # -- markers --

    def marker(self, owner: str) -> str:
        return f"zq{owner}{next(_n)}z"

    def mark(self, owner: str, *texts: Any) -> None:
        self.marks.extend((owner, str(t).lower()) for t in texts if t is not None)

    def secrets_for(self, actor: str) -> set[str]:
        return {text for owner, text in self.marks if not sees(actor, owner)}

    def found_in(self, text: str) -> set[str]:
        """The markers and ids that ``text`` contains (to intersect with secrets_for)."""
        text = text.lower()
        found = set(MARKER_RE.findall(text)) | set(UUID_RE.findall(text))
        return found | {str(uuid.UUID(h)) for h in HEX_RE.findall(text)}

    def owner_user(self, owner: str) -> User | None:
        name = OWNERS[owner]
        return self.users[name] if name else None

    def actor_of(self, owner: str) -> Any:
        user = self.owner_user(owner)
        return self.factory.actor(user) if user else SYSTEM_ACTOR

    # -- fresh targets --

    def make(self, kind: str, owner: str) -> dict[str, Any]:
        """A new record of ``kind`` owned by ``owner``: the ids a path or body names."""
        self.session.commit()  # end any read: on SQLite a stale snapshot cannot write
        ids = MAKERS[kind](self, owner)
        self.session.commit()
        return ids


def _crm(kind: str) -> Callable[[World, str], dict[str, Any]]:
    def make(world: World, owner: str) -> dict[str, Any]:
        word, user, f = world.marker(owner), world.owner_user(owner), world.factory
        if kind == "account":
            record = f.account(owner=user, name=f"Account {word}", domain=f"{word}.example")
        elif kind == "contact":
            record = f.contact(owner=user, last_name=f"Person {word}", email=f"{word}@example.org")
        elif kind == "lead":
            record = f.lead(owner=user, last_name=f"Lead {word}", email=f"lee@{word}.example", company=f"Co {word}")
        elif kind == "deal":
            record = f.deal(owner=user, name=f"Deal {word}", stage_id=world.shared["stages"][0].id)
        elif kind == "activity":
            record = f.activity(owner=user, subject=f"Call {word}", contact_id=_crm("contact")(world, owner)["contact_id"])
        else:
            record = f.task(owner=user, title=f"Task {word}")
        world.mark(owner, record.id, word)
        return {"record_id": record.id, f"{kind}_id": record.id}

    return make


def _deal_with_contact(world: World, owner: str) -> dict[str, Any]:
    deal, contact = _crm("deal")(world, owner), _crm("contact")(world, owner)
    deal_service.add_contact(world.session, deal["deal_id"], contact["contact_id"], role=None, actor=SYSTEM_ACTOR)
    return {**deal, "contact_id": contact["contact_id"]}


def _notification(world: World, owner: str) -> dict[str, Any]:
    """A notification of the owner's user; "unowned": the admin's."""
    word, user = world.marker(owner), world.owner_user(owner) or world.users["admin"]
    notification_id = notify(world.session, user.id, "workflow", f"Notification {word}", key=word)
    world.mark(owner, notification_id, word)
    return {"notification_id": notification_id}


def _saved_view(world: World, owner: str) -> dict[str, Any]:
    word = world.marker(owner)
    view = saved_view_service.create(world.session, {"name": f"View {word}", "record_type": "contact"},
                                     actor=world.actor_of(owner))
    world.mark(owner, view.id, word)
    return {"view_id": view.id}


def _workflow(world: World, owner: str, *, activate: bool = False) -> dict[str, Any]:
    word = world.marker(owner)
    actor = world.actor_of(owner)
    workflow = workflow_service.create(world.session, name=f"Workflow {word}", definition=WORKFLOW, actor=actor)
    world.mark(owner, workflow.id, word)
    if activate:
        workflow_service.activate(world.session, workflow.id, actor=SYSTEM_ACTOR)
    return {"workflow_id": workflow.id}


def _workflow_enrollment(world: World, owner: str) -> dict[str, Any]:
    """A contact of ``owner`` enrolled in the shared (admin's) workflow."""
    contact = _crm("contact")(world, owner)
    workflow_id = world.shared["workflow_id"]
    [result] = workflow_service.enroll_records(world.session, workflow_id, [contact["contact_id"]], actor=SYSTEM_ACTOR)
    world.mark(owner, result.enrollment.id)
    return {"enrollment_id": result.enrollment.id, "workflow_id": workflow_id, "record_id": contact["contact_id"],
            "contact_id": contact["contact_id"]}


def _sequence(world: World, owner: str) -> dict[str, Any]:
    word = world.marker(owner)
    sequence = sequence_service.create(world.session, data=email_sequence(f"Sequence {word}"), actor=world.actor_of(owner))
    world.session.flush()
    step_id = sequence_service.steps(world.session, sequence.id)[0].id
    return {"sequence_id": sequence.id, "step_id": step_id}


def _sequence_enrollment(world: World, owner: str) -> dict[str, Any]:
    """A contact of ``owner`` enrolled in the shared live sequence."""
    contact = _crm("contact")(world, owner)
    sequence_id = world.shared["sequence_id"]
    enrollment = sequence_service.enroll(world.session, sequence_id=sequence_id, contact_id=contact["contact_id"],
                                         actor=SYSTEM_ACTOR)
    world.mark(owner, enrollment.id)
    return {"enrollment_id": enrollment.id, "sequence_id": sequence_id, "contact_id": contact["contact_id"]}


def _lead_import(world: World, owner: str) -> dict[str, Any]:
    word = world.marker(owner)
    world.session.commit()
    row = f"row{next(_n)}"  # an imported lead is unowned (the shared queue): not a secret
    csv = f"first_name,last_name,email\nImp,Lead {row},{row}@import.example\n".encode()
    response = world.client.post("/api/v1/lead-imports", headers=world.headers[OWNERS[owner]],
                                 files={"file": (f"{word}.csv", csv, "text/csv")})
    assert response.status_code == 201, response.text
    import_id = response.json()["id"]
    world.mark(owner, import_id, word)
    return {"import_id": import_id}


def _record_import(world: World, owner: str) -> dict[str, Any]:
    """A finished import of one contact, by the owner's user (its file name is the secret)."""
    word = world.marker(owner)
    world.session.commit()
    row = f"row{next(_n)}"
    csv = f"Last name,Email\nPort {row},{row}@import.example\n".encode()
    response = world.client.post("/api/v1/contacts/import", headers=world.headers[OWNERS[owner]],
                                 files={"file": (f"{word}.csv", csv, "text/csv")})
    assert response.status_code == 202, response.text
    jobs.wait_for(uuid.UUID(response.json()["job_id"]))
    import_id = response.json()["id"]
    world.mark(owner, import_id, word)
    return {"import_id": import_id, "record_import_id": import_id}  # the API's name and the web page's


def _job(world: World, owner: str) -> dict[str, Any]:
    """A finished background job started by the owner's user ("unowned": by nobody, for admins only)."""
    word = world.marker(owner)
    job = jobs.start(world.session, kind="lead_import", title=f"Import of {word}.csv", actor=world.actor_of(owner))
    job.status = "done"
    world.session.flush()
    world.mark(owner, job.id, word)
    return {"job_id": job.id}


def _duplicate_pair(world: World, owner: str) -> dict[str, Any]:
    first, second = _crm("lead")(world, owner), _crm("lead")(world, owner)
    pair = DuplicateCandidate(record_type="lead", record_id=first["lead_id"], candidate_type="lead",
                              candidate_id=second["lead_id"], score=0.9, reason="same name")
    world.session.add(pair)
    world.session.flush()
    return {"candidate_id": pair.id, "lead_id": first["lead_id"], "merged_id": second["lead_id"]}


def _template(world: World, owner: str) -> dict[str, Any]:
    word = world.marker(owner)
    template = template_service.create(world.session, data={"name": f"Template {word}", "subject": "Hi", "body_html": "<p>Hi</p>"},
                                       actor=world.actor_of(owner))
    return {"template_id": template.id}


def _token(world: World, owner: str) -> dict[str, Any]:
    token, _secret = token_service.create(world.session, user=world.owner_user(owner), name="matrix")
    world.mark(owner, token.id)
    return {"token_id": token.id}


def _webhook_endpoint(world: World, owner: str) -> dict[str, Any]:
    """An endpoint (the company's, managed by admins) with one test ping in its log. It takes
    no event of the world and its ping counts as delivered, so a worker run by a later
    operation sends nothing to its (unresolvable) host."""
    from pipewise.integrations.webhooks import service as webhooks
    from pipewise.integrations.webhooks.models import WebhookMessage

    endpoint, _secret = webhooks.create(world.session, {"url": "https://hooks.example.com/in",
                                                        "event_types": ["matrix.nothing"]}, actor=SYSTEM_ACTOR)
    message_id = webhooks.ping(world.session, endpoint.id, actor=SYSTEM_ACTOR)
    world.session.flush()
    world.session.get(WebhookMessage, message_id).status = "delivered"  # type: ignore[union-attr]
    return {"endpoint_id": endpoint.id, "message_id": message_id}


def _manual_step_task(world: World, owner: str) -> dict[str, Any]:
    """The task a manual e-mail step gives the sender of ``owner``'s contact."""
    from pipewise.sequences.models import Enrollment
    from pipewise.worker.runner import Worker

    step = {"kind": "manual_email", "delay_days": 0, "business_days": False,
            "variants": [{"label": "A", "subject": "Personal note", "body_html": "<p>Hi</p>"}]}
    sequence = sequence_service.create(world.session, data={"name": f"Manual {world.marker(owner)}", "steps": [step]},
                                       actor=SYSTEM_ACTOR)
    sequence_service.activate(world.session, sequence.id, actor=SYSTEM_ACTOR)
    contact = _crm("contact")(world, owner)
    enrollment = sequence_service.enroll(world.session, sequence_id=sequence.id, contact_id=contact["contact_id"],
                                         actor=SYSTEM_ACTOR)
    world.session.commit()
    Worker(name="matrix").run_until_idle()
    world.session.expire_all()
    task_id = world.session.get(Enrollment, enrollment.id).waiting_task_id
    assert task_id is not None, "the manual step made no task"
    world.mark(owner, task_id)
    return {"task_id": task_id}


def _paused(kind: str) -> Callable[[World, str], dict[str, Any]]:
    def make(world: World, owner: str) -> dict[str, Any]:
        ids = MAKERS[kind](world, owner)
        if kind == "workflow_enrollment":
            workflow_service.pause_enrollment(world.session, ids["enrollment_id"], actor=SYSTEM_ACTOR, reason="held")
        else:
            sequence_service.pause(world.session, ids["enrollment_id"], actor=SYSTEM_ACTOR, reason="held")
        return ids

    return make


def _workflow_in_state(state: str) -> Callable[[World, str], dict[str, Any]]:
    def make(world: World, owner: str) -> dict[str, Any]:
        word, actor = world.marker(owner), world.actor_of(owner)
        workflow = workflow_service.create(world.session, name=f"Workflow {word}", definition=WORKFLOW, actor=actor,
                                           requires_approval=state == "pending")
        world.mark(owner, workflow.id, word)
        if state == "pending":
            workflow_service.activate(world.session, workflow.id, actor=actor)
        else:
            workflow_service.activate(world.session, workflow.id, actor=SYSTEM_ACTOR)
        if state == "paused":
            workflow_service.pause(world.session, workflow.id, actor=SYSTEM_ACTOR, reason="held")
        return {"workflow_id": workflow.id}

    return make


def _live_sequence(world: World, owner: str) -> dict[str, Any]:
    ids = _sequence(world, owner)
    sequence_service.activate(world.session, ids["sequence_id"], actor=SYSTEM_ACTOR)
    return ids


def _with_contact(shared: str) -> Callable[[World, str], dict[str, Any]]:
    """The shared live workflow or sequence, and a contact of ``owner`` to put in it."""

    def make(world: World, owner: str) -> dict[str, Any]:
        contact = _crm("contact")(world, owner)
        return {**contact, f"{shared}_id": world.shared[f"{shared}_id"]}

    return make


def _deal_and_contact(world: World, owner: str) -> dict[str, Any]:
    contact = _crm("contact")(world, owner)
    return {**_crm("deal")(world, owner), "contact_id": contact["contact_id"]}


def _suppression(world: World, owner: str) -> dict[str, Any]:
    from pipewise.mail.suppression import suppress

    address = f"{world.marker(owner)}@suppressed.example"
    suppress(world.session, address, reason="manual")
    return {"address": address}


def _training(world: World, owner: str) -> dict[str, Any]:
    from pipewise.scoring.training import request_training

    return {"training_id": request_training(world.session, actor=SYSTEM_ACTOR).id}


def _email_message(world: World, owner: str) -> dict[str, Any]:
    """An e-mail to a contact of ``owner``, sent as that contact's owner."""
    contact = _crm("contact")(world, owner)
    message = sequence_service.send_email(world.session, contact_id=contact["contact_id"], subject="Hello",
                                          body_html="<p>Hello</p>", actor=SYSTEM_ACTOR, kind="manual")
    world.session.flush()
    world.mark(owner, message.id)
    return {"message_id": message.id}


def _mail_address(world: World, owner: str) -> dict[str, Any]:
    from pipewise.mail.senders import sender_address_service

    word = world.marker(owner)
    row = sender_address_service.request(world.session, address=f"{word}@sender.example",
                                         user_id=world.owner_user(owner).id, actor=SYSTEM_ACTOR)
    world.session.flush()
    world.mark(owner, row.id, word)
    return {"address_id": row.id}


def _reference(kind: str) -> Callable[[World, str], dict[str, Any]]:
    """Shared reference data: one fresh row of it (``owner`` does not apply)."""

    def make(world: World, owner: str) -> dict[str, Any]:
        s, word = world.session, world.marker("unowned")
        if kind == "product":
            row = product_service.create(s, data={"sku": word, "name": f"Seat {word}", "price": Decimal("10")}, actor=SYSTEM_ACTOR)
        elif kind == "pipeline":
            row = world.factory.pipeline(name=f"Pipeline {word}")[0]
        elif kind == "stage":
            row = world.factory.pipeline(name=f"Pipeline {word}")[1][0]
        elif kind == "custom_field":
            from pipewise.records.field_definitions import custom_field_service

            row = custom_field_service.create(
                s, data={"record_type": "deal", "key": word, "label": f"Field {word}", "field_type": "text"}, actor=SYSTEM_ACTOR)
        elif kind == "user":
            row = world.factory.user(role="rep", name=f"User {word}", email=f"{word}@staff.example", password=None)
        elif kind == "team":
            row = world.factory.team(f"Team {word}")
        elif kind == "lead_form":
            row = capture.create_form(s, {"name": f"Form {word}", "field_map": {"email": "email", "name": "full_name"}},
                                      actor=SYSTEM_ACTOR)
        elif kind == "routing_rule":
            row = routing.create_rule(s, {"name": f"Rule {word}", "target_type": "user", "user_id": world.users["east_rep"].id},
                                      actor=SYSTEM_ACTOR)
        else:
            raise KeyError(kind)
        s.flush()
        return {"record_id": row.id, f"{kind}_id": row.id, "form_id": row.id, "rule_id": row.id,
                "form_key": getattr(row, "key", None)}

    return make


MAKERS: dict[str, Callable[[World, str], dict[str, Any]]] = {
    **{kind: _crm(kind) for kind in ("account", "contact", "lead", "deal", "activity", "task")},
    **{kind: _reference(kind) for kind in
       ("product", "pipeline", "stage", "custom_field", "user", "team", "lead_form", "routing_rule")},
    "deal_contact": _deal_with_contact,
    "saved_view": _saved_view,
    "notification": _notification,
    "workflow": _workflow,
    "live_workflow": lambda world, owner: _workflow(world, owner, activate=True),
    "workflow_enrollment": _workflow_enrollment,
    "sequence": _sequence,
    "sequence_enrollment": _sequence_enrollment,
    "lead_import": _lead_import,
    "record_import": _record_import,
    "job": _job,
    "duplicate": _duplicate_pair,
    "template": _template,
    "token": _token,
    "webhook_endpoint": _webhook_endpoint,
    "manual_step_task": _manual_step_task,
    "paused_workflow_enrollment": _paused("workflow_enrollment"),
    "paused_sequence_enrollment": _paused("sequence_enrollment"),
    "pending_workflow": _workflow_in_state("pending"),
    "paused_workflow": _workflow_in_state("paused"),
    "live_sequence": _live_sequence,
    "workflow_and_contact": _with_contact("workflow"),
    "sequence_and_contact": _with_contact("sequence"),
    "shared_workflow": lambda world, owner: {"workflow_id": world.shared["workflow_id"]},
    "deal_and_contact": _deal_and_contact,
    "suppression": _suppression,
    "training": _training,
    "email_message": _email_message,
    "mail_address": _mail_address,
}


def build_world(session: Session, factory: Factory, client: TestClient) -> World:
    world = World(session=session, factory=factory, client=client)
    east, west = factory.team("East"), factory.team("West")
    world.teams = {"East": east, "West": west}
    world.users["admin"] = factory.user(role="admin", name="Ada Admin", password=None)
    for name, role, team in (("east_manager", "manager", east), ("east_rep", "rep", east),
                             ("west_rep", "rep", west), ("west_manager", "manager", west)):
        password = PASSWORD if name in WEB_USERS else None  # hashing one takes long: only who logs in
        world.users[name] = factory.user(role=role, team=team, name=name.replace("_", " ").title(), password=password)
    east.manager_id, west.manager_id = world.users["east_manager"].id, world.users["west_manager"].id
    session.flush()
    pipeline, stages = factory.pipeline()
    world.shared.update(pipeline=pipeline, stages=stages)
    world.shared["workflow_id"] = _workflow(world, "unowned", activate=True)["workflow_id"]
    sequence = sequence_service.create(session, data=email_sequence("Shared sequence"), actor=SYSTEM_ACTOR)
    sequence_service.activate(session, sequence.id, actor=SYSTEM_ACTOR)
    world.shared["sequence_id"] = sequence.id
    session.commit()
    world.headers = {name: factory.headers(user) for name, user in world.users.items()}
    # Records of every kind that lists show, so each list has something to leak.
    for owner in OWNERS:
        world.base[owner] = {kind: world.make(kind, owner) for kind in BASE_KINDS}
        if OWNERS[owner]:
            world.base[owner].update({kind: world.make(kind, owner) for kind in USER_KINDS})
    enrollment = world.base["foreign"]["workflow_enrollment"]["enrollment_id"]
    workflow_service.pause_enrollment(session, enrollment, actor=SYSTEM_ACTOR, reason="held for review")
    session.commit()
    return world


BASE_KINDS = ("account", "contact", "lead", "deal_contact", "activity", "task", "workflow_enrollment",
              "sequence_enrollment", "duplicate")
USER_KINDS = ("saved_view", "lead_import", "email_message", "mail_address")


def nonexistent(world: World, ids: dict[str, Any]) -> dict[str, Any]:
    """The same ids, with each one of an owned record replaced by one that names nothing."""
    marked = {text for owner, text in world.marks if owner != "unowned"}
    fake: dict[str, Any] = {}
    for key, value in ids.items():
        if isinstance(value, int):
            fake[key] = 10**9 + next(_n)
        elif str(value).lower() in marked:
            fake[key] = uuid.uuid4() if isinstance(value, uuid.UUID) or _is_uuid(str(value)) else f"zqnone{next(_n)}z"
        else:
            fake[key] = value
    return fake


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True

# The quotes domain's records (quotes, line items, approvals, the catalogue), kept beside its tests.
from tests.quotes.matrix_world import MAKERS as QUOTE_MAKERS  # noqa: E402

MAKERS.update(QUOTE_MAKERS)
BASE_KINDS += ("quote",)

def _booking_page(world: World, owner: str) -> dict[str, Any]:
    from pipewise.meetings import service as meeting_service

    word = world.marker(owner)
    user = world.owner_user(owner) or world.users["admin"]
    page = meeting_service.create_page(world.session, {"slug": f"p-{uuid.uuid4().hex[:12]}", "title": f"Page {word}",
                                                       "hosts": [{"user_id": user.id}]}, actor=world.factory.actor(user))
    world.mark(owner, page.id, word)
    return {"page_id": page.id, "slug": page.slug}


def _meeting(world: World, owner: str) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    from pipewise.meetings import links
    from pipewise.meetings.models import Meeting

    ids = _booking_page(world, owner)
    user = world.owner_user(owner) or world.users["admin"]
    word = world.marker(owner)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=400, hours=next(_n))
    meeting = Meeting(host_id=user.id, page_id=ids["page_id"], title=f"Meeting {word}", start_at=start,
                      end_at=start + timedelta(minutes=30), uid=f"{uuid.uuid4()}@pipewise", nonce=uuid.uuid4().hex[:16])
    world.session.add(meeting)
    world.session.flush()
    world.mark(owner, meeting.id, word)
    return {"meeting_id": meeting.id, "token": links.token(meeting)}


def _public(make: Callable[[World, str], dict[str, Any]]) -> Callable[[World, str], dict[str, Any]]:
    """The same record reached by its public address (a page's slug, a meeting's signed
    link): whoever holds that address sees what the page shows, so nothing is a secret."""

    def made(world: World, owner: str) -> dict[str, Any]:
        count = len(world.marks)
        ids = make(world, owner)
        del world.marks[count:]
        return ids

    return made


MAKERS.update({"booking_page": _booking_page, "meeting": _meeting,
               "public_booking_page": _public(_booking_page), "meeting_link": _public(_meeting)})
