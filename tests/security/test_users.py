"""Removing people: deleting a user who owns records is refused with the counts, or hands
everything to a named user with history; deactivation is the usual path and stops their
sessions and tokens at once; records never become unowned; the last admin stays."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pipewise.auth.models import User
from pipewise.crm.models import Contact
from pipewise.deals.models import Deal
from pipewise.records.models import RecordHistory
from pipewise.sequences.models import Sequence
from pipewise.sequences.service import sequence_service


@pytest.fixture
def admin(factory, session):  # type: ignore[no-untyped-def]
    user = factory.user(role="admin", name="Ada Admin")
    session.commit()
    return user


def rep_with_records(factory, session):  # type: ignore[no-untyped-def]
    team = factory.team()
    rep = factory.user(team=team)
    contacts = [factory.contact(rep), factory.contact(rep)]
    factory.pipeline()
    deal = factory.deal(rep)
    session.commit()
    return rep, contacts, deal


class TestDeletingAUserWhoOwnsRecords:
    def test_is_refused_with_the_counts_and_nothing_changes(self, api, factory, session, admin):  # type: ignore[no-untyped-def]
        rep, contacts, deal = rep_with_records(factory, session)
        r = api.delete(f"/api/v1/users/{rep.id}", headers=factory.headers(admin))
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert "owns 2 contacts, 1 deal" in detail
        assert "reassign" in detail and "deactivate" in detail
        session.expire_all()
        assert session.get(User, rep.id) is not None
        assert {c.owner_id for c in session.scalars(select(Contact))} == {rep.id}

    def test_reassign_to_hands_over_every_record_with_history(self, api, factory, session, admin):  # type: ignore[no-untyped-def]
        rep, contacts, deal = rep_with_records(factory, session)
        sequence = sequence_service.create(session, data={"name": "Rep's own"}, actor=factory.actor(rep))
        successor = factory.user(name="Sam Successor")
        session.commit()
        rep_id = rep.id

        r = api.delete(f"/api/v1/users/{rep_id}?reassign_to={successor.id}", headers=factory.headers(admin))
        assert r.status_code == 204, r.text

        session.expire_all()
        assert session.get(User, rep_id) is None
        assert {c.owner_id for c in session.scalars(select(Contact))} == {successor.id}
        assert session.get(Deal, deal.id).owner_id == successor.id
        assert session.get(Sequence, sequence.id).owner_id == successor.id
        headers = factory.headers(admin)
        for contact in contacts:
            history = api.get(f"/api/v1/contacts/{contact.id}/history", headers=headers).json()
            assert history[0]["changes"]["owner_id"] == [str(rep_id), str(successor.id)]
            assert history[0]["actor_id"] == str(admin.id)
        sequence_history = session.scalars(select(RecordHistory).where(RecordHistory.record_id == sequence.id)).all()
        assert [h.changes["owner_id"][1] for h in sequence_history] == [str(successor.id)]

    @pytest.mark.parametrize("target", ["self", "unknown", "inactive", "garbage"])
    def test_a_bad_successor_is_a_field_error(self, api, factory, session, admin, target):  # type: ignore[no-untyped-def]
        rep, _contacts, _deal = rep_with_records(factory, session)
        inactive = factory.user(is_active=False)
        session.commit()
        value = {"self": rep.id, "unknown": "0191e8f2-0000-7000-8000-000000000000", "inactive": inactive.id,
                 "garbage": "not-an-id"}[target]
        r = api.delete(f"/api/v1/users/{rep.id}?reassign_to={value}", headers=factory.headers(admin))
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "reassign_to"
        session.expire_all()
        assert session.get(User, rep.id) is not None
        assert {c.owner_id for c in session.scalars(select(Contact))} == {rep.id}

    def test_a_user_who_owns_nothing_is_deleted(self, api, factory, session, admin):  # type: ignore[no-untyped-def]
        rep = factory.user()
        session.commit()
        rep_id = rep.id
        assert api.delete(f"/api/v1/users/{rep_id}", headers=factory.headers(admin)).status_code == 204
        session.expire_all()
        assert session.get(User, rep_id) is None

    def test_only_admins_delete_users(self, api, factory, session, admin):  # type: ignore[no-untyped-def]
        manager = factory.user(role="manager")
        rep = factory.user()
        session.commit()
        assert api.delete(f"/api/v1/users/{rep.id}", headers=factory.headers(manager)).status_code == 403

    def test_the_database_refuses_to_orphan_records(self, factory, session):  # type: ignore[no-untyped-def]
        """Even a delete that goes around the service cannot leave records unowned."""
        rep, _contacts, _deal = rep_with_records(factory, session)
        session.delete(rep)
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


class TestDeactivation:
    def test_keeps_the_records_and_stops_tokens_and_sessions_at_once(self, api, factory, session, admin):  # type: ignore[no-untyped-def]
        from tests.web.conftest import WebClient

        rep, contacts, _deal = rep_with_records(factory, session)
        rep_headers = factory.headers(rep)
        web = WebClient(api)
        assert web.login(rep).status_code == 303
        assert web.get("/", follow_redirects=False).status_code == 200
        assert api.get("/api/v1/me", headers=rep_headers).status_code == 200

        r = api.patch(f"/api/v1/users/{rep.id}", json={"is_active": False}, headers=factory.headers(admin))
        assert r.status_code == 200, r.text
        assert r.json()["is_active"] is False

        assert api.get("/api/v1/me", headers=rep_headers).status_code == 401
        assert web.get("/", follow_redirects=False).status_code == 303
        session.expire_all()
        assert {c.owner_id for c in session.scalars(select(Contact))} == {rep.id}

        # Reactivated, the old browser session stays ended; a new log-in works.
        api.patch(f"/api/v1/users/{rep.id}", json={"is_active": True}, headers=factory.headers(admin))
        assert web.get("/", follow_redirects=False).status_code == 303
        assert web.login(rep).status_code == 303


class TestTheLastAdmin:
    @pytest.mark.parametrize(
        ("method", "body", "field"),
        [("patch", {"role": "manager"}, "role"), ("patch", {"is_active": False}, "is_active"), ("delete", None, "id")],
    )
    def test_cannot_be_demoted_deactivated_or_deleted(self, api, factory, session, admin, method, body, field):  # type: ignore[no-untyped-def]
        factory.user(role="admin", is_active=False)  # an inactive admin does not count
        session.commit()
        kw = {"json": body} if body else {}
        r = getattr(api, method)(f"/api/v1/users/{admin.id}", headers=factory.headers(admin), **kw)
        assert r.status_code == 422, r.text
        error = r.json()["errors"][0]
        assert error["field"] == field
        assert "last active admin" in error["message"]
        session.expire_all()
        again = session.get(User, admin.id)
        assert again.role == "admin" and again.is_active

    def test_another_active_admin_makes_it_possible(self, api, factory, session, admin):  # type: ignore[no-untyped-def]
        other = factory.user(role="admin")
        session.commit()
        r = api.patch(f"/api/v1/users/{admin.id}", json={"role": "rep"}, headers=factory.headers(other))
        assert r.status_code == 200, r.text
        r = api.patch(f"/api/v1/users/{other.id}", json={"role": "rep"}, headers=factory.headers(other))
        assert r.status_code == 422  # now `other` is the last one

    def test_other_changes_to_the_last_admin_are_fine(self, api, factory, session, admin):  # type: ignore[no-untyped-def]
        r = api.patch(f"/api/v1/users/{admin.id}", json={"name": "Ada A.", "role": "admin"}, headers=factory.headers(admin))
        assert r.status_code == 200, r.text
