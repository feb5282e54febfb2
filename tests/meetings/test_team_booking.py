from sqlalchemy import select

from pipewise.meetings.models import Meeting, MeetingAttendee
from tests.meetings.support import book, first_slot, make_page, set_hours


def _team(api, session, factory):  # type: ignore[no-untyped-def]
    team = factory.team("Sales")
    manager = factory.user(role="manager", team=team)
    ann, ben = factory.user(team=team, name="Ann"), factory.user(team=team, name="Ben")
    session.commit()
    for user in (ann, ben):
        set_hours(api, factory.headers(user))
    return manager, ann, ben


class TestRoundRobin:
    def test_priority_first_then_the_contacts_owner_when_asked(self, api, session, factory):
        manager, ann, ben = _team(api, session, factory)
        factory.contact(ben, last_name="Known", email="known@example.com")
        session.commit()
        make_page(api, factory.headers(manager), slug="team", kind="round_robin", contact_owner_first=True,
                  hosts=[{"user_id": str(ann.id), "priority": 1}, {"user_id": str(ben.id)}])
        assert book(api, "team", first_slot(api, "team"), email="new@example.com").status_code == 201
        assert book(api, "team", first_slot(api, "team"), email="known@example.com").status_code == 201
        session.commit()
        def host_of(email: str):  # type: ignore[no-untyped-def]
            return session.scalar(select(Meeting.host_id).join(MeetingAttendee).where(MeetingAttendee.email == email))

        assert host_of("new@example.com") == ann.id  # the higher priority
        known = session.scalar(select(Meeting).join(MeetingAttendee).where(MeetingAttendee.email == "known@example.com"))
        assert known.host_id == ben.id

    def test_both_hosts_can_take_the_same_time(self, api, session, factory):
        manager, ann, ben = _team(api, session, factory)
        make_page(api, factory.headers(manager), slug="team", kind="round_robin",
                  hosts=[{"user_id": str(ann.id)}, {"user_id": str(ben.id)}])
        slot = first_slot(api, "team")
        assert book(api, "team", slot, email="a@example.com").status_code == 201
        assert book(api, "team", slot, email="b@example.com").status_code == 201
        assert book(api, "team", slot, email="c@example.com").status_code == 409
        session.commit()
        assert {m.host_id for m in session.scalars(select(Meeting))} == {ann.id, ben.id}


class TestCollective:
    def test_every_host_is_invited_and_busy(self, api, session, factory):
        manager, ann, ben = _team(api, session, factory)
        make_page(api, factory.headers(manager), slug="both", kind="collective",
                  hosts=[{"user_id": str(ann.id)}, {"user_id": str(ben.id)}])
        make_page(api, factory.headers(ben), slug="ben-alone", hosts=[{"user_id": str(ben.id)}])
        slot = first_slot(api, "both")
        assert book(api, "both", slot).status_code == 201
        session.commit()
        meeting = session.scalar(select(Meeting))
        attendees = {a.email: a.user_id for a in session.scalars(select(MeetingAttendee))}
        co_host = ben if meeting.host_id == ann.id else ann
        assert attendees == {"ada@example.com": None, co_host.email: co_host.id}
        # The co-host's own page no longer offers that time.
        days = api.get("/book/ben-alone/slots", params={"days": 7}).json()["days"]
        offered = {s for day in days.values() for s in day}
        assert slot not in offered
