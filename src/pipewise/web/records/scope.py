"""Whose work a page shows: Me, My team or Everyone (what the viewer may see). The choice
is remembered per user in a cookie; a manager starts on their team, an admin on everyone."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from pipewise.config import get_settings
from pipewise.web.common import WebUser

SCOPE_COOKIE = "pipewise_scope"
SCOPES = (("me", "Me"), ("team", "My team"), ("everyone", "Everyone"))
SCOPE_NAMES = dict(SCOPES)
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Scope:
    key: str
    changed: bool  # chosen on this request: remember it

    @property
    def label(self) -> str:
        return SCOPE_NAMES[self.key]


def default_scope(me: WebUser) -> str:
    if me.actor.is_admin:
        return "everyone"
    return "team" if me.actor.is_manager else "me"


def current_scope(request: Request, me: WebUser) -> Scope:
    """The scope asked for (``?scope=``), else the one this user chose last, else their default."""
    asked = request.query_params.get("scope", "")
    if asked in SCOPE_NAMES:
        return Scope(asked, changed=True)
    owner, _, remembered = request.cookies.get(SCOPE_COOKIE, "").partition(":")
    if owner == str(me.id) and remembered in SCOPE_NAMES:
        return Scope(remembered, changed=False)
    return Scope(default_scope(me), changed=False)


def remember(response: Response, me: WebUser, scope: Scope) -> Response:
    if scope.changed:
        response.set_cookie(SCOPE_COOKIE, f"{me.id}:{scope.key}", max_age=ONE_YEAR, httponly=True, samesite="lax",
                            secure=get_settings().secure_cookies, path="/")
    return response


def owner_condition(scope: Scope, me: WebUser) -> dict[str, Any] | None:
    """The filter-language condition on ``owner_id`` the scope adds (None: no condition)."""
    mine = {"field": "owner_id", "op": "eq", "value": str(me.id)}
    if scope.key == "me":
        return mine
    if scope.key == "team":
        teams = sorted(str(t) for t in me.actor.team_ids)
        return {"any": [mine, {"field": "owner.team_id", "op": "in", "value": teams}]} if teams else mine
    return None
