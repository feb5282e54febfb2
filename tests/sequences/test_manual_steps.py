"""Steps a person carries out: the e-mail of a manual step sent from the rep's queue goes
out as that step of the sequence (threaded, not a touch by hand that holds it), and steps
are reordered through the service and the API."""

import pytest
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Task
from pipewise.errors import Conflict, ValidationFailed
from pipewise.sequences.models import EmailMessage, Enrollment
from pipewise.sequences.service import sequence_service
from tests.sequences.support import email_step, live_sequence, mailbox, run_worker

MANUAL_THEN_AUTO = [
    email_step("Hello {{ contact.first_name }}", "<p>Opening note</p>"),
    {"kind": "manual_email", "delay_days": 0, "thread": True,
     "variants": [{"label": "A", "subject": "", "body_html": "<p>Hi {{ contact.first_name }}, a personal note</p>"}]},
    email_step("", "<p>Automated follow-up</p>", delay_days=1, thread=True),
]


def fresh(session) -> None:  # type: ignore[no-untyped-def]
    session.commit()
    session.expire_all()


def test_a_manual_step_sent_from_the_queue_is_a_step_of_the_sequence(session, factory, smtp, clock):
    rep = factory.user(name="Rita Rep")
    mailbox(session, rep)
    contact = factory.contact(rep, first_name="Ada")
    sequence = live_sequence(session, "Personal", MANUAL_THEN_AUTO)
    sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    fresh(session)
    task = session.scalar(select(Task).where(Task.status == "open", Task.owner_id == rep.id))
    assert task is not None and len(smtp.handler.to(contact.email)) == 1

    actor = factory.actor(rep)
    sent = sequence_service.send_manual_step(session, task_id=task.id, subject="Re: Hello Ada", body_text="Hi Ada,\n\nfree Friday?", actor=actor)
    session.commit()
    enrollment = session.scalar(select(Enrollment).where(Enrollment.contact_id == contact.id))
    assert (sent.enrollment_id, sent.step_id, sent.kind, sent.automated) == (enrollment.id, sequence_service.steps(session, sequence.id)[1].id, "sequence", False)
    assert session.get(Task, task.id).status == "done"
    run_worker()
    first, personal = smtp.handler.to(contact.email)
    assert "free Friday?" in personal.get_body(("plain",)).get_content()
    assert personal["In-Reply-To"] == first["Message-ID"]

    clock.advance(days=1, hours=1)
    run_worker()
    mails = smtp.handler.to(contact.email)
    assert len(mails) == 3, "the rep's own step held the sequence it belongs to"
    assert mails[2]["References"].split() == [first["Message-ID"], personal["Message-ID"]]
    fresh(session)
    assert session.get(Enrollment, enrollment.id).status == "finished"


def test_only_a_manual_e_mail_step_can_be_sent_and_only_once(session, factory, smtp, clock):
    rep = factory.user()
    mailbox(session, rep)
    contact = factory.contact(rep)
    manual = {"kind": "manual_email", "variants": [{"label": "A", "subject": "Hello", "body_html": "<p>Hi</p>"}]}
    sequence = live_sequence(session, "Personal", [manual, email_step("Later", "<p>Later</p>", delay_days=3)])
    sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    fresh(session)
    task = session.scalar(select(Task).where(Task.status == "open"))
    other = factory.task(rep, title="Unrelated")
    actor = factory.actor(rep)
    with pytest.raises(ValidationFailed) as refused:
        sequence_service.send_manual_step(session, task_id=other.id, subject="x", body_text="y", actor=actor)
    assert refused.value.errors[0].field == "task_id"
    with pytest.raises(ValidationFailed):
        sequence_service.send_manual_step(session, task_id=task.id, subject="Hi {{ contact.shoe }}", body_text="y", actor=actor)
    sequence_service.send_manual_step(session, task_id=task.id, subject="Hello", body_text="y", actor=actor)
    session.flush()
    enrollment = session.scalar(select(Enrollment).where(Enrollment.contact_id == contact.id))
    enrollment.waiting_task_id, enrollment.next_step_id = task.id, sequence_service.steps(session, sequence.id)[0].id
    with pytest.raises(Conflict):
        sequence_service.send_manual_step(session, task_id=task.id, subject="Hello", body_text="y", actor=actor)
    session.rollback()
    assert session.scalar(select(EmailMessage.id)) is None


def test_steps_are_reordered_through_the_api(api, factory, session):
    admin = factory.user(role="admin")
    steps = [email_step(f"Step {n}", f"<p>{n}</p>", delay_days=n) for n in (1, 2, 3)]
    body = {"name": "Order", "steps": steps}
    created = api.post("/api/v1/sequences", json=body, headers=factory.headers(admin)).json()
    second = created["steps"][1]["id"]
    url = f"/api/v1/sequences/{created['id']}/steps/{second}/move"
    moved = api.post(url, json={"direction": "up"}, headers=factory.headers(admin))
    assert moved.status_code == 200
    assert [s["delay_days"] for s in moved.json()["steps"]] == [2, 1, 3]
    top = api.post(url, json={"direction": "up"}, headers=factory.headers(admin)).json()
    assert [s["delay_days"] for s in top["steps"]] == [2, 1, 3], "the first step stays first"
    bad = api.post(url, json={"direction": "sideways"}, headers=factory.headers(admin))
    assert bad.status_code == 422 and "direction" in bad.text
    rep = factory.user()
    assert api.post(url, json={"direction": "down"}, headers=factory.headers(rep)).status_code in (403, 404)
