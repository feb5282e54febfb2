"""The filter language, evaluated on stored records exactly as list views and
automation conditions evaluate it."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pipewise.db.base import utcnow
from pipewise.records.filters import OPERATORS, FilterError, conditions_from_params, record_matches
from pipewise.records.registry import spec_for


@pytest.fixture
def deal(factory, session):
    team = factory.team("Enterprise")
    owner = factory.user(team=team, name="Olivia Owner")
    factory.pipeline()
    account = factory.account(owner=owner, name="Acme", industry="Software", size=800, country="DE")
    record = factory.deal(
        owner=owner,
        account_id=account.id,
        name="Acme platform",
        amount=Decimal("1200"),
        close_date=date.today() + timedelta(days=10),
        next_step="",
    )
    session.flush()
    return record


def matches(session, record, tree, record_type="deal"):
    return record_matches(session, spec_for(record_type), record.id, tree)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "amount", "op": "eq", "value": "1200"}, True),
        ({"field": "amount", "op": "ne", "value": 1200}, False),
        ({"field": "amount", "op": "gt", "value": 1000}, True),
        ({"field": "amount", "op": "gte", "value": "1200.00"}, True),
        ({"field": "amount", "op": "lt", "value": 5000}, True),
        ({"field": "amount", "op": "lte", "value": 1199.99}, False),
        ({"field": "currency", "op": "in", "value": ["EUR", "USD"]}, True),
        ({"field": "currency", "op": "not_in", "value": "USD,GBP"}, False),
        ({"field": "name", "op": "contains", "value": "PLATFORM"}, True),
        ({"field": "name", "op": "starts_with", "value": "Acme"}, True),
        ({"field": "next_step", "op": "is_empty"}, True),
        ({"field": "lost_reason", "op": "is_empty"}, True),
        ({"field": "amount", "op": "is_not_empty"}, True),
        ({"field": "close_date", "op": "after", "value": "today"}, True),
        ({"field": "close_date", "op": "before", "value": "+7d"}, False),
        ({"field": "close_date", "op": "before", "value": "+2w"}, True),
        ({"field": "created_at", "op": "within_last_days", "value": 1}, True),
        ({"field": "created_at", "op": "older_than_days", "value": 1}, False),
        ({"field": "created_at", "op": "after", "value": "-1h"}, True),
    ],
)
def test_each_operator(session, deal, condition, expected):
    assert matches(session, deal, condition) is expected


def test_every_operator_is_covered():
    covered = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "starts_with", "is_empty",
               "is_not_empty", "before", "after", "within_last_days", "older_than_days"}
    assert covered == set(OPERATORS)


def test_groups_and_negation(session, deal):
    big = {"field": "amount", "op": "gte", "value": 5000}
    software = {"field": "account.industry", "value": "Software"}
    assert matches(session, deal, {"all": [software, {"not": big}]})
    assert not matches(session, deal, {"all": [software, big]})
    assert matches(session, deal, {"any": [big, software]})
    assert matches(session, deal, {"all": []}) and not matches(session, deal, {"any": []})


def test_related_records_two_hops(session, deal):
    assert matches(session, deal, {"field": "owner.team.name", "value": "Enterprise"})
    assert matches(session, deal, {"field": "account.owner.name", "op": "contains", "value": "olivia"})
    assert not matches(session, deal, {"field": "account.country", "value": "US"})


def test_custom_fields_by_type(factory, session, deal):
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.deals.service import deal_service
    from pipewise.records.field_definitions import custom_field_service

    for key, field_type, extra in (("seats", "number", {}), ("tier", "choice", {"choices": ["gold", "silver"]}), ("renewal", "date", {})):
        custom_field_service.create(
            session, data={"record_type": "deal", "key": key, "label": key, "field_type": field_type, **extra}, actor=SYSTEM_ACTOR
        )
    deal_service.update(session, deal, data={"custom": {"seats": 40, "tier": "gold", "renewal": "2027-05-01"}}, actor=SYSTEM_ACTOR)
    session.flush()
    assert matches(session, deal, {"field": "custom.seats", "op": "gt", "value": 9})  # numeric, not text, order
    assert matches(session, deal, {"field": "custom.tier", "op": "in", "value": ["gold"]})
    assert matches(session, deal, {"field": "custom.renewal", "op": "after", "value": "2027-04-30"})
    assert not matches(session, deal, {"field": "custom.renewal", "op": "before", "value": "2027-01-01"})


@pytest.mark.parametrize(
    ("tree", "field", "message"),
    [
        ({"field": "colour", "value": "red"}, "filter.colour", "no field"),
        ({"field": "amount", "op": "near", "value": 1}, "filter.amount", "unknown operator"),
        ({"field": "amount", "op": "gt", "value": "lots"}, "filter.amount", "not a valid"),
        ({"field": "close_date", "op": "before", "value": "someday"}, "filter.close_date", "not a valid"),
        ({"field": "custom.nope", "value": 1}, "filter.custom.nope", "no custom field"),
        ({"field": "account.colour", "value": 1}, "filter.colour", "no field"),
        ({"all": "x"}, "filter.all", "list"),
        ({"op": "eq"}, "filter", "needs a field"),
        ({"any": [{"op": "eq"}]}, "filter.any[0]", "needs a field"),
        ({"field": "created_at", "op": "within_last_days", "value": "week"}, "filter.created_at", "whole number"),
        ({"field": "owner.password_hash", "value": "x"}, "filter.password_hash", "no field"),
    ],
)
def test_errors_name_the_field(session, deal, tree, field, message):
    with pytest.raises(FilterError) as exc:
        matches(session, deal, tree)
    assert exc.value.errors[0].field == field
    assert message in exc.value.errors[0].message


def test_query_parameters_become_conditions():
    params = {"industry": "Software", "size__gte": "100", "q": "acme", "sort": "name", "custom.tier__in": "a,b"}
    assert conditions_from_params(params) == [
        {"field": "industry", "op": "eq", "value": "Software"},
        {"field": "size", "op": "gte", "value": "100"},
        {"field": "custom.tier", "op": "in", "value": "a,b"},
    ]


def test_now_relative_datetimes(session, deal):
    assert utcnow() > deal.created_at
    assert matches(session, deal, {"field": "created_at", "op": "before", "value": "now"})
