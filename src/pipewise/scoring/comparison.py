"""The product's lead model beside a tuned gradient-boosting baseline of the same features,
on the same stratified split: scikit-learn's ``HistGradientBoostingClassifier`` with a small
grid chosen by cross-validation on the training rows. The difference in held-out ROC AUC
comes with its standard error from a paired bootstrap of the held-out rows, so "does not
lose" can be read against the noise of the split. Used by tests/scoring and
bench/scoring_bench.py; scikit-learn loads with this module."""

from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from pipewise.scoring.model import RANDOM_STATE, LeadModel, boosted_trees, matrix
from pipewise.scoring.schema import Schema

BASELINE_GRID = {
    "learning_rate": [0.05, 0.1],
    "max_leaf_nodes": [7, 31],
    "min_samples_leaf": [20, 80],
}
BASELINE_ROUNDS = 200
BOOTSTRAP_ROUNDS = 300


def tuned_baseline(schema: Schema, *, folds: int = 3) -> GridSearchCV:
    """Boosted trees with native categories, the grid searched by ``folds``-fold CV AUC."""
    grid = {f"histgradientboostingclassifier__{name}": values for name, values in BASELINE_GRID.items()}
    return GridSearchCV(
        boosted_trees(schema, max_iter=BASELINE_ROUNDS), grid, scoring="roc_auc",
        cv=StratifiedKFold(folds, shuffle=True, random_state=RANDOM_STATE),
    )


def paired_auc_difference(y: np.ndarray, p: np.ndarray, q: np.ndarray, *, rounds: int = BOOTSTRAP_ROUNDS,
                          seed: int = RANDOM_STATE) -> tuple[float, float]:
    """AUC(p) − AUC(q) on ``y`` and its bootstrap standard error (the same resampled rows
    for both, so the split's luck cancels)."""
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(rounds):
        rows = rng.integers(0, len(y), len(y))
        if 0 < y[rows].sum() < len(rows):
            differences.append(roc_auc_score(y[rows], p[rows]) - roc_auc_score(y[rows], q[rows]))
    return float(roc_auc_score(y, p) - roc_auc_score(y, q)), float(np.std(differences))


def compare(rows: list[dict[str, Any]], y: list[int] | np.ndarray, schema: Schema, *, seed: int = RANDOM_STATE,
            test_size: float = 0.25) -> dict[str, Any]:
    """Both models trained on the same stratified part, scored on the rest."""
    labels = np.asarray(y, dtype=int)
    train, test = train_test_split(np.arange(len(rows)), test_size=test_size, stratify=labels, random_state=seed)
    model = LeadModel.train([rows[i] for i in train], labels[train], schema)
    p = model.probabilities([rows[i] for i in test])
    X = matrix(rows, schema)
    baseline = tuned_baseline(schema).fit(X[train], labels[train])
    q = baseline.predict_proba(X[test])[:, 1]
    difference, error = paired_auc_difference(labels[test], p, q)
    chosen = {k.rsplit("__", 1)[1]: v for k, v in baseline.best_params_.items()}
    return {
        "rows": len(rows), "test": len(test), "base_rate": round(float(labels.mean()), 4), "seed": seed,
        "features": len(schema.features),
        "pipewise_auc": round(float(roc_auc_score(labels[test], p)), 4), "pipewise_model": model.algorithm,
        "baseline_auc": round(float(roc_auc_score(labels[test], q)), 4), "baseline_settings": chosen,
        "difference": round(difference, 4), "standard_error": round(error, 4),
        # Not worse beyond the noise: the difference is above −1.96 standard errors.
        "not_worse": difference >= -1.96 * error,
    }
