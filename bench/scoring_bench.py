"""The predictive lead score beside a tuned gradient-boosting baseline of the same features.

    python -m bench.scoring_bench [--seeds 0 1 2] [--only NAME ...]

For each data set: both models trained on the same stratified 75 % and scored on the
other 25 % (``pipewise.scoring.comparison``): Pipewise's model (candidates compared by
3-fold CV inside the training rows, the best one Platt-calibrated) and scikit-learn's
``HistGradientBoostingClassifier`` with its grid searched by 3-fold CV. Printed per seed:
both held-out ROC AUCs, the difference with its paired-bootstrap standard error, and the
candidate Pipewise chose; then the mean over the seeds. The figures in docs/scoring.md and
docs/benchmarks.md come from this command.

Data sets (all real, none downloaded at run time): the X Education leads (the project's
shared data, leaky columns left out), the CoIL 2000 caravan-insurance customers and the
telecom churn customers (tests/data, see its README for provenance and licences)."""

import argparse
import csv
import statistics
import time
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from pipewise.scoring.comparison import compare
from pipewise.scoring.schema import infer_schema

ROOT = Path(__file__).resolve().parents[1]
TESTS_DATA = ROOT / "tests" / "data"
SHARED = ROOT.parent / "shared" / "data"
LEAKY_XEDUCATION = ("Tags", "Lead Quality", "Lead Profile", "Asymmetrique Activity Index", "Asymmetrique Profile Index",
                    "Asymmetrique Activity Score", "Asymmetrique Profile Score", "Last Notable Activity")
# name -> (file, label column, positive value, columns left out)
DATA_SETS: dict[str, tuple[Path, str, str, tuple[str, ...]]] = {
    "x-education": (Path("leads_xeducation") / "leads.csv", "Converted", "1", LEAKY_XEDUCATION),
    "caravan": (TESTS_DATA / "caravan.csv", "Purchase", "Yes", ()),
    "telecom-churn": (TESTS_DATA / "telecom_churn.csv", "churn", "Yes", ()),
}


def load(path: Path, label: str, positive: str, exclude: tuple[str, ...]) -> tuple[list[dict[str, str]], list[int], Any]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        columns = list(reader.fieldnames or [])
    y = [1 if row[label].strip() == positive else 0 for row in rows]
    return rows, y, infer_schema(rows, [c for c in columns if c != label and c not in exclude])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", choices=list(DATA_SETS), default=list(DATA_SETS))
    parser.add_argument("--shared-data", type=Path, default=SHARED, help="the shared data folder (X Education's leads)")
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads for the trees (1: steady on a busy machine)")
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        run(args)


def run(args: argparse.Namespace) -> None:
    print("| data set | seed | rows | base rate | Pipewise AUC | tuned HGB AUC | difference (± s.e.) | Pipewise chose | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for name in args.only:
        path, label, positive, exclude = DATA_SETS[name]
        path = path if path.is_absolute() else args.shared_data / path
        if not path.exists():
            print(f"| {name} | – | missing: {path.name} | | | | | | |")
            continue
        rows, y, schema = load(path, label, positive, exclude)
        results = []
        for seed in args.seeds:
            started = time.perf_counter()
            r = compare(rows, y, schema, seed=seed)
            results.append(r)
            print(f"| {name} | {seed} | {r['rows']:,} | {r['base_rate']:.1%} | {r['pipewise_auc']:.4f} | "
                  f"{r['baseline_auc']:.4f} | {r['difference']:+.4f} (± {r['standard_error']:.4f}) | "
                  f"{r['pipewise_model'].split(',')[0]} | {time.perf_counter() - started:.0f} |", flush=True)
        mean = statistics.mean
        print(f"| **{name} mean** | | | | **{mean(r['pipewise_auc'] for r in results):.4f}** | "
              f"{mean(r['baseline_auc'] for r in results):.4f} | {mean(r['difference'] for r in results):+.4f} | "
              f"not worse on {sum(r['not_worse'] for r in results)} of {len(results)} | |", flush=True)


if __name__ == "__main__":
    main()
