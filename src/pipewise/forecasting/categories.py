"""Forecast categories. A deal's category follows its stage unless someone calls it
otherwise: won deals are *closed*, lost ones *omitted*; an open deal is *commit* from a
stage probability of 80 %, *best case* from 50 %, else *pipeline*. The rep's call
replaces the default, the manager's call replaces both (the latest of each counts)."""

PIPELINE, BEST_CASE, COMMIT, CLOSED, OMITTED = "pipeline", "best_case", "commit", "closed", "omitted"
CATEGORIES = (PIPELINE, BEST_CASE, COMMIT, CLOSED, OMITTED)
# What a person may put an open deal in: "closed" is a fact, the stage says it.
CALLABLE = (PIPELINE, BEST_CASE, COMMIT, OMITTED)
LABELS = {PIPELINE: "Pipeline", BEST_CASE: "Best case", COMMIT: "Commit", CLOSED: "Closed", OMITTED: "Omitted"}
COMMIT_FROM, BEST_CASE_FROM = 80, 50
REP, MANAGER = "rep", "manager"


def default_category(stage_kind: str, probability: int) -> str:
    if stage_kind == "won":
        return CLOSED
    if stage_kind == "lost":
        return OMITTED
    if probability >= COMMIT_FROM:
        return COMMIT
    return BEST_CASE if probability >= BEST_CASE_FROM else PIPELINE


def effective(default: str, rep_call: str | None, manager_call: str | None) -> str:
    """The category that counts. Once a deal is won or lost its stage decides: a call made
    while it was open no longer does."""
    if default in (CLOSED, OMITTED):
        return default
    return manager_call or rep_call or default


def label(category: str) -> str:
    return LABELS.get(category, category)
