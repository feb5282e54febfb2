"""`pipewise db upgrade` and `pipewise init`: the database and the first admin."""

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.auth.models import Role, Team, User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.cli.output import err, out
from pipewise.config import get_settings
from pipewise.db import migrate
from pipewise.db.session import session_scope
from pipewise.deals.defaults import ensure_default_pipeline
from pipewise.demo.config import DEMO_ADMIN_EMAIL, DEMO_ADMIN_NAME, demo_password
from pipewise.errors import ValidationFailed
from pipewise.people.service import team_service, user_service

DEFAULT_TEAM_NAME = "Sales"

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema (safe to run again)."""
    migrate.upgrade(get_settings().database_url)
    out.print("[green]Database is up to date.[/]")


def ensure_default_team(session: Session) -> Team:
    team = session.scalar(select(Team).order_by(Team.created_at).limit(1))
    if team is None:
        team = team_service.create(session, data={"name": DEFAULT_TEAM_NAME}, actor=SYSTEM_ACTOR)
        session.flush()
        out.print(f"Created team [bold]{team.name}[/].")
    return team


def _set_up_defaults() -> int:
    """Default team and pipeline; returns how many users exist."""
    with session_scope() as session:
        ensure_default_team(session)
        pipeline, stages, created = ensure_default_pipeline(session)
        if created:
            names = ", ".join(stage.name for stage in stages)
            out.print(f"Created pipeline [bold]{pipeline.name}[/] ({names}).")
        return session.scalar(select(func.count()).select_from(User)) or 0


def _create_admin(*, email: str, name: str, password: str) -> User:
    with session_scope() as session:
        team = ensure_default_team(session)
        return user_service.create(
            session,
            data={"email": email, "name": name, "password": password, "role": Role.admin.value, "team_id": team.id},
            actor=SYSTEM_ACTOR,
        )


def _ask_for_admin(email: str | None, name: str | None, password: str | None) -> tuple[str, str, str]:
    email = email or typer.prompt("Admin e-mail")
    name = name or typer.prompt("Name", default=email.split("@", 1)[0].replace(".", " ").title())
    password = password or typer.prompt("Password (8 characters or more)", hide_input=True, confirmation_prompt=True)
    return email, name, password


def init(
    email: str | None = typer.Option(None, help="E-mail of the first admin (asked for when missing)."),
    password: str | None = typer.Option(None, help="Password of the first admin (asked for when missing)."),
    name: str | None = typer.Option(None, help="Name of the first admin."),
    demo_admin: bool = typer.Option(
        False, "--demo-admin", help=f"Create {DEMO_ADMIN_EMAIL} with the demo password instead of asking."
    ),
) -> None:
    """Set up a new installation: database, default team and pipeline, first admin.

    Migrates the database, creates the default team and sales pipeline when there are
    none, and the first admin when there is nobody yet. Safe to run again."""
    if demo_admin and (email or password or name):
        raise ValidationFailed.on("demo-admin", "--demo-admin creates the demo admin; leave out --email/--password/--name")
    migrate.upgrade(get_settings().database_url)
    users = _set_up_defaults()
    if users:
        err.print(f"Pipewise already has {users} user(s); no admin created. Add people with [bold]pipewise users create[/].")
        return
    if demo_admin:
        admin = _create_admin(email=DEMO_ADMIN_EMAIL, name=DEMO_ADMIN_NAME, password=demo_password())
        out.print(f"Created demo admin [bold]{admin.email}[/] with password [bold]{demo_password()}[/].")
        return
    email, name, password = _ask_for_admin(email, name, password)
    admin = _create_admin(email=email, name=name, password=password)
    out.print(f"Created admin [bold]{admin.email}[/].")
