"""The predictive lead model: tabular features → a calibrated probability of converting.

One recipe serves both uses — the model trained on this database's closed leads and the
evaluation of any CSV (``pipewise scoring evaluate``): a few candidate models (a 30/70
blend of a spline logistic regression and gradient-boosted trees with native categories,
and boosted trees of two other settings) are compared by cross-validation on the training
rows; the best ranking one is trained on every row and calibrated (Platt, fitted on its
cross-validated predictions). No one recipe wins on every data set; choosing per data set
keeps the score from losing to a tuned boosted-trees baseline (docs/scoring.md). Every prediction comes with the few features that raised or lowered it
most, found by setting each feature to its usual value and seeing how the probability
moves."""

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, SplineTransformer, StandardScaler

from pipewise.scoring.schema import MISSING, Schema, category, infer_schema, number

__all__ = ["MISSING", "Schema", "infer_schema"]

RANDOM_STATE = 0


def matrix(rows: list[dict[str, Any]], schema: Schema) -> np.ndarray:
    out = np.empty((len(rows), len(schema.features)), dtype=object)
    for i, row in enumerate(rows):
        for j, column in enumerate(schema.numeric):
            out[i, j] = number(row.get(column))
        for k, column in enumerate(schema.categorical, start=len(schema.numeric)):
            out[i, k] = category(row.get(column))
    return out


def _log1p_signed(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.log1p(np.abs(x))


def _as_float(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _is_missing(x: np.ndarray) -> np.ndarray:
    return np.isnan(np.asarray(x, dtype=float)).astype(float)


def logistic_baseline(schema: Schema) -> Any:
    """The plain logistic regression the product's model is compared with."""
    n = len(schema.numeric)
    numeric = list(range(n))
    categorical = list(range(n, len(schema.features)))
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5), categorical),
        ]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=2000))


def _spline_logistic(schema: Schema) -> Any:
    n = len(schema.numeric)
    numeric = list(range(n))
    categorical = list(range(n, len(schema.features)))
    steps = [("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5), categorical)]
    if numeric:
        steps += [
            ("num", make_pipeline(SimpleImputer(strategy="median"), FunctionTransformer(_log1p_signed),
                                  SplineTransformer(n_knots=6, degree=3)), numeric),
            ("gap", FunctionTransformer(_is_missing), numeric),
        ]
    return make_pipeline(ColumnTransformer(steps), LogisticRegression(max_iter=3000, C=0.5))


# The boosted trees of the blend: slow and shallow, many rounds.
BLEND_TREES = {"learning_rate": 0.03, "max_iter": 600, "max_leaf_nodes": 8, "min_samples_leaf": 20,
               "l2_regularization": 0.5, "max_features": 0.5}


def boosted_trees(schema: Schema, **settings: Any) -> Any:
    """Gradient-boosted trees on the schema's columns, categories native (ordinal codes)."""
    n = len(schema.numeric)
    categorical = list(range(n, len(schema.features)))
    pre = ColumnTransformer(
        [
            ("num", FunctionTransformer(_as_float), list(range(n))),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1,
                                   min_frequency=5), categorical),
        ]
    )
    trees = HistGradientBoostingClassifier(
        early_stopping=False, random_state=RANDOM_STATE, categorical_features=categorical or None, **settings
    )
    return make_pipeline(pre, trees)


# The trees carry more of the blend: on the evaluation data they rank better than the
# spline regression alone, and the mix beats either (docs/scoring.md).
TREES_WEIGHT = 0.7


class Blend(ClassifierMixin, BaseEstimator):
    """A weighted average of a spline logistic regression and gradient-boosted trees."""

    def __init__(self, schema: Schema | None = None) -> None:
        self.schema = schema

    def fit(self, X: np.ndarray, y: np.ndarray) -> "Blend":
        self.members_ = [clone(_spline_logistic(self.schema)).fit(X, y), clone(boosted_trees(self.schema, **BLEND_TREES)).fit(X, y)]
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        spline, trees = (m.predict_proba(X)[:, 1] for m in self.members_)
        p = (1 - TREES_WEIGHT) * spline + TREES_WEIGHT * trees
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


# Other tree settings the selection may prefer: on data unlike the X Education leads (few
# positives, many weak numeric columns) one of these can rank better than the blend.
TREE_CANDIDATES = {
    "boosted trees (fast, deep)": {"learning_rate": 0.1, "max_iter": 200, "max_leaf_nodes": 31, "min_samples_leaf": 20},
    "boosted trees (slow, shallow)": {"learning_rate": 0.05, "max_iter": 300, "max_leaf_nodes": 7,
                                      "min_samples_leaf": 50, "l2_regularization": 1.0},
}
BLEND = "spline logistic regression + boosted trees, blended 30/70"
SELECTION_FOLDS = 3


def candidates(schema: Schema) -> dict[str, Any]:
    """The models the training chooses among, the recipe tuned on lead data first."""
    return {BLEND: Blend(schema), **{name: boosted_trees(schema, **s) for name, s in TREE_CANDIDATES.items()}}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)).reshape(-1, 1)


class Selected(ClassifierMixin, BaseEstimator):
    """Of ``candidates``, the one whose cross-validated predictions rank the training rows
    best (ROC AUC), trained on every row and Platt-calibrated on those same out-of-fold
    predictions — so the calibration is honest without training smaller copies."""

    def __init__(self, schema: Schema | None = None) -> None:
        self.schema = schema

    def fit(self, X: np.ndarray, y: np.ndarray) -> "Selected":
        folds = StratifiedKFold(SELECTION_FOLDS, shuffle=True, random_state=RANDOM_STATE)
        out_of_fold = {
            name: cross_val_predict(candidate, X, y, cv=folds, method="predict_proba")[:, 1]
            for name, candidate in candidates(self.schema).items()
        }
        self.cv_auc_ = {name: round(float(roc_auc_score(y, p)), 4) for name, p in out_of_fold.items()}
        self.chosen_ = max(self.cv_auc_, key=lambda name: self.cv_auc_[name])  # a tie keeps the first
        self.model_ = clone(candidates(self.schema)[self.chosen_]).fit(X, y)
        self.platt_ = LogisticRegression(C=1e4).fit(_logit(out_of_fold[self.chosen_]), y)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.platt_.predict_proba(_logit(self.model_.predict_proba(X)[:, 1]))[:, 1]
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


@dataclass
class LeadModel:
    schema: Schema
    estimator: Any
    reference: list[Any]

    @classmethod
    def train(cls, rows: list[dict[str, Any]], y: list[int] | np.ndarray, schema: Schema) -> "LeadModel":
        X = matrix(rows, schema)
        estimator = Selected(schema).fit(X, np.asarray(y, dtype=int))
        return cls(schema, estimator, _reference(X, schema))

    @property
    def algorithm(self) -> str:
        """What was chosen, in words (the selection's cross-validated AUCs are in ``estimator.cv_auc_``)."""
        return f"{getattr(self.estimator, 'chosen_', BLEND)}, chosen by {SELECTION_FOLDS}-fold CV, Platt-calibrated"

    def probabilities(self, rows: list[dict[str, Any]]) -> np.ndarray:
        return self.estimator.predict_proba(matrix(rows, self.schema))[:, 1]

    def explain(self, rows: list[dict[str, Any]], *, top: int = 3, min_effect: float = 0.02) -> list[list[dict[str, Any]]]:
        """Per row, the features that moved its probability most, as sentences."""
        if not rows:
            return []
        X = matrix(rows, self.schema)
        base = self.estimator.predict_proba(X)[:, 1]
        features = self.schema.features
        shifted = np.repeat(X, len(features), axis=0)
        for j in range(len(features)):
            shifted[j :: len(features), j] = self.reference[j]
        moved = self.estimator.predict_proba(shifted)[:, 1].reshape(len(rows), len(features))
        out = []
        for i in range(len(rows)):
            effects = base[i] - moved[i]
            order = np.argsort(-np.abs(effects))
            reasons = []
            for j in order[: top * 2]:
                if abs(effects[j]) < min_effect or X[i, j] == self.reference[j] or _same_missing(X[i, j], self.reference[j]):
                    continue
                reasons.append(_sentence(features[j], X[i, j], self.reference[j], effects[j], j < len(self.schema.numeric)))
                if len(reasons) == top:
                    break
            out.append(reasons)
        return out


def _same_missing(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def _reference(X: np.ndarray, schema: Schema) -> list[Any]:
    """The usual value of each feature: the median number, the most common category."""
    ref: list[Any] = []
    for j in range(X.shape[1]):
        column = X[:, j]
        if j < len(schema.numeric):
            numbers = np.asarray(column, dtype=float)
            ref.append(float(np.nanmedian(numbers)) if not np.all(np.isnan(numbers)) else math.nan)
        else:
            ref.append(Counter(column).most_common(1)[0][0])
    return ref


def _show(value: Any, numeric: bool) -> str:
    if numeric:
        if isinstance(value, float) and math.isnan(value):
            return "not given"
        return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.2f}"
    return "not given" if value == MISSING else f"“{value}”"


def _sentence(feature: str, value: Any, usual: Any, effect: float, numeric: bool) -> dict[str, Any]:
    name = feature.replace("_", " ")
    points = int(round(effect * 100))
    verb = "raises" if effect > 0 else "lowers"
    text = f"{name} is {_show(value, numeric)} (usually {_show(usual, numeric)}): {verb} the chance by {abs(points)} points"
    return {"text": text, "points": points, "feature": feature, "kind": "model"}


# -- evaluation --


def precision_at_top(y: np.ndarray, p: np.ndarray, share: float = 0.1) -> float:
    k = max(1, int(round(len(p) * share)))
    top = np.argsort(-p, kind="stable")[:k]
    return float(np.mean(y[top]))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    edges = np.linspace(0, 1, bins + 1)
    table = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if mask.sum():
            table.append({"bin": f"{lo:.1f}–{hi:.1f}", "leads": int(mask.sum()),
                          "predicted": round(float(p[mask].mean()), 3), "observed": round(float(y[mask].mean()), 3)})
    return table


def evaluate(rows: list[dict[str, Any]], y: list[int] | np.ndarray, schema: Schema, *, test_size: float = 0.25,
             seed: int = RANDOM_STATE, baseline: bool = True) -> dict[str, Any]:
    """Train on a stratified split, report on the held-out part (the product's model and,
    beside it, a plain logistic regression on the same columns)."""
    labels = np.asarray(y, dtype=int)
    indices = np.arange(len(rows))
    train, test = train_test_split(indices, test_size=test_size, stratify=labels, random_state=seed)
    model = LeadModel.train([rows[i] for i in train], labels[train], schema)
    p = model.probabilities([rows[i] for i in test])
    y_test = labels[test]
    result: dict[str, Any] = {
        "rows": len(rows), "train": len(train), "test": len(test), "base_rate": round(float(labels.mean()), 4),
        "roc_auc": round(float(roc_auc_score(y_test, p)), 4),
        "precision_top_decile": round(precision_at_top(y_test, p), 4),
        "brier": round(float(brier_score_loss(y_test, p)), 4),
        "calibration": calibration_table(y_test, p),
        "features": schema.features, "dropped": schema.dropped, "algorithm": model.algorithm, "seed": seed,
        "cv_auc": model.estimator.cv_auc_,
    }
    if baseline:
        X = matrix(rows, schema)
        lr = logistic_baseline(schema).fit(X[train], labels[train])
        q = lr.predict_proba(X[test])[:, 1]
        result["baseline"] = {
            "algorithm": "logistic regression (one-hot categories, scaled numbers)",
            "roc_auc": round(float(roc_auc_score(y_test, q)), 4),
            "precision_top_decile": round(precision_at_top(y_test, q), 4),
            "brier": round(float(brier_score_loss(y_test, q)), 4),
        }
    return result
