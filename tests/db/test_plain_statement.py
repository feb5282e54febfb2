"""A PlainStatement answers as SQLAlchemy would (db/plain_statement.py): the same rows, the same
Python values (ids, enums, timestamps), its own limits, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import bindparam, func, literal_column, select, text, union_all

from pipewise.auth.models import Team, User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Account, Contact
from pipewise.db.plain_statement import PlainStatement
from pipewise.db.base import utcnow, uuid7
from pipewise.db.session import insert_ignoring, read
from pipewise.db.unit_of_work import unit_of_work
from pipewise.leads.models import Lead
from pipewise.leads.service import lead_service
from pipewise.notifications.models import Notification


def both(session, statement, parameters):  # type: ignore[no-untyped-def]
    plain = read(session, PlainStatement(statement), parameters)
    assert plain == [tuple(row) for row in session.connection().execute(statement, parameters)]
    return plain


def test_ids_enums_and_times_come_back_as_sqlalchemy_gives_them(session, factory):
    team = factory.team("North")
    manager = factory.user(role="manager", team=team)
    session.flush()
    session.get(Team, team.id).manager_id = manager.id
    session.flush()
    statement = select(User.id, User.role, User.team_id, User.created_at, Team.id).outerjoin(
        Team, Team.manager_id == User.id
    ).where(User.email == bindparam("email"))
    rows = both(session, statement, {"email": manager.email})
    assert rows == [(manager.id, manager.role, team.id, manager.created_at, team.id)]
    assert both(session, statement, {"email": "nobody@example.com"}) == []


def test_a_limit_and_an_order_the_statement_carries(session, factory):
    accounts = [factory.account(name=f"Acme {n}", domain="acme.example") for n in range(3)]
    statement = select(Account.id).where(Account.domain == bindparam("domain")).order_by(Account.created_at).limit(1)
    result = read(session, PlainStatement(statement), {"domain": "acme.example"})
    assert result.scalar() == accounts[0].id and result.first() == (accounts[0].id,)
    assert both(session, statement, {"domain": "acme.example"}) == [(accounts[0].id,)]
    assert read(session, PlainStatement(statement), {"domain": "other.example"}).scalar() is None


def test_a_union_with_one_parameter_used_twice(session, factory):
    lead = factory.lead(last_name="Lovelace", email="ada@engine.example")
    contact = factory.contact(last_name="Lovelace", email="ada@engine.example")
    email = bindparam("email")
    statement = union_all(
        select(literal_column("'lead'").label("kind"), Lead.id).where(Lead.email == email),
        select(literal_column("'contact'").label("kind"), Contact.id).where(Contact.email == email),
    )
    assert sorted(both(session, statement, {"email": "ada@engine.example"})) == sorted(
        [("lead", lead.id), ("contact", contact.id)]
    )


def test_deferred_rows_are_written_before_a_read_that_may_see_them(session, factory):
    lead = factory.lead(last_name="Hopper", email="grace@navy.example")  # its row waits in the unit of work
    statement = PlainStatement(select(Lead.id).where(Lead.email == bindparam("email")))
    assert read(session, statement, {"email": "grace@navy.example"}).all() == [(lead.id,)]


def test_a_read_of_other_tables_leaves_the_deferred_rows_waiting_and_one_through_a_subquery_does_not(session, factory):
    account = factory.account(name="Navy", domain="navy.example")
    session.flush()
    lead = lead_service.create(session, data={"last_name": "Hopper", "email": "grace@navy.example"}, actor=SYSTEM_ACTOR)
    work = unit_of_work(session)
    assert work.deferred_inserts.waiting(Lead.__table__), "the lead's row waits in the unit of work"
    by_domain = PlainStatement(select(Account.id).where(Account.domain == bindparam("domain")))
    assert read(session, by_domain, {"domain": "navy.example"}).all() == [(account.id,)]
    assert work.deferred_inserts.waiting(Lead.__table__), "a read of accounts alone does not write the lead"
    leads_of = select(Lead.email).where(Lead.id == bindparam("id")).scalar_subquery()
    through_a_subquery = PlainStatement(select(Account.id).where(Account.domain == func.substr(leads_of, 7)))
    assert read(session, through_a_subquery, {"id": lead.id}).all() == [(account.id,)]
    assert not work.deferred_inserts.waiting(Lead.__table__)
    assert PlainStatement(select(Account.id).where(text("domain = 'navy.example'"))).tables_read is None, (
        "SQL as text may read any table: the waiting rows are written first"
    )


def test_an_expanding_in_list_is_refused(session):
    statement = PlainStatement(select(Lead.id).where(Lead.email.in_(bindparam("emails", expanding=True))))
    with pytest.raises(ValueError, match="expanding"):
        read(session, statement, {"emails": ["a@b.example"]})


def test_an_insert_returns_what_it_wrote_and_nothing_when_its_key_is_taken(session, factory):
    user = factory.user()
    session.flush()
    statement = insert_ignoring(session, Notification, conflict_on=("key",), returning="id", plain=True)
    assert isinstance(statement, PlainStatement)
    values = {
        "id": uuid7(), "user_id": user.id, "kind": "reminder", "title": "Call Ada", "body": None, "link": "/tasks",
        "record_type": None, "record_id": None, "key": "reminder:1", "created_at": utcnow(), "read_at": None,
    }
    assert read(session, statement, values).all() == [(values["id"],)]
    assert read(session, statement, {**values, "id": uuid7(), "title": "Call Ada again"}).all() == []
    stored = session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
    assert [(n.id, n.title, n.created_at, n.link) for n in stored] == [(values["id"], "Call Ada", values["created_at"], "/tasks")]
