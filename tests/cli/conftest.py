import contextvars

import pytest
from typer.testing import CliRunner


@pytest.fixture
def cli():  # type: ignore[no-untyped-def]
    """Run `pipewise …` in-process against the test database; returns the click Result."""
    from pipewise.cli.main import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        # in a copy of the context: what the command sets (where work comes from) ends with it
        return contextvars.copy_context().run(runner.invoke, app, list(args), input=input)

    return invoke
