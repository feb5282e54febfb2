"""Send windows in the recipient's zone (across a daylight-saving change), business-day
delays that skip weekends and public holidays, and threading headers."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.sequences.calendar import SendWindow, add_delay
from pipewise.sequences.models import Enrollment
from pipewise.sequences.service import sequence_service
from tests.sequences.support import email_step, live_sequence, mailbox, run_worker

NEW_YORK = ZoneInfo("America/New_York")
WORKDAY = {"send_days": [0, 1, 2, 3, 4], "send_start_hour": 9, "send_end_hour": 17}


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


class TestCalendar:
    def test_a_weekend_send_moves_to_monday_morning_local_time_across_dst(self):
        window = SendWindow(zone=NEW_YORK)
        # Saturday 7 March 2026 (EST); clocks go forward on Sunday 8 March.
        placed = window.place(ny(2026, 3, 7, 12).astimezone(UTC))
        assert placed.astimezone(NEW_YORK) == ny(2026, 3, 9, 9)
        assert placed == datetime(2026, 3, 9, 13, tzinfo=UTC)  # EDT is UTC-4

    def test_a_day_delay_keeps_the_local_hour_on_both_sides_of_dst(self):
        friday_afternoon = ny(2026, 3, 6, 16, 30).astimezone(UTC)  # 21:30 UTC (EST)
        monday = add_delay(friday_afternoon, days=1, business=True, zone=NEW_YORK, country="US")
        assert monday.astimezone(NEW_YORK) == ny(2026, 3, 9, 16, 30)
        assert monday == datetime(2026, 3, 9, 20, 30, tzinfo=UTC)

    def test_business_days_skip_the_recipients_public_holidays(self):
        before_july_4th = ny(2025, 7, 3, 10).astimezone(UTC)  # Thursday; Friday the 4th is a holiday
        assert add_delay(before_july_4th, days=1, business=True, zone=NEW_YORK, country="US").astimezone(NEW_YORK).date().day == 7
        assert add_delay(before_july_4th, days=1, business=True, zone=NEW_YORK, country="DE").astimezone(NEW_YORK).date().day == 4
        assert not SendWindow(zone=NEW_YORK, country="US").contains(ny(2025, 7, 4, 10))


def test_sends_land_in_the_recipients_window_and_follow_ups_thread(session, factory, smtp, clock):
    rep = factory.user()
    mailbox(session, rep, **WORKDAY)
    account = factory.account(rep, country="US")
    contact = factory.contact(rep, timezone="America/New_York", account_id=account.id)
    sequence = live_sequence(session, "Window", [
        email_step("Hello", "<p>Hello</p>"),
        email_step("", "<p>Second</p>", delay_days=1, business_days=True),
        email_step("", "<p>Third</p>", delay_days=1, business_days=True),
    ])
    clock.set(ny(2026, 3, 7, 12))  # a Saturday, before the DST change
    sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    enrollment = session.scalar(select(Enrollment))
    assert enrollment.next_run_at.astimezone(NEW_YORK) == ny(2026, 3, 9, 9)

    run_worker()
    assert smtp.handler.messages == []
    for due in (ny(2026, 3, 9, 9, 5), ny(2026, 3, 10, 9, 10), ny(2026, 3, 11, 9, 15)):
        clock.set(due)
        run_worker()
    first, second, third = smtp.handler.to(contact.email)
    assert [m["Subject"] for m in (first, second, third)] == ["Hello", "Re: Hello", "Re: Hello"]
    assert second["In-Reply-To"] == first["Message-ID"]
    assert third["In-Reply-To"] == second["Message-ID"]
    assert third["References"].split() == [first["Message-ID"], second["Message-ID"]]
    assert all(datetime(2026, 3, 9) <= m["Date"].datetime.astimezone(NEW_YORK).replace(tzinfo=None) for m in (first, second, third))
    for message in (first, second, third):
        local = message["Date"].datetime.astimezone(NEW_YORK)
        assert local.weekday() < 5 and 9 <= local.hour < 17
