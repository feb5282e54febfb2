"""The issue's end-to-end scenarios, against a real SMTP server on loopback: automation
never talks over the salesperson, and the record says why."""

from datetime import timedelta
from email.message import EmailMessage as Mime

import pytest
from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Task
from pipewise.deals.service import deal_service
from pipewise.errors import Conflict, ValidationFailed
from pipewise.events import bus
from pipewise.records.timeline import timeline
from pipewise.sequences.models import EmailMessage, Enrollment, SequenceDecision, Suppression
from pipewise.sequences.service import sequence_service
from tests.sequences.support import email_step, gateway_headers, live_sequence, mailbox, run_worker

NURTURE = [
    email_step("Ideas for {{ account.name | default('your team') }}", "<p>Hi {{ contact.first_name | default('there') }}</p>"),
    email_step("", "<p>A follow-up</p>", delay_days=2),
]


@pytest.fixture
def rep(session, factory):  # type: ignore[no-untyped-def]
    user = factory.user(name="Rita Rep")
    mailbox(session, user)
    return user


def enroll(session, sequence, *contacts):  # type: ignore[no-untyped-def]
    for contact in contacts:
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()


def fresh(session) -> None:  # type: ignore[no-untyped-def]
    """End the test's read transaction so it sees what the worker committed."""
    session.commit()
    session.expire_all()


def enrollment_of(session, contact) -> Enrollment:  # type: ignore[no-untyped-def]
    fresh(session)
    return session.scalars(select(Enrollment).where(Enrollment.contact_id == contact.id).order_by(Enrollment.enrolled_at.desc())).first()


def automation_entries(session, contact) -> list[str]:  # type: ignore[no-untyped-def]
    fresh(session)
    return [f"{e.title} | {e.detail}" for e in timeline(session, "contact", contact.id) if e.kind == "automation"]


def test_1_a_manual_email_holds_the_next_automated_step_and_the_timeline_says_why(session, factory, smtp, clock, rep):
    contact = factory.contact(rep, first_name="Ada")
    nurture = live_sequence(session, "Nurture", NURTURE)
    enroll(session, nurture, contact)
    run_worker()
    assert len(smtp.handler.to(contact.email)) == 1

    factory.activity(rep, type="email", direction="outbound", subject="Saw your post", contact_id=contact.id, occurred_at=clock.now())
    session.commit()
    run_worker()

    enrollment = enrollment_of(session, contact)
    assert enrollment.status == "paused"
    assert enrollment.paused_until > clock.now() + timedelta(days=2)
    assert any("by hand" in line and "held" in line for line in automation_entries(session, contact))

    clock.advance(days=2, hours=1)  # when step 2 was due
    run_worker()
    assert len(smtp.handler.to(contact.email)) == 1, "the follow-up went out over the rep's own e-mail"

    clock.advance(days=4)  # past the three business days
    run_worker()
    assert len(smtp.handler.to(contact.email)) == 2
    assert enrollment_of(session, contact).status == "finished"


def test_2_a_sequence_ending_with_no_next_touch_gives_the_owner_a_task(session, factory, smtp, clock, rep):
    contact = factory.contact(rep)
    one_shot = live_sequence(session, "One shot", [email_step("Hello", "<p>Hello</p>")])
    enroll(session, one_shot, contact)
    run_worker()

    assert enrollment_of(session, contact).status == "finished"
    fresh(session)
    tasks = session.scalars(select(Task).where(Task.related_id == contact.id, Task.status == "open")).all()
    assert [(t.owner_id, t.title) for t in tasks] == [(rep.id, f"Plan the next touch with {contact.full_name}")]
    assert any("orphan" not in line and "nothing else was scheduled" in line for line in automation_entries(session, contact))


def test_3_a_deal_reaching_the_chosen_stage_takes_everyone_on_it_and_at_its_account_out(session, factory, smtp, clock, rep):
    _pipeline, stages = factory.pipeline()
    demo = next(s for s in stages if s.name == "Demo")
    account = factory.account(rep)
    on_deal, colleague, elsewhere = (factory.contact(rep, account_id=account.id), factory.contact(rep, account_id=account.id), factory.contact(rep))
    deal = factory.deal(rep, account_id=account.id)
    deal_service.add_contact(session, deal.id, on_deal.id, role="champion", actor=SYSTEM_ACTOR)
    nurture = live_sequence(session, "Nurture", NURTURE, rules={"exit_stage_id": str(demo.id)})
    enroll(session, nurture, on_deal, colleague, elsewhere)
    run_worker()
    assert len(smtp.handler.messages) == 3

    deal_service.move_to_stage(session, deal.id, demo.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    for contact in (on_deal, colleague):
        enrollment = enrollment_of(session, contact)
        assert (enrollment.status, "Demo" in enrollment.reason) == ("exited", True)
    clock.advance(days=3)
    run_worker()
    assert len(smtp.handler.to(on_deal.email)) == len(smtp.handler.to(colleague.email)) == 1
    assert len(smtp.handler.to(elsewhere.email)) == 2


def reply_to(original: Mime, *, sender: str, subject: str = "Re: hello", auto: bool = False) -> bytes:
    reply = Mime()
    reply["From"] = sender
    reply["To"] = str(original["From"])
    reply["Subject"] = subject
    reply["Message-ID"] = f"<reply.{abs(hash((sender, subject)))}@prospect.example>"
    reply["In-Reply-To"] = original["Message-ID"]
    reply["References"] = original["Message-ID"]
    if auto:
        reply["Auto-Submitted"] = "auto-replied"
    reply.set_content("Sounds interesting, call me tomorrow.")
    return bytes(reply)


def test_4_one_stakeholder_replies_the_others_pause_and_the_account_cap_holds(session, factory, smtp, clock, rep, api, inbound_secret):
    account = factory.account(rep)
    first, second, third = (factory.contact(rep, account_id=account.id) for _ in range(3))
    intro = live_sequence(session, "Intro", NURTURE, rules={"account_daily_cap": 2})
    enroll(session, intro, first, second, third)
    run_worker()
    assert len(smtp.handler.messages) == 2, "the account's daily cap let a third e-mail through"
    fresh(session)
    held = session.scalars(select(SequenceDecision).where(SequenceDecision.code == "account_cap")).all()
    assert len(held) == 1 and "cap 2" in held[0].reason

    replier = next(c for c in (first, second, third) if smtp.handler.to(c.email))
    raw = reply_to(smtp.handler.to(replier.email)[0], sender=replier.email)
    response = api.post("/api/v1/inbound/email", content=raw, headers=gateway_headers(raw))
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "reply"
    run_worker()

    assert enrollment_of(session, replier).status == "exited"
    for other in {first, second, third} - {replier}:
        enrollment = enrollment_of(session, other)
        assert enrollment.status == "paused" and "at the same account replied" in enrollment.reason
    reply_task = session.scalar(select(Task).where(Task.related_id == replier.id, Task.title.startswith("Reply from")))
    assert reply_task is not None and reply_task.owner_id == rep.id
    clock.advance(days=3)
    run_worker()
    assert len(smtp.handler.messages) == 2


def test_5_a_meeting_booked_after_a_demo_request_ends_the_intro_sequence(session, factory, smtp, clock, rep, monkeypatch):
    contact = factory.contact(rep)
    intro = live_sequence(session, "Intro", NURTURE)
    enroll(session, intro, contact)
    run_worker()

    # Even with no subscriber reacting to the meeting, the step re-checks before sending.
    monkeypatch.setattr(bus, "_subscriptions", {k: v for k, v in bus._subscriptions.items() if k != "sequences.activity_signal"})
    monkeypatch.setattr(bus, "_subscribers_by_names", {})
    factory.activity(rep, type="meeting", subject="Demo", contact_id=contact.id)
    session.commit()
    clock.advance(days=3)
    run_worker()

    enrollment = enrollment_of(session, contact)
    assert enrollment.status == "exited" and "meeting" in enrollment.reason
    assert len(smtp.handler.to(contact.email)) == 1
    sent_after = session.scalar(
        select(func.count()).select_from(EmailMessage).where(EmailMessage.contact_id == contact.id, EmailMessage.status == "sent")
    )
    assert sent_after == 1


def test_6_one_click_unsubscribe_stops_every_sequence_and_workflow_at_once(session, factory, smtp, clock, rep, api):
    contact = factory.contact(rep)
    nurture = live_sequence(session, "Nurture", NURTURE)
    other = live_sequence(session, "Other", NURTURE)
    enroll(session, nurture, contact)
    run_worker()
    received = smtp.handler.to(contact.email)[0]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = str(received["List-Unsubscribe"]).split(",")[0].strip("<>")

    response = api.post(url.split("8000", 1)[1], data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200, response.text

    fresh(session)
    assert session.scalar(select(Suppression.reason).where(Suppression.address == contact.email)) == "unsubscribe"
    assert enrollment_of(session, contact).status == "exited"
    with pytest.raises(Conflict):
        sequence_service.enroll(session, sequence_id=other.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    with pytest.raises(ValidationFailed):
        sequence_service.send_email(session, contact_id=contact.id, subject="Workflow", body_html="<p>x</p>", actor=SYSTEM_ACTOR)
    clock.advance(days=3)
    run_worker()
    assert len(smtp.handler.to(contact.email)) == 1
