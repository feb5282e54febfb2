from decimal import Decimal

import pytest
from sqlalchemy import select

from pipewise.deals.models import DealStageChange
from pipewise.deals.service import deal_service
from pipewise.errors import NotFound, ValidationFailed
from pipewise.events.models import OutboxEvent


@pytest.fixture
def board(factory):
    team = factory.team()
    rep = factory.user(team=team)
    pipeline, stages = factory.pipeline()
    return rep, {s.name: s for s in stages}


class TestCreate:
    def test_defaults_to_the_first_stage_of_the_default_pipeline(self, factory, board):
        rep, stages = board
        deal = factory.deal(owner=rep, amount=None)
        assert deal.stage_id == stages["Qualification"].id
        assert deal.owner_id == rep.id

    def test_money_is_decimal_to_the_cent(self, factory, board, session):
        rep, _ = board
        deal = factory.deal(owner=rep, amount=Decimal("1234.5"))
        session.commit()
        session.expire_all()
        assert deal.amount == Decimal("1234.50")

    def test_creating_straight_into_a_stage_checks_its_requirements(self, factory, board):
        rep, stages = board
        with pytest.raises(ValidationFailed) as exc:
            factory.deal(owner=rep, amount=None, stage_id=stages["Negotiation"].id)
        assert {e.field for e in exc.value.errors} == {"amount", "close_date"}

    def test_stage_must_belong_to_the_pipeline(self, factory, board):
        rep, _ = board
        _other, other_stages = factory.pipeline("Renewals")
        with pytest.raises(ValidationFailed) as exc:
            factory.deal(owner=rep, pipeline_id=board[1]["Demo"].pipeline_id, stage_id=other_stages[0].id)
        assert exc.value.errors[0].field == "stage_id"


class TestMoveToStage:
    def test_refuses_a_move_whose_required_fields_are_missing_saying_why(self, factory, board, session):
        rep, stages = board
        deal = factory.deal(owner=rep, amount=Decimal("500"))
        with pytest.raises(ValidationFailed) as exc:
            deal_service.move_to_stage(session, deal.id, stages["Negotiation"].id, actor=factory.actor(rep))
        assert [(e.field, e.message) for e in exc.value.errors] == [
            ("close_date", "Close date is required to enter Negotiation")
        ]
        session.refresh(deal)
        assert deal.stage_id == stages["Qualification"].id

    def test_records_stage_history_and_emits_stage_changed(self, factory, board, session):
        rep, stages = board
        deal = factory.deal(owner=rep)
        deal_service.move_to_stage(session, deal.id, stages["Proposal"].id, actor=factory.actor(rep))
        session.flush()
        changes = session.scalars(select(DealStageChange).where(DealStageChange.deal_id == deal.id).order_by(DealStageChange.id)).all()
        assert [(c.from_stage_id, c.to_stage_id) for c in changes] == [
            (None, stages["Qualification"].id),
            (stages["Qualification"].id, stages["Proposal"].id),
        ]
        event = session.scalar(select(OutboxEvent).where(OutboxEvent.name == "deal.stage_changed"))
        assert event.record_id == deal.id
        assert event.payload["data"]["to_stage"] == "Proposal"

    def test_closing_sets_closed_at_and_reopening_clears_it(self, factory, board, session):
        rep, stages = board
        deal = factory.deal(owner=rep)
        actor = factory.actor(rep)
        deal_service.move_to_stage(session, deal.id, stages["Closed won"].id, actor=actor)
        assert deal.closed_at is not None
        deal_service.move_to_stage(session, deal.id, stages["Demo"].id, actor=actor)
        assert deal.closed_at is None

    def test_custom_field_requirement(self, factory, board, session):
        from pipewise.auth.visibility import SYSTEM_ACTOR
        from pipewise.deals.service import stage_service
        from pipewise.records.field_definitions import custom_field_service

        rep, stages = board
        custom_field_service.create(
            session, data={"record_type": "deal", "key": "champion", "label": "Champion", "field_type": "text"}, actor=SYSTEM_ACTOR
        )
        stage_service.update(session, stages["Demo"], data={"required_fields": ["custom.champion"]}, actor=SYSTEM_ACTOR)
        deal = factory.deal(owner=rep)
        with pytest.raises(ValidationFailed) as exc:
            deal_service.move_to_stage(session, deal.id, stages["Demo"].id, actor=factory.actor(rep))
        assert exc.value.errors[0].message == "Champion is required to enter Demo"
        deal_service.update(session, deal, data={"custom": {"champion": "Dana"}, "stage_id": stages["Demo"].id}, actor=factory.actor(rep))
        assert deal.stage_id == stages["Demo"].id

    def test_a_rep_of_another_team_cannot_move_it(self, factory, board, session):
        rep, stages = board
        deal = factory.deal(owner=rep)
        stranger = factory.user(team=factory.team())
        with pytest.raises(NotFound):
            deal_service.move_to_stage(session, deal.id, stages["Demo"].id, actor=factory.actor(stranger))


class TestContacts:
    def test_link_and_unlink_contacts_with_roles(self, factory, board, session):
        rep, _ = board
        deal, contact = factory.deal(owner=rep), factory.contact(owner=rep)
        actor = factory.actor(rep)
        deal_service.add_contact(session, deal.id, contact.id, role="champion", actor=actor)
        assert [(c.id, role) for c, role in deal_service.contacts(session, deal.id)] == [(contact.id, "champion")]
        deal_service.remove_contact(session, deal.id, contact.id, actor=actor)
        assert deal_service.contacts(session, deal.id) == []

    def test_managers_may_change_their_teams_deals(self, factory, board, session):
        rep, stages = board
        deal = factory.deal(owner=rep)
        manager = factory.user(role="manager")
        from pipewise.auth.visibility import SYSTEM_ACTOR
        from pipewise.people.service import team_service

        team = session.get(type(rep), rep.id).team_id
        team_service.update(session, team_service.get(session, team, actor=SYSTEM_ACTOR), data={"manager_id": manager.id}, actor=SYSTEM_ACTOR)
        deal_service.move_to_stage(session, deal.id, stages["Demo"].id, actor=factory.actor(manager))
        assert deal.stage_id == stages["Demo"].id
        other_manager = factory.user(role="manager", team=factory.team())
        with pytest.raises(NotFound):
            deal_service.move_to_stage(session, deal.id, stages["Proposal"].id, actor=factory.actor(other_manager))
