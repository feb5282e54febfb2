import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm import tasks
from pipewise.crm.models import Account, Activity, Contact, Task
from pipewise.db.base import utcnow
from pipewise.errors import ValidationFailed
from pipewise.records import normalize
from pipewise.records.checks import check_choice, check_required_text, check_timezone, normalize_field, tidy_names
from pipewise.records.service import RecordService

LIFECYCLE_STAGES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer", "disqualified")
CONSENT_STATES = ("unknown", "granted", "withdrawn")
ACTIVITY_TYPES = ("call", "email", "meeting", "note")
DIRECTIONS = ("inbound", "outbound")
TASK_STATUSES = ("open", "done", "cancelled")
TASK_PRIORITIES = ("low", "normal", "high")


class AccountService(RecordService[Account]):
    record_type = "account"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "name", record, errors)
        tidy_names(data, ("industry",))
        normalize_field(data, "domain", normalize.normalize_domain, errors)
        normalize_field(data, "country", normalize.normalize_country, errors)
        if data.get("size") is not None and data["size"] < 0:
            errors.add("size", "cannot be negative")

    def by_domain(self, session: Session, domain: str) -> Account | None:
        return session.scalar(select(Account).where(Account.domain == domain).order_by(Account.created_at).limit(1))


class ContactService(RecordService[Contact]):
    record_type = "contact"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "last_name", record, errors)
        tidy_names(data, ("first_name", "title"))
        normalize_field(data, "email", normalize.normalize_email, errors)
        normalize_field(data, "phone", normalize.normalize_phone, errors)
        normalize_field(data, "timezone", check_timezone, errors)
        check_choice(data, "lifecycle_stage", LIFECYCLE_STAGES, errors)
        check_choice(data, "consent_state", CONSENT_STATES, errors)


class ActivityService(RecordService[Activity]):
    record_type = "activity"
    LINKS = ("lead_id", "contact_id", "account_id", "deal_id")

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "subject", record, errors)
        check_choice(data, "type", ACTIVITY_TYPES, errors)
        if record is None and "type" not in data:
            errors.add("type", f"is required (one of {', '.join(ACTIVITY_TYPES)})")
        check_choice(data, "direction", DIRECTIONS, errors)
        linked = {k: data.get(k, getattr(record, k, None)) for k in self.LINKS}
        if not any(linked.values()):
            errors.add("contact_id", "an activity must be linked to a lead, contact, account or deal")
        if data.get("duration_minutes") is not None and data["duration_minutes"] < 0:
            errors.add("duration_minutes", "cannot be negative")
        self._fill_account(session, data)

    @staticmethod
    def _fill_account(session: Session, data: dict[str, Any]) -> None:
        """A contact's activity also shows on its account's timeline."""
        if data.get("contact_id") and not data.get("account_id"):
            data["account_id"] = session.scalar(select(Contact.account_id).where(Contact.id == data["contact_id"]))


class TaskService(RecordService[Task]):
    record_type = "task"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "title", record, errors)
        check_choice(data, "status", TASK_STATUSES, errors)
        check_choice(data, "priority", TASK_PRIORITIES, errors)
        related_type = data.get("related_type", getattr(record, "related_type", None))
        related_id = data.get("related_id", getattr(record, "related_id", None))
        if (related_type is None) != (related_id is None):
            errors.add("related_id", "related_type and related_id go together")
        elif related_type is not None:
            if related_type not in ("lead", "contact", "account", "deal"):
                errors.add("related_type", "must be one of lead, contact, account, deal")
            elif RecordService(related_type).repository(session).get(related_id, actor) is None:
                errors.add("related_id", f"no {related_type} with id {related_id}")
        if "status" in data:
            data["completed_at"] = utcnow() if data["status"] == "done" else None
        tasks.check_recurrence(data, errors)
        tasks.check_recurrence_start(data, record, errors)

    def after_create(self, session: Session, record: Task, *, actor: Actor) -> None:
        changes = {"owner_id": [None, record.owner_id], "remind_at": [None, record.remind_at]}
        tasks.after_write(session, record, changes, actor=actor, create=self.create)

    def after_update(self, session: Session, record: Task, changes: dict[str, Any], *, actor: Actor) -> None:
        tasks.after_write(session, record, changes, actor=actor, create=self.create)

    def snooze(self, session: Session, task_id: uuid.UUID, until: datetime, *, actor: Actor) -> Task:
        """Move the reminder (and a due time before it) to ``until``."""
        if until <= utcnow():
            raise ValidationFailed.on("until", "must be in the future")
        task = self.get(session, task_id, actor=actor, write=True)
        return self.update(session, task, data=tasks.snooze_changes(task, until), actor=actor)

    def complete(self, session: Session, task_id: uuid.UUID, *, actor: Actor) -> Task:
        task = self.get(session, task_id, actor=actor, write=True)
        return self.update(session, task, data={"status": "done"}, actor=actor)


account_service = AccountService()
contact_service = ContactService()
activity_service = ActivityService()
task_service = TaskService()
