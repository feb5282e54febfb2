"""What the profiles said, written next to the figures in docs/benchmarks.md. Profiles were
taken with cProfile and pyinstrument (service layer) and py-spy on the server process
(API); see "Profiling" in the document for how to repeat them."""

PREFACE = """\
Runs of this document are made on 2-core machines of this kind, which are not all equally
fast (the CPU row above names the one of the recorded run; earlier runs in the sections
below had others), and at times share them with other work (see the load average):
wall-clock figures moved by up to 2× between runs. The "per CPU-second" and "server CPU"
rows count only this process's (or the server's) CPU time and move less; read targets
against them too, and compare versions only side by side in the same minutes.
"""

NOTES: dict[str, list[str]] = {
    "service_create": [
        "Found and fixed (this round): a create through the ORM's unit of work cost about 2 ms of CPU. The "
        "history row, the outbox row and now the record's own row are deferred inserts "
        "(`db.session.add_later`, `insert_later`): they wait in the transaction's unit of work and go out as "
        "one cached executemany per table before the next statement that may read them, an explicit flush "
        "or the commit; the ORM object is made persistent without a flush, every column already filled. The "
        "multi-row statements are compiled once (SQLAlchemy's insertmanyvalues), not per batch. The "
        "custom-field rules and the active-owner check are kept per process for a few seconds "
        "(`db/process_cache.py`, emptied at once by this process's own changes), so a one-record "
        "transaction no longer pays two lookups. A record's changes are made JSON-ready once for its "
        "history row and its event. Side by side with the code before, same load: 377/s → 1,142/s one "
        "per transaction (498 → 1,426 per CPU-second), 1,621/s → 2,269/s batched.",
        "Found and fixed (second round): the deferred rows went through SQLAlchemy's statement execution, "
        "a third of a one-record transaction. They are now SQL written once per table and row shape "
        "(`db/deferred_inserts.py`, `_PlainInsert`: bind processing and Python defaults applied in place) "
        "handed to the driver's executemany, with the table order cached; BEGIN goes straight to the SQLite "
        "driver; a new record's object is filled without its constructor's attribute events; plain e-mail "
        "addresses are normalised without email-validator's Unicode and IDNA work (a differential test "
        "holds the fast path to email-validator's answer on 20,000 generated addresses); JSON columns are "
        "serialised with orjson. On PostgreSQL a record's few rows go out as plain INSERTs in one "
        "pipelined round trip (the `unnest` statement is kept from eight rows of a table on). Side by side "
        "with the code before this round, same machine, back to back: one per transaction 1,215/s → "
        "1,437/s (1,305 → 1,588 per CPU-second), batched 3,602/s → 5,002/s on SQLite; on PostgreSQL "
        "413/s → 691/s and 2,634/s → 3,153/s.",
        "Found (third round): on SQLite the commit that took the write-ahead log past 1,000 pages "
        "copied it into the database file and synced it, inside that request; with "
        "`PIPEWISE_SQLITE_BACKGROUND_CHECKPOINTS=true` a thread of the process does it every 0.1 s "
        "(`db/wal.py`, the connections keep a 10,000-page bound). The recorded run had it on. It was off "
        "by default for a round, after one crash with it on in the test suite (SIGBUS inside a commit); "
        "the cause was a test that read the database's files in its own process (see the fifth round "
        "below), and it is on by default again. Eleven single-column indexes that a composite index "
        "of the same table starts with are gone (migration 0048: a contact's create touched 13 b-trees, a "
        "lead's 29). The unit of work keeps the transaction's connection instead of asking the session for "
        "it per deferred row (5–7 % of a one-record create, measured 15,000 creates a side, three pairs). "
        "Back to back on one machine: 1,775/s → 2,336/s one per transaction, 7,625/s → 8,337/s batched.",
        "Batched: met. One per transaction: met in the recorded run (2,931/s; 2,832–2,930/s in three more "
        "runs that hour), on a faster CPU than the runs before it (2,064/s in the one before, on another "
        "machine of this kind). About 0.34 ms of CPU a contact. Of it, an empty write transaction through "
        "`session_scope` alone (the session, BEGIN IMMEDIATE, the ORM's commit, the pool) is 73–84 µs, "
        "against 3 µs for BEGIN IMMEDIATE and COMMIT on the bare driver: SQLAlchemy's session and its "
        "transaction state, not the database. A session bound to a connection we begin and commit "
        "ourselves measured the same (64 against 68 µs).",
    ],
    "api_create": [
        "Found and fixed (this round): four thread-pool hand-offs per request (open the session, resolve the "
        "token, run the handler, commit), each waking a thread and then the event loop. API routers are now "
        "`api_router()`s (`api/deps.py`, route class `ApiRoute`): the session and the caller are only "
        "prepared on the event loop, with no I/O, and one worker thread begins the transaction, resolves the "
        "token, runs the handler and commits. The token, its user and the teams they act for come from one "
        "query (`token_service.actor_for`, about 0.15 ms of CPU against 0.6 ms for the three ORM queries "
        "before); it is not cached, so a revocation or deactivation applies to the very next request, in "
        "every process: a cache would have to ask the database anyway to keep that promise. The create "
        "response is serialised once in pydantic-core instead of dumped, re-encoded and dumped again, and "
        "the body limits read only the two headers they need. With the write path above: 188/s → 345/s "
        "side by side (239 → 428 per server CPU-second).",
        "Found and fixed (after the recorded run): on SQLite the request threads handed the process's writer "
        "lock to each other, a futex wake-up per request. Write requests now take turns on one writer thread "
        "of their own (`api/deps.py`, `_SQLITE_WRITER`): a write request held that lock from its first "
        "statement to its commit anyway, so nothing that ran side by side before waits now. Side by side, "
        "alternating, same load: 0–9 % more contacts per second.",
        "Found and fixed (second round): FastAPI asked every included router in turn whether it serves a "
        "request, each walking its routes' patterns (about 0.2 ms of CPU a call, 10–20 % of a create); "
        "each router, and each router included in one, now remembers its answer per method and path "
        "(`api/route_memo.py`, bounded; a test holds it to the routers' own answers). The token's actor "
        "and the lead's account-by-domain lookup are Core reads (`db.session.read`); a lead's blocking "
        "keys go out with its other deferred rows. With the write path above, alternating the code before "
        "and after on one server at a time (the machine's speed wandered by up to 2× within minutes, so "
        "only pairs compare): contacts 220 → 347, 270 → 464, 322 → 438 per second; leads 193 → 428, "
        "268 → 435.",
        "Found and fixed (third round): the SQLite commit no longer pays for WAL checkpoints, and eleven "
        "redundant indexes are gone (section a). SQLAlchemy's `pool_pre_ping` sent `SELECT 1`, with a switch "
        "to autocommit and back, at every checkout, i.e. every request: a PostgreSQL connection is now "
        "pinged only after sitting idle for over a second (`db/liveness.py`; a dead one is replaced before "
        "use, as before). The reads every request or lead makes (the token's actor, the account by domain, "
        "the same-address duplicates) are compiled once and run on the driver's cursor "
        "(`db/plain_statement.py`, about 20 µs less each). Measured with the code before and after serving "
        "side by side, the requests alternating between them (so the machine's changing speed touches "
        "both alike): server CPU per request 1.96 → 1.80 ms (contacts) and 2.17 → 1.89 ms (leads) on "
        "SQLite, 3.14 → 2.83 ms and 4.44 → 3.89 ms on PostgreSQL. After the recorded run, a record's few "
        "rows on PostgreSQL became one statement (each table's INSERT a data-modifying WITH query) instead "
        "of a psycopg pipeline of one executemany per table: 2.78 → 2.53 ms (contacts) and 4.53 → 4.39 ms "
        "(leads) of server CPU per create, measured the same way (`python -m bench.side_by_side`).",
        "Found and fixed (fourth round, after the recorded run; see that section below): a lead's create "
        "touches 18 b-trees instead of 25 (migration 0049), its blocking keys are the worker's, and its "
        "account and same-address duplicates come from one statement. Side by side: 2.46 → 2.16 ms "
        "(SQLite) and 3.73 → 3.13 ms (PostgreSQL) of server CPU per lead create; contacts unchanged "
        "within the noise.",
        "Found and fixed (twelfth round, after the recorded run; see that section below): on SQLite the "
        "event loop and the writer thread took the GIL from each other during every create. A one-record "
        "create or change (`one_record_write`) now runs on the event loop itself when the write turn is "
        "free, and waits on the writer thread when another process holds it. In pairs on a slower "
        "machine: leads 587, 624, 515, 378 → 638, 855, 762, 733 a second; contacts 691, 828, 584, 663 → "
        "935, 1,053, 934, 1,028; the routed case unchanged within the noise. On PostgreSQL those "
        "handlers run on four threads of their own instead of anyio's pool, where eight connections' "
        "threads and the loop took the GIL from one another at every round trip: server CPU per "
        "create 0.88× (contacts) and 0.90× (leads), side by side.",
        "Found and fixed (thirteenth round, after the recorded run; see that section below): on SQLite a "
        "one-record write that found the write turn taken (a `pipewise worker` had it) went to the writer "
        "thread and held the turn 1.5 ms there, against 0.8 ms for the same write on the event loop, "
        "timed in a routed run: the loop answered and read other requests meanwhile, on the same "
        "interpreter lock. Such writes now wait on the loop and run there back to back when the turn "
        "comes. Routed at 500/s asked, in pairs on a slower machine: 177, 195, 235 → 314, 233, 259 "
        "leads a second with `pipewise worker` beside, 217, 231, 183 → 297, 301, 290 with the "
        "in-process worker. The routed case's watcher also cost the machine less: it read every "
        "handled event on SQLite (its statistics again) and the new events' ids every 10 ms on PostgreSQL.",
        "Found and fixed (fourteenth round, after the recorded run; see that section below): on SQLite "
        "a `pipewise worker` held the write turn through all of a batch, comparing and scoring its "
        "leads meanwhile, while the API's writes waited. While other processes keep it waiting for "
        "the turn, it now compares and scores a batch in a read transaction first, and the batch "
        "takes those results where the lead has not changed since. Routed at 500/s asked, "
        "`pipewise worker` beside, in pairs on a slower machine: 340, 318, 345, 323, 330, 298 → 366, "
        "361, 379, 362, 357, 336 leads a second; p99 from creation to routed 228–252 → 329–424 ms.",
        "Measured (fifteenth round, after the recorded run; see that section below): on a faster "
        "machine of this kind, routed at 500/s asked with `pipewise worker` beside, fifteen runs of "
        "the same code within the hour took 388–491 leads a second (median 465), each lead routed "
        "within 245–386 ms p99. With 1.2 of the 2 cores busy, the API falls behind while the worker "
        "holds SQLite's one write turn (in a 442/s run its requests went out up to 0.8 s after their "
        "due time). A batch's changed leads now go out as SQL written once (the driver's executemany "
        "on SQLite, one `UPDATE … FROM unnest` on PostgreSQL): 200 leads 3.6–4.2 → 2.9–3.1 ms on "
        "SQLite, 18.8–19.7 → 15.2–16.9 ms on PostgreSQL; the routed rows moved within their noise. "
        "Timed write turns showed the writer busy 80 % of the time, not 95 % as in the tenth round: "
        "the API's one event loop, which can take in only eight requests while the worker has the "
        "turn, sets the rate. A worker now claims up to 500 events a transaction (was 200; "
        "`PIPEWISE_WORKER_BATCH_SIZE`): its share of the turn 46–48 → 40–43 %; routed 488, 490, 464, "
        "455 → 493, 497, 498 (600) and 451, 494 (500) leads a second.",
        "Measured (sixteenth round, after the recorded run; see that section below): a PostgreSQL "
        "worker alone took 1.86 ms a routed lead (1.28 ms of its CPU, 0.40 ms of the server's "
        "statements), at most about 540 leads a second: at 500/s asked, with the API (0.74 of a "
        "core), PostgreSQL (0.50) and the load generator on the same two cores, it cannot keep the "
        "1 s p99. A batch's ids now go to PostgreSQL as one array parameter (psycopg had parsed 70 "
        "statements of a 2,000-lead run anew) and its notifications as one `unnest`: statement "
        "conversion 0.186 → 0.104 ms a lead; routed p99 1,643, 1,535, 2,394 → 1,020, 2,083, 1,782 "
        "ms in pairs. On SQLite a commit pays about 14 µs for each b-tree it touched (a lead's "
        "create touches 18 of its own); the report triggers there note a day once (migration "
        "0050), and a worker batch's preparing and cached lookups cost less: 14 % fewer "
        "instructions a routed lead in the worker, counted under callgrind.",
        "Target 500/s from one process on this 2-core machine, where the client and the server share the "
        "cores: met in the recorded run on both databases and for both kinds (SQLite 1,109/s contacts, "
        "990/s leads; PostgreSQL 781/s and 767/s, on an AMD EPYC machine of this kind; the eighth "
        "round's run, on an Intel Xeon, read 771/s, 646/s, 635/s and 596/s, the sixth round's 674/s, "
        "535/s, 564/s and 544/s, and 637–779/s, 572–668/s, 549–657/s and 518–651/s in five other runs "
        "that hour; the raw baselines moved by a fifth between them). "
        "A run on a slower machine of this kind missed on PostgreSQL (474/s and 390/s). On "
        "PostgreSQL the API process is the bottleneck at about 1.6 ms of CPU per create, a third of it "
        "psycopg's round trips (BEGIN, the reads, the inserts, COMMIT). Several API processes "
        "(`pipewise serve --workers N`, on PostgreSQL) are the way past one process: see docs/scaling.md.",
        "New (sixth round): the memory rows read the API process's resident set (`/proc/<pid>/status`) "
        "right after it listens and after the contact run, beside the same uvicorn serving an app that "
        "answers 204 (29 MB). The first runs read 149 MB after start, under the 150 MB target by 1 MB "
        "(138 MB when it was first measured by hand, two rounds ago). Found and fixed: httpx and "
        "httpcore, cryptography, the holiday calendars, icalendar and rapidfuzz loaded at start for "
        "work an API process may never do (a webhook, a mailbox password, a working-day count, a "
        "calendar, a fuzzy duplicate check); they load with that work now (`outbound_http.py` holds "
        "netguard's httpx client), and `tests/test_app.py` keeps them out of a fresh process. 149 → "
        "128 MB after start, three starts a side, alternating.",
        "New (sixth round): the target asks that a lead be scored, deduplicated and routed within 1 s "
        "p99 at the 500/s rate. The last rows post unowned leads (so each is routed) at 500/s asked, "
        "8 connections, with `pipewise worker` beside the API process (and, on SQLite, with the "
        "in-process worker instead), and time each lead from its `created_at` to the moment a watcher "
        "(reading the outbox every 10 ms) sees its `lead.created` handled, i.e. the worker's results "
        "committed; beside it, the create's own response time. In the recorded run (ninth round, AMD "
        "EPYC): SQLite took 444 leads a second of the 500 asked, each routed within 338 ms p99 with "
        "`pipewise worker` (442/s within 226 ms with the in-process worker); PostgreSQL took 499/s, but "
        "its one worker fell behind and the p99 grew to 3.1 s. The eighth round's run, on an Intel "
        "Xeon, read 349/s within 235 ms on SQLite and 489/s with a p99 of 4.5 s on PostgreSQL. "
        "**Missed** at 500/s: on SQLite the API process and the worker take turns on the one writer "
        "and do not overlap (over six seconds of the ninth round's run they used 57 % of the two "
        "cores), so the rate is one over the sum of their times per lead; on PostgreSQL the API, the "
        "worker, the server and the load generator fill both cores at that rate (the hand sections "
        "of the eighth and ninth rounds below). "
        "When this case was new (sixth round) the worker was the bottleneck. Routing, the owner's notification and task, scoring and the fuzzy check cost it "
        "about 2.5 ms of CPU a lead on SQLite and 3.2–3.6 ms on PostgreSQL (plus its round trips), against "
        "about 1.6 ms for the create in the API. On two cores the machine does about 180–230 routed "
        "leads a second on SQLite end to end, within 1 s p99 at that rate with the in-process worker "
        "(331–472 ms over five runs) and at the edge with a worker process (0.98–1.9 s: the two "
        "processes take turns on SQLite's one writer); on PostgreSQL the API took 425–494/s but one "
        "worker fell behind, and the p99 grew with the backlog to 9–12 s over a six-second run. "
        "Found and fixed on the way, measured with one worker routing 2,000 leads, alternating the "
        "code before and after: the batch's outbox rows are marked in one UPDATE; the owner's task "
        "and the score history are deferred inserts; the notification's e-mail preference is read "
        "from the event before anything is loaded, once per batch and person, and its subscriber runs "
        "without a savepoint (it is rerun-safe); the owner is held for the batch (the identity map had "
        "let it go and read it again per lead); an event name's subscribers are looked up once; the "
        "leads a batch's assignments name are read in one statement. SQLite "
        "228–236 → 407–415 routed leads/s (4.3 → about 2.5 ms of CPU a lead), PostgreSQL 150 → "
        "211–234/s (5.0 → 3.2–3.6 ms). The seventh round (a hand section below, on a slower machine, "
        "in pairs) took another third off: routing no longer flushes per lead, the notification's "
        "insert is built once, and an idle `pipewise worker` looks at the outbox every 25 ms instead "
        "of sleeping its half-second poll. One worker: SQLite 359–439 → 567–671 routed leads/s, "
        "PostgreSQL 139–174 → 228–255/s; routed at 500/s asked with `pipewise worker`, p99 "
        "1.4–2.0 s → 1.2–1.3 s on SQLite and 11–12 s → 7–7.7 s on PostgreSQL, still missed. The "
        "eighth round: SQLite's writers take turns on a lock file the kernel hands on at once, where an "
        "API request waiting in SQLite's busy handler slept through the worker's next batches (p99 "
        "0.8–2.7 s → 234–273 ms at the same rate, in pairs), and the worker claims its events and "
        "looks up blocking keys as plain rows on the driver (about a tenth less CPU a routed lead). "
        "The ninth round: on SQLite the worker reads its queues by their partial indexes whatever the "
        "planner's statistics say (taken while the outbox was small, they made each claim and each "
        "idle look walk every handled event, 0.8 ms at 10,000), and retries and timers that are not "
        "due take no write transaction: 1.19–1.23 → 1.05–1.14 ms of CPU a routed lead, in pairs.",
        "The in-process worker delivers every event to every registered subscriber (automation triggers, "
        "sequences, lead scoring and routing, …), in the same process and under the same GIL; the difference "
        "between the CPU rows with and without it is theirs. With PostgreSQL the worker runs as its own "
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
        "Checked (third round): migration 0048 dropped the single-column indexes on owner_id, lifecycle_stage "
        "and status that composite indexes start with. The recorded run's SQLite p50s are 0.1–3 ms above "
        "the last one's, on a slower minute of this machine (its raw queries took as long as before); "
        "the code before and after, serving 100,000 contacts and leads side by side with the requests "
        "alternating between them, answered every case within 3 % of each other (p50 4.36 against 4.49 "
        "ms, 6.25 against 6.40, … after against before).",
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
- Query plans: `EXPLAIN QUERY PLAN` on the SQL that SQLAlchemy logs (`echo=True`). Reads made
  through `db/plain_statement.py` bypass SQLAlchemy's statement log; read their SQL off the statement.
- Before and after a change: `python -m bench.side_by_side --before <git revision>` serves that
  revision and this tree at once and alternates the creates between them, so that the machine's
  drifting speed (up to 2× within minutes on a shared VM) touches both alike.
- The worker alone: `python -m bench.worker_routing [--postgres URL]` times one worker routing
  2,000 leads, per lead, beside their creates; run it against another revision's `src` on the
  `PYTHONPATH`, alternating, to compare the two.
"""
