"""The inbox in the web UI: the bell's count on every page, opening one marks it read and
follows its link, mark all read, the unread filter, e-mail settings; and the calendar
page with its task form, snooze and feed address."""

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pipewise.crm.models import Task
from pipewise.notifications.models import Notification
from pipewise.notifications.service import notify

BELL = re.compile(r'data-bell-count>(\d+)<')


def _bell(page: str) -> int:
    counts = set(BELL.findall(page))
    assert len(counts) <= 1, counts
    return int(counts.pop()) if counts else 0


def test_bell_list_open_and_read_all(web, session, factory):
    rep, other = factory.user(), factory.user()
    lead = factory.lead(rep)
    first = notify(session, rep.id, "lead_routed", "New lead: Ada", link=f"/leads/{lead.id}", key="a")
    notify(session, rep.id, "reminder", "Reminder: call Bob", key="b")
    foreign = notify(session, other.id, "reminder", "Someone else's secret", key="c")
    session.commit()
    web.login(rep)

    for path in ("/", "/leads", "/notifications"):
        assert _bell(web.get(path).text) == 2, path
    bell = web.get("/notifications/bell", headers={"HX-Request": "true"}).text
    assert _bell(bell) == 2 and "<html" not in bell
    page = web.get("/notifications").text
    assert page.index("Reminder: call Bob") < page.index("New lead: Ada") and "Someone else" not in page
    assert page.count('class="inbox-item unread"') == 2

    r = web.post(f"/notifications/{first}/open", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/leads/{lead.id}"
    assert _bell(web.get("/").text) == 1
    unread = web.get("/notifications?unread=true").text
    assert "Reminder: call Bob" in unread and "New lead: Ada" not in unread

    assert web.post(f"/notifications/{foreign}/open", follow_redirects=False).status_code == 404
    r = web.post("/notifications/read-all", follow_redirects=True)
    assert "Marked 1 notification read." in r.text and _bell(r.text) == 0
    session.expire_all()
    assert session.get(Notification, foreign).read_at is None


def test_email_settings(web, session, factory):
    rep = factory.user()
    session.commit()
    web.login(rep)
    page = web.get("/notifications/settings").text
    assert 'value="reminder"' in page and 'value="reminder" checked' not in page
    r = web.post("/notifications/settings", {"email": ["reminder", "sla_breach"]}, follow_redirects=True)
    assert 'value="reminder" checked' in r.text and 'value="sla_breach" checked' in r.text and 'value="lead_routed" checked' not in r.text


def test_calendar_week_task_form_snooze_and_feed(web, session, factory):
    rep = factory.user(timezone="Europe/Berlin")
    contact = factory.contact(rep)
    factory.activity(rep, type="meeting", subject="Kick-off with Ada", contact_id=contact.id)
    session.commit()
    web.login(rep)
    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    r = web.post("/calendar/tasks", {"title": "Prepare demo", "due_at": f"{day}T10:00", "remind_at": f"{day}T09:30",
                                     "priority": "normal", "recurrence": "FREQ=WEEKLY"}, follow_redirects=True)
    assert r.status_code == 200 and "Added the task" in html.unescape(r.text)
    task = session.scalar(select(Task).where(Task.title == "Prepare demo"))
    assert task.recurrence == "FREQ=WEEKLY" and task.due_at.astimezone(ZoneInfo("Europe/Berlin")).hour == 10  # the user's time
    assert task.due_at - task.remind_at == timedelta(minutes=30)
    session.commit()
    week = web.get(f"/calendar?week={day}").text
    assert "Prepare demo" in week
    this_week = web.get("/calendar").text
    assert "Kick-off with Ada" in this_week

    r = web.post(f"/calendar/tasks/{task.id}/snooze", {"by": "1w", "back": "/calendar"}, follow_redirects=False)
    assert r.status_code == 303
    session.commit()
    session.expire_all()
    assert session.get(Task, task.id).remind_at > datetime.now(UTC) + timedelta(days=6)

    assert "feed-url" not in web.get("/calendar").text
    page = web.post("/calendar/feed/rotate", follow_redirects=True).text
    url = re.search(r'id="feed-url" class="feed-url" readonly value="([^"]+)"', page).group(1)
    assert "/calendar/feed/" in url and web.get(urlsplit(url).path).status_code == 200
