from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.sequences.models import EmailMessage, Enrollment
from pipewise.sequences.service import sequence_service
from tests.sequences.support import email_step, live_sequence, mailbox, run_worker


def test_two_step_sequence_sends_threaded_mail(session, factory, smtp, clock):
    rep = factory.user(name="Rita Rep")
    mailbox(session, rep)
    contact = factory.contact(rep, first_name="Ada", timezone="Europe/Berlin")
    seq = live_sequence(session, "Intro", [
        email_step("Hello {{ contact.first_name }}", "<p>Hi {{ contact.first_name | default('there') }}</p>"),
        email_step("", "<p>Following up</p>", delay_days=2),
    ])
    sequence_service.enroll(session, sequence_id=seq.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    assert len(smtp.handler.messages) == 1
    clock.advance(days=3)
    run_worker()
    msgs = smtp.handler.to(contact.email)
    assert [m["Subject"] for m in msgs] == ["Hello Ada", "Re: Hello Ada"]
    assert msgs[1]["In-Reply-To"] == msgs[0]["Message-ID"]
    session.expire_all()
    assert session.get(Enrollment, session.query(Enrollment).one().id).status == "finished"
