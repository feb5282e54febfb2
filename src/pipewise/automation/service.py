"""Workflows as a person manages them: drafts, versions, activation (with approval where
the setting asks for it), pause / resume / archive, and per-record overrides. Every
manual intervention is recorded with who and why. Who may see, change and approve a
workflow, and whose rights it acts with: ``acting``."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.automation import acting, engine
from pipewise.automation.definition import WorkflowDefinition, check_for_activation, load, parse
from pipewise.automation.models import (
    OPEN_ENROLLMENT_STATES,
    Decision,
    Enrollment,
    Override,
    Workflow,
    WorkflowVersion,
)
from pipewise.automation.settings import get_automation_settings
from pipewise.automation.triggers import TimedTrigger
from pipewise.db.base import utcnow, uuid7
from pipewise.errors import Conflict, ErrorCollector, FieldError, NotFound, PermissionDenied, ValidationFailed
from pipewise.events.models import ScheduledAction
from pipewise.records.service import RecordService
from pipewise.runs.holdout import check_share

MAX_BULK_ENROLL = 1000


def stored_form(definition: WorkflowDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _require_reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise ValidationFailed.on("reason", "say why; every manual override is recorded with its reason")
    return reason.strip()


def _require_manager(actor: Actor, what: str) -> None:
    if not actor.is_manager:
        raise PermissionDenied(f"only a manager or an admin may {what}")


class WorkflowService:
    # -- reads ---------------------------------------------------------------------------

    def all(self, session: Session, *, actor: Actor | None = None, status: str | None = None) -> list[Workflow]:
        """Every workflow ``actor`` may see (all of them when no actor: the operator)."""
        stmt = select(Workflow).order_by(Workflow.created_at.desc())
        if status:
            stmt = stmt.where(Workflow.status == status)
        visible = acting.workflow_clause(actor) if actor is not None else None
        if visible is not None:
            stmt = stmt.where(visible)
        return list(session.scalars(stmt))

    def get(self, session: Session, workflow_id: uuid.UUID, *, actor: Actor | None = None, edit: bool = False) -> Workflow:
        """The workflow, if ``actor`` may see it (404 otherwise) and, with ``edit``, change
        it (403). No actor: the operator, who may do anything."""
        workflow = session.get(Workflow, workflow_id)
        if actor is None:
            if workflow is None:
                raise NotFound(f"no workflow with id {workflow_id}")
            return workflow
        workflow = acting.check_visible(session, workflow, workflow_id, actor)
        if edit:
            acting.check_editable(session, workflow, actor)
        return workflow

    def latest(self, session: Session, workflow: Workflow) -> WorkflowVersion:
        return session.scalar(
            select(WorkflowVersion).where(
                WorkflowVersion.workflow_id == workflow.id, WorkflowVersion.number == workflow.latest_version
            )
        )

    def versions(self, session: Session, workflow_id: uuid.UUID) -> list[WorkflowVersion]:
        return list(
            session.scalars(
                select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id).order_by(WorkflowVersion.number.desc())
            )
        )

    def version_number(self, session: Session, version_id: uuid.UUID | None) -> int | None:
        if version_id is None:
            return None
        return session.scalar(select(WorkflowVersion.number).where(WorkflowVersion.id == version_id))

    def counts(self, session: Session, workflow_id: uuid.UUID) -> dict[str, int]:
        rows = session.execute(
            select(Enrollment.status, func.count())
            .where(Enrollment.workflow_id == workflow_id, Enrollment.test_mode.is_(False))
            .group_by(Enrollment.status)
        )
        return {status: n for status, n in rows}

    # -- drafts and versions ---------------------------------------------------------------

    def create(
        self, session: Session, *, name: str, definition: Any, actor: Actor, description: str | None = None,
        requires_approval: bool = False, holdout_percent: int = 0,
    ) -> Workflow:
        errors = ErrorCollector()
        if not name or not name.strip():
            errors.add("name", "is required")
        _check_share(holdout_percent, errors)
        errors.raise_if_any()
        parsed = parse(definition)
        workflow = Workflow(
            id=uuid7(), name=name.strip(), description=description, status="draft", record_type=parsed.record_type,
            latest_version=1, requires_approval=requires_approval, created_by=_actor_id(actor), holdout_percent=holdout_percent,
        )
        session.add(workflow)
        session.flush()
        session.add(
            WorkflowVersion(workflow_id=workflow.id, number=1, definition=stored_form(parsed), created_by=_actor_id(actor))
        )
        session.flush()
        return workflow

    def update(self, session: Session, workflow_id: uuid.UUID, *, data: dict[str, Any], actor: Actor) -> Workflow:
        """Change the name, description, approval flag or definition. Changing the
        definition of a live workflow makes a new version, which goes live at once (or
        after approval); runs already started keep their version."""
        workflow = self.get(session, workflow_id, actor=actor, edit=True)
        if workflow.status == "archived":
            raise Conflict("an archived workflow cannot be edited; import it as a new one")
        approval = data.get("requires_approval")
        if approval is not None and bool(approval) != workflow.requires_approval and not actor.is_admin:
            message = "only an admin may change whether this workflow needs approval"
            raise PermissionDenied(f"requires_approval: {message}", errors=[FieldError("requires_approval", message)])
        if "name" in data:
            if not data["name"] or not str(data["name"]).strip():
                raise ValidationFailed.on("name", "is required")
            workflow.name = str(data["name"]).strip()
        if "description" in data:
            workflow.description = data["description"]
        if data.get("holdout_percent") is not None:
            errors = ErrorCollector()
            _check_share(data["holdout_percent"], errors)
            errors.raise_if_any()
            workflow.holdout_percent = data["holdout_percent"]  # records already assigned keep their group
        if data.get("definition") is not None:
            # Before the approval setting changes: a new version goes live under the old one.
            self._new_definition(session, workflow, parse(data["definition"]), actor=actor)
        if approval is not None:
            workflow.requires_approval = bool(approval)
        workflow.updated_at = utcnow()
        session.flush()
        return workflow

    def _new_definition(self, session: Session, workflow: Workflow, parsed: WorkflowDefinition, *, actor: Actor) -> None:
        live = workflow.status in ("active", "paused")
        if live:
            check_for_activation(session, parsed)
        latest = self.latest(session, workflow)
        if latest.published_at is None and latest.id != workflow.pending_version_id:
            latest.definition = stored_form(parsed)
            latest.created_by = _actor_id(actor)
            version = latest
        else:
            workflow.latest_version += 1
            version = WorkflowVersion(
                workflow_id=workflow.id, number=workflow.latest_version, definition=stored_form(parsed),
                created_by=_actor_id(actor),
            )
            session.add(version)
            session.flush()
        if not live:
            workflow.record_type = parsed.record_type
            return
        if self._needs_approval(session, workflow, actor):
            self._request_approval(session, workflow, version, actor)
        else:
            self._publish(session, workflow, version, actor)

    def validate(self, session: Session, workflow_id: uuid.UUID, *, actor: Actor | None = None) -> WorkflowDefinition:
        """Raise ValidationFailed with every problem that would stop activation."""
        workflow = self.get(session, workflow_id, actor=actor)
        definition = load(self.latest(session, workflow))
        check_for_activation(session, definition)
        return definition

    # -- states ------------------------------------------------------------------------------

    def activate(self, session: Session, workflow_id: uuid.UUID, *, actor: Actor, reason: str | None = None) -> Workflow:
        workflow = self.get(session, workflow_id, actor=actor, edit=True)
        if workflow.status == "paused":
            return self.resume(session, workflow_id, actor=actor, reason=reason or "activated again")
        if workflow.status != "draft":
            raise Conflict(f"the workflow is {workflow.status}; only a draft can be activated")
        version = self.latest(session, workflow)
        check_for_activation(session, load(version))
        if self._needs_approval(session, workflow, actor):
            self._request_approval(session, workflow, version, actor, reason=reason)
        else:
            self._publish(session, workflow, version, actor, reason=reason)
        session.flush()
        return workflow

    def approve(self, session: Session, workflow_id: uuid.UUID, *, actor: Actor, reason: str | None = None) -> Workflow:
        workflow = self._approvable(session, workflow_id, actor, "approve")
        if workflow.pending_version_id is None:
            raise Conflict("nothing is waiting for approval")
        version = session.get(WorkflowVersion, workflow.pending_version_id)
        check_for_activation(session, load(version))
        self._publish(session, workflow, version, actor, reason=reason, approved=True)
        session.flush()
        return workflow

    def reject(self, session: Session, workflow_id: uuid.UUID, *, actor: Actor, reason: str | None) -> Workflow:
        workflow = self._approvable(session, workflow_id, actor, "reject")
        if workflow.pending_version_id is None:
            raise Conflict("nothing is waiting for approval")
        reason = _require_reason(reason)
        workflow.pending_version_id = None
        self._override(session, workflow, "rejected", actor, reason)
        session.flush()
        return workflow

    def pause(self, session: Session, workflow_id: uuid.UUID, *, actor: Actor, reason: str | None) -> Workflow:
        workflow = self._managed(session, workflow_id, actor, "pause")
        reason = _require_reason(reason)
        if workflow.status != "active":
            raise Conflict(f"the workflow is {workflow.status}, not active")
        workflow.status = "paused"
        session.execute(
            update(ScheduledAction)
            .where(ScheduledAction.status == "pending", ScheduledAction.key.in_(self._running_action_keys(workflow.id)))
            .values(status="cancelled")
        )
        self._override(session, workflow, "paused", actor, reason)
        session.flush()
        return workflow

    def resume(self, session: Session, workflow_id: uuid.UUID, *, actor: Actor, reason: str | None = None) -> Workflow:
        workflow = self._managed(session, workflow_id, actor, "resume")
        if workflow.status != "paused":
            raise Conflict(f"the workflow is {workflow.status}, not paused")
        workflow.status = "active"
        session.execute(
            update(ScheduledAction)
            .where(ScheduledAction.status == "cancelled", ScheduledAction.key.in_(self._running_action_keys(workflow.id)))
            .values(status="pending")
        )
        self._override(session, workflow, "resumed", actor, reason)
        session.flush()
        return workflow

    def archive(self, session: Session, workflow_id: uuid.UUID, *, actor: Actor, reason: str | None) -> Workflow:
        """Stop the workflow for good: open runs are cancelled."""
        workflow = self._managed(session, workflow_id, actor, "archive")
        reason = _require_reason(reason)
        if workflow.status == "archived":
            raise Conflict("the workflow is already archived")
        workflow.status = "archived"
        workflow.pending_version_id = None
        open_runs = session.scalars(
            select(Enrollment).where(Enrollment.workflow_id == workflow.id, Enrollment.status.in_(OPEN_ENROLLMENT_STATES))
        ).all()
        for enrollment in open_runs:
            self._end_run(session, enrollment, actor, f"the workflow was archived: {reason}")
        self._override(session, workflow, "archived", actor, reason)
        session.flush()
        return workflow

    def _running_action_keys(self, workflow_id: uuid.UUID) -> Any:
        return select(Enrollment.action_key).where(
            Enrollment.workflow_id == workflow_id, Enrollment.status.in_(engine.RUNNING_STATES),
            Enrollment.action_key.is_not(None),
        )

    def _approvable(self, session: Session, workflow_id: uuid.UUID, actor: Actor, what: str) -> Workflow:
        workflow = self.get(session, workflow_id, actor=actor)
        if not acting.may_approve(session, workflow, actor):
            raise PermissionDenied(
                f"only an admin, or a manager of the owner's team, may {what} this workflow; nobody but an admin approves their own"
            )
        return workflow

    def _managed(self, session: Session, workflow_id: uuid.UUID, actor: Actor, what: str) -> Workflow:
        workflow = self.get(session, workflow_id, actor=actor)
        _require_manager(actor, f"{what} a workflow")
        acting.check_editable(session, workflow, actor)
        return workflow

    def _needs_approval(self, session: Session, workflow: Workflow, actor: Actor) -> bool:
        """Where approval applies, only a change by someone who could approve it goes live at once."""
        return self._approval_applies(workflow) and not acting.may_approve(session, workflow, actor)

    def _request_approval(
        self, session: Session, workflow: Workflow, version: WorkflowVersion, actor: Actor, reason: str | None = None
    ) -> None:
        workflow.pending_version_id = version.id
        self._override(session, workflow, "approval_requested", actor, reason or f"version {version.number} waits for a manager")

    def _publish(
        self, session: Session, workflow: Workflow, version: WorkflowVersion, actor: Actor, *,
        reason: str | None = None, approved: bool = False,
    ) -> None:
        now = utcnow()
        definition = load(version)
        version.published_at = now
        if approved or self._approval_applies(workflow):
            version.approved_by, version.approved_at = _actor_id(actor), now
        workflow.live_version_id = version.id
        workflow.pending_version_id = None
        workflow.status = "active"
        workflow.record_type = definition.record_type
        workflow.trigger_event = definition.trigger.event_name()
        action = "approved" if approved else "activated"
        self._override(session, workflow, action, actor, reason or f"version {version.number} is live")
        session.flush()
        if isinstance(definition.trigger, TimedTrigger):
            engine.schedule_tick(session, workflow, version, now)

    def _approval_applies(self, workflow: Workflow) -> bool:
        return workflow.requires_approval or get_automation_settings().approval_required

    def _override(
        self, session: Session, workflow: Workflow, action: str, actor: Actor, reason: str | None,
        enrollment: Enrollment | None = None,
    ) -> None:
        session.add(
            Override(
                workflow_id=workflow.id, enrollment_id=enrollment.id if enrollment else None, action=action,
                actor_id=_actor_id(actor), reason=reason,
            )
        )

    def overrides(
        self, session: Session, workflow_id: uuid.UUID, *, actor: Actor | None = None, limit: int = 200
    ) -> list[Override]:
        """Who intervened and why; interventions on runs of records ``actor`` cannot see are left out."""
        stmt = select(Override).where(Override.workflow_id == workflow_id)
        visible = _visible_runs(actor)
        if visible is not None:
            stmt = stmt.where(Override.enrollment_id.is_(None) | Override.enrollment_id.in_(select(Enrollment.id).where(visible)))
        return list(session.scalars(stmt.order_by(Override.id.desc()).limit(limit)))

    # -- enrollments -------------------------------------------------------------------------

    def enroll_records(
        self, session: Session, workflow_id: uuid.UUID, record_ids: list[uuid.UUID], *, actor: Actor
    ) -> list[engine.EnrollResult]:
        """Manual or API enrollment of chosen records (conditions still apply)."""
        workflow = self.get(session, workflow_id, actor=actor)
        if workflow.status != "active":
            raise Conflict(f"the workflow is {workflow.status}; only an active workflow takes enrollments")
        if len(record_ids) > MAX_BULK_ENROLL:
            raise ValidationFailed.on("record_ids", f"at most {MAX_BULK_ENROLL} records at a time")
        version = session.get(WorkflowVersion, workflow.live_version_id)
        service = RecordService(workflow.record_type)
        results = []
        for record_id in record_ids:
            service.get(session, record_id, actor=actor)
            results.append(
                engine.enroll(
                    session, workflow=workflow, version=version, record_id=record_id,
                    summary=f"enrolled by {actor.name or 'an API client'}", occurrence=f"m{uuid7().hex}",
                )
            )
        session.flush()
        return results

    def start_test(
        self, session: Session, workflow_id: uuid.UUID, *, record_id: uuid.UUID, actor: Actor,
        check_conditions: bool = True,
    ) -> engine.EnrollResult:
        """Run the latest version on one record in test mode: waits are skipped, e-mails,
        notifications and tasks go to the tester, record changes and webhooks are only
        described. Works on drafts. The run acts as the workflow's owner, as a live one would."""
        workflow = self.get(session, workflow_id, actor=actor)
        version = self.latest(session, workflow)
        check_for_activation(session, load(version))
        RecordService(load(version).record_type).get(session, record_id, actor=actor)
        tester = session.get(User, actor.id)
        result = engine.enroll(
            session, workflow=workflow, version=version, record_id=record_id,
            summary=f"test run started by {actor.name or actor.email}", test_mode=True, tester=tester,
            check_conditions=check_conditions,
        )
        session.flush()
        return result

    def enrollments(
        self, session: Session, workflow_id: uuid.UUID, *, actor: Actor | None = None, status: str | None = None,
        record_id: uuid.UUID | None = None, limit: int = 100, before: datetime | None = None,
    ) -> list[Enrollment]:
        """The runs of records ``actor`` may see; a record filter must name one they see (404)."""
        stmt = select(Enrollment).where(Enrollment.workflow_id == workflow_id)
        if (visible := _visible_runs(actor)) is not None:
            stmt = stmt.where(visible)
        if status:
            stmt = stmt.where(Enrollment.status == status)
        if record_id:
            self._check_record(session, workflow_id, record_id, actor)
            stmt = stmt.where(Enrollment.record_id == record_id)
        if before:
            stmt = stmt.where(Enrollment.enrolled_at < before)
        return list(session.scalars(stmt.order_by(Enrollment.enrolled_at.desc()).limit(limit)))

    def enrollment(self, session: Session, enrollment_id: uuid.UUID, *, actor: Actor, write: bool = False) -> Enrollment:
        enrollment = session.get(Enrollment, enrollment_id)
        if enrollment is None:
            raise NotFound(f"no enrollment with id {enrollment_id}")
        workflow = session.get(Workflow, enrollment.workflow_id)
        if workflow is None or not acting.may_see(session, workflow, actor):
            raise NotFound(f"no enrollment with id {enrollment_id}")
        if session.get(RecordService(enrollment.record_type).spec.model, enrollment.record_id) is not None:
            try:
                RecordService(enrollment.record_type).get(session, enrollment.record_id, actor=actor, write=write)
            except NotFound:  # answered as for an id that names nothing, without the record's id
                raise NotFound(f"no enrollment with id {enrollment_id}") from None
        return enrollment

    def pause_enrollment(self, session: Session, enrollment_id: uuid.UUID, *, actor: Actor, reason: str | None) -> Enrollment:
        reason = _require_reason(reason)
        enrollment = self.enrollment(session, enrollment_id, actor=actor, write=True)
        if enrollment.status not in engine.RUNNING_STATES:
            raise Conflict(f"the enrollment is {enrollment.status}; only a running one can be paused")
        engine.lock_for_change(session, enrollment, utcnow())
        engine.cancel_pending_action(session, enrollment)
        enrollment.status = "paused"
        self._note(session, enrollment, "paused", actor, reason)
        return enrollment

    def resume_enrollment(self, session: Session, enrollment_id: uuid.UUID, *, actor: Actor, reason: str | None = None) -> Enrollment:
        enrollment = self.enrollment(session, enrollment_id, actor=actor, write=True)
        if enrollment.status != "paused":
            raise Conflict(f"the enrollment is {enrollment.status}, not paused")
        enrollment.status = "waiting" if enrollment.wait_until is not None else "running"
        if enrollment.action_key:
            session.execute(
                update(ScheduledAction)
                .where(ScheduledAction.key == enrollment.action_key, ScheduledAction.status == "cancelled")
                .values(status="pending")
            )
        self._note(session, enrollment, "resumed", actor, reason)
        return enrollment

    def cancel_enrollment(self, session: Session, enrollment_id: uuid.UUID, *, actor: Actor, reason: str | None) -> Enrollment:
        reason = _require_reason(reason)
        enrollment = self.enrollment(session, enrollment_id, actor=actor, write=True)
        if enrollment.status not in OPEN_ENROLLMENT_STATES:
            raise Conflict(f"the enrollment is already {enrollment.status}")
        self._end_run(session, enrollment, actor, reason)
        self._override(session, self.get(session, enrollment.workflow_id), "cancelled", actor, reason, enrollment)
        return enrollment

    def retry_enrollment(self, session: Session, enrollment_id: uuid.UUID, *, actor: Actor, reason: str | None = None) -> Enrollment:
        """Send a dead-lettered enrollment back to the step that failed."""
        enrollment = self.enrollment(session, enrollment_id, actor=actor, write=True)
        if enrollment.status != "failed":
            raise Conflict(f"the enrollment is {enrollment.status}; only a failed one can be retried")
        run = engine.load_run(session, enrollment)
        enrollment.status, enrollment.attempt, enrollment.exit_reason = "running", 0, None
        engine.schedule_step(run, enrollment.current_step, run.now, suffix=f"#retry-{uuid7().hex[:12]}")
        self._note(session, enrollment, "retried", actor, reason)
        return enrollment

    def _check_record(self, session: Session, workflow_id: uuid.UUID, record_id: uuid.UUID, actor: Actor | None) -> None:
        """404 unless ``actor`` may see the record (the same answer whether it exists or not)."""
        if actor is not None:
            RecordService(self.get(session, workflow_id).record_type).get(session, record_id, actor=actor)

    def _end_run(self, session: Session, enrollment: Enrollment, actor: Actor, reason: str) -> None:
        engine.lock_for_change(session, enrollment, utcnow())
        engine.cancel_pending_action(session, enrollment)
        run = engine.load_run(session, enrollment)
        engine.finish(run, "cancelled", "cancelled", f"by {actor.name or actor.email}: {reason}", step_id=enrollment.current_step)

    def _note(self, session: Session, enrollment: Enrollment, action: str, actor: Actor, reason: str | None) -> None:
        run = engine.load_run(session, enrollment)
        who = actor.name or actor.email
        run.decide(action, f"by {who}" + (f": {reason}" if reason else ""), step_id=enrollment.current_step)
        self._override(session, run.workflow, action, actor, reason, enrollment)
        session.flush()

    # -- run history -------------------------------------------------------------------------

    def decisions(
        self, session: Session, workflow_id: uuid.UUID, *, actor: Actor | None = None, enrollment_id: uuid.UUID | None = None,
        record_id: uuid.UUID | None = None, kind: str | None = None, before_id: int | None = None, limit: int = 100,
    ) -> list[Decision]:
        """The decisions about records ``actor`` may see; a record or run filter must name one they see (404)."""
        stmt = select(Decision).where(Decision.workflow_id == workflow_id)
        if actor is not None and (visible := acting.visible_records(Decision.record_type, Decision.record_id, actor)) is not None:
            stmt = stmt.where(visible)
        if enrollment_id:
            if actor is not None:
                self.enrollment(session, enrollment_id, actor=actor)
            stmt = stmt.where(Decision.enrollment_id == enrollment_id)
        if record_id:
            self._check_record(session, workflow_id, record_id, actor)
            stmt = stmt.where(Decision.record_id == record_id)
        if kind:
            stmt = stmt.where(Decision.kind == kind)
        if before_id:
            stmt = stmt.where(Decision.id < before_id)
        return list(session.scalars(stmt.order_by(Decision.id.desc()).limit(limit)))


def _visible_runs(actor: Actor | None) -> Any:
    return acting.visible_records(Enrollment.record_type, Enrollment.record_id, actor) if actor is not None else None


def _check_share(share: int, errors: ErrorCollector) -> None:
    try:
        check_share(share)
    except ValueError as exc:
        errors.add("holdout_percent", str(exc))


def _actor_id(actor: Actor) -> uuid.UUID | None:
    return actor.id if actor.id.int != 0 else None


workflow_service = WorkflowService()
