"""The settings overview, and Settings › Users and Teams. Admins invite people (a signed link by e-mail), change their
role and team, send a password reset and deactivate them; they name teams and managers.
A manager sees their own team's people and every team, without changing them."""

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.auth.models import Role, Team, User
from pipewise.errors import FieldError, ValidationFailed
from pipewise.mail import compose
from pipewise.mail.settings import get_mail_settings
from pipewise.people import invitations
from pipewise.people import schemas as people_schemas
from pipewise.people.queries import teams as all_teams
from pipewise.people.service import team_service, user_service
from pipewise.records.repository import ListQuery
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import FormField, FormState, Problems, to_state, typed_values
from pipewise.web.settings.common import require_admin, require_manager, schema_checked, sections_for

router = web_router()

ROLES = tuple(Role)
INVITE_FIELDS = (
    FormField("name", "Name", required=True),
    FormField("email", "E-mail", "email", required=True),
    FormField("role", "Role", "choice", ROLES, required=True, default="rep"),
    FormField("team_id", "Team"),
)
TEAM_FIELDS = (FormField("name", "Name", required=True), FormField("manager_id", "Manager"))


@router.get("/settings")
def index(request: Request, me: CurrentUser) -> Response:
    return render(request, "settings/index.html", {"sections": sections_for(me)})


# -- users --


def _people(session: Session, me: WebUser) -> list[User]:
    users = user_service.list(session, actor=me.actor, query=ListQuery(sort="name", limit=1000)).items
    if me.actor.is_admin:
        return users
    return [u for u in users if u.team_id in me.actor.team_ids]


def _users_page(
    request: Request, session: Session, me: WebUser, *, invite: FormState | None = None,
    rows: dict[str, Problems] | None = None, status: int = 200,
) -> Response:
    context = {
        "users": _people(session, me),
        "teams": all_teams(session),
        "roles": ROLES,
        "invite": invite or FormState(values={"role": "rep"}),
        "invite_fields": INVITE_FIELDS,
        "rows": rows or {},
        "is_invited": invitations.is_invited,
        "sections": sections_for(me),
    }
    return render(request, "settings/users.html", context, status_code=status)


@router.get("/settings/users")
def users_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_manager(me)
    return _users_page(request, session, me)


def send_link(session: Session, user: User, purpose: str, *, by: WebUser) -> None:
    """The invitation or reset e-mail, through the one mail path (the worker sends it)."""
    note = invitations.letter(user, purpose, site=get_mail_settings().public_url, sent_by=by.user.name)
    mail = compose.Letter(to_address=note.to_address, subject=note.subject, text=note.text, kind="notice", automated=False)
    compose.queue(session, mail, immediately=False)


def _as_email_error(errors: list[FieldError]) -> list[FieldError]:
    """The mail path names the recipient ``to``; on this form that is the e-mail field."""
    return [FieldError("email", e.message) if e.field == "to" else e for e in errors]


@router.post("/settings/users/invite")
def invite_user(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    typed = typed_values(form, INVITE_FIELDS)
    data, errors = schema_checked(people_schemas.UserCreate, typed, optional=("team_id",))
    if not errors:
        try:
            with session.begin_nested():
                user = invitations.invite(session, data, actor=me.actor)
                send_link(session, user, invitations.INVITE, by=me)
        except ValidationFailed as exc:
            errors = _as_email_error(exc.errors) or [FieldError("email", exc.detail)]
    if errors:
        state = to_state(typed, errors, [f.name for f in INVITE_FIELDS])
        return _users_page(request, session, me, invite=state, status=422)
    flash(request, f"Invitation sent to {user.email}. The link works for 7 days.")
    return redirect("/settings/users")


ROW_FIELDS = ("role", "team_id", "capacity", "is_active", "is_away")


def _user_update(form: Any) -> dict[str, Any]:
    """The row's values checked against the API's update schema (every error at once)."""
    typed = {"role": str(form.get("role") or ""), "team_id": str(form.get("team_id") or ""),
             "capacity": str(form.get("capacity") or "").strip()}
    flags = {"is_active": form.get("is_active") == "on", "is_away": form.get("is_away") == "on"}
    data, errors = schema_checked(people_schemas.UserUpdate, typed, optional=("team_id", "capacity"), extra=flags)
    if errors:
        raise ValidationFailed("check the highlighted fields", errors=errors)
    if not typed["team_id"]:
        data["team_id"] = None  # "No team"
    return data


@router.post("/settings/users/{user_id}")
def update_user(user_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    user = user_service.get(session, user_id, actor=me.actor, write=True)
    try:
        with session.begin_nested():
            user_service.update(session, user, data=_user_update(form), actor=me.actor)
    except ValidationFailed as exc:
        problems = Problems()
        problems.add(exc.errors or [FieldError("", exc.detail)], ROW_FIELDS)
        session.refresh(user)
        return _users_page(request, session, me, rows={str(user_id): problems}, status=422)
    flash(request, f"{user.name} saved.")
    return redirect("/settings/users")


@router.post("/settings/users/{user_id}/send-link")
def send_password_link(user_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    """A fresh invitation for someone who has not arrived yet, else a password reset."""
    require_admin(me)
    user = user_service.get(session, user_id, actor=me.actor)
    if not user.is_active:
        raise ValidationFailed.on("is_active", f"{user.email} is deactivated; activate them first")
    purpose = invitations.INVITE if invitations.is_invited(user) else invitations.RESET
    send_link(session, user, purpose, by=me)
    what = "A new invitation" if purpose == invitations.INVITE else "A password reset link"
    flash(request, f"{what} is on its way to {user.email}.")
    return redirect("/settings/users")


# -- teams --


def _teams_page(
    request: Request, session: Session, me: WebUser, *, new: FormState | None = None,
    rows: dict[str, Problems] | None = None, status: int = 200,
) -> Response:
    teams = all_teams(session)
    people = user_service.list(session, actor=me.actor, query=ListQuery(sort="name", limit=1000)).items
    context = {
        "teams": teams,
        "managers": [u for u in people if u.is_active and u.role in (Role.admin, Role.manager)],
        "names": {u.id: u.name for u in people},
        "members": {t.id: sum(1 for u in people if u.team_id == t.id and u.is_active) for t in teams},
        "new": new or FormState(),
        "rows": rows or {},
        "sections": sections_for(me),
    }
    return render(request, "settings/teams.html", context, status_code=status)


@router.get("/settings/teams")
def teams_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_manager(me)
    return _teams_page(request, session, me)


def _team_data(form: Any) -> tuple[dict[str, str], dict[str, Any], list[FieldError]]:
    typed = typed_values(form, TEAM_FIELDS)
    data, errors = schema_checked(people_schemas.TeamCreate, typed, optional=("manager_id",))
    if not errors and not typed["manager_id"]:
        data["manager_id"] = None  # left empty: the team has no manager
    return typed, data, errors


def _save_team(session: Session, team: Team | None, data: dict[str, Any], me: WebUser) -> list[FieldError]:
    try:
        with session.begin_nested():
            if team is None:
                team_service.create(session, data=data, actor=me.actor)
            else:
                team_service.update(session, team, data=data, actor=me.actor)
    except ValidationFailed as exc:
        return exc.errors or [FieldError("name", exc.detail)]
    return []


@router.post("/settings/teams")
def create_team(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    typed, data, errors = _team_data(form)
    errors = errors or _save_team(session, None, data, me)
    if errors:
        return _teams_page(request, session, me, new=to_state(typed, errors, [f.name for f in TEAM_FIELDS]), status=422)
    flash(request, f"Team {typed['name']} added.")
    return redirect("/settings/teams")


@router.post("/settings/teams/{team_id}")
def update_team(team_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    team = team_service.get(session, team_id, actor=me.actor, write=True)
    typed, data, errors = _team_data(form)
    errors = errors or _save_team(session, team, data, me)
    if errors:
        problems = Problems()
        problems.add(errors, [f.name for f in TEAM_FIELDS])
        session.refresh(team)
        return _teams_page(request, session, me, rows={str(team_id): problems}, status=422)
    flash(request, f"Team {team.name} saved.")
    return redirect("/settings/teams")
