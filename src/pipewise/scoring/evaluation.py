"""``pipewise scoring evaluate``: the product's model on any CSV of past leads, scored on a
stratified hold-out, so a user can check it on their own history before trusting it."""

import csv
from pathlib import Path
from typing import Any

from pipewise.errors import ValidationFailed

POSITIVE = frozenset({"1", "yes", "y", "true", "won", "converted", "closed won", "t"})
NEGATIVE = frozenset({"0", "no", "n", "false", "lost", "not converted", "closed lost", "f"})


def read_csv(path: Path, *, sep: str = ",") -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, delimiter=sep)
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except UnicodeDecodeError as exc:
        raise ValidationFailed.on("file", f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except FileNotFoundError:
        raise ValidationFailed.on("file", f"{path} does not exist") from None


def labels_of(rows: list[dict[str, str]], label: str) -> list[int]:
    out = []
    for line, row in enumerate(rows, start=2):
        value = (row.get(label) or "").strip().lower()
        if value in POSITIVE:
            out.append(1)
        elif value in NEGATIVE:
            out.append(0)
        else:
            raise ValidationFailed.on(label, f"line {line}: {value!r} is not a yes/no outcome (use 1/0, yes/no, won/lost)")
    return out


def evaluate_file(path: Path, *, label: str, exclude: list[str] | None = None, sep: str = ",", seed: int = 0) -> dict[str, Any]:
    columns, rows = read_csv(path, sep=sep)
    if label not in columns:
        raise ValidationFailed.on("label", f"the file has no column {label!r}; its columns are {', '.join(columns)}")
    unknown = [c for c in exclude or [] if c not in columns]
    if unknown:
        raise ValidationFailed.on("exclude", f"the file has no column {', '.join(map(repr, unknown))}")
    y = labels_of(rows, label)
    if len(rows) < 40 or min(sum(y), len(y) - sum(y)) < 10:
        raise ValidationFailed.on("file", "an evaluation needs at least 40 rows with 10 of each outcome")
    features = [c for c in columns if c != label and c not in set(exclude or [])]
    from pipewise.scoring import model as lead_model  # scikit-learn loads when first used

    schema = lead_model.infer_schema(rows, features)
    result = lead_model.evaluate(rows, y, schema, seed=seed)
    result["excluded"] = list(exclude or [])
    return result


def report(result: dict[str, Any]) -> str:
    """The evaluation as Markdown."""
    lines = [
        f"Rows: {result['rows']:,} (trained on {result['train']:,}, held out {result['test']:,}, stratified, seed {result['seed']}); "
        f"base rate {result['base_rate']:.1%}.",
        "",
        "| model | ROC AUC | precision in the top decile | Brier score |",
        "|---|---|---|---|",
        f"| Pipewise ({result['algorithm']}) | **{result['roc_auc']:.3f}** | {result['precision_top_decile']:.1%} | {result['brier']:.4f} |",
    ]
    if "baseline" in result:
        b = result["baseline"]
        lines.append(f"| {b['algorithm']} | {b['roc_auc']:.3f} | {b['precision_top_decile']:.1%} | {b['brier']:.4f} |")
    lines += ["", "Calibration on the held-out leads:", "", "| predicted | leads | mean predicted | observed |", "|---|---|---|---|"]
    lines += [f"| {c['bin']} | {c['leads']} | {c['predicted']:.3f} | {c['observed']:.3f} |" for c in result["calibration"]]
    if result.get("excluded"):
        lines += ["", "Excluded by request: " + ", ".join(result["excluded"]) + "."]
    if result.get("dropped"):
        lines += ["Left out automatically: " + "; ".join(f"{k} ({v})" for k, v in result["dropped"].items()) + "."]
    return "\n".join(lines)
