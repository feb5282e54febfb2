import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipewise.meetings.availability import busy_times
from pipewise.meetings.models import Availability, BookingHost, BookingPage, Meeting
from pipewise.meetings.slots import page_calendar, visible_slots

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = {str(d): [["09:00", "12:00"]] for d in range(5)}


def _page(session, hosts, kind="one_to_one", **kw):
    page = BookingPage(slug=f"p-{uuid.uuid4().hex[:12]}", title="Demo", kind=kind, owner_id=hosts[0].id,
                       duration_minutes=60, slot_step_minutes=60, **kw)
    session.add(page)
    session.flush()
    for user in hosts:
        session.add(BookingHost(page_id=page.id, user_id=user.id))
    return page


def _hours(session, user, **kw):
    values = {"timezone": "Europe/Berlin", "weekly_hours": WEEKDAYS, "min_notice_minutes": 0, "horizon_days": 400,
              "buffer_before_minutes": 0, "buffer_after_minutes": 0, **kw}
    session.add(Availability(user_id=user.id, **values))


def _meeting(session, host, start, minutes=60, status="scheduled"):
    session.add(Meeting(host_id=host.id, title="Busy", start_at=start, end_at=start + timedelta(minutes=minutes),
                        uid=f"{start.isoformat()}-{host.id}", nonce="n", status=status))
    session.flush()


def _local_hours(session, page, day, tz=BERLIN, now=None):
    now = now or datetime(2026, 1, 1, tzinfo=UTC)
    slots = visible_slots(session, page, day, 1, tz, now).get(day.isoformat(), [])
    return [s.strftime("%H:%M") for s in slots]


class TestWorkingHours:
    def test_hours_stay_local_across_the_dst_change(self, session, factory):
        rep = factory.user()
        _hours(session, rep)
        page = _page(session, [rep])
        # Berlin moves to summer time on Sunday 29 March 2026: 09:00 is 08:00 UTC before, 07:00 UTC after.
        before = visible_slots(session, page, date(2026, 3, 27), 1, UTC, datetime(2026, 1, 1, tzinfo=UTC))
        after = visible_slots(session, page, date(2026, 3, 30), 1, UTC, datetime(2026, 1, 1, tzinfo=UTC))
        assert [s.strftime("%H:%M") for s in before["2026-03-27"]] == ["08:00", "09:00", "10:00"]
        assert [s.strftime("%H:%M") for s in after["2026-03-30"]] == ["07:00", "08:00", "09:00"]
        assert _local_hours(session, page, date(2026, 3, 30)) == ["09:00", "10:00", "11:00"]

    def test_visitor_zone_shifts_the_day(self, session, factory):
        rep = factory.user()
        _hours(session, rep)
        page = _page(session, [rep])
        tokyo = visible_slots(session, page, date(2026, 6, 8), 1, ZoneInfo("Asia/Tokyo"), datetime(2026, 1, 1, tzinfo=UTC))
        # Berlin 09:00-12:00 on Monday is 16:00-19:00 in Tokyo.
        assert [s.strftime("%H:%M") for s in tokyo["2026-06-08"]] == ["16:00", "17:00", "18:00"]

    def test_holidays_weekends_and_the_routing_default(self, session, factory):
        rep, other = factory.user(), factory.user()
        _hours(session, rep, holiday_country="DE")
        page = _page(session, [rep])
        assert _local_hours(session, page, date(2026, 12, 25)) == []  # Christmas, a Friday
        assert _local_hours(session, page, date(2026, 12, 26)) == []  # Saturday
        assert _local_hours(session, page, date(2026, 12, 28)) == ["09:00", "10:00", "11:00"]
        fallback = _page(session, [other])  # no availability: the routing policy's 09:00-17:00 UTC weekdays
        assert len(visible_slots(session, fallback, date(2026, 1, 5), 1, UTC, datetime(2026, 1, 1, tzinfo=UTC))["2026-01-05"]) == 8

    def test_notice_and_horizon(self, session, factory):
        rep = factory.user()
        _hours(session, rep, min_notice_minutes=24 * 60, horizon_days=7)
        page = _page(session, [rep])
        now = datetime(2026, 6, 8, 6, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
        assert _local_hours(session, page, date(2026, 6, 8), now=now) == []
        assert _local_hours(session, page, date(2026, 6, 9), now=now) == ["09:00", "10:00", "11:00"]
        assert _local_hours(session, page, date(2026, 6, 15), now=now) == []


class TestBusyTimes:
    def test_meetings_buffers_and_the_daily_limit(self, session, factory):
        rep = factory.user()
        _hours(session, rep, buffer_after_minutes=15, daily_limit=2)
        page = _page(session, [rep])
        day = date(2026, 6, 9)
        _meeting(session, rep, datetime(2026, 6, 9, 7, 0, tzinfo=UTC))  # 09:00 Berlin; its buffer runs to 10:15
        _meeting(session, rep, datetime(2026, 6, 9, 7, 0, tzinfo=UTC) + timedelta(days=1), status="cancelled")
        assert _local_hours(session, page, day) == ["11:00"]
        assert busy_times(session, rep.id, datetime(2026, 6, 9, tzinfo=UTC), datetime(2026, 6, 10, tzinfo=UTC)) == [
            (datetime(2026, 6, 9, 7, 0, tzinfo=UTC), datetime(2026, 6, 9, 8, 0, tzinfo=UTC))]
        _meeting(session, rep, datetime(2026, 6, 9, 9, 0, tzinfo=UTC), minutes=30)
        assert _local_hours(session, page, day) == []  # two meetings: the day is full
        assert _local_hours(session, page, date(2026, 6, 10)) == ["09:00", "10:00", "11:00"]


class TestTeamPages:
    def test_round_robin_is_free_when_anyone_is_and_collective_when_all_are(self, session, factory):
        ann, ben = factory.user(), factory.user()
        _hours(session, ann)
        _hours(session, ben)
        _meeting(session, ann, datetime(2026, 6, 9, 7, 0, tzinfo=UTC))
        _meeting(session, ben, datetime(2026, 6, 9, 8, 0, tzinfo=UTC))
        robin = _page(session, [ann, ben], "round_robin")
        together = _page(session, [ann, ben], "collective")
        assert _local_hours(session, robin, date(2026, 6, 9)) == ["09:00", "10:00", "11:00"]
        assert _local_hours(session, together, date(2026, 6, 9)) == ["11:00"]

    def test_equal_distribution_hides_a_host_who_is_ahead(self, session, factory):
        ann, ben = factory.user(), factory.user()
        _hours(session, ann)
        _hours(session, ben)
        page = _page(session, [ann, ben], "round_robin", equal_distribution=True)
        for hours in (0, 24):
            start = datetime(2026, 5, 4, 7, 0, tzinfo=UTC) + timedelta(hours=hours)
            session.add(Meeting(host_id=ann.id, page_id=page.id, title="x", start_at=start, end_at=start + timedelta(hours=1),
                                uid=str(start), nonce="n", status="held"))
        _meeting(session, ben, datetime(2026, 6, 9, 7, 0, tzinfo=UTC), minutes=180)  # ben is busy all morning
        # Ann is two ahead: one more would put her three ahead, so her free morning is hidden.
        assert _local_hours(session, page, date(2026, 6, 9)) == []
        calendar = page_calendar(session, page, datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC))
        assert [h.user_id for h in calendar.load] == [ben.id]
