"""Booking-page slots: 4 weeks of free times for a 10-host round-robin page.

    python -m bench.meetings_bench [--postgres URL] [--samples 40] [--history 20000]

Ten hosts in three time zones (Berlin, New York, Singapore: working hours that barely
overlap, so the union is wide), each with 10-minute buffers, a daily limit of 6, German
holidays for the Berlin hosts, and a realistic calendar: 3–5 meetings per working day over
the 4 weeks asked for, plus ``--history`` past meetings (held, cancelled, no-show) of
the same hosts, and the page's own bookings (for the round-robin counts). Timed: one
``visible_slots`` call for 28 days in the visitor's zone (a fresh session each time: the
busy-times query, the host loads, the working-hour windows, the slot walk), p50 and p95;
beside it the raw busy-times query of the same range through the bare driver.

Without ``--postgres`` runs on a fresh SQLite database; with it, on that PostgreSQL
database, which is wiped (its name must contain 'bench', or pass ``--wipe`` to confirm)."""

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bench.env import SQLITE, Target, fresh_database, postgres_target
from bench.raw import connect, is_sqlite
from bench.report import percentile
from pipewise import domains
from pipewise.auth.models import User
from pipewise.db.session import session_scope
from pipewise.meetings.models import Availability, BookingHost, BookingPage, Meeting
from pipewise.meetings.slots import visible_slots

HOSTS = 10
ZONES = ("Europe/Berlin",) * 4 + ("America/New_York",) * 3 + ("Asia/Singapore",) * 3
WEEKDAYS = {str(d): [["09:00", "12:30"], ["13:30", "17:30"]] for d in range(5)}
DAYS = 28
TARGET_P95_MS = 300


def _seed(history: int, now: datetime) -> str:
    rng = random.Random(5)
    users = [User(id=uuid.uuid4(), email=f"host{i}@bench.example", name=f"Host {i}") for i in range(HOSTS)]
    page_id = uuid.uuid4()
    with session_scope() as session:
        session.add_all(users)
        session.flush()
        for user, zone in zip(users, ZONES, strict=True):
            session.add(Availability(user_id=user.id, timezone=zone, weekly_hours=WEEKDAYS, min_notice_minutes=240,
                                     horizon_days=60, buffer_before_minutes=10, buffer_after_minutes=10, daily_limit=6,
                                     holiday_country="DE" if zone == "Europe/Berlin" else None))
        session.add(BookingPage(id=page_id, slug="bench", title="Bench", kind="round_robin", owner_id=users[0].id,
                                duration_minutes=30, slot_step_minutes=15))
        session.flush()
        session.add_all(BookingHost(page_id=page_id, user_id=u.id, weight=1 + i % 3) for i, u in enumerate(users))
        rows = []
        for user, zone in zip(users, ZONES, strict=True):
            tz = ZoneInfo(zone)
            for offset in range(DAYS + 2):
                day = (now + timedelta(days=offset)).astimezone(tz).date()
                if day.weekday() >= 5:
                    continue
                for hour in rng.sample(range(9, 17), rng.randint(3, 5)):
                    start = datetime(day.year, day.month, day.day, hour, rng.choice((0, 30)), tzinfo=tz).astimezone(UTC)
                    rows.append(_row(user.id, start, "scheduled", page_id if rng.random() < 0.3 else None))
        for _ in range(history):
            user = rng.choice(users)
            start = (now - timedelta(days=rng.uniform(1, 365))).replace(minute=0, second=0, microsecond=0)
            rows.append(_row(user.id, start, rng.choice(("held", "held", "cancelled", "no_show")), page_id if rng.random() < 0.2 else None))
        seen = set()
        unique = [r for r in rows if r["status"] != "scheduled" or (key := (r["host_id"], r["start_at"])) not in seen and not seen.add(key)]
        for chunk in range(0, len(unique), 5000):
            session.execute(insert(Meeting), unique[chunk:chunk + 5000])
    return "bench"


def _row(host_id: uuid.UUID, start: datetime, status: str, page_id: uuid.UUID | None) -> dict:
    return {"id": uuid.uuid4(), "host_id": host_id, "page_id": page_id, "title": "Bench meeting", "start_at": start,
            "end_at": start + timedelta(minutes=30), "timezone": "UTC", "status": status, "uid": f"{uuid.uuid4()}@bench",
            "sequence": 0, "nonce": "n", "answers": {}, "created_at": start - timedelta(days=3), "updated_at": start}


def _time_slots(samples: int, now: datetime) -> tuple[list[float], int]:
    visitor = ZoneInfo("America/Los_Angeles")
    first = now.astimezone(visitor).date()
    timings, count = [], 0
    for _ in range(samples):
        begin = time.perf_counter()
        with session_scope(write=False) as session:
            from pipewise.meetings.booking import page_by_slug

            days = visible_slots(session, page_by_slug(session, "bench"), first, DAYS, visitor, now)
        timings.append((time.perf_counter() - begin) * 1000)
        count = sum(len(v) for v in days.values())
    return timings, count


def _time_raw(url: str, samples: int, now: datetime) -> list[float]:
    conn = connect(url)
    sqlite = is_sqlite(conn)
    start, end = now - timedelta(days=1), now + timedelta(days=DAYS + 1)
    if sqlite:
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        hosts = [r[0] for r in conn.execute("SELECT user_id FROM booking_host")]
        marks = ", ".join("?" * len(hosts))
        sql = (f"SELECT host_id, start_at, end_at FROM meeting WHERE status IN ('scheduled', 'rescheduled') "
               f"AND start_at < ? AND end_at > ? AND host_id IN ({marks})")
        params = (end.replace(tzinfo=None).strftime(fmt), start.replace(tzinfo=None).strftime(fmt), *hosts)
    else:
        hosts = [r[0] for r in conn.execute("SELECT user_id FROM booking_host")]
        sql = ("SELECT host_id, start_at, end_at FROM meeting WHERE status IN ('scheduled', 'rescheduled') "
               "AND start_at < %s AND end_at > %s AND host_id = ANY(%s)")
        params = (end, start, hosts)
    timings = []
    for _ in range(samples):
        begin = time.perf_counter()
        rows = conn.execute(sql, params).fetchall()
        timings.append((time.perf_counter() - begin) * 1000)
        if not sqlite:
            conn.commit()
    assert rows, "the raw query found no meetings"
    conn.close()
    return timings


def run(target: Target, samples: int, history: int) -> dict[str, float]:
    url = fresh_database(target, "meetings_slots")
    domains.load()
    now = datetime.now(UTC)
    _seed(history, now)
    _time_slots(3, now)  # warm the caches as a running server has them
    timings, count = _time_slots(samples, now)
    raw = _time_raw(url, samples, now)
    return {"slots": count, "p50": statistics.median(timings), "p95": percentile(timings, 95),
            "raw_p50": statistics.median(raw), "raw_p95": percentile(raw, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--wipe", action="store_true", help="wipe the PostgreSQL database even if its name lacks 'bench'")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--history", type=int, default=20_000)
    args = parser.parse_args()
    targets = [SQLITE]
    if args.postgres:
        targets.append(Target("postgresql", "PostgreSQL", postgres_url=args.postgres) if args.wipe else postgres_target(args.postgres))
    print(f"| database | free slots (28 days, 10 hosts) | slots p50 | slots p95 (target < {TARGET_P95_MS} ms) | raw busy query p50 | raw p95 |")
    print("|---|---:|---:|---:|---:|---:|")
    for target in targets:
        r = run(target, args.samples, args.history)
        print(f"| {target.label} | {r['slots']:,} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['raw_p50']:.2f} ms | {r['raw_p95']:.2f} ms |")


if __name__ == "__main__":
    main()
