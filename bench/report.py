"""Results of a run and docs/benchmarks.md, rendered from them.

Each benchmark produces a ``Section``: measured figures, each beside its raw-database
baseline, the target where the issue set one, and notes on what the profile says. Results
are also kept in bench/results.json so that a run of one benchmark keeps the others'
figures in the document."""

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).parent / "results.json"
DOC = Path(__file__).parent.parent / "docs" / "benchmarks.md"


@dataclass
class Figure:
    database: str
    case: str
    value: float
    unit: str  # "/s" (higher is better), "ms" or "MB" (lower is better)
    baseline_label: str
    baseline: float
    target: float | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.unit == "/s"

    @property
    def ratio(self) -> float:
        """How many times slower than the baseline (1.0 = as fast as raw)."""
        if self.higher_is_better:
            return self.baseline / self.value if self.value else math.inf
        return self.value / self.baseline if self.baseline else math.inf

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


def wall_and_cpu(
    database: str, case: str, measured: tuple[float, float], baseline_label: str, baseline: tuple[float, float],
    target: float | None = None,
) -> list[Figure]:
    """A rate per second of wall time and per second of CPU time, each beside the same of its baseline."""
    return [
        Figure(database, case, measured[0], "/s", baseline_label, baseline[0], target),
        Figure(database, f"{case}, per CPU-second", measured[1], "/s", baseline_label, baseline[1], target),
    ]


@dataclass
class Section:
    key: str
    title: str
    description: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    size: str = ""


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: …`` then ``t[0]`` is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


@contextmanager
def cpu_stopwatch() -> Iterator[list[float]]:
    """Like ``stopwatch`` but this process's CPU time, which other load on the machine does not inflate."""
    box: list[float] = []
    start = time.process_time()
    yield box
    box.append(time.process_time() - start)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def _num(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:,.0f}/s"


def _verdict(figure: Figure) -> str:
    if figure.target is None:
        return "—"
    sign = "≥" if figure.higher_is_better else "<"
    target = f"{sign} {_num(figure.target, figure.unit)}"
    if figure.met:
        return f"{target}: met"
    if figure.higher_is_better:
        return f"{target}: missed (reaches {figure.value / figure.target:.0%})"
    return f"{target}: missed ({figure.value / figure.target:.1f}× the target)"


def save(sections: list[Section], machine: list[tuple[str, str]]) -> dict:
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"sections": {}}
    for section in sections:
        stored["sections"][section.key] = asdict(section)
    stored["machine"] = machine
    stored["recorded_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    RESULTS.write_text(json.dumps(stored, indent=1) + "\n")
    return stored


def render(stored: dict, order: list[str], preface: str = "", appendix: str = "") -> str:
    lines = [
        "# Benchmarks",
        "",
        "The sections up to the marker below are written by `python -m bench` (`make bench`);",
        "do not edit them by hand. Every figure is",
        "measured beside the raw database work of the same size in the same run; the ratio",
        "says how many times slower than raw the full Pipewise path is. `python -m bench --help`",
        "lists the options (pick benchmarks, sizes, add `--postgres URL`).",
        "",
        f"Last run: {stored['recorded_at']}.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in stored["machine"]),
    ]
    if preface:
        lines += ["", preface.rstrip()]
    sections = stored["sections"]
    for key in order:
        if key not in sections:
            continue
        data = sections[key]
        figures = [Figure(**f) for f in data["figures"]]
        lines += ["", f"## {data['title']}", "", data["description"]]
        if data.get("size"):
            lines += ["", f"Size: {data['size']}."]
        lines += [
            "",
            "| database | case | Pipewise | raw baseline | ratio | target |",
            "|---|---|---:|---:|---:|---|",
        ]
        for f in figures:
            lines.append(
                f"| {f.database} | {f.case} | {_num(f.value, f.unit)} | {f.baseline_label}: {_num(f.baseline, f.unit)} "
                f"| {f.ratio:.1f}× | {_verdict(f)} |"
            )
        if data["notes"]:
            lines.append("")
            lines += [f"- {note}" for note in data["notes"]]
    if appendix:
        lines += ["", appendix.rstrip()]
    return "\n".join(lines) + "\n"


START, END = "<!-- written by python -m bench: start -->", "<!-- written by python -m bench: end -->"


def write_doc(stored: dict, order: list[str], preface: str = "", appendix: str = "") -> Path:
    """Replace the generated part of the document; sections others wrote by hand stay."""
    generated = f"{START}\n{render(stored, order, preface, appendix)}{END}\n"
    existing = DOC.read_text() if DOC.exists() else ""
    if START in existing and END in existing:
        before, _, rest = existing.partition(START)
        after = rest.partition(END)[2].lstrip("\n")
    else:
        before, after = "", existing.lstrip("\n")
    DOC.write_text(before + generated + ("\n" + after if after else ""))
    return DOC
