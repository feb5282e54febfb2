"""b. API create throughput: POST /api/v1/contacts over loopback HTTP to one uvicorn
process, several client connections at once, each request authenticated with a bearer
token and committed on its own; beside the same rows written raw, one transaction each."""

from bench import raw
from bench.env import Target, fresh_database
from bench.http import Request, expect, send_all, server
from bench.report import Figure, Section, stopwatch
from bench.seed import contact_data, seed_people

TARGET_PER_SECOND = 500
CONNECTIONS = 8
WARMUP = 200


def _throughput(url: str, requests: list[Request], *, inprocess_worker: bool) -> float:
    with server(url, inprocess_worker=inprocess_worker) as port:
        expect(send_all(port, requests[:WARMUP], connections=CONNECTIONS)[0], 201)
        responses, seconds = send_all(port, requests[WARMUP:], connections=CONNECTIONS)
    expect(responses, 201)
    return len(responses) / seconds


def run(target: Target, size: int) -> list[Figure]:
    url = fresh_database(target, "api_create")
    rep = seed_people(teams=1, reps_per_team=1).reps[0]
    requests = [Request("POST", "/api/v1/contacts", rep.token, contact_data(n)) for n in range(2 * (WARMUP + size))]
    alone = _throughput(url, requests[: WARMUP + size], inprocess_worker=False)
    # `pipewise serve` on SQLite also drains the outbox (every subscriber) in the same process.
    with_worker = _throughput(url, requests[WARMUP + size :], inprocess_worker=True) if target.is_sqlite else None

    raw_conn = raw.connect(url)
    rows = raw.CreatedRows(raw_conn)
    rows.clear(raw_conn)
    with stopwatch() as raw_seconds:
        rows.per_record_transactions(raw_conn)
    raw_conn.close()
    baseline = rows.count / raw_seconds[0]
    case = f"POST /api/v1/contacts, {CONNECTIONS} connections"
    figures = [Figure(target.label, case, alone, "/s", "raw, one transaction per contact", baseline, TARGET_PER_SECOND)]
    if with_worker is not None:
        figures.append(
            Figure(target.label, f"{case}, in-process worker", with_worker, "/s", "raw, one transaction per contact", baseline)
        )
    return figures


def section(size: int) -> Section:
    return Section(
        key="api_create",
        title="b. API create throughput",
        description=(
            f"One uvicorn process serving `pipewise.app:create_app`; {CONNECTIONS} keep-alive client connections "
            "send POST /api/v1/contacts with a bearer token; each request validates, writes the contact, "
            "history and outbox rows and commits. First the API process alone (the worker runs elsewhere, "
            "as with `pipewise worker`), then on SQLite also with the in-process outbox worker that "
            "`pipewise serve` starts there, delivering each event to every registered subscriber. "
            "Baseline: the rows all those requests wrote, written again through the bare driver, one "
            "transaction per contact."
        ),
        size=f"{size:,} requests per case after {WARMUP} warm-up requests",
    )
