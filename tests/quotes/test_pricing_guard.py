"""The pricing guard through the real send paths: a sequence step and a workflow e-mail
that talk about price are held while the contact or its account has an open sent quote
(ledger and decision log say "open quote Q-… at €…", the rep gets a task); the same
e-mail goes out when no quote is open, and a rep's own e-mail is never held."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Task
from pipewise.db.base import utcnow
from pipewise.mail import compose
from pipewise.mail.models import EmailMessage
from pipewise.quotes import sending
from pipewise.quotes.models import Quote
from pipewise.quotes.pricing_guard import detected_price
from pipewise.sequences.models import SequenceDecision
from pipewise.sequences.service import sequence_service
from tests.quotes.accept_support import make_quote
from tests.sequences.support import email_step, live_sequence, mailbox, run_worker, smtp  # noqa: F401 - the SMTP fixture


@pytest.mark.parametrize("text", [
    "Only €1,200 for the year", "1.200,00 EUR per seat", "just $99", "USD 49 a month", "£5.50 each", "now 20% off",
    "save 15 % today", "a 10 % discount for you", "<p>Price: <b>&euro;300</b></p>", "get 25% on renewals",
])
def test_prices_and_offers_are_found(text):
    assert detected_price(text) is not None


@pytest.mark.parametrize("text", [
    "99 % uptime, as promised", "Meet on 12.03 at 10:30", "Version 2.4 is out", "3 new features", "Call me at +49 30 1234",
])
def test_plain_numbers_are_not_prices(text):
    assert detected_price(text) is None


@pytest.fixture
def world(session, factory, smtp):  # noqa: F811
    rep = factory.user(team=factory.team("East"))
    mailbox(session, rep)
    quote = make_quote(session, factory, owner=rep)
    sending.send_quote(session, quote.id, factory.actor(rep))
    contact_id = quote.contact_id
    session.commit()
    run_worker()  # the quote's own e-mail goes out: a rep's send is never held
    session.rollback()
    assert len(smtp.handler.messages) == 1
    return {"rep": rep, "quote": quote, "contact_id": contact_id, "smtp": smtp}


def run_sequence(session, world, step):  # type: ignore[no-untyped-def]
    # Marketing's nurture, set to carry on past the open deal and the rep's own e-mail (the
    # quote): the case the guard is for. With the default rules the quote e-mail alone pauses it.
    rules = {"on_deal_created": "ignore", "on_deal_stage": "ignore", "on_manual_touch": "ignore"}
    sequence = live_sequence(session, f"Nurture {utcnow().timestamp()}", [step], sender_id=world["rep"].id, rules=rules)
    enrollment = sequence_service.enroll(session, sequence_id=sequence.id, contact_id=world["contact_id"], actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    session.rollback()
    return enrollment


def held_reason(quote: Quote) -> str:
    return f"open quote {quote.number} at €{quote.gross_total:,.2f}"


class TestSequences:
    def test_a_price_in_a_sequence_step_is_held_while_the_quote_is_open(self, session, world):
        quote = world["quote"]
        run_sequence(session, world, email_step("Spring offer", "<p>Upgrade now for only €49 a month.</p>"))

        message = session.scalar(select(EmailMessage).where(EmailMessage.kind == "sequence"))
        assert message.status == "cancelled" and message.error == held_reason(quote)
        assert len(world["smtp"].handler.messages) == 1  # only the quote itself
        decision = session.scalar(select(SequenceDecision).where(SequenceDecision.code == "blocked_at_send"))
        assert held_reason(quote) in decision.reason
        task = session.scalar(select(Task).where(Task.title.like("Held an automated e-mail%")))
        assert task.owner_id == world["rep"].id and task.related_id == quote.deal_id
        assert held_reason(quote) in task.title

    def test_a_step_flagged_as_pricing_is_held_without_a_visible_price(self, session, world):
        step = email_step("Something special for you", "<p>Have a look at our new plans.</p>")
        step["variants"][0]["mentions_pricing"] = True
        run_sequence(session, world, step)
        message = session.scalar(select(EmailMessage).where(EmailMessage.kind == "sequence"))
        assert message.mentions_pricing and message.status == "cancelled"
        assert message.error == held_reason(world["quote"])

    def test_a_template_flag_carries_into_the_step(self, session, world):
        from pipewise.sequences.library import template_service

        template = template_service.create(session, data={
            "name": "Offer", "subject": "A thought", "body_html": "<p>Our plans changed.</p>", "mentions_pricing": True,
        }, actor=SYSTEM_ACTOR)
        step = {"kind": "auto_email", "delay_days": 0, "business_days": False, "variants": [{"label": "A", "template_id": str(template.id)}]}
        run_sequence(session, world, step)
        message = session.scalar(select(EmailMessage).where(EmailMessage.kind == "sequence"))
        assert message.status == "cancelled" and message.error == held_reason(world["quote"])

    def test_an_email_without_a_price_goes_out(self, session, world):
        run_sequence(session, world, email_step("Checking in", "<p>How is the rollout going?</p>"))
        message = session.scalar(select(EmailMessage).where(EmailMessage.kind == "sequence"))
        assert message.status == "sent"

    def test_once_the_quote_is_answered_or_expired_prices_go_out_again(self, session, world):
        stored = session.get(Quote, world["quote"].id)
        stored.valid_until = utcnow().date() - timedelta(days=1)
        session.commit()
        run_sequence(session, world, email_step("Spring offer", "<p>Only €49 a month.</p>"))
        message = session.scalar(select(EmailMessage).where(EmailMessage.kind == "sequence"))
        assert message.status == "sent"

    def test_a_colleague_at_the_same_account_is_covered_too(self, session, factory, world):
        quote = world["quote"]
        colleague = factory.contact(world["rep"], account_id=quote.account_id)
        session.commit()
        world = {**world, "contact_id": colleague.id}
        run_sequence(session, world, email_step("Offer", "<p>20% off this week</p>"))
        message = session.scalar(select(EmailMessage).where(EmailMessage.kind == "sequence"))
        assert message.status == "cancelled" and message.error == held_reason(quote)


class TestWorkflowsAndReps:
    def test_a_workflow_email_with_a_price_is_held(self, session, factory, world):
        from pipewise.automation.service import workflow_service
        from pipewise.crm.models import Contact

        definition = {
            "trigger": {"type": "manual", "record_type": "contact"},
            "steps": [{"id": "offer", "type": "send_email", "subject": "Offer", "body": "Renew now at $99 per seat."}],
        }
        manager = factory.user(role="manager", team=factory.team("Ops"))
        workflow = workflow_service.create(session, name="Offers", definition=definition, actor=SYSTEM_ACTOR)
        workflow_service.activate(session, workflow.id, actor=SYSTEM_ACTOR)
        workflow_service.enroll_records(session, workflow.id, [world["contact_id"]], actor=SYSTEM_ACTOR)
        assert manager and session.get(Contact, world["contact_id"])
        session.commit()
        run_worker()
        session.rollback()

        message = session.scalar(select(EmailMessage).where(EmailMessage.kind == "workflow"))
        assert message.status == "cancelled" and message.error == held_reason(world["quote"])

    def test_a_reps_own_email_with_a_price_is_not_held(self, session, world):
        from pipewise.crm.models import Contact

        contact = session.get(Contact, world["contact_id"])
        compose.queue(session, compose.Letter(
            to_address=contact.email, subject="Your price", text="As discussed: €1,200.", kind="manual", automated=False,
            contact=contact, sender_id=world["rep"].id,
        ), immediately=False)
        session.commit()
        run_worker()
        session.rollback()
        message = session.scalar(select(EmailMessage).where(EmailMessage.subject == "Your price"))
        assert message.status == "sent"
