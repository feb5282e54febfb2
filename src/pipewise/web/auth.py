"""Log in and out. The session cookie is replaced on both, so a CSRF token or a session
from before the change of user is worthless afterwards."""

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from sqlalchemy.orm import Session

from pipewise.api.deps import DbSession
from pipewise.auth.service import user_service
from pipewise.web.common import flash, redirect, render, replace_session, safe_next, web_router, web_session

router = web_router()


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if web_session(request).get("uid"):
        return redirect(safe_next(next))
    return render(request, "login.html", {"next": safe_next(next), "email": "", "error": None})


def _log_in(request: Request, session: Session, form: FormData) -> Response:
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    user = user_service.authenticate(session, email=email, password=password) if email and password else None
    if user is None:
        error = "Enter your e-mail and password." if not (email and password) else "That e-mail and password do not match."
        return render(request, "login.html", {"next": target, "email": email, "error": error}, status_code=401)
    replace_session(request, user_id=user.id)
    return redirect(target)


@router.post("/login")
async def login(request: Request, session: DbSession) -> Response:
    return await run_in_threadpool(_log_in, request, session, await request.form())


@router.post("/logout")
def logout(request: Request) -> Response:
    replace_session(request, user_id=None)
    flash(request, "You are logged out.")
    return redirect("/login")
