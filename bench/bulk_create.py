"""Bulk create over HTTP: POST /api/v1/contacts/bulk, 500 contacts a request, to one uvicorn
process, with a bearer token; each request validates every item through the contact
service and commits once. Measured in both modes, beside the same rows written raw in one
transaction (one executemany per table).

``python -m bench.bulk_create [--postgres URL]`` prints the figures (it writes no document)."""

import argparse
import itertools
import logging
import statistics

from bench import raw
from bench.env import SQLITE, Target, fresh_database, postgres_target, use_database
from bench.http import Request, expect, send_all, server
from bench.report import Figure, Section, wall_and_cpu
from bench.seed import contact_data, seed_people

TARGET_PER_SECOND = 3_000
BATCH = 500
CONNECTIONS = 2  # one request is parsed or answered while the other writes
WARMUP_BATCHES = 2
ROUNDS = 3
MODES = ("all_or_nothing", "per_item")
STATUS = {"all_or_nothing": 200, "per_item": 207}


def _batches(token: str, mode: str, first: int, records: int) -> list[Request]:
    """Requests of ``BATCH`` contacts each, numbered from ``first``."""
    return [
        Request("POST", "/api/v1/contacts/bulk", token, {"mode": mode, "items": [contact_data(n) for n in range(start, start + BATCH)]})
        for start in range(first, first + records, BATCH)
    ]


def _rates(url: str, token: str, records: int) -> dict[str, tuple[float, float]]:
    """Per mode: records per second, and per second of the server's CPU time; the medians of
    ``ROUNDS`` rounds that alternate the modes on one server process."""
    per_round = records // ROUNDS
    numbers = itertools.count(0, per_round + BATCH)
    samples: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    with server(url, inprocess_worker=False) as srv:
        for mode in MODES:
            expect(send_all(srv.port, _batches(token, mode, next(numbers), WARMUP_BATCHES * BATCH), connections=CONNECTIONS)[0],
                   STATUS[mode])
        for _round in range(ROUNDS):
            for mode in MODES:
                requests = _batches(token, mode, next(numbers), per_round)
                cpu_before = srv.cpu_seconds()
                responses, seconds = send_all(srv.port, requests, connections=CONNECTIONS)
                cpu = srv.cpu_seconds() - cpu_before
                expect(responses, STATUS[mode])
                samples[mode].append((len(responses) * BATCH / seconds, len(responses) * BATCH / cpu))
    return {mode: (statistics.median(s[0] for s in runs), statistics.median(s[1] for s in runs))
            for mode, runs in samples.items()}


def run(target: Target, records: int) -> list[Figure]:
    url = fresh_database(target, "bulk_create")
    token = seed_people(teams=1, reps_per_team=1).reps[0].token
    rates = _rates(url, token, records)

    baseline = raw.rewrite_in_one_transaction(url)
    figures = []
    for mode, measured in rates.items():
        case = f"POST /api/v1/contacts/bulk, {BATCH} a request, {mode}"
        figures += wall_and_cpu(target.label, case, measured, "raw executemany, one transaction", baseline, TARGET_PER_SECOND)
    return figures


def section(records: int) -> Section:
    return Section(
        key="bulk_create",
        title="Bulk create over HTTP",
        description=(
            f"One uvicorn process serving `pipewise.app:create_app`; {CONNECTIONS} keep-alive client connections "
            f"send POST /api/v1/contacts/bulk with {BATCH} contacts a request and a bearer token. Each request "
            "validates every item with the create schema and the contact service (normalisation, custom field, "
            "owner), writes the contacts, their history and outbox rows and commits once: all_or_nothing without "
            "savepoints, per_item with a savepoint per 50 items. Baseline: the rows all those requests wrote, "
            "written again through the bare driver in one transaction, one executemany per table."
        ),
        size=f"{records:,} contacts per mode in {ROUNDS} rounds that alternate the modes (medians), "
        f"after {WARMUP_BATCHES} warm-up requests each",
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m bench.bulk_create", description=__doc__)
    parser.add_argument("--records", type=int, default=30_000, help=f"contacts per mode (in requests of {BATCH})")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database (it is wiped; its name must contain 'bench')")
    args = parser.parse_args()
    targets = [SQLITE]
    if args.postgres:
        targets.append(postgres_target(args.postgres))
        use_database(args.postgres)
    print(section(args.records).description)
    for target in targets:
        for f in run(target, args.records):
            print(f"  {f.database:14} {f.case:62} {f.value:8,.0f}{f.unit}  raw {f.baseline:8,.0f}{f.unit}  "
                  f"ratio {f.ratio:4.1f}×  target {'met' if f.met else 'missed'}")


if __name__ == "__main__":
    main()
