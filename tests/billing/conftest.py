import pytest

from tests.billing.builders import Company, company


@pytest.fixture
def co(session, factory) -> Company:  # type: ignore[no-untyped-def]
    return company(session, factory)


from tests.e2e.conftest import browser, live_server  # noqa: E402,F401 - the browser tests of the billing pages
from tests.cli.conftest import cli  # noqa: E402,F401 - `pipewise billing …` in-process
