"""What the profiles said, written next to the figures in docs/benchmarks.md. Profiles were
taken with cProfile and pyinstrument (service layer) and py-spy on the server process
(API); see "Profiling" in the document for how to repeat them."""

PREFACE = """\
The recorded run shared its 2-core machine with other work (see the load average), and
PostgreSQL with other users: wall-clock figures moved by up to 2× between runs. The "per
CPU-second" and "server CPU" rows count only this process's (or the server's) CPU time
and move less; read targets against them too.
"""

NOTES: dict[str, list[str]] = {
    "service_create": [
        "One create per transaction cannot reach 5,000/s on this machine: the raw driver writing the same "
        "three rows, one transaction per contact, does only one to two times that (the commit is most of it), "
        "and no ORM path with validation comes within a small factor of the raw driver. The target is read "
        "as the batched case (imports, bulk jobs), where the raw driver does tens of thousands per second.",
        "Found and fixed: every create made two lookups (the contact type's custom-field definitions; is the "
        "owner an active user), and each lookup autoflushed the previous contact, so a batch went out as three "
        "single-row INSERTs per contact (about 510/s batched before the change). Both lookups are now cached "
        "for the rest of the transaction (`cached_lookup` in db/session.py, dropped on any change to those "
        "models in the session, on savepoint rollback and at transaction end), and the batch's INSERTs go out "
        "together at commit: about four times faster batched.",
        "Still missed in the batched case. What the profile says per contact (about 0.45 ms of CPU): building "
        "the three ORM objects and flushing them through the unit of work is about half; e-mail validation "
        "(email-validator) about a sixth; phone parsing (phonenumbers) about a tenth; JSON encoding of the "
        "custom fields, history changes and event payload about a tenth. Going further means writing history "
        "and outbox rows with Core executemany instead of the ORM, which changes `bus.record` (callers use "
        "the ORM row it returns); not done.",
        "One per transaction (about 1.8 ms of CPU each): the three INSERTs through the unit of work about 40 %, "
        "the two lookups about 25 %, BEGIN IMMEDIATE and COMMIT about 15 %, validation about 15 %.",
    ],
    "api_create": [
        "Found and fixed: at first about 80/s. py-spy showed 45 % of the server's samples in BEGIN IMMEDIATE: "
        "request threads waiting for SQLite's write lock in its busy handler, which sleeps 1, 2, 5, 10 … ms "
        "between tries and leaves the database idle meanwhile. The writers of one process now queue on a "
        "lock of their own (db/session.py; other processes still meet busy_timeout), and the rate became "
        "CPU-bound.",
        "Found and fixed: the in-process worker went straight from one pass to the next whenever a pass found "
        "any event, so under steady writes it ran three write transactions for every few events. It now "
        "waits for the poll interval unless a pass filled a whole batch.",
        "Missed. The `per CPU-second` row is what one process can do on a core of its own. The profile "
        "(py-spy --gil) of a create request: about 45 % is the HTTP/ASGI stack, i.e. uvicorn's pure-Python "
        "h11 parser, Starlette/FastAPI middleware, routing over every router, and four thread-pool hand-offs "
        "per request (session, actor, endpoint, commit); about 30 % is the create itself (three INSERTs, the "
        "custom-field lookup); about 10 % the API token (three queries: token, user, managed teams; the owner "
        "check now reuses the token's user); about 10 % BEGIN and COMMIT. 500/s from one process needs about "
        "2 ms of CPU per request.",
        "Not done here, in order of likely gain: install uvicorn's C parser and event loop (httptools, "
        "uvloop: `uvicorn[standard]`); resolve token, user and teams in one query (auth/); run more API "
        "processes on PostgreSQL (on SQLite the single writer caps their sum near the raw per-transaction "
        "rate).",
        "One experiment, not part of the benchmark: with httptools and uvloop installed, uvicorn picked them "
        "up and the same run gave about 1.5× the requests per second; the machine's load varied meanwhile, so "
        "take it as a direction, not a figure.",
        "The in-process worker delivers every event to every registered subscriber (automation triggers, "
        "sequences, …), in the same process and under the same GIL; the difference between the two CPU rows "
        "(about 3 ms per event in the recorded run) is theirs. With PostgreSQL the worker runs as its own "
        "processes (`pipewise worker`).",
    ],
    "list_latency": [
        "Found and fixed: a stage filter read every contact of that stage through the single-column index and "
        "sorted them (about 10 ms raw at 100,000 contacts, 40 % of them in the stage). Migration 0010 adds "
        "(lifecycle_stage, created_at), so the newest 50 come straight off the index (about 0.5 ms).",
        "Found and fixed: without planner statistics SQLite answered the rep's custom-field filter by merging "
        "three owner_id index scans and sorting about 28,000 rows (23 ms raw); with statistics it walks "
        "created_at newest first (1 ms). The worker now runs ANALYZE at start and hourly, sampling 10,000 rows per index (a 1,000-row sample still misled the planner). Here "
        "the server starts after the data is loaded, so its in-process worker has done so.",
        "Found and fixed (PostgreSQL): lists ordered by `created_at DESC NULLS LAST`; PostgreSQL walks an "
        "index backwards as DESC NULLS FIRST, so it sorted every matching row instead (custom-field filter: "
        "35 ms p50, 63 ms p95). NULLS LAST is now added only for nullable sort columns; created_at is not one.",
        "Met. What remains is per-request overhead, not the query: of the server's CPU per request (the CPU "
        "rows), the HTTP/ASGI stack is about 35 %, loading 50 ORM rows about 25 %, the token and actor (three "
        "queries) about 15 %, serialising about 12 %. The list endpoint now serialises the page once, in "
        "pydantic-core, instead of validating every item again against the page model.",
    ],
}

PROFILING = """\
## Profiling

- Service layer: `python -m cProfile -o out.prof` on a script calling `contact_service.create` in a loop,
  or pyinstrument (`pip install pyinstrument` into the virtualenv; not a dependency).
- API server: start the benchmark, then `py-spy record --gil -p <uvicorn pid> -f raw -o out.folded`
  while it runs (`pip install py-spy`); `--gil` keeps only samples that hold the GIL, i.e. CPU work.
- Query plans: `EXPLAIN QUERY PLAN` on the SQL that SQLAlchemy logs (`echo=True`).
"""
