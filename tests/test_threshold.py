"""The decision threshold: chosen on validation predictions, the same rule in the search and in the saved model
(scikit-learn's FixedThresholdClassifier), and a threshold that serves the rare class after a threshold-free
metric (ROC AUC)."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import FixedThresholdClassifier

from metaconf.config.model import Config
from metaconf.data.load import Dataset, load_dataset
from metaconf.targets.evaluate import Evaluator, _decisions
from metaconf.targets.metrics import MetricSpec
from metaconf.targets.threshold import _candidates, _costs, choose, natural_threshold


@cache
def rare_positives() -> Dataset:
    """Breast cancer with 5 % malignant rows: a model ranks well, yet predicts "benign" at 0.5 too often."""
    bunch = load_breast_cancer(as_frame=True)
    y = pd.Series(np.where(bunch.target == 0, "malignant", "benign"), name="diagnosis")
    rng = np.random.default_rng(0)
    benign = np.flatnonzero(y == "benign")
    malignant = rng.choice(np.flatnonzero(y == "malignant"), 19, replace=False)
    rows = np.sort(np.concatenate([benign, malignant]))
    X = bunch.data.iloc[rows, :4].reset_index(drop=True)  # four features: a task that is not trivial
    return Dataset(X, y.iloc[rows].reset_index(drop=True), "rare", "test", "classification")


def evaluator(metric: str, **task: object) -> Evaluator:
    config = Config.model_validate(
        {"task": {"type": "classification", "metric": metric, **task}, "resampling": {"strategy": "cv", "folds": 3}}
    )
    return Evaluator(config, rare_positives(), seed=0)


# --------------------------------------------------------------------------------------- the arithmetic
@pytest.mark.parametrize("name", ["f1", "balanced_accuracy", "expected_cost"])
def test_the_vectorised_costs_are_the_metric_s_own(name: str) -> None:
    rng = np.random.default_rng(3)
    classes = ("no", "yes")
    y = rng.choice(np.asarray(classes), 300, p=[0.85, 0.15])
    scores = np.clip((y == "yes") * 0.3 + rng.random(300) * 0.7, 0, 1)
    matrix = ((0.0, 1.0), (7.0, 0.0)) if name == "expected_cost" else None
    metric = MetricSpec(name, name != "expected_cost", name == "expected_cost", 0.0, 7.0 if matrix else 1.0, classes, "yes" if name == "f1" else None, matrix)
    thresholds = _candidates(scores)
    fast = _costs(name, y == "yes", scores, thresholds, (0.0, 7.0, 1.0, 0.0) if matrix else None)
    for t, cost in zip(thresholds, fast, strict=True):
        decisions = np.where(scores >= t, "yes", "no")
        assert cost == pytest.approx(metric.cost(y, y_pred=decisions, clip=False), abs=1e-12)


def test_without_a_gain_the_natural_threshold_stays() -> None:
    classes = ("a", "b")
    metric = MetricSpec("balanced_accuracy", True, False, 0.0, 1.0, classes)
    y = np.asarray(["a", "b"] * 50)
    perfect = (y == "b").astype(float)  # 0 / 1 probabilities: 0.5 already separates them
    assert choose(metric, y, perfect).value == 0.5
    cost = MetricSpec("expected_cost", False, True, 0.0, 9.0, classes, None, ((0.0, 1.0), (9.0, 0.0)))
    assert natural_threshold(cost, "b") == pytest.approx(0.1)  # Bayes: P(b) * 9 >= P(a) * 1


# ------------------------------------------------------------------------------- search vs saved model
@pytest.mark.parametrize("metric", ["f1", "balanced_accuracy"])
def test_the_search_scores_exactly_the_rule_the_saved_model_predicts_with(metric: str) -> None:
    ev = evaluator(metric)
    values = {"model": "linear"}
    evaluation = ev.evaluate(values, keep_models=True)
    threshold = evaluation.threshold
    assert threshold is not None and threshold.positive == "malignant" and threshold.value != 0.5
    # each fold's cost is the fold model, wrapped the way the saved model is, scored on its validation rows
    for (_, valid_rows), model, fold_cost in zip(ev.folds, evaluation.models, evaluation.fold_costs, strict=True):
        X_valid = ev._X_train.iloc[valid_rows]
        y_valid = ev._y_train.iloc[valid_rows].to_numpy()
        wrapped = FixedThresholdClassifier(FrozenEstimator(model), threshold=threshold.value, pos_label="malignant")
        wrapped.fit(X_valid, y_valid)  # frozen: nothing is refitted
        p_malignant = model.predict_proba(X_valid)[:, list(model.classes_).index("malignant")]
        assert wrapped.predict(X_valid).tolist() == _decisions(p_malignant, threshold).tolist()
        assert ev.metric.cost(y_valid, y_pred=wrapped.predict(X_valid)) == pytest.approx(fold_cost)
    report = ev.test_report(values, keep_model=True)
    assert report["threshold"].value == threshold.value
    saved = report["model"]
    assert saved["model"].threshold == threshold.value
    assert ev.metric.cost(ev._y_test.to_numpy(), y_pred=saved.predict(ev._X_test), clip=False) == report["test_cost"]


def test_a_model_without_probabilities_keeps_its_own_decision() -> None:
    """SVM margins saturate at +-1 on rare positives: a threshold among them did not carry over to the refit."""
    ev = evaluator("f1")
    values = {"model": "svm", "svm:kernel": "linear", "svm:C": 1.0}
    evaluation = ev.evaluate(values)
    assert evaluation.threshold is None
    report = ev.test_report(values, keep_model=True)
    assert report["threshold"] is None and not isinstance(report["model"]["model"], FixedThresholdClassifier)


def test_tuning_lowers_the_validation_cost_on_rare_positives() -> None:
    ev = evaluator("f1")
    tuned = ev.evaluate({"model": "linear"})
    assert tuned.threshold is not None
    assert tuned.cost <= tuned.threshold.default_cost
    assert tuned.threshold.value < 0.5  # the rare class is said "yes" to earlier


def test_a_threshold_free_metric_gets_a_threshold_that_serves_the_rare_class() -> None:
    ev = evaluator("roc_auc")
    values = {"model": "linear"}
    assert ev.evaluate(values).threshold is None  # the search itself is unchanged
    report = ev.test_report(values, keep_model=True)
    threshold = report["threshold"]
    assert threshold.serves == "balanced_accuracy" and threshold.value < 0.5
    y_test = ev._y_test.to_numpy()
    saved = report["model"]
    at_default = saved["model"].estimator_.predict(saved[:-1].transform(ev._X_test))
    assert balanced_accuracy_score(y_test, saved.predict(ev._X_test)) >= balanced_accuracy_score(y_test, at_default)
    assert report["test_score"] == pytest.approx(1 - ev.metric.cost(y_test, y_proba=saved.predict_proba(ev._X_test)))


def test_multiclass_and_regression_decide_nothing() -> None:
    for demo, task in (("wine", {"type": "classification", "metric": "f1"}), ("diabetes", {"type": "regression"})):
        config = Config.model_validate({"data": {"demo": demo}, "task": task})
        ev = Evaluator(config, load_dataset(config), seed=0)
        assert ev.evaluate({"model": "linear"}, decide=True).threshold is None


@pytest.mark.parametrize("metric", ["f1", "balanced_accuracy", "roc_auc"])
def test_decision_threshold_natural_keeps_the_model_s_own_decision_in_the_search_and_the_saved_model(
    metric: str,
) -> None:
    tuned, natural = evaluator(metric), evaluator(metric, decision_threshold="natural")
    assert tuned.metric.tune_threshold and not natural.metric.tune_threshold
    values = {"model": "linear"}
    evaluation = natural.evaluate(values, keep_models=True, decide=True)
    assert evaluation.threshold is None
    # every fold is scored at the model's own predict (0.5), which tuning beats on these rare positives
    for (_, valid_rows), model, fold_cost in zip(natural.folds, evaluation.models, evaluation.fold_costs, strict=True):
        X_valid = natural._X_train.iloc[valid_rows]
        y_valid = natural._y_train.iloc[valid_rows].to_numpy()
        expected = natural.metric.cost(y_valid, model.predict(X_valid), model.predict_proba(X_valid))
        assert fold_cost == pytest.approx(expected)
    if metric != "roc_auc":
        assert tuned.evaluate(values).cost < evaluation.cost
    report = natural.test_report(values, keep_model=True)
    assert report["threshold"] is None and not isinstance(report["model"]["model"], FixedThresholdClassifier)


def test_decision_threshold_natural_under_a_cost_matrix_is_the_bayes_rule() -> None:
    costs = {"labels": ["benign", "malignant"], "costs": [[0, 1], [10, 0]]}
    ev = evaluator("expected_cost", cost_matrix=costs, decision_threshold="natural")
    report = ev.test_report({"model": "linear"}, keep_model=True)
    assert report["threshold"] is None
    model = report["model"]
    proba = model.predict_proba(ev._X_test)
    assert model.predict(ev._X_test).tolist() == ev.metric.decide(proba).tolist()


# ----------------------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_run_reports_the_threshold_and_saves_a_model_that_uses_it(tmp_path: Path) -> None:
    data = rare_positives()
    data.X.assign(diagnosis=data.y).to_csv(tmp_path / "rare.csv", index=False)
    (tmp_path / "a.yaml").write_text(
        "task: {type: classification, target: diagnosis, metric: balanced_accuracy}\n"
        "data: {path: rare.csv}\nsearch_space: {models: [linear]}\n"
        "stopping: {n_trials: 12, walltime: 60s}\nexecution: {seed: 0}\n",
        encoding="utf-8",
    )
    ran = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", "a.yaml", "--save-model", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    run_dir = tmp_path / "runs" / "a"
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    threshold = results["incumbent"]["decision_threshold"]
    assert threshold["positive"] == "malignant" and threshold["serves"] == "balanced_accuracy"
    assert "validation predictions" in threshold["reason"]
    model = joblib.load(run_dir / "model.joblib")
    assert model["model"].threshold == pytest.approx(threshold["value"])
