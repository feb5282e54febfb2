import pytest
from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Account, Contact
from pipewise.deals.models import Deal
from pipewise.errors import ValidationFailed
from pipewise.events.models import OutboxEvent
from pipewise.leads.service import lead_service


def lifecycle_events(session, lead_id):
    return [
        e.payload["data"]
        for e in session.scalars(
            select(OutboxEvent).where(OutboxEvent.name == "lead.lifecycle_changed", OutboxEvent.record_id == lead_id).order_by(OutboxEvent.id)
        )
    ]


class TestStages:
    def test_each_transition_is_an_event(self, session, factory):
        lead = factory.lead()
        for stage in ("mql", "sql"):
            lead_service.update(session, lead, data={"lifecycle_stage": stage}, actor=SYSTEM_ACTOR)
        session.flush()
        assert [(e["from"], e["to"]) for e in lifecycle_events(session, lead.id)] == [("lead", "mql"), ("mql", "sql")]

    def test_disqualified_needs_a_reason(self, session, factory):
        lead = factory.lead()
        with pytest.raises(ValidationFailed) as exc:
            lead_service.update(session, lead, data={"lifecycle_stage": "disqualified"}, actor=SYSTEM_ACTOR)
        assert exc.value.errors[0].field == "disqualified_reason"
        lead_service.update(session, lead, data={"lifecycle_stage": "disqualified", "disqualified_reason": "student"}, actor=SYSTEM_ACTOR)
        session.flush()
        assert lead.status == "disqualified"
        assert lifecycle_events(session, lead.id)[-1] == {"from": "lead", "to": "disqualified", "reason": "student", "cause": "changed by hand"}

    def test_unknown_stage(self, session, factory):
        with pytest.raises(ValidationFailed):
            lead_service.update(session, factory.lead(), data={"lifecycle_stage": "hot"}, actor=SYSTEM_ACTOR)


class TestConvert:
    def test_creates_contact_account_and_deal(self, session, factory):
        factory.pipeline()
        lead = factory.lead(company="Initech", email="peter@initech.example")
        result = lead_service.convert(session, lead.id, actor=SYSTEM_ACTOR, amount=None)
        session.flush()
        assert result["account"].name == "Initech" and result["account"].domain == "initech.example"
        assert result["contact"].account_id == result["account"].id
        assert result["deal"].account_id == result["account"].id
        assert (lead.status, lead.lifecycle_stage) == ("converted", "opportunity")
        assert lifecycle_events(session, lead.id)[-1]["to"] == "opportunity"

    def test_links_existing_account_and_contact(self, session, factory):
        factory.pipeline()
        account = factory.account(domain="initech.example")
        contact = factory.contact(email="peter@initech.example", account_id=account.id)
        lead = factory.lead(email="peter@initech.example")
        result = lead_service.convert(session, lead.id, actor=SYSTEM_ACTOR, create_deal=False)
        assert (result["account"].id, result["contact"].id, result["deal"]) == (account.id, contact.id, None)
        assert lead.lifecycle_stage == "sql"

    def test_all_or_nothing(self, session, factory):
        lead = factory.lead(company="Initech")  # no pipeline: the deal cannot be created
        before = [session.scalar(select(func.count()).select_from(m)) for m in (Account, Contact, Deal)]
        with pytest.raises(ValidationFailed):
            lead_service.convert(session, lead.id, actor=SYSTEM_ACTOR)
        session.flush()
        assert [session.scalar(select(func.count()).select_from(m)) for m in (Account, Contact, Deal)] == before
        assert lead.status != "converted"
