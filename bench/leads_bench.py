"""Lead benchmarks: CSV import rows per second (beside a raw SQLite insert of the same
rows), and web-form capture end to end (submissions per second, and the time from a
submission to its lead being assigned and the owner notified, at a fixed rate).

    python -m bench.leads_bench import [--rows 100000]
    python -m bench.leads_bench forms [--rate 50] [--seconds 20]

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
from pathlib import Path

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
                               "--workers", str(processes), "--log-level", "warning"], env=env)
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
    args = parser.parse_args()
    try:
        rows = bench_import(args.rows) if args.what == "import" else bench_forms(args.rate, args.seconds, args.processes)
    finally:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"| {args.what}, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load average {load} | |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    main()
