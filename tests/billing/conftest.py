import pytest

from tests.billing.builders import Company, company


@pytest.fixture
def co(session, factory) -> Company:  # type: ignore[no-untyped-def]
    return company(session, factory)
