"""The page an invitation or reset link opens: choose a password, and be logged in."""

from fastapi import Request, Response

from pipewise.errors import FieldError, ValidationFailed
from pipewise.people import invitations
from pipewise.web.common import DbSession, PostedForm, flash, redirect, render, replace_session, web_router

router = web_router()


def _page(request: Request, token: str, purpose: str, email: str, error: FieldError | None = None, status: int = 200) -> Response:
    context = {"token": token, "purpose": purpose, "email": email, "error": error}
    return render(request, "settings/welcome.html", context, status_code=status)


@router.get("/welcome/{token}")
def welcome_page(token: str, request: Request, session: DbSession) -> Response:
    user, purpose = invitations.user_for(session, token)
    return _page(request, token, purpose, user.email)


@router.post("/welcome/{token}")
def choose_password(token: str, request: Request, session: DbSession, form: PostedForm) -> Response:
    user, purpose = invitations.user_for(session, token)
    password, again = str(form.get("password") or ""), str(form.get("password_again") or "")
    try:
        if password != again:
            raise ValidationFailed.on("password_again", "the two passwords differ")
        with session.begin_nested():
            invitations.accept(session, token, password)
    except ValidationFailed as exc:
        error = exc.errors[0] if exc.errors else FieldError("password", exc.detail)
        return _page(request, token, purpose, user.email, error, status=422)
    replace_session(request, user=user)
    flash(request, f"Welcome, {user.name}. Your password is set.")
    return redirect("/")
