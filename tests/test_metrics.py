"""Metrics as costs: each against scikit-learn's own computation, expected cost by hand, finite worst costs."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from metaconf.config.model import Config
from metaconf.errors import UsageError
from metaconf.targets.metrics import MetricSpec, aligned_proba, default_positive_label, label_key, metric_for


def make_config(metric: str, task_type: str = "classification", **task: object) -> Config:
    return Config.model_validate({"task": {"type": task_type, "metric": metric, **task}})


RNG = np.random.default_rng(0)
BINARY = np.array(["bad", "good"], dtype=object)
Y_BIN = RNG.choice(BINARY, size=60, p=[0.3, 0.7])
P_BIN = np.clip(RNG.random(60) * 0.6 + (Y_BIN == "good") * 0.3, 0, 1)  # P(good), informative but noisy
PROBA_BIN = np.column_stack([1 - P_BIN, P_BIN])
PRED_BIN = np.where(P_BIN > 0.5, "good", "bad").astype(object)

MULTI = np.array(["a", "b", "c"], dtype=object)
Y_MULTI = RNG.choice(MULTI, size=90)
RAW = RNG.random((90, 3)) + np.stack([np.equal(Y_MULTI, c) for c in MULTI], axis=1) * 0.8
PROBA_MULTI = RAW / RAW.sum(axis=1, keepdims=True)
PRED_MULTI = MULTI[np.argmax(PROBA_MULTI, axis=1)]


def test_accuracy_and_balanced_accuracy_match_sklearn():
    acc = metric_for(make_config("accuracy"), BINARY)
    bal = metric_for(make_config("balanced_accuracy"), MULTI)
    assert acc.cost(Y_BIN, PRED_BIN) == pytest.approx(1 - skm.accuracy_score(Y_BIN, PRED_BIN))
    assert bal.cost(Y_MULTI, PRED_MULTI) == pytest.approx(
        1 - skm.balanced_accuracy_score(Y_MULTI, PRED_MULTI)
    )
    assert acc.greater_is_better and not acc.needs_proba


def test_roc_auc_binary_and_multiclass_ovr_macro_match_sklearn():
    binary = metric_for(make_config("roc_auc"), BINARY)
    assert binary.needs_proba
    assert binary.cost(Y_BIN, y_proba=PROBA_BIN) == pytest.approx(
        1 - skm.roc_auc_score(Y_BIN == "good", P_BIN)
    )
    multi = metric_for(make_config("roc_auc"), MULTI)
    expected = skm.roc_auc_score(Y_MULTI, PROBA_MULTI, multi_class="ovr", average="macro", labels=list(MULTI))
    assert multi.cost(Y_MULTI, y_proba=PROBA_MULTI) == pytest.approx(1 - expected)


def test_roc_auc_does_not_depend_on_the_positive_label():
    as_bad = metric_for(make_config("roc_auc", positive_label="bad"), BINARY)
    as_good = metric_for(make_config("roc_auc", positive_label="good"), BINARY)
    assert as_bad.cost(Y_BIN, y_proba=PROBA_BIN) == pytest.approx(as_good.cost(Y_BIN, y_proba=PROBA_BIN))


def test_roc_auc_multiclass_is_defined_when_a_class_is_missing_from_the_rows():
    spec = metric_for(make_config("roc_auc"), MULTI)
    keep = Y_MULTI != "c"
    cost = spec.cost(Y_MULTI[keep], y_proba=PROBA_MULTI[keep])
    expected = np.mean(
        [skm.roc_auc_score(Y_MULTI[keep] == c, PROBA_MULTI[keep][:, i]) for i, c in enumerate("ab")]
    )
    assert cost == pytest.approx(1 - expected)


def test_log_loss_matches_sklearn_and_is_capped():
    spec = metric_for(make_config("log_loss"), MULTI)
    assert spec.cost(Y_MULTI, y_proba=PROBA_MULTI) == pytest.approx(
        skm.log_loss(Y_MULTI, PROBA_MULTI, labels=list(MULTI))
    )
    assert spec.worst_cost == pytest.approx(3 * math.log(3))
    confident_wrong = np.zeros_like(PROBA_MULTI)
    confident_wrong[np.arange(90), (np.searchsorted(MULTI, Y_MULTI) + 1) % 3] = 1.0
    assert spec.cost(Y_MULTI, y_proba=confident_wrong) == spec.worst_cost
    assert spec.cost(Y_MULTI, y_proba=confident_wrong, clip=False) > spec.worst_cost


def test_f1_binary_uses_the_positive_label_and_minority_by_default():
    explicit = metric_for(make_config("f1", positive_label="good"), BINARY)
    assert explicit.positive_label == "good"
    assert explicit.cost(Y_BIN, PRED_BIN) == pytest.approx(
        1 - skm.f1_score(Y_BIN, PRED_BIN, pos_label="good")
    )
    default = metric_for(make_config("f1"), BINARY, pd.Series(Y_BIN))
    assert default.positive_label == "bad"  # the minority class (30 %)
    assert default.cost(Y_BIN, PRED_BIN) == pytest.approx(1 - skm.f1_score(Y_BIN, PRED_BIN, pos_label="bad"))


def test_f1_multiclass_is_macro():
    spec = metric_for(make_config("f1"), MULTI)
    assert spec.cost(Y_MULTI, PRED_MULTI) == pytest.approx(
        1 - skm.f1_score(Y_MULTI, PRED_MULTI, average="macro")
    )


@pytest.mark.parametrize(
    ("classes", "counts", "expected"),
    [
        ([0, 1], [10, 90], 1),  # conventional 1/0 wins over the minority rule
        (["no", "yes"], [90, 10], "yes"),
        ([False, True], [5, 50], True),
        (["benign", "malignant"], [357, 212], "malignant"),
        (["a", "b"], [5, 5], "b"),  # tie: sklearn's convention, the last class
    ],
)
def test_default_positive_label(classes, counts, expected):
    y = pd.Series(np.repeat(np.array(classes, dtype=object), counts))
    assert default_positive_label(classes, y) == expected


def test_expected_cost_german_credit_by_hand():
    # Rows: true class, columns: predicted. Predicting good for a bad customer costs 5, the reverse 1.
    config = make_config("expected_cost", cost_matrix={"labels": ["good", "bad"], "costs": [[0, 1], [5, 0]]})
    spec = metric_for(config, ["bad", "good"])  # data classes sorted: matrix is reordered to them
    assert spec.cost_matrix == ((0.0, 5.0), (1.0, 0.0))
    y_true = np.array(["good", "good", "bad", "bad", "good"], dtype=object)
    y_pred = np.array(["good", "bad", "good", "bad", "good"], dtype=object)
    # one good-as-bad (1) + one bad-as-good (5) over 5 rows
    assert spec.cost(y_true, y_pred) == pytest.approx(6 / 5)
    assert spec.score(spec.cost(y_true, y_pred)) == pytest.approx(6 / 5)
    assert (spec.best_cost, spec.worst_cost) == (0.0, 5.0)
    assert not spec.greater_is_better


def test_expected_cost_bayes_decision_from_probabilities():
    config = make_config("expected_cost", cost_matrix={"labels": ["good", "bad"], "costs": [[0, 1], [5, 0]]})
    spec = metric_for(config, ["bad", "good"])
    # P(bad) = 0.2 > 1/6: predicting good costs 0.2*5 = 1.0, predicting bad costs 0.8*1 = 0.8 -> bad
    proba = np.array([[0.2, 0.8], [0.1, 0.9]])
    assert list(spec.decide(proba)) == ["bad", "good"]
    y_true = np.array(["good", "good"], dtype=object)
    assert spec.cost(y_true, y_proba=proba) == pytest.approx(
        0.5
    )  # one good customer refused: cost 1 / 2 rows


def test_cost_matrix_labels_match_data_classes_as_strings():
    config = make_config("expected_cost", cost_matrix={"labels": [1, 2], "costs": [[0, 1], [5, 0]]})
    assert metric_for(config, ["1", "2"]).cost_matrix == ((0.0, 1.0), (5.0, 0.0))
    assert metric_for(config, [1.0, 2.0]).cost_matrix == ((0.0, 1.0), (5.0, 0.0))
    cased = make_config("expected_cost", cost_matrix={"labels": ["Good", "Bad"], "costs": [[0, 1], [5, 0]]})
    assert metric_for(cased, ["bad", "good"]).cost_matrix == ((0.0, 5.0), (1.0, 0.0))
    assert label_key(np.int64(3)) == "3" and label_key(True) == "True" and label_key(2.0) == "2"


@pytest.mark.parametrize(
    ("cost_matrix", "message"),
    [
        ({"labels": ["good", "evil"], "costs": [[0, 1], [5, 0]]}, "the label `evil` is not a class"),
        ({"labels": ["good", "bad"], "costs": [[0, 1], [5]]}, "must be a 2 x 2 matrix"),
        ({"labels": ["good", "bad"], "costs": [[0, -1], [5, 0]]}, "finite non-negative"),
        ({"labels": ["good", "good"], "costs": [[0, 1], [5, 0]]}, "names a class twice"),
    ],
)
def test_cost_matrix_errors_are_clear(cost_matrix, message):
    with pytest.raises(UsageError, match=message):
        metric_for(make_config("expected_cost", cost_matrix=cost_matrix), ["bad", "good"])


def test_cost_matrix_missing_a_class_and_missing_matrix():
    config = make_config("expected_cost", cost_matrix={"labels": ["a", "b"], "costs": [[0, 1], [1, 0]]})
    with pytest.raises(UsageError, match="does not name the class"):
        metric_for(config, ["a", "b", "c"])
    with pytest.raises(UsageError, match=r"needs `task\.cost_matrix`"):
        metric_for(make_config("expected_cost"), ["a", "b"])


def test_unknown_positive_label_is_a_usage_error():
    with pytest.raises(UsageError, match=r"`task\.positive_label`: the label `maybe`"):
        metric_for(make_config("f1", positive_label="maybe"), BINARY)


def test_regression_metrics_match_sklearn_with_data_derived_worst_cost():
    y = pd.Series(RNG.normal(100, 15, size=80))
    pred = y.to_numpy() + RNG.normal(0, 5, size=80)
    rmse = metric_for(make_config("rmse", "regression"), None, y)
    mae = metric_for(make_config("mae", "regression"), None, y)
    r2 = metric_for(make_config("r2", "regression"), None, y)
    assert rmse.cost(y, pred) == pytest.approx(skm.root_mean_squared_error(y, pred))
    assert mae.cost(y, pred) == pytest.approx(skm.mean_absolute_error(y, pred))
    assert r2.cost(y, pred) == pytest.approx(1 - skm.r2_score(y, pred))
    assert rmse.worst_cost == pytest.approx(10 * np.std(y))
    assert rmse.cost(y, pred + 1e6) == rmse.worst_cost
    assert r2.score(r2.cost(y, pred)) == pytest.approx(skm.r2_score(y, pred))


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "roc_auc", "log_loss", "f1"])
def test_classification_cost_score_round_trip_and_finite_worst(metric):
    spec = metric_for(make_config(metric), BINARY, pd.Series(Y_BIN))
    cost = spec.cost(Y_BIN, PRED_BIN, PROBA_BIN)
    assert spec.best_cost <= cost <= spec.worst_cost
    assert math.isfinite(spec.worst_cost) and spec.worst_cost > spec.best_cost
    own_scale = {
        "accuracy": skm.accuracy_score(Y_BIN, PRED_BIN),
        "balanced_accuracy": skm.balanced_accuracy_score(Y_BIN, PRED_BIN),
        "roc_auc": skm.roc_auc_score(Y_BIN == "good", P_BIN),
        "log_loss": skm.log_loss(Y_BIN, PROBA_BIN, labels=list(BINARY)),
        "f1": skm.f1_score(Y_BIN, PRED_BIN, pos_label="bad"),
    }[metric]
    assert spec.score(cost) == pytest.approx(own_scale)
    assert spec.greater_is_better == (metric != "log_loss")


@pytest.mark.parametrize("metric", ["rmse", "mae", "r2"])
def test_regression_worst_cost_finite_even_without_data(metric):
    spec = metric_for(make_config(metric, "regression"))
    assert math.isfinite(spec.worst_cost)
    constant = metric_for(make_config(metric, "regression"), None, pd.Series([3.0] * 10))
    assert math.isfinite(constant.worst_cost) and constant.worst_cost > 0


def test_nan_cost_becomes_worst_cost_and_spec_pickles():
    spec = metric_for(make_config("rmse", "regression"), None, pd.Series([1.0, 2.0, 3.0]))
    assert spec.cost([1.0, 2.0], [np.nan, 1.0]) == spec.worst_cost
    assert pickle.loads(pickle.dumps(spec)) == spec


@pytest.mark.parametrize(
    ("metric", "task_type", "message"),
    [
        ("accuracy", "regression", "a classification metric"),
        ("rmse", "classification", "a regression metric"),
    ],
)
def test_metric_must_fit_the_task_type(metric, task_type, message):
    with pytest.raises(UsageError, match=message):
        metric_for(make_config(metric, task_type))


def test_metric_default_is_accuracy_or_rmse():
    assert metric_for(Config(), BINARY).name == "accuracy"
    assert metric_for(Config.model_validate({"task": {"type": "regression"}})).name == "rmse"


def test_aligned_proba_fills_classes_the_model_never_saw():
    class Fitted:
        classes_ = np.array(["a", "c"], dtype=object)

        def predict_proba(self, X):
            return np.array([[0.25, 0.75]])

    assert aligned_proba(Fitted(), None, ["a", "b", "c"]).tolist() == [[0.25, 0.0, 0.75]]


def test_proba_shape_is_checked():
    spec = MetricSpec("log_loss", False, True, 0.0, 3.0, ("a", "b", "c"))
    with pytest.raises(ValueError, match="one column per class"):
        spec.cost(["a"], y_proba=[[0.5, 0.5]])


@settings(max_examples=60, deadline=None)
@given(
    costs=st.lists(st.lists(st.floats(0, 10), min_size=3, max_size=3), min_size=3, max_size=3),
    weights=st.lists(st.lists(st.floats(0.01, 1), min_size=3, max_size=3), min_size=1, max_size=20),
)
def test_bayes_decision_minimises_the_expected_cost_of_every_row(costs, weights):
    spec = MetricSpec(
        "expected_cost", False, True, 0.0, 10.0, ("a", "b", "c"), None, tuple(map(tuple, costs))
    )
    proba = np.asarray(weights) / np.sum(weights, axis=1, keepdims=True)
    expected = proba @ np.asarray(costs)  # expected cost of predicting each class, per row
    chosen = [("a", "b", "c").index(d) for d in spec.decide(proba)]
    assert np.allclose(expected[np.arange(len(proba)), chosen], expected.min(axis=1))


@settings(max_examples=60, deadline=None)
@given(
    metric=st.sampled_from(["accuracy", "balanced_accuracy", "roc_auc", "log_loss", "f1"]),
    labels=st.lists(st.sampled_from(["x", "y", "z"]), min_size=4, max_size=30),
    seed=st.integers(0, 1000),
)
def test_every_classification_cost_stays_within_best_and_worst(metric, labels, seed):
    y = np.asarray(labels, dtype=object)
    if len(set(labels)) < 2:
        return
    raw = np.random.default_rng(seed).random((len(y), 3))
    proba = raw / raw.sum(axis=1, keepdims=True)
    spec = metric_for(make_config(metric), ("x", "y", "z"), pd.Series(y))
    cost = spec.cost(y, y_pred=spec.decide(proba), y_proba=proba)
    assert spec.best_cost <= cost <= spec.worst_cost and math.isfinite(cost)
