"""`pipewise records export TYPE` and `pipewise records import TYPE FILE`: a list as CSV or
JSON, and accounts, contacts or deals from CSV, with the rights of the person named by
`--as` (their visibility applies, as in the web pages and the API)."""

import sys
from pathlib import Path

import typer
from rich.table import Table

from pipewise.auth.visibility import Actor
from pipewise.cli.leads import _mapping as parse_mapping
from pipewise.cli.output import out
from pipewise.dataio.domain import EXPORTABLE
from pipewise.db.session import session_scope
from pipewise.errors import NotFound, ValidationFailed
from pipewise.people.service import user_service
from pipewise.records import export, import_runs
from pipewise.records.filters import conditions_from_params
from pipewise.records.import_models import RecordImport
from pipewise.records.imports import PROFILES, ImportOptions
from pipewise.records.repository import ListQuery

records_app = typer.Typer(help="Export any record list; import accounts, contacts and deals.", no_args_is_help=True)
AS_USER = typer.Option(..., "--as", help="E-mail of the person acting (their visibility and rights apply).")


def _actor(email: str) -> Actor:
    with session_scope(write=False) as session:
        return Actor.for_user(session, user_service.by_email(session, email))


def _where(pairs: list[str]) -> dict[str, str]:
    split = [pair.partition("=") for pair in pairs]
    if bad := [pair for pair, (field, sep, _) in zip(pairs, split, strict=True) if not (field and sep)]:
        raise ValidationFailed.on("--where", f"{bad[0]!r} is not FIELD=VALUE (e.g. 'industry=Software', 'amount__gte=1000')")
    return {field: value for field, _, value in split}


@records_app.command("export")
def export_records(
    record_type: str = typer.Argument(..., metavar="TYPE", help="The list: accounts, contacts, leads, deals, tasks, …"),
    as_user: str = AS_USER,
    fmt: str = typer.Option("csv", "--format", help="csv or json."),
    where: list[str] = typer.Option([], "--where", help="FIELD=VALUE or FIELD__OP=VALUE, as the API's list filters; repeatable."),
    q: str | None = typer.Option(None, "--q", help="Search, as the list's search box."),
    sort: str = typer.Option("-created_at", "--sort", help="A field; '-' first for descending."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of to the terminal."),
) -> None:
    """Every record of a list that the person may see, streamed (formula-safe CSV, or JSON)."""
    resource = EXPORTABLE.get(record_type)
    if resource is None:
        raise NotFound(f"there is no list of {record_type!r}; try one of {', '.join(sorted(EXPORTABLE))}")
    conditions = conditions_from_params(_where(where))
    query = ListQuery(filter={"all": conditions} if conditions else None, q=q, sort=sort)
    actor = _actor(as_user)
    chunks = export.export(resource.service, resource.out, query, actor, export.check_format(fmt))
    export.log_export(resource.service, query, actor, fmt)
    target = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        for chunk in chunks:
            target.write(chunk)
    finally:
        if output:
            target.close()


@records_app.command("import")
def import_records(
    record_type: str = typer.Argument(..., metavar="TYPE", help="accounts, contacts or deals."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A CSV file (UTF-8)."),
    as_user: str = AS_USER,
    map_: list[str] = typer.Option([], "--map", help="COLUMN=field, repeatable; without it, known column names map themselves."),
    on_duplicate: str = typer.Option("skip", "--on-duplicate", help="skip | update | create, for a record that exists."),
    mode: str = typer.Option("per_row", "--mode", help="per_row (good rows land) or all_or_nothing."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Try every row and write nothing."),
    sep: str = typer.Option(",", "--sep", help="Field separator: , ; | or \\t."),
    report: Path | None = typer.Option(None, "--report", help="Write the row report (every row, its problems) to this CSV."),
) -> None:
    """Import accounts, contacts or deals; every row's outcome is in the report."""
    profile = next((p for p in PROFILES.values() if record_type in (p.record_type, p.spec.plural)), None)
    if profile is None:
        raise NotFound(f"{record_type} cannot be imported here; try accounts, contacts or deals (leads: pipewise import leads)")
    options = ImportOptions(mapping=parse_mapping(map_), on_duplicate=on_duplicate, mode=mode, dry_run=dry_run,
                            delimiter="\t" if sep == "\\t" else sep)
    actor = _actor(as_user)
    with session_scope() as session:
        import_id = import_runs.start(session, profile=profile, filename=file.name, options=options, actor=actor).id
    with file.open("rb") as stream, out.status(f"Importing {file.name}…") as status:
        import_runs.run(import_id, stream, profile=profile, options=options, actor=actor,
                        progress=lambda rows: status.update(f"Importing {file.name}: {rows:,} rows"))
    with session_scope(write=False) as session:
        job = session.get(RecordImport, import_id)
        out.print(f"{job.status.replace('_', ' ')}: {job.total_rows:,} rows, [green]{job.created_count:,} created[/], "
                  f"{job.updated_count:,} updated, {job.skipped_count:,} skipped, [red]{job.rejected_count:,} rejected[/].")
        if job.error:
            out.print(f"[red]{job.error}[/]")
        problems = import_runs.rows_of(session, import_id, limit=20)
        table = Table("line", "outcome", "problems")
        for row in problems:
            if row.errors:
                table.add_row(str(row.line), row.outcome, "; ".join(f"{k or 'row'}: {v}" for k, v in row.errors.items()))
        if table.rows:
            out.print(table)
        if report:
            with report.open("w", encoding="utf-8", newline="") as f:
                f.writelines(import_runs.report_csv(session, job))
    if job.status == "failed" or job.rejected_count:
        raise typer.Exit(1)
