"""The buyer's accept link over HTTP: the page, views, ticking optional lines, accepting
and declining, and every way a link is refused (tampered, run out, replaced, expired,
already answered, posted without the form's token, too often)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from pipewise.db.base import utcnow
from pipewise.deals.models import Deal, DealStageChange
from pipewise.notifications.models import Notification
from pipewise.quotes import links, sending
from pipewise.quotes.accept_models import QuoteLink
from pipewise.quotes.models import Quote, QuoteLine, QuoteResponse
from pipewise.records.timeline import timeline
from pipewise.web.quotes import public
from tests.quotes.accept_support import accepted_stage, csrf_of, make_quote

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def sent(session, factory):  # type: ignore[no-untyped-def]
    """A sent quote (one optional line) and its token; the rep owns the deal."""
    rep = factory.user(team=factory.team("East"))
    quote = make_quote(session, factory, owner=rep)
    sending.send_quote(session, quote.id, factory.actor(rep))
    session.commit()
    return quote, sending.accept_token(session, quote)


@pytest.fixture(autouse=True)
def fresh_limits():  # type: ignore[no-untyped-def]
    public.VIEWS.hits.clear()
    public.ANSWERS.hits.clear()


def optional_line(session, quote):  # type: ignore[no-untyped-def]
    return session.scalar(select(QuoteLine).where(QuoteLine.quote_id == quote.id, QuoteLine.optional.is_(True)))


def accept(api, token, **fields):  # type: ignore[no-untyped-def]
    page = api.get(f"/q/{token}")
    data = {"csrf_token": csrf_of(page.text), **fields}
    return api.post(f"/q/{token}/accept", data=data, follow_redirects=False, headers={"User-Agent": "BuyerPhone/1.0"})


class TestThePage:
    def test_shows_the_quote_and_counts_views_marking_the_first(self, api, session, sent):
        quote, token = sent

        first = api.get(f"/q/{token}")
        api.get(f"/q/{token}")

        assert first.status_code == 200
        for text in (quote.number, "Platform licence", "Onboarding", "Premium support", "Optional", "Payable within 30 days"):
            assert text in first.text
        assert "€2,308.60" in first.text  # 1,140.00 + 800.00 + 19 % tax; the optional line not counted
        session.rollback()
        stored = session.get(Quote, quote.id)
        assert stored.first_viewed_at is not None
        assert session.get(QuoteLink, quote.id).view_count == 2
        views = [e for e in timeline(session, "deal", quote.deal_id) if e.data.get("event") == "viewed"]
        assert len(views) == 1 and views[0].data["views"] == 2

    def test_ticking_an_optional_line_recomputes_the_totals_on_the_server(self, api, session, sent):
        quote, token = sent
        line = optional_line(session, quote)

        with_line = api.get(f"/q/{token}/totals", params={"line": line.id.hex})
        without = api.get(f"/q/{token}/totals")
        forged = api.get(f"/q/{token}/totals", params={"line": "not-a-line"})

        assert "€3,022.46" in with_line.text  # + 12 × 49.99 = 599.88 net, 113.98 tax
        assert "€2,308.60" in without.text and "€2,308.60" in forged.text

    def test_the_pdf_is_the_exact_document_sent(self, api, session, sent):
        quote, token = sent
        response = api.get(f"/q/{token}/pdf")
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        session.rollback()
        assert response.content == session.get(Quote, quote.id).pdf


class TestAccept:
    def test_accepting_records_who_when_where_and_the_pdf_and_moves_the_deal(self, api, session, sent):
        quote, token = sent
        stage = accepted_stage(session, "Demo")
        session.commit()
        line = optional_line(session, quote)

        response = accept(api, token, signer_name="Claire Martin", line=line.id.hex, signature="data:image/png;base64,iVBORw0KGgoAAAAA")

        assert response.status_code == 303 and response.headers["location"] == f"/q/{token}"
        session.rollback()
        stored = session.get(Quote, quote.id)
        assert stored.status == "accepted" and stored.answered_at is not None
        assert stored.gross_total == Decimal("3022.46") and stored.net_total == Decimal("2539.88")
        assert session.get(QuoteLine, line.id).selected is True
        answer = session.scalar(select(QuoteResponse).where(QuoteResponse.quote_id == quote.id))
        assert answer.decision == "accepted" and answer.signer_name == "Claire Martin"
        assert answer.ip_address == "testclient"  # the test client's peer address (no trusted proxy)
        assert answer.user_agent == "BuyerPhone/1.0"
        assert answer.pdf_sha256 == stored.pdf_sha256 and answer.selected_line_ids == [str(line.id)]
        assert answer.signature_png.startswith(b"\x89PNG")
        deal = session.get(Deal, quote.deal_id)
        assert deal.stage_id == stage.id
        assert session.scalar(select(DealStageChange).where(DealStageChange.deal_id == deal.id, DealStageChange.to_stage_id == stage.id))
        page = api.get(f"/q/{token}")
        assert page.status_code == 200 and 'data-state="accepted"' in page.text and "Claire Martin" in page.text
        assert "Accept the quote" not in page.text
        events = [e.data.get("event") for e in timeline(session, "deal", quote.deal_id) if e.kind == "quote"]
        assert "accepted" in events
        told = session.scalars(select(Notification).where(Notification.user_id == stored.owner_id)).all()
        assert [(n.kind, n.title, n.link) for n in told if n.kind == "quote_accepted"] == [
            ("quote_accepted", f"Claire Martin accepted quote {stored.number}", f"/quotes/{quote.id}")]

    def test_an_accepted_quote_cannot_be_accepted_again_or_declined(self, api, session, sent):
        quote, token = sent
        assert accept(api, token, signer_name="Claire Martin").status_code == 303

        again = accept(api, token, signer_name="Mallory")
        csrf = csrf_of(api.get(f"/q/{token}").text)
        decline = api.post(f"/q/{token}/decline", data={"csrf_token": csrf, "reason": "changed my mind"}, follow_redirects=False)

        assert again.status_code == 409 and "already accepted" in again.text
        assert decline.status_code == 409
        session.rollback()
        assert session.scalar(select(QuoteResponse.signer_name)) == "Claire Martin"
        assert session.get(Quote, quote.id).status == "accepted"

    def test_buyers_racing_to_answer_get_one_answer(self, session, sent):
        """Eight answers at once (accepts and declines): the row lock lets exactly one in."""
        from concurrent.futures import ThreadPoolExecutor

        from pipewise.db.session import session_scope
        from pipewise.errors import Conflict
        from pipewise.quotes import acceptance

        quote, token = sent

        def answer(i: int) -> str:
            decide = acceptance.accept if i % 2 else acceptance.decline
            try:
                with session_scope() as own:
                    decide(own, token, acceptance.Answer(signer_name=f"Buyer {i}", reason="no"))
                return "answered"
            except Conflict:
                return "refused"

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(answer, range(8)))

        assert sorted(results) == ["answered"] + ["refused"] * 7
        session.rollback()
        assert len(list(session.scalars(select(QuoteResponse).where(QuoteResponse.quote_id == quote.id)))) == 1

    def test_an_accepted_quote_cannot_be_sent_or_edited(self, session, factory, sent):
        from pipewise.errors import Conflict

        quote, _token = sent
        with pytest.raises(Conflict):
            sending.check_editable(session.get(Quote, quote.id))

    def test_a_name_is_required_and_nothing_is_written_without_it(self, api, session, sent):
        quote, token = sent
        response = accept(api, token, signer_name="  ")
        assert response.status_code == 422 and "type your full name" in response.text
        session.rollback()
        assert session.get(Quote, quote.id).status == "sent"
        assert session.scalar(select(QuoteResponse)) is None

    def test_a_signature_that_is_no_png_or_too_large_is_refused(self, api, session, sent):
        _quote, token = sent
        not_png = accept(api, token, signer_name="Claire", signature="data:image/png;base64,aGVsbG8=")
        too_large = accept(api, token, signer_name="Claire", signature="data:image/png;base64," + "A" * 280_000)
        assert not_png.status_code == 422 and "not a PNG" in not_png.text
        assert too_large.status_code == 422 and "larger than" in too_large.text

    def test_a_stage_that_refuses_the_deal_leaves_it_and_tells_the_rep(self, api, session, sent):
        from pipewise.crm.models import Task

        quote, token = sent
        accepted_stage(session, "Negotiation")  # needs a close date the deal does not have
        before = session.get(Deal, quote.deal_id).stage_id
        session.commit()

        assert accept(api, token, signer_name="Claire").status_code == 303

        session.rollback()
        session.expire_all()
        assert session.get(Quote, quote.id).status == "accepted"
        assert session.get(Deal, quote.deal_id).stage_id == before
        task = session.scalar(select(Task).where(Task.title.like(f"Quote {quote.number} was accepted%")))
        assert task is not None and "close" in (task.notes or "")

    def test_the_deal_stays_when_no_accepted_stage_is_set(self, api, session, sent):
        quote, token = sent
        before = session.get(Deal, quote.deal_id).stage_id
        assert accept(api, token, signer_name="Claire").status_code == 303
        session.rollback()
        assert session.get(Deal, quote.deal_id).stage_id == before


class TestDecline:
    def test_declining_needs_a_reason_and_records_it(self, api, session, sent):
        quote, token = sent
        csrf = csrf_of(api.get(f"/q/{token}").text)

        empty = api.post(f"/q/{token}/decline", data={"csrf_token": csrf, "reason": ""}, follow_redirects=False)
        done = api.post(f"/q/{token}/decline", data={"csrf_token": csrf, "reason": "Too expensive"}, follow_redirects=False)

        assert empty.status_code == 422 and done.status_code == 303
        session.rollback()
        assert session.get(Quote, quote.id).status == "declined"
        assert session.scalar(select(QuoteResponse.reason)) == "Too expensive"
        assert 'data-state="declined"' in api.get(f"/q/{token}").text


class TestRefusedLinks:
    def test_a_tampered_token_is_refused(self, api, session, sent):
        _quote, token = sent
        # The signature's first character: its last one also carries padding bits, and another
        # character with the same leading bits decodes to the same signature.
        signed, _, signature = token.rpartition(".")
        tampered = f"{signed}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
        for url in (f"/q/{tampered}", f"/q/{tampered}/pdf", f"/q/{tampered}/totals", "/q/nonsense"):
            response = api.get(url)
            assert response.status_code == 404 and "not valid" in response.text

    def test_a_token_made_with_another_key_is_refused(self, api, session, sent, monkeypatch):
        quote, _token = sent
        from itsdangerous import URLSafeTimedSerializer

        link = session.get(QuoteLink, quote.id)
        forged = URLSafeTimedSerializer("another-key", salt=links.SALT).dumps({"q": quote.id.hex, "r": 1, "n": link.nonce})
        assert api.get(f"/q/{forged}").status_code == 404

    def test_a_link_past_its_term_is_refused(self, api, session, sent):
        quote, token = sent
        session.get(QuoteLink, quote.id).expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
        response = api.get(f"/q/{token}")
        assert response.status_code == 410 and "run out" in response.text

    def test_a_quote_past_its_validity_is_refused_with_a_clear_page(self, api, session, sent):
        quote, token = sent
        session.get(Quote, quote.id).valid_until = utcnow().date() - timedelta(days=1)
        session.commit()
        page = api.get(f"/q/{token}")
        assert page.status_code == 410 and "expired" in page.text
        public.VIEWS.hits.clear()
        session.rollback()
        session.expire_all()
        session.get(Quote, quote.id).valid_until = utcnow().date() + timedelta(days=1)
        session.commit()
        csrf = csrf_of(api.get(f"/q/{token}").text)
        session.rollback()
        session.expire_all()
        session.get(Quote, quote.id).valid_until = utcnow().date() - timedelta(days=1)
        session.commit()
        posted = api.post(f"/q/{token}/accept", data={"csrf_token": csrf, "signer_name": "Claire"}, follow_redirects=False)
        assert posted.status_code == 410
        session.rollback()
        assert session.get(Quote, quote.id).status == "sent"

    def test_a_revised_quote_invalidates_the_old_link(self, api, session, factory, sent):
        quote, token = sent
        session.get(Quote, quote.id).status = "superseded"
        session.commit()
        response = api.get(f"/q/{token}")
        assert response.status_code == 410 and "revised" in response.text

    def test_a_token_of_another_revision_or_nonce_matches_nothing(self, api, session, sent):
        quote, _token = sent
        link = session.get(QuoteLink, quote.id)
        serializer = links._serializer()
        other_revision = serializer.dumps({"q": quote.id.hex, "r": 2, "n": link.nonce})
        other_nonce = serializer.dumps({"q": quote.id.hex, "r": 1, "n": "0" * 32})
        assert api.get(f"/q/{other_revision}").status_code == 404
        assert api.get(f"/q/{other_nonce}").status_code == 404

    def test_a_draft_has_no_working_link(self, api, session, factory, sent):
        quote, token = sent
        session.get(Quote, quote.id).status = "draft"
        session.commit()
        assert api.get(f"/q/{token}").status_code == 404

    def test_a_post_without_the_forms_token_is_refused(self, api, session, sent):
        quote, token = sent
        api.get(f"/q/{token}")
        response = api.post(f"/q/{token}/accept", data={"signer_name": "Claire"}, follow_redirects=False)
        assert response.status_code == 403
        session.rollback()
        assert session.get(Quote, quote.id).status == "sent"

    def test_too_many_requests_from_one_address_wait(self, api, session, sent):
        _quote, token = sent
        statuses = [api.get(f"/q/{token}/totals").status_code for _ in range(public.VIEWS.per_minute + 1)]
        assert statuses[:-1] == [200] * public.VIEWS.per_minute
        assert statuses[-1] == 429
        assert int(api.get(f"/q/{token}").headers["Retry-After"]) > 0


class TestExpiry:
    def test_the_timer_expires_a_sent_quote_once(self, session, sent):
        from pipewise.events.models import ScheduledAction
        from tests.sequences.support import run_worker

        quote, _token = sent
        timer = session.scalar(select(ScheduledAction).where(ScheduledAction.kind == sending.EXPIRE_ACTION))
        assert timer.run_at == sending.expiry_moment(quote.valid_until)
        session.get(Quote, quote.id).valid_until = utcnow().date() - timedelta(days=1)
        timer.run_at = utcnow() - timedelta(seconds=1)
        session.commit()

        due = list(session.scalars(select(ScheduledAction.key).where(ScheduledAction.run_at <= utcnow())))
        assert due == [f"{sending.EXPIRE_ACTION}:{quote.id}"]
        session.rollback()

        run_worker()
        run_worker()

        session.rollback()
        assert session.get(Quote, quote.id).status == "expired"
        from pipewise.events.models import OutboxEvent

        assert len(list(session.scalars(select(OutboxEvent).where(OutboxEvent.name == "quote.expired")))) == 1
        assert any(e.data.get("event") == "expired" for e in timeline(session, "deal", quote.deal_id))

    def test_an_answered_quote_never_expires(self, session, sent):
        from pipewise.quotes import acceptance

        quote, _token = sent
        stored = session.get(Quote, quote.id)
        stored.status, stored.valid_until = "accepted", utcnow().date() - timedelta(days=3)
        session.flush()
        assert acceptance.expire(session, quote.id) is False
        assert stored.status == "accepted"


class TestWhatTheRepSees:
    def test_the_acceptance_read_shows_link_views_and_answer(self, api, session, factory, sent):
        quote, token = sent
        rep_id = session.get(Quote, quote.id).owner_id
        from pipewise.auth.models import User

        headers = factory.headers(session.get(User, rep_id))
        outsider = factory.user(team=factory.team("West"))
        session.commit()

        before = api.get(f"/api/v1/quotes/{quote.id}/acceptance", headers=headers).json()
        assert before["status"] == "sent" and before["view_count"] == 0
        assert api.get(before["accept_url"].removeprefix("http://127.0.0.1:8000")).status_code == 200
        assert accept(api, token, signer_name="Claire Martin").status_code == 303
        after = api.get(f"/api/v1/quotes/{quote.id}/acceptance", headers=headers).json()

        assert after["status"] == "accepted" and after["accept_url"] is None and after["view_count"] == 2
        assert after["answer"]["signer_name"] == "Claire Martin" and after["answer"]["pdf_sha256"] == after["pdf_sha256"]
        assert after["answer"]["user_agent"] == "BuyerPhone/1.0" and after["answer"]["has_signature"] is False
        hidden = api.get(f"/api/v1/quotes/{quote.id}/acceptance", headers=factory.headers(outsider))
        assert hidden.status_code == 404
