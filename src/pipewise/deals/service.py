import re
import uuid
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Contact
from pipewise.db.base import utcnow
from pipewise.deals.events import DealStageChanged
from pipewise.deals.models import Deal, DealContact, DealStageChange, Pipeline, Stage
from pipewise.errors import ErrorCollector, FieldError, NotFound, ValidationFailed
from pipewise.records.checks import check_choice, check_required_text
from pipewise.records.history import record_change
from pipewise.records.service import RecordService

STAGE_KINDS = ("open", "won", "lost")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def field_label(name: str) -> str:
    return name.removeprefix("custom.").replace("_id", "").replace("_", " ").capitalize()


def missing_required(stage: Stage, values: dict[str, Any]) -> list[FieldError]:
    """The stage's entry criteria that ``values`` leave empty."""
    missing = []
    for name in stage.required_fields:
        value = values.get("custom", {}).get(name[7:]) if name.startswith("custom.") else values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(FieldError(name, f"{field_label(name)} is required to enter {stage.name}"))
    return missing


class PipelineService(RecordService[Pipeline]):
    record_type = "pipeline"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "name", record, errors)
        if data.get("stale_after_days") is not None and data["stale_after_days"] < 1:
            errors.add("stale_after_days", "must be at least 1")

    def default(self, session: Session) -> Pipeline | None:
        return session.scalar(select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.created_at).limit(1))

    def stages(self, session: Session, pipeline_id: uuid.UUID) -> list[Stage]:
        return list(session.scalars(select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position)))


class StageService(RecordService[Stage]):
    record_type = "stage"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "name", record, errors)
        check_choice(data, "kind", STAGE_KINDS, errors)
        if data.get("probability") is not None and not 0 <= data["probability"] <= 100:
            errors.add("probability", "must be between 0 and 100")
        if record is None and "pipeline_id" not in data:
            errors.add("pipeline_id", "is required")
        if record is None and data.get("position") is None and data.get("pipeline_id"):
            last = session.scalar(select(func.max(Stage.position)).where(Stage.pipeline_id == data["pipeline_id"]))
            data["position"] = (last or 0) + 1
        known = set(Deal.__table__.columns.keys())
        for name in data.get("required_fields") or []:
            if not (isinstance(name, str) and (name in known or name.startswith("custom."))):
                errors.add("required_fields", f"{name!r} is not a deal field")


class DealService(RecordService[Deal]):
    record_type = "deal"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "name", record, errors)
        if data.get("amount") is not None:
            if data["amount"] < 0:
                errors.add("amount", "cannot be negative")
            data["amount"] = Decimal(data["amount"]).quantize(Decimal("0.01"))
        if "currency" in data:
            data["currency"] = str(data["currency"] or "").upper()
            if not CURRENCY_RE.match(data["currency"]):
                errors.add("currency", "must be a three-letter ISO 4217 code such as EUR")
        self._place_in_pipeline(session, data, record, errors)

    def _place_in_pipeline(self, session: Session, data: dict[str, Any], record: Deal | None, errors: ErrorCollector) -> None:
        pipeline_id = data.get("pipeline_id") or (record.pipeline_id if record else None)
        if pipeline_id is None:
            default = pipeline_service.default(session)
            if default is None:
                errors.add("pipeline_id", "no pipeline exists yet; create one first")
                return
            pipeline_id = data["pipeline_id"] = default.id
        stage_id = data.get("stage_id")
        if stage_id is None and (record is None or "pipeline_id" in data and data["pipeline_id"] != record.pipeline_id):
            first = session.scalar(
                select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position).limit(1)
            )
            if first is None:
                errors.add("pipeline_id", "that pipeline has no stages")
                return
            stage_id = data["stage_id"] = first.id
        if stage_id is None:
            return
        stage = session.get(Stage, stage_id)
        if stage is None or stage.pipeline_id != pipeline_id:
            errors.add("stage_id", "is not a stage of the deal's pipeline")
            return
        if record is None or stage.id != record.stage_id:
            values = {c: getattr(record, c) for c in Deal.__table__.columns.keys()} if record else {}
            values.update(data)
            if record is not None and "custom" in data:
                values["custom"] = {**record.custom, **data["custom"]}
            errors.errors.extend(missing_required(stage, values))
            data["stage_entered_at"] = utcnow()
            data["closed_at"] = utcnow() if stage.kind != "open" else None

    def after_create(self, session: Session, record: Deal, *, actor: Actor) -> None:
        session.add(DealStageChange(deal_id=record.id, from_stage_id=None, to_stage_id=record.stage_id, actor_id=actor.id))

    def after_update(self, session: Session, record: Deal, changes: dict[str, Any], *, actor: Actor) -> None:
        if "stage_id" in changes:
            old, new = changes["stage_id"]
            session.add(DealStageChange(deal_id=record.id, from_stage_id=old, to_stage_id=new, actor_id=actor.id))

    def update_event(self, session: Session, record: Deal, changes: dict[str, Any]) -> DealStageChanged | None:
        if "stage_id" not in changes:
            return None
        old, new = changes["stage_id"]
        stage = session.get(Stage, new)
        return DealStageChanged(
            from_stage_id=old,
            to_stage_id=new,
            to_stage=stage.name if stage else None,
            kind=stage.kind if stage else None,
            account_id=record.account_id,
        )

    def move_to_stage(
        self, session: Session, deal_id: uuid.UUID, stage_id: uuid.UUID, *, actor: Actor,
        expected_version: int | Collection[int] | None = None,
    ) -> Deal:
        deal = self.get(session, deal_id, actor=actor, write=True, expected_version=expected_version)
        return self.update(session, deal, data={"stage_id": stage_id}, actor=actor)

    def contacts(self, session: Session, deal_id: uuid.UUID) -> list[tuple[Contact, str | None]]:
        rows = session.execute(
            select(Contact, DealContact.role)
            .join(DealContact, DealContact.contact_id == Contact.id)
            .where(DealContact.deal_id == deal_id)
            .order_by(Contact.last_name)
        )
        return [(c, role) for c, role in rows]

    def add_contact(
        self, session: Session, deal_id: uuid.UUID, contact_id: uuid.UUID, *, role: str | None, actor: Actor
    ) -> None:
        deal = self.get(session, deal_id, actor=actor, write=True)
        if RecordService("contact").repository(session).get(contact_id, actor) is None:
            raise ValidationFailed.on("contact_id", f"no contact with id {contact_id}")
        link = session.get(DealContact, (deal.id, contact_id))
        if link is None:
            session.add(DealContact(deal_id=deal.id, contact_id=contact_id, role=role))
        else:
            link.role = role
        self.touch(session, deal, {"contacts": [None, {"added": str(contact_id), "role": role}]}, actor=actor)

    def remove_contact(self, session: Session, deal_id: uuid.UUID, contact_id: uuid.UUID, *, actor: Actor) -> None:
        deal = self.get(session, deal_id, actor=actor, write=True)
        link = session.get(DealContact, (deal.id, contact_id))
        if link is None:
            raise NotFound("that contact is not on the deal")
        session.delete(link)
        self.touch(session, deal, {"contacts": [{"removed": str(contact_id)}, None]}, actor=actor)

    def touch(self, session: Session, deal: Deal, changes: dict[str, Any], *, actor: Actor) -> None:
        deal.updated_at = utcnow()
        record_change(session, record_type="deal", record_id=deal.id, action="updated", changes=changes, actor=actor)


pipeline_service = PipelineService()
stage_service = StageService()
deal_service = DealService()
