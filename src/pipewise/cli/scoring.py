"""`pipewise scoring train | evaluate | rescore`."""

import json
from pathlib import Path

import typer

from pipewise.cli.output import out
from pipewise.db.session import session_scope
from pipewise.leads import scores
from pipewise.scoring import evaluation

scoring_app = typer.Typer(help="Lead scoring: train and check the predictive model.", no_args_is_help=True)


@scoring_app.command()
def train() -> None:
    """Train the model on this database's closed leads, make it active and re-score open leads."""
    with session_scope() as session:
        record = scores.train_model(session)
        rescored = scores.rescore_open(session)
        metrics = record.metrics
    out.print(f"Trained on {record.trained_on:,} closed leads; re-scored {rescored:,} open leads.")
    out.print(evaluation.report(metrics))


@scoring_app.command()
def evaluate(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A CSV of past leads with their outcome."),
    label: str = typer.Option(..., "--label", help="The outcome column (1/0, yes/no, won/lost)."),
    exclude: list[str] = typer.Option([], "--exclude", help="A column to leave out (repeatable): ids, and anything filled in after sales worked the lead."),
    sep: str = typer.Option(",", "--sep", help="Field separator."),
    seed: int = typer.Option(0, "--seed", help="Seed of the stratified 25 % hold-out."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """ROC AUC, precision in the top decile and Brier score of Pipewise's model on a hold-out of FILE."""
    result = evaluation.evaluate_file(file, label=label, exclude=exclude, sep="\t" if sep == "\\t" else sep, seed=seed)
    out.print(json.dumps(result, indent=2) if as_json else evaluation.report(result))


@scoring_app.command()
def rescore() -> None:
    """Re-score every open lead (rules, decay and the active model)."""
    with session_scope() as session:
        out.print(f"Re-scored {scores.rescore_open(session):,} open leads.")
