"""Log in and out, and change one's password. The session cookie is replaced on each, so
a CSRF token or a session from before the change of user is worthless afterwards.
Log-out and a new password end every session of the user, on every device; failed
log-ins are throttled per account and per client address."""

from fastapi import Request, Response

from pipewise.audit import service as audit
from pipewise.auth import throttle
from pipewise.auth.clients import client_address
from pipewise.errors import ValidationFailed
from pipewise.people.service import end_sessions, user_service
from pipewise.web.common import (
    DbSession,
    CurrentUser,
    PostedForm,
    flash,
    redirect,
    render,
    replace_session,
    safe_next,
    session_user,
    web_router,
)

router = web_router()


@router.get("/login")
def login_page(request: Request, session: DbSession, next: str | None = None) -> Response:
    if session_user(request, session) is not None:
        return redirect(safe_next(next))
    return render(request, "login.html", {"next": safe_next(next), "email": "", "error": None})


@router.post("/login")
def login(request: Request, session: DbSession, form: PostedForm) -> Response:
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    context = {"next": target, "email": email}
    if not (email and password):
        return render(request, "login.html", {**context, "error": "Enter your e-mail and password."}, status_code=401)
    address = client_address(request)
    wait = throttle.blocked(session, email=email, address=address)
    if wait is not None:
        response = render(request, "login.html", {**context, "error": wait.message}, status_code=429)
        response.headers["Retry-After"] = str(wait.retry_after)
        return response
    user = user_service.authenticate(session, email=email, password=password)
    if user is None:
        throttle.failed(session, email=email, address=address)
        audit.log(session, "login.failed", actor=None, label=email, summary=f"log-in failed for {email}")
        error = "That e-mail and password do not match."
        return render(request, "login.html", {**context, "error": error}, status_code=401)
    throttle.succeeded(session, email=email)
    audit.log(session, "login.succeeded", actor=audit.as_person(user), summary="logged in", target_type="user", target_id=user.id)
    replace_session(request, user=user)
    return redirect(target)


@router.post("/logout")
def logout(request: Request, session: DbSession) -> Response:
    user = session_user(request, session)
    if user is not None:
        end_sessions(user)
        audit.log(session, "logout", actor=audit.as_person(user), summary="logged out", target_type="user", target_id=user.id)
    replace_session(request, user=None)
    flash(request, "You are logged out.")
    return redirect("/login")


@router.get("/account/password")
def password_page(request: Request, me: CurrentUser) -> Response:
    return render(request, "account_password.html", {"problem": None})


@router.post("/account/password")
def change_password(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    new, again = str(form.get("new_password") or ""), str(form.get("new_password_again") or "")
    try:
        if new != again:
            raise ValidationFailed.on("new_password_again", "the two new passwords differ")
        user_service.change_password(session, me.user, current=str(form.get("current_password") or ""), new=new)
    except ValidationFailed as exc:
        problem = exc.errors[0] if exc.errors else None
        return render(request, "account_password.html", {"problem": problem}, status_code=422)
    replace_session(request, user=me.user)
    flash(request, "Your password is changed; every other session of yours is logged out.")
    return redirect("/")
