"""One fact, one event, one pass of the guards: a deal's move to another stage is one
outbox event that reaches the sequences once, and an inbound reply drives the sequence
engine once (from the outbox, not also from the request)."""

from collections import Counter

import pytest
from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.deals.service import deal_service
from pipewise.events.models import OutboxEvent
from pipewise.sequences import engine
from pipewise.sequences.models import Enrollment, SequenceDecision
from tests.sequences.support import gateway_headers, live_sequence, mailbox, run_worker
from tests.sequences.test_scenarios import NURTURE, enroll, fresh, reply_to


@pytest.fixture
def rep(session, factory):  # type: ignore[no-untyped-def]
    user = factory.user(name="Rita Rep")
    mailbox(session, user)
    return user


class GuardPasses:
    """Counts the guard evaluations of each enrollment, from when it is started."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.by_enrollment: Counter = Counter()

    def start(self) -> None:
        evaluate = engine.evaluate

        def counted(session, enrollment, **kw):  # type: ignore[no-untyped-def]
            self.by_enrollment[enrollment.id] += 1
            return evaluate(session, enrollment, **kw)

        self.monkeypatch.setattr(engine, "evaluate", counted)


@pytest.fixture
def guard_passes(monkeypatch: pytest.MonkeyPatch) -> GuardPasses:
    return GuardPasses(monkeypatch)


def last_event_id(session) -> int:  # type: ignore[no-untyped-def]
    fresh(session)
    return session.scalar(select(func.coalesce(func.max(OutboxEvent.id), 0)))


def events_since(session, event_id: int) -> list[OutboxEvent]:  # type: ignore[no-untyped-def]
    fresh(session)
    return list(session.scalars(select(OutboxEvent).where(OutboxEvent.id > event_id).order_by(OutboxEvent.id)))


def decisions(session, decision: str) -> Counter:  # type: ignore[no-untyped-def]
    fresh(session)
    return Counter(session.scalars(select(SequenceDecision.enrollment_id).where(SequenceDecision.decision == decision)))


def test_a_board_move_is_one_event_and_one_guard_pass_per_enrollment(session, factory, smtp, clock, rep, api, guard_passes):
    _pipeline, stages = factory.pipeline()
    demo = next(s for s in stages if s.name == "Demo")
    account = factory.account(rep)
    on_deal, colleague = factory.contact(rep, account_id=account.id), factory.contact(rep, account_id=account.id)
    deal = factory.deal(rep, account_id=account.id)
    deal_service.add_contact(session, deal.id, on_deal.id, role="champion", actor=SYSTEM_ACTOR)
    # Paused, an enrollment stays live: a second pass of the guards would be counted.
    nurture = live_sequence(session, "Nurture", NURTURE, rules={"on_deal_stage": "pause"})
    enroll(session, nurture, on_deal, colleague)
    run_worker()
    before = last_event_id(session)
    guard_passes.start()

    moved = api.post(f"/api/v1/deals/{deal.id}/move", json={"stage_id": str(demo.id)}, headers=factory.headers(rep))
    assert moved.status_code == 200, moved.text

    [event] = events_since(session, before)
    assert (event.name, event.record_id) == ("deal.stage_changed", deal.id)
    assert event.payload["data"]["to_stage"] == "Demo" and event.payload["data"]["kind"] == "open"
    assert event.payload["changes"]["stage_id"][1] == str(demo.id)  # what a deal.updated carried

    run_worker()
    enrollments = set(session.scalars(select(Enrollment.id).where(Enrollment.sequence_id == nurture.id)))
    assert guard_passes.by_enrollment == Counter({enrollment_id: 1 for enrollment_id in enrollments})
    assert decisions(session, "paused") == Counter({enrollment_id: 1 for enrollment_id in enrollments})


def test_an_inbound_reply_drives_the_sequence_engine_once(session, factory, smtp, clock, rep, api, inbound_secret, guard_passes):
    contact = factory.contact(rep)
    nurture = live_sequence(session, "Nurture", NURTURE, rules={"on_reply": "pause"})
    enroll(session, nurture, contact)
    run_worker()
    [first] = smtp.handler.to(contact.email)
    guard_passes.start()

    raw = reply_to(first, sender=contact.email)
    response = api.post("/api/v1/inbound/email", content=raw, headers=gateway_headers(raw))
    assert response.status_code == 200 and response.json()["kind"] == "reply", response.text
    assert guard_passes.by_enrollment == Counter()  # the request only records the reply
    run_worker()

    enrollment = session.scalars(select(Enrollment).where(Enrollment.contact_id == contact.id)).one()
    assert enrollment.status == "paused" and "replied" in enrollment.reason
    assert guard_passes.by_enrollment == Counter({enrollment.id: 1})
    assert decisions(session, "paused") == Counter({enrollment.id: 1})
