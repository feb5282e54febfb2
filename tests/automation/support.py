"""Helpers for the automation tests: a controllable clock, workflows built through the
real service, and a worker run until nothing is due."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import pipewise.automation.handlers  # noqa: F401 - registers the engine on the bus
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.automation import engine, service
from pipewise.automation.models import Decision, Enrollment, Workflow
from pipewise.automation.service import workflow_service
from pipewise.worker import runner
from pipewise.worker.runner import Worker

MANAGER = Actor(id=SYSTEM_ACTOR.id, role="admin", name="Test admin")


class Clock:
    """Stands in for ``utcnow`` in the engine, the service and the worker."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock(datetime.now(UTC).replace(microsecond=0))
    for module in (engine, service, runner):
        monkeypatch.setattr(module, "utcnow", fake)
    yield fake


def make_workflow(
    session: Session, definition: dict[str, Any], *, name: str = "Test workflow", activate: bool = True,
    actor: Actor = MANAGER, **kw: Any,
) -> Workflow:
    workflow = workflow_service.create(session, name=name, definition=definition, actor=actor, **kw)
    if activate:
        workflow_service.activate(session, workflow.id, actor=actor)
    session.commit()
    return workflow


def drain(session: Session) -> int:
    """Commit what the test arranged, run the worker until idle, and look again."""
    session.commit()
    handled = Worker(name="test").run_until_idle()
    session.expire_all()
    return handled


def decisions(session: Session, record_id: Any = None, workflow: Workflow | None = None) -> list[Decision]:
    stmt = select(Decision).order_by(Decision.id)
    if record_id is not None:
        stmt = stmt.where(Decision.record_id == record_id)
    if workflow is not None:
        stmt = stmt.where(Decision.workflow_id == workflow.id)
    return list(session.scalars(stmt))


def kinds(session: Session, record_id: Any) -> list[str]:
    return [d.kind for d in decisions(session, record_id)]


def messages(session: Session, record_id: Any) -> list[str]:
    return [f"{d.kind}: {d.message}" for d in decisions(session, record_id)]


def enrollments(session: Session, workflow: Workflow) -> list[Enrollment]:
    return list(session.scalars(select(Enrollment).where(Enrollment.workflow_id == workflow.id).order_by(Enrollment.enrolled_at)))


def only_enrollment(session: Session, workflow: Workflow) -> Enrollment:
    found = enrollments(session, workflow)
    assert len(found) == 1, found
    return found[0]


def emit(session: Session, name: str, record_type: str | None, record_id: Any, **data: Any) -> None:
    """An event as another package would record it (score crossings, e-mail events)."""
    from pipewise.events.models import OutboxEvent

    session.add(OutboxEvent(name=name, record_type=record_type, record_id=record_id, payload={"data": data}))
