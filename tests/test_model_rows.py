"""The saved model is fitted on every row once the test score is measured (``--model-rows all``), with the
incumbent's settings, seed and decision threshold; it falls back to the model the test score describes when
the budget has no time left for the fit, when that fit diverges, or with ``--model-rows search``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from metaconf.config.model import Config
from metaconf.data.load import Dataset
from metaconf.targets.evaluate import Evaluator
from metaconf.targets.smac.runner import _saved_model_rows


def cancer(n: int = 300) -> Dataset:
    bunch = load_breast_cancer(as_frame=True)
    y = pd.Series(np.where(bunch.target == 0, "malignant", "benign"), name="diagnosis")
    return Dataset(bunch.data.iloc[:n, :6], y.iloc[:n], "cancer", "test", "classification")


def evaluator(metric: str = "accuracy", walltime: str | None = None) -> Evaluator:
    raw: dict[str, object] = {
        "task": {"type": "classification", "metric": metric},
        "resampling": {"strategy": "cv", "folds": 3},
        "data": {"test_size": 0.25},
    }
    if walltime is not None:
        raw["budget"] = {"walltime": walltime}
    return Evaluator(Config.model_validate(raw), cancer(), seed=0)


def fitted_rows(model: object) -> int:
    estimator = model["model"]  # type: ignore[index]
    estimator = getattr(estimator, "estimator_", estimator)  # FixedThresholdClassifier keeps the fitted one
    return int(estimator.n_samples_fit_)


KNN = {"model": "k_nearest_neighbors", "k_nearest_neighbors:n_neighbors": 5}


def test_the_all_rows_fit_sees_search_and_test_rows_with_the_same_settings() -> None:
    ev = evaluator()
    report = ev.test_report(KNN, keep_model=True)
    assert (report["n_train"], report["n_test"]) == (225, 75)
    assert fitted_rows(report["model"]) == 225
    model = ev.refit_all_rows(KNN, seed=report["estimator_seed"], validation_cost=report["validation_cost"])
    assert model is not None and fitted_rows(model) == 300
    assert model["model"].get_params() == report["model"]["model"].get_params()


def test_the_decision_threshold_carries_over_to_the_all_rows_fit() -> None:
    ev = evaluator("balanced_accuracy")
    values = {"model": "linear"}
    report = ev.test_report(values, keep_model=True)
    threshold = report["threshold"]
    assert threshold is not None and threshold.positive == "malignant"
    model = ev.refit_all_rows(
        values, seed=report["estimator_seed"], validation_cost=report["validation_cost"], threshold=threshold
    )
    assert model is not None
    assert model["model"].threshold == report["model"]["model"].threshold == threshold.value
    assert model["model"].pos_label == "malignant"


def test_a_diverged_all_rows_fit_is_not_returned() -> None:
    ev = evaluator()
    # a 1-NN fits its own rows perfectly: against a claimed validation cost of 0 it passes ...
    one_nn = {"model": "k_nearest_neighbors", "k_nearest_neighbors:n_neighbors": 1}
    assert ev.refit_all_rows(one_nn, seed=0, validation_cost=0.0) is not None
    # ... a 50-NN does not (its training error is far above 2 x the 0.005 floor)
    fifty = {"model": "k_nearest_neighbors", "k_nearest_neighbors:n_neighbors": 50}
    assert ev.refit_all_rows(fifty, seed=0, validation_cost=0.0) is None


def test_no_test_rows_means_nothing_to_add() -> None:
    config = Config.model_validate({"task": {"type": "classification"}, "data": {"test_size": 0}})
    ev = Evaluator(config, cancer(), seed=0)
    assert ev.refit_all_rows(KNN, seed=0) is None


def test_the_saved_model_falls_back_when_the_budget_has_no_time_left() -> None:
    ev = evaluator(walltime="60s")
    report = ev.test_report(KNN, keep_model=True)
    tested = report["model"]
    # the run started 59.99 s ago: no fit fits in what is left
    model, rows = _saved_model_rows(ev, KNN, report | {"fit_seconds": 1.0}, ev.config, time.monotonic() - 59.99,
                                    tested, "all")  # fmt: skip
    assert model is tested and rows["fitted_on"] == "search rows" and rows["rows"] == 225
    assert "budget.walltime has 0.0 s left" in rows["why"]
    # just started: the fit on all rows is made
    model, rows = _saved_model_rows(ev, KNN, report, ev.config, time.monotonic(), tested, "all")
    assert model is not tested and fitted_rows(model) == 300
    assert rows == {"rows": 300, "fitted_on": "search and test rows", "why": rows["why"]}
    assert "the 75 test rows became training data too" in rows["why"]
    model, rows = _saved_model_rows(ev, KNN, report, ev.config, time.monotonic(), tested, "search")
    assert model is tested and rows["fitted_on"] == "search rows" and "--model-rows search" in rows["why"]


@pytest.mark.parametrize("flag", [[], ["--model-rows", "search"]])
def test_run_saves_and_reports_the_rows_of_its_model(tmp_path: Path, flag: list[str]) -> None:
    data = cancer()
    data.X.assign(diagnosis=data.y).to_csv(tmp_path / "c.csv", index=False)
    (tmp_path / "a.yaml").write_text(
        "task: {type: classification, target: diagnosis, metric: accuracy}\n"
        "data: {path: c.csv, test_size: 0.25}\n"
        "search_space: {models: [k_nearest_neighbors]}\n"
        "stopping: {n_trials: 4}\nexecution: {seed: 0}\n",
        encoding="utf-8",
    )
    ran = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", "a.yaml", "--save-model", *flag],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    run_dir = tmp_path / "runs" / "a"
    rows = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["incumbent"]["model_rows"]
    expected = 225 if flag else 300
    assert rows["rows"] == expected
    assert fitted_rows(joblib.load(run_dir / "model.joblib")) == expected
    assert f"fitted on {expected:,} {rows['fitted_on']}" in " ".join(ran.stdout.split())
