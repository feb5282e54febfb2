"""Timers, verdicts and decision logs of the run kernel, on the test database."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from pipewise.events.models import ScheduledAction
from pipewise.runs import DecisionLog, StepTimer, Verdict, schedule_step, timer_key
from pipewise.sequences.models import SequenceDecision

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_timer_key_joins_its_parts() -> None:
    enrollment = uuid.UUID(int=7)
    assert timer_key("seq", enrollment, "s1", 3) == f"seq:{enrollment}:s1:3"


def test_a_step_timer_round_trips_through_the_scheduled_action(session) -> None:  # type: ignore[no-untyped-def]
    enrollment = uuid.uuid4()
    key = schedule_step(session, key=timer_key("t", enrollment.hex, "a"), kind="test.step", run_at=AT,
                        enrollment_id=enrollment, step_id="a", version=2)
    schedule_step(session, key=key, kind="test.step", run_at=AT, enrollment_id=enrollment, step_id="a", version=2)
    actions = list(session.scalars(select(ScheduledAction).where(ScheduledAction.key == key)))
    assert len(actions) == 1  # the same key is one timer
    timer = StepTimer.of(actions[0])
    assert (timer.enrollment_id, timer.step_id, timer.payload["version"]) == (enrollment, "a", 2)
    assert actions[0].run_at == AT and actions[0].kind == "test.step"


def test_a_timer_without_a_step() -> None:
    action = ScheduledAction(key="k", kind="test.resume", run_at=AT, payload={"enrollment_id": str(uuid.UUID(int=1))})
    assert StepTimer.of(action).step_id is None


def test_only_go_is_clear() -> None:
    assert Verdict("go", "clear", "fine").clear
    assert not any(Verdict(action, "x", "why").clear for action in ("hold", "pause", "exit"))


def test_a_decision_log_names_its_own_columns(session) -> None:  # type: ignore[no-untyped-def]
    log = DecisionLog(SequenceDecision, kind_column="decision")
    row = log.write(
        session, kind="held", reason="outside the window", at=AT, step_id=None, data={"n": 1},
        enrollment_id=uuid.uuid4(), sequence_id=uuid.uuid4(), contact_id=uuid.uuid4(), code="send_window",
    )
    assert isinstance(row, SequenceDecision)
    assert (row.decision, row.reason, row.data, row.code, row.at) == ("held", "outside the window", {"n": 1}, "send_window", AT)
    assert row in session.new


def test_a_deferred_log_writes_nothing_until_the_flush(session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    written = []
    monkeypatch.setattr("pipewise.runs.decisions.insert_later", lambda s, model, row: written.append((model, row)))
    log = DecisionLog(SequenceDecision, reason_column="reason", data_column="data", kind_column="decision", deferred=True)
    assert log.write(session, kind="sent", reason="e-mailed", at=AT, code="sent") is None
    assert written == [(SequenceDecision, {"code": "sent", "step_id": None, "decision": "sent", "reason": "e-mailed", "data": {}, "at": AT})]
