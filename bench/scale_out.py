"""Scale-out on one machine (``python -m bench.scale_out --postgres URL``): the API create
workload of bench/api_create.py against ``pipewise serve --workers N`` on PostgreSQL, and
the events those requests left drained by M ``pipewise worker`` processes.

Rounds alternate N (and M) so that other load on the machine hits every case alike; each
case reports the median round. The client runs in processes of its own, and the CPU time
of the API processes, of the client and of PostgreSQL's backends for this database is
counted apart: on a small machine they share the cores, so wall-clock rates say what the
machine holds and CPU-seconds per request say where the time goes. Baselines: the rows the
requests wrote, written again through the bare driver one transaction per contact (on one
connection and on two at once), and the outbox claimed and marked done by bare SQL."""

import argparse
import copy
import logging
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench import raw
from bench.env import fresh_database, postgres_target, use_database, workdir
from bench.http import (
    Request,
    Server,
    _free_port,
    _wait_until_listening,
    expect,
    send_all,
)
from bench.report import Figure, stopwatch
from bench.seed import contact_data, seed_people

WARMUP = 200
RAW_SAMPLE = 3_000
CLAIM_BATCH = 200


@dataclass
class ApiRun:
    processes: int
    requests: int
    seconds: float
    api_cpu: float
    database_cpu: float | None
    client_cpu: float
    shares: list[float]  # each API process's part of the API CPU

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def ms_per_request(self, cpu: float | None) -> float | None:
        return None if cpu is None else 1000 * cpu / self.requests


@dataclass
class DrainRun:
    workers: int
    events: int
    seconds: float
    worker_cpu: float
    database_cpu: float | None

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


# -- CPU time of processes on this machine --


def cpu_seconds(pid: int) -> float | None:
    try:
        return Server(0, pid).cpu_seconds()
    except (FileNotFoundError, ProcessLookupError):
        return None


class DatabaseCpu:
    """CPU time of the PostgreSQL backends serving this database (when the server runs
    on this machine): a snapshot now, and what they used since."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.before = self._snapshot()

    def _snapshot(self) -> dict[int, float]:
        pids = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        self.conn.commit()
        times = {pid: cpu_seconds(pid) for (pid,) in pids}
        return {pid: cpu for pid, cpu in times.items() if cpu is not None}

    def used(self) -> float | None:
        """CPU seconds since the snapshot; what backends that ended meanwhile used is lost
        (a pool that opens and closes connections under load), so that is said."""
        after = self._snapshot()
        if not after and not self.before:
            return None  # not on this machine
        ended = len(set(self.before) - set(after))
        started = len(set(after) - set(self.before))
        if ended:
            print(f"    ({ended} PostgreSQL backends ended and {started} started during the run: their CPU is not all counted)")
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items())


# -- the API processes and their clients --


@contextmanager
def pipewise_serve(url: str, processes: int, env: dict[str, str], *, shared_socket: bool = False) -> Iterator[tuple[int, list[int]]]:
    """``pipewise serve --workers <processes>`` (no worker inside); yields the port and the
    API processes' ids once each has started. ``shared_socket``: uvicorn's own ``--workers``
    instead, whose processes accept from one shared socket."""
    port = _free_port()
    log = workdir() / f"serve-{port}.log"
    where = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(processes), "--no-access-log"]
    if shared_socket:
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "pipewise.app:create_app", *where]
    else:
        cmd = [sys.executable, "-m", "pipewise.cli.main", "serve", *where]
    environment = dict(os.environ, PIPEWISE_DATABASE_URL=url, PIPEWISE_INPROCESS_WORKER="false", **env)
    # Leaving the Popen block waits for the server, which stops its processes on SIGTERM.
    with log.open("w") as out, subprocess.Popen(cmd, env=environment, stdout=out, stderr=subprocess.STDOUT) as process:
        try:
            _wait_until_listening(port, process)
            deadline = time.monotonic() + 60
            while (text := log.read_text()).count("Application startup complete") < processes:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"pipewise serve did not start {processes} processes:\n{text}")
                time.sleep(0.1)
            yield port, [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", text)]
        finally:
            process.terminate()


def _client(port: int, requests: Sequence[Request], connections: int, start: Any, done: Any, results: Any) -> None:
    start.wait()
    began, cpu = time.monotonic(), time.process_time()
    responses, _ = send_all(port, requests, connections=connections)
    results.put((began, time.monotonic(), time.process_time() - cpu, [(r.status, r.body[:300]) for r in responses]))
    done.wait()


def _in_processes(target: Any, argument_lists: list[tuple], conn: Any) -> tuple[list[tuple], float | None]:
    """Run ``target(*args, start, done, results)`` in one spawned process per argument
    list. The processes start work together, and stay (with their database connections)
    until PostgreSQL's CPU time for the work has been read. Returns their results and that
    CPU time."""
    context = multiprocessing.get_context("spawn")
    start, done, results = context.Barrier(len(argument_lists) + 1), context.Event(), context.Queue()
    processes = [context.Process(target=target, args=(*args, start, done, results)) for args in argument_lists]
    for process in processes:
        process.start()
    try:
        start.wait(timeout=120)
        database = DatabaseCpu(conn)
        collected = [results.get(timeout=1800) for _ in processes]
        database_cpu = database.used()
    finally:
        done.set()
        for process in processes:
            process.join(timeout=60)
    if any(p.exitcode != 0 for p in processes):
        raise RuntimeError(f"a benchmark process failed: exit codes {[p.exitcode for p in processes]}")
    return collected, database_cpu


def api_run(url: str, processes: int, requests: list[Request], *, connections: int, clients: int, env: dict[str, str],
            shared_socket: bool = False) -> ApiRun:  # fmt: skip
    with pipewise_serve(url, processes, env, shared_socket=shared_socket) as (port, pids):
        expect(send_all(port, requests[:WARMUP], connections=connections)[0], 201)
        measured = requests[WARMUP:]
        chunks = [(port, measured[i::clients], connections // clients) for i in range(clients)]
        conn = raw.connect(url)
        before = [cpu_seconds(pid) or 0.0 for pid in pids]
        collected, database = _in_processes(_client, chunks, conn)
        api = [(cpu_seconds(pid) or 0.0) - cpu for pid, cpu in zip(pids, before, strict=True)]
        conn.close()
    bad = [(status, body) for *_, statuses in collected for status, body in statuses if status != 201]
    if bad:
        raise RuntimeError(f"{len(bad)} requests failed, e.g. {bad[0]}")
    seconds = max(c[1] for c in collected) - min(c[0] for c in collected)
    total = sum(api) or 1.0
    return ApiRun(processes, len(measured), seconds, sum(api), database, sum(c[2] for c in collected), [a / total for a in api])


# -- the outbox workers --


def _drain(url: str, name: str, start: Any, done: Any, results: Any) -> None:
    from pipewise import domains
    from pipewise.db.session import session_scope
    from pipewise.worker.runner import Worker

    logging.basicConfig(level=logging.WARNING)
    use_database(url)
    domains.load()
    with session_scope(write=False) as session:  # connected before the clock starts
        session.connection()
    start.wait()
    began, cpu = time.monotonic(), time.process_time()
    handled = Worker(name=name).run_until_idle()
    results.put((began, time.monotonic(), time.process_time() - cpu, handled))
    done.wait()


def _mark_undelivered(conn: Any) -> None:
    conn.execute("UPDATE outbox_event SET processed_at = NULL")
    conn.commit()


def drain_run(url: str, workers: int) -> DrainRun:
    conn = raw.connect(url)
    _mark_undelivered(conn)
    collected, used = _in_processes(_drain, [(url, f"bench-{n}") for n in range(workers)], conn)
    conn.close()
    seconds = max(c[1] for c in collected) - min(c[0] for c in collected)
    return DrainRun(workers, sum(c[3] for c in collected), seconds, sum(c[2] for c in collected), used)


# -- baselines --


def raw_creates(url: str, sample: int) -> tuple[float, float]:
    """Contacts per second written back raw, one transaction each: on one connection, and
    on two connections at once."""
    conn = raw.connect(url)
    rows = raw.CreatedRows(conn)
    rows.rows["contact"] = rows.rows["contact"][:sample]
    rows.count = len(rows.rows["contact"])
    rows.clear(conn)
    with stopwatch() as one:
        rows.per_record_transactions(conn)
    rows.clear(conn)
    halves = []
    for part in (0, 1):
        half = copy.copy(rows)
        half.rows = {**rows.rows, "contact": rows.rows["contact"][part::2]}
        halves.append((half, raw.connect(url)))
    threads = [threading.Thread(target=half.per_record_transactions, args=(c,)) for half, c in halves]
    with stopwatch() as two:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for _, c in halves:
        c.close()
    conn.close()
    return rows.count / one[0], rows.count / two[0]


def raw_claims(url: str) -> tuple[int, float]:
    """Every outbox row claimed (``FOR UPDATE SKIP LOCKED``) and marked done by bare SQL, in
    batches as large as a worker's; returns the rows and the rate."""
    conn = raw.connect(url)
    _mark_undelivered(conn)
    claimed = 0
    with stopwatch() as seconds:
        while True:
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM outbox_event WHERE processed_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (CLAIM_BATCH,),
            ).fetchall()]  # fmt: skip
            if not ids:
                break
            conn.execute("UPDATE outbox_event SET processed_at = now() WHERE id = ANY(%s)", (ids,))
            conn.commit()
            claimed += len(ids)
    conn.close()
    return claimed, claimed / seconds[0]


# -- the run --


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def run(args: argparse.Namespace) -> None:
    target = postgres_target(args.postgres)
    url = fresh_database(target, "scale_out")
    token = seed_people(teams=1, reps_per_team=1).reps[0].token
    env = {"PIPEWISE_DATABASE_POOLER": args.pooler}
    if args.pool_size is not None:
        env["PIPEWISE_DATABASE_POOL_SIZE"] = str(args.pool_size)
    per_run = WARMUP + args.requests
    api: dict[int, list[ApiRun]] = {n: [] for n in args.processes}
    drains: dict[int, list[DrainRun]] = {m: [] for m in args.drainers}
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    serial = 0
    for round_ in range(args.rounds):
        for processes in args.processes:
            requests = [Request("POST", "/api/v1/contacts", token, contact_data(serial + n)) for n in range(per_run)]
            serial += per_run
            result = api_run(args.via or url, processes, requests, connections=args.connections, clients=args.clients, env=env,
                             shared_socket=args.shared_socket)  # fmt: skip
            api[processes].append(result)
            print(
                f"  round {round_ + 1}: {processes} API process(es) {result.per_second:7.1f} req/s; CPU ms per request: "
                f"API {_ms(result.ms_per_request(result.api_cpu))} (split {'/'.join(f'{s:.0%}' for s in result.shares)}), "
                f"PostgreSQL {_ms(result.ms_per_request(result.database_cpu))}, client {_ms(result.ms_per_request(result.client_cpu))}; "
                f"load {os.getloadavg()[0]:.1f}"
            )
    # Every event the requests left, drained again for each M (warm-up costs of a worker
    # process are then small beside its work).
    for round_ in range(args.rounds):
        for workers in args.drainers:
            drained = drain_run(url, workers)
            drains[workers].append(drained)
            print(f"  round {round_ + 1}: {workers} worker(s) drain {drained.events:,} events at {drained.per_second:7.1f}/s; "
                  f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    claimed, raw_claim_rate = raw_claims(url)
    raw_one, raw_two = raw_creates(url, RAW_SAMPLE)  # leaves only the sample's rows
    report(api, drains, raw_one, raw_two, claimed, raw_claim_rate, args)
    if args.via:
        for label, per_second, cpu_ms in pool_cost(args.via):
            print(f"  a transaction through {args.via.rsplit('@', 1)[-1]}, {label}: {per_second:.0f}/s, {cpu_ms:.3f} ms of this process's CPU")


def pool_cost(url: str, transactions: int = 2_000) -> list[tuple[str, float, float]]:
    """What keeping connections to the pooler open saves: one short transaction (SELECT 1,
    COMMIT) at a time, through the engine with its pool and with none (NullPool)."""
    from sqlalchemy import text
    from sqlalchemy.pool import NullPool

    from pipewise.config import get_settings
    from pipewise.db.session import make_engine

    os.environ["PIPEWISE_DATABASE_POOLER"] = "pgbouncer"
    get_settings.cache_clear()
    results = []
    for label, options in (("application pool", {}), ("no application pool (NullPool)", {"poolclass": NullPool})):
        engine = make_engine(url, **options)
        for n in range(transactions + 100):
            if n == 100:
                wall, cpu = time.perf_counter(), time.process_time()
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                conn.commit()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        engine.dispose()
        results.append((label, transactions / wall, 1000 * cpu / transactions))
    return results


def _median(runs: list[Any], key: Any) -> Any:
    return sorted(runs, key=key)[len(runs) // 2]


def report(api: dict[int, list[ApiRun]], drains: dict[int, list[DrainRun]], raw_one: float, raw_two: float,
           claimed: int, raw_claim_rate: float, args: argparse.Namespace) -> None:  # fmt: skip
    label = "raw, one transaction per contact"
    figures: list[Figure] = []
    medians = {n: _median(runs, lambda r: r.per_second) for n, runs in api.items()}
    for n, m in medians.items():
        case = f"POST /api/v1/contacts, {args.connections} connections, {n} API process(es)"
        baseline = raw_one if n == 1 else raw_two
        base_label = label if n == 1 else f"{label}, two connections"
        figures.append(Figure("PostgreSQL", case, m.per_second, "/s", base_label, baseline))
        figures.append(Figure("PostgreSQL", f"{case}, per API CPU-second", m.requests / m.api_cpu, "/s", base_label, baseline))
    for m, runs in drains.items():
        d = _median(runs, lambda r: r.per_second)
        figures.append(Figure("PostgreSQL", f"outbox drained by {m} worker process(es)", d.per_second, "/s",
                              f"bare claim and mark done, {CLAIM_BATCH} per transaction", raw_claim_rate))  # fmt: skip
        figures.append(Figure("PostgreSQL", f"outbox drained by {m} worker process(es), per worker CPU-second",
                              d.events / d.worker_cpu, "/s", f"bare claim and mark done, {CLAIM_BATCH} per transaction",
                              raw_claim_rate))  # fmt: skip
    print()
    for f in figures:
        print(f"    {f.case:75} {f.value:9.1f}{f.unit}  {f.baseline_label}: {f.baseline:8.1f}{f.unit}  ratio {f.ratio:5.1f}×")
    print("\n  CPU per request, ms (median round): processes | API | PostgreSQL | client | split between API processes")
    for n, m in medians.items():
        print(f"    {n} | {_ms(m.ms_per_request(m.api_cpu))} | {_ms(m.ms_per_request(m.database_cpu))} | "
              f"{_ms(m.ms_per_request(m.client_cpu))} | {'/'.join(f'{s:.0%}' for s in m.shares)}")  # fmt: skip
    print("  CPU per event, ms (median round): workers | worker | PostgreSQL")
    for m, runs in drains.items():
        d = _median(runs, lambda r: r.per_second)
        print(f"    {m} | {1000 * d.worker_cpu / d.events:.2f} | {_ms(None if d.database_cpu is None else 1000 * d.database_cpu / d.events)}")
    if 1 in medians and 2 in medians:
        one, two = medians[1], medians[2]
        print(f"\n  two API processes ÷ one: {two.per_second / one.per_second:.2f}× wall-clock (target ≥ 1.7×); "
              f"{(two.requests / two.api_cpu) / (one.requests / one.api_cpu):.2f}× per API CPU-second; "
              f"raw two connections ÷ one: {raw_two / raw_one:.2f}×")  # fmt: skip
    print(f"  raw baselines: {raw_one:.0f} contacts/s on one connection, {raw_two:.0f}/s on two; "
          f"{claimed:,} outbox rows claimed bare at {raw_claim_rate:.0f}/s")  # fmt: skip
    print(f"  load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _numbers(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_out", description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", required=True, help="PostgreSQL database to wipe and use (its name must contain 'bench')")
    parser.add_argument("--requests", type=int, default=3_000, help="measured requests per case and round (after 200 warm-up)")
    parser.add_argument("--processes", type=_numbers, default=[1, 2], help="API processes per case, e.g. 1,2")
    parser.add_argument("--drainers", type=_numbers, default=[1, 2], help="worker processes draining after each case, e.g. 1,2")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; each case reports its median round")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive client connections")
    parser.add_argument("--clients", type=int, default=1, help="client processes sharing the connections")
    parser.add_argument("--via", metavar="URL", help="the API processes' database URL, e.g. a PgBouncer in front of --postgres")
    parser.add_argument("--pooler", choices=["none", "pgbouncer"], default="none", help="PIPEWISE_DATABASE_POOLER for the API processes")
    parser.add_argument("--shared-socket", action="store_true", help="run uvicorn's own --workers (one shared listening socket) instead")
    parser.add_argument("--pool-size", type=int, help="PIPEWISE_DATABASE_POOL_SIZE for the API processes (0: no pool)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    run(args)


if __name__ == "__main__":
    main()
