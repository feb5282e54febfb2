"""What the worker does right after a lead's commit, for tests: ``drain`` commits and runs
the worker as ``pipewise worker`` would; ``settle`` runs the same step (intake) on leads
the test's own transaction holds, for tests about what that step computes."""

from typing import Any

from sqlalchemy.orm import Session

from pipewise.leads import intake
from pipewise.worker.runner import Worker


def drain(session: Session) -> int:
    """Commit what the test arranged, run the worker until idle, and look again."""
    session.commit()
    handled = Worker(name="test").run_until_idle()
    session.expire_all()
    return handled


def settle(session: Session, *leads: Any) -> None:
    """Compare, score and route ``leads`` as the worker does after their creation."""
    for lead in leads:
        intake.after_create(session, lead)
    session.flush()
