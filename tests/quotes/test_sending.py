"""Sending a quote over HTTP: the contract (draft or approved only, never while waiting
for approval), the rep's rights, the frozen revision with its PDF and SHA-256, and the
e-mail with the PDF attached and a working accept link, received by a real SMTP server."""

import hashlib
import re

import pytest
from sqlalchemy import select

from pipewise.mail.models import EmailMessage
from pipewise.quotes.accept_models import QuoteLink
from pipewise.quotes.models import Quote
from pipewise.records.timeline import timeline
from tests.quotes.accept_support import make_quote
from tests.sequences.support import run_worker, smtp  # noqa: F401 - the SMTP server fixture

LINK = re.compile(r"http://[^\s]+/q/([A-Za-z0-9_.\-]+)")


@pytest.fixture
def rep(factory, session):  # type: ignore[no-untyped-def]
    team = factory.team("East")
    user = factory.user(team=team)
    session.commit()
    return user


def send(api, factory, quote_id, user, **body):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/quotes/{quote_id}/send", json=body, headers=factory.headers(user))


class TestSendQuote:
    def test_the_buyer_receives_the_pdf_and_a_link_that_opens_the_quote(self, api, session, factory, rep, smtp):  # noqa: F811
        quote = make_quote(session, factory, owner=rep)
        session.commit()

        response = send(api, factory, quote.id, rep, message="Here is the offer we discussed.")

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "sent" and body["valid_until"] and body["pdf_sha256"]
        session.expire_all()
        stored = session.get(Quote, quote.id)
        assert stored.pdf[:5] == b"%PDF-"
        assert hashlib.sha256(stored.pdf).hexdigest() == stored.pdf_sha256 == body["pdf_sha256"]

        run_worker()
        session.rollback()  # a fresh snapshot: the worker committed after this session last read

        contact_email = session.scalar(select(EmailMessage.to_address))
        [mail] = smtp.handler.to(contact_email)
        assert mail["Subject"].startswith(f"Quote {quote.number}")
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == f"{quote.number}-r1.pdf"
        assert attachment.get_content() == stored.pdf
        text = mail.get_body(("plain",)).get_content()
        assert "Here is the offer we discussed." in text
        token = LINK.search(text).group(1)
        page = api.get(f"/q/{token}")
        assert page.status_code == 200 and quote.number in page.text and "Premium support" in page.text
        ledger = session.scalar(select(EmailMessage))
        assert ledger.kind == "manual" and not ledger.automated and ledger.status == "sent"

        entries = [e.title for e in timeline(session, "deal", quote.deal_id)]
        assert any(f"Quote {quote.number} (revision 1) sent" in title for title in entries)

    def test_a_quote_waiting_for_approval_is_refused(self, api, session, factory, rep):
        quote = make_quote(session, factory, owner=rep, status="pending_approval")
        session.commit()

        response = send(api, factory, quote.id, rep)

        assert response.status_code == 409
        assert "approval" in response.json()["detail"]
        session.expire_all()
        assert session.get(Quote, quote.id).status == "pending_approval"
        assert session.get(QuoteLink, quote.id) is None

    def test_an_approved_quote_may_be_sent(self, api, session, factory, rep):
        quote = make_quote(session, factory, owner=rep, status="approved")
        session.commit()
        assert send(api, factory, quote.id, rep).status_code == 200

    @pytest.mark.parametrize("status", ["sent", "accepted", "declined", "expired", "superseded"])
    def test_a_frozen_revision_is_not_sent_again(self, api, session, factory, rep, status):
        quote = make_quote(session, factory, owner=rep, status=status)
        session.commit()
        response = send(api, factory, quote.id, rep)
        assert response.status_code == 409
        assert status in response.json()["detail"]

    def test_another_teams_rep_sees_no_such_quote(self, api, session, factory, rep):
        quote = make_quote(session, factory, owner=rep)
        outsider = factory.user(team=factory.team("West"))
        session.commit()

        response = send(api, factory, quote.id, outsider)

        assert response.status_code == 404
        assert response.json()["detail"] == f"no quote with id {quote.id}"
        session.expire_all()
        assert session.get(Quote, quote.id).status == "draft"

    def test_a_quote_without_an_address_asks_for_one(self, api, session, factory, rep):
        quote = make_quote(session, factory, owner=rep)
        quote.contact_id = None
        session.commit()

        response = send(api, factory, quote.id, rep)

        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "to"
        assert send(api, factory, quote.id, rep, to="not an address").status_code == 422
        session.expire_all()
        assert session.get(Quote, quote.id).status == "draft"
        assert send(api, factory, quote.id, rep, to="buyer@example.org").status_code == 200

    def test_a_validity_in_the_past_is_refused(self, api, session, factory, rep):
        from datetime import date

        quote = make_quote(session, factory, owner=rep, valid_until=date(2020, 1, 1))
        session.commit()
        response = send(api, factory, quote.id, rep)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "valid_until"

    def test_a_suppressed_address_gets_no_mail_and_the_rep_a_task(self, api, session, factory, rep, smtp):  # noqa: F811
        from pipewise.crm.models import Task
        from pipewise.mail.suppression import suppress

        quote = make_quote(session, factory, owner=rep)
        suppress(session, "gone@example.org", reason="unsubscribe", detail="test", contact_id=None)
        session.commit()

        assert send(api, factory, quote.id, rep, to="gone@example.org").status_code == 200
        run_worker()
        session.rollback()

        assert smtp.handler.messages == []
        task = session.scalar(select(Task).where(Task.related_id == quote.deal_id))
        assert task is not None and "was not e-mailed" in task.title and task.owner_id == rep.id
