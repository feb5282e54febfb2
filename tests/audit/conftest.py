from tests.cli.conftest import cli  # noqa: F401 - `pipewise …` in-process
from tests.web.conftest import web  # noqa: F401 - a logged-in browser over TestClient
