"""The predictive lead model: tabular features → a calibrated probability of converting.

One recipe serves both uses — the model trained on this database's closed leads and the
evaluation of any CSV (``pipewise scoring evaluate``): numeric columns go through a
spline logistic regression and a gradient-boosted tree model with native categories; the
two are blended (30/70) and the blend is calibrated (Platt, fitted on cross-validated
predictions). Every prediction comes with the few features that raised or lowered it
most, found by setting each feature to its usual value and seeing how the probability
moves."""

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, SplineTransformer, StandardScaler

MISSING = "(not given)"
MISSING_TOKENS = frozenset({"", "select", "na", "n/a", "null", "none", "nan", "-", "--", "unknown", "?"})
RANDOM_STATE = 0


@dataclass
class Schema:
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(",", "")
    if text.lower() in MISSING_TOKENS:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def _category(value: Any) -> str:
    if value is None:
        return MISSING
    text = str(value).strip()
    return MISSING if text.lower() in MISSING_TOKENS else text


def infer_schema(rows: list[dict[str, Any]], columns: list[str]) -> Schema:
    """Numeric where nearly every filled-in value is a number; ids (a different value in
    every row) and constants are left out, with the reason."""
    schema = Schema()
    n = len(rows)
    for column in columns:
        values = [r.get(column) for r in rows]
        filled = [v for v in values if _category(v) != MISSING]
        if not filled:
            schema.dropped[column] = "always empty"
            continue
        numbers = sum(1 for v in filled if not math.isnan(_number(v)))
        distinct = len(set(map(str, filled)))
        if distinct == 1:
            schema.dropped[column] = "the same in every row"
        elif distinct == n and n > 50 and (numbers < len(filled) or _looks_like_id(filled)):
            schema.dropped[column] = "an identifier (a different value in every row)"
        elif numbers >= 0.95 * len(filled):
            schema.numeric.append(column)
        else:
            schema.categorical.append(column)
    return schema


def _looks_like_id(values: list[Any]) -> bool:
    numbers = [_number(v) for v in values]
    return all(not math.isnan(x) and float(x).is_integer() for x in numbers)


def matrix(rows: list[dict[str, Any]], schema: Schema) -> np.ndarray:
    out = np.empty((len(rows), len(schema.features)), dtype=object)
    for i, row in enumerate(rows):
        for j, column in enumerate(schema.numeric):
            out[i, j] = _number(row.get(column))
        for k, column in enumerate(schema.categorical, start=len(schema.numeric)):
            out[i, k] = _category(row.get(column))
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


def _boosted_trees(schema: Schema) -> Any:
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
        learning_rate=0.03, max_iter=600, max_leaf_nodes=8, min_samples_leaf=20, l2_regularization=0.5,
        max_features=0.5, early_stopping=False, random_state=RANDOM_STATE,
        categorical_features=list(range(n, len(schema.features))) or None,
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
        self.members_ = [clone(_spline_logistic(self.schema)).fit(X, y), clone(_boosted_trees(self.schema)).fit(X, y)]
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        spline, trees = (m.predict_proba(X)[:, 1] for m in self.members_)
        p = (1 - TREES_WEIGHT) * spline + TREES_WEIGHT * trees
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


ALGORITHM = "spline logistic regression + gradient-boosted trees, blended 30/70, Platt-calibrated"


@dataclass
class LeadModel:
    schema: Schema
    estimator: Any
    reference: list[Any]

    @classmethod
    def train(cls, rows: list[dict[str, Any]], y: list[int] | np.ndarray, schema: Schema) -> "LeadModel":
        X = matrix(rows, schema)
        labels = np.asarray(y, dtype=int)
        # The blend is trained on every row; the calibration is fitted on its predictions for
        # rows it did not see (3-fold), so it is honest without three smaller models.
        estimator = CalibratedClassifierCV(Blend(schema), method="sigmoid", cv=3, ensemble=False).fit(X, labels)
        return cls(schema, estimator, _reference(X, schema))

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
        "features": schema.features, "dropped": schema.dropped, "algorithm": ALGORITHM, "seed": seed,
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
