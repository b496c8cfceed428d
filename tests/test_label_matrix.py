"""Every kind of target a user's table holds, through every metric, on both targets.

The kinds: integer 0/1, integer classes with gaps (1, 2, 5), strings with spaces, booleans, float-coded classes
(0.0 / 1.0, as pandas reads an integer column with a missing value), and a numeric target with few distinct
values that the user says is regression; the tables carry missing values and a categorical column.

Three levels, all real (scikit-learn fits, SMAC3 searches, auto-sklearn in its own environment):

- the Evaluator for every kind x every metric the task allows: a search evaluation, the refit the run saves and
  its ``predict``, the test score;
- auto-sklearn's test scoring (``runner._test_cost``) for every kind x metric, from probabilities in the
  worker's file format;
- ``metaconf suggest`` + ``metaconf run`` end to end for every kind on SMAC3 and on auto-sklearn.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from metaconf.config.model import Config
from metaconf.data.labels import label_array, label_key, normalize_labels
from metaconf.data.load import load_dataset
from metaconf.targets.evaluate import Evaluator

CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "roc_auc", "log_loss", "f1", "expected_cost")
REGRESSION_METRICS = ("rmse", "mae", "r2")
CLASSIFICATION_KINDS = ("int01", "int_gaps", "strings_spaces", "booleans", "float_coded")
ALL_KINDS = (*CLASSIFICATION_KINDS, "few_values_regression")
N_ROWS = 170


@cache
def table(kind: str) -> pd.DataFrame:
    """A small real table (N_ROWS rows) whose target is of ``kind``, with NaNs and a categorical column."""
    rng = np.random.default_rng(0)
    if kind == "int_gaps":
        bunch = load_wine(as_frame=True)
        target = bunch.target.map({0: 1, 1: 2, 2: 5})
    elif kind == "few_values_regression":
        bunch = load_diabetes(as_frame=True)
        target = (bunch.target // 60).astype(int)  # 1..5: a coarse score the user means as a quantity
    else:
        bunch = load_breast_cancer(as_frame=True)
        target = bunch.target
    rows = np.sort(rng.choice(len(target), N_ROWS, replace=False))
    frame = bunch.data.iloc[rows, :5].reset_index(drop=True).copy()
    frame.columns = [f"x{i}" for i in range(5)]
    y = target.iloc[rows].reset_index(drop=True)
    frame["grade"] = np.where(frame["x0"] > frame["x0"].median(), "high grade", "low grade")
    frame.loc[rng.choice(N_ROWS, 15, replace=False), "x1"] = np.nan
    frame.loc[rng.choice(N_ROWS, 10, replace=False), "grade"] = np.nan
    if kind == "strings_spaces":
        y = y.map({0: " malignant tumour", 1: "benign "})
    elif kind == "booleans":
        y = y.astype(bool)
    elif kind == "float_coded":
        y = y.astype(float)
    frame["label"] = y
    return frame


def classes_of(kind: str) -> list[Any]:
    return sorted(normalize_labels(table(kind)["label"]).unique().tolist())


def cost_matrix(kind: str) -> dict[str, Any]:
    """A cost matrix written the way a user writes labels in YAML (strings, stray spaces dropped)."""
    labels = [label_key(c) for c in classes_of(kind)]
    n = len(labels)
    costs = [[0.0 if i == j else float(1 + 4 * (i == 0)) for j in range(n)] for i in range(n)]
    return {"labels": labels, "costs": costs}


def cost_table(kind: str) -> str:
    """The cost matrix as a user writes it in a description: a markdown table, true class by row."""
    matrix = cost_matrix(kind)
    lines = ["What errors cost:", "", "| true \\ predicted | " + " | ".join(matrix["labels"]) + " |"]
    lines.append("|---" * (len(matrix["labels"]) + 1) + "|")
    for label, row in zip(matrix["labels"], matrix["costs"], strict=True):
        lines.append(f"| {label} | " + " | ".join(f"{c:g}" for c in row) + " |")
    return "\n".join(lines) + "\n"


def write_csv(kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.csv"
    table(kind).to_csv(path, index=False)
    return path


def config_for(kind: str, metric: str, path: Path) -> Config:
    task: dict[str, Any] = {"target": "label", "metric": metric}
    task["type"] = "regression" if kind == "few_values_regression" else "classification"
    if metric == "expected_cost":
        task["cost_matrix"] = cost_matrix(kind)
    return Config.model_validate({"task": task, "data": {"path": str(path)}, "resampling": {"strategy": "holdout"}})


# ------------------------------------------------------------------------------------------ normalisation
def test_normalised_labels_have_one_type_per_kind(tmp_path: Path) -> None:
    loaded = {
        kind: load_dataset(config_for(kind, "accuracy", write_csv(kind, tmp_path))).y for kind in CLASSIFICATION_KINDS
    }
    assert sorted(loaded["int01"].unique()) == [0, 1] and loaded["int01"].dtype == np.int64
    assert sorted(loaded["int_gaps"].unique()) == [1, 2, 5]
    assert sorted(loaded["strings_spaces"].unique()) == ["benign", "malignant tumour"]
    assert loaded["booleans"].dtype == bool
    assert loaded["float_coded"].dtype == np.int64 and sorted(loaded["float_coded"].unique()) == [0, 1]


def test_mixed_and_messy_labels_become_one_type() -> None:
    assert normalize_labels(pd.Series([1, "1", 2.0])).tolist() == ["1", "1", "2"]
    assert normalize_labels(pd.Series([" yes", "yes ", "no"])).tolist() == ["yes", "yes", "no"]
    assert normalize_labels(pd.Series([1.0, None, 0.0])).tolist()[::2] == [1, 0]
    assert normalize_labels(pd.Series([True, False], dtype=object)).dtype == bool
    with pytest.raises(ValueError, match="non-integer"):
        normalize_labels(pd.Series([0.5, 1.5]))


def test_label_arrays_are_typed_for_scikit_learn() -> None:
    from sklearn.utils.multiclass import type_of_target

    assert type_of_target(label_array(np.asarray([1, 2, 5, 1], dtype=object))) == "multiclass"
    assert type_of_target(label_array([True, False])) == "binary"
    assert type_of_target(label_array(["a b", "c"])) == "binary"


# ---------------------------------------------------------------------------------------- the Evaluator
@pytest.mark.parametrize("metric", CLASSIFICATION_METRICS)
@pytest.mark.parametrize("kind", CLASSIFICATION_KINDS)
def test_every_label_kind_scores_with_every_metric(kind: str, metric: str, tmp_path: Path) -> None:
    config = config_for(kind, metric, write_csv(kind, tmp_path))
    ev = Evaluator(config, load_dataset(config), seed=0)
    values = {"model": "random_forest", "n_estimators": 20}
    report = ev.test_report(values, keep_model=True)
    assert ev.metric.best_cost <= report["validation_cost"] < ev.metric.worst_cost
    assert report["test_cost"] is not None and np.isfinite(report["test_cost"])
    if metric in ("accuracy", "balanced_accuracy", "roc_auc", "f1"):
        assert report["test_score"] > 0.6  # a real model, not a constant
    predicted = report["model"].predict(ev._X_test)
    assert set(label_key(p) for p in predicted) <= {label_key(c) for c in ev.classes}


@pytest.mark.parametrize("metric", REGRESSION_METRICS)
def test_a_few_valued_numeric_target_is_regression_when_the_user_says_so(metric: str, tmp_path: Path) -> None:
    config = config_for("few_values_regression", metric, write_csv("few_values_regression", tmp_path))
    ev = Evaluator(config, load_dataset(config), seed=0)
    report = ev.test_report({"model": "random_forest", "n_estimators": 20})
    assert ev.classes is None and np.isfinite(report["test_cost"])


# ---------------------------------------------------------------------- auto-sklearn's test scoring
@pytest.mark.parametrize("metric", CLASSIFICATION_METRICS)
@pytest.mark.parametrize("kind", CLASSIFICATION_KINDS)
def test_autosklearn_test_scoring_reads_every_label_kind(kind: str, metric: str, tmp_path: Path) -> None:
    """The worker writes one probability column per class key; metaconf scores them against the test rows."""
    from metaconf.targets.autosklearn.compile import compile_autosklearn
    from metaconf.targets.autosklearn.runner import (
        PREDICTIONS_FILE,
        TARGET_COLUMN,
        _test_cost,
        prepare_frames,
    )

    config = config_for(kind, metric, write_csv(kind, tmp_path)).model_copy(update={"tool": "auto-sklearn"})
    dataset = load_dataset(config)
    ev = Evaluator(config, dataset, seed=0)
    train_y = dataset.y.reset_index(drop=True).iloc[ev.train_rows]
    plan = compile_autosklearn(config, run_dir=tmp_path / "run", seed=0, classes=ev.classes, y=train_y)
    _, test, _, _ = prepare_frames(ev, dataset)
    # perfect probabilities, written as the worker writes them (columns "proba:<key>" in the plan's order)
    keys = list(plan.metric.classes)
    truth = test[TARGET_COLUMN].astype(str).tolist()
    proba = pd.DataFrame({f"proba:{k}": [1.0 if t == k else 0.0 for t in truth] for k in keys})
    proba.to_csv(tmp_path / PREDICTIONS_FILE, index=False)
    cost = _test_cost(tmp_path / PREDICTIONS_FILE, test, ev, plan)
    assert cost == pytest.approx(ev.metric.best_cost, abs=1e-9)


# ------------------------------------------------------------------------------------- end to end (CLI)
def metaconf(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metaconf", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


E2E_METRIC = {
    "int01": "expected_cost",
    "int_gaps": "roc_auc",
    "strings_spaces": "f1",
    "booleans": "log_loss",
    "float_coded": "balanced_accuracy",
    "few_values_regression": "r2",
}


def suggest_and_run(kind: str, tool: str, folder: Path, *, budget: str) -> dict[str, Any]:
    path = write_csv(kind, folder)
    args = ["suggest", "--data", str(path), "--target", "label", "--budget", budget, "--no-probe"]
    args += ["--tool", tool, "--metric", E2E_METRIC[kind], "-o", "a.yaml"]
    if kind == "few_values_regression":
        args += ["--task", "regression"]
    if E2E_METRIC[kind] == "expected_cost":
        # the rule parser reads the cost table; the LLM (when installed) would add its reading time to the
        # reserve, and these budgets are sized for label kinds, not for a reading
        args += ["--describe", cost_table(kind), "--advisor", "rules"]
    suggested = metaconf(*args, cwd=folder)
    assert suggested.returncode == 0, suggested.stderr
    config = yaml.safe_load((folder / "a.yaml").read_text(encoding="utf-8"))
    if E2E_METRIC[kind] == "expected_cost":
        written = config["task"]["cost_matrix"]
        assert [label_key(v) for v in written["labels"]] == cost_matrix(kind)["labels"]
        assert written["costs"] == cost_matrix(kind)["costs"]
    ran = metaconf("run", "a.yaml", "--quiet", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    [results] = list((folder / "runs").glob("*/results.json"))
    return json.loads(results.read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_suggest_and_run_on_smac_for_every_label_kind(kind: str, tmp_path: Path) -> None:
    results = suggest_and_run(kind, "smac", tmp_path, budget="12s")
    assert results["status"] == "finished"
    assert results["metric"]["name"] == E2E_METRIC[kind]
    assert results["incumbent"]["test_score"] is not None


def _autosklearn_ready() -> bool:
    from metaconf.targets.autosklearn import environment as envs

    return envs.inspect_env(envs.env_dir()).ready


@pytest.mark.slow
@pytest.mark.skipif(
    not _autosklearn_ready(), reason="needs auto-sklearn's environment: run `metaconf backends install auto-sklearn`"
)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_suggest_and_run_on_autosklearn_for_every_label_kind(kind: str, tmp_path: Path) -> None:
    results = suggest_and_run(kind, "auto-sklearn", tmp_path, budget="40s")
    assert results["status"] == "finished", results.get("error")
    assert results["metric"]["name"] == E2E_METRIC[kind]
    assert results["incumbent"]["test_score"] is not None
