"""Reports at scale: ``python -m bench.reports_bench --deals 1000000 [--postgres URL]``.

Seeds a pipeline, 5 teams of 4 reps, N deals with their stage history (about 3.7 rows per
deal), N/5 leads (a tenth converted), N/2 activities and a workflow that acted on 5,000
deals, raw (executemany on SQLite, COPY
on PostgreSQL), then times each report through ``pipewise.analytics`` as an admin and as
a rep (whose queries carry the team-visibility clause), beside the raw SQL of the same
aggregate through the bare driver, in the same run. Prints p50 / p95 per report and the
ratio to the raw query (targets: p95 < 500 ms and at most 1.5× raw)."""

import argparse
import io
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from bench import raw
from bench.env import SQLITE, Target, fresh_database, postgres_target, use_database
from bench.report import percentile
from pipewise import domains
from pipewise.analytics import catalogue, durations, rollups
from pipewise.auth.models import Team, User
from pipewise.auth.visibility import Actor
from pipewise.automation.models import Decision, Enrollment, Workflow, WorkflowVersion
from pipewise.db import migrate
from pipewise.db.session import refresh_statistics, session_scope
from pipewise.deals.defaults import create_pipeline
from pipewise.deals.models import Deal, Pipeline, Stage

CHANGED_DEALS = 20
DEAL_REPORTS = ("pipeline", "deal-flow", "funnel", "velocity", "stage-time")
REPORTS = ("pipeline", "deal-flow", "funnel", "velocity", "stage-time", "activities", "speed-to-lead", "lead-sources", "automation")
ENROLLED = 5_000  # deals a workflow enrolled, for the automation report
SOURCES = ("Web form", "Webinar", "Referral", "Trade show", "Outbound", "Partner")
NOW = datetime.now(UTC).replace(microsecond=0)


def seed_reference() -> tuple[list[uuid.UUID], dict[str, Any], Actor, Actor]:
    """Teams, reps, the pipeline; returns (rep ids, stages by kind, admin, a rep)."""
    with session_scope() as session:
        admin = User(email="admin@bench.example", name="Admin", role="admin")
        session.add(admin)
        reps = []
        for t in range(5):
            team = Team(name=f"Team {t}")
            session.add(team)
            session.flush()
            reps += [User(email=f"rep{t}-{r}@bench.example", name=f"Rep {t}-{r}", role="rep", team_id=team.id) for r in range(4)]
        session.add_all(reps)
        session.flush()
        pipeline, stages = create_pipeline(session)
        stage_info = {"pipeline": pipeline.id, "open": [s.id for s in stages if s.kind == "open"],
                      "won": next(s.id for s in stages if s.kind == "won"), "lost": next(s.id for s in stages if s.kind == "lost")}
        return [r.id for r in reps], stage_info, Actor.for_user(session, admin), Actor.for_user(session, reps[0])


def seeded_reference(url: str, deals: int) -> tuple[list[uuid.UUID], dict[str, Any], Actor, Actor] | None:
    """What ``seed_reference`` returned for a database a previous run seeded with ``deals``
    deals, brought to the newest schema; None when it holds anything else."""
    use_database(url)
    try:
        with session_scope(write=False) as session:
            if session.scalar(select(func.count()).select_from(Deal)) != deals:
                return None
    except DBAPIError:  # no database, or not migrated yet
        return None
    migrate.upgrade()
    analyze(url)  # indexes a newer migration added have no statistics yet
    with session_scope() as session:
        reps = list(session.scalars(select(User).where(User.role == "rep").order_by(User.email)))
        admin = session.scalars(select(User).where(User.role == "admin")).one()
        stages = session.scalars(select(Stage).join(Pipeline).order_by(Stage.position)).all()
        stage_info = {"pipeline": stages[0].pipeline_id, "open": [s.id for s in stages if s.kind == "open"],
                      "won": next(s.id for s in stages if s.kind == "won"), "lost": next(s.id for s in stages if s.kind == "lost")}
        return [r.id for r in reps], stage_info, Actor.for_user(session, admin), Actor.for_user(session, reps[0])


def generate(count: int, reps: list[uuid.UUID], stages: dict[str, Any], rng: random.Random) -> dict[str, list[tuple]]:
    """Rows as Python values, table by table."""
    deals, changes, leads, activities = [], [], [], []
    for n in range(count):
        deal_id = uuid.uuid4()
        created = NOW - timedelta(seconds=rng.randrange(2 * 365 * 86400))
        path = stages["open"][: rng.randint(1, len(stages["open"]))]
        outcome = rng.random()
        closing = stages["won"] if outcome < 0.35 else stages["lost"] if outcome < 0.65 else None
        at = created
        previous = None
        for stage in [*path, *([closing] if closing else [])]:
            changes.append((deal_id, previous, stage, at))
            previous = stage
            at = at + timedelta(seconds=rng.randrange(1, 40 * 86400))
        closed_at = changes[-1][3] if closing else None
        if closed_at and closed_at > NOW:
            closed_at = NOW
            changes[-1] = (*changes[-1][:3], NOW)
        deals.append((deal_id, f"Deal {n}", stages["pipeline"], previous, float(rng.randrange(500, 50000)), "USD",
                      (created + timedelta(days=60)).date(), rng.choice(reps), changes[-1][3], closed_at, created))
        if n % 5 == 0:
            lead_created = created - timedelta(hours=rng.uniform(1, 500))
            touched = lead_created + timedelta(minutes=rng.uniform(1, 3000)) if rng.random() < 0.8 else None
            leads.append((uuid.uuid4(), f"Lead{n}", rng.choice(SOURCES), rng.choice(reps), lead_created, touched,
                          deal_id if n % 10 == 0 else None))
        if n % 2 == 0:
            activities.append((uuid.uuid4(), rng.choice(("call", "email", "meeting", "note")), rng.choice(reps), deal_id,
                               created + timedelta(days=rng.uniform(0, 30))))
    return {"deal": deals, "deal_stage_change": changes, "lead": leads, "activity": activities}


def seed_workflow(author: uuid.UUID) -> None:
    """A workflow (the first rep's) that enrolled deals created in the last year and acted on
    each once or twice: the automation report's exposures. Added once to a reused database."""
    with session_scope() as session:
        if session.scalar(select(func.count()).select_from(Workflow)):
            return
        rng = random.Random(7)
        workflow = Workflow(name="Follow-up", status="active", record_type="deal", created_by=author)
        session.add(workflow)
        session.flush()
        version = WorkflowVersion(workflow_id=workflow.id, number=1, definition={"steps": []}, created_by=author, published_at=NOW)
        session.add(version)
        session.flush()
        workflow.live_version_id = version.id
        picked = session.execute(select(Deal.id, Deal.created_at).where(Deal.created_at >= NOW - timedelta(days=330))
                                 .order_by(Deal.id).limit(ENROLLED)).all()
        enrollments, decisions = [], []
        for deal_id, created in picked:
            enrollment_id, enrolled = uuid.uuid4(), min(created + timedelta(hours=rng.uniform(1, 240)), NOW)
            enrollments.append({"id": enrollment_id, "workflow_id": workflow.id, "version_id": version.id, "record_type": "deal",
                                "record_id": deal_id, "status": "finished", "enrolled_at": enrolled})
            decisions += [{"workflow_id": workflow.id, "version_number": 1, "enrollment_id": enrollment_id, "record_type": "deal",
                           "record_id": deal_id, "kind": "acted", "step_id": f"step-{step}", "message": "acted",
                           "at": min(enrolled + timedelta(days=3 * step), NOW)} for step in range(rng.randint(1, 2))]
        session.execute(insert(Enrollment), enrollments)
        session.execute(insert(Decision), decisions)


COLUMNS = {
    "deal": ("id", "name", "pipeline_id", "stage_id", "amount", "currency", "close_date", "owner_id", "stage_entered_at",
             "closed_at", "created_at", "updated_at", "custom", "amount_from_lines", "version"),
    "deal_stage_change": ("deal_id", "from_stage_id", "to_stage_id", "at"),
    "lead": ("id", "last_name", "source", "owner_id", "created_at", "first_touched_at", "converted_deal_id", "updated_at",
             "status", "lifecycle_stage", "attribution", "consent_state", "score", "fit_score", "engagement_score",
             "score_reasons", "custom", "version"),
    "activity": ("id", "type", "subject", "owner_id", "deal_id", "occurred_at", "created_at", "updated_at", "automated", "custom", "version"),
}


def full_rows(table: str, rows: Iterable[tuple]) -> Iterable[tuple]:
    for r in rows:
        if table == "deal":
            yield (*r[:10], r[10], r[10], "{}", False, 1)
        elif table == "deal_stage_change":
            yield r
        elif table == "lead":
            yield (*r, r[4], "converted" if r[6] else "new", "lead", "{}", "unknown", 0, 0, 0, "[]", "{}", 1)
        else:
            yield (*r[:2], "Logged", *r[2:], r[4], r[4], False, "{}", 1)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def load(url: str, tables: dict[str, list[tuple]]) -> None:
    conn = raw.connect(url)
    for table, rows in tables.items():
        columns = COLUMNS[table]
        names = ", ".join(f'"{c}"' for c in columns)
        if raw.is_sqlite(conn):
            conn.execute("BEGIN")
            conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({raw.placeholders(conn, len(columns))})',
                             ([_sqlite_value(v) for v in row] for row in full_rows(table, rows)))
            conn.execute("COMMIT")
        else:
            with conn.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                buffer = io.StringIO()
                for n, row in enumerate(full_rows(table, rows), 1):
                    buffer.write("\t".join(_copy_value(v) for v in row) + "\n")
                    if n % 50_000 == 0:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
            conn.commit()
    conn.close()
    analyze(url)


def analyze(url: str) -> None:
    """Statistics for the planner. On PostgreSQL, the tables only the people reports read are
    vacuumed too: autovacuum would have set a live table's visibility map, without which
    an index-only scan reads the table after all (a freshly copied table has none)."""
    conn = raw.connect(url)
    if not raw.is_sqlite(conn):
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE activity")
        conn.execute("VACUUM ANALYZE lead")
    conn.execute("ANALYZE")
    conn.close()


# -- the raw SQL of the same aggregates ------------------------------------------------------


def raw_queries(conn: Any, stages: dict[str, Any], rep_team: list[Any]) -> dict[str, Callable[[bool], Any]]:
    """report -> run(as_rep): the hand-written aggregate (the rep's adds the team clause)."""
    sqlite = raw.is_sqlite(conn)
    p = "?" if sqlite else "%s"
    ident = (lambda u: u.hex) if sqlite else (lambda u: u)
    since = _sqlite_value(NOW - timedelta(days=365)) if sqlite else NOW - timedelta(days=365)
    until = _sqlite_value(NOW + timedelta(days=1)) if sqlite else NOW + timedelta(days=1)
    open_ids = [ident(s) for s in stages["open"]]
    won, lost = ident(stages["won"]), ident(stages["lost"])
    team = [ident(u) for u in rep_team]
    month = "strftime('%Y-%m', {})" if sqlite else "to_char(timezone('UTC', {}), 'YYYY-MM')"
    days = "(julianday({1}) - julianday({0}))" if sqlite else "extract(epoch from {1} - {0}) / 86400.0"
    false = "0" if sqlite else "false"  # as the application writes it: NOT x would not match an index on x
    utm = "json_extract(l.attribution, '$.{}')" if sqlite else "l.attribution ->> '{}'"
    greatest, least = ("max", "min") if sqlite else ("greatest", "least")

    def run(sql: str, args: list[Any], as_rep: bool, owner: str = "owner_id") -> Any:
        if as_rep:  # the team clause goes into the outermost (last) WHERE; its arguments come last
            head, _, tail = sql.rpartition("WHERE")
            condition, group, grouping = tail.partition(" GROUP BY")
            sql = f"{head}WHERE {condition} AND ({owner} IS NULL OR {owner} IN ({', '.join([p] * len(team))})){group}{grouping}"
            args = [*args, *team]
        return conn.execute(sql, args).fetchall()

    ins = lambda n: ", ".join([p] * n)  # noqa: E731
    queries = {
        "pipeline": lambda r: run(f"SELECT stage_id, count(*), sum(amount) FROM deal WHERE stage_id IN ({ins(len(open_ids))}) "
                                  f"AND created_at >= {p} AND created_at < {p} GROUP BY stage_id", [*open_ids, since, until], r),
        "deal-flow": lambda r: [run(f"SELECT {month.format(col)}, count(*), sum(amount) FROM deal WHERE {cond} {col} >= {p} AND {col} < {p} "
                                    f"GROUP BY 1", [*args, since, until], r)
                                for col, cond, args in (("created_at", "", []), ("closed_at", f"stage_id = {p} AND", [won]),
                                                        ("closed_at", f"stage_id = {p} AND", [lost]))],
        "funnel": lambda r: run(
            f"SELECT coalesce(f.position, 0), d.stage_id, count(*), sum(d.amount) FROM deal d LEFT JOIN "
            f"(SELECT c.deal_id, max(s.position) AS position FROM deal_stage_change c JOIN stage s ON s.id = c.to_stage_id "
            f"WHERE s.kind = 'open' AND c.deal_id IN (SELECT id FROM deal WHERE pipeline_id = {p} AND created_at >= {p} AND created_at < {p}) "
            f"GROUP BY c.deal_id) f ON f.deal_id = d.id WHERE d.pipeline_id = {p} AND d.created_at >= {p} AND d.created_at < {p} GROUP BY 1, 2",
            [ident(stages["pipeline"]), since, until, ident(stages["pipeline"]), since, until], r, owner="d.owner_id"),
        "velocity": lambda r: [
            run(f"SELECT owner_id, count(*) FROM deal WHERE stage_id IN ({ins(len(open_ids))}) AND created_at < {p} GROUP BY owner_id",
                [*open_ids, until], r),
            *(run(f"SELECT owner_id, count(*), sum(amount), sum({days.format('created_at', 'closed_at')}) FROM deal "
                  f"WHERE stage_id = {p} AND closed_at >= {p} AND closed_at < {p} GROUP BY owner_id", [k, since, until], r)
              for k in (won, lost))],
        "stage-time": lambda r: run(
            f"SELECT stage_id, {days.format('entered', 'left_at')} FROM (SELECT to_stage_id AS stage_id, at AS entered, "
            f"lead(at) OVER (PARTITION BY deal_id ORDER BY at, id) AS left_at FROM deal_stage_change WHERE deal_id IN "
            f"(SELECT id FROM deal WHERE 1 = 1)) s WHERE left_at >= {p} AND left_at < {p}", [since, until], False)
        if not r else run(
            f"SELECT stage_id, {days.format('entered', 'left_at')} FROM (SELECT to_stage_id AS stage_id, at AS entered, "
            f"lead(at) OVER (PARTITION BY deal_id ORDER BY at, id) AS left_at FROM deal_stage_change WHERE deal_id IN "
            f"(SELECT id FROM deal WHERE owner_id IS NULL OR owner_id IN ({ins(len(team))}))) s WHERE left_at >= {p} AND left_at < {p}",
            [*team, since, until], False),
        "activities": lambda r: [
            run(f"SELECT owner_id, type, count(*) FROM activity WHERE occurred_at >= {p} AND occurred_at < {p} "
                f"GROUP BY owner_id, type", [since, until], r),
            *(run(f"SELECT s.kind, {grouping} FROM activity a JOIN deal d ON d.id = a.deal_id JOIN stage s ON s.id = d.stage_id "
                  f"WHERE a.occurred_at >= {p} AND a.occurred_at < {p} GROUP BY s.kind{extra}", [since, until], r, owner="a.owner_id")
              for grouping, extra in (("a.type, count(*), count(DISTINCT a.deal_id)", ", a.type"), ("count(DISTINCT a.deal_id)", "")))],
        "speed-to-lead": lambda r: run(
            f"SELECT source, owner_id, created_at, coalesce(first_touched_at, (SELECT min(a.occurred_at) FROM activity a "
            f"WHERE a.lead_id = lead.id AND a.automated = {false})) FROM lead WHERE created_at >= {p} AND created_at < {p}", [since, until], r),
        "lead-sources": lambda r: run(
            f"SELECT l.source, {utm.format('utm_source')}, {utm.format('utm_campaign')}, count(l.id), count(d.id), "
            f"sum(CASE WHEN s.kind = 'open' THEN d.amount END), count(CASE WHEN s.kind = 'won' THEN d.amount END), "
            f"sum(CASE WHEN s.kind = 'won' THEN d.amount END) FROM lead l "
            f"LEFT JOIN deal d ON d.id = l.converted_deal_id LEFT JOIN stage s ON s.id = d.stage_id "
            f"WHERE l.created_at >= {p} AND l.created_at < {p} GROUP BY 1, 2, 3", [since, until], r, owner="l.owner_id"),
        "automation": lambda r: [  # forward moves, open deal-days, won cycles and revenue, the workflow's touched deals
            run(f"SELECT count(*) FROM deal_stage_change c JOIN stage b ON b.id = c.from_stage_id JOIN stage a ON a.id = c.to_stage_id"
                f"{' JOIN deal d ON d.id = c.deal_id' if r else ''} WHERE a.kind <> 'lost' AND (a.kind = 'won' OR a.position > b.position) "
                f"AND c.at >= {p} AND c.at < {p}", [since, until], r, owner="d.owner_id"),
            run(f"SELECT sum({days.format(f'{greatest}(created_at, {p})', f'{least}(coalesce(closed_at, {p}), {p})')}) FROM deal "
                f"WHERE created_at < {p} AND (closed_at IS NULL OR closed_at >= {p})", [since, until, until, until, since], r),
            run(f"SELECT {days.format('created_at', 'closed_at')}, amount FROM deal WHERE stage_id = {p} AND closed_at >= {p} "
                f"AND closed_at < {p}", [won, since, until], r),
            run(f"SELECT e.record_id, d.created_at, d.closed_at, d.amount, c.at FROM workflow_enrollment e "
                f"JOIN automation_decision c ON c.enrollment_id = e.id JOIN deal d ON d.id = e.record_id "
                f"WHERE c.kind = 'acted' AND e.enrolled_at >= {p} AND e.enrolled_at < {p}", [since, until], r, owner="d.owner_id")],
    }
    return queries


def timed(fn: Callable[[], Any], samples: int) -> list[float]:
    fn()  # warm the caches once
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def run(target: Target, deals: int, samples: int, seed: int, only: Iterable[str] = REPORTS, reuse: bool = False) -> None:
    domains.load()
    # A reused SQLite database is kept past the run, outside the run's own directory.
    url = f"sqlite:///{tempfile.gettempdir()}/pipewise-bench-reports-{deals}.db" if reuse and target.is_sqlite else target.url("reports")
    reference = seeded_reference(url, deals) if reuse else None
    rng = random.Random(seed)
    if reference is not None:
        reps, stages, admin, rep = reference
        print(f"\n{target.label}: {deals:,} deals, as a previous run seeded them")
    else:
        url = fresh_database(target, "reports", url)
        reps, stages, admin, rep = seed_reference()
        started = time.perf_counter()
        tables = generate(deals, reps, stages, rng)
        load(url, tables)
        print(f"\n{target.label}: {deals:,} deals, {len(tables['deal_stage_change']):,} stage changes, {len(tables['lead']):,} leads, "
              f"{len(tables['activity']):,} activities seeded in {time.perf_counter() - started:.0f} s")
        del tables
    seed_workflow(reps[0])
    started = time.perf_counter()
    with session_scope() as session:
        days = rollups.refresh(session)
    print(f"per-day sums and histograms computed in {time.perf_counter() - started:.1f} s ({days:,} changed-day notes)")
    settle(url)
    conn = raw.connect(url)
    baselines = raw_queries(conn, stages, reps[:4])
    print(f"{'report':<15} {'who':<6} {'p50 ms':>9} {'p95 ms':>9} {'raw p95':>9} {'ratio':>6}")
    for slug in only:
        for who, actor in (("admin", admin), ("rep", rep)):
            time_report(slug, who, actor, samples, lambda: baselines[slug](who == "rep"))
    changed = change_deals(conn, CHANGED_DEALS, rng)
    print(f"\n{CHANGED_DEALS} deals changed ({changed} days noted), not yet stored: the reports read those days from the deals")
    for slug in (s for s in only if s in DEAL_REPORTS):
        time_report(slug, "admin", admin, samples, lambda: baselines[slug](False))
    started = time.perf_counter()
    with session_scope() as session:
        rollups.refresh(session)
    print(f"the worker's refresh of those days: {(time.perf_counter() - started) * 1000:.0f} ms")
    settle(url)
    print("once stored again:")
    for slug in (s for s in only if s in DEAL_REPORTS):
        time_report(slug, "admin", admin, samples, lambda: baselines[slug](False))
    if "stage-time" in only:
        print_approximation(admin)
    conn.close()


def settle(url: str) -> None:
    """What keeps the planner informed in use: on PostgreSQL, autovacuum (this server runs
    with it off) clearing the notes the refresh deleted; on SQLite, the statistics the
    worker refreshes every hour."""
    conn = raw.connect(url)
    if not raw.is_sqlite(conn):
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE report_stale_day, report_deal_day, report_duration_day")
    conn.close()
    refresh_statistics()


def time_report(slug: str, who: str, actor: Actor, samples: int, baseline: Callable[[], Any]) -> None:
    def report() -> None:
        with session_scope(write=False) as session:
            catalogue.run(session, slug, {}, actor=actor)

    ours = timed(report, samples)
    theirs = timed(baseline, samples)
    p95, raw95 = percentile(ours, 95), percentile(theirs, 95)
    print(f"{slug:<15} {who:<6} {percentile(ours, 50):>9.1f} {p95:>9.1f} {raw95:>9.1f} {p95 / raw95:>6.2f}", flush=True)


def change_deals(conn: Any, count: int, rng: random.Random) -> int:
    """Move ``count`` random deals' amounts, as edits do; returns the days noted."""
    p = "?" if raw.is_sqlite(conn) else "%s"
    ids = [row[0] for row in conn.execute("SELECT id FROM deal ORDER BY id LIMIT 1000").fetchall()]
    for deal_id in rng.sample(ids, count):
        conn.execute(f"UPDATE deal SET amount = amount + 1 WHERE id = {p}", [deal_id])
    conn.commit()
    return conn.execute("SELECT count(DISTINCT day) FROM report_stale_day").fetchone()[0]


def print_approximation(admin: Actor) -> None:
    """How far the histogram percentiles are from the exact ones, on these deals."""
    def stage_time(exact_up_to: int) -> dict[str, Any]:
        durations.EXACT_UP_TO = exact_up_to
        with session_scope(write=False) as session:
            return catalogue.run_json(session, "stage-time", {}, actor=admin)

    default = durations.EXACT_UP_TO
    approximate, exact = stage_time(default), stage_time(10**12)
    durations.EXACT_UP_TO = default
    errors = []
    for table, want_table in zip(approximate["tables"], exact["tables"], strict=True):
        for got, want in zip(table["rows"], want_table["rows"], strict=True):
            errors += [abs(got[c] - want[c]) / want[c] for c in ("median_days", "p90_days") if want[c]]
    print(f"approximate percentiles ({'said so' if approximate['note'] else 'exact'}): largest error {max(errors, default=0):.3%}, "
          f"mean {sum(errors) / max(len(errors), 1):.3%} over {len(errors)} figures")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports_bench", description=__doc__)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=10, help="timed runs per report and person (after one warm-up)")
    parser.add_argument("--postgres", metavar="URL",
                        help="also run on this PostgreSQL database (it is wiped; its name must contain 'bench')")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=REPORTS, default=REPORTS, help="reports to time (default: all)")
    parser.add_argument("--reuse", action="store_true",
                        help="time on the database an earlier --reuse run seeded with as many deals (migrated to the newest schema), "
                             "else seed it and keep it (SQLite's in the temporary directory)")
    args = parser.parse_args()
    targets = ([] if args.no_sqlite else [SQLITE]) + ([postgres_target(args.postgres)] if args.postgres else [])
    for target in targets:
        run(target, args.deals, args.samples, args.seed, args.only, args.reuse)


if __name__ == "__main__":
    main()
