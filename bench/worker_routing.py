"""One worker routing leads, alone on the machine: unowned leads are created through the
lead service by a person (so the worker routes each), then one worker drains them in its
batches of 200 — keys, fuzzy check, score, routing, the owner's notification and task,
all committed — timed per lead in wall and CPU time, beside the creates of the same leads
in the same run (one transaction each) as the baseline. Rounds alternate the two.

    python -m bench.worker_routing [--leads 2000] [--rounds 3] [--postgres URL]

The CPU column counts this process only; on PostgreSQL the server's own work is in the
wall column, not the CPU one."""

import argparse
import gc
import time

from bench.env import SQLITE, Target, fresh_database, postgres_target


def _round(target: Target, leads: int) -> tuple[float, float, float, float]:
    """(create wall, create CPU, worker wall, worker CPU), in ms per lead."""
    from pipewise.db.session import session_scope
    from pipewise.leads.service import lead_service
    from pipewise.worker.runner import Worker

    from bench.leads_bench import _bench_people, _Creates

    fresh_database(target, "worker_routing")
    people = _bench_people()
    make = _Creates(0, seed=1)

    def create(count: int) -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            with session_scope() as s:
                lead_service.create(s, data=make(owned=False), actor=people.admin.actor)
        return (time.perf_counter() - started) / count * 1000, (time.process_time() - cpu) / count * 1000

    create(300)  # warm-up: imports, statement caches, a first batch routed
    Worker(name="warm-up").run_until_idle()
    create_wall, create_cpu = create(leads)
    gc.freeze()  # as `pipewise worker` does after start-up
    started, cpu = time.perf_counter(), time.process_time()
    Worker(name="bench", batch_size=200).run_until_idle()
    worker_wall, worker_cpu = (time.perf_counter() - started) / leads * 1000, (time.process_time() - cpu) / leads * 1000
    gc.unfreeze()
    return create_wall, create_cpu, worker_wall, worker_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose database name contains 'bench' (it is wiped)")
    args = parser.parse_args()
    targets = [SQLITE] + ([postgres_target(args.postgres)] if args.postgres else [])
    print("| database | round | create, ms/lead (wall / CPU) | worker, ms/lead (wall / CPU) | routed leads/s, one worker |")
    print("|---|---:|---:|---:|---:|")
    for target in targets:
        for n in range(1, args.rounds + 1):
            create_wall, create_cpu, worker_wall, worker_cpu = _round(target, args.leads)
            print(f"| {target.label} | {n} | {create_wall:.2f} / {create_cpu:.2f} | {worker_wall:.2f} / {worker_cpu:.2f} "
                  f"| {1000 / worker_wall:,.0f} |")


if __name__ == "__main__":
    main()
