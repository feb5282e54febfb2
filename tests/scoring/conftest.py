import pytest

from pipewise.handlers import register_all


@pytest.fixture(autouse=True, scope="session")
def subscribers_registered():
    """The worker in these tests runs the same subscribers as `pipewise worker`."""
    register_all()
