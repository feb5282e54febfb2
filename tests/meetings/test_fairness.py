"""1,000 simulated round-robin bookings through the real host choice (``eligible`` then
``ranked``), with hosts free or busy at random as real calendars are."""

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pipewise.meetings.models import BookingPage
from pipewise.meetings.slots import EQUAL_GAP, HostLoad, eligible, ranked

BOOKINGS = 1000


def _simulate(weights: list[int], *, equal: bool, free_chance: float, seed: int, check=None) -> list[HostLoad]:  # type: ignore[no-untyped-def]
    page = BookingPage(kind="round_robin", equal_distribution=equal)
    hosts = [HostLoad(uuid.uuid4(), 0, w, 0, None) for w in weights]
    chance = random.Random(seed)
    clock = datetime(2026, 1, 1, tzinfo=UTC)
    booked = 0
    while booked < BOOKINGS:
        clock += timedelta(minutes=30)
        free = {h.user_id for h in hosts if chance.random() < free_chance}
        candidates = [h for h in eligible(page, hosts) if h.user_id in free]
        if not candidates:
            continue  # the visitor sees no slot here and picks another time
        winner = ranked(candidates)[0]
        hosts = [replace(h, booked=h.booked + 1, last_booked=clock) if h.user_id == winner.user_id else h for h in hosts]
        booked += 1
        if check:
            check(hosts)
    return hosts


def test_equal_distribution_never_lets_a_host_get_three_ahead():
    worst = []

    def gap(hosts: list[HostLoad]) -> None:
        worst.append(max(h.booked for h in hosts) - min(h.booked for h in hosts))

    for seed in range(5):
        _simulate([1] * 10, equal=True, free_chance=0.6, seed=seed, check=gap)
    assert len(worst) == 5 * BOOKINGS and max(worst) < EQUAL_GAP


def test_weighted_shares_stay_within_five_percent_of_their_target():
    weights = [1, 2, 3, 4]
    for free_chance in (1.0, 0.8):
        hosts = _simulate(weights, equal=False, free_chance=free_chance, seed=7)
        for host, weight in zip(hosts, weights, strict=True):
            target = weight / sum(weights)
            assert abs(host.booked / BOOKINGS - target) <= 0.05 * target, (free_chance, weight, host.booked)


def test_priority_comes_before_share():
    page = BookingPage(kind="round_robin", equal_distribution=False)
    senior = HostLoad(uuid.uuid4(), 5, 1, 40, None)
    junior = HostLoad(uuid.uuid4(), 0, 1, 0, None)
    assert ranked(eligible(page, [junior, senior]))[0] is senior
    assert ranked([junior, senior], preferred=junior.user_id)[0] is junior
