"""The suppression list: addresses no sequence or workflow e-mails, added by hand, by a
bounce or by an unsubscribe."""

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.errors import ValidationFailed
from pipewise.mail.schemas import SuppressionIn
from pipewise.mail.suppression import suppression_service
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router
from pipewise.web.forms import Problems, checked

router = web_router()


def _suppressions(request: Request, session: Session, values: dict[str, str] | None = None, problems: Problems | None = None,
                  status: int = 200) -> Response:
    return render(request, "mail/suppressions.html", {
        "rows": suppression_service.all(session), "values": values or {"address": "", "detail": ""}, "problems": problems or Problems(),
    }, status_code=status)


@router.get("/mail/suppressions")
def suppressions(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _suppressions(request, session)


@router.post("/mail/suppressions")
def add_suppression(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    values = {"address": str(form.get("address") or "").strip(), "detail": str(form.get("detail") or "").strip()}
    parsed, errors = checked(SuppressionIn, {"address": values["address"], "reason": "manual", "detail": values["detail"] or None})
    problems = Problems()
    if parsed is not None:
        try:
            with session.begin_nested():
                row = suppression_service.add(session, address=parsed.address, reason="manual", detail=parsed.detail, actor=me.actor)
        except ValidationFailed as exc:
            errors = exc.errors
    if errors:
        problems.add(errors, ("address", "detail"))
        return _suppressions(request, session, values, problems, 422)
    flash(request, f"{row.address} will get no more e-mail from any sequence or workflow.")
    return redirect("/mail/suppressions")


@router.post("/mail/suppressions/remove")
def remove_suppression(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    address = str(form.get("address") or "")
    suppression_service.remove(session, address=address, actor=me.actor)
    flash(request, f"{address} may be e-mailed again.")
    return redirect("/mail/suppressions")

