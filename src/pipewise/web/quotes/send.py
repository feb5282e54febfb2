"""The Send button of the quote page (``quotes/_send.html``): sends the quote as the
logged-in rep and comes back to the quote with a message."""

import uuid

from fastapi import Request, Response

from pipewise.errors import PipewiseError
from pipewise.quotes import sending
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, safe_next, web_router

router = web_router()


@router.post("/quotes/{quote_id}/send")
def send_quote(quote_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    back = safe_next(str(form.get("next") or ""), f"/quotes/{quote_id}")
    to, message = form.get("to"), form.get("message")
    try:
        with session.begin_nested():
            quote = sending.send_quote(
                session, quote_id, me.actor, to=to if isinstance(to, str) and to.strip() else None,
                message=message if isinstance(message, str) and message.strip() else None,
            )
    except PipewiseError as exc:
        if exc.status == 404:
            raise
        flash(request, exc.detail, "error")
        return redirect(back)
    flash(request, f"Quote {quote.number} is sent: the e-mail with the PDF and the accept link goes out in a moment.")
    return redirect(back)
