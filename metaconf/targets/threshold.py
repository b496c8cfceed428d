"""The decision threshold of a binary classifier: chosen on validation predictions, the same rule at search
time and in the saved model.

A classifier's ``predict`` says "positive" from probability 0.5 on. That serves accuracy on balanced data and
little else: on a table with 3 % positives a model whose ranking is good (ROC AUC 0.75) still predicts the
majority class for nearly every row (balanced accuracy 0.52). What metaconf does, for binary tasks:

===========================================  ====================================================================
metric                                       decision rule
===========================================  ====================================================================
``f1``, ``balanced_accuracy``,               the threshold on P(positive) that minimises the metric's cost on
``expected_cost``                            the validation predictions of every fold (pooled), chosen inside
                                             each evaluation: the search compares configurations *at their best
                                             threshold*, and the saved model predicts with the incumbent's.
``roc_auc``, ``log_loss``                    threshold-free: the search is unchanged; the saved model predicts
                                             with the threshold that maximises *balanced accuracy* on the
                                             incumbent's validation predictions (both classes served equally:
                                             the rare class is not ignored).
``accuracy``                                 0.5 (what accuracy asks for).
===========================================  ====================================================================

``task.decision_threshold: natural`` switches this off: every metric keeps the model's own decision (0.5, or the
cost matrix's Bayes rule), for users who threshold the probabilities themselves.

The saved model's last step is scikit-learn's ``FixedThresholdClassifier`` holding that threshold, so
``model.predict`` is the decision the search scored (``metaconf run`` reports the threshold and why in
``results.json``). The threshold is chosen on the same rows that score the configuration (one number fitted
on hundreds of rows: a small optimism, the price of not fitting every configuration twice); the test score is
measured on rows neither saw.

A model without probabilities (an SVM, unless the metric needs probabilities and it is calibrated) keeps its
own ``predict``: decision margins saturate at +-1 on imbalanced data, and a threshold set among them in the
folds did not carry over to the refit (measured: test F1 0.06 where the fold predictions promised 0.49).

Candidate thresholds are the midpoints between consecutive distinct predicted probabilities (at most
:data:`MAX_CANDIDATES`, on quantiles beyond). Among equally good thresholds the one closest to the metric's
natural threshold is kept (0.5, or the Bayes threshold of a cost matrix), so a flat stretch does not push the
threshold to an extreme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from metaconf.targets.metrics import MetricSpec

TUNED_METRICS = ("f1", "balanced_accuracy", "expected_cost")
"""Binary metrics whose cost depends on the decision threshold: tuned during the search."""
THRESHOLD_FREE_METRICS = ("roc_auc", "log_loss")
"""Metrics that do not decide: the saved model's threshold serves balanced accuracy."""
MAX_CANDIDATES = 512


@dataclass(frozen=True)
class Threshold:
    """A decision threshold on the probability (or score) of ``positive``."""

    value: float
    positive: Any
    """The class predicted when the probability reaches ``value``."""
    negative: Any
    serves: str
    """The metric the threshold was chosen for."""
    validation_cost: float
    """That metric's cost at ``value`` on the validation predictions."""
    default_cost: float
    """The same cost at the natural threshold (0.5 or the cost matrix's Bayes threshold)."""

    def reason(self) -> str:
        return (
            f"predicts `{self.positive}` from P({self.positive}) >= {self.value:.4g} on: the threshold that gives the best "
            f"{self.serves.replace('_', ' ')} on the validation predictions (cost {self.validation_cost:.4g}, "
            f"{self.default_cost:.4g} at the default)"
        )

    def to_dict(self) -> dict[str, Any]:
        from metaconf.data.labels import label_key

        return {
            "value": float(self.value),
            "positive": label_key(self.positive),
            "serves": self.serves,
            "validation_cost": float(self.validation_cost),
            "default_cost": float(self.default_cost),
            "reason": self.reason(),
        }


def tuned_during_search(metric: MetricSpec) -> bool:
    """Does the search choose a threshold per configuration for this metric?"""
    return (
        metric.tune_threshold and metric.classes is not None and len(metric.classes) == 2 and metric.name in TUNED_METRICS
    )


def tuned_for_the_saved_model(metric: MetricSpec) -> bool:
    """Does the saved model get a threshold chosen for balanced accuracy (a threshold-free metric)?"""
    return (
        metric.tune_threshold
        and metric.classes is not None
        and len(metric.classes) == 2
        and metric.name in THRESHOLD_FREE_METRICS
    )


def positive_class(metric: MetricSpec) -> Any:
    """The class a threshold says "yes" to: the metric's positive label, else the costlier class to miss under
    a cost matrix, else the second class (scikit-learn's convention)."""
    assert metric.classes is not None and len(metric.classes) == 2
    if metric.positive_label is not None:
        return metric.positive_label
    if metric.cost_matrix is not None:
        missed = [metric.cost_matrix[i][1 - i] for i in range(2)]  # cost of predicting the other class
        return metric.classes[int(np.argmax(missed))] if missed[0] != missed[1] else metric.classes[1]
    return metric.classes[1]


def natural_threshold(metric: MetricSpec, positive: Any) -> float:
    """0.5, or for a cost matrix the Bayes threshold: predict positive when P(pos) * C(miss pos) >= P(neg) *
    C(false alarm)."""
    if metric.cost_matrix is None or metric.classes is None:
        return 0.5
    p = list(metric.classes).index(positive)
    n = 1 - p
    matrix = metric.cost_matrix
    miss = matrix[p][n] - matrix[p][p]  # extra cost of predicting negative for a positive row
    alarm = matrix[n][p] - matrix[n][n]
    if miss + alarm <= 0:
        return 0.5
    return float(alarm / (miss + alarm))


def choose(metric: MetricSpec, y_true: Any, scores: Any, *, serves: str | None = None) -> Threshold:
    """The threshold on ``scores`` (P(positive), one per row) with the lowest cost of the metric ``serves``
    (default: ``metric`` itself; ``balanced_accuracy`` for a threshold-free metric)."""
    assert metric.classes is not None and len(metric.classes) == 2
    name = serves or metric.name
    positive = positive_class(metric)
    negative = next(c for c in metric.classes if c != positive)
    truth = np.asarray(y_true) == positive
    values = np.asarray(scores, dtype=float)
    matrix = _confusion_costs(metric, positive) if name == "expected_cost" else None
    natural = natural_threshold(metric, positive) if name == metric.name else 0.5
    candidates = _candidates(values)
    costs = _costs(name, truth, values, candidates, matrix)
    default_cost = float(_costs(name, truth, values, np.asarray([natural]), matrix)[0])
    best = float(costs.min())
    if default_cost <= best + 1e-12:
        return Threshold(natural, positive, negative, name, default_cost, default_cost)
    tied = candidates[costs <= best + 1e-12]
    value = float(tied[np.argmin(np.abs(tied - natural))])
    return Threshold(value, positive, negative, name, best, default_cost)


def _confusion_costs(metric: MetricSpec, positive: Any) -> tuple[float, float, float, float]:
    """(cost of a true positive, false negative, false positive, true negative) under the cost matrix."""
    assert metric.classes is not None and metric.cost_matrix is not None
    p = list(metric.classes).index(positive)
    n = 1 - p
    c = metric.cost_matrix
    return c[p][p], c[p][n], c[n][p], c[n][n]


def _costs(
    name: str, truth: np.ndarray, values: np.ndarray, thresholds: np.ndarray, matrix: tuple[float, ...] | None
) -> np.ndarray:
    """The metric's cost at each threshold (vectorised over the confusion counts; equal to
    :meth:`MetricSpec.cost` on the decisions ``values >= threshold``)."""
    positives = np.sort(values[truth])
    negatives = np.sort(values[~truth])
    n_pos, n_neg = len(positives), len(negatives)
    tp = n_pos - np.searchsorted(positives, thresholds, side="left")
    fp = n_neg - np.searchsorted(negatives, thresholds, side="left")
    fn, tn = n_pos - tp, n_neg - fp
    if name == "f1":
        denominator = 2 * tp + fp + fn
        f1 = np.divide(2 * tp, denominator, out=np.zeros(len(thresholds)), where=denominator > 0)
        return 1.0 - f1
    if name == "balanced_accuracy":  # mean recall over the classes present
        recalls = []
        if n_pos:
            recalls.append(tp / n_pos)
        if n_neg:
            recalls.append(tn / n_neg)
        return 1.0 - np.mean(recalls, axis=0)
    if name == "expected_cost":
        assert matrix is not None
        c_tp, c_fn, c_fp, c_tn = matrix
        return (tp * c_tp + fn * c_fn + fp * c_fp + tn * c_tn) / max(1, n_pos + n_neg)
    raise ValueError(f"no threshold rule for the metric `{name}`")


def _candidates(values: np.ndarray) -> np.ndarray:
    distinct = np.unique(values[np.isfinite(values)])
    if len(distinct) > MAX_CANDIDATES:
        distinct = np.unique(np.quantile(distinct, np.linspace(0, 1, MAX_CANDIDATES)))
    if len(distinct) == 0:
        return np.asarray([0.5])
    middles = (distinct[:-1] + distinct[1:]) / 2
    # below every score (all positive) and above every score (all negative) are decisions too
    return np.concatenate([[distinct[0] - 1e-9], middles, [distinct[-1] + 1e-9]])


def scores_of(model: Any, X: Any, positive: Any, classes: Any) -> np.ndarray:
    """P(positive) per row."""
    from metaconf.targets.metrics import aligned_proba

    proba = aligned_proba(model, X, classes)
    return proba[:, list(classes).index(positive)]


def with_threshold(estimator: Any, threshold: Threshold) -> Any:
    """``estimator`` (unfitted) wrapped so that ``predict`` says ``threshold.positive`` from the threshold on."""
    from sklearn.model_selection import FixedThresholdClassifier

    return FixedThresholdClassifier(
        estimator, threshold=threshold.value, pos_label=threshold.positive, response_method="predict_proba"
    )
