"""The `pipewise` command. Each sub-command is a thin adapter over the services; domain
errors become a red message and a non-zero exit status, never a traceback."""

import getpass
from typing import Any

import click
import typer
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from pipewise import __version__, domains
from pipewise import origin as origins
from pipewise.cli import demo, mcp, server, setup
from pipewise.cli.output import report_database_error, report_error
from pipewise.errors import PipewiseError
from pipewise.kernel import resolve


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
    origins.set_origin(origins.Origin("cli", via=f"operator {getpass.getuser()}"))


app.add_typer(setup.db_app, name="db")
app.command()(setup.init)
app.command()(server.serve)
app.command()(server.worker)
app.command()(demo.demo)
app.command()(mcp.mcp)
for command in domains.load().cli_commands:
    target = resolve(command.target)
    if isinstance(target, typer.Typer):
        app.add_typer(target, name=command.name)
    else:
        app.command(name=command.name)(target)

if __name__ == "__main__":
    app()
