"""The Send button of the quote page: sends as the logged-in rep and comes back with a
message; a refused send says why and changes nothing; another team's quote is not there."""

from pipewise.quotes.models import Quote
from pipewise.web.common import templates
from tests.quotes.accept_support import make_quote
from tests.web.conftest import WebClient


def test_the_send_button_sends_and_says_so(api, session, factory):
    rep = factory.user(team=factory.team("East"))
    quote = make_quote(session, factory, owner=rep)
    waiting = make_quote(session, factory, owner=rep, status="pending_approval")
    session.commit()
    web = WebClient(api)
    web.login(rep)

    sent = web.post(f"/quotes/{quote.id}/send", {"message": "As promised", "next": "/"}, follow_redirects=False)
    refused = web.post(f"/quotes/{waiting.id}/send", {"next": "/"}, follow_redirects=True)

    assert sent.status_code == 303 and sent.headers["location"] == "/"
    assert "waits for a manager" in refused.text
    session.expire_all()
    assert session.get(Quote, quote.id).status == "sent"
    assert session.get(Quote, waiting.id).status == "pending_approval"


def test_another_teams_quote_is_not_found(api, session, factory):
    rep = factory.user(team=factory.team("East"))
    outsider = factory.user(team=factory.team("West"))
    quote = make_quote(session, factory, owner=rep)
    session.commit()
    web = WebClient(api)
    web.login(outsider)

    response = web.post(f"/quotes/{quote.id}/send", {}, follow_redirects=False)

    assert response.status_code == 404
    session.expire_all()
    assert session.get(Quote, quote.id).status == "draft"


def test_the_send_partial_offers_the_form_only_when_sendable(session, factory):
    partial = templates.env.get_template("quotes/_send.html")
    context = {"csrf_field": "csrf_token", "csrf_token": "t", "path": "/quotes/x"}
    assert "Send quote" in partial.render(quote=Quote(status="draft", id="x"), **context)
    assert "approval" in partial.render(quote=Quote(status="pending_approval", id="x"), **context)
    assert "Send quote" not in partial.render(quote=Quote(status="accepted", id="x"), **context)
