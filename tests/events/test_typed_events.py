"""Typed events: a subscription names the event classes it takes; a more specific fact is
stored once and still reaches whoever takes the general one (a deal's stage change is a
``deal.updated``), on the bus, in the worker and in the workflows that listen by name."""

import uuid
from dataclasses import dataclass
from typing import ClassVar

import pytest
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.deals.events import DealCreated, DealStageChanged, DealUpdated
from pipewise.deals.service import deal_service
from pipewise.events import bus
from pipewise.events.base import DomainEvent, RecordEvent
from pipewise.events.models import OutboxEvent
from pipewise.mail.events import EmailClicked, EmailEvent, EmailReplied
from pipewise.worker.runner import Worker
from tests.automation.support import clock, drain, enrollments, make_workflow  # noqa: F401 - clock is a fixture
from tests.events.support import deliveries, log_delivery


@dataclass(frozen=True, kw_only=True)
class ThingArchived(DomainEvent):
    name: ClassVar[str] = "thing.archived"


@dataclass(frozen=True, kw_only=True)
class Unnamed(DomainEvent):
    """A base that neither it nor a subclass names."""


def stage_change(**fields) -> DealStageChanged:  # type: ignore[no-untyped-def]
    return DealStageChanged(record_id=uuid.uuid4(), to_stage_id=uuid.uuid4(), to_stage="Demo", kind="open", **fields)


def recorded(session, event: DomainEvent) -> bus.Event:  # type: ignore[no-untyped-def]
    bus.record(session, event)
    return bus.Event.from_row(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(1)).one())


class TestAMoreSpecificFact:
    def test_is_stored_once_under_its_own_name_with_what_the_general_event_carries(self, session):
        event = recorded(session, stage_change(changes={"stage_id": ["a", "b"]}))

        assert (event.name, event.record_type) == ("deal.stage_changed", "deal")
        assert event.names == ("deal.stage_changed", "deal.updated")
        assert event.payload["data"]["to_stage"] == "Demo"
        assert (event.payload["action"], event.payload["type_name"], event.payload["changes"]) == (
            "updated", "deal", {"stage_id": ["a", "b"]}
        )

    def test_a_generic_record_event_and_a_plain_event_have_one_name(self, session):
        assert recorded(session, RecordEvent(action="updated", type_name="deal")).names == ("deal.updated",)
        assert recorded(session, ThingArchived()).names == ("thing.archived",)


@pytest.mark.usefixtures("clean_bus")
class TestSubscriptionsToClasses:
    def test_a_class_takes_its_own_events_and_its_subclasses(self, session):
        general = bus.Subscription.to(DealUpdated, "general", lambda s, e: None)
        specific = bus.Subscription.to(DealStageChanged, "specific", lambda s, e: None)
        moved = recorded(session, stage_change())
        edited = recorded(session, RecordEvent(action="updated", type_name="deal"))

        assert (general.matches(moved), general.matches(edited)) == (True, True)
        assert (specific.matches(moved), specific.matches(edited)) == (True, False)
        assert not general.matches("deal.created")

    def test_a_tuple_of_classes_and_a_base_that_names_no_event_itself(self):
        either = bus.Subscription.to((DealCreated, ThingArchived), "either", lambda s, e: None)
        mail = bus.Subscription.to(EmailEvent, "mail", lambda s, e: None)

        assert [either.matches(n) for n in ("deal.created", "thing.archived", "deal.updated")] == [True, True, False]
        assert mail.matches(EmailReplied.name) and mail.matches(EmailClicked.name)
        assert not mail.matches("deal.created")

    @pytest.mark.parametrize("unnamed", [Unnamed, RecordEvent])
    def test_a_class_that_names_no_event_is_refused(self, unnamed):
        with pytest.raises(ValueError, match="names no event"):
            bus.Subscription.to(unnamed, "nothing", lambda s, e: None)

    def test_the_worker_delivers_one_event_once_to_each_subscriber_whatever_name_it_matched(self, session, log_table):
        for table_entry in (
            bus.Subscription.to(DealUpdated, "typed", lambda s, e: log_delivery(s, e.id, "typed")),
            bus.Subscription("deal.*", "pattern", lambda s, e: log_delivery(s, e.id, "pattern")),
            bus.Subscription("deal.updated", "general", lambda s, e: log_delivery(s, e.id, "general")),
        ):
            bus.install(bus.HandlerTable(subscriptions=(table_entry,)))
        event_id = recorded(session, stage_change()).id
        session.commit()

        Worker(name="test").run_until_idle()
        assert [deliveries(session, name) for name in ("typed", "pattern", "general")] == [[event_id]] * 3


@pytest.mark.usefixtures("clock")
class TestWorkflowsListeningByName:
    def test_one_move_starts_the_stage_workflows_and_the_deal_update_workflows(self, session, factory):
        _, stages = factory.pipeline()
        deal = factory.deal()
        drain(session)
        tag = [{"id": "tag", "type": "add_tag", "tag": "hit"}]
        on_stage = make_workflow(session, {"trigger": {"type": "stage_changed", "to_stage": "Demo"}, "steps": tag}, name="s")
        on_update = make_workflow(session, {"trigger": {"type": "record_updated", "record_type": "deal"}, "steps": tag}, name="u")
        on_field = make_workflow(
            session, {"trigger": {"type": "field_changed", "record_type": "deal", "field": "stage_id"}, "steps": tag}, name="f"
        )
        before = session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1))

        deal_service.move_to_stage(session, deal.id, stages[1].id, actor=SYSTEM_ACTOR)
        session.flush()
        assert list(session.scalars(select(OutboxEvent.name).where(OutboxEvent.id > before))) == ["deal.stage_changed"]
        drain(session)

        for workflow in (on_stage, on_update, on_field):
            assert [e.record_id for e in enrollments(session, workflow)] == [deal.id], workflow.name
