"""The inbox over HTTP: a user sees, reads and pages through only their own notifications;
notifying twice with one key is one notification and one event."""

import uuid

from sqlalchemy import func, select

from pipewise.events.models import OutboxEvent
from pipewise.notifications.models import Notification
from pipewise.notifications.service import notify


def _notify(session, user, n: int, **kw):  # type: ignore[no-untyped-def]
    ids = [notify(session, user.id, "workflow", f"Note {i}", key=f"t:{user.id}:{i}", **kw) for i in range(n)]
    session.commit()
    return ids


class TestNotify:
    def test_one_key_is_one_notification_and_one_event(self, session, factory):
        rep = factory.user()
        first = notify(session, rep.id, "reminder", "Call Ada", link="/leads", key="k1")
        again = notify(session, rep.id, "reminder", "Call Ada again", key="k1")
        session.commit()
        assert first is not None and again is None
        assert session.scalar(select(func.count()).select_from(Notification)) == 1
        (event,) = session.scalars(select(OutboxEvent).where(OutboxEvent.name == "notification.created"))
        assert event.record_id == first and event.payload["data"]["kind"] == "reminder"

    def test_refuses_an_unknown_kind_and_a_link_to_another_site(self, session, factory):
        rep = factory.user()
        for kind, link in (("gossip", None), ("workflow", "//evil.example/x"), ("workflow", "https://evil.example")):
            try:
                notify(session, rep.id, kind, "x", link=link)
            except ValueError:
                continue
            raise AssertionError(f"{kind} {link} was accepted")


class TestList:
    def test_newest_first_with_cursor_paging_and_the_unread_filter(self, api, session, factory):
        rep = factory.user()
        ids = _notify(session, rep, 5)
        headers = factory.headers(rep)
        api.post(f"/api/v1/notifications/{ids[4]}/read", headers=headers).raise_for_status()

        first = api.get("/api/v1/notifications?limit=2", headers=headers).json()
        assert [n["title"] for n in first["items"]] == ["Note 4", "Note 3"] and first["unread"] == 4
        second = api.get(f"/api/v1/notifications?limit=2&cursor={first['next_cursor']}", headers=headers).json()
        assert "items" in second, second
        third = api.get(f"/api/v1/notifications?limit=2&cursor={second['next_cursor']}", headers=headers).json()
        assert [n["title"] for n in second["items"] + third["items"]] == ["Note 2", "Note 1", "Note 0"]
        assert third["next_cursor"] is None
        unread = api.get("/api/v1/notifications?unread=true", headers=headers).json()
        assert [n["title"] for n in unread["items"]] == ["Note 3", "Note 2", "Note 1", "Note 0"]

    def test_a_bad_cursor_is_a_field_error(self, api, factory):
        rep = factory.user()
        r = api.get("/api/v1/notifications?cursor=nonsense", headers=factory.headers(rep))
        assert r.status_code == 422 and "cursor" in r.text


class TestOwnOnly:
    def test_another_users_notification_is_not_found_and_stays_unread(self, api, session, factory):
        owner, attacker = factory.user(), factory.user(role="admin")
        (target,) = _notify(session, owner, 1)
        headers = factory.headers(attacker)
        assert api.post(f"/api/v1/notifications/{target}/read", headers=headers).status_code == 404
        assert api.post(f"/api/v1/notifications/{uuid.uuid4()}/read", headers=headers).status_code == 404
        assert api.get("/api/v1/notifications", headers=headers).json()["items"] == []
        assert api.post("/api/v1/notifications/read-all", headers=headers).json() == {"marked": 0}
        session.expire_all()
        assert session.get(Notification, target).read_at is None

    def test_read_all_marks_only_ones_own(self, api, session, factory):
        rep, other = factory.user(), factory.user()
        _notify(session, rep, 3)
        (kept,) = _notify(session, other, 1)
        assert api.post("/api/v1/notifications/read-all", headers=factory.headers(rep)).json() == {"marked": 3}
        assert api.get("/api/v1/notifications?unread=true", headers=factory.headers(rep)).json()["items"] == []
        session.expire_all()
        assert session.get(Notification, kept).read_at is None


class TestPreferences:
    def test_read_and_write_per_kind(self, api, factory):
        rep = factory.user()
        headers = factory.headers(rep)
        prefs = api.get("/api/v1/notification-preferences", headers=headers).json()["email"]
        assert prefs["task_assigned"] is False and set(prefs) >= {"task_assigned", "reminder", "lead_routed", "sla_breach"}
        r = api.put("/api/v1/notification-preferences", json={"email": {"reminder": True}}, headers=headers)
        assert r.status_code == 200 and r.json()["email"]["reminder"] is True
        r = api.put("/api/v1/notification-preferences", json={"email": {"reminder": False, "task_assigned": True}}, headers=headers)
        assert r.json()["email"]["reminder"] is False and r.json()["email"]["task_assigned"] is True
        other = factory.user()
        assert api.get("/api/v1/notification-preferences", headers=factory.headers(other)).json()["email"]["task_assigned"] is False

    def test_an_unknown_kind_is_a_field_error_and_nothing_is_written(self, api, factory):
        rep = factory.user()
        headers = factory.headers(rep)
        r = api.put("/api/v1/notification-preferences", json={"email": {"reminder": True, "gossip": True}}, headers=headers)
        assert r.status_code == 422 and "email.gossip" in r.text
        assert api.get("/api/v1/notification-preferences", headers=headers).json()["email"]["reminder"] is False
