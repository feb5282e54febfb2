from collections import Counter
from datetime import UTC, datetime, timedelta

from pipewise.runs.rotation import Seat, next_seat, rotation, starting_turns

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def take_turns(seats: list[Seat[str]], count: int, *, start: datetime = T0) -> list[str]:
    """Give ``count`` turns, keeping the seats' state as lead routing does."""
    order = []
    for n in range(count):
        seat = next_seat(seats)
        assert seat is not None
        seat.turns += 1
        seat.last_turn = start + timedelta(minutes=n)
        order.append(seat.member)
    return order


def test_no_seats_no_turn() -> None:
    assert next_seat([]) is None
    assert rotation([], 7) == []


def test_equal_weights_go_round_in_list_order() -> None:
    seats = [Seat("ann"), Seat("bob"), Seat("cy")]
    assert take_turns(seats, 7) == ["ann", "bob", "cy", "ann", "bob", "cy", "ann"]


def test_turns_follow_the_weights() -> None:
    seats = [Seat("big", weight=100), Seat("small", weight=50)]
    assert Counter(take_turns(seats, 30)) == {"big": 20, "small": 10}


def test_weighted_turns_interleave_rather_than_bunch() -> None:
    seats = [Seat("big", weight=2), Seat("small", weight=1)]
    assert take_turns(seats, 6) == ["big", "small", "big", "big", "small", "big"]


def test_ties_go_to_the_member_whose_last_turn_is_oldest() -> None:
    seats = [Seat("ann", turns=1, last_turn=T0 + timedelta(hours=1)), Seat("bob", turns=1, last_turn=T0)]
    assert next_seat(seats).member == "bob"  # type: ignore[union-attr]


def test_a_newcomer_starts_level_and_then_shares_evenly() -> None:
    seats = [Seat("ann")]
    take_turns(seats, 10)
    newcomer = Seat("new", turns=starting_turns(seats, 1))
    assert newcomer.turns == 10
    seats.append(newcomer)
    assert Counter(take_turns(seats, 10, start=T0 + timedelta(days=1))) == {"ann": 5, "new": 5}


def test_a_newcomer_with_a_bigger_weight_starts_level_in_share() -> None:
    seats = [Seat("ann", weight=1, turns=4), Seat("bob", weight=1, turns=6)]
    assert starting_turns(seats, 3) == 12
    assert starting_turns([], 3) == 0


def test_a_member_who_leaves_drops_out_and_the_rest_go_on_in_turn() -> None:
    seats = [Seat("ann"), Seat("bob"), Seat("cy")]
    assert take_turns(seats, 2) == ["ann", "bob"]
    seats = [s for s in seats if s.member != "bob"]
    assert take_turns(seats, 4, start=T0 + timedelta(hours=1)) == ["cy", "ann", "cy", "ann"]


def test_rotation_from_a_counter_is_the_counter_modulo_the_members() -> None:
    members = ["ann", "bob", "cy"]
    for taken in range(10):
        assert next_seat(rotation(members, taken)).member == members[taken % 3]  # type: ignore[union-attr]


def test_rotation_counts_the_laps_each_member_has_had() -> None:
    assert [seat.turns for seat in rotation(["ann", "bob", "cy"], 7)] == [3, 2, 2]


def test_rotation_with_a_member_added_or_removed_keeps_counting() -> None:
    assert next_seat(rotation(["ann", "bob"], 3)).member == "bob"  # type: ignore[union-attr]
    assert next_seat(rotation(["ann", "bob", "cy"], 3)).member == "ann"  # type: ignore[union-attr]
    assert next_seat(rotation(["ann"], 3)).member == "ann"  # type: ignore[union-attr]
