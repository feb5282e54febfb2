"""Property-based fuzzing of the whole API: for every operation of the OpenAPI document,
schemathesis generates requests that fit the schema (and, half the time, name real
records of the seeded world), sent in-process as an admin. No answer may be a server error.

Two seeds run: a fixed one, and one that changes every day (or PIPEWISE_FUZZ_SEED); both
are printed, so a failure can be replayed with ``PIPEWISE_FUZZ_SEED=<seed>``. The size is
bounded by PIPEWISE_FUZZ_EXAMPLES per operation and seed."""

import os
import traceback
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.security.operations import OPERATIONS, api_operations, documented_operations, op_for
from tests.security.world import World

FIXED_SEED = 20261202
ROTATING_SEED = int(os.environ.get("PIPEWISE_FUZZ_SEED") or date.today().toordinal())
EXAMPLES = int(os.environ.get("PIPEWISE_FUZZ_EXAMPLES", "5"))
BASE_URL = "http://testserver"

pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="module")
def fuzz(world: World) -> Any:
    print(f"\nfuzzing with seeds {FIXED_SEED} and {ROTATING_SEED} (replay: PIPEWISE_FUZZ_SEED={ROTATING_SEED})")
    schema = schemathesis.openapi.from_dict(world.client.app.openapi())
    return schema, TestClient(world.client.app, raise_server_exceptions=True)


def send(client: TestClient, case: Any, headers: dict[str, str]) -> tuple[int, str]:
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    kwargs.pop("cookies", None)
    kwargs["url"] = kwargs["url"].removeprefix(BASE_URL)
    kwargs["headers"] = {**kwargs.get("headers", {}), **headers}
    data = kwargs.pop("data", None)
    if isinstance(data, (bytes, str)):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    try:
        response = client.request(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the app raised: report where
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/pipewise/" in f.filename]
        where = f"{frames[-1].filename.split('/pipewise/')[-1]}:{frames[-1].lineno}" if frames else "?"
        return 500, f"{type(exc).__name__}: {str(exc)[:200]} at {where}"
    return response.status_code, response.text[:300]


def describe(case: Any) -> str:
    body = case.body if not isinstance(case.body, (bytes, str)) else repr(case.body[:200])
    return f"path={case.path_parameters} query={case.query} body={str(body)[:300]}"


@pytest.mark.parametrize("key", documented_operations(), ids=lambda key: f"{key[0]} {key[1]}")
def test_no_input_makes_a_server_error(world, fuzz, key):
    schema, client = fuzz
    method, path = key
    op = op_for(key)
    real = world.make(op.target, op.owner_variants()[0]) if op.target else {}
    headers = world.headers["admin"]
    failures: list[str] = []

    @given(data=st.data())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(data: Any) -> None:
        case = data.draw(schema[path][method].as_strategy())
        if real and data.draw(st.booleans()):
            case.path_parameters = {**(case.path_parameters or {}),
                                    **{k: str(v) for k, v in real.items() if k in (case.path_parameters or {})}}
        world.session.commit()
        status, text = send(client, case, headers)
        if status >= 500:
            failures.append(f"{status} {describe(case)} -> {text}")

    for value in (FIXED_SEED, ROTATING_SEED):
        seed(value)(run)()
    assert failures == [], f"{method} {path} (seeds {FIXED_SEED}, {ROTATING_SEED}):\n" + "\n".join(failures[:5])


def test_every_operation_is_fuzzed(world):
    assert sorted(set(api_operations(world.client.app)) - set(OPERATIONS)) == []
