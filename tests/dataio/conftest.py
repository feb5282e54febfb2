from tests.web.conftest import web  # noqa: F401 - the logged-in browser over the test client
