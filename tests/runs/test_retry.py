from datetime import timedelta

from pipewise.runs.retry import RetryPolicy

STEPS = RetryPolicy(first=timedelta(seconds=30), cap=timedelta(hours=1), limit=5)


def test_the_wait_doubles_from_the_first_up_to_the_cap() -> None:
    waits = [STEPS.delay(attempt).total_seconds() for attempt in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_attempt_zero_waits_the_first_delay() -> None:
    assert STEPS.delay(0) == timedelta(seconds=30)


def test_a_huge_attempt_number_stays_at_the_cap() -> None:
    assert STEPS.delay(10_000) == timedelta(hours=1)


def test_gives_up_when_the_attempts_reach_the_limit() -> None:
    assert [STEPS.gives_up(attempt) for attempt in range(1, 7)] == [False, False, False, False, True, True]


def test_mail_like_schedule_in_minutes() -> None:
    mail = RetryPolicy(first=timedelta(minutes=1), cap=timedelta(hours=4), limit=8)
    assert [mail.delay(a) // timedelta(minutes=1) for a in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 240, 240]
