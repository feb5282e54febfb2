"""Sequence benchmarks: sending, and the guards at 100,000 enrolled contacts.

    python -m bench.sequences_bench send [--url URL] [--messages 2000] [--workers 1,2]
    python -m bench.sequences_bench guards [--url URL] [--sizes 1000,100000] [--samples 1000] [--sends 300]

``send``: sequence e-mails per second to an SMTP server on loopback (aiosmtpd in this
process), drained by one and by two worker processes. Every message takes the whole path:
the step's timer, the guards, the template, the ledger row, the exactly-once walk
queued → sending → committing → sent, the activity and event, the next step. Baselines in
the same run: the same MIME messages sent with bare smtplib over one connection, and that
plus the three ledger commits per message through the bare driver (the floor of an
exactly-once send).

``guards``: contacts with live enrollments are bulk-inserted with a sending history
(one e-mail sent and its activity each, old manual calls, open deals at some accounts),
then the guard check of one enrollment is timed (median and p99, and statements per
check) beside the bare indexed lookups the guards need, through the bare driver; then
the whole send path per message, with that many enrollments in the tables.

Without ``--url`` each runs on a fresh SQLite database; with it, on that PostgreSQL
database, which is wiped (its name must contain 'bench'). Prints Markdown tables."""

import argparse
import multiprocessing
import os
import random
import re
import smtplib
import socket
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.engine import Engine

from bench.env import SQLITE, Target, fresh_database, postgres_target, use_database
from bench.raw import begin, connect, is_sqlite
from bench.report import percentile

REPS = 20
CONTACTS_PER_ACCOUNT = 10
CHUNK = 5_000
MESSAGE_ID = re.compile(rb"^Message-ID: *(<[^>]+>)", re.IGNORECASE | re.MULTILINE)
BODY = (
    "<p>Hi {{ contact.first_name | default('there') }},</p><p>Teams like {{ account.name | default('yours') }} "
    "use us to cut their month-end close in half. Worth a look? <a href=\"https://example.com/tour\">Take the tour</a></p>"
)


class CountingHandler:
    """Accepts every message and counts its Message-ID (no parsing: the server shares the
    bench's cores with the workers)."""

    def __init__(self) -> None:
        self.ids: Counter[bytes] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.ids[found.group(1) if found else b"?"] += 1
        return "250 OK"

    def total(self) -> int:
        with self.lock:
            return sum(self.ids.values())


class SmtpSink:
    def __init__(self) -> None:
        self.handler = CountingHandler()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def environment(self) -> dict[str, str]:
        # A long lease keeps each message's safety-net delivery timer from coming due inside
        # the measurement (it finds the message sent and does nothing, later).
        return {"PIPEWISE_SMTP_HOST": "127.0.0.1", "PIPEWISE_SMTP_PORT": str(self.port), "PIPEWISE_SMTP_SECURITY": "none",
                "PIPEWISE_SEND_LEASE_SECONDS": "3600"}


def point_mail_at(sink: SmtpSink) -> None:
    from pipewise.mail.settings import get_mail_settings

    os.environ.update(sink.environment())
    get_mail_settings.cache_clear()


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


# -- the data: reps with mailboxes, a sequence, contacts enrolled in bulk --


@dataclass
class World:
    sequence_id: uuid.UUID
    steps: list[uuid.UUID]
    variants: list[uuid.UUID]
    reps: list[uuid.UUID]
    first_stage_id: uuid.UUID
    pipeline_id: uuid.UUID


def build_world(*, steps: int) -> World:
    """Reps, their mailboxes, a pipeline and a live sequence, through the real services."""
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.db.session import session_scope
    from pipewise.deals.defaults import create_pipeline
    from pipewise.mail.models import Mailbox
    from pipewise.people.service import user_service
    from pipewise.sequences.models import StepVariant
    from pipewise.sequences.service import sequence_service

    with session_scope() as session:
        reps = []
        for n in range(REPS):
            user = user_service.create(session, data={"email": f"rep{n}@bench.example", "name": f"Rep {n}"}, actor=SYSTEM_ACTOR)
            session.flush()
            session.add(Mailbox(user_id=user.id, from_name=user.name, from_address=user.email, daily_cap=10_000,
                                send_days=list(range(7)), send_start_hour=0, send_end_hour=24))
            reps.append(user.id)
        pipeline, stages = create_pipeline(session, name="Bench")
        step_data = [{"kind": "auto_email", "delay_days": 2, "business_days": False, "thread": n > 0,
                      "variants": [{"label": "A", "subject": "" if n else "Month-end, {{ contact.first_name | default('there') }}",
                                    "body_html": BODY}]} for n in range(steps)]
        sequence = sequence_service.create(session, data={"name": "Bench nurture", "steps": step_data,
                                                          "rules": {"account_daily_cap": 1000}}, actor=SYSTEM_ACTOR)
        sequence_service.activate(session, sequence.id, actor=SYSTEM_ACTOR)
        session.flush()
        step_ids = [s.id for s in sequence_service.steps(session, sequence.id)]
        variants = [session.scalar(select(StepVariant.id).where(StepVariant.step_id == s)) for s in step_ids]
        return World(sequence.id, step_ids, variants, reps, stages[0].id, pipeline.id)


def add_contacts(world: World, start: int, count: int, *, history: bool, due: bool) -> None:
    """``count`` contacts (ten to an account), each actively enrolled, with Core inserts.
    ``history``: step 1 went out three days ago (ledger row and activity) and step 2 is due
    in a month; else step 1 is due now (``due``) or in a month."""
    from pipewise.crm.models import Account, Activity, Contact
    from pipewise.db.base import uuid7
    from pipewise.db.session import session_scope
    from pipewise.deals.models import Deal
    from pipewise.events.models import ScheduledAction
    from pipewise.mail.models import EmailMessage
    from pipewise.sequences.models import Enrollment

    now = datetime.now(UTC)
    later, sent_at = now + timedelta(days=30), now - timedelta(days=3)
    for offset in range(start, start + count, CHUNK):
        rows: dict[Any, list[dict[str, Any]]] = {t: [] for t in (Account, Contact, Deal, Enrollment, ScheduledAction, EmailMessage, Activity)}
        for n in range(offset, min(offset + CHUNK, start + count)):
            stamp = {"created_at": now - timedelta(days=40), "updated_at": now}
            rep = world.reps[n % REPS]
            if n % CONTACTS_PER_ACCOUNT == 0:
                account_id = uuid7()
                rows[Account].append({"id": account_id, "name": f"Firm {n // CONTACTS_PER_ACCOUNT}", "custom": {},
                                      "domain": f"firm{n // CONTACTS_PER_ACCOUNT}.example", "owner_id": rep, **stamp})
                if n % (CONTACTS_PER_ACCOUNT * 20) == 0:  # an open deal, still at the first stage, at one account in 20
                    rows[Deal].append({"id": uuid7(), "name": f"Deal {n}", "pipeline_id": world.pipeline_id, "currency": "USD",
                                       "stage_id": world.first_stage_id, "account_id": account_id, "owner_id": rep,
                                       "stage_entered_at": stamp["created_at"], "custom": {}, **stamp})
            contact_id, enrollment_id, address = uuid7(), uuid7(), f"pat{n}@firm{n // CONTACTS_PER_ACCOUNT}.example"
            rows[Contact].append({"id": contact_id, "first_name": f"Pat{n}", "last_name": "Bench", "email": address,
                                  "owner_id": rep, "account_id": account_id, "lifecycle_stage": "lead",
                                  "consent_state": "unknown", "custom": {}, **stamp})
            step = 1 if history else 0
            run_at = now if due else later
            rows[Enrollment].append({"id": enrollment_id, "sequence_id": world.sequence_id, "contact_id": contact_id,
                                     "account_id": account_id, "sender_id": rep, "status": "active",
                                     "next_step_id": world.steps[step], "next_run_at": run_at, "schedule_version": 1,
                                     "enrolled_at": now - timedelta(days=10), "signals_after": now - timedelta(days=17),
                                     "last_touch_at": sent_at if history else None, **stamp})
            rows[ScheduledAction].append({"key": f"seq:{enrollment_id}:{world.steps[step]}:1", "kind": "sequence.step",
                                          "run_at": run_at, "status": "pending", "created_at": now,
                                          "payload": {"enrollment_id": str(enrollment_id), "step_id": str(world.steps[step]), "version": 1}})
            if n % 50 == 0:  # a call logged by hand long before the enrollment
                rows[Activity].append({"id": uuid7(), "type": "call", "subject": "Intro call", "occurred_at": stamp["created_at"],
                                       "owner_id": rep, "contact_id": contact_id, "account_id": account_id, "automated": False,
                                       "custom": {}, **stamp})
            if history:
                message_id = f"<seq.{enrollment_id.hex}.{world.steps[0].hex}@bench.example>"
                rows[EmailMessage].append({"id": uuid7(), "message_id": message_id, "direction": "outbound", "kind": "sequence",
                                           "status": "sent", "enrollment_id": enrollment_id, "step_id": world.steps[0],
                                           "variant_id": world.variants[0], "contact_id": contact_id, "account_id": account_id,
                                           "sender_id": rep, "from_address": f"rep{n % REPS}@bench.example", "to_address": address,
                                           "subject": f"Month-end, Pat{n}", "body_text": "Hi", "automated": True, "attempts": 1,
                                           "open_count": 0, "click_count": 0, "sent_at": sent_at, "created_at": sent_at,
                                           "updated_at": sent_at})
                rows[Activity].append({"id": uuid7(), "type": "email", "direction": "outbound", "subject": f"Sent: Month-end, Pat{n}",
                                       "occurred_at": sent_at, "owner_id": rep, "contact_id": contact_id, "account_id": account_id,
                                       "automated": True, "custom": {}, "created_at": sent_at, "updated_at": sent_at})
        with session_scope() as session:
            for table, values in rows.items():
                if values:
                    session.execute(insert(table), values)


def analyze() -> None:
    from pipewise.db.session import get_engine, refresh_statistics

    refresh_statistics()
    if not get_engine().dialect.name == "sqlite":
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


# -- a. sends per second --


def _drain(url: str, smtp_env: dict[str, str], name: str, ready: Any, go: Any) -> None:
    use_database(url)
    os.environ.update(smtp_env)
    from pipewise import domains
    from pipewise.mail.settings import get_mail_settings
    from pipewise.worker.runner import Worker

    get_mail_settings.cache_clear()
    domains.load()
    worker = Worker(name=name)
    ready.set()
    go.wait()
    worker.run_until_idle()


def _run_workers(url: str, sink: SmtpSink, workers: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    readies = [ctx.Event() for _ in range(workers)]
    processes = [ctx.Process(target=_drain, args=(url, sink.environment(), f"bench-{n}", readies[n], go)) for n in range(workers)]
    for process in processes:
        process.start()
    for ready in readies:
        ready.wait(120)
    started = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
    return time.perf_counter() - started


def _ledger_mail() -> list[tuple[uuid.UUID, str, str, bytes]]:
    """The messages the run sent, as MIME again: (row id, from, to, bytes)."""
    from pipewise.db.session import session_scope
    from pipewise.mail.models import EmailMessage
    from pipewise.mail.transport import OutgoingMail, build_mime

    with session_scope(write=False) as session:
        rows = session.scalars(select(EmailMessage).where(EmailMessage.status == "sent")).all()
        return [(m.id, m.from_address, m.to_address, build_mime(OutgoingMail(
            message_id=m.message_id, from_name="Rep", from_address=m.from_address, to_name="Pat", to_address=m.to_address,
            subject=m.subject, html=m.body_html or "", text=m.body_text or "", sent_at=m.sent_at or datetime.now(UTC))))
            for m in rows]


def _raw_smtp(port: int, mail: list[tuple[uuid.UUID, str, str, bytes]]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _id, sender, recipient, data in mail:
            smtp.sendmail(sender, [recipient], data)
    return time.perf_counter() - started


def _raw_exactly_once(url: str, port: int, mail: list[tuple[uuid.UUID, str, str, bytes]]) -> float:
    """SMTP over one connection plus the three committed ledger updates per message."""
    from pipewise.mail.transport import dot_stuff

    conn = connect(url)
    mark = "?" if is_sqlite(conn) else "%s"
    sql = f"UPDATE email_message SET status = {mark} WHERE id = {mark}"

    def walk(status: str, row_id: uuid.UUID) -> None:
        begin(conn)
        conn.execute(sql, (status, row_id.hex if is_sqlite(conn) else row_id))
        if is_sqlite(conn):
            conn.execute("COMMIT")
        else:
            conn.commit()

    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        for row_id, sender, recipient, data in mail:
            walk("sending", row_id)
            smtp.mail(sender)
            smtp.rcpt(recipient)
            smtp.docmd("DATA")
            smtp.send(dot_stuff(data))
            walk("committing", row_id)
            smtp.send(b".\r\n")
            smtp.getreply()
            walk("sent", row_id)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def send(target: Target, messages: int, worker_counts: list[int]) -> None:
    print("| database | workers | messages | seconds | sends/s | baseline | baseline sends/s |")
    print("|---|---:|---:|---:|---:|---|---:|")
    with SmtpSink() as sink:
        for workers in worker_counts:
            url = fresh_database(target, "sequences_send")
            world = build_world(steps=2)
            add_contacts(world, 0, messages, history=False, due=True)
            analyze()
            elapsed = _run_workers(url, sink, workers)
            received = sink.handler.ids
            duplicates = sum(c - 1 for c in received.values() if c > 1)
            if len(received) != messages or duplicates:
                raise SystemExit(f"expected {messages} distinct messages, got {len(received)} ({duplicates} duplicates)")
            print(f"| {target.label} | {workers} | {messages:,} | {elapsed:.1f} | **{messages / elapsed:,.0f}** | | |", flush=True)
            received.clear()
        mail = _ledger_mail()
        raw = _raw_smtp(sink.port, mail)
        print(f"| {target.label} | | {len(mail):,} | {raw:.1f} | | bare smtplib, one connection | {len(mail) / raw:,.0f} |")
        floor = _raw_exactly_once(url, sink.port, mail)
        print(f"| {target.label} | | {len(mail):,} | {floor:.1f} | | + three ledger commits each, bare driver | {len(mail) / floor:,.0f} |")


# -- b. the guards with many enrollments --


def _sample(session: Any, k: int) -> list[uuid.UUID]:
    from pipewise.sequences.models import Enrollment

    live = session.scalars(select(Enrollment.id).where(Enrollment.status == "active", Enrollment.next_run_at > datetime.now(UTC))).all()
    return random.Random(k).sample(list(live), min(k, len(live)))


def _time_guards(ids: list[uuid.UUID], counter: StatementCounter) -> tuple[list[float], float]:
    from pipewise.db.session import session_scope
    from pipewise.sequences import guards
    from pipewise.sequences.models import Enrollment

    times, statements = [], 0
    now = datetime.now(UTC)
    for enrollment_id in ids:
        with session_scope(write=False) as session:
            enrollment = session.get(Enrollment, enrollment_id)
            before = counter.count
            started = time.perf_counter()
            verdict = guards.evaluate(session, enrollment, now=now, sending=True)
            times.append((time.perf_counter() - started) * 1e6)
            statements += counter.count - before
            if not verdict.clear:
                raise SystemExit(f"unexpected verdict {verdict}")
    return times, statements / len(ids)


RAW_LOOKUPS = (
    "SELECT email, consent_state, account_id, timezone FROM contact WHERE id = :contact",
    "SELECT rules FROM sequence WHERE id = :sequence",
    "SELECT daily_cap, send_days, send_start_hour, send_end_hour FROM mailbox WHERE user_id = :sender",
    "SELECT reason FROM suppression WHERE address = :address",
    "SELECT type, direction, automated, occurred_at FROM activity WHERE contact_id = :contact AND created_at >= :since "
    "AND type IN ('email', 'call', 'meeting') ORDER BY created_at DESC LIMIT 10",
    "SELECT deal_id FROM deal_contact WHERE contact_id = :contact UNION SELECT id FROM deal WHERE account_id = :account",
    "SELECT id FROM activity WHERE account_id = :account AND contact_id <> :contact AND created_at >= :since "
    "AND (type = 'meeting' OR (type = 'email' AND direction = 'inbound' AND NOT automated)) LIMIT 1",
    "SELECT max(created_at) FROM email_message WHERE contact_id = :contact AND direction = 'inbound' "
    "AND kind = 'auto_reply' AND created_at >= :since",
    "SELECT count(*) FROM email_message WHERE sender_id = :sender AND direction = 'outbound' AND automated "
    "AND created_at > :day AND status IN ('queued', 'sending', 'committing', 'sent', 'bounced')",
    "SELECT count(*) FROM email_message WHERE account_id = :account AND direction = 'outbound' AND automated "
    "AND created_at > :day AND status IN ('queued', 'sending', 'committing', 'sent', 'bounced')",
)


def _time_raw_lookups(url: str, ids: list[uuid.UUID]) -> list[float]:
    """The same lookups, written once in SQL, through the bare driver."""
    from pipewise.db.session import session_scope
    from pipewise.sequences.models import Enrollment

    with session_scope(write=False) as session:
        rows = session.execute(select(Enrollment).where(Enrollment.id.in_(ids))).scalars().all()
        targets = [(e.contact_id, e.account_id, e.sender_id, e.sequence_id, e.signals_after) for e in rows]
    conn = connect(url)
    sqlite = is_sqlite(conn)
    statements = [(q if sqlite else re.sub(r":(\w+)", r"%(\1)s", q), set(re.findall(r":(\w+)", q))) for q in RAW_LOOKUPS]

    def value(v: Any) -> Any:
        if sqlite and isinstance(v, uuid.UUID):
            return v.hex
        if sqlite and isinstance(v, datetime):
            return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return v

    times = []
    day = datetime.now(UTC) - timedelta(days=1)
    for contact, account, sender, sequence, since in targets:
        address = conn.execute(statements[0][0], {"contact": value(contact)}).fetchone()[0]
        params = {k: value(v) for k, v in {"contact": contact, "account": account, "sender": sender, "sequence": sequence,
                                            "since": since, "day": day, "address": address}.items()}
        started = time.perf_counter()
        for sql, names in statements:
            conn.execute(sql, {k: params[k] for k in names}).fetchall()
        if not sqlite:
            conn.rollback()
        times.append((time.perf_counter() - started) * 1e6)
    conn.close()
    return times


def _send_path(world: World, ids: list[uuid.UUID], counter: StatementCounter, sink: SmtpSink) -> tuple[float, float]:
    """Make the next step of ``ids`` due now and let a worker in this process send them."""
    from pipewise.db.session import session_scope
    from pipewise.events.models import ScheduledAction
    from pipewise.worker.runner import Worker

    now = datetime.now(UTC) - timedelta(seconds=1)
    with session_scope() as session:
        keys = [f"seq:{enrollment_id}:{world.steps[1]}:1" for enrollment_id in ids]
        session.execute(update(ScheduledAction).where(ScheduledAction.key.in_(keys)).values(run_at=now))
    before, received = counter.count, sink.handler.total()
    started = time.perf_counter()
    Worker(name="bench").run_until_idle()
    elapsed = time.perf_counter() - started
    sent = sink.handler.total() - received
    if sent != len(ids):
        print(f"({len(ids) - sent} of {len(ids)} due steps were held by a guard, not sent)")
    return elapsed * 1000 / max(sent, 1), (counter.count - before) / max(sent, 1)


def guards(target: Target, sizes: list[int], samples: int, sends: int) -> None:
    from pipewise import domains
    from pipewise.db.session import session_scope

    url = fresh_database(target, "sequences_guards")
    domains.load()
    world = build_world(steps=3)
    counter = StatementCounter()
    print("| database | enrolled | guard check p50 / p99 (µs) | statements | bare lookups p50 / p99 (µs) | statements "
          "| whole send path per message (ms) | statements |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    have = 0
    with SmtpSink() as sink:
        point_mail_at(sink)
        for size in sizes:
            add_contacts(world, have, size - have, history=True, due=False)
            have = size
            analyze()
            with session_scope(write=False) as session:
                ids = _sample(session, samples + sends)
            checked, statements = _time_guards(ids[:samples], counter)
            raw = _time_raw_lookups(url, ids[:samples])
            per_message, send_statements = _send_path(world, ids[samples:], counter, sink)
            print(f"| {target.label} | {size:,} | {statistics.median(checked):,.0f} / {percentile(checked, 99):,.0f} | {statements:.0f} "
                  f"| {statistics.median(raw):,.0f} / {percentile(raw, 99):,.0f} | {len(RAW_LOOKUPS)} "
                  f"| {per_message:.1f} | {send_statements:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("send", "guards"))
    parser.add_argument("--url", help="PostgreSQL URL of a database whose name contains 'bench' (default: SQLite)")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--sends", type=int, default=300)
    args = parser.parse_args()
    target = postgres_target(args.url) if args.url else SQLITE
    if args.what == "send":
        send(target, args.messages, [int(w) for w in args.workers.split(",")])
    else:
        guards(target, [int(s) for s in args.sizes.split(",")], args.samples, args.sends)


if __name__ == "__main__":
    main()
