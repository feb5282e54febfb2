"""An opportunity history and what was known of it on a given day.

The predictive forecast and its backtest read deals only through ``as_of(history, day)``:
a deal appears once it was engaged (opened) before that day, and its outcome, close
date and close value only once it closed before that day. Everything later — the
outcome of a deal still open then, its final value, deals opened afterwards — is cut
away here, so no forecast can see it.

A history comes from this database (``forecasting/sources.py``) or from a CSV in the
shape of the Maven Analytics CRM data set (``opportunity_id, sales_agent, product,
account, deal_stage, engage_date, close_date, close_value``)."""

import csv
import io
from dataclasses import dataclass, replace
from datetime import date
from typing import IO

from pipewise.errors import ErrorCollector, ValidationFailed

WON, LOST, OPEN = "won", "lost", "open"
CSV_COLUMNS = ("opportunity_id", "sales_agent", "product", "deal_stage", "engage_date", "close_date", "close_value")
_STAGES = {"won": WON, "closed won": WON, "lost": LOST, "closed lost": LOST,
           "engaging": OPEN, "prospecting": OPEN, "open": OPEN}
MAX_ROWS = 500_000
MAX_ERRORS = 20
EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class StageStep:
    """The deal entered a stage with this win probability (0–1) on this day."""

    on: date
    probability: float


@dataclass(frozen=True)
class Opportunity:
    id: str
    owner: str
    segment: str  # the product (CSV) or pipeline (database): deals alike in size and pace
    engaged_on: date | None  # None: never engaged (a prospect), so never on any snapshot
    closed_on: date | None
    outcome: str  # won | lost | open, as the history tells it today
    value: float | None  # the close value, known once closed
    amount: float | None = None  # the amount while open, when the source keeps one
    stages: tuple[StageStep, ...] = ()


def as_of(history: list[Opportunity], day: date) -> list[Opportunity]:
    """The deals known before ``day`` (00:00), with only what was known then, by id."""
    known = []
    for deal in history:
        if deal.engaged_on is None or deal.engaged_on >= day:
            continue
        stages = tuple(step for step in deal.stages if step.on < day)
        if deal.closed_on is not None and deal.closed_on < day:
            known.append(replace(deal, stages=stages))
        else:
            known.append(replace(deal, closed_on=None, outcome=OPEN, value=None, stages=stages))
    known.sort(key=lambda deal: deal.id)
    return known


def stage_probability(deal: Opportunity, day: date) -> float | None:
    """The win probability of the stage the deal was in before ``day``; None if untracked."""
    current = None
    for step in deal.stages:
        if step.on < day:
            current = step.probability
    return current


# -- reading a CSV ----------------------------------------------------------------------


def _date(text: str, line: int, column: str, errors: ErrorCollector) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors.add(f"line {line}", f"{column} {text[:30]!r} is not a date (YYYY-MM-DD)")
        return None
    if not EARLIEST <= day <= LATEST:
        errors.add(f"line {line}", f"{column} {text[:30]!r} is not between {EARLIEST} and {LATEST}")
        return None
    return day


def _money(text: str, line: int, errors: ErrorCollector) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value < 0 or value > 1e12:
        errors.add(f"line {line}", f"close_value {text[:30]!r} is not an amount")
        return None
    return value


def _row(raw: dict[str, str], line: int, errors: ErrorCollector) -> Opportunity | None:
    before = len(errors.errors)
    stage = _STAGES.get((raw.get("deal_stage") or "").strip().lower())
    if stage is None:
        errors.add(f"line {line}", f"deal_stage {(raw.get('deal_stage') or '')[:30]!r} is not Prospecting, Engaging, Won or Lost")
    engaged = _date(raw.get("engage_date") or "", line, "engage_date", errors)
    closed = _date(raw.get("close_date") or "", line, "close_date", errors)
    value = _money(raw.get("close_value") or "", line, errors)
    if stage in (WON, LOST) and (engaged is None or closed is None):
        errors.add(f"line {line}", "a won or lost deal needs its engage_date and close_date")
    if engaged and closed and closed < engaged:
        errors.add(f"line {line}", "close_date is before engage_date")
    if not (raw.get("opportunity_id") or "").strip():
        errors.add(f"line {line}", "opportunity_id is empty")
    if len(errors.errors) > before or stage is None:
        return None
    return Opportunity(
        id=raw["opportunity_id"].strip(),
        owner=(raw.get("sales_agent") or "").strip(),
        # "GTXPro" and "GTX Pro" name the same product in the published data.
        segment="".join((raw.get("product") or "").split()).lower(),
        engaged_on=engaged,
        closed_on=closed if stage != OPEN else None,
        outcome=stage,
        value=(value or 0.0) if stage == WON else (0.0 if stage == LOST else None),
    )


def read_csv(source: IO[bytes] | IO[str]) -> list[Opportunity]:
    """Every opportunity of the CSV, or a ``ValidationFailed`` naming the bad lines."""
    raw = source.read()
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed.on("file", "is not UTF-8 text") from None
    try:
        reader = csv.DictReader(io.StringIO(raw))
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationFailed.on("file", f"lacks the column(s) {', '.join(missing)}")
        return _read_rows(reader)
    except csv.Error as exc:
        raise ValidationFailed.on("file", f"is not a readable CSV ({exc})") from None


def _read_rows(reader: csv.DictReader) -> list[Opportunity]:
    errors = ErrorCollector()
    history: list[Opportunity] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise ValidationFailed.on("file", f"has more than {MAX_ROWS:,} rows")
        deal = _row(row, line, errors)
        if deal is not None:
            if deal.id in seen:
                errors.add(f"line {line}", f"opportunity_id {deal.id[:40]!r} appears twice")
            seen.add(deal.id)
            history.append(deal)
        if len(errors.errors) >= MAX_ERRORS:
            break
    errors.raise_if_any()
    if not any(deal.closed_on for deal in history):
        raise ValidationFailed.on("file", "has no closed deal: there is nothing to learn from or to check against")
    return history
