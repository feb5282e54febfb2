"""Record ids (db/base.py ``uuid7``): time-ordered, and increasing even within one
millisecond, since the duplicate check tells an older lead from a newer one by its id."""

import threading
import time
import uuid

from pipewise.db.base import uuid7


def test_ids_made_in_one_millisecond_still_increase():
    ids = [uuid7() for _ in range(20_000)]  # hundreds per millisecond
    assert all(a < b for a, b in zip(ids, ids[1:]))
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    stamps = [i.int >> 80 for i in ids]
    assert len(set(stamps)) < len(ids) / 10 and abs(stamps[-1] - time.time_ns() // 1_000_000) < 1_000


def test_ids_from_many_threads_are_unique_and_each_threads_increase():
    made: list[list[uuid.UUID]] = [[] for _ in range(8)]

    def make(out: list[uuid.UUID]) -> None:
        out.extend(uuid7() for _ in range(5_000))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({i for out in made for i in out}) == 40_000
    assert all(all(a < b for a, b in zip(out, out[1:])) for out in made)
