"""`pipewise import leads FILE.csv` and `pipewise dedupe`."""

from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.cli.output import out
from pipewise.db.session import session_scope
from pipewise.errors import ValidationFailed
from pipewise.leads import dedup, importer
from pipewise.records import csv_cells

import_app = typer.Typer(help="Import records from CSV files.", no_args_is_help=True)
dedupe_app = typer.Typer(help="Find duplicate leads and contacts in the whole database.", invoke_without_command=True)


def _mapping(pairs: list[str]) -> dict[str, str] | None:
    if not pairs:
        return None
    mapping = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        if not sep or not column:
            raise ValidationFailed.on("--map", f"{pair!r} is not COLUMN=field (e.g. 'E-Mail=email')")
        mapping[column] = target
    return mapping


@import_app.command("leads")
def import_leads(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A CSV file (UTF-8)."),
    map_: list[str] = typer.Option([], "--map", help="COLUMN=field, repeatable; without it, known column names map themselves."),
    on_duplicate: str = typer.Option("skip", "--on-duplicate", help="skip | update | create, for an e-mail that exists."),
    sep: str = typer.Option(",", "--sep", help="Field separator: , ; | or \\t."),
    default_country: str | None = typer.Option(None, "--default-country", help="ISO code for phone numbers given without one."),
    report: Path | None = typer.Option(None, "--report", help="Write every rejected or skipped row to this CSV."),
) -> None:
    """Import leads: clean, de-duplicate, score; every rejected row is reported with its line."""
    options = importer.ImportOptions(mapping=_mapping(map_), on_duplicate=on_duplicate,
                                     delimiter="\t" if sep == "\\t" else sep, default_country=default_country)
    with session_scope() as session:
        job = importer.start(session, filename=file.name, options=options, actor=SYSTEM_ACTOR)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[rows]:,} rows"),
               TimeRemainingColumn())
    with Progress(*columns, transient=False, console=out) as bar, file.open("rb") as stream:
        task = bar.add_task(f"Importing {file.name}", total=file.stat().st_size, rows=0)
        job = importer.run(session_scope, job.id, stream, options=options, actor=SYSTEM_ACTOR,
                           progress=lambda rows, size: bar.update(task, completed=size, rows=rows))
    out.print(f"{job.total_rows:,} rows: [green]{job.created_count:,} created[/], {job.updated_count:,} updated, "
              f"{job.skipped_count:,} skipped, [red]{job.rejected_count:,} rejected[/].")
    with session_scope(write=False) as session:
        rows = importer.rows_of(session, job.id, limit=20)
        if rows:
            table = Table("line", "outcome", "reason")
            for row in rows:
                table.add_row(str(row.line), row.outcome, row.reason)
            out.print(table)
        if report is not None:
            _write_report(session, job.id, report)
            out.print(f"The full row report is in {report}.")
        elif job.rejected_count + job.skipped_count > len(rows):
            out.print("Only the first 20 rows are shown; add --report FILE.csv for all of them.")


def _write_report(session, import_id, path: Path) -> None:  # type: ignore[no-untyped-def]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv_cells.writer(f)
        writer.writerow(["line", "outcome", "reason", "excerpt"])
        after = 0
        while rows := importer.rows_of(session, import_id, after_line=after, limit=5000):
            writer.writerows([r.line, r.outcome, r.reason, r.excerpt or ""] for r in rows)
            after = rows[-1].line


@dedupe_app.callback()
def dedupe(
    threshold: float = typer.Option(dedup.DEFAULT_THRESHOLD, help="Similarity (0–100) from which a pair is listed."),
    show: int = typer.Option(20, help="How many open pairs to print."),
) -> None:
    """Scan every lead and contact for duplicates; new pairs wait on the review page."""
    with session_scope() as session:
        added = dedup.scan(session, threshold=threshold)
    out.print(f"{added:,} new possible duplicates.")
    with session_scope(write=False) as session:
        pairs = dedup.review_list(session, SYSTEM_ACTOR, limit=show)
        if pairs:
            table = Table("score", "record", "possible duplicate", "why")
            for p in pairs:
                table.add_row(f"{p.score:.0f}", f"{p.record_type} {p.record_id}", f"{p.candidate_type} {p.candidate_id}", p.reason)
            out.print(table)
