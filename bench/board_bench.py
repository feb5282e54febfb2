"""Web pages' server time: the pipeline board at 5,000 open deals, and the list and record
pages, at the demo's size and at 100,000 contacts.

    python -m bench.board_bench [--contacts 100000] [--deals 5000] [--requests 30] [--postgres URL]

Seeds an admin and 20 reps in 5 teams (bench.seed), ``--contacts`` contacts and as many
leads (bench.list_latency's rows), 5,000 accounts, ``--deals`` open deals spread over the
default pipeline's open stages (plus 10 % closed in the last month) with a next task on
every third, then asks each page ``--requests`` times in-process (Starlette's TestClient:
routing, the session cookie, the services, the queries and the template; no network) as
the admin and as a rep, p50 and p95 of the time to the full response. Beside the board:
its heaviest raw query (the per-stage totals) through the bare driver.

Without ``--postgres`` runs on a fresh SQLite database; with it, on that PostgreSQL
database, which is wiped (its name must contain 'bench')."""

import argparse
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from bench import raw
from bench.env import SQLITE, Target, fresh_database, postgres_target
from bench.list_latency import seed_contacts, seed_leads
from bench.report import percentile
from bench.seed import People, seed_people
from pipewise import domains
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Account, Contact, Task
from pipewise.db.base import uuid7
from pipewise.db.session import session_scope
from pipewise.deals.defaults import ensure_default_pipeline
from pipewise.deals.models import Deal, Stage
from pipewise.people.service import user_service

PASSWORD = "bench-password-1"
TARGET_BOARD_MS = 1000.0
TARGET_PAGE_MS = 100.0
WARMUP = 3


@dataclass
class Seeded:
    people: People
    pipeline_id: Any
    contact_id: Any
    deal_id: Any
    stage_ids: list[Any]


def _chunks(model: Any, rows: list[dict[str, Any]]) -> None:
    with session_scope() as session:
        for start in range(0, len(rows), 10_000):
            session.execute(insert(model), rows[start : start + 10_000])


def seed(contacts: int, deals: int) -> Seeded:
    domains.load()
    people = seed_people()
    rng = random.Random(11)
    seed_contacts(people, contacts, rng)
    seed_leads(people, contacts, random.Random(12))
    with session_scope() as session:
        pipeline, stages, _created = ensure_default_pipeline(session)
        for person in (people.admin, *people.reps):
            user_service.update(session, user_service.get(session, person.id, actor=SYSTEM_ACTOR),
                                data={"password": PASSWORD}, actor=SYSTEM_ACTOR)
        pipeline_id = pipeline.id
    with session_scope() as session:
        stage_rows = list(session.scalars(select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position)))
        open_ids = [s.id for s in stage_rows if s.kind == "open"]
        closed_ids = [s.id for s in stage_rows if s.kind != "open"]
    now = datetime.now(UTC)
    owners = [*people.owner_ids, None]
    accounts = [{"id": uuid7(), "name": f"Company {n}", "domain": f"company{n}.example", "owner_id": rng.choice(owners),
                 "created_at": now, "updated_at": now} for n in range(5_000)]  # fmt: skip
    _chunks(Account, accounts)
    deal_rows, task_rows = [], []
    for n in range(deals + deals // 10):
        closed = n >= deals
        created = now - timedelta(days=rng.randrange(1, 200))
        deal_id = uuid7()
        deal_rows.append({
            "id": deal_id, "name": f"Deal {n}", "pipeline_id": pipeline_id,
            "stage_id": rng.choice(closed_ids if closed else open_ids), "amount": Decimal(rng.randrange(500, 90_000)),
            "currency": "USD", "close_date": date.today() + timedelta(days=rng.randrange(-20, 120)),
            "owner_id": rng.choice(owners), "account_id": rng.choice(accounts)["id"], "stage_entered_at": created,
            "closed_at": now - timedelta(days=rng.randrange(0, 28)) if closed else None,
            "custom": {}, "amount_from_lines": False, "created_at": created,
            "updated_at": created if n % 4 else now,
        })  # fmt: skip
        if n % 3 == 0:
            task_rows.append({"id": uuid7(), "title": f"Follow up {n}", "status": "open", "priority": "normal",
                              "due_at": now + timedelta(days=rng.randrange(-5, 15)), "owner_id": deal_rows[-1]["owner_id"],
                              "related_type": "deal", "related_id": deal_id, "custom": {}, "created_at": now, "updated_at": now})  # fmt: skip
    _chunks(Deal, deal_rows)
    _chunks(Task, task_rows)
    rep = people.reps[0].id  # records both the admin and this rep may open
    with session_scope() as session:
        contact_id = session.scalar(select(Contact.id).where(Contact.owner_id == rep).limit(1))
    deal_id = next(d["id"] for d in deal_rows if d["owner_id"] == rep)
    return Seeded(people, pipeline_id, contact_id, deal_id, open_ids)


def _client(email: str) -> Any:
    from fastapi.testclient import TestClient

    from pipewise.app import create_app

    client = TestClient(create_app(start_worker=False))
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def _time(client: Any, url: str, requests: int) -> list[float]:
    samples = []
    for n in range(WARMUP + requests):
        started = time.perf_counter()
        r = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert r.status_code == 200, (url, r.status_code)
        if n >= WARMUP:
            samples.append(elapsed)
    return samples


def _raw_totals(url: str, seeded: Seeded, requests: int) -> list[float]:
    conn = raw.connect(url)
    p = "?" if raw.is_sqlite(conn) else "%s"
    pipeline = seeded.pipeline_id.hex if raw.is_sqlite(conn) else seeded.pipeline_id
    sql = (f"SELECT d.stage_id, s.kind, s.probability, d.currency, count(d.id), sum(d.amount) FROM deal d "
           f"JOIN stage s ON s.id = d.stage_id WHERE d.pipeline_id = {p} AND s.kind = 'open' "
           f"GROUP BY d.stage_id, s.kind, s.probability, d.currency")
    samples = []
    for _ in range(WARMUP + requests):
        started = time.perf_counter()
        conn.execute(sql, (pipeline,)).fetchall()
        samples.append((time.perf_counter() - started) * 1000)
    conn.close()
    return samples[WARMUP:]


def pages(seeded: Seeded) -> dict[str, str]:
    return {
        "board": f"/pipelines/{seeded.pipeline_id}/board?scope=everyone",
        "home": "/?scope=everyone",
        "contacts list": "/contacts",
        "contacts list, search": "/contacts?q=Last123",
        "leads list": "/leads?status=new",
        "deals list": "/deals",
        "accounts list": "/accounts",
        "contact page": f"/contacts/{seeded.contact_id}",
        "deal page": f"/deals/{seeded.deal_id}",
    }


def run(target: Target, contacts: int, deals: int, requests: int) -> list[tuple[str, str, float, float, float | None]]:
    url = fresh_database(target, "board_pages")
    seeded = seed(contacts, deals)
    if not target.is_sqlite:
        conn = raw.connect(url)
        conn.execute("ANALYZE")
        conn.commit()
        conn.close()
    rows: list[tuple[str, str, float, float, float | None]] = []
    for who, email in (("admin", "admin@bench.example"), ("rep", "rep0-0@bench.example")):
        client = _client(email)
        for name, path in pages(seeded).items():
            samples = _time(client, path, requests)
            target_ms = TARGET_BOARD_MS if name == "board" else TARGET_PAGE_MS
            rows.append((who, name, percentile(samples, 50), percentile(samples, 95), target_ms))
        client.close()
    baseline = _raw_totals(url, seeded, requests)
    rows.append(("raw", "board totals query (bare driver)", percentile(baseline, 50), percentile(baseline, 95), None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=5_000, help="open deals (10 %% more are closed)")
    parser.add_argument("--requests", type=int, default=30, help="requests per page and person")
    parser.add_argument("--postgres", metavar="URL", help="run on this PostgreSQL database (wiped; name must contain 'bench')")
    args = parser.parse_args()
    target = postgres_target(args.postgres) if args.postgres else SQLITE
    print(f"{target.label}: {args.contacts:,} contacts and leads, {args.deals:,} open deals, {args.requests} requests per page")
    for who, name, p50, p95, target_ms in run(target, args.contacts, args.deals, args.requests):
        verdict = "" if target_ms is None else ("  ok" if p95 < target_ms else f"  OVER {target_ms:.0f} ms")
        print(f"  {who:5} {name:34} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms{verdict}")


if __name__ == "__main__":
    main()
