"""c. List-with-filter latency: GET /api/v1/contacts?<filter>&limit=50 and the same for
leads, over loopback HTTP on realistic tables, one request at a time, for an admin and for
a rep (whose queries carry the team-visibility clause); beside the same query written by
hand and run raw."""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bench import raw
from bench.env import Target, fresh_database
from bench.http import Request, expect, send_all, server
from bench.report import Figure, Section, cpu_stopwatch, percentile, stopwatch
from bench.seed import TIERS, People, seed_people
from pipewise.crm.models import Contact
from pipewise.crm.service import LIFECYCLE_STAGES
from pipewise.db.base import uuid7
from pipewise.db.session import session_scope
from pipewise.leads.models import Lead

TARGET_P95_MS = 20.0
WARMUP = 20
STAGE_WEIGHTS = (5, 40, 15, 10, 8, 17, 5)  # subscriber … disqualified


LEAD_STATUSES = ("new", "working", "nurturing", "qualified", "disqualified")
LEAD_STATUS_WEIGHTS = (30, 25, 25, 10, 10)


@dataclass(frozen=True)
class Case:
    name: str
    table: str  # contact | lead
    who: str  # admin | rep
    params: dict[str, str]
    where: str  # the hand-written WHERE clause of the baseline
    args: tuple[Any, ...]


def _spread(people: People, rng: random.Random) -> tuple[list[uuid.UUID | None], list[float]]:
    owners: list[uuid.UUID | None] = [*people.owner_ids, None]
    return owners, [9 / len(people.owner_ids)] * len(people.owner_ids) + [1]  # 10 % unowned


def _insert_in_chunks(model: Any, count: int, row: Any) -> None:
    chunk = 10_000
    with session_scope() as session:
        for start in range(0, count, chunk):
            session.execute(insert(model), [row(n) for n in range(start, min(start + chunk, count))])


def seed_contacts(people: People, count: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    owners, owner_weights = _spread(people, rng)

    def row(n: int) -> dict[str, Any]:
        created = now - timedelta(seconds=rng.randrange(730 * 86_400))
        return {
            "id": uuid7(), "first_name": f"First{n}", "last_name": f"Last{n}",
            "email": f"person{n}@company{n % 5000}.example", "title": "Buyer",
            "owner_id": rng.choices(owners, owner_weights)[0],
            "lifecycle_stage": rng.choices(LIFECYCLE_STAGES, STAGE_WEIGHTS)[0], "consent_state": "unknown",
            "custom": {"tier": rng.choice(TIERS)}, "created_at": created, "updated_at": created,
        }  # fmt: skip

    _insert_in_chunks(Contact, count, row)


def seed_leads(people: People, count: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    owners, owner_weights = _spread(people, rng)

    def row(n: int) -> dict[str, Any]:
        created = now - timedelta(seconds=rng.randrange(365 * 86_400))
        return {
            "id": uuid7(), "first_name": f"First{n}", "last_name": f"Last{n}",
            "email": f"lead{n}@firm{n % 5000}.example", "domain": f"firm{n % 5000}.example",
            "company": f"Firm {n % 5000}", "source": ("web", "event", "referral")[n % 3],
            "owner_id": rng.choices(owners, owner_weights)[0],
            "status": rng.choices(LEAD_STATUSES, LEAD_STATUS_WEIGHTS)[0], "score": rng.randrange(100),
            "created_at": created, "updated_at": created,
        }  # fmt: skip

    _insert_in_chunks(Lead, count, row)


def cases(people: People, target: Target) -> list[Case]:
    sqlite = target.is_sqlite
    rep, owner = people.reps[0], people.reps[5]
    teammates = [r.id for r in people.reps if r.team_id == rep.team_id]

    def ident(value: uuid.UUID) -> Any:
        return value.hex if sqlite else value

    p = "?" if sqlite else "%s"
    tier = "json_extract(custom, '$.tier')" if sqlite else "custom ->> 'tier'"
    visible = f"(owner_id IS NULL OR owner_id = {p} OR owner_id IN (SELECT id FROM \"user\" WHERE team_id IN ({p})))"
    rep_args = (ident(rep.id), ident(rep.team_id))
    assert len(teammates) > 1
    return [
        Case("admin, lifecycle_stage=mql", "contact", "admin", {"lifecycle_stage": "mql"}, f"lifecycle_stage = {p}", ("mql",)),
        Case("admin, owner_id + lifecycle_stage", "contact", "admin", {"owner_id": str(owner.id), "lifecycle_stage": "customer"},
             f"owner_id = {p} AND lifecycle_stage = {p}", (ident(owner.id), "customer")),
        Case("admin, custom.tier=platinum", "contact", "admin", {"custom.tier": "platinum"}, f"{tier} = {p}", ("platinum",)),
        Case("rep, lifecycle_stage=mql", "contact", "rep", {"lifecycle_stage": "mql"}, f"{visible} AND lifecycle_stage = {p}", (*rep_args, "mql")),
        Case("rep, custom.tier=platinum", "contact", "rep", {"custom.tier": "platinum"}, f"{visible} AND {tier} = {p}", (*rep_args, "platinum")),
        Case("leads: admin, status=working", "lead", "admin", {"status": "working"}, f"status = {p}", ("working",)),
        Case("leads: admin, owner_id + status", "lead", "admin", {"owner_id": str(owner.id), "status": "new"},
             f"owner_id = {p} AND status = {p}", (ident(owner.id), "new")),
        Case("leads: rep, status=new", "lead", "rep", {"status": "new"}, f"{visible} AND status = {p}", (*rep_args, "new")),
    ]  # fmt: skip


def _path(case: Case) -> str:
    query = "&".join(f"{k}={v}" for k, v in {**case.params, "limit": "50"}.items())
    return f"/api/v1/{case.table}s?{query}"


def _raw_latencies(conn: Any, case: Case, repeats: int) -> list[float]:
    sql = f"SELECT * FROM {case.table} WHERE {case.where} ORDER BY created_at DESC, id DESC LIMIT 51"
    samples = []
    for _ in range(WARMUP + repeats):
        with stopwatch() as elapsed:
            rows = conn.execute(sql, case.args).fetchall()
        samples.append(elapsed[0] * 1000)
        assert rows, f"the baseline query of {case.name!r} found nothing"
    if not raw.is_sqlite(conn):
        conn.rollback()
    return samples[WARMUP:]


def run(target: Target, contacts: int, repeats: int) -> list[Figure]:
    url = fresh_database(target, "list_latency")
    people = seed_people()
    seed_contacts(people, contacts, random.Random(7))
    seed_leads(people, contacts, random.Random(8))
    if not target.is_sqlite:
        raw_conn = raw.connect(url)
        raw_conn.execute("ANALYZE")
        raw_conn.commit()
        raw_conn.close()
    all_cases = cases(people, target)
    api: dict[str, list[float]] = {}
    api_cpu: dict[str, float] = {}
    with server(url, inprocess_worker=target.is_sqlite) as srv:
        for case in all_cases:
            token = (people.admin if case.who == "admin" else people.reps[0]).token
            send_all(srv.port, [Request("GET", _path(case), token)] * WARMUP)
            cpu_before = srv.cpu_seconds()
            responses, _seconds = send_all(srv.port, [Request("GET", _path(case), token)] * repeats)
            api_cpu[case.name] = (srv.cpu_seconds() - cpu_before) * 1000 / repeats
            expect(responses, 200)
            assert b'"items":[{' in responses[-1].body, f"{case.name!r} returned nothing"
            api[case.name] = [r.seconds * 1000 for r in responses]
    raw_conn = raw.connect(url)
    figures = []
    for case in all_cases:
        with cpu_stopwatch() as raw_cpu:
            baseline = _raw_latencies(raw_conn, case, repeats)
        for pct in (50, 95):
            figures.append(
                Figure(
                    target.label, f"{case.name} (p{pct})", percentile(api[case.name], pct), "ms",
                    f"raw SQL p{pct}", percentile(baseline, pct), TARGET_P95_MS if pct == 95 else None,
                )  # fmt: skip
            )
        raw_cpu_ms = raw_cpu[0] * 1000 / (WARMUP + repeats)
        figures.append(Figure(target.label, f"{case.name} (server CPU per request)", api_cpu[case.name], "ms", "raw CPU per query", raw_cpu_ms))
    raw_conn.close()
    return figures


def section(contacts: int, repeats: int) -> Section:
    return Section(
        key="list_latency",
        title="c. List-with-filter latency",
        description=(
            "GET /api/v1/contacts?<filter>&limit=50 and /api/v1/leads?<filter>&limit=50 against one uvicorn "
            "process, one request at a time, measured at the client over loopback (token lookup, visibility, "
            "filter compilation, the query, serialising 50 records). Contacts are spread over 20 reps in 5 "
            "teams (10 % unowned), 7 lifecycle stages and 4 values of a `tier` custom field, created over two "
            "years; as many leads over the same reps, 5 statuses and a year. The rep sees their team's and "
            "unowned records. Baseline: the same filter, order and limit written by hand "
            "and run through the bare driver. The CPU rows give the server process's CPU time per request "
            "(all threads), which other load on the machine does not inflate."
        ),
        size=f"{contacts:,} contacts and {contacts:,} leads; {repeats} requests per case after {WARMUP} warm-up requests",
    )
