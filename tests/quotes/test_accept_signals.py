"""The buyer's answer as a sales signal: a workflow triggered by quote.accepted enrolls
the deal, and a sequence treats an accepted or declined quote like a reply."""

from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.models import Enrollment as WorkflowEnrollment
from pipewise.automation.service import workflow_service
from pipewise.crm.models import Task
from pipewise.quotes import acceptance, sending
from pipewise.sequences.models import Enrollment
from pipewise.sequences.service import sequence_service
from tests.quotes.accept_support import make_quote
from tests.sequences.support import email_step, live_sequence, run_worker


def sent_quote(session, factory):  # type: ignore[no-untyped-def]
    rep = factory.user(team=factory.team("East"))
    quote = make_quote(session, factory, owner=rep)
    sending.send_quote(session, quote.id, factory.actor(rep))
    return quote, sending.accept_token(session, quote)


def test_a_workflow_fires_on_quote_accepted_for_the_deal(session, factory):
    definition = {
        "trigger": {"type": "quote_event", "event": "accepted"},
        "steps": [{"id": "kickoff", "type": "create_task", "title": "Plan the kickoff for {{ record.name }}"}],
    }
    workflow = workflow_service.create(session, name="Won by quote", definition=definition, actor=SYSTEM_ACTOR)
    workflow_service.activate(session, workflow.id, actor=SYSTEM_ACTOR)
    declined_only = workflow_service.create(session, name="Lost by quote", definition={
        **definition, "trigger": {"type": "quote_event", "event": "declined"}}, actor=SYSTEM_ACTOR)
    workflow_service.activate(session, declined_only.id, actor=SYSTEM_ACTOR)
    quote, token = sent_quote(session, factory)
    session.commit()
    run_worker()

    acceptance.accept(session, token, acceptance.Answer(signer_name="Claire Martin"))
    session.commit()
    run_worker()
    session.rollback()

    enrollments = list(session.scalars(select(WorkflowEnrollment)))
    assert [(e.workflow_id, e.record_type, e.record_id) for e in enrollments] == [(workflow.id, "deal", quote.deal_id)]
    assert session.scalar(select(Task).where(Task.title.like("Plan the kickoff%"))) is not None


def test_an_answered_quote_ends_the_contacts_sequence_like_a_reply(session, factory):
    quote, token = sent_quote(session, factory)
    rules = {"on_deal_created": "ignore", "on_deal_stage": "ignore", "on_manual_touch": "ignore"}
    sequence = live_sequence(session, "Nurture", [email_step("Hello", "<p>Hi</p>", delay_days=5)], rules=rules)
    enrollment = sequence_service.enroll(session, sequence_id=sequence.id, contact_id=quote.contact_id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()

    acceptance.decline(session, token, acceptance.Answer(reason="We chose another vendor"))
    session.commit()
    run_worker()
    session.rollback()

    session.expire_all()
    stored = session.get(Enrollment, enrollment.id)
    assert stored.status == "exited"
    assert "declined quote" in (stored.reason or "")
