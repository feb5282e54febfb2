"""Console output for the CLI: results on stdout, messages and errors on stderr."""

from rich.console import Console
from sqlalchemy.exc import DBAPIError

from pipewise.errors import PipewiseError

# soft_wrap: long messages stay one line, so they read well in logs and pipes.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def report_error(exc: PipewiseError) -> None:
    if len(exc.errors) <= 1:
        err.print(f"[bold red]Error:[/] {exc.detail}")
        return
    err.print(f"[bold red]Error:[/] {exc.title.lower()}:")
    for field_error in exc.errors:
        err.print(f"  [red]{field_error.field}[/]: {field_error.message}")


def report_database_error(exc: DBAPIError) -> None:
    reason = str(exc.orig).strip() if exc.orig is not None else str(exc)
    if "no such table" in reason or "does not exist" in reason:
        err.print(f"[bold red]Error:[/] the database is not set up yet ({reason}); run [bold]pipewise db upgrade[/]")
    else:
        err.print(f"[bold red]Error:[/] the database refused the request: {reason}")
