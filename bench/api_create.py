"""b. API create throughput: POST /api/v1/contacts and /api/v1/leads over loopback HTTP to one uvicorn
process, several client connections at once, each request authenticated with a bearer
token and committed on its own; beside the same rows written raw, one transaction each."""

from bench import raw
from bench.env import Target, fresh_database
from bench.http import Request, expect, send_all, server
from bench.report import Figure, Section, cpu_stopwatch, stopwatch
from bench.seed import contact_data, lead_data, seed_people

TARGET_PER_SECOND = 500
CONNECTIONS = 8
WARMUP = 200


def _throughput(url: str, requests: list[Request], *, inprocess_worker: bool) -> tuple[float, float]:
    """Requests per second, and per second of the server's CPU time."""
    with server(url, inprocess_worker=inprocess_worker) as srv:
        expect(send_all(srv.port, requests[:WARMUP], connections=CONNECTIONS)[0], 201)
        cpu_before = srv.cpu_seconds()
        responses, seconds = send_all(srv.port, requests[WARMUP:], connections=CONNECTIONS)
        cpu = srv.cpu_seconds() - cpu_before
    expect(responses, 201)
    return len(responses) / seconds, len(responses) / cpu


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
        runs = {"": _throughput(url, requests[: WARMUP + size], inprocess_worker=False)}
        if target.is_sqlite:  # `pipewise serve` on SQLite also drains the outbox in the same process
            runs[", in-process worker"] = _throughput(url, requests[WARMUP + size :], inprocess_worker=True)

        raw_conn = raw.connect(url)
        rows = raw.CreatedRows(raw_conn, table)
        rows.clear(raw_conn)
        with stopwatch() as raw_seconds, cpu_stopwatch() as raw_cpu:
            rows.per_record_transactions(raw_conn)
        raw_conn.close()
        label = f"raw, one transaction per {table}"
        for suffix, (per_second, per_cpu_second) in runs.items():
            case = f"POST {path}, {CONNECTIONS} connections{suffix}"
            target_rate = TARGET_PER_SECOND if not suffix else None
            figures += [
                Figure(target.label, case, per_second, "/s", label, rows.count / raw_seconds[0], target_rate),
                Figure(target.label, f"{case}, per CPU-second", per_cpu_second, "/s", label, rows.count / raw_cpu[0], target_rate),
            ]
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
            "the bare driver, one transaction per record."
        ),
        size=f"{size:,} requests per case after {WARMUP} warm-up requests",
    )
