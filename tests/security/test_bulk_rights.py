"""Bulk writes follow the rules of one write at a time: for every record type, every role,
on referenced records of every owner, and (for owned types) naming the East or the West
rep as the owner, a per_item ``POST /api/v1/<type>/bulk`` answers its item with the
status, detail and field errors that ``POST /api/v1/<type>`` gives the same body, and
leaks nothing of what its caller may not see. (The matrix itself calls every bulk route
in all_or_nothing mode: tests/security/operations.py.)

A module of its own: the records it makes link the teams' records across (an admin may
file a West rep's contact under an East account), which the matrix's world does not hold."""

import re
from typing import Any

import pytest

from tests.security.operations import (
    CREATE_BODIES,
    KIND_OF,
    OPERATIONS,
    REFERENCE_KINDS,
    Call,
    Op,
    bulk_of,
)
from tests.security.test_matrix import UUID_RE, leaks, request
from tests.security.world import ACTORS, OWNERS


def answer(response: Any) -> tuple[int, str, list[tuple[str, str]]]:
    """A single create's answer, or a bulk call's one item: status, detail and errors, with
    ids and numbers blanked."""
    body = response.json()
    if response.status_code == 207:
        [body] = body["items"]
    status = body["status"] if response.status_code == 207 else response.status_code
    errors = sorted((e["field"], blank(e["message"])) for e in body.get("errors") or [])
    return status, blank(body.get("detail", "")) if status >= 400 else "", errors


def blank(text: str) -> str:
    return re.sub(r"\d+", "N", UUID_RE.sub("<id>", text))


@pytest.mark.parametrize("plural", sorted(CREATE_BODIES))
def test_a_bulk_item_gets_what_a_single_create_gets(world, plural):
    op = OPERATIONS[("POST", f"/api/v1/{plural}")]
    owned = KIND_OF[plural] not in REFERENCE_KINDS
    problems = []
    for owner in op.owner_variants():
        for actor in ACTORS:
            for named in (None, "own", "foreign") if owned else (None,):
                ids = world.make(op.target, owner) if op.target else {}
                extra = {"owner_id": str(world.users[OWNERS[named]].id)} if named else {}

                def body(c: Call, extra: dict[str, str] = extra) -> dict[str, Any]:
                    return {"json": {**CREATE_BODIES[plural][1](c)["json"], **extra}}

                single = request(world.client, world, ("POST", f"/api/v1/{plural}"), Op(body=body), actor, ids)
                bulk = request(world.client, world, ("POST", f"/api/v1/{plural}/bulk"),
                               Op(body=bulk_of(body, "per_item")), actor, ids)
                cell = f"{actor} on {owner}'s, owner {named}: single {single.status_code}, bulk {bulk.text[:300]}"
                if answer(single) != answer(bulk):
                    problems.append(f"{cell} -> {answer(single)} != {answer(bulk)}")
                if found := leaks(world, actor, bulk, ids, echo=True):
                    problems.append(f"{cell} -> leaks {found}")
    assert problems == [], "\n".join(problems)
