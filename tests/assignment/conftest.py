import pytest

from pipewise import domains


@pytest.fixture(autouse=True, scope="session")
def subscribers_registered():
    """The worker in these tests runs the same subscribers as `pipewise worker`."""
    domains.load()
