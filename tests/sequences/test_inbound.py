"""Inbound mail: an out-of-office reply only delays; a DSN hard bounce suppresses and
exits; a reply matched by address when the headers are gone still exits."""

from email.message import EmailMessage as Mime

from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.db.session import session_scope
from pipewise.sequences import inbound
from pipewise.sequences.models import EmailMessage, Enrollment, Suppression
from pipewise.sequences.service import sequence_service
from tests.sequences.support import email_step, live_sequence, mailbox, run_worker
from tests.sequences.test_scenarios import NURTURE, enrollment_of, fresh, reply_to


def start(session, factory, smtp):  # type: ignore[no-untyped-def]
    rep = factory.user()
    mailbox(session, rep)
    contact = factory.contact(rep)
    sequence = live_sequence(session, "Nurture", NURTURE)
    sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    return contact, smtp.handler.to(contact.email)[0]


def deliver_inbound(raw: bytes) -> inbound.Outcome:
    with session_scope() as s:
        return inbound.process(s, raw)


def test_an_out_of_office_reply_delays_and_does_not_exit(session, factory, smtp, clock):
    contact, first = start(session, factory, smtp)
    outcome = deliver_inbound(reply_to(first, sender=contact.email, subject="Out of office until Monday", auto=True))
    assert outcome.kind == "auto_reply"
    run_worker()
    clock.advance(days=2, hours=1)
    run_worker()
    assert enrollment_of(session, contact).status == "active"
    assert len(smtp.handler.to(contact.email)) == 1
    assert "out of office" in enrollment_of(session, contact).reason
    clock.advance(days=4)
    run_worker()
    assert len(smtp.handler.to(contact.email)) == 2


DSN = """From: MAILER-DAEMON@mx.example
To: {sender}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.1@mx.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

The message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; {recipient}
Action: failed
Status: {status}
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--b1
Content-Type: text/rfc822-headers

Message-ID: {message_id}
Subject: {subject}

--b1--
"""


def dsn_for(original: Mime, *, status: str = "5.1.1") -> bytes:
    return DSN.format(
        sender=original["From"], recipient=original["To"].addresses[0].addr_spec, status=status,
        message_id=original["Message-ID"], subject=original["Subject"],
    ).replace("\n", "\r\n").encode()


def test_a_hard_bounce_report_suppresses_the_address_and_exits(session, factory, smtp, clock):
    contact, first = start(session, factory, smtp)
    outcome = deliver_inbound(dsn_for(first))
    assert outcome.kind == "bounce", outcome
    fresh(session)
    assert session.scalar(select(Suppression.reason).where(Suppression.address == contact.email)) == "bounce"
    assert session.scalar(select(EmailMessage.status).where(EmailMessage.message_id == first["Message-ID"])) == "bounced"
    assert enrollment_of(session, contact).status == "exited"


def test_a_permanent_smtp_refusal_is_a_bounce_and_a_temporary_one_is_retried(session, factory, smtp, clock):
    rep = factory.user()
    mailbox(session, rep)
    gone, busy = factory.contact(rep, email="gone@reject.example"), factory.contact(rep, email="busy@later.example")
    sequence = live_sequence(session, "Nurture", NURTURE)
    for contact in (gone, busy):
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    fresh(session)
    assert enrollment_of(session, gone).status == "exited"
    assert session.scalar(select(Suppression.address).where(Suppression.address == "gone@reject.example"))
    queued = session.scalar(select(EmailMessage).where(EmailMessage.to_address == "busy@later.example"))
    assert (queued.status, queued.attempts) == ("queued", 1) and "451" in queued.error
    clock.advance(minutes=2)
    run_worker()
    fresh(session)
    assert session.get(EmailMessage, queued.id).attempts == 2


def test_a_reply_without_threading_headers_is_matched_by_address(session, factory, smtp, clock):
    contact, _first = start(session, factory, smtp)
    bare = Mime()
    bare["From"] = contact.email.upper()
    bare["To"] = "someone@example.com"
    bare["Subject"] = "question"
    bare["Message-ID"] = "<bare.1@prospect.example>"
    bare.set_content("Can we talk?")
    assert deliver_inbound(bytes(bare)).kind == "reply"
    assert deliver_inbound(bytes(bare)).kind == "duplicate"
    run_worker()
    assert enrollment_of(session, contact).status == "exited"
    assert isinstance(enrollment_of(session, contact), Enrollment)
