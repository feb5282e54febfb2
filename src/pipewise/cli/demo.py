"""`pipewise demo`: load the demo data set with a progress bar."""

import time

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import func, select

from pipewise.auth.models import User
from pipewise.cli.output import err, out
from pipewise.crm.models import Account, Activity, Contact, Task
from pipewise.db.session import session_scope
from pipewise.deals.models import Deal, Stage
from pipewise.demo.config import DEMO_ADMIN_EMAIL, demo_password
from pipewise.demo.loader import DEFAULT_ACCOUNTS, DemoLoader, DemoSize
from pipewise.demo.organisation import demo_email
from pipewise.demo.words import SALES_TEAMS
from pipewise.errors import Conflict
from pipewise.leads.models import Lead


def demo(
    accounts: int = typer.Option(
        DEFAULT_ACCOUNTS, min=1, max=100_000, help="How many accounts; contacts, deals and leads scale with it."
    ),
    seed: int = typer.Option(7, help="Same seed, same companies and people."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the database already has accounts."),
) -> None:
    """Load a year of realistic sales data into an empty database.

    Teams of reps, accounts, contacts, leads, deals across the pipeline, activities and
    tasks, all through the real services, so history and events exist as for real work."""
    existing = _count(Account)
    if existing:
        if if_empty:
            err.print(f"The database already has {existing} accounts; no demo data loaded.")
            return
        raise Conflict(
            f"the database already has {existing} accounts; the demo loads into an empty database "
            "(--if-empty skips quietly)"
        )
    started = time.monotonic()
    with Progress(
        TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done)

        DemoLoader(DemoSize(accounts=accounts), seed=seed, on_progress=on_progress).run()
    out.print(_summary())
    out.print(f"Loaded in {time.monotonic() - started:.0f} s.")
    manager = demo_email(SALES_TEAMS[0][1])
    out.print(
        f"Every demo user (a manager: {manager}; the admin: {DEMO_ADMIN_EMAIL}, made by "
        f"[bold]pipewise init --demo-admin[/]) logs in with the password [bold]{demo_password()}[/]."
    )


def _count(model: type) -> int:
    with session_scope(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _summary() -> Table:
    table = Table("Records", "Count", title="Demo data")
    with session_scope(write=False) as session:
        deals_by_kind = dict(
            session.execute(select(Stage.kind, func.count()).join(Deal, Deal.stage_id == Stage.id).group_by(Stage.kind)).all()
        )
    rows = [
        ("Users", _count(User)),
        ("Accounts", _count(Account)),
        ("Contacts", _count(Contact)),
        ("Leads", _count(Lead)),
        ("Deals open / won / lost", " / ".join(str(deals_by_kind.get(k, 0)) for k in ("open", "won", "lost"))),
        ("Activities", _count(Activity)),
        ("Tasks", _count(Task)),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    return table
