"""Lead benchmarks: CSV import rows per second (beside a raw SQLite insert of the same
rows), web-form capture end to end (submissions per second, and the time from a
submission to its lead being assigned and the owner notified, at a fixed rate), and lead
create through the service at several table sizes, beside the same rows written raw, and
the time from a lead's creation to its being scored, compared and routed by the worker.

    python -m bench.leads_bench import [--rows 100000]
    python -m bench.leads_bench forms [--rate 50] [--seconds 20]
    python -m bench.leads_bench create [--sizes 1000 100000 1000000] [--creates 3000] [--rate 100] [--seconds 10]

Each run uses fresh SQLite databases in a temporary directory and prints a Markdown table."""

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from bench.settle import OutboxWatcher, worker_process

WORKDIR = Path(tempfile.mkdtemp(prefix="pipewise-leads-bench-"))
FIRST = ["Ada", "Grace", "Alan", "Katherine", "Margaret", "John", "Maria", "Wei", "Olga", "Raj", "Fatima", "Lars"]
LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Hamilton", "Smith", "Garcia", "Chen", "Ivanova", "Patel", "Khan"]
TITLES = ["CTO", "VP Sales", "Marketing Manager", "Engineer", "Director of IT", "Student", "CEO", "Analyst"]
AREA_CODES = [212, 415, 617, 312, 206, 512, 303, 404, 305, 702]
COUNTRIES = ["US", "Germany", "United Kingdom", "France", "India", "DE", "usa"]


def make_csv(path: Path, rows: int, seed: int = 1) -> None:
    """A HubSpot-style export: phones in national and international form, country names
    and codes, about 1 % repeated e-mails (in other case) and 0.5 % broken addresses."""
    rng = random.Random(seed)
    previous_email = ""
    with path.open("w", encoding="utf-8") as f:
        f.write("First Name,Last Name,Email,Phone Number,Job Title,Company Name,Number of Employees,Country/Region\n")
        for i in range(rows):
            first, last, country = rng.choice(FIRST), rng.choice(LAST), rng.choice(COUNTRIES)
            email = f"{first.lower()}.{last.lower()}{i}@company{i % 5000}.example"
            if previous_email and rng.random() < 0.01:
                email = previous_email.upper()  # the same person again, typed differently
            elif rng.random() < 0.005:
                email = f"{first.lower()}@@broken"
            previous_email = email
            area, exchange, line = rng.choice(AREA_CODES), rng.randint(200, 999), rng.randint(0, 9999)
            # US rows may give the national form; everyone else writes the +1.
            phone = f"({area}) {exchange}-{line:04d}" if country in ("US", "usa") and i % 2 else f"+1 {area} {exchange} {line:04d}"
            f.write(f"{first},{last},{email},{phone},{rng.choice(TITLES)},Company {i % 5000},{rng.randint(1, 5000)},{country}\n")


def _fresh_database(name: str) -> str:
    url = f"sqlite:///{WORKDIR / (name + '.db')}"
    os.environ["PIPEWISE_DATABASE_URL"] = url
    from pipewise.config import get_settings
    from pipewise.db import migrate
    from pipewise.db.session import reset_engine

    get_settings.cache_clear()
    reset_engine()
    migrate.upgrade(url)
    return url


def bench_import(rows: int) -> list[tuple[str, str]]:
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.db.session import SQLITE_PRAGMAS, session_scope
    from pipewise.leads import importer

    csv_path = WORKDIR / "leads.csv"
    make_csv(csv_path, rows)
    url = _fresh_database("import")
    options = importer.ImportOptions(on_duplicate="skip", score=False, find_duplicates=False)
    with session_scope() as s:
        job = importer.start(s, filename=csv_path.name, options=options, actor=SYSTEM_ACTOR)
    started, cpu_started = time.perf_counter(), time.process_time()
    with csv_path.open("rb") as stream:
        job = importer.run(session_scope, job.id, stream, options=options, actor=SYSTEM_ACTOR)
    import_seconds, import_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    started = time.perf_counter()
    with session_scope() as s:
        importer._after(s, [], importer.ImportOptions(score=False), SYSTEM_ACTOR)  # noqa: SLF001
        from pipewise.leads import dedup

        candidates = dedup.scan(s)
    fuzzy_seconds = time.perf_counter() - started

    # The raw baseline: the very rows the import wrote, read back and inserted again with
    # the bare driver into a fresh database (same schema, same pragmas), in batches as large.
    source = sqlite3.connect(url.split("///", 1)[1])
    raw_url = _fresh_database("raw")
    target = sqlite3.connect(raw_url.split("///", 1)[1], isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        target.execute(pragma)
    tables = {}
    for table in ("lead", "record_history", "outbox_event", "lead_import_row"):
        cur = source.execute(f'SELECT * FROM "{table}"')
        tables[table] = ([d[0] for d in cur.description], cur.fetchall())
    source.close()
    raw_started = time.perf_counter()
    batch = importer.BATCH
    for table, (columns, values) in tables.items():
        if table == "lead_import_row":
            continue
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        for start in range(0, len(values), batch):
            target.execute("BEGIN IMMEDIATE")
            target.executemany(sql, values[start : start + batch])
            target.execute("COMMIT")
        if table == "lead":
            lead_only_seconds = time.perf_counter() - raw_started
    raw_seconds = time.perf_counter() - raw_started
    target.close()
    return [
        ("rows in the file", f"{rows:,}"),
        ("created / skipped / rejected", f"{job.created_count:,} / {job.skipped_count:,} / {job.rejected_count:,}"),
        ("import (clean, validate, exact-e-mail de-dup, insert with history, one event per batch)",
         f"{import_seconds:.2f} s = **{rows / import_seconds:,.0f} rows/s** (CPU {import_cpu:.2f} s)"),
        ("raw sqlite3 insert of the same lead rows only", f"{lead_only_seconds:.2f} s = {rows / lead_only_seconds:,.0f} rows/s"),
        ("raw sqlite3 insert of the same lead, history and event rows", f"{raw_seconds:.2f} s = {rows / raw_seconds:,.0f} rows/s"),
        ("import ÷ raw (lead rows only)", f"{lead_only_seconds / import_seconds:.2f} (target ≥ 0.10)"),
        ("fuzzy duplicate scan afterwards (all leads)", f"{fuzzy_seconds:.2f} s, {candidates:,} candidate pairs"),
    ]


def _seed_forms() -> str:
    """An admin, a team of three reps, a round-robin rule, a 30-minute SLA and a form."""
    from pipewise.assignment import service as routing
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.db.session import session_scope
    from pipewise.leads import capture
    from pipewise.people.service import team_service, user_service

    with session_scope() as s:
        team = team_service.create(s, data={"name": "Inbound"}, actor=SYSTEM_ACTOR)
        s.flush()
        for n in range(3):
            user_service.create(s, data={"email": f"rep{n}@bench.example", "name": f"Rep {n}", "team_id": team.id,
                                         "password": "bench-password"}, actor=SYSTEM_ACTOR)
        routing.create_rule(s, {"name": "Inbound round-robin", "target_type": "team", "team_id": team.id}, actor=SYSTEM_ACTOR)
        routing.update_policy(s, {"sla_minutes": 30, "workdays": [0, 1, 2, 3, 4, 5, 6], "work_start": "00:00",
                                  "work_end": "23:59"}, actor=SYSTEM_ACTOR)
        form = capture.create_form(s, {"name": "Demo request", "field_map": {"first_name": "first_name", "last_name": "last_name",
                                       "email": "email", "company": "company", "title": "title"},
                                       "rate_limit_per_minute": 10_000}, actor=SYSTEM_ACTOR)
        return form.key


def _post(client, key: str, n: int) -> float:  # type: ignore[no-untyped-def]
    rng = random.Random(n)
    started = time.perf_counter()
    response = client.post(f"/f/{key}", data={
        "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST), "email": f"visitor{n}@firm{n % 997}.example",
        "company": f"Firm {n % 997}", "title": rng.choice(TITLES), "utm_source": "bench"})
    if response.status_code != 201:
        raise RuntimeError(f"submission {n} failed: {response.status_code} {response.text[:200]}")
    return time.perf_counter() - started


def _wait_for_worker(url: str, limit: float = 120.0) -> None:
    db = sqlite3.connect(url.split("///", 1)[1], timeout=30)
    try:
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            if not db.execute("SELECT count(*) FROM outbox_event WHERE processed_at IS NULL").fetchone()[0]:
                return
            time.sleep(0.5)
    finally:
        db.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_forms(rate: float, seconds: float, processes: int = 1) -> list[tuple[str, str]]:
    """A real server (uvicorn with ``processes`` processes, each with its in-process
    worker) on SQLite; submissions over HTTP from this process."""
    import httpx

    url = _fresh_database("forms")
    key = _seed_forms()
    port = 8765
    env = {**os.environ, "PIPEWISE_DATABASE_URL": url, "PIPEWISE_INPROCESS_WORKER": os.environ.get("BENCH_WORKER", "true"), "PIPEWISE_WORKER_POLL_SECONDS": os.environ.get("BENCH_WORKER_POLL", "0.05")}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "pipewise.app:create_app", "--factory", "--port", str(port),
                               "--workers", str(processes), "--log-level", "warning", "--no-proxy-headers"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/api/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        counter = iter(range(10_000_000))
        lock = threading.Lock()

        # 1. Throughput: eight clients posting back to back.
        done = []
        stop_at = time.perf_counter() + seconds / 2

        def flood() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                while time.perf_counter() < stop_at:
                    with lock:
                        n = next(counter)
                    _post(client, key, n)
                    done.append(1)

        started = time.perf_counter()
        threads = [threading.Thread(target=flood) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        throughput = len(done) / (time.perf_counter() - started)
        _wait_for_worker(url)  # the timed phase starts from a drained outbox, not the flood's backlog
        first_timed = next(counter)

        # 2. Latency at a fixed rate.
        latencies: list[float] = []
        total = int(rate * seconds)
        start = time.perf_counter()
        clients = [httpx.Client(base_url=base, timeout=30) for _ in range(16)]

        def one(i: int) -> None:
            latencies.append(_post(clients[i % len(clients)], key, first_timed + i))

        workers = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            thread = threading.Thread(target=one, args=(i,))
            thread.start()
            workers.append(thread)
        for t in workers:
            t.join()
        achieved = total / (time.perf_counter() - start)
        time.sleep(3)
        for client in clients:
            client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    db = sqlite3.connect(url.split("///", 1)[1])
    rows = db.execute(
        "SELECT (julianday(assigned_at) - julianday(received_at)) * 86400000, speed_to_lead_ms FROM form_submission "
        "WHERE assigned_at IS NOT NULL ORDER BY received_at"
    ).fetchall()[-total:]
    db.close()
    assigned = [r[0] for r in rows]
    notified = [r[1] for r in rows if r[1] is not None]
    ms = [x * 1000 for x in latencies]
    return [
        ("server processes (each with its in-process worker)", str(processes)),
        ("throughput, 8 clients back to back", f"**{throughput:,.0f} submissions/s**"),
        (f"fixed rate asked / achieved ({total:,} submissions)", f"{rate:.0f}/s / {achieved:.1f}/s"),
        ("submission → response (scored, de-duplicated, assigned, committed): median / p99",
         f"{statistics.median(ms):,.0f} ms / **{_percentile(ms, 0.99):,.0f} ms**"),
        ("received → assigned inside the server: median / p99",
         f"{statistics.median(assigned):,.1f} ms / {_percentile(assigned, 0.99):,.1f} ms"),
        (f"received → owner notified by the worker: median / p99 ({len(notified):,} notified)",
         f"{statistics.median(notified):,.0f} ms / {_percentile(notified, 0.99):,.0f} ms" if notified else "none"),
    ]


# -- create: lead create through the service at 1,000 … 1,000,000 stored leads --

SYLLABLES = ["an", "ber", "cal", "dor", "el", "fen", "gar", "hol", "is", "jor", "kel", "lin", "mar", "nor", "ol",
             "per", "quin", "ros", "sten", "tor", "ul", "ver", "wil", "xan", "yor", "zel", "bra", "cro", "dra", "fro"]
GIVEN = ["Ada", "Grace", "Alan", "Katherine", "Margaret", "John", "Maria", "Wei", "Olga", "Raj", "Fatima", "Lars",
         "Emma", "Liam", "Noah", "Olivia", "Ava", "Lucas", "Mia", "Ethan", "Sofia", "Mateo", "Amara", "Kenji",
         "Priya", "Omar", "Chloe", "Hugo", "Ines", "Jonas", "Lea", "Nils", "Sara", "Tomas", "Yuki", "Zara"]
LEADS_PER_COMPANY = 8


def _surname(n: int) -> str:
    # 30 × 30 × 30 = 27,000 surnames, so a name block stays small however many leads there are.
    return (SYLLABLES[n % 30] + SYLLABLES[n // 30 % 30] + SYLLABLES[n // 900 % 30]).capitalize()


def lead_fields(n: int) -> dict:
    """The n-th lead (the same every time): about eight per company, the company's domain in
    the address."""
    mixed = (n * 2_654_435_761 + 97) % 4_294_967_291  # a cheap scramble of n, in place of a seeded random
    company = n // LEADS_PER_COMPANY
    first, last = GIVEN[mixed % len(GIVEN)], _surname(mixed // 64 % 27_000)
    domain = f"{SYLLABLES[company % 30]}{company}.example"
    return {"first_name": first, "last_name": last, "email": f"{first.lower()}.{last.lower()}.{n}@{domain}",
            "phone": f"+1415{200 + n % 800}{n // 800 % 10_000:04d}", "title": TITLES[mixed % len(TITLES)],
            "company": f"{domain.split('.')[0].capitalize()} Inc", "domain": domain, "company_size": 1 + mixed % 5000,
            "country": "US", "source": "bench"}


def _seed_leads(url: str, count: int, owners: list) -> float:
    """``count`` leads written straight into the tables with their blocking keys, as if
    created, scored and routed long ago, through sqlite3: the lead's indexes are dropped and
    built again afterwards, the keys go in sorted. Returns the seconds it took."""
    from datetime import UTC, datetime, timedelta

    from pipewise.db.base import uuid7
    from pipewise.db.session import reset_engine
    from pipewise.leads.match_keys import keys_of
    from pipewise.leads.similarity import Person

    started = time.perf_counter()
    reset_engine()
    db = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    for pragma in ("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA cache_size=-1000000", "PRAGMA foreign_keys=OFF"):
        db.execute(pragma)
    columns = [row[1] for row in db.execute("PRAGMA table_info(lead)")]
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lead' AND sql IS NOT NULL").fetchall()
    for name, _sql in indexes:
        db.execute(f'DROP INDEX "{name}"')
    insert = f"INSERT INTO lead ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    fixed = {"status": "new", "lifecycle_stage": "lead", "consent_state": "unknown", "attribution": "{}", "custom": "{}",
             "score_reasons": "[]", "score": 20, "fit_score": 20, "engagement_score": 0, "version": 1}
    owner_hex = [o.hex for o in owners]
    now = datetime.now(UTC).replace(tzinfo=None)
    db.execute("BEGIN")
    db.execute("CREATE TEMP TABLE seed_key (key TEXT, record_id TEXT, record_type TEXT)")
    for start in range(0, count, 50_000):
        leads, keys = [], []
        for n in range(start, min(start + 50_000, count)):
            fields = lead_fields(n)
            lead_id = uuid7().hex
            created = (now - timedelta(seconds=count - n)).strftime("%Y-%m-%d %H:%M:%S.%f")
            row = {**fixed, **fields, "id": lead_id, "owner_id": owner_hex[n % len(owner_hex)], "created_at": created,
                   "updated_at": created, "scored_at": created, "assigned_at": created}
            leads.append(tuple(row.get(c) for c in columns))
            person = Person("lead", None, fields["first_name"], fields["last_name"], fields["email"], fields["phone"],
                            fields["company"], fields["domain"])
            keys.extend((key, lead_id, "lead") for key in keys_of(person))
        db.executemany(insert, leads)
        db.executemany("INSERT INTO seed_key VALUES (?, ?, ?)", keys)
    db.execute("INSERT INTO match_key (key, record_id, record_type) SELECT key, record_id, record_type FROM seed_key ORDER BY key, record_id")
    db.execute("DROP TABLE seed_key")
    db.execute("COMMIT")
    for _name, sql in indexes:
        db.execute(sql)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return time.perf_counter() - started


def _bench_people() -> tuple:
    """Four reps in a team, a round-robin rule for it and a 30-minute SLA."""
    from pipewise.assignment import service as routing
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.db.session import session_scope

    from bench.seed import seed_people

    people = seed_people(teams=1, reps_per_team=4)
    with session_scope() as s:
        routing.create_rule(s, {"name": "Inbound", "target_type": "team", "team_id": people.reps[0].team_id}, actor=SYSTEM_ACTOR)
        routing.update_policy(s, {"sla_minutes": 30, "workdays": [0, 1, 2, 3, 4, 5, 6], "work_start": "00:00", "work_end": "23:59"},
                              actor=SYSTEM_ACTOR)
    return people


class _Creates:
    """New leads as a client would send them: 2 % with the address of a stored lead, 3 % a
    stored person again with a typo in the first name and another address."""

    def __init__(self, stored: int, seed: int) -> None:
        self.stored, self.rng, self.next = stored, random.Random(seed), 10_000_000 + seed * 1_000_000

    def __call__(self, *, owned: bool) -> dict:
        n, self.next = self.next, self.next + 1
        data = lead_fields(n)
        roll = self.rng.random()
        if roll < 0.05 and self.stored:
            twin = lead_fields(self.rng.randrange(self.stored))
            data.update(first_name=twin["first_name"], last_name=twin["last_name"], company=twin["company"], domain=twin["domain"])
            if roll < 0.02:
                data["email"] = twin["email"]
            else:
                data["first_name"] = data["first_name"][:-1] + "y"
        data.pop("domain")  # the service derives it from the address
        if not owned:
            data["owner_id"] = None
        return data


CREATED_TABLES = ("lead", "record_history", "outbox_event", "match_key", "duplicate_candidate")
# Besides the default poll (PIPEWISE_WORKER_POLL_SECONDS), the worker is also measured polling
# this often: an idle worker's wait, not its work, is then most of the delay.
FAST_POLL = 0.1


def _written_rows(url: str, lead_ids: list) -> dict[str, tuple[list[str], list[tuple]]]:
    """What the run wrote, by table, read back with the bare driver."""
    db = sqlite3.connect(url.split("///", 1)[1])
    ids = [i.hex for i in lead_ids]
    found = {}
    for table in CREATED_TABLES:
        column = "id" if table == "lead" else "record_id"
        cur = db.execute(f'SELECT * FROM "{table}" LIMIT 0')
        columns, rows = [d[0] for d in cur.description], []
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            rows += db.execute(f'SELECT * FROM "{table}" WHERE {column} IN ({",".join("?" * len(part))})', part).fetchall()
        found[table] = (columns, rows)
    db.close()
    return found


def _raw_rate(url: str, written: dict[str, tuple[list[str], list[tuple]]], count: int) -> float:
    """The same rows deleted and written again through sqlite3, one transaction per lead
    (the lead, its history row, its event, its duplicate pairs; the worker writes its keys);
    per second."""
    from bench import raw

    db = raw.connect(url)
    by_lead: dict[str, list[tuple[str, tuple]]] = {}
    order = []
    for table in CREATED_TABLES:
        columns, rows = written[table]
        key = columns.index("id" if table == "lead" else "record_id")
        for row in rows:
            if table == "lead":
                order.append(row[key])
            by_lead.setdefault(row[key], []).append((table, row))
    sql = {t: f'INSERT INTO "{t}" ({", ".join(written[t][0])}) VALUES ({", ".join("?" * len(written[t][0]))})' for t in CREATED_TABLES}
    db.execute("BEGIN IMMEDIATE")
    for table in reversed(CREATED_TABLES):
        column = "id" if table == "lead" else "record_id"
        for start in range(0, len(order), 500):
            part = order[start : start + 500]
            db.execute(f'DELETE FROM "{table}" WHERE {column} IN ({",".join("?" * len(part))})', part)
    db.execute("COMMIT")
    started = time.perf_counter()
    for lead_id in order:
        db.execute("BEGIN IMMEDIATE")
        for table, row in by_lead[lead_id]:
            db.execute(sql[table], row)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return count / elapsed


def _steady_creates(rep, creates: _Creates, rate: float, seconds: float) -> tuple[dict[str, float], float]:  # type: ignore[no-untyped-def]
    """Unowned leads created through the service at ``rate`` for ``seconds``: when each
    committed, by id, and the rate achieved."""
    from pipewise.db.session import session_scope
    from pipewise.leads.service import lead_service

    committed: dict[str, float] = {}
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with session_scope() as s:
            lead = lead_service.create(s, data=creates(owned=False), actor=rep.actor)
        committed[lead.id.hex] = time.perf_counter()
    return committed, total / (time.perf_counter() - start)


def _latency_run(
    url: str, people, creates: _Creates, rate: float, seconds: float, *, in_process: bool, poll: float
) -> list[tuple[str, str]]:
    """Creates at ``rate`` for ``seconds``, unowned (so each is routed too), with the worker
    running inside this process (a thread, as ``pipewise serve`` on SQLite) or as ``pipewise
    worker``, idle passes ``poll`` seconds apart; the time from each commit to the worker's
    commit of its results."""
    from pipewise.worker.runner import Worker

    total = int(rate * seconds)
    with ExitStack() as running:
        if in_process:
            worker = Worker(name="bench")
            worker.start_in_thread(poll_seconds=poll)
            running.callback(worker.stop)
        else:
            running.enter_context(worker_process(url, poll=poll))
        watcher = OutboxWatcher(url, "lead.created")
        watcher.start()
        running.callback(watcher.finish)
        committed, achieved = _steady_creates(people.reps[0], creates, rate, seconds)
        watcher.settle(committed)
    ms = [(watcher.seen[i] - t) * 1000 for i, t in committed.items() if i in watcher.seen]
    db = sqlite3.connect(url.split("///", 1)[1])
    marks = ",".join("?" * len(committed))
    settled = db.execute(f"SELECT count(*) FROM lead WHERE id IN ({marks}) AND scored_at IS NOT NULL AND assigned_at IS NOT NULL",
                         list(committed)).fetchone()[0]
    db.close()
    where = f"in-process worker (poll {poll:g} s)" if in_process else f"`pipewise worker` process (poll {poll:g} s)"
    return [(f"{where}: creates asked / achieved", f"{rate:.0f}/s / {achieved:.0f}/s, {total:,} unowned leads"),
            (f"{where}: commit → scored, compared, routed and committed: median / p99 / max",
             f"{statistics.median(ms):,.0f} ms / **{_percentile(ms, 0.99):,.0f} ms** / {max(ms):,.0f} ms"
             f" ({len(ms):,} seen, {settled:,} scored and assigned)" if ms else "none seen")]


def bench_create(sizes: list[int], creates: int, rate: float, seconds: float) -> list[tuple[str, str]]:
    from pipewise.config import get_settings
    from pipewise.db.session import refresh_statistics, session_scope
    from pipewise.leads.service import lead_service
    from pipewise.worker.runner import Worker

    rows: list[tuple[str, str]] = []
    for size in sizes:
        url = _fresh_database(f"create{size}")
        people = _bench_people()
        seed_seconds = _seed_leads(url, size, people.owner_ids)
        refresh_statistics()
        rep = people.reps[0]
        make = _Creates(size, seed=1)
        for _ in range(300):  # warm-up: imports, statement caches
            with session_scope() as s:
                lead_service.create(s, data=make(owned=True), actor=rep.actor)
        Worker(name="warm-up").run_until_idle()
        ids = []
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(creates):
            with session_scope() as s:
                ids.append(lead_service.create(s, data=make(owned=True), actor=rep.actor).id)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        raw = _raw_rate(url, _written_rows(url, ids), creates)
        started = time.perf_counter()
        Worker(name="catch-up").run_until_idle()
        settle = time.perf_counter() - started
        rows += [
            (f"**{size:,} stored leads** (seeded raw with their keys in {seed_seconds:.0f} s)", ""),
            ("create through the service, one per transaction (clean, account by domain and exact e-mail check, history, event)",
             f"**{creates / wall:,.0f}/s** (per CPU-second {creates / cpu:,.0f}/s)"),
            ("raw sqlite3: the same rows (lead, history, event, pairs), one transaction per lead",
             f"{raw:,.0f}/s (service ÷ raw {creates / wall / raw:.2f})"),
            ("worker afterwards: blocking keys, fuzzy check and score of those leads (owned, not routed), batches of 200",
             f"{creates / settle:,.0f}/s"),
        ]
        default_poll = get_settings().worker_poll_seconds
        for poll in sorted({default_poll, FAST_POLL}, reverse=True):
            for in_process in (True, False):
                rows += _latency_run(url, people, make, rate, seconds, in_process=in_process, poll=poll)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    imp = sub.add_parser("import")
    imp.add_argument("--rows", type=int, default=100_000)
    forms = sub.add_parser("forms")
    forms.add_argument("--rate", type=float, default=50.0)
    forms.add_argument("--seconds", type=float, default=20.0)
    forms.add_argument("--processes", type=int, default=1,
                       help="uvicorn processes (on SQLite one, with its in-process worker, does best)")
    create = sub.add_parser("create")
    create.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000],
                        help="leads stored before each measured run")
    create.add_argument("--creates", type=int, default=3_000, help="leads created through the service per size")
    create.add_argument("--rate", type=float, default=100.0, help="creates per second while the worker runs")
    create.add_argument("--seconds", type=float, default=10.0, help="length of each run with the worker")
    args = parser.parse_args()
    try:
        if args.what == "import":
            rows = bench_import(args.rows)
        elif args.what == "forms":
            rows = bench_forms(args.rate, args.seconds, args.processes)
        else:
            rows = bench_create(args.sizes, args.creates, args.rate, args.seconds)
    finally:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"| {args.what}, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load average {load} | |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    main()
