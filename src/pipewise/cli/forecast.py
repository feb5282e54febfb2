"""`pipewise forecast backtest | snapshot`."""

import json
from pathlib import Path

import typer
from rich.table import Table

from pipewise.cli.output import out
from pipewise.db.session import session_scope
from pipewise.forecasting import snapshots

forecast_app = typer.Typer(help="Sales forecast: backtest the predictive forecast, take snapshots.", no_args_is_help=True)


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


@forecast_app.command()
def backtest(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="An opportunity history (CSV)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
) -> None:
    """Replay FILE month by month as of each month's first day; score the forecast and two baselines."""
    from pipewise.forecasting import backtest as replay
    from pipewise.forecasting.history import read_csv

    with file.open("rb") as handle:
        report = replay.run(read_csv(handle))
    if as_json:
        out.print(json.dumps(report.as_dict(), indent=2))
        return
    table = Table("Month", "Actual", "Forecast", "80 % interval", "APE", "Weighted APE", "Last-month APE", "Brier",
                  "Calibration")
    for m in report.months:
        table.add_row(m.month, f"{m.actual:,.0f}", f"{m.forecast:,.0f}",
                      f"{m.low:,.0f} – {m.high:,.0f}{'' if m.covered else ' ✗'}", _percent(m.ape),
                      _percent(m.weighted_pipeline_ape), _percent(m.last_month_ape), f"{m.brier:.3f}",
                      f"{m.calibration_error:.3f}")
    out.print(table)
    out.print(f"MAPE {_percent(report.mape)} (weighted pipeline {_percent(report.weighted_pipeline_mape)}, "
              f"last month {_percent(report.last_month_mape)}); bias {_percent(report.bias)}; "
              f"Brier {report.brier:.3f} (weighted pipeline {report.weighted_pipeline_brier:.3f}); "
              f"calibration error {report.calibration_error:.3f}; "
              f"interval held the actual in {report.covered_months} of {len(report.months)} months.")


@forecast_app.command()
def snapshot() -> None:
    """Take a forecast snapshot now (the worker takes one every Monday)."""

    with session_scope() as session:
        taken = snapshots.take(session, kind="manual")
        out.print(f"Snapshot {taken.id} taken at {taken.taken_at:%Y-%m-%d %H:%M} UTC.")
