"""Scenario 7: the worker is killed mid-send 20 times (at MAIL FROM, at RCPT TO and right
after the server accepted the message body); the SMTP server still receives every
message exactly once."""

import os
import signal

import pytest
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.sequences.models import EmailMessage, Enrollment
from pipewise.sequences.service import sequence_service
from tests.processes import worker_process
from tests.sequences.crash_worker import drain
from tests.sequences.support import email_step, live_sequence, mailbox

KILLS = 20
CONTACTS = 20
STAGES = ("MAIL", "RCPT", "DATA")

pytestmark = pytest.mark.slow


def test_7_killing_the_worker_mid_send_neither_duplicates_nor_loses_mail(session, factory, smtp, database):
    rep = factory.user()
    mailbox(session, rep)
    sequence = live_sequence(session, "Crash", [email_step("Hello {{ contact.first_name }}", "<p>Hi</p>")])
    contacts = [factory.contact(rep) for _ in range(CONTACTS)]
    for contact in contacts:
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()

    state = {"pid": None, "kills": 0}

    def kill_now(command: str, _envelope: object) -> None:
        if state["kills"] >= KILLS or state["pid"] is None:
            return
        if command == STAGES[state["kills"] % len(STAGES)]:
            state["kills"] += 1
            os.kill(state["pid"], signal.SIGKILL)

    smtp.handler.on_command = kill_now
    environment = {
        "PIPEWISE_DATABASE_URL": database,
        "PIPEWISE_SMTP_HOST": "127.0.0.1",
        "PIPEWISE_SMTP_PORT": str(smtp.port),
        "PIPEWISE_SMTP_SECURITY": "none",
        # One worker at a time here, so a dead worker's claim may be taken over at once.
        "PIPEWISE_SEND_LEASE_SECONDS": "0",
    }
    exit_codes = []
    for _round in range(KILLS * 3):
        process = worker_process(drain, (environment,))
        process.start()
        state["pid"] = process.pid
        process.join(timeout=120)
        exit_codes.append(process.exitcode)
        if process.exitcode == 0:
            break

    assert state["kills"] == KILLS, exit_codes
    assert exit_codes.count(-signal.SIGKILL) == KILLS
    received = smtp.handler.message_ids()
    session.commit()
    ledger = set(session.scalars(select(EmailMessage.message_id).where(EmailMessage.direction == "outbound")))
    assert set(received) == ledger and len(ledger) == CONTACTS, "a message was lost"
    assert max(received.values()) == 1, f"duplicates reached the SMTP server: {received.most_common(3)}"
    statuses = set(session.scalars(select(EmailMessage.status)))
    assert statuses == {"sent"}
    assert set(session.scalars(select(Enrollment.status))) == {"finished"}
