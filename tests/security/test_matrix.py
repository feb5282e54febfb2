"""The authorization matrix: every API operation of the OpenAPI document, called with valid
input by each of five people (an admin; the manager and a rep of team East; a rep and the
manager of team West) on a record owned by the East rep, by the West rep, or by nobody.

Each call is checked on what comes back, not only its status: no response carries the id
or name of a record its caller may not see; a record the caller may not see answers
exactly as an id that names nothing would (404 when the id is in the path); people may
call what their role allows and nothing else. The web pages that show records are
checked for other teams' names the same way."""

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.security.operations import (
    ALLOW,
    FORBIDDEN,
    HIDDEN,
    OPERATIONS,
    Call,
    Op,
    api_operations,
    documented_operations,
    op_for,
    owner_and_managers_see,
    owner_only,
    url_for,
    visible,
)
from tests.security.world import ACTORS, OWNERS, PASSWORD, World, nonexistent

# kind of a list -> (base record of the world, its id key, who may see it)
LIST_SOURCES = {
    "account": ("account", "account_id", visible),
    "contact": ("contact", "contact_id", visible),
    "lead": ("lead", "lead_id", visible),
    "deal": ("deal_contact", "deal_id", visible),
    "activity": ("activity", "activity_id", visible),
    "task": ("task", "task_id", visible),
    "workflow_enrollment": ("workflow_enrollment", "enrollment_id", visible),
    "sequence_enrollment": ("sequence_enrollment", "enrollment_id", visible),
    "duplicate": ("duplicate", "lead_id", visible),
    "saved_view": ("saved_view", "view_id", lambda actor, owner: ALLOW if actor == OWNERS[owner] else HIDDEN),
    "lead_import": ("lead_import", "import_id", owner_and_managers_see),
    "email_message": ("email_message", "message_id", visible),
    "mail_address": ("mail_address", "address_id", owner_only),
    "quote": ("quote", "quote_id", visible),
}
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}", re.I)


def request(api: Any, world: World, key: tuple[str, str], op: Op, actor: str, ids: dict[str, Any]) -> Any:
    method, path = key
    kwargs = op.body(Call(world, ids, actor)) if op.body else {}
    headers = {**world.headers[actor], **kwargs.pop("headers", {})}
    world.session.commit()  # the world's reads end before the app writes
    return api.request(method, url_for(path, ids), headers=headers, **kwargs)


def normalized(response: Any) -> tuple[int, str]:
    """Status and body with ids and numbers blanked, to compare two refusals."""
    return response.status_code, re.sub(r"\d+", "N", UUID_RE.sub("<id>", response.text))


def leaks(world: World, actor: str, response: Any, asked: dict[str, Any], *, echo: bool = False) -> list[str]:
    found = world.found_in(response.text) & world.secrets_for(actor)
    if echo or response.status_code >= 400:  # a refusal may repeat the id that was asked for
        found -= {str(v).lower() for v in asked.values()}
    return sorted(found)


def missing_from_list(world: World, op: Op, actor: str, response: Any) -> list[str]:
    base_kind, id_key, rule = LIST_SOURCES[op.lists]  # type: ignore[index]
    expected = [str(world.base[o][base_kind][id_key]) for o in OWNERS
                if base_kind in world.base[o] and rule(actor, o) == ALLOW]
    return [i for i in expected if i not in response.text]


def check_cell(api: Any, world: World, key: tuple[str, str], op: Op, actor: str, owner: str) -> list[str]:
    ids = world.make(op.target, owner) if op.target else {}
    verdict = op.rule(actor, owner if owner in OWNERS else "unowned")
    response = request(api, world, key, op, actor, ids)
    status = response.status_code
    cell = f"{actor} on {owner}: {status} {response.text[:300]}"
    problems = [f"{cell} -> leaks {found}" for found in [leaks(world, actor, response, ids, echo=op.echoes)] if found]
    if verdict == ALLOW:
        if status not in op.ok:
            problems.append(f"{cell} -> expected one of {op.ok}")
        elif op.lists and (absent := missing_from_list(world, op, actor, response)):
            problems.append(f"{cell} -> the list lacks records its caller may see: {absent}")
    elif verdict == HIDDEN:
        fake = request(api, world, key, op, actor, nonexistent(world, ids))
        named_in_path = any(f"{{{name}}}" in key[1] and str(value).lower() in world.secrets_for(actor)
                            for name, value in ids.items())
        if named_in_path and status != 404:
            problems.append(f"{cell} -> a record the caller may not see must answer 404")
        if normalized(response) != normalized(fake):
            problems.append(f"{cell} -> differs from an id that names nothing: {fake.status_code} {fake.text[:200]}")
    elif status not in ((401, 403) if owner == "-" and key[1].endswith("/inbound/email") else (403, 404)):
        problems.append(f"{cell} -> expected a refusal (403, or 404)")
    if status >= 500:
        problems.append(f"{cell} -> server error")
    return problems


def test_every_operation_is_in_the_matrix(world):
    documented = set(api_operations(world.client.app))
    assert sorted(documented - set(OPERATIONS)) == [], "add these operations to tests/security/operations.py"


@pytest.mark.parametrize("key", documented_operations(), ids=lambda key: f"{key[0]} {key[1]}")
def test_operation(world, key):
    op = op_for(key)
    problems = [p for owner in op.owner_variants() for actor in ACTORS
                for p in check_cell(world.client, world, key, op, actor, owner)]
    assert problems == [], f"{key[0]} {key[1]}:\n" + "\n".join(problems)


def test_a_rep_without_a_team_sees_only_their_own_and_unowned(world):
    loner = world.factory.user(role="rep", name="Lone Rep", password=None)
    headers = world.factory.headers(loner)
    secrets = {text for owner, text in world.marks if owner != "unowned"}
    for kind in ("account", "contact", "lead", "deal", "activity", "task"):
        base_kind, id_key, _rule = LIST_SOURCES[kind]
        body = world.client.get(f"/api/v1/{kind_plural(kind)}", params={"limit": 500}, headers=headers).text
        assert world.found_in(body) & secrets == set(), kind
        assert str(world.base["unowned"][base_kind][id_key]) in body, kind


def kind_plural(kind: str) -> str:
    return "activities" if kind == "activity" else kind + "s"


def test_open_read_access_lets_reps_read_but_not_change(world, monkeypatch):
    api = world.client
    from pipewise.config import get_settings

    monkeypatch.setattr(get_settings(), "open_read_access", True)
    account_id = world.base["own"]["account"]["account_id"]
    west = world.headers["west_rep"]
    assert api.get(f"/api/v1/accounts/{account_id}", headers=west).status_code == 200
    assert api.patch(f"/api/v1/accounts/{account_id}", json={"name": "Mine"}, headers=west).status_code == 403
    assert api.delete(f"/api/v1/accounts/{account_id}", headers=west).status_code == 403


# -- web pages --

WEB_TARGETS = {  # a page's path parameter -> kind of record it names
    "record_id": None,  # by the page's prefix, see web_kind()
    "workflow_id": "workflow",
    "sequence_id": "sequence",
    "import_id": "lead_import",
    "record_import_id": "record_import",
    "job_id": "job",
    "pipeline_id": "pipeline",
    "step_id": "sequence",
    "name": None,
    "kind": "lookup",
    "deal_id": "deal",
    "quote_id": "quote",
    "page_id": "booking_page",
    "slug": "public_booking_page",
    "token": "meeting_link",
    "meeting_id": "meeting",
    "endpoint_id": "webhook_endpoint",
}
LOOKUP_KINDS = ("account", "contact")  # pickers' look-ups of owned records
WEB_PREFIX_KINDS = {"/accounts": "account", "/contacts": "contact", "/leads": "lead", "/deals": "deal",
                    "/activities": "activity", "/tasks": "task", "/orders": "order", "/invoices": "invoice"}


def routes(items: Any) -> Any:
    """Every APIRoute, also inside included routers."""
    for route in items:
        if hasattr(route, "original_router"):
            yield from routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def web_pages(app: Any) -> list[str]:
    return sorted({r.path for r in routes(app.routes) if "GET" in r.methods and r.endpoint.__module__.startswith("pipewise.web")
                   and r.path not in ("/login", "/logout")})


def web_kind(path: str) -> str | None:
    for prefix, kind in WEB_PREFIX_KINDS.items():
        if path.startswith(prefix + "/{record_id}"):
            return kind
    names = re.findall(r"{(\w+)}", path)
    return WEB_TARGETS.get(names[0]) if names else None


def log_in(api: Any, user: Any) -> None:
    from tests.web.conftest import WebClient

    api.cookies.clear()
    assert WebClient(api).login(user, PASSWORD).status_code in (302, 303)


@pytest.mark.parametrize("actor", ["east_rep", "west_manager"])
def test_web_pages_show_no_record_of_another_team(world, actor):
    """Every page, and every page of a record of the other team (404 when it is owned)."""
    api = world.client
    log_in(api, world.users[actor])
    other = "foreign" if actor.startswith("east") else "own"
    problems = []
    for path in web_pages(api.app):
        kind = web_kind(path)
        if "{" in path and kind is None:
            continue  # a page named by something other than a record (e.g. an outbox file name)
        if kind == "lookup":
            problems += lookup_leaks(api, world, actor, other)
            continue
        ids = world.make(kind, other if kind in WEB_PREFIX_KINDS.values() or kind in ("lead_import", "record_import", "job") else "own") if kind else {}
        response = api.get(url_for(path, {"sequence_id": ids.get("sequence_id"), **ids}), follow_redirects=False)
        found = leaks(world, actor, response, ids)
        if found:
            problems.append(f"{path}: {response.status_code} leaks {found}")
        if kind in WEB_PREFIX_KINDS.values() and response.status_code != 404:
            problems.append(f"{path}: another team's {kind} answers {response.status_code}, not 404")
        if response.status_code >= 500:
            problems.append(f"{path}: {response.status_code}")
    assert problems == [], "\n".join(problems)


def lookup_leaks(api: Any, world: World, actor: str, other: str) -> list[str]:
    """A picker's suggestions (every record whose name has a marker), also with another
    team's record as the current value: only what the user may see (the chosen id echoed)."""
    problems = []
    for kind in LOOKUP_KINDS:
        ids = world.make(kind, other)
        response = api.get(f"/web/lookup/{kind}", params={"q": "zq", "limit": 50, "selected": str(ids["record_id"])})
        if found := leaks(world, actor, response, ids, echo=True):
            problems.append(f"/web/lookup/{kind}: {response.status_code} leaks {found}")
    return problems


def test_web_pages_are_all_reached(world):
    """A page the test above skips must name something other than a record."""
    skipped = [p for p in web_pages(world.client.app) if "{" in p and web_kind(p) is None]
    # The calendar feed is named by its signed key (tests/crm/test_tasks.py forges one); a
    # hosted form by its public key.
    assert skipped == ["/calendar/feed/{key}.ics", "/f/{form_key}", "/f/{form_key}/thanks", "/mail/outbox/{name}"], skipped
