"""Every operator of the filter language as an enrollment condition, related records,
custom fields, and the sentence that explains a decision."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation import conditions
from pipewise.automation.service import workflow_service
from pipewise.crm.models import Contact
from pipewise.deals.service import deal_service
from pipewise.records.field_definitions import custom_field_service
from pipewise.records.timeline import timeline
from tests.automation.support import MANAGER, drain, make_workflow, messages


@pytest.fixture
def deal(session, factory):
    factory.pipeline()
    owner = factory.user(name="Olga Owner")
    account = factory.account(industry="Software", size=250)
    custom_field_service.create(
        session, data={"record_type": "deal", "key": "tier", "label": "Tier", "field_type": "text"}, actor=SYSTEM_ACTOR
    )
    return factory.deal(
        owner=owner, name="Acme renewal", amount=Decimal("1200"), account_id=account.id,
        close_date=date.today() + timedelta(days=10), next_step=None, custom={"tier": "gold"},
    )


CASES = [
    ({"field": "amount", "op": "eq", "value": 1200}, True, "deal.amount 1,200 is 1,200"),
    ({"field": "amount", "op": "ne", "value": 1200}, False, "deal.amount 1,200 is 1,200"),
    ({"field": "amount", "op": "gt", "value": 1200}, False, "deal.amount 1,200 is not above 1,200"),
    ({"field": "amount", "op": "gte", "value": 5000}, False, "deal.amount 1,200 is below 5,000"),
    ({"field": "amount", "op": "lt", "value": 5000}, True, "deal.amount 1,200 is below 5,000"),
    ({"field": "amount", "op": "lte", "value": 1000}, False, "deal.amount 1,200 is above 1,000"),
    ({"field": "currency", "op": "in", "value": ["EUR", "USD"]}, True, "deal.currency USD is one of EUR, USD"),
    ({"field": "currency", "op": "not_in", "value": ["USD"]}, False, "deal.currency USD is one of USD"),
    ({"field": "name", "op": "contains", "value": "renew"}, True, "deal.name Acme renewal contains renew"),
    ({"field": "name", "op": "starts_with", "value": "Beta"}, False, "deal.name Acme renewal does not start with Beta"),
    ({"field": "next_step", "op": "is_empty"}, True, "deal.next_step is empty"),
    ({"field": "next_step", "op": "is_not_empty"}, False, "deal.next_step is empty (empty)"),
    ({"field": "close_date", "op": "before", "value": "+30d"}, True, None),
    ({"field": "close_date", "op": "after", "value": "+30d"}, False, None),
    ({"field": "created_at", "op": "within_last_days", "value": 1}, True, None),
    ({"field": "created_at", "op": "older_than_days", "value": 1}, False, None),
    ({"field": "account.industry", "op": "eq", "value": "Software"}, True, "deal.account.industry Software is Software"),
    ({"field": "account.size", "op": "gte", "value": 1000}, False, "deal.account.size 250 is below 1,000"),
    ({"field": "owner.name", "op": "eq", "value": "Olga Owner"}, True, "deal.owner.name Olga Owner is Olga Owner"),
    ({"field": "custom.tier", "op": "eq", "value": "gold"}, True, "deal.custom.tier gold is gold"),
    ({"all": [{"field": "amount", "op": "gte", "value": 1000}, {"field": "currency", "op": "eq", "value": "EUR"}]}, False,
     "deal.currency USD is not EUR"),
    ({"any": [{"field": "amount", "op": "gte", "value": 5000}, {"field": "currency", "op": "eq", "value": "EUR"}]}, False,
     "none held: deal.amount 1,200 is below 5,000; deal.currency USD is not EUR"),
    ({"not": {"field": "amount", "op": "gte", "value": 1000}}, False, "not (deal.amount 1,200 is at least 1,000)"),
]


@pytest.mark.parametrize(("tree", "expected", "text"), CASES, ids=[str(c[0])[:60] for c in CASES])
def test_operator(session, deal, tree, expected, text):
    verdict = conditions.explain(session, "deal", deal.id, tree)
    assert verdict.ok is expected
    assert conditions.matches(session, "deal", deal.id, tree) is expected
    if text:
        assert verdict.text == text


def test_related_lists_of_an_account(session, factory, deal):
    account_id = deal.account_id
    assert conditions.matches(session, "account", account_id, {"field": "open_deals", "op": "is_not_empty"})
    assert conditions.matches(session, "account", account_id, {"field": "open_deals.amount", "op": "gte", "value": 1000})
    assert not conditions.matches(session, "account", account_id, {"field": "open_deals.amount", "op": "gte", "value": 5000})
    verdict = conditions.explain(session, "account", account_id, {"field": "open_deals", "op": "is_empty"})
    assert not verdict.ok and verdict.text == "account.open_deals is not empty (Acme renewal)"


def test_contacts_account_in_a_condition(session, factory):
    account = factory.account(industry="Retail")
    contact = factory.contact(account_id=account.id)
    assert conditions.matches(session, "contact", contact.id, {"field": "account.industry", "op": "eq", "value": "Retail"})


def test_not_enrolled_explanation_is_stored_for_the_rep(session, factory, clock, deal):
    make_workflow(
        session,
        {"trigger": {"type": "record_updated", "record_type": "deal"},
         "conditions": {"field": "amount", "op": "gte", "value": 5000},
         "steps": [{"id": "t", "type": "add_tag", "tag": "big"}]},
    )
    deal_service.update(session, deal, data={"next_step": "Call"}, actor=SYSTEM_ACTOR)
    drain(session)
    assert messages(session, deal.id) == ["not_enrolled: deal.amount 1,200 is below 5,000"]
    entry = next(e for e in timeline(session, "deal", deal.id) if e.kind == "automation")
    assert entry.title.endswith("Not enrolled: deal.amount 1,200 is below 5,000")


def test_a_list_filter_is_an_enrollment_condition(session, factory, clock, api):
    """The filter a list page sends (``filter=`` JSON) works unchanged as a condition."""
    factory.contact(title="CEO", first_name="Ann")
    factory.contact(title="Intern")
    saved_view = {"all": [{"field": "title", "op": "in", "value": ["CEO", "CFO"]}]}
    admin = factory.user(role="admin")
    listed = api.get("/api/v1/contacts", params={"filter": json.dumps(saved_view)}, headers=factory.headers(admin)).json()["items"]
    wf = make_workflow(session, {"trigger": {"type": "manual"}, "conditions": saved_view, "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]})
    ids = list(session.scalars(select(Contact.id)))
    results = workflow_service.enroll_records(session, wf.id, ids, actor=MANAGER)
    assert {str(r.enrollment.record_id) for r in results if r.status == "enrolled"} == {c["id"] for c in listed}
