"""What a step sees when it runs, and how it reports back."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.automation.acting import Acting
from pipewise.automation.models import Enrollment, Workflow, WorkflowVersion
from pipewise.events.base import jsonable
from pipewise.records.registry import spec_for


class StepFailed(Exception):
    """A step could not run; it is retried with backoff, then dead-lettered."""


class PermanentStepFailure(StepFailed):
    """A step that cannot succeed by retrying (bad data, a missing module)."""


@dataclass
class StepContext:
    session: Session
    workflow: Workflow
    version: WorkflowVersion
    enrollment: Enrollment
    record: Any
    step_key: str
    now: datetime
    acting: Acting
    tester: User | None = None

    @property
    def actor(self) -> Actor:
        """Whose rights the step uses: the workflow's owner's."""
        return self.acting.actor

    @property
    def record_type(self) -> str:
        return self.enrollment.record_type

    @property
    def record_id(self) -> uuid.UUID:
        return self.enrollment.record_id

    @property
    def test_mode(self) -> bool:
        return self.enrollment.test_mode

    def owner(self) -> User | None:
        owner_id = getattr(self.record, "owner_id", None)
        return self.session.get(User, owner_id) if owner_id else None

    def record_values(self) -> dict[str, Any]:
        if self.record is None:
            return {"id": str(self.record_id)}
        hidden = spec_for(self.record_type).hidden_fields
        values = {
            c.key: jsonable(getattr(self.record, c.key))
            for c in self.record.__table__.columns
            if c.key not in hidden
        }
        if hasattr(self.record, "full_name"):
            values["full_name"] = self.record.full_name
        return values

    def template_context(self, recipient: str | None = None) -> dict[str, Any]:
        owner = self.owner()
        return {
            "record": self.record_values(),
            "owner": {"name": owner.name, "email": owner.email} if owner else {"name": "", "email": ""},
            "workflow": {"name": self.workflow.name, "version": self.version.number},
            "now": self.now.isoformat(),
            "recipient": recipient or "",
        }
