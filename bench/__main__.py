"""``python -m bench``: run the benchmarks and write docs/benchmarks.md."""

import argparse
import json
import logging
import time

from bench import api_create, documents_bench, list_latency, service_create, subject_export
from bench.env import SQLITE, Target, machine_facts, postgres_target, postgres_version, use_database
from bench.notes import NOTES, PREFACE, PROFILING
from bench.report import RESULTS, Section, save, write_doc

ORDER = ["service_create", "api_create", "list_latency", "documents", "subject_export"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=ORDER, default=ORDER, help="benchmarks to run (default: all)")
    parser.add_argument("--creates", type=int, default=5_000, help="contacts per service-layer case (a)")
    parser.add_argument("--requests", type=int, default=3_000, help="POST requests for the API create benchmark (b)")
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts in the table listed by (c)")
    parser.add_argument("--list-requests", type=int, default=300, help="requests per list case (c)")
    parser.add_argument("--activities", type=int, default=10_000, help="activities of the exported contact (subject_export)")
    parser.add_argument("--renders", type=int, default=40, help="PDF renders per case for the documents benchmark")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database (it is wiped; its name must contain 'bench')")
    parser.add_argument("--no-write", action="store_true", help="print the figures, do not update docs/benchmarks.md")
    parser.add_argument("--render", action="store_true", help="only rewrite docs/benchmarks.md from bench/results.json")
    return parser.parse_args()


def run_section(key: str, targets: list[Target], args: argparse.Namespace) -> Section:
    if key == "service_create":
        section = service_create.section(args.creates)
        runs = [lambda t: service_create.run(t, args.creates)]
    elif key == "api_create":
        section = api_create.section(args.requests)
        runs = [lambda t: api_create.run(t, args.requests)]
    elif key == "documents":  # no database: measured once, whatever the targets
        section = documents_bench.section(args.renders)
        runs = [lambda t: documents_bench.run(args.renders)]
        targets = targets[:1]
    elif key == "subject_export":
        section = subject_export.section(args.activities)
        runs = [lambda t: subject_export.run(t, args.activities, 3)]
    else:
        section = list_latency.section(args.contacts, args.list_requests)
        runs = [lambda t: list_latency.run(t, args.contacts, args.list_requests)]
    section.notes = NOTES.get(key, [])
    for target in targets:
        started = time.monotonic()
        for run in runs:
            section.figures.extend(run(target))
        print(f"  {key} on {target.label}: {time.monotonic() - started:.0f} s")
    for f in section.figures:
        print(f"    {f.database:14} {f.case:45} {f.value:10.2f} {f.unit:3} raw {f.baseline:10.2f}  ratio {f.ratio:5.1f}×")
    return section


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    args = parse_args()
    if args.render:
        stored = json.loads(RESULTS.read_text())
        for key, section in stored["sections"].items():
            section["notes"] = NOTES.get(key, [])
        print(f"wrote {write_doc(stored, ORDER, PREFACE, PROFILING)}")
        return
    targets = [SQLITE]
    labels = {"databases": SQLITE.label}
    if args.postgres:
        pg = postgres_target(args.postgres)
        use_database(args.postgres)
        labels["databases"] += f", PostgreSQL {postgres_version()}"
        targets.append(pg)
    machine = machine_facts(labels)
    sections = [run_section(key, targets, args) for key in ORDER if key in args.only]
    if not args.no_write:
        path = write_doc(save(sections, machine), ORDER, PREFACE, PROFILING)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
