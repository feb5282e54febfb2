"""b. API create throughput: POST /api/v1/contacts and /api/v1/leads over loopback HTTP to one uvicorn
process, several client connections at once, each request authenticated with a bearer
token and committed on its own; beside the same rows written raw, one transaction each."""

import json
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime

from bench import raw
from bench.env import Target, fresh_database
from bench.http import BARE_APP, Request, Response, expect, send_all, server
from bench.report import Figure, Section, cpu_stopwatch, percentile, stopwatch
from bench.seed import contact_data, lead_data, seed_people
from bench.settle import OutboxWatcher, worker_process

TARGET_PER_SECOND = 500
TARGET_ROUTED_MS = 1_000
TARGET_RESIDENT_MB = 150
CONNECTIONS = 8
WARMUP = 200


class _Throughput:
    """One server's run: requests per second, per second of its CPU time, and its resident
    memory right after start and after the run."""

    def __init__(self, url: str, requests: list[Request], *, inprocess_worker: bool) -> None:
        with server(url, inprocess_worker=inprocess_worker) as srv:
            self.started_mb = srv.resident_mb()
            expect(send_all(srv.port, requests[:WARMUP], connections=CONNECTIONS)[0], 201)
            cpu_before = srv.cpu_seconds()
            responses, seconds = send_all(srv.port, requests[WARMUP:], connections=CONNECTIONS)
            cpu = srv.cpu_seconds() - cpu_before
            self.after_mb = srv.resident_mb()
        expect(responses, 201)
        self.per_second, self.per_cpu_second = len(responses) / seconds, len(responses) / cpu


def _bare_server_mb(url: str) -> float:
    with server(url, inprocess_worker=False, app=BARE_APP) as srv:
        return srv.resident_mb()


def _memory(target: Target, url: str, run: _Throughput, requests: int) -> list[Figure]:
    label, bare = "bare uvicorn, an app that answers 204", _bare_server_mb(url)
    return [
        Figure(target.label, "API process resident memory after start", run.started_mb, "MB", label, bare, TARGET_RESIDENT_MB),
        Figure(target.label, f"API process resident memory after {requests:,} contact creates", run.after_mb, "MB", label, bare),
    ]


def _created_at(url: str, lead_ids: list[str]) -> dict[str, float]:
    """Each lead's created_at (set inside its create request), as a Unix time; every one of
    them must have been routed (assigned) by now."""
    conn = raw.connect(url)
    found: dict[str, float] = {}
    for start in range(0, len(lead_ids), 500):
        part = lead_ids[start : start + 500]
        ids = part if raw.is_sqlite(conn) else [uuid.UUID(i) for i in part]
        query = f"SELECT id, created_at, assigned_at FROM lead WHERE id IN ({raw.placeholders(conn, len(ids))})"
        for lead_id, created, assigned in conn.execute(query, ids):
            if assigned is None:
                raise RuntimeError(f"lead {lead_id} was handled but not routed")
            when = datetime.fromisoformat(created) if isinstance(created, str) else created
            found[str(lead_id).replace("-", "")] = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    conn.close()
    return found


def _routed_latency(target: Target, size: int, *, inprocess_worker: bool) -> list[Figure]:
    """Unowned leads posted at the target rate with ``pipewise worker`` running beside the
    API process (or, ``inprocess_worker``, the worker inside it): the time from each lead's
    creation to the worker's commit of its score, duplicate check and routing."""
    from pipewise.assignment import service as routing
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.db.session import session_scope

    url = fresh_database(target, "api_create_leads_routed")
    people = seed_people(teams=1, reps_per_team=4)
    with session_scope() as session:
        routing.create_rule(session, {"name": "Inbound", "target_type": "team", "team_id": people.reps[0].team_id}, actor=SYSTEM_ACTOR)
    token = people.admin.token
    requests = [Request("POST", "/api/v1/leads", token, {**lead_data(n), "owner_id": None}) for n in range(WARMUP + size)]
    with ExitStack() as running:
        srv = running.enter_context(server(url, inprocess_worker=inprocess_worker))
        if not inprocess_worker:
            running.enter_context(worker_process(url))
        watcher = OutboxWatcher(url, "lead.created")
        watcher.start()
        try:
            warmup = send_all(srv.port, requests[:WARMUP], connections=CONNECTIONS)[0]
            expect(warmup, 201)
            watcher.settle({_lead_id(r): r.answered for r in warmup})
            responses, seconds = send_all(srv.port, requests[WARMUP:], connections=CONNECTIONS, rate=TARGET_PER_SECOND)
            expect(responses, 201)
            watcher.settle({_lead_id(r): r.answered for r in responses})
        finally:
            watcher.finish()
    created = _created_at(url, [_lead_id(r) for r in responses])
    routed_ms = [(watcher.seen_at[i] - t) * 1000 for i, t in created.items() if i in watcher.seen_at]
    if len(routed_ms) < len(responses):
        raise RuntimeError(f"only {len(routed_ms)} of {len(responses)} leads were handled by the worker within 60 s")
    answered_ms = [r.seconds * 1000 for r in responses]
    worker = "in-process worker" if inprocess_worker else "`pipewise worker` beside"
    case = f"POST /api/v1/leads, {TARGET_PER_SECOND}/s asked, {worker}"
    return [
        Figure(target.label, f"{case}: achieved", len(responses) / seconds, "/s", "asked", TARGET_PER_SECOND, TARGET_PER_SECOND),
        *(Figure(target.label, f"{case}: created → scored, deduplicated, routed (p{pct})", percentile(routed_ms, pct), "ms",
                 f"the create's own response time, p{pct}", percentile(answered_ms, pct), TARGET_ROUTED_MS if pct == 99 else None)
          for pct in (50, 99)),
    ]


def _lead_id(response: Response) -> str:
    return str(json.loads(response.body)["id"]).replace("-", "")


# What each case posts: the path, the body of the n-th record, its table.
KINDS = {
    "contacts": ("/api/v1/contacts", contact_data, "contact"),
    "leads": ("/api/v1/leads", lead_data, "lead"),
}


def run(target: Target, size: int) -> list[Figure]:
    figures = []
    for kind, (path, body, table) in KINDS.items():
        url = fresh_database(target, f"api_create_{kind}")
        rep = seed_people(teams=1, reps_per_team=1).reps[0]
        requests = [Request("POST", path, rep.token, body(n)) for n in range(2 * (WARMUP + size))]
        runs = {"": _Throughput(url, requests[: WARMUP + size], inprocess_worker=False)}
        if target.is_sqlite:  # `pipewise serve` on SQLite also drains the outbox in the same process
            runs[", in-process worker"] = _Throughput(url, requests[WARMUP + size :], inprocess_worker=True)
        if kind == "contacts":
            figures += _memory(target, url, runs[""], size + WARMUP)

        raw_conn = raw.connect(url)
        rows = raw.CreatedRows(raw_conn, table)
        rows.clear(raw_conn)
        with stopwatch() as raw_seconds, cpu_stopwatch() as raw_cpu:
            rows.per_record_transactions(raw_conn)
        raw_conn.close()
        label = f"raw, one transaction per {table}"
        for suffix, measured in runs.items():
            case = f"POST {path}, {CONNECTIONS} connections{suffix}"
            target_rate = TARGET_PER_SECOND if not suffix else None
            figures += [
                Figure(target.label, case, measured.per_second, "/s", label, rows.count / raw_seconds[0], target_rate),
                Figure(target.label, f"{case}, per CPU-second", measured.per_cpu_second, "/s", label, rows.count / raw_cpu[0],
                       target_rate),
            ]
    figures += _routed_latency(target, size, inprocess_worker=False)
    if target.is_sqlite:
        figures += _routed_latency(target, size, inprocess_worker=True)
    return figures


def section(size: int) -> Section:
    return Section(
        key="api_create",
        title="b. API create throughput",
        description=(
            f"One uvicorn process serving `pipewise.app:create_app`; {CONNECTIONS} keep-alive client connections "
            "send POST /api/v1/contacts, and in a second run POST /api/v1/leads, with a bearer token; each "
            "request validates, writes the record, its history and outbox rows and commits. First the API process alone (the worker runs elsewhere, "
            "as with `pipewise worker`), then on SQLite also with the in-process outbox worker that "
            "`pipewise serve` starts there, delivering each event to every registered subscriber. "
            "Baseline: the records, history and outbox rows all those requests wrote, written again through "
            "the bare driver, one transaction per record. The API process's resident memory is read right after "
            "it starts listening, beside the same uvicorn serving an app that only answers 204. Last, unowned "
            f"leads are posted at {TARGET_PER_SECOND}/s asked with `pipewise worker` beside the API process (and "
            "on SQLite, in a second run, with the in-process worker), each timed from its `created_at` to when a "
            "watcher reading the outbox every 10 ms sees its `lead.created` handled: scored, compared, routed, "
            "the owner notified, committed. Beside it, the create's own response time."
        ),
        size=f"{size:,} requests per case after {WARMUP} warm-up requests",
    )
