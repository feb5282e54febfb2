"""a. Creating contacts through the service layer: ``contact_service.create`` validates and
normalises the input, checks references and custom fields, and writes the contact, its
history row and its outbox event. Measured one create per transaction (what a request
does) and in batches (what an import does), beside the same rows written raw."""

from collections.abc import Callable

from bench import raw
from bench.env import Target, fresh_database
from bench.report import Figure, Section, cpu_stopwatch, stopwatch
from bench.seed import contact_data, seed_people
from pipewise.crm.service import contact_service
from pipewise.db.session import session_scope

TARGET_ONE_PER_TRANSACTION = 2_500
TARGET_BATCHED = 5_000
BATCH = 500


def _rates(count: int, work: Callable[[], None]) -> tuple[float, float]:
    """Per second of wall time and per second of CPU time."""
    with stopwatch() as elapsed, cpu_stopwatch() as cpu:
        work()
    return count / elapsed[0], count / cpu[0]


def run(target: Target, size: int) -> list[Figure]:
    url = fresh_database(target, "service_create")
    rep = seed_people(teams=1, reps_per_team=1).reps[0]

    def one_per_transaction(offset: int) -> None:
        for n in range(offset, offset + size):
            with session_scope() as session:
                contact_service.create(session, data=contact_data(n), actor=rep.actor)

    def batched(offset: int) -> None:
        for start in range(offset, offset + size, BATCH):
            with session_scope() as session:
                for n in range(start, min(start + BATCH, offset + size)):
                    contact_service.create(session, data=contact_data(n), actor=rep.actor)

    one_per_transaction(10**7)  # warm-up: imports, compiled-statement caches, file growth
    raw_conn = raw.connect(url)
    raw.CreatedRows(raw_conn).clear(raw_conn)

    per_txn = _rates(size, lambda: one_per_transaction(0))
    rows = raw.CreatedRows(raw_conn)
    rows.clear(raw_conn)
    raw_per_txn = _rates(size, lambda: rows.per_record_transactions(raw_conn))
    rows.clear(raw_conn)

    in_batches = _rates(size, lambda: batched(0))
    rows = raw.CreatedRows(raw_conn)
    rows.clear(raw_conn)
    raw_batch = _rates(size, lambda: rows.executemany(raw_conn))
    raw_conn.close()

    figures = []
    for case, measured, label, baseline, goal in (
        ("one create per transaction", per_txn, "raw, one transaction per contact", raw_per_txn, TARGET_ONE_PER_TRANSACTION),
        (f"{BATCH} creates per transaction", in_batches, "raw executemany, one transaction", raw_batch, TARGET_BATCHED),
    ):
        figures.append(Figure(target.label, case, measured[0], "/s", label, baseline[0], goal))
        figures.append(Figure(target.label, f"{case}, per CPU-second", measured[1], "/s", label, baseline[1], goal))
    return figures


def section(size: int) -> Section:
    return Section(
        key="service_create",
        title="a. Creating a contact through the service layer",
        description=(
            "`contact_service.create` with e-mail and phone normalisation, the custom-field and owner checks, "
            "the history row and the outbox event; the session boundary commits. Baselines: the very rows "
            "that run wrote (contact, history, outbox), deleted and written again through the bare driver. "
            "Each case is given per second of wall time and per second of this process's CPU time; the "
            "second does not depend on other load on the machine (PostgreSQL's own CPU is not in it)."
        ),
        size=f"{size:,} contacts per case",
    )
