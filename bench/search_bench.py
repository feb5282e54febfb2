"""Global search at 100,000 contacts (and as many leads, 5,000 accounts and 5,000 deals).

    python -m bench.search_bench [--contacts 100000] [--requests 200] [--postgres URL]

Seeds the tables of bench.board_bench, then asks ``GET /api/v1/search?q=…`` in-process
(Starlette's TestClient: routing, the token, five record types searched by prefix with
visibility, the JSON) for several kinds of query — a last name, a first name shared by
many, an e-mail, a company domain, two words, a phone-like number — as the admin and as a
rep, p50 and p95. Beside it, the raw SQL of the same contact lookup (the prefix range on
``lower(last_name)``, five rows) through the bare driver.

Without ``--postgres`` runs on a fresh SQLite database; with it, on that PostgreSQL
database, which is wiped (its name must contain 'bench')."""

import argparse
import time
from typing import Any

from bench import raw
from bench.board_bench import WARMUP, seed
from bench.env import SQLITE, Target, fresh_database, postgres_target
from bench.report import percentile

TARGET_MS = 100.0
QUERIES = {
    "last name": "last4567",
    "first name (many match)": "first1",
    "e-mail": "person9876@comp",
    "domain": "company123.exa",
    "two words": "first42 last42",
    "phone digits": "+49 30 1234",
    "nothing matches": "zzzzqq",
}


def _client() -> Any:
    from fastapi.testclient import TestClient

    from pipewise.app import create_app

    return TestClient(create_app(start_worker=False))


def _time(client: Any, token: str, q: str, requests: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for n in range(WARMUP + requests):
        started = time.perf_counter()
        r = client.get("/api/v1/search", params={"q": q}, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert r.status_code == 200, r.text
        if n >= WARMUP:
            samples.append(elapsed)
    return samples


def _raw(url: str, requests: int) -> list[float]:
    conn = raw.connect(url)
    p = "?" if raw.is_sqlite(conn) else "%s"
    sql = f"SELECT * FROM contact WHERE lower(last_name) >= {p} AND lower(last_name) < {p} ORDER BY lower(last_name) LIMIT 5"
    samples = []
    for _ in range(WARMUP + requests):
        started = time.perf_counter()
        rows = conn.execute(sql, ("last4567", "last4568")).fetchall()
        samples.append((time.perf_counter() - started) * 1000)
        assert rows
    conn.close()
    return samples[WARMUP:]


def run(target: Target, contacts: int, requests: int) -> list[tuple[str, str, float, float]]:
    url = fresh_database(target, "search")
    seeded = seed(contacts, 5_000)
    if not target.is_sqlite:
        conn = raw.connect(url)
        conn.execute("ANALYZE")
        conn.commit()
        conn.close()
    rows = []
    with _client() as client:
        for who, person in (("admin", seeded.people.admin), ("rep", seeded.people.reps[0])):
            for name, q in QUERIES.items():
                samples = _time(client, person.token, q, requests)
                rows.append((who, name, percentile(samples, 50), percentile(samples, 95)))
    baseline = _raw(url, requests)
    rows.append(("raw", "contact last-name prefix, 5 rows", percentile(baseline, 50), percentile(baseline, 95)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per query and person")
    parser.add_argument("--postgres", metavar="URL", help="run on this PostgreSQL database (wiped; name must contain 'bench')")
    args = parser.parse_args()
    target = postgres_target(args.postgres) if args.postgres else SQLITE
    print(f"{target.label}: {args.contacts:,} contacts and leads, {args.requests} requests per query")
    for who, name, p50, p95 in run(target, args.contacts, args.requests):
        verdict = "" if who == "raw" else ("  ok" if p95 < TARGET_MS else f"  OVER {TARGET_MS:.0f} ms")
        print(f"  {who:5} {name:34} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms{verdict}")


if __name__ == "__main__":
    main()
