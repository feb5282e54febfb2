"""Walks the OpenAPI document: every documented operation is called at least once, as an
admin, with valid input (tests/security/operations.py holds the input), and must succeed:
a 2xx, or one of the few 4xx an operation lists with the reason (a state the table cannot
reach). A route that another route shadows, or that no longer takes what it documents,
fails here."""

import time

import pytest

from pipewise.config import get_settings
from pipewise.mail import gateway
from tests.security.conftest import clean_database, world  # noqa: F401 - fixtures
from tests.security.operations import OPERATIONS, Call, api_operations, documented_operations, gateway_only, op_for
from tests.security.test_matrix import request


def test_the_walk_covers_the_document(world):  # noqa: F811
    assert sorted(set(api_operations(world.client.app)) - set(OPERATIONS)) == []


def test_listed_refusals_say_why():
    assert [key for key, op in OPERATIONS.items() if any(s >= 400 for s in op.ok) and not op.why] == []


@pytest.mark.parametrize("key", documented_operations(), ids=lambda key: f"{key[0]} {key[1]}")
def test_operation_works_with_valid_input(world, key, monkeypatch):  # noqa: F811
    op = op_for(key)
    ids = world.make(op.target, op.owner_variants()[0]) if op.target else {}
    if op.rule is gateway_only:  # the mail gateway signs the raw message with its secret
        monkeypatch.setattr(get_settings(), "inbound_secret", "gateway-secret")
        body = op.body(Call(world, ids, "admin"))["content"]  # type: ignore[misc]
        signature = gateway.sign("gateway-secret", int(time.time()), body)
        response = world.client.post(key[1], content=body, headers={gateway.SIGNATURE_HEADER: signature})
    else:
        response = request(world.client, world, key, op, "admin", ids)
    assert response.status_code in op.ok, f"{key[0]} {key[1]} -> {response.status_code} {response.text[:500]}"
