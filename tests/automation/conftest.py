from tests.automation.support import clock  # noqa: F401 - fixture
