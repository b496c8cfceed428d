"""The worker's own logic, in metaconf's Python (it is plain Python 3.8+ with lazy numpy / sklearn imports):
its custom metrics agree with metaconf's MetricSpec, its trials callback stops as configured, its error
messages are one line, and its command line refuses a bad spec with exit code 2."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from metaconf.config.model import Config
from metaconf.targets.autosklearn.compile import compile_autosklearn
from metaconf.targets.autosklearn.environment import env_dir, inspect_env, worker_environment, worker_source
from metaconf.targets.metrics import metric_for


@pytest.fixture(scope="module")
def worker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("metaconf_worker_under_test", worker_source())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_worker_source_is_python38_syntax() -> None:
    import ast

    ast.parse(worker_source().read_text(encoding="utf-8"), feature_version=(3, 8))


def test_expected_cost_matches_metaconf_metric(worker: ModuleType) -> None:
    config = Config.model_validate(
        {
            "task": {
                "metric": "expected_cost",
                "cost_matrix": {"labels": ["good", "bad"], "costs": [[0, 1], [5, 0]]},
            },
            "data": {"demo": "german_credit"},
            "stopping": {"walltime": 30},
            "tool": "auto-sklearn",
        }
    )
    classes = ["bad", "good"]
    plan = compile_autosklearn(config, run_dir="r", seed=0, classes=classes)
    spec = metric_for(config, classes)
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([1.0, 1.0], size=200)  # columns in metaconf's class order: bad, good
    truth = rng.choice(classes, size=200)
    order = plan.metric.classes
    assert order is not None
    encoded_truth = np.asarray([order.index(label) for label in truth])
    encoded_proba = proba[:, [classes.index(label) for label in order]]
    costs = plan.metric.make_scorer_args["costs"]
    assert worker.expected_cost(encoded_truth, encoded_proba, costs) == pytest.approx(
        spec.cost(truth.astype(object), y_proba=proba, clip=False)
    )
    # A binary scorer may pass P(class 1) only
    assert worker.expected_cost(encoded_truth, encoded_proba[:, 1], costs) == pytest.approx(
        worker.expected_cost(encoded_truth, encoded_proba, costs)
    )


def test_multiclass_roc_auc_matches_metaconf_metric(worker: ModuleType) -> None:
    config = Config.model_validate({"task": {"metric": "roc_auc"}, "data": {"demo": "wine"}})
    classes = ["class_0", "class_1", "class_2"]
    rng = np.random.default_rng(1)
    proba = rng.dirichlet([1.0, 1.0, 1.0], size=90)
    truth = np.asarray(classes, dtype=object)[rng.integers(0, 3, size=90)]
    spec = metric_for(config, classes)
    encoded = np.asarray([classes.index(t) for t in truth])
    assert 1.0 - worker.roc_auc_ovr(encoded, proba) == pytest.approx(spec.cost(truth, y_proba=proba, clip=False))


class _Status(Enum):
    SUCCESS = 1
    TIMEOUT = 2
    CRASHED = 3


@dataclass
class _Config:
    origin: str


@dataclass
class _RunInfo:
    config: _Config


@dataclass
class _RunValue:
    cost: float
    status: _Status
    time: float = 1.0


def feed(reporter: Any, costs: list[tuple[float, _Status]]) -> list[Any]:
    return [reporter(None, _RunInfo(_Config("Local Search")), _RunValue(c, s), 10.0) for c, s in costs]


def test_trials_callback_counts_plateau_after_the_initial_design(worker: ModuleType, capfd: pytest.CaptureFixture[str]) -> None:
    reporter = worker.TrialReporter(0.0, {"plateau_patience": 2, "initial_design_size": 3})
    answers = feed(
        reporter,
        [(0.5, _Status.SUCCESS), (0.6, _Status.SUCCESS), (0.7, _Status.SUCCESS),  # initial design: never stops
         (0.4, _Status.SUCCESS), (1.0, _Status.TIMEOUT), (0.45, _Status.SUCCESS)],
    )
    assert answers == [None, None, None, None, None, False]
    assert reporter.stop_reason == "plateau: 2 runs without improvement"
    assert [t["incumbent_cost"] for t in reporter.trials] == [0.5, 0.5, 0.5, 0.4, 0.4, 0.4]
    assert [t["status"] for t in reporter.trials][-2:] == ["timeout", "success"]
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["trial"] * 6
    assert lines[3] == {**lines[3], "trial": 4, "cost": 0.4, "origin": "acquisition"}


def test_trials_callback_cost_threshold(worker: ModuleType) -> None:
    reporter = worker.TrialReporter(0.0, {"cost_threshold": 0.05})
    assert feed(reporter, [(0.2, _Status.SUCCESS), (0.04, _Status.SUCCESS)]) == [None, False]
    assert reporter.stop_reason.startswith("cost threshold reached")


def test_dummy_failure_is_explained_in_one_line(worker: ModuleType) -> None:
    raw = (
        "(' Dummy prediction failed with run state StatusType.MEMOUT and additional output: "
        "{\\'error\\': \\'Memout\\', \\'subprocess_stdout\\': \\'error message: MemoryError()\\\\n\\'}.',)"
    )
    message, kind = worker._explain_error(ValueError(raw), {"constructor_kwargs": {"memory_limit": 512}})
    assert kind == "dummy_failed"
    assert message == (
        "auto-sklearn's dummy model already failed (MEMOUT: MemoryError()); most often the memory limit "
        "(512 MB per job) is too small for the data"
    )
    other, kind = worker._explain_error(RuntimeError("first line\nsecond line"), {"constructor_kwargs": {}})
    assert (other, kind) == ("RuntimeError: first line", "exception")


def test_worker_refuses_a_bad_spec(tmp_path: Path) -> None:
    bad = tmp_path / "spec.json"
    bad.write_text(json.dumps({"format": 99}), encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, str(worker_source()), str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 2
    event = json.loads(completed.stdout.strip().splitlines()[-1])
    assert event["event"] == "error"
    assert "spec format 99 is not 1" in event["message"]


# ------------------------------------------------------------------------------------- process supervision
def supervised(tmp_path: Path, script: str, timeout_s: float = 30.0, kill_grace_s: float = 20.0) -> Any:
    """metaconf's handle on a worker, around a shell script standing in for the environment's Python."""
    import stat

    from metaconf.targets.autosklearn.runner import SPEC_FILE, _WorkerProcess

    python = tmp_path / "python"
    python.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    (tmp_path / SPEC_FILE).write_text("{}", encoding="utf-8")
    process = _WorkerProcess(python, tmp_path / "worker.py", tmp_path, timeout_s=timeout_s, kill_grace_s=kill_grace_s)
    process.start()
    return process


def test_a_hung_worker_is_killed_at_the_hard_timeout(tmp_path: Path) -> None:
    # Deaf to the SIGTERM of the hard timeout: SIGKILL once the grace period is over.
    started = time.monotonic()  # before the worker starts: its timeout clock starts with it
    process = supervised(tmp_path, "trap '' TERM\necho '{\"event\": \"loaded\"}'\nexec sleep 60\n", timeout_s=1.0, kill_grace_s=1.0)
    events = list(process.events())
    assert events == [{"event": "loaded"}]
    code = process.wait()
    assert code == -9
    assert 2.0 <= time.monotonic() - started < 10.0
    assert process.failure_reason(code) == "killed by metaconf: no result after 1s"


def test_the_hard_timeout_lets_the_worker_write_its_result_first(tmp_path: Path) -> None:
    """SIGTERM first: a worker that answers it (as the real one does, with the best result that finished)
    exits on its own within the grace period, and nothing it started is left running."""
    process = supervised(
        tmp_path,
        "sleep 300 &\necho $! > child.pid\n"
        "trap 'echo \"{\\\"event\\\": \\\"result\\\"}\"; exit 0' TERM\n"
        "echo '{\"event\": \"fit_started\"}'\nwhile true; do sleep 0.1; done\n",
        timeout_s=1.0,
        kill_grace_s=30.0,
    )
    started = time.monotonic()
    assert list(process.events()) == [{"event": "fit_started"}, {"event": "result"}]
    assert process.wait() == 0
    assert time.monotonic() - started < 10.0, "the worker was not given the chance to answer the SIGTERM"
    assert process.killed_for == "no result after 1s"
    child = int((tmp_path / "child.pid").read_text())
    assert not running(child), "the worker's child outlived it"


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan stays one until PID 1 reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_first_signal_asks_the_worker_to_stop_second_kills_it(tmp_path: Path) -> None:
    import signal as sig

    (tmp_path / "polite").mkdir()
    polite = supervised(
        tmp_path / "polite",
        "trap 'echo \"{\\\"event\\\": \\\"stopping\\\"}\"; exit 0' TERM\necho '{\"event\": \"fit_started\"}'\n"
        "while true; do sleep 0.1; done\n",
    )
    events = polite.events()
    assert next(events) == {"event": "fit_started"}
    polite._on_signal(sig.SIGINT, None)
    assert list(events) == [{"event": "stopping"}]
    assert polite.wait() == 0
    assert polite.stop_signal == "SIGINT"

    (tmp_path / "stubborn").mkdir()
    stubborn = supervised(tmp_path / "stubborn", "trap '' TERM\necho '{\"event\": \"fit_started\"}'\nwhile true; do sleep 0.1; done\n")
    events = stubborn.events()
    assert next(events) == {"event": "fit_started"}
    stubborn._on_signal(sig.SIGTERM, None)
    stubborn._on_signal(sig.SIGTERM, None)
    assert list(events) == []
    code = stubborn.wait()
    assert stubborn.failure_reason(code) == "killed by metaconf: second SIGTERM"


# ------------------------------------------------------------------------------- runs stuck in C (issue 18)
PYNISHER_SCRIPT = """
import importlib.util, json, multiprocessing, sys, time
spec = importlib.util.spec_from_file_location("metaconf_worker", sys.argv[1])
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)
worker._install_signal_handlers()  # as `main` does before a search
import pynisher

def stuck_in_c():
    return sum(range(10 ** 11))  # about 20 minutes inside C: no bytecode, so no Python signal handler runs

limited = pynisher.enforce_limits(wall_time_in_s=1, context=multiprocessing.get_context("fork"))(stuck_in_c)
started = time.monotonic()
limited()
print(json.dumps({"seconds": time.monotonic() - started, "exit_status": limited.exit_status.__name__}))
"""


@pytest.mark.skipif(not inspect_env(env_dir()).ready, reason="needs auto-sklearn's environment: run `metaconf backends install auto-sklearn`")
def test_pynisher_ends_a_run_stuck_in_c_inside_the_worker(tmp_path: Path) -> None:
    """auto-sklearn's runs are pynisher processes forked from the worker. pynisher ends one past its limit
    with SIGTERM; the worker's own SIGTERM handler must not be inherited, or a run inside C code (a libsvm fit)
    outlives its limit and the whole search waits for it: the 4,454-row table of issue 18."""
    script = tmp_path / "stuck.py"
    script.write_text(PYNISHER_SCRIPT, encoding="utf-8")
    process = subprocess.Popen(
        [str(inspect_env(env_dir()).python), str(script), str(worker_source())],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=worker_environment(), start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:  # a run that outlived pynisher would spin for 20 minutes: end the whole group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    assert process.returncode == 0, stderr[-2000:]
    outcome = json.loads(stdout.strip().splitlines()[-1])
    assert outcome["exit_status"] == "TimeoutException"
    assert outcome["seconds"] < 10, outcome
