"""metaconf against the tools a user would otherwise run, at the same budget, on the same split and one core each.

For each dataset (``benchmarks/peer_datasets.py``: real tables that ship offline) x budget x seed, the rows are
split once (75 % train / 25 % test, stratified for classification, seeded) and written as ``train.csv`` and
``test.csv``. Then, one system at a time (never two at once):

- ``metaconf``: what a new user types, ``metaconf suggest --data train.csv --target T --budget B --describe D
  --seed S`` then ``metaconf run CONFIG --save-model``; the saved ``model.joblib`` predicts ``test.csv``.
  metaconf splits its own test rows off ``train.csv`` (``data.test_size``), so its saved model is fitted on
  fewer rows than the peers': that is what a user gets;
- ``flaml``: ``flaml.AutoML().fit(X, y, task=..., time_budget=B, n_jobs=1, seed=S)`` with FLAML's own metric
  (``--flaml-metric same`` hands it metaconf's metric where FLAML has it);
- ``autosklearn``: ``AutoSklearnClassifier / Regressor(time_left_for_this_task=B, n_jobs=1, seed=S)``, defaults
  otherwise, in metaconf's managed auto-sklearn environment (``metaconf backends install auto-sklearn``);
- ``random_forest``: scikit-learn's ``RandomForestClassifier / Regressor(n_jobs=1, random_state=S)``, default
  hyperparameters, text columns ordinal-encoded (no budget: it takes the seconds it takes).

The peers run in ``benchmarks/peers_driver.py`` subprocesses. Every process is pinned to ONE CPU
(``sched_setaffinity``, inherited by its children: SMAC's trial process, auto-sklearn's dask workers) with
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` = 1. The wall time is the whole
subprocess (start-up, imports, reading the CSV, search, refit; metaconf: suggest + run), measured from outside.

Scores are on the 25 % test rows: balanced accuracy (classification) or R² (regression) as the headline, and
the metric metaconf's advisor chose (read from the run's config, with its cost matrix) for every system where it
can be computed (a probability metric needs the system's probabilities). metaconf wins against a peer when its
headline score is more than 0.005 higher, ties within 0.005, loses otherwise (a failed system scores nothing and
loses). Ranks are per cell (1 = best, average ranks for equal scores); the median rank is over cells.

Run (slow: every cell runs every system for its budget)::

    python benchmarks/peers.py --budgets 60s --seeds 0 --out peers-60s.json
    python benchmarks/peers.py --datasets titanic churn --budgets 60s 300s --systems metaconf flaml
    python benchmarks/peers.py --reuse --out peers-60s.json           # print the tables again
    python benchmarks/peers.py --resume --out peers-60s.json          # run only the cells not in the file
    python benchmarks/peers.py --report a.json b.json a-seeds.json    # several files' tables together
    python benchmarks/peers.py --report a.json b.json --merged all.json  # ... and their records in one file
    python benchmarks/peers.py --report new.json --baseline old.json  # a change's metaconf against old.json's

With several seeds per dataset (each seed is another split), the tables end with each dataset's mean over its
seeds and the wins / ties / losses of those means: one seed's verdict flips on tables where two systems are
within their run-to-run noise, a mean over three is steadier.

The JSON is rewritten after every system run, so an interrupted benchmark keeps what finished.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from peer_datasets import DATASETS, DatasetUnavailable, load_frame  # noqa: E402

SYSTEMS = ("metaconf", "flaml", "autosklearn", "random_forest")
PEERS = SYSTEMS[1:]
SHORT = {"metaconf": "metaconf", "flaml": "FLAML", "autosklearn": "askl", "random_forest": "RF"}
TIE = 0.005
TEST_SIZE = 0.25
BUDGET_SLACK = 1.05
"""metaconf's wall time should stay within the budget + 5 %."""
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
FLAML_METRICS = {"accuracy": "accuracy", "roc_auc": "roc_auc", "log_loss": "log_loss", "f1": "f1", "r2": "r2",
                 "rmse": "rmse", "mae": "mae"}
"""metaconf metric -> FLAML's name for it (``--flaml-metric same``; others fall back to FLAML's default)."""


@dataclass
class Record:
    """One system on one dataset x budget x seed."""

    dataset: str
    task: str
    budget: str
    seed: int
    system: str
    status: str
    """``ok``, ``failed`` (the system ran and produced no predictions), ``timeout``, ``unavailable``."""
    score: float | None = None
    """Test balanced accuracy (classification) or R² (regression)."""
    headline: str = ""
    metaconf_metric: str | None = None
    metaconf_metric_score: float | None = None
    """The metric metaconf's advisor chose, on this system's test predictions (None: not computable)."""
    wall_s: float | None = None
    fit_s: float | None = None
    load_before: float | None = None
    """1-minute load average when the system started."""
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------- helpers
def parse_budget(text: str) -> float:
    import metaconf

    return metaconf.parse_duration(text)


def headline_score(task: str, y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Balanced accuracy (classification: labels matched by value, ``1`` = ``"1"``) or R²."""
    import metaconf

    value = metaconf.score(list(y_true), list(y_pred), metric="r2" if task == "regression" else "balanced_accuracy")
    assert value is not None  # neither needs probabilities
    return value


def compare(metaconf: float | None, peer: float | None, tie: float = TIE) -> str:
    """``win``, ``tie`` or ``loss`` of metaconf against a peer on the headline score (missing scores lose)."""
    if metaconf is None:
        return "loss" if peer is not None else "tie"
    if peer is None:
        return "win"
    if metaconf - peer > tie:
        return "win"
    if peer - metaconf > tie:
        return "loss"
    return "tie"


def ranks(scores: dict[str, float | None]) -> dict[str, float]:
    """Rank of each system in one cell: 1 = best, equal scores share their average rank, missing ones last."""
    value = {s: -math.inf if v is None else v for s, v in scores.items()}
    ordered = sorted(value, key=lambda s: value[s], reverse=True)
    out: dict[str, float] = {}
    position = 0
    while position < len(ordered):
        same = [s for s in ordered[position:] if value[s] == value[ordered[position]]]
        for system in same:
            out[system] = position + (len(same) + 1) / 2
        position += len(same)
    return out


def split(frame: Any, target: str, task: str, seed: int) -> tuple[Any, Any]:
    from sklearn.model_selection import train_test_split

    stratify = frame[target] if task != "regression" else None
    return train_test_split(frame, test_size=TEST_SIZE, random_state=seed, stratify=stratify)


def write_split(name: str, seed: int, folder: Path) -> tuple[Path, Path]:
    """``train.csv`` and ``test.csv`` of one dataset and seed (written once, reused by every system)."""
    folder.mkdir(parents=True, exist_ok=True)
    train_path, test_path = folder / "train.csv", folder / "test.csv"
    if not (train_path.exists() and test_path.exists()):
        dataset = DATASETS[name]
        train, test = split(load_frame(name), dataset.target, dataset.task, seed)
        train.to_csv(train_path, index=False)
        test.to_csv(test_path, index=False)
    return train_path, test_path


def single_core_env(extra_drop: Sequence[str] = ()) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in extra_drop}
    env.update({name: "1" for name in THREAD_VARIABLES})
    env["PYTHONWARNINGS"] = "ignore"
    return env


def run_pinned(command: Sequence[str], *, cpu: int | None, timeout: float, env: dict[str, str], log: Path,
               cwd: Path | None = None) -> tuple[int | None, float]:
    """Run a command on one CPU (its children inherit the affinity); (exit code or None on timeout, seconds).
    Output goes to ``log``; a command that outlives ``timeout`` is killed with its process group."""
    import signal

    def pin() -> None:
        os.setsid()
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    started = time.perf_counter()
    with log.open("ab") as out:
        out.write(f"$ {shlex.join(command)}\n".encode())
        out.flush()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                   preexec_fn=pin)
        try:
            code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = None
    return code, time.perf_counter() - started


def log_tail(log: Path, lines: int = 6) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-1200:]


# ------------------------------------------------------------------------------------------- metaconf metric
@dataclass
class MetaconfMetric:
    """The metric metaconf's advisor chose for a cell, ready to score any system's test predictions."""

    name: str
    config: Any
    """The suggested config (its metric, positive label and cost matrix)."""
    labels: list[Any]
    """The training labels the metric is resolved on, as metaconf resolves it."""

    def score(self, y_true: Sequence[Any], predictions: Sequence[Any], proba: Sequence[Sequence[float]] | None,
              classes: Sequence[str] | None) -> float | None:
        import metaconf

        return metaconf.score(y_true, predictions, config=self.config, proba=proba, classes=classes,
                              labels=self.labels)


def metaconf_metric(config_path: Path, train_path: Path, target: str) -> MetaconfMetric:
    """The metric of a suggested config, resolved on the training labels (as metaconf resolves it)."""
    import pandas as pd

    import metaconf

    config = metaconf.load_config(config_path)
    labels = pd.read_csv(train_path, usecols=[target])[target].dropna().tolist()
    return MetaconfMetric(config.effective_metric().value, config, labels)


# ------------------------------------------------------------------------------------------------- systems
@dataclass
class Cell:
    dataset: str
    budget: str
    seed: int
    train: Path
    test: Path
    folder: Path

    @property
    def spec(self) -> Any:
        return DATASETS[self.dataset]

    @property
    def budget_s(self) -> float:
        return parse_budget(self.budget)


@dataclass
class Options:
    cpu: int | None
    flaml_metric: str
    timeout_factor: float = 3.0
    timeout_extra_s: float = 120.0


def _timeout(cell: Cell, options: Options) -> float:
    return cell.budget_s * options.timeout_factor + options.timeout_extra_s


def _metaconf_source() -> Path:
    """The directory holding the ``metaconf`` package this driver imported (a ``git archive`` export on
    ``PYTHONPATH``, or the checkout of an editable install)."""
    import metaconf

    return Path(metaconf.__file__).resolve().parent.parent


def metaconf_command() -> list[str]:
    """``python -m metaconf`` that runs the metaconf this driver imported, whatever the working directory.

    ``-m`` puts the working directory first on ``sys.path``: started from a checkout, the commands ran that
    checkout's metaconf instead of the export on ``PYTHONPATH`` this driver measures, and an A/B run measured
    the checkout twice. With ``-P`` (Python 3.11+) the working directory is left out and :func:`metaconf_env`
    puts the source first; before 3.11 the commands run from the source directory (``metaconf_cwd``).
    """
    return [sys.executable, *(["-P"] if sys.version_info >= (3, 11) else []), "-m", "metaconf"]


def metaconf_env() -> dict[str, str]:
    """:func:`single_core_env` with the driver's metaconf first on ``PYTHONPATH``."""
    env = single_core_env()
    env["PYTHONPATH"] = os.pathsep.join(
        [str(_metaconf_source()), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    )
    return env


def metaconf_cwd() -> Path | None:
    """Where the metaconf commands run: anywhere with ``-P``, else the source directory (see
    :func:`metaconf_command`). The commands take absolute paths and write next to the config."""
    return None if sys.version_info >= (3, 11) else _metaconf_source()


def run_metaconf(cell: Cell, options: Options) -> tuple[Record, MetaconfMetric | None]:
    import joblib
    import pandas as pd
    import yaml

    folder = cell.folder / "metaconf"
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "metaconf.yaml"
    log = folder / "metaconf.log"
    log.unlink(missing_ok=True)
    record = Record(cell.dataset, cell.spec.task, cell.budget, cell.seed, "metaconf", "failed",
                    headline=_headline(cell.spec.task), load_before=os.getloadavg()[0])
    suggest = [*metaconf_command(), "suggest", "--data", str(cell.train), "--target", cell.spec.target,
               "--budget", cell.budget, "--describe", cell.spec.description, "--seed", str(cell.seed),
               "--output", str(config_path), "--force"]
    env = metaconf_env()
    timeout = _timeout(cell, options)
    code, suggest_s = run_pinned(suggest, cpu=options.cpu, timeout=timeout, env=env, log=log, cwd=metaconf_cwd())
    record.details["suggest_s"] = round(suggest_s, 2)
    if code != 0:
        record.status = "timeout" if code is None else "failed"
        record.wall_s = round(suggest_s, 2)
        record.error = f"metaconf suggest exited {code}: {log_tail(log)}"
        return record, None
    run = [*metaconf_command(), "run", str(config_path), "--save-model", "--quiet", "--overwrite"]
    code, run_s = run_pinned(run, cpu=options.cpu, timeout=max(timeout - suggest_s, 1.0), env=env, log=log,
                             cwd=metaconf_cwd())
    record.details["run_s"] = round(run_s, 2)
    record.wall_s = round(suggest_s + run_s, 2)
    metric: MetaconfMetric | None = None
    try:
        metric = metaconf_metric(config_path, cell.train, cell.spec.target)
        record.metaconf_metric = metric.name
    except Exception as error:  # the table still has the headline score
        record.details["metric_error"] = repr(error)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    record.details.update(_suggested(config))
    run_dirs = sorted(folder.glob("**/results.json"))
    if run_dirs:
        record.details.update(_run_summary(json.loads(run_dirs[0].read_text(encoding="utf-8"))))
    if code != 0:
        record.status = "timeout" if code is None else "failed"
        record.error = f"metaconf run exited {code}: {log_tail(log)}"
        return record, metric
    model_files = sorted(folder.glob("**/model.joblib"))
    if not model_files:
        record.error = f"metaconf run wrote no model.joblib: {log_tail(log)}"
        return record, metric
    test = pd.read_csv(cell.test)
    y_true = test[cell.spec.target]
    ignored = [c for c in (config.get("data") or {}).get("ignore_columns") or [] if c in test.columns]
    X_test = test.drop(columns=[cell.spec.target, *ignored])
    try:
        model = joblib.load(model_files[0])
        predictions = list(model.predict(X_test))
        proba, classes = None, None
        if cell.spec.task != "regression" and hasattr(model, "predict_proba"):
            proba = model.predict_proba(X_test).tolist()
            classes = list(model.classes_)
    except Exception as error:
        record.error = f"the saved model cannot predict test.csv: {error!r}"
        return record, metric
    _score(record, cell, y_true, predictions, proba, classes, metric)
    return record, metric


def _suggested(config: dict[str, Any]) -> dict[str, Any]:
    task = config.get("task") or {}
    space = config.get("search_space") or {}
    stopping = config.get("stopping") or {}
    return {
        "task_type": task.get("type"),
        "models": space.get("models"),
        "optimizer": (config.get("optimizer") or {}).get("kind"),
        "search_walltime": stopping.get("walltime"),
        "resampling": config.get("resampling"),
        "fidelity": (config.get("fidelity") or {}).get("type"),
    }


def _run_summary(results: dict[str, Any]) -> dict[str, Any]:
    incumbent = results.get("incumbent") or {}
    config = incumbent.get("config") or {}
    return {
        "run_status": results.get("status"),
        "stop_reason": results.get("stop_reason"),
        "n_trials": (results.get("trials") or {}).get("total"),
        "trials_by_status": (results.get("trials") or {}).get("by_status"),
        "incumbent_model": config.get("model"),
        "validation_score": incumbent.get("validation_score"),
        "own_test_score": incumbent.get("test_score"),
        "search_s": (results.get("time") or {}).get("search_s"),
        "total_s": (results.get("time") or {}).get("total_s"),
        "notes": results.get("notes"),
        "error": results.get("error"),
    }


def run_peer(cell: Cell, system: str, options: Options, metric: MetaconfMetric | None) -> Record:
    import pandas as pd

    folder = cell.folder / system
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{system}.log"
    log.unlink(missing_ok=True)
    output = folder / "predictions.json"
    output.unlink(missing_ok=True)
    record = Record(cell.dataset, cell.spec.task, cell.budget, cell.seed, system, "failed",
                    headline=_headline(cell.spec.task), load_before=os.getloadavg()[0])
    spec: dict[str, Any] = {
        "system": system, "train": str(cell.train), "test": str(cell.test), "target": cell.spec.target,
        "task": cell.spec.task, "budget_s": cell.budget_s, "seed": cell.seed, "output": str(output),
    }
    if system == "flaml" and options.flaml_metric == "same" and metric is not None:
        spec["flaml_metric"] = FLAML_METRICS.get(metric.name)
    spec_path = folder / "spec.json"
    spec_path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    driver = str(HERE / "peers_driver.py")
    if system == "autosklearn":
        python = autosklearn_python()
        if python is None:
            record.status = "unavailable"
            record.error = "auto-sklearn's environment is not ready: `metaconf backends install auto-sklearn`"
            return record
        import metaconf

        command, env = [str(python), "-I", driver, str(spec_path)], dict(metaconf.backend("auto-sklearn").environment)
        env.update({name: "1" for name in THREAD_VARIABLES})
    else:
        if system == "flaml" and not flaml_available():
            record.status = "unavailable"
            record.error = 'FLAML is not installed: `pip install -e ".[bench]"`'
            return record
        command, env = [sys.executable, driver, str(spec_path)], single_core_env()
    code, wall = run_pinned(command, cpu=options.cpu, timeout=_timeout(cell, options), env=env, log=log,
                            cwd=folder)
    record.wall_s = round(wall, 2)
    if code != 0 or not output.exists():
        record.status = "timeout" if code is None else "failed"
        record.error = f"{system} exited {code}: {log_tail(log)}"
        return record
    result = json.loads(output.read_text(encoding="utf-8"))
    record.fit_s = result.get("fit_s")
    record.details.update(result.get("info") or {})
    y_true = pd.read_csv(cell.test)[cell.spec.target]
    _score(record, cell, y_true, result["predictions"], result.get("proba"), result.get("classes"), metric)
    return record


def _headline(task: str) -> str:
    return "r2" if task == "regression" else "balanced_accuracy"


def _score(record: Record, cell: Cell, y_true: Any, predictions: Sequence[Any],
           proba: Sequence[Sequence[float]] | None, classes: Sequence[str] | None,
           metric: MetaconfMetric | None) -> None:
    if len(predictions) != len(y_true):
        record.error = f"{len(predictions)} predictions for {len(y_true)} test rows"
        return
    try:
        record.score = round(headline_score(cell.spec.task, list(y_true), predictions), 5)
    except Exception as error:  # e.g. a regression target predicted as classes
        record.error = f"cannot score the predictions: {error!r}"
        return
    record.status = "ok"
    if metric is not None:
        record.metaconf_metric = metric.name
        try:
            value = metric.score(list(y_true), predictions, proba, classes)
            record.metaconf_metric_score = None if value is None else round(value, 5)
        except Exception as error:
            record.details["metaconf_metric_error"] = repr(error)


def autosklearn_python() -> Path | None:
    import metaconf

    return metaconf.backend("auto-sklearn").python


def flaml_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("flaml") is not None


# ---------------------------------------------------------------------------------------------- the tables
def dataset_order(name: str) -> int:
    """The suite's order of datasets (unknown names last), for every table."""
    return list(DATASETS).index(name) if name in DATASETS else len(DATASETS)


def cells_of(records: Sequence[Record]) -> dict[tuple[str, str, int], dict[str, Record]]:
    out: dict[tuple[str, str, int], dict[str, Record]] = {}
    for record in records:
        out.setdefault((record.dataset, record.budget, record.seed), {})[record.system] = record
    return out


def _systems_in(records: Sequence[Record]) -> list[str]:
    present = {r.system for r in records}
    return [s for s in SYSTEMS if s in present]


def _cell_text(record: Record | None, budget_s: float) -> str:
    if record is None:
        return "-"
    if record.status == "unavailable":
        return "n/a"
    score = "FAIL" if record.score is None else f"{record.score:.4f}"
    if record.status == "timeout":
        score = "TIMEOUT"
    wall = "" if record.wall_s is None else f" {record.wall_s:5.0f}s"
    over = "!" if record.system == "metaconf" and record.wall_s and record.wall_s > budget_s * BUDGET_SLACK else ""
    return f"{score}{wall}{over}"


def summary(records: Sequence[Record]) -> dict[str, Any]:
    """W/T/L of metaconf against each peer, median ranks, and the cells over budget, per budget and overall."""
    systems = _systems_in(records)
    cells = cells_of(records)
    out: dict[str, Any] = {}
    for budget in sorted({r.budget for r in records}, key=parse_budget):
        in_budget = {k: v for k, v in cells.items() if k[1] == budget}
        wtl = {}
        for peer in [s for s in systems if s != "metaconf"]:
            counts = {"win": 0, "tie": 0, "loss": 0}
            for cell in in_budget.values():
                if "metaconf" in cell and peer in cell and cell[peer].status != "unavailable":
                    counts[compare(cell["metaconf"].score, cell[peer].score)] += 1
            wtl[peer] = counts
        rank_lists: dict[str, list[float]] = {s: [] for s in systems}
        for cell in in_budget.values():
            present = {s: r.score for s, r in cell.items() if r.status != "unavailable"}
            if len(present) < 2:
                continue
            for system, rank in ranks(present).items():
                rank_lists[system].append(rank)
        over = [
            f"{k[0]} (seed {k[2]}): {c['metaconf'].wall_s:.0f}s"
            for k, c in sorted(in_budget.items())
            if "metaconf" in c and c["metaconf"].wall_s and c["metaconf"].wall_s > parse_budget(budget) * BUDGET_SLACK
        ]
        out[budget] = {
            "wins_ties_losses": wtl,
            "median_rank": {s: statistics.median(v) for s, v in rank_lists.items() if v},
            "metaconf_over_budget": over,
            "cells": len(in_budget),
        }
    return out


def seed_means(records: Sequence[Record]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per budget, per dataset: each system's mean headline score over the dataset's seeds.

    Only budgets where some dataset ran more than one seed. A system has a mean for a dataset only when it has
    a record at every seed of that dataset (``unavailable`` records do not count), so every mean of a dataset
    is over the same splits; a failed run has no score, and a system with a failed seed has no mean (it loses,
    as a failed cell does)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    cells = cells_of(records)
    for budget in sorted({r.budget for r in records}, key=parse_budget):
        by_dataset: dict[str, dict[int, dict[str, Record]]] = {}
        for (dataset, cell_budget, seed), cell in cells.items():
            if cell_budget == budget:
                by_dataset.setdefault(dataset, {})[seed] = {
                    s: r for s, r in cell.items() if r.status != "unavailable"}
        if not any(len(seeds) > 1 for seeds in by_dataset.values()):
            continue
        out[budget] = {}
        for dataset in sorted(by_dataset, key=dataset_order):
            seeds = by_dataset[dataset]
            systems = set.intersection(*(set(cell) for cell in seeds.values()))
            entry: dict[str, Any] = {"seeds": sorted(seeds), "mean": {}, "sd": {}}
            for system in [s for s in SYSTEMS if s in systems]:
                scores = [seeds[seed][system].score for seed in sorted(seeds)]
                mean = entry["mean"][system] = _mean_or_none(scores)
                present = [float(score) for score in scores if score is not None]
                entry["sd"][system] = None if mean is None else statistics.stdev(present) if len(present) > 1 else 0.0
            out[budget][dataset] = entry
    return out


def _mean_verdicts(datasets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """W/T/L of metaconf's per-dataset mean against each peer's, and the largest shortfall (one budget's means)."""
    wtl: dict[str, dict[str, int]] = {}
    shortfall: dict[str, dict[str, Any]] = {}
    for peer in PEERS:
        counts = {"win": 0, "tie": 0, "loss": 0}
        worst: tuple[float, str] | None = None
        for dataset, entry in datasets.items():
            if "metaconf" not in entry["mean"] or peer not in entry["mean"]:
                continue
            mine, theirs = entry["mean"]["metaconf"], entry["mean"][peer]
            counts[compare(mine, theirs)] += 1
            if mine is not None and theirs is not None and (worst is None or theirs - mine > worst[0]):
                worst = (theirs - mine, dataset)
        if sum(counts.values()):
            wtl[peer] = counts
            if worst is not None:
                shortfall[peer] = {"dataset": worst[1], "by": worst[0]}
    return {"wins_ties_losses": wtl, "largest_shortfall": shortfall,
            "datasets": len(datasets), "seeds": sorted({s for e in datasets.values() for s in e["seeds"]})}


def seed_mean_summary(records: Sequence[Record]) -> dict[str, dict[str, Any]]:
    """Per budget with several seeds: :func:`_mean_verdicts` of :func:`seed_means`."""
    return {budget: _mean_verdicts(datasets) for budget, datasets in seed_means(records).items()}


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines.extend("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows)
    return lines


def _wtl_line(prefix: str, peer: str, counts: dict[str, int], after: str) -> str:
    n = sum(counts.values())
    share = (counts["win"] + counts["tie"]) / n if n else float("nan")
    return (f"{prefix}metaconf vs {SHORT[peer]:8s} wins {counts['win']:2d}  ties {counts['tie']:2d}  losses "
            f"{counts['loss']:2d}   (wins + ties {share:.0%} of {n}{after})")


def _render_seed_means(datasets: dict[str, dict[str, Any]], systems: Sequence[str], budget: str) -> list[str]:
    """The table of one budget's :func:`seed_means` and the verdicts on them."""
    systems = [s for s in systems if any(s in e["mean"] for e in datasets.values())]
    lines = [f"\n### budget {budget}: each dataset's mean over its seeds (± standard deviation over seeds)\n"]
    rows = []
    for dataset, entry in datasets.items():
        texts = []
        for system in systems:
            mean, sd = entry["mean"].get(system, "-"), entry["sd"].get(system)
            texts.append("-" if mean == "-" else "FAIL" if mean is None else f"{mean:.4f} ± {sd:.4f}")
        rows.append([dataset, ",".join(map(str, entry["seeds"])), *texts])
    lines += _markdown_table(["dataset", "seeds", *[SHORT[s] for s in systems]], rows)
    lines.append("")
    result = _mean_verdicts(datasets)
    for peer, counts in result["wins_ties_losses"].items():
        worst = result["largest_shortfall"].get(peer)
        behind = f"; largest shortfall {worst['by']:+.4f} on {worst['dataset']}" if worst and worst["by"] > 0 else ""
        lines.append(_wtl_line("on the means: ", peer, counts, behind))
    return lines


def render(records: Sequence[Record]) -> str:
    systems = _systems_in(records)
    cells = cells_of(records)
    means = seed_means(records)
    lines: list[str] = []
    for budget in sorted({r.budget for r in records}, key=parse_budget):
        budget_s = parse_budget(budget)
        lines.append(f"\n## budget {budget}: test balanced accuracy (classification) or R² (regression), wall seconds")
        lines.append("   (! = metaconf over budget + 5 %; last column: the metric metaconf chose, on each system's "
                     "test predictions, - where it needs probabilities the system does not give)\n")
        header = ["dataset", "task", "seed", *[SHORT[s] for s in systems], "metaconf metric: " +
                  " / ".join(SHORT[s] for s in systems)]
        rows = []
        for (dataset, cell_budget, seed), cell in sorted(cells.items(), key=lambda kv: (dataset_order(kv[0][0]), kv[0][2])):
            if cell_budget != budget:
                continue
            task = next(iter(cell.values())).task
            metric_name = next((r.metaconf_metric for r in cell.values() if r.metaconf_metric), None)
            metric_scores = " / ".join(
                "-" if s not in cell or cell[s].metaconf_metric_score is None else f"{cell[s].metaconf_metric_score:.4g}"
                for s in systems
            )
            metric_text = f"{metric_name}: {metric_scores}" if metric_name else "-"
            rows.append([dataset, task, str(seed), *[_cell_text(cell.get(s), budget_s) for s in systems], metric_text])
        lines += _markdown_table(header, rows)
        result = summary(records)[budget]
        lines.append("")
        for peer, counts in result["wins_ties_losses"].items():
            lines.append(_wtl_line("", peer, counts, f"; tie = within {TIE}"))
        lines.append("median rank: " + ", ".join(f"{SHORT[s]} {r:g}" for s, r in result["median_rank"].items()))
        if result["metaconf_over_budget"]:
            lines.append("metaconf over budget + 5 %: " + "; ".join(result["metaconf_over_budget"]))
        failed = [r for r in records if r.budget == budget and r.status in ("failed", "timeout")]
        for record in failed:
            lines.append(f"{record.status}: {record.system} on {record.dataset} (seed {record.seed}): {record.error}")
        if budget in means:
            lines += _render_seed_means(means[budget], systems, budget)
    return "\n".join(lines)


def change(records: Sequence[Record], baseline: Sequence[Record]) -> dict[str, dict[str, Any]]:
    """Per budget: metaconf in ``records`` against metaconf in ``baseline`` (another commit's run) on the cells
    both measured: W/T/L per run, on each dataset's mean over the seeds both have, and on the search's own
    validation score (:func:`compare_validation`)."""
    before = {(r.dataset, r.budget, r.seed): r for r in baseline if r.system == "metaconf"}
    after = {(r.dataset, r.budget, r.seed): r for r in records if r.system == "metaconf"}
    out: dict[str, dict[str, Any]] = {}
    for budget in sorted({key[1] for key in after}, key=parse_budget):
        shared = sorted((key for key in after if key[1] == budget and key in before),
                        key=lambda key: (dataset_order(key[0]), key[2]))
        per_run = {"win": 0, "tie": 0, "loss": 0}
        validation = {"win": 0, "tie": 0, "loss": 0}
        by_dataset: dict[str, list[tuple[float | None, float | None]]] = {}
        for key in shared:
            per_run[compare(after[key].score, before[key].score)] += 1
            by_dataset.setdefault(key[0], []).append((after[key].score, before[key].score))
            verdict = compare_validation(after[key], before[key])
            if verdict is not None:
                validation[verdict] += 1
        means: dict[str, dict[str, Any]] = {}
        on_means = {"win": 0, "tie": 0, "loss": 0}
        for dataset, pairs in by_dataset.items():
            new, old = _mean_or_none([a for a, _ in pairs]), _mean_or_none([b for _, b in pairs])
            means[dataset] = {"seeds": len(pairs), "after": new, "before": old}
            on_means[compare(new, old)] += 1
        out[budget] = {"per_run": per_run, "on_means": on_means, "validation": validation, "datasets": means}
    return out


LOWER_IS_BETTER = frozenset({"rmse", "mae", "log_loss", "expected_cost"})
VALIDATION_TIE = 0.001
"""Validation scores within this fraction of the baseline's are level."""


def compare_validation(after: Record, before: Record, tie: float = VALIDATION_TIE) -> str | None:
    """``win``, ``tie`` or ``loss`` on the score the search itself optimised (its CV or holdout score, on the
    same split and seed in both runs), a tie within ``tie`` relative; None when the runs used different metrics
    or one has no validation score. This is what a change to the search moves first; the test score adds the
    noise of which near-equal configuration won."""
    new, old = after.details.get("validation_score"), before.details.get("validation_score")
    if new is None or old is None or after.metaconf_metric != before.metaconf_metric:
        return None
    gain = (old - new) if after.metaconf_metric in LOWER_IS_BETTER else (new - old)
    if abs(gain) <= tie * max(abs(old), 1e-12):
        return "tie"
    return "win" if gain > 0 else "loss"


def _mean_or_none(scores: Sequence[float | None]) -> float | None:
    """The mean, or None when a run failed: a failed seed makes the dataset's mean a failure."""
    return None if any(score is None for score in scores) else statistics.fmean(float(s) for s in scores if s is not None)


def measured_at(meta: dict[str, Any]) -> str:
    """The commit(s) a result file was measured at; a file written by --merged has one meta per source."""
    def commits(part: dict[str, Any]) -> set[str]:
        inner = part.get("merged_from")
        if isinstance(inner, list):  # a merge of merges too
            return set().union(*(commits(m) for m in inner if isinstance(m, dict)))
        return {str(part["commit"])} if part.get("commit") else set()

    found = sorted(commits(meta))
    return ", ".join(found) if found else "an unknown commit"


def borrowed_peers(records: Sequence[Record], baseline: Sequence[Record]) -> list[Record]:
    """The peers' records of ``baseline`` on the cells of ``records`` that ``records`` has no record of."""
    cells = {(r.dataset, r.budget, r.seed) for r in records}
    have = {(r.dataset, r.budget, r.seed, r.system) for r in records}
    return [r for r in baseline if r.system != "metaconf" and (r.dataset, r.budget, r.seed) in cells
            and (r.dataset, r.budget, r.seed, r.system) not in have]


def render_change(result: dict[str, dict[str, Any]], label: str) -> str:
    lines = [f"\n## metaconf against metaconf of {label} (same cells; tie = within {TIE})\n"]
    for budget, entry in result.items():
        rows = []
        for dataset, mean in entry["datasets"].items():
            after, before = mean["after"], mean["before"]
            delta = "-" if after is None or before is None else f"{after - before:+.4f}"
            rows.append([dataset, str(mean["seeds"]), "FAIL" if after is None else f"{after:.4f}",
                         "FAIL" if before is None else f"{before:.4f}", delta])
        lines += [f"### budget {budget}", *_markdown_table(["dataset", "seeds", "this run", "baseline", "change"], rows)]
        for name, counts in (("per run", entry["per_run"]), ("on the means", entry["on_means"]),
                             (f"validation score per run (relative tie {VALIDATION_TIE})", entry["validation"])):
            lines.append(f"{name}: better {counts['win']}, level {counts['tie']}, worse {counts['loss']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ the run
def environment_info() -> dict[str, Any]:
    import importlib.metadata

    def version(name: str) -> str | None:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    commit = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                                text=True, check=False).stdout.strip() or None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
                               capture_output=True, text=True, check=False).stdout.strip()
        if commit and dirty:
            commit += " (with uncommitted changes)"
    except OSError:
        pass
    import metaconf

    info: dict[str, Any] = {
        "commit": commit,
        "metaconf_source": str(Path(metaconf.__file__).parent),  # a clean export on PYTHONPATH has no git
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "versions": {n: version(n) for n in ("metaconf", "scikit-learn", "smac", "flaml", "lightgbm",
                                             "xgboost", "xgboost-cpu", "pandas", "numpy")},
    }
    try:
        import metaconf

        info["autosklearn_env"] = metaconf.backend("auto-sklearn").versions or None
    except Exception:
        info["autosklearn_env"] = None
    return info


def save(path: Path, meta: dict[str, Any], records: Sequence[Record]) -> None:
    payload = {"format": 1, "meta": meta, "records": [asdict(r) for r in records],
               "summary": summary(records) if records else {}, "seed_means": seed_mean_summary(records)}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)


def load(path: Path) -> tuple[dict[str, Any], list[Record]]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    return payload.get("meta", {}), [Record(**r) for r in payload["records"]]


def merged(paths: Sequence[Path]) -> tuple[list[dict[str, Any]], list[Record]]:
    """Each result file's meta (with its ``file``) and all their records; one system's cell measured in two
    files is an error."""
    metas: list[dict[str, Any]] = []
    records: list[Record] = []
    seen: dict[tuple[str, str, int, str], Path] = {}
    for path in paths:
        meta, loaded = load(path)
        metas.append({"file": str(path), **meta})
        for record in loaded:
            key = (record.dataset, record.budget, record.seed, record.system)
            if key in seen:
                raise ValueError(f"{record.system} on {record.dataset} at {record.budget}, seed {record.seed}, "
                                 f"is in both {seen[key]} and {path}; pass one of them")
            seen[key] = path
            records.append(record)
    return metas, records


def default_cpu() -> int | None:
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return allowed[-1] if allowed else None


def run_benchmark(datasets: Sequence[str], budgets: Sequence[str], seeds: Sequence[int], systems: Sequence[str],
                  out: Path, workdir: Path, options: Options, previous: Sequence[Record] = (),
                  meta: dict[str, Any] | None = None, echo: bool = True) -> list[Record]:
    records = list(previous)
    done = {(r.dataset, r.budget, r.seed, r.system) for r in records}
    meta = dict(meta or {})
    for budget in budgets:
        for name in datasets:
            for seed in seeds:
                wanted = [s for s in systems if (name, budget, seed, s) not in done]
                if not wanted:
                    continue
                try:
                    train, test = write_split(name, seed, workdir / "data" / f"{name}-seed{seed}")
                except DatasetUnavailable as error:
                    print(f"skipped {name}: {error}", file=sys.stderr)
                    break
                cell = Cell(name, budget, seed, train, test, workdir / "runs" / budget / f"{name}-seed{seed}")
                metric = None
                config_path = cell.folder / "metaconf" / "metaconf.yaml"
                if "metaconf" not in wanted and config_path.exists():  # resumed: metaconf's metric for the peers
                    try:
                        metric = metaconf_metric(config_path, train, cell.spec.target)
                    except Exception as error:
                        print(f"{name}: metaconf's metric cannot be read from {config_path}: {error!r}", file=sys.stderr)
                for system in systems:
                    if system not in wanted:
                        continue
                    if system == "metaconf":
                        record, metric = run_metaconf(cell, options)
                    else:
                        record = run_peer(cell, system, options, metric)
                    records.append(record)
                    if echo:
                        score = "-" if record.score is None else f"{record.score:.4f}"
                        print(f"{budget} {name} seed {seed} {system}: {record.status} {score} "
                              f"{record.wall_s}s (load {record.load_before:.2f})"
                              + (f" [{record.error[:300]}]" if record.error else ""), flush=True)
                    save(out, meta, records)
    return records


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS), metavar="NAME")
    parser.add_argument("--budgets", nargs="+", default=["60s", "300s"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--out", type=Path, default=Path("peers.json"), help="the JSON results file")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="splits and run directories (default: next to --out, `<out stem>-runs/`)")
    parser.add_argument("--cpu", type=int, default=None, help="the CPU every system is pinned to (default: the last allowed)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU (threads stay limited to 1)")
    parser.add_argument("--flaml-metric", choices=("auto", "same"), default="auto",
                        help="auto: FLAML's own default metric; same: metaconf's metric where FLAML has it")
    parser.add_argument("--reuse", action="store_true", help="print the tables of --out again; run nothing")
    parser.add_argument("--report", nargs="+", type=Path, default=None, metavar="JSON",
                        help="print the tables of several result files together (halves, seeds run apart), "
                             "with each dataset's mean over seeds; run nothing")
    parser.add_argument("--merged", type=Path, default=None, metavar="JSON",
                        help="with --report: also write the records of all its files, and each file's meta, to "
                             "this new file (an existing file is not overwritten)")
    parser.add_argument("--baseline", type=Path, default=None, metavar="JSON",
                        help="with --report: compare metaconf with the metaconf of this result file (another "
                             "commit, same seeds), and take the peers the report files lack from it, said so")
    parser.add_argument("--resume", action="store_true", help="keep the records in --out and run only the missing ones")
    args = parser.parse_args(argv)

    for budget in args.budgets:
        try:
            parse_budget(budget)
        except Exception as error:
            parser.error(f"--budgets: {budget!r} is not a duration like 60s or 5m ({error})")
    if args.merged and not args.report:
        parser.error("--merged needs --report FILE ...")
    if args.baseline and not args.report:
        parser.error("--baseline needs --report FILE ...")
    if args.report:
        try:
            metas, records = merged(args.report)
            if args.merged:
                if args.merged.exists():
                    parser.error(f"--merged: {args.merged} exists; pick another name or remove it first")
                save(args.merged, {"merged_from": metas}, records)
            if args.baseline:
                base_meta, base_records = load(args.baseline)
                label = f"{args.baseline} (measured at {measured_at(base_meta)})"
                print(render_change(change(records, base_records), label))
                records = records + borrowed_peers(records, base_records)
                print(f"\n(peers in the tables below that this run did not measure are those of {label})")
            print(render(records))
        except (OSError, ValueError, KeyError, TypeError) as error:
            parser.error(f"--report: {error}")
        return 0
    if args.reuse:
        if not args.out.exists():
            parser.error(f"--reuse: {args.out} does not exist")
        meta, records = load(args.out)
        print(f"# {args.out}: measured at {meta.get('commit')}; command: {meta.get('command')}")
        print(render(records))
        return 0
    meta, previous = ({}, [])
    if args.resume and args.out.exists():
        meta, previous = load(args.out)
    cpu = None if args.no_pin else (args.cpu if args.cpu is not None else default_cpu())
    # absolute: each system runs in its own folder, and the paths in its spec must still point at the split
    workdir = (args.workdir or args.out.with_name(args.out.stem + "-runs")).resolve()
    meta = {**meta, **environment_info(), "command": shlex.join([sys.executable, *sys.argv]), "cpu": cpu,
            "flaml_metric": args.flaml_metric, "load_at_start": os.getloadavg(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    records = run_benchmark(args.datasets, args.budgets, args.seeds, args.systems, args.out, workdir,
                            Options(cpu=cpu, flaml_metric=args.flaml_metric), previous, meta)
    meta["load_at_end"] = os.getloadavg()
    save(args.out, meta, records)
    print(render(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
