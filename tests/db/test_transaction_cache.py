"""Lookups cached for one transaction (custom-field definitions, active owners) never hide
a change made through the same session."""

import pytest

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.service import contact_service
from pipewise.db.session import cached_lookup, get_sessionmaker
from pipewise.db.unit_of_work import unit_of_work
from pipewise.errors import ValidationFailed
from pipewise.records import custom_fields
from pipewise.records.field_definitions import custom_field_service
from pipewise.records.models import CustomFieldDefinition


def define(session, key: str) -> None:  # type: ignore[no-untyped-def]
    custom_field_service.create(
        session, data={"record_type": "contact", "key": key, "label": key, "field_type": "text"}, actor=SYSTEM_ACTOR
    )


def keys(session) -> set[str]:  # type: ignore[no-untyped-def]
    return set(custom_fields.definitions(session, "contact"))


class TestCachedDefinitions:
    def test_a_definition_added_in_the_session_is_seen_without_flush(self, session):
        define(session, "tier")
        assert keys(session) == {"tier"}

        define(session, "region")

        assert keys(session) == {"tier", "region"}

    def test_changed_and_deleted_definitions_are_seen(self, session):
        define(session, "tier")
        session.flush()
        definition = custom_fields.definitions(session, "contact")["tier"]
        assert definition.required is False

        definition.required = True
        assert custom_fields.definitions(session, "contact")["tier"].required is True

        session.delete(definition)
        assert keys(session) == set()

    def test_another_transactions_definition_is_seen_after_commit(self, session):
        assert keys(session) == set()
        session.commit()

        with get_sessionmaker()() as other:
            define(other, "tier")
            other.commit()

        assert keys(session) == {"tier"}

    def test_a_rolled_back_savepoint_forgets_its_definition(self, session):
        define(session, "tier")
        session.flush()
        savepoint = session.begin_nested()
        define(session, "region")
        assert keys(session) == {"tier", "region"}
        savepoint.rollback()

        assert keys(session) == {"tier"}

    def test_returns_a_copy(self, session):
        define(session, "tier")
        custom_fields.definitions(session, "contact").clear()

        assert keys(session) == {"tier"}


class TestCachedOwnerCheck:
    def test_an_owner_deactivated_in_the_session_is_refused(self, session, factory):
        owner = factory.user(role="rep")
        contact_service.create(session, data={"last_name": "A", "owner_id": owner.id}, actor=SYSTEM_ACTOR)

        owner.is_active = False
        with pytest.raises(ValidationFailed) as failed:
            contact_service.create(session, data={"last_name": "B", "owner_id": owner.id}, actor=SYSTEM_ACTOR)

        assert [e.field for e in failed.value.errors] == ["owner_id"]

    def test_many_creates_in_one_transaction_flush_together(self, session, factory):
        owner = factory.user(role="rep")
        define(session, "tier")
        session.flush()
        contact_service.create(session, data={"last_name": "first", "owner_id": owner.id}, actor=SYSTEM_ACTOR)
        session.flush()

        for n in range(5):
            contact_service.create(session, data={"last_name": f"P{n}", "owner_id": owner.id}, actor=SYSTEM_ACTOR)

        assert sum(isinstance(o, CustomFieldDefinition) for o in session.new) == 0
        # contact, history and outbox row each, waiting together: no lookup flushed them
        waiting = unit_of_work(session).deferred_inserts.rows
        assert sorted((table.name, len(rows)) for (table, _), rows in waiting.items()) == [
            ("contact", 5), ("outbox_event", 5), ("record_history", 5),
        ]


class TestChangesSeen:
    def test_a_change_is_seen_whatever_left_the_changed_objects_before_it(self, session, factory):
        """The changed objects' classes are kept between lookups: an object that leaves them
        (expired here) and another that joins, the count the same, still drop the lookup."""
        owner, other = factory.user(role="rep"), factory.user(role="rep")
        contact = contact_service.create(session, data={"last_name": "A"}, actor=SYSTEM_ACTOR)
        session.flush()
        answers = iter(["first", "second", "third"])

        def lookup() -> str:
            return cached_lookup(session, User, "who", lambda: next(answers))

        assert lookup() == "first"
        contact.first_name = "Changed"  # not a user: the lookup stands
        assert lookup() == "first"
        session.expire(contact)  # leaves the changed objects …
        owner.name = "Renamed"  # … and a user joins them, one changed object as before
        assert lookup() == "second"
        session.flush()
        other.name = "Renamed too"
        assert lookup() == "third"
