"""`pipewise users …` and `pipewise token …`: people and their API tokens."""

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import Role, Team, User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.cli.output import err, out
from pipewise.db.session import session_scope
from pipewise.errors import NotFound, ValidationFailed
from pipewise.people.service import token_service, user_service

users_app = typer.Typer(help="People who use Pipewise.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (Authorization: Bearer …).", no_args_is_help=True)


@users_app.command("create")
def create_user(
    email: str = typer.Argument(..., help="Log-in e-mail."),
    name: str = typer.Option(..., prompt=True, help="Full name."),
    role: Role = typer.Option(Role.rep, case_sensitive=False, help="What the person may see and change."),
    team: str | None = typer.Option(None, help="Name of the team the person belongs to."),
    password: str | None = typer.Option(
        None, help="Password (asked for when missing; without a tty the user gets none and signs in by API token)."
    ),
) -> None:
    """Add a person."""
    if password is None and typer.get_text_stream("stdin").isatty():
        password = typer.prompt("Password (8 characters or more)", hide_input=True, confirmation_prompt=True)
    with session_scope() as session:
        data = {"email": email, "name": name, "role": role.value, "password": password}
        if team is not None:
            data["team_id"] = _team_named(session, team).id
        user = user_service.create(session, data=data, actor=SYSTEM_ACTOR)
    out.print(f"Created {user.role} [bold]{user.email}[/]" + (f" in {team}." if team else "."))


def _team_named(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        known = ", ".join(session.scalars(select(Team.name).order_by(Team.name))) or "none yet"
        raise ValidationFailed.on("team", f"no team named {name!r} (teams: {known})")
    return team


@users_app.command("list")
def list_users() -> None:
    """Show everyone, with role and team."""
    with session_scope(write=False) as session:
        rows = session.execute(
            select(User, Team.name).outerjoin(Team, Team.id == User.team_id).order_by(User.role, User.email)
        ).all()
        table = Table("E-mail", "Name", "Role", "Team", "Active")
        for user, team_name in rows:
            table.add_row(user.email, user.name, user.role, team_name or "", "yes" if user.is_active else "no")
    out.print(table)


@users_app.command("deactivate")
def deactivate_user(email: str = typer.Argument(..., help="The user's e-mail.")) -> None:
    """Stop a person from logging in: their sessions and API tokens stop at once, and
    the records they own stay theirs until you reassign them. The usual way to let
    someone go; `pipewise users activate` undoes it."""
    _set_active(email, False)


@users_app.command("activate")
def activate_user(email: str = typer.Argument(..., help="The user's e-mail.")) -> None:
    """Let a deactivated person log in again (with a new log-in; old sessions stay ended)."""
    _set_active(email, True)


def _set_active(email: str, active: bool) -> None:
    with session_scope() as session:
        user = user_service.by_email(session, email)
        user_service.update(session, user, data={"is_active": active}, actor=SYSTEM_ACTOR)
    out.print(f"{user.email} is {'active' if active else 'deactivated'}.")


@users_app.command("delete")
def delete_user(
    email: str = typer.Argument(..., help="The user's e-mail."),
    reassign_to: str | None = typer.Option(
        None, "--reassign-to", help="E-mail of the user who takes over everything this user owns."
    ),
) -> None:
    """Remove a person for good. Refused while they own records, unless --reassign-to
    names who takes them over (each record's history says so). Prefer deactivate."""
    with session_scope() as session:
        user = user_service.by_email(session, email)
        successor = user_service.by_email(session, reassign_to).id if reassign_to else None
        user_service.delete(session, user, actor=SYSTEM_ACTOR, reassign_to=successor)
    out.print(f"Deleted {email}" + (f"; their records now belong to {reassign_to}." if reassign_to else "."))


@users_app.command("set-password")
def set_password(
    email: str = typer.Argument(..., help="The user's e-mail."),
    password: str | None = typer.Option(None, help="The new password (asked for when missing)."),
) -> None:
    """Give a person a new password. Every web session they have open ends."""
    password = password or typer.prompt("New password (8 characters or more)", hide_input=True, confirmation_prompt=True)
    with session_scope() as session:
        user = user_service.by_email(session, email)
        user_service.set_password(session, user, password)
    out.print(f"New password set for {user.email}; their open sessions are logged out.")


@token_app.command("create")
def create_token(
    email: str = typer.Argument(..., help="Whose token: the user's e-mail."),
    name: str = typer.Option("cli", help="A label to recognise the token by."),
) -> None:
    """Create an API token and print it. It is shown this once only."""
    with session_scope() as session:
        user = user_service.by_email(session, email)
        if not user.is_active:
            raise NotFound(f"{user.email} is deactivated; reactivate the user first")
        _token, secret = token_service.create(session, user=user, name=name)
    typer.echo(secret)
    err.print(f"[dim]API token {name!r} for {user.email}. It is not shown again; store it now.[/]")
