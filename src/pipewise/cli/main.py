"""The `pipewise` command. Each sub-command is a thin adapter over the services; domain
errors become a red message and a non-zero exit status, never a traceback."""

from typing import Any

import click
import typer
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from pipewise import __version__
from pipewise.cli import demo, leads, people, server, setup
from pipewise.cli.mail import mail_app
from pipewise.cli.scoring import scoring_app
from pipewise.cli.sequences import sequences_app
from pipewise.cli.workflows import workflows_app
from pipewise.cli.output import report_database_error, report_error
from pipewise.errors import PipewiseError


class PipewiseGroup(TyperGroup):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PipewiseError as exc:
            report_error(exc)
            raise typer.Exit(1) from None
        except DBAPIError as exc:
            report_database_error(exc)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=PipewiseGroup,
    help="Pipewise: sales CRM and automation that follows the deal.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"pipewise {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True, help="Show the version."),
) -> None:
    """Configuration comes from PIPEWISE_* environment variables (or a .env file)."""


app.add_typer(setup.db_app, name="db")
app.command()(setup.init)
app.command()(server.serve)
app.command()(server.worker)
app.command()(demo.demo)
app.add_typer(people.users_app, name="users")
app.add_typer(people.token_app, name="token")
app.add_typer(workflows_app, name="workflows")
app.add_typer(leads.import_app, name="import")
app.add_typer(leads.dedupe_app, name="dedupe")
app.add_typer(scoring_app, name="scoring")
app.add_typer(mail_app, name="mail"); app.add_typer(sequences_app, name="sequences")

if __name__ == "__main__":
    app()
