"""A sequence's holdout group, end to end: contacts held out by the hash get no e-mail
from a real worker over real SMTP (aiosmtpd on loopback), each hold-out is a decision on
the contact's timeline, the group stays when the share changes, the last look before
SMTP stops a contact held out behind the step's back, and the effect report counts only
what its reader may see."""

from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.db.base import utcnow
from pipewise.events.models import ScheduledAction
from pipewise.runs.holdout import HoldoutAssignment, falls_in_holdout
from pipewise.sequences import engine
from pipewise.sequences.models import EmailMessage, Enrollment, SequenceDecision
from pipewise.sequences.service import sequence_service
from tests.sequences.support import email_step, live_sequence, mailbox, run_worker

STEP = email_step("Hello {{ contact.first_name }}", "<p>Hi there</p>")


def create_sequence(api, headers, share: int) -> str:  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/sequences", json={"name": "Intro", "holdout_percent": share, "steps": [STEP]}, headers=headers)
    assert response.status_code == 201, response.text
    sequence_id = response.json()["id"]
    assert response.json()["holdout_percent"] == share
    assert api.post(f"/api/v1/sequences/{sequence_id}/activate", headers=headers).status_code == 200
    return sequence_id


def contacts_in_both_groups(factory, owner, sequence_id: str, share: int) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    """Contacts until the hash has put at least three in each group."""
    held, treated = [], []
    while len(held) < 3 or len(treated) < 3:
        contact = factory.contact(owner)
        (held if falls_in_holdout("sequence", sequence_id, contact.id, share) else treated).append(contact)
        assert len(held) + len(treated) < 500
    return held, treated


def test_held_out_contacts_get_nothing_and_each_hold_out_is_explained(session, factory, api, smtp):
    rep = factory.user(name="Rita Rep")
    mailbox(session, rep)
    headers = factory.headers(rep)
    sequence_id = create_sequence(api, headers, 20)
    held, treated = contacts_in_both_groups(factory, rep, sequence_id, 20)
    session.commit()

    response = api.post(f"/api/v1/sequences/{sequence_id}/enrollments", headers=headers,
                        json={"contact_ids": [str(c.id) for c in held + treated]})
    assert response.status_code == 200, response.text
    status = {e["contact_id"]: e["status"] for e in response.json()["enrolled"]}
    assert {status[str(c.id)] for c in held} == {"held_out"}
    assert {status[str(c.id)] for c in treated} == {"active"}
    run_worker()

    assert all(len(smtp.handler.to(c.email)) == 1 for c in treated)
    assert [c.email for c in held if smtp.handler.to(c.email)] == []  # no automated touch reached a held-out contact
    held_ids = [c.id for c in held]
    assert session.scalar(select(func.count()).select_from(EmailMessage).where(EmailMessage.contact_id.in_(held_ids))) == 0
    timeline = api.get(f"/api/v1/contacts/{held[0].id}/timeline", headers=headers)
    assert timeline.status_code == 200 and "held out of the sequence “Intro”" in timeline.text

    # Asked again, with the share lowered and then switched off: still held out, said again.
    for share in (5, 0):
        assert api.patch(f"/api/v1/sequences/{sequence_id}", json={"holdout_percent": share}, headers=headers).status_code == 200
        again = api.post(f"/api/v1/sequences/{sequence_id}/enrollments", headers=headers, json={"contact_ids": [str(held[0].id)]})
        assert again.json()["enrolled"][0]["status"] == "held_out"
    session.rollback()  # read what the requests committed since
    assert session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.contact_id == held[0].id)) == 1
    decisions = list(session.scalars(select(SequenceDecision).where(SequenceDecision.contact_id == held[0].id)))
    assert [d.code for d in decisions] == ["held_out"] * 3
    assert "20 % of records" in decisions[0].reason and "enrollment asked by Rita Rep" in decisions[0].reason
    run_worker()
    assert [c.email for c in held if smtp.handler.to(c.email)] == []


def test_a_contact_held_out_after_its_e_mail_was_queued_is_stopped_at_the_last_look(session, factory, smtp):
    rep = factory.user(name="Rita Rep")
    mailbox(session, rep)
    contact = factory.contact(rep)
    sequence = live_sequence(session, "Intro", [STEP])
    enrollment = sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    step_timer = session.scalar(select(ScheduledAction).where(ScheduledAction.kind == engine.STEP_ACTION))
    engine.run_step(session, step_timer)  # the step passes its guards and queues its e-mail, as in the worker
    step_timer.status = "done"
    message = session.scalar(select(EmailMessage).where(EmailMessage.contact_id == contact.id))
    assert message.status == "queued"
    # Meanwhile the contact is put in the holdout; delivery starts once this commits.
    session.add(HoldoutAssignment(scope="sequence", subject_id=sequence.id, record_id=contact.id, record_type="contact",
                                  held_out=True, share=10, assigned_at=utcnow()))
    session.commit()
    run_worker()
    assert smtp.handler.messages == []
    session.expire_all()
    assert session.get(EmailMessage, message.id).status == "cancelled"
    assert session.get(Enrollment, enrollment.id).status == "exited"
    codes = list(session.scalars(select(SequenceDecision.code).where(SequenceDecision.enrollment_id == enrollment.id)))
    assert codes.index("blocked_at_send") < codes.index("held_out")


def test_the_share_is_checked_field_by_field(session, factory, api):
    rep = factory.user()
    headers = factory.headers(rep)
    for bad in (3, 21, -5):
        response = api.post("/api/v1/sequences", json={"name": f"Bad {bad}", "holdout_percent": bad}, headers=headers)
        assert response.status_code == 422
        assert any(e["field"] == "holdout_percent" and "from 5 to 20" in e["message"] for e in response.json()["errors"])
    sequence_id = create_sequence(api, headers, 0)
    response = api.patch(f"/api/v1/sequences/{sequence_id}", json={"holdout_percent": 30}, headers=headers)
    assert response.status_code == 422
    assert api.get(f"/api/v1/sequences/{sequence_id}", headers=headers).json()["holdout_percent"] == 0
