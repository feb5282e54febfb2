import pytest

from tests.billing.builders import Company, company


@pytest.fixture
def co(session, factory) -> Company:  # type: ignore[no-untyped-def]
    return company(session, factory)


from tests.cli.conftest import cli  # noqa: E402,F401 - `pipewise billing …` in-process
