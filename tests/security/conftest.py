"""Fixtures for the security tests: the two-team company of ``world.py``, built once per
module (its people's passwords alone take seconds to hash) and emptied when the module
ends. Every call the tests make works on records made fresh for it."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pipewise.db.session import get_sessionmaker
from pipewise.jobs import service as jobs
from tests.conftest import empty_all_tables, shared_app
from tests.factories import Factory
from tests.security.world import World, build_world

WORLD_FLAG = "_security_world_alive"


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest, database: str) -> Iterator[World]:
    session = get_sessionmaker()()
    setattr(request.module, WORLD_FLAG, True)
    try:
        with TestClient(shared_app()) as client:
            yield build_world(session, Factory(session), client)
    finally:
        setattr(request.module, WORLD_FLAG, False)
        session.rollback()
        session.close()
        empty_all_tables()


@pytest.fixture
def clean_database(request: pytest.FixtureRequest, database: str) -> Iterator[None]:
    """As everywhere, except that a module's world outlives each of its tests."""
    yield
    jobs.settle()  # a background job a test started ends before the next test writes
    if not getattr(request.module, WORLD_FLAG, False):
        empty_all_tables()
