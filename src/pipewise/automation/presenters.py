"""ORM rows → API shapes, shared by the API, the web pages and the CLI."""

from typing import Any

from sqlalchemy.orm import Session

from pipewise.automation import schemas
from pipewise.automation.explanations import sentence
from pipewise.automation.models import Decision, Workflow
from pipewise.automation.service import workflow_service


def workflow_out(session: Session, workflow: Workflow) -> dict[str, Any]:
    latest = workflow_service.latest(session, workflow)
    return schemas.Workflow(
        id=workflow.id, name=workflow.name, description=workflow.description, status=workflow.status,
        record_type=workflow.record_type, requires_approval=workflow.requires_approval, holdout_percent=workflow.holdout_percent,
        live_version=workflow_service.version_number(session, workflow.live_version_id),
        latest_version=workflow.latest_version, pending_approval=workflow.pending_version_id is not None,
        definition=latest.definition, enrollments=workflow_service.counts(session, workflow.id),
        created_at=workflow.created_at, updated_at=workflow.updated_at,
    ).model_dump(mode="json")


def decision_out(decision: Decision) -> dict[str, Any]:
    return schemas.Decision(
        id=decision.id, enrollment_id=decision.enrollment_id, record_type=decision.record_type,
        record_id=decision.record_id, version=decision.version_number, kind=decision.kind, step_id=decision.step_id,
        sentence=sentence(decision), details=decision.details, test_mode=decision.test_mode, at=decision.at,
    ).model_dump(mode="json")
