"""Metrics as costs: every metric metaconf optimises is turned into one number that is *minimised*.

SMAC, auto-sklearn's SMAC 1.2 and our own reports all minimise, so one convention is used everywhere:

==================  ===========================  ==========  ===========================================
metric              cost                         best_cost   worst_cost (SMAC's crash cost)
==================  ===========================  ==========  ===========================================
accuracy            1 - accuracy                 0           1
balanced_accuracy   1 - balanced accuracy        0           1
roc_auc             1 - ROC AUC                  0           1
f1                  1 - F1                       0           1
log_loss            log loss (capped)            0           3 x log(n_classes): 3 x the loss of
                                                             predicting uniform probabilities
expected_cost       mean cost matrix entry       min entry   max entry of the cost matrix
rmse / mae          the error (capped)           0           10 x the target's standard deviation
r2                  1 - R²  (capped)             0           10  (R² = -9: ten times worse than the mean)
==================  ===========================  ==========  ===========================================

Every worst cost is finite on purpose: SMAC's default ``crash_cost=inf`` turns one crashed trial into a NaN
in the random-forest surrogate and kills the run (docs/tools.md). Costs of real predictions are clipped to
``[best_cost, worst_cost]`` by default, so a crashed trial is never *better* than a terrible but finished
one; :meth:`MetricSpec.cost` with ``clip=False`` gives the true value for reports.

Choices a user may wonder about:

- **Positive class** (``f1`` on binary tasks; ``roc_auc`` does not depend on it): ``task.positive_label``
  when set. Otherwise a conventional positive label when the two classes read like one (``1``/``0``,
  ``true``/``false``, ``yes``/``no``, ``positive``/``negative``, ``pos``/``neg``), else the *minority* class
  (the rare class is almost always the one of interest: bad credit, malignant, fraud; F1 of the majority
  class is near-trivially high), ties broken like scikit-learn (the last class in sorted order).
- **Multiclass**: ``roc_auc`` is one-vs-rest, macro-averaged (over the classes present in the validation
  rows); ``f1`` is macro-averaged, or the F1 of ``task.positive_label`` when one is set.
- **Expected cost** uses the *Bayes decision* when probabilities are available: it predicts the class with
  the lowest expected cost under the model's probabilities (:meth:`MetricSpec.decide`), not the most
  probable class. With German credit's 5:1 matrix that is "bad" from P(bad) > 1/6 on, which is what the
  cost matrix asks for (measured, 5-fold CV of logistic regression on German credit: 0.58 per customer with
  Bayes decisions, 0.93 with the most probable class); ``metaconf.targets.evaluate.CostSensitiveClassifier``
  makes a refitted model predict the same way.
- Labels in ``task.cost_matrix`` and ``task.positive_label`` are matched to the data's classes as strings
  (``1`` matches ``1``, ``"1"`` and ``1.0``; ``true`` matches ``True``), case-insensitively if no exact match.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from metaconf.data.labels import label_array, label_key
from metaconf.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from metaconf.config.model import Config

REGRESSION_WORST_STDS = 10.0
"""rmse / mae worst cost in units of the target's standard deviation."""
R2_WORST_COST = 10.0
"""Worst cost of r2, i.e. R² = -9."""
LOG_LOSS_WORST_FACTOR = 3.0
"""log_loss worst cost in units of the loss of uniform probabilities, log(n_classes)."""
UNKNOWN_SCALE_WORST_COST = 1e6
"""rmse / mae worst cost when the target is not known (``metric_for`` without ``y``): finite, but pass ``y``."""

_POSITIVE_NEGATIVE_PAIRS = (
    ("1", "0"),
    ("1", "-1"),
    ("true", "false"),
    ("t", "f"),
    ("yes", "no"),
    ("y", "n"),
    ("positive", "negative"),
    ("pos", "neg"),
)


def match_labels(wanted: Sequence[Any], classes: Sequence[Any], *, what: str) -> list[Any]:
    """The data classes that ``wanted`` (config labels) name, in the order of ``wanted``.

    Exact string match first, then case-insensitive. Raises :class:`UsageError` naming the label that
    matches no class and listing the classes there are.
    """
    by_key: dict[str, Any] = {}
    by_folded: dict[str, list[Any]] = {}
    for cls in classes:
        by_key.setdefault(label_key(cls), cls)
        by_folded.setdefault(label_key(cls).casefold(), []).append(cls)
    matched: list[Any] = []
    for label in wanted:
        key = label_key(label)
        if key in by_key:
            matched.append(by_key[key])
        elif len(by_folded.get(key.casefold(), [])) == 1:
            matched.append(by_folded[key.casefold()][0])
        else:
            shown = ", ".join(f"`{label_key(c)}`" for c in classes)
            raise UsageError(
                f"{what}: the label `{key}` is not a class of the target; its classes are {shown}",
                f"write the labels exactly as they appear in the target column ({shown})",
            )
    return matched


@dataclass(frozen=True)
class MetricSpec:
    """One metric as a cost to minimise, with its finite best and worst cost.

    Pickles cleanly (plain data only) so Dask workers and subprocesses can carry it.
    """

    name: str
    greater_is_better: bool
    needs_proba: bool
    best_cost: float
    worst_cost: float
    classes: tuple[Any, ...] | None = None
    """Classification: the classes, in the column order of ``y_proba``."""
    positive_label: Any = None
    """Binary f1 / roc_auc: the positive class (one of ``classes``); multiclass f1: score only this class."""
    cost_matrix: tuple[tuple[float, ...], ...] | None = None
    """expected_cost: ``cost_matrix[i][j]`` = cost of predicting ``classes[j]`` when the truth is ``classes[i]``."""
    tune_threshold: bool = True
    """Binary tasks: choose the decision threshold for the metric (``task.decision_threshold: auto``, see
    :mod:`metaconf.targets.threshold`); False keeps the model's own decision."""

    # ---------------------------------------------------------------------------------------------- costs
    def cost(self, y_true: Any, y_pred: Any = None, y_proba: Any = None, *, clip: bool = True) -> float:
        """The cost of predictions: lower is better. ``y_proba`` columns follow ``classes``.

        Metrics with ``needs_proba`` need ``y_proba``; expected_cost takes either (probabilities are turned
        into Bayes decisions). With ``clip`` the cost is kept in ``[best_cost, worst_cost]`` and a NaN
        becomes ``worst_cost``: the number SMAC sees. ``clip=False`` returns the metric's true value.
        """
        value = self._raw_cost(label_array(y_true) if self.classes is not None else np.asarray(y_true), y_pred, y_proba)
        if not clip:
            return value
        if math.isnan(value):
            return self.worst_cost
        return float(min(max(value, self.best_cost), self.worst_cost))

    def score(self, cost: float) -> float:
        """A cost back on the metric's own scale (accuracy, AUC, R², RMSE, expected cost per row)."""
        if self.name in ("accuracy", "balanced_accuracy", "roc_auc", "f1", "r2"):
            return 1.0 - cost
        return cost

    def decide(self, y_proba: Any) -> np.ndarray:
        """Bayes decisions: per row the class with the lowest expected cost under ``y_proba``.

        For a metric without a cost matrix, the most probable class (ties: the first in ``classes``).
        """
        if self.classes is None:
            raise ValueError(f"the metric `{self.name}` has no classes; decisions need them")
        proba = np.asarray(y_proba, dtype=float)
        if self.cost_matrix is None:
            index = np.argmax(proba, axis=1)
        else:
            # expected cost of predicting j = sum_i P(i) * C[i, j]
            index = np.argmin(proba @ np.asarray(self.cost_matrix, dtype=float), axis=1)
        return label_array(self.classes)[index]

    def _raw_cost(self, y_true: np.ndarray, y_pred: Any, y_proba: Any) -> float:
        from sklearn import metrics as skm

        name = self.name
        if name in ("rmse", "mae", "r2"):
            if y_pred is None:
                raise ValueError(f"the metric `{name}` needs predictions (y_pred)")
            pred = np.asarray(y_pred, dtype=float)
            true = y_true.astype(float)
            if name == "rmse":
                return float(np.sqrt(np.mean((true - pred) ** 2)))
            if name == "mae":
                return float(np.mean(np.abs(true - pred)))
            return float(1.0 - skm.r2_score(true, pred))
        if self.classes is None:
            raise ValueError(
                f"the metric `{name}` needs the classes; build it with metric_for(config, classes)"
            )
        labels = list(self.classes)
        if name == "expected_cost":
            decisions = self.decide(y_proba) if y_proba is not None else y_pred
            if decisions is None:
                raise ValueError("the metric `expected_cost` needs predictions or probabilities")
            return self._expected_cost(y_true, label_array(decisions))
        if name in ("roc_auc", "log_loss"):
            if y_proba is None:
                raise ValueError(f"the metric `{name}` needs probabilities (y_proba)")
            proba = np.asarray(y_proba, dtype=float)
            if proba.ndim != 2 or proba.shape[1] != len(labels):
                raise ValueError(
                    f"y_proba must have one column per class ({len(labels)}); got shape {proba.shape}"
                )
            if name == "log_loss":
                return float(skm.log_loss(y_true, proba, labels=labels))
            return 1.0 - self._roc_auc(y_true, proba)
        if y_pred is None:
            if y_proba is None:
                raise ValueError(f"the metric `{name}` needs predictions (y_pred)")
            y_pred = self.decide(y_proba)
        pred = label_array(y_pred)
        if name == "accuracy":
            return float(1.0 - skm.accuracy_score(y_true, pred))
        if name == "balanced_accuracy":
            return float(1.0 - _balanced_accuracy(y_true, pred))
        if name == "f1":
            if self.positive_label is not None:
                f1 = skm.f1_score(
                    y_true, pred, labels=[self.positive_label], average="macro", zero_division=0.0
                )
            else:
                f1 = skm.f1_score(y_true, pred, labels=labels, average="macro", zero_division=0.0)
            return float(1.0 - f1)
        raise ValueError(f"unknown metric `{name}`")

    def _expected_cost(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        assert self.classes is not None and self.cost_matrix is not None
        index = {cls: i for i, cls in enumerate(self.classes)}
        try:
            rows = np.fromiter((index[v] for v in y_true.tolist()), dtype=int, count=len(y_true))
            cols = np.fromiter((index[v] for v in y_pred.tolist()), dtype=int, count=len(y_pred))
        except KeyError as error:
            raise ValueError(
                f"label {error.args[0]!r} is not one of the classes {list(self.classes)}"
            ) from None
        return float(np.asarray(self.cost_matrix, dtype=float)[rows, cols].mean())

    def _roc_auc(self, y_true: np.ndarray, proba: np.ndarray) -> float:
        from sklearn.metrics import roc_auc_score

        assert self.classes is not None
        if len(self.classes) == 2:
            positive = self.positive_label if self.positive_label is not None else self.classes[1]
            column = list(self.classes).index(positive)
            return float(roc_auc_score(y_true == positive, proba[:, column]))
        # One-vs-rest, macro: the same as scikit-learn's multi_class="ovr" when every class is present, and
        # still defined on a validation fold that misses a rare class (sklearn raises there).
        aucs = []
        for column, cls in enumerate(self.classes):
            is_cls = y_true == cls
            if 0 < is_cls.sum() < len(y_true):
                aucs.append(roc_auc_score(is_cls, proba[:, column]))
        if not aucs:
            raise ValueError("ROC AUC is undefined: the rows hold a single class")
        return float(np.mean(aucs))


def _balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present in ``y_true`` (scikit-learn's definition, without its warning
    about predicted classes absent from ``y_true``)."""
    recalls = [float(np.mean(y_pred[y_true == cls] == cls)) for cls in _unique(y_true)]
    return float(np.mean(recalls))


def _unique(values: np.ndarray) -> list[Any]:
    return sorted(set(values.tolist()), key=lambda v: (type(v).__name__, v))


def default_positive_label(classes: Sequence[Any], y: pd.Series | None = None) -> Any:
    """The positive class of a binary task when ``task.positive_label`` is not set (see module docstring)."""
    keys = [label_key(c).casefold() for c in classes]
    for positive, negative in _POSITIVE_NEGATIVE_PAIRS:
        if set(keys) == {positive, negative}:
            return classes[keys.index(positive)]
    if y is not None:
        counts = y.value_counts()
        sizes = [int(counts.get(c, 0)) for c in classes]
        smallest = min(sizes)
        return [c for c, n in zip(classes, sizes, strict=True) if n == smallest][-1]
    return classes[-1]


def metric_for(
    config: Config, classes: Sequence[Any] | None = None, y: pd.Series | None = None
) -> MetricSpec:
    """:func:`_metric_for` with ``task.decision_threshold`` applied."""
    spec = _metric_for(config, classes, y)
    if config.task.decision_threshold.value == "natural":
        return dataclasses.replace(spec, tune_threshold=False)
    return spec


def _metric_for(
    config: Config, classes: Sequence[Any] | None = None, y: pd.Series | None = None
) -> MetricSpec:
    """The :class:`MetricSpec` of a config's metric, resolved against the data's ``classes`` (and ``y``).

    ``classes`` must be in the column order of the probabilities the caller will pass (the sorted classes,
    as scikit-learn orders ``classes_``). ``y`` makes rmse / mae worst costs data-derived and picks the
    minority class as the default positive label. Raises :class:`UsageError` when config labels do not name
    the data's classes or the cost matrix is malformed.
    """
    name = config.effective_metric().value
    task = config.task.type.value
    regression_metric = name in ("rmse", "mae", "r2")
    if regression_metric != (task == "regression"):
        choices = (
            "`rmse`, `mae` or `r2`"
            if task == "regression"
            else "`accuracy`, `balanced_accuracy`, `roc_auc`, `log_loss`, `f1` or `expected_cost`"
        )
        raise UsageError(
            f"the metric `{name}` is a {'regression' if regression_metric else 'classification'} metric, "
            f"but `task.type` is {task}",
            f"set `task.metric` to {choices}, or change `task.type`",
        )
    if regression_metric:
        if name == "r2":
            return MetricSpec(name, True, False, 0.0, R2_WORST_COST)
        worst = UNKNOWN_SCALE_WORST_COST
        if y is not None:
            values = np.asarray(y, dtype=float)
            scale = float(np.nanstd(values)) if len(values) else 0.0
            if not scale > 0:
                scale = max(float(np.nanmean(np.abs(values))) if len(values) else 0.0, 1.0)
            worst = REGRESSION_WORST_STDS * scale
        return MetricSpec(name, False, False, 0.0, worst)

    class_tuple = tuple(classes) if classes is not None else None
    n_classes = len(class_tuple) if class_tuple is not None else 2
    positive = None
    if config.task.positive_label is not None:
        positive = (
            match_labels([config.task.positive_label], class_tuple, what="`task.positive_label`")[0]
            if class_tuple is not None
            else config.task.positive_label
        )
    elif class_tuple is not None and len(class_tuple) == 2 and name in ("f1", "roc_auc"):
        positive = default_positive_label(class_tuple, y)

    if name == "accuracy":
        return MetricSpec(name, True, False, 0.0, 1.0, class_tuple)
    if name == "balanced_accuracy":
        return MetricSpec(name, True, False, 0.0, 1.0, class_tuple)
    if name == "f1":
        return MetricSpec(name, True, False, 0.0, 1.0, class_tuple, positive)
    if name == "roc_auc":
        return MetricSpec(name, True, True, 0.0, 1.0, class_tuple, positive)
    if name == "log_loss":
        worst = LOG_LOSS_WORST_FACTOR * math.log(max(n_classes, 2))
        return MetricSpec(name, False, True, 0.0, worst, class_tuple)
    if name == "expected_cost":
        matrix = _cost_matrix(config, class_tuple)
        flat = [c for row in matrix for c in row]
        return MetricSpec(name, False, True, min(flat), max(flat), class_tuple, None, matrix)
    raise UsageError(f"unknown metric `{name}`")


def _cost_matrix(config: Config, classes: tuple[Any, ...] | None) -> tuple[tuple[float, ...], ...]:
    """The config's cost matrix, validated and reordered to ``classes`` (rows true, columns predicted)."""
    spec = config.task.cost_matrix
    if spec is None:
        raise UsageError(
            "the metric `expected_cost` needs `task.cost_matrix`",
            "add `task.cost_matrix: {labels: [good, bad], costs: [[0, 1], [5, 0]]}` "
            "(rows: true class, columns: predicted class)",
        )
    n = len(spec.labels)
    if len(spec.costs) != n or any(len(row) != n for row in spec.costs):
        shape = f"{len(spec.costs)} rows of lengths {[len(r) for r in spec.costs]}"
        raise UsageError(
            f"`task.cost_matrix.costs` must be a {n} x {n} matrix (one row and column per label); got {shape}",
            "write one row per true class, one column per predicted class, in the order of `labels`",
        )
    for i, row in enumerate(spec.costs):
        for j, value in enumerate(row):
            if not math.isfinite(value) or value < 0:
                raise UsageError(
                    f"`task.cost_matrix.costs[{i}][{j}]` must be a finite non-negative number; got {value}",
                    "costs are non-negative; put 0 on the diagonal (correct predictions)",
                )
    keys = [label_key(label) for label in spec.labels]
    if len(set(keys)) != n:
        raise UsageError(f"`task.cost_matrix.labels` names a class twice: {keys}", "list each class once")
    if classes is None:
        return tuple(tuple(float(c) for c in row) for row in spec.costs)
    matched = match_labels(spec.labels, classes, what="`task.cost_matrix.labels`")
    missing = [label_key(c) for c in classes if c not in matched]
    if missing:
        raise UsageError(
            "`task.cost_matrix.labels` does not name the class(es) "
            + ", ".join(f"`{m}`" for m in missing)
            + " of the target",
            f"give one label (and one row and column of costs) per class: {', '.join(label_key(c) for c in classes)}",
        )
    order = [matched.index(c) for c in classes]
    return tuple(tuple(float(spec.costs[i][j]) for j in order) for i in order)


def aligned_proba(estimator: Any, X: Any, classes: Sequence[Any]) -> np.ndarray:
    """``estimator.predict_proba(X)`` with one column per entry of ``classes``, in that order.

    A model fitted on a subsample or a fold may not have seen a rare class: its column is zero.
    """
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    fitted = list(getattr(estimator, "classes_", classes))
    if fitted == list(classes):
        return proba
    out = np.zeros((proba.shape[0], len(classes)), dtype=float)
    position = {cls: i for i, cls in enumerate(classes)}
    for column, cls in enumerate(fitted):
        out[:, position[cls]] = proba[:, column]
    return out
