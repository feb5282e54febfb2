"""Which columns a list shows: the viewer picks among the record type's columns and its
extra ones; the choice is remembered per user and record type in a cookie."""

from fastapi import Request, Response

from pipewise.config import get_settings
from pipewise.web.common import WebUser
from pipewise.web.records.views import Column, RecordView

ONE_YEAR = 365 * 24 * 3600


def cookie_name(view: RecordView) -> str:
    return f"pipewise_cols_{view.plural}"


def available(view: RecordView) -> tuple[Column, ...]:
    return view.columns + view.extra_columns


def shown(request: Request, view: RecordView, me: WebUser) -> tuple[Column, ...]:
    """The chosen columns in their usual order; the first (the record's name) always."""
    owner, _, keys = request.cookies.get(cookie_name(view), "").partition(":")
    if owner != str(me.id) or not keys:
        return view.columns
    wanted = set(keys.split(","))
    return tuple(c for i, c in enumerate(available(view)) if i == 0 or c.key in wanted)


def remember(response: Response, view: RecordView, me: WebUser, keys: list[str]) -> Response:
    known = [c.key for c in available(view) if c.key in set(keys)]
    response.set_cookie(cookie_name(view), f"{me.id}:{','.join(known)}", max_age=ONE_YEAR, httponly=True,
                        samesite="lax", secure=get_settings().secure_cookies, path="/")
    return response
