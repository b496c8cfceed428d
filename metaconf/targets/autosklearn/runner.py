"""Run a config with auto-sklearn: prepare the run directory, start the worker in auto-sklearn's environment,
stream its progress, and write the run directory in the format every metaconf target shares.

The run directory (see :mod:`metaconf.report.results`) holds the same files as a SMAC run — ``config.yaml``,
``results.json``, ``trajectory.csv``, ``trajectory.png`` — plus ``leaderboard.csv`` (every model auto-sklearn
trained, with its ensemble weight) and ``autosklearn/`` (the tool's own files: the spec the worker read, the
train / test CSV files, its log, SMAC 1.2's run history, the raw result and the test predictions).

Both targets see the same data: the test rows are split off by :class:`metaconf.targets.evaluate.Evaluator`
(same seed, same rows as a SMAC run), the columns get the same decisions (ids and free text dropped, dates
expanded to year / month / day / day of week), and the test score is computed on metaconf's side by the same
:class:`~metaconf.targets.metrics.MetricSpec` from the worker's test-set probabilities.

Signals: the first SIGINT / SIGTERM asks the worker to stop after its running trial (it still builds the
ensemble and reports a test score: status ``interrupted``); a second one kills the worker's process group.
The worker runs in its own session, so a Ctrl-C in the terminal reaches metaconf only, never auto-sklearn's
trial processes directly.

Time: the worker bounds auto-sklearn itself (its watchdog, see ``worker.py``) and reports a stall as a note
in ``stop_reason``. metaconf's hard timeout is the last resort: SIGTERM, which makes the worker write the best
result that finished, then SIGKILL of the whole process group :data:`KILL_GRACE_S` later.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.errors import RunError, UsageError
from metaconf.report import results as rr
from metaconf.targets.autosklearn.compile import TOOL_DIR, AutoSklearnPlan, compile_autosklearn
from metaconf.targets.autosklearn.environment import ready_env, worker_environment, worker_source

if TYPE_CHECKING:
    import pandas as pd

    from metaconf.config.model import Config
    from metaconf.data.load import Dataset
    from metaconf.targets.evaluate import Evaluator
    from metaconf.targets.preprocess import ColumnDecision
    from metaconf.targets.run_dir import RunRequest

LEADERBOARD_FILE = "leaderboard.csv"
WORKER_FILE = "metaconf_worker.py"
SPEC_FILE = "spec.json"
RESULT_FILE = "result.json"
PREDICTIONS_FILE = "test_predictions.csv"
MODEL_FILE = "model.pkl"
LOG_FILE = "worker.log"
TARGET_COLUMN = "__metaconf_target__"
SPEC_FORMAT = 1
KILL_GRACE_S = 20.0
"""Between metaconf's SIGTERM at the hard timeout and its SIGKILL: time for the worker to end what is stuck and
write the best result that finished (its watchdog's grace plus one prediction)."""

LEADERBOARD_COLUMNS = (
    "rank",
    "model_id",
    "ensemble_weight",
    "type",
    "cost",
    "status",
    "duration",
    "train_loss",
    "config_id",
    "config_origin",
    "balancing_strategy",
    "data_preprocessors",
    "feature_preprocessors",
)


@dataclass
class AutoSklearnOutcome:
    """What :func:`run_autosklearn` hands back (the same attributes as the SMAC runner's outcome)."""

    run_dir: Path
    results: rr.RunResults
    trials: list[rr.TrialRecord]
    plan: AutoSklearnPlan
    resumed: bool = False
    notes: list[str] = field(default_factory=list)
    leaderboard: list[dict[str, Any]] = field(default_factory=list)


TrialCallback = Callable[[rr.TrialRecord, "SearchProgress"], None]


@dataclass
class SearchProgress:
    """Live state for a progress display: trials so far, best score, time budget."""

    time_left_s: float
    n_trials: int | None
    started: float = field(default_factory=time.monotonic)
    best_score: float | None = None
    phase: str = "starting"

    def elapsed(self) -> float:
        return time.monotonic() - self.started


# ------------------------------------------------------------------------------------------------ data
def prepare_frames(evaluator: Evaluator, dataset: Dataset) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, str]], list[str]]:
    """Train and test frames (target in :data:`TARGET_COLUMN`) as the worker reads them, the column kinds,
    and notes on columns that were dropped or expanded. Rows and column decisions are the Evaluator's."""
    import pandas as pd

    from metaconf.targets.metrics import label_key

    frame, kinds, notes = worker_features(evaluator.plan.columns, dataset.X)
    if evaluator.task_type == "classification":
        target = dataset.y.reset_index(drop=True).map(label_key)
    else:
        target = pd.to_numeric(dataset.y.reset_index(drop=True), errors="coerce").astype(float)
    frame[TARGET_COLUMN] = target
    train = frame.iloc[evaluator.train_rows].reset_index(drop=True)
    test = frame.iloc[evaluator.test_rows].reset_index(drop=True)
    return train, test, kinds, notes


def worker_features(
    decisions: Iterable[ColumnDecision], X: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict[str, str]], list[str]]:
    """The feature columns as the worker reads them (training and prediction alike): dropped columns left
    out, dates expanded, numbers as floats, categories as label strings; with the column kinds and notes."""
    import pandas as pd

    from metaconf.targets.metrics import label_key
    from metaconf.targets.preprocess import DATETIME, DATETIME_PARTS, DROPPED, NUMERIC

    X = X.reset_index(drop=True).copy()
    X.columns = [str(c) for c in X.columns]
    columns: dict[str, pd.Series] = {}
    kinds: list[dict[str, str]] = []
    notes: list[str] = []
    for decision in decisions:
        values = X[decision.name]
        if decision.kind == DROPPED:
            notes.append(f"column `{decision.name}` left out ({decision.reason}), as in a SMAC run")
        elif decision.kind == DATETIME:
            stamps = pd.to_datetime(values, errors="coerce", utc=True)
            for part in DATETIME_PARTS:
                name = f"{decision.name}_{part}"
                columns[name] = getattr(stamps.dt, part).astype(float)
                kinds.append({"name": name, "kind": "numeric"})
            notes.append(f"column `{decision.name}` expanded to {', '.join(DATETIME_PARTS)}, as in a SMAC run")
        elif decision.kind == NUMERIC:
            columns[decision.name] = pd.to_numeric(values, errors="coerce").astype(float)
            kinds.append({"name": decision.name, "kind": "numeric"})
        else:  # categorical, high cardinality: auto-sklearn encodes them itself
            columns[decision.name] = values.map(lambda v: None if pd.isna(v) else label_key(v))
            kinds.append({"name": decision.name, "kind": "categorical"})
    return pd.DataFrame(columns, index=X.index), kinds, notes


# ------------------------------------------------------------------------------------------------ the run
def run_autosklearn(
    config: Config,
    base_dir: Path,
    run_dir: Path,
    request: RunRequest,
    *,
    env_root: str | Path | None = None,
    on_trial: TrialCallback | None = None,
    on_phase: Callable[[str, SearchProgress], None] | None = None,
) -> AutoSklearnOutcome:
    """Run ``config`` (``tool: auto-sklearn``, overrides applied) into ``run_dir``, holding the directory for
    the whole run (:func:`~metaconf.targets.run_dir.claimed_run_directory`).

    Raises :class:`UsageError` / an environment error before anything is written when the input or the
    environment is not usable, and :class:`RunError` after writing ``results.json`` (status ``failed``) when
    the search itself fails.
    """
    from metaconf.targets.run_dir import claimed_run_directory

    run_dir = run_dir.resolve()  # the worker runs in another working directory
    with claimed_run_directory(run_dir, "auto-sklearn"):
        return _run_autosklearn(
            config, base_dir, run_dir, request, env_root=env_root, on_trial=on_trial, on_phase=on_phase
        )


def _run_autosklearn(
    config: Config,
    base_dir: Path,
    run_dir: Path,
    request: RunRequest,
    *,
    env_root: str | Path | None = None,
    on_trial: TrialCallback | None = None,
    on_phase: Callable[[str, SearchProgress], None] | None = None,
) -> AutoSklearnOutcome:
    from metaconf.config.model import ExistingOutput
    from metaconf.data.load import load_dataset
    from metaconf.targets.evaluate import Evaluator
    from metaconf.targets.run_dir import clear_run_directory, decide_existing

    env = ready_env(env_root)
    run_dir = run_dir.resolve()  # the worker runs in another working directory
    started_wall = rr.utc_now()
    t0 = time.monotonic()
    config_hash = rr.config_sha256(config)
    seed = int(config.execution.seed or 0)

    dataset = load_dataset(config, base_dir)
    evaluator = Evaluator(config, dataset, seed=seed)
    metric = evaluator.metric
    train_y = dataset.y.reset_index(drop=True).iloc[evaluator.train_rows]
    plan = compile_autosklearn(config, run_dir=run_dir, seed=seed, classes=evaluator.classes, y=train_y)

    decision = decide_existing(run_dir, config_hash, config.execution.on_existing, request)
    if decision == "resume":
        previous = _previous_status(run_dir)
        if config.execution.on_existing == ExistingOutput.resume and not request.resume and previous == "finished":
            raise UsageError(
                f"`{run_dir}` already holds a finished auto-sklearn run of this config",
                "`metaconf report` shows it; pass --overwrite to run it again, or set `execution.name`",
            )
        raise UsageError(
            f"`{run_dir}` holds an auto-sklearn run ({previous or 'unknown status'}); auto-sklearn cannot "
            "resume a search",
            "pass --overwrite to start it again, or set `execution.name` for a new run directory",
        )
    if decision == "overwrite":
        clear_run_directory(run_dir)
        (run_dir / LEADERBOARD_FILE).unlink(missing_ok=True)
        shutil.rmtree(run_dir / TOOL_DIR, ignore_errors=True)

    tool_dir = run_dir / TOOL_DIR
    tool_dir.mkdir(parents=True, exist_ok=True)
    train, test, kinds, column_notes = prepare_frames(evaluator, dataset)
    from metaconf.io import atomic_path, atomic_write_bytes, atomic_write_text

    # Every file of the run directory is written whole or not at all, with the umask's mode (docs/trust.md).
    for name, frame in (("train.csv", train), ("test.csv", test)):
        with atomic_path(tool_dir / name, force=True, durable=False) as tmp:
            frame.to_csv(tmp, index=False)
    worker_path = tool_dir / WORKER_FILE
    atomic_write_bytes(worker_path, worker_source().read_bytes(), force=True)  # what ran stays with the run
    spec = {
        "format": SPEC_FORMAT,
        "plan": plan.to_dict(),
        "task_type": evaluator.task_type,
        "data": {
            "train": str((tool_dir / "train.csv").resolve()),
            "test": str((tool_dir / "test.csv").resolve()),
            "target": TARGET_COLUMN,
            "columns": kinds,
        },
        "result_path": str((tool_dir / RESULT_FILE).resolve()),
        "predictions_path": str((tool_dir / PREDICTIONS_FILE).resolve()),
        # the fitted estimator, pickled in auto-sklearn's environment (it unpickles only there)
        "model_path": str((tool_dir / MODEL_FILE).resolve()) if request.save_model else None,
    }
    atomic_write_text(tool_dir / SPEC_FILE, json.dumps(spec, indent=2) + "\n", force=True)
    (tool_dir / RESULT_FILE).unlink(missing_ok=True)
    (tool_dir / MODEL_FILE).unlink(missing_ok=True)
    (run_dir / rr.MODEL_SCHEMA_FILE).unlink(missing_ok=True)

    versions = rr.library_versions()
    versions.update({k: v for k, v in env.versions.items() if k != "python"})
    versions["autosklearn_python"] = env.versions.get("python", "")
    results = rr.RunResults(
        tool="auto-sklearn",
        status="running",
        seed=seed,
        config_sha256=config_hash,
        metric_name=metric.name,
        greater_is_better=bool(metric.greater_is_better),
        started=started_wall,
        versions=versions,
        dataset={
            "name": dataset.name,
            "source": dataset.source,
            "task_type": evaluator.task_type,
            "n_rows": len(dataset.X),
            "n_features": int(dataset.X.shape[1]),
            "n_train": len(train),
            "n_test": len(test),
        },
    )
    rr.write_config(run_dir, config)
    trials: list[rr.TrialRecord] = []
    rr.write_results(run_dir, results, trials)

    kwargs = plan.constructor_kwargs
    limit = (kwargs.get("smac_scenario_args") or {}).get("runcount_limit")
    progress = SearchProgress(time_left_s=float(kwargs["time_left_for_this_task"]), n_trials=limit)

    def record_trial(event: dict[str, Any]) -> None:
        incumbent_cost = event.get("incumbent_cost")
        record = rr.TrialRecord(
            trial=int(event["trial"]),
            walltime_s=float(event["walltime_s"]),
            cost=event.get("cost"),
            status=str(event["status"]),
            incumbent_cost=incumbent_cost,
            incumbent_score=metric.score(incumbent_cost) if incumbent_cost is not None else None,
            origin=str(event.get("origin") or ""),
        )
        trials.append(record)
        progress.best_score = record.incumbent_score
        results.trials_by_status = rr.count_statuses(trials)
        results.search_s = round(record.walltime_s, 3)
        results.total_s = round(time.monotonic() - t0, 3)
        rr.write_results(run_dir, results, trials)
        if on_trial is not None:
            on_trial(record, progress)

    def phase(name: str) -> None:
        progress.phase = name
        if on_phase is not None:
            on_phase(name, progress)

    worker = _WorkerProcess(env.python, worker_path, tool_dir, timeout_s=float(plan.worker["hard_timeout_s"]))
    with worker.signals_forwarded():
        worker.start()
        for event in worker.events():
            kind = event.get("event")
            if kind == "trial":
                record_trial(event)
            elif kind == "fit_started":
                progress.started = time.monotonic()
                phase("searching")
            elif kind == "fit_finished":
                phase("predicting the test set")
            elif kind == "stopping":
                phase(f"stopping after the running trial ({event.get('signal')})")
        code = worker.wait()

    notes = list(plan.notes) + column_notes
    raw = _read_worker_result(tool_dir / RESULT_FILE)
    if raw is not None and raw.get("stalled"):
        notes.append(str(raw["stalled"]))
    results.finished = rr.utc_now()
    results.total_s = round(time.monotonic() - t0, 3)
    leaderboard: list[dict[str, Any]] = []
    if raw is None:
        results.status = "failed"
        reason = worker.failure_reason(code)
        results.error = reason
        results.trials_by_status = rr.count_statuses(trials)
        rr.write_results(run_dir, results, trials, plot=bool(trials))
        raise RunError(
            f"the auto-sklearn worker failed: {reason}",
            f"its log is {tool_dir / LOG_FILE}; what finished is in `{run_dir}` (trajectory.csv)",
        )
    if len(raw.get("trials") or []) > len(trials):  # progress lines are best effort; the result is complete
        trials.clear()
        for event in raw["trials"]:
            record_trial(event)
    leaderboard = list(raw.get("leaderboard") or [])
    _write_leaderboard(run_dir / LEADERBOARD_FILE, leaderboard)
    results.trials_by_status = rr.count_statuses(trials)
    results.search_s = (raw.get("timings") or {}).get("fit_s")
    results.status = raw.get("status", "failed")
    results.stop_reason = raw.get("stop_reason")
    if worker.stop_signal is not None and results.status != "failed":
        # The worker only saw the SIGTERM metaconf forwarded; report the signal the user sent.
        results.status, results.stop_reason = "interrupted", worker.stop_signal

    validation_cost = raw.get("ensemble_validation_cost")
    if validation_cost is None:
        validation_cost = raw.get("single_best_cost")
    # results.json names the ensemble's members; their full configurations are in autosklearn/result.json.
    ensemble = [
        f"{m.get('type')} (model {m.get('model_id')}, weight {float(m.get('weight') or 0):.2f})"
        for m in raw.get("ensemble") or []
    ]
    if results.status != "failed":
        test_cost = _test_cost(tool_dir / PREDICTIONS_FILE, test, evaluator, plan)
        results.incumbent = rr.Incumbent(
            config={"ensemble": ensemble},
            cost=validation_cost,
            validation_score=metric.score(validation_cost) if validation_cost is not None else None,
            test_score=metric.score(test_cost) if test_cost is not None else None,
            test_cost=test_cost,
        )
        if request.save_model:
            _record_saved_model(raw, config, dataset, evaluator, plan, run_dir, versions, notes)
        raw_test = raw.get("test_cost_autosklearn")
        if raw_test is not None and test_cost is not None and abs(raw_test - test_cost) > 1e-6:
            notes.append(
                f"test cost {test_cost:.4g} by metaconf's metric; auto-sklearn's own scorer says {raw_test:.4g} "
                "(they differ where metaconf decides by expected cost or clips)"
            )
    else:
        results.error = raw.get("error") or worker.failure_reason(code)
        if ensemble or validation_cost is not None:
            results.incumbent = rr.Incumbent(config={"ensemble": ensemble}, cost=validation_cost)
    rr.write_results(run_dir, results, trials, plot=bool(trials))
    if results.status == "failed":
        hint = f"its log is {tool_dir / LOG_FILE} (auto-sklearn's own: {tool_dir / 'autosklearn.log'})"
        if raw.get("error_kind") == "dummy_failed":
            hint = f"raise `stopping.trial_memory` (auto-sklearn's log: {tool_dir / 'autosklearn.log'})"
        elif raw.get("error_kind") == "stalled":
            hint = (
                f"auto-sklearn's own log ({tool_dir / 'autosklearn.log'}) shows where it stalled; a shorter "
                "`stopping.trial_walltime` or fewer `search_space.models` keep its runs small"
            )
        elif raw.get("error_kind") == "dummy_only":
            hint = (
                "raise `stopping.trial_walltime` (every run hit the per-run limit?) or `stopping.trial_memory` "
                f"(memory-outs?); see {run_dir / LEADERBOARD_FILE} and {tool_dir / 'autosklearn.log'}"
            )
        raise RunError(f"the auto-sklearn run failed: {results.error}", hint)
    return AutoSklearnOutcome(run_dir, results, trials, plan, False, notes, leaderboard)


def _record_saved_model(
    raw: dict[str, Any],
    config: Config,
    dataset: Dataset,
    evaluator: Evaluator,
    plan: AutoSklearnPlan,
    run_dir: Path,
    versions: dict[str, str],
    notes: list[str],
) -> None:
    """``model.json`` for the estimator the worker pickled (classes in the worker's encoding, the cost matrix
    that turns its probabilities into decisions), or a note saying why no model was saved."""
    from metaconf.data.labels import label_key
    from metaconf.targets.saved_model import training_schema, write_schema

    if not raw.get("model_saved"):
        notes.append(f"the model was not saved: {raw.get('model_error') or 'the worker did not write it'}")
        return
    classes = None
    if evaluator.classes is not None and plan.metric.classes is not None:
        by_key = {label_key(c): c for c in evaluator.classes}
        classes = [by_key[key] for key in plan.metric.classes]
    costs = plan.metric.make_scorer_args.get("costs") if plan.metric.custom_function == "expected_cost" else None
    schema = training_schema(
        config,
        dataset,
        evaluator,
        tool="auto-sklearn",
        model_file=f"{TOOL_DIR}/{MODEL_FILE}",
        classes=classes,
        cost_matrix=costs,
        versions=versions,
    )
    write_schema(run_dir, schema)


def _previous_status(run_dir: Path) -> str | None:
    try:
        return rr.read_results(run_dir).status
    except UsageError:
        return None


def _read_worker_result(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == 1 else None


def _test_cost(path: Path, test: pd.DataFrame, evaluator: Evaluator, plan: AutoSklearnPlan) -> float | None:
    """The test cost by metaconf's own metric, from the worker's test-set probabilities (or predictions)."""
    import numpy as np
    import pandas as pd

    from metaconf.data.labels import label_array, label_key

    if not path.exists() or len(test) == 0:
        return None
    predictions = pd.read_csv(path)
    metric = evaluator.metric
    if evaluator.task_type == "regression":
        return metric.cost(test[TARGET_COLUMN].to_numpy(dtype=float), y_pred=predictions["prediction"].to_numpy(), clip=False)
    assert evaluator.classes is not None and plan.metric.classes is not None
    worker_order = plan.metric.classes
    proba = np.column_stack([predictions[f"proba:{key}"].to_numpy(dtype=float) for key in worker_order])
    position = {key: i for i, key in enumerate(worker_order)}
    columns = [position[label_key(c)] for c in evaluator.classes]
    by_key = {label_key(c): c for c in evaluator.classes}
    y_true = label_array([by_key[str(v)] for v in test[TARGET_COLUMN]])
    return metric.cost(y_true, y_proba=proba[:, columns], clip=False)


def _write_leaderboard(path: Path, rows: list[dict[str, Any]]) -> None:
    """``leaderboard.csv``: one row per model auto-sklearn trained, best first."""
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LEADERBOARD_COLUMNS)
    for row in sorted(rows, key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r.get("model_id") or 0)):
        cells = []
        for column in LEADERBOARD_COLUMNS:
            value = row.get(column)
            if isinstance(value, list):
                value = "+".join(str(v) for v in value)
            elif isinstance(value, str) and value.startswith("StatusType."):
                value = value.removeprefix("StatusType.").lower()
            cells.append("" if value is None else value)
        writer.writerow(cells)
    from metaconf.io import atomic_write_text

    atomic_write_text(path, buffer.getvalue(), force=True)


# ------------------------------------------------------------------------------------------- the worker
class _WorkerProcess:
    """The worker subprocess: own session, JSON-lines stdout, stderr to a log file, a hard timeout, and
    SIGINT / SIGTERM forwarded (first: stop cleanly; second: kill)."""

    def __init__(self, python: Path, script: Path, tool_dir: Path, *, timeout_s: float, kill_grace_s: float = KILL_GRACE_S):
        self.python, self.script, self.tool_dir, self.timeout_s = python, script, tool_dir, timeout_s
        self.kill_grace_s = kill_grace_s
        self.process: subprocess.Popen[str] | None = None
        self.stop_signal: str | None = None
        self.killed_for: str | None = None
        self._timers: list[threading.Timer] = []
        self._log: Any = None

    def start(self) -> None:
        self._log = (self.tool_dir / LOG_FILE).open("w", encoding="utf-8")
        try:
            self.process = subprocess.Popen(
                [str(self.python), str(self.script), str(self.tool_dir / SPEC_FILE)],
                stdout=subprocess.PIPE,
                stderr=self._log,
                stdin=subprocess.DEVNULL,
                text=True,
                cwd=str(self.tool_dir),
                env=worker_environment(),
                start_new_session=True,  # Ctrl-C reaches metaconf, which decides what the worker gets
            )
        except OSError as error:
            self._log.close()
            raise RunError(
                f"cannot start auto-sklearn's Python {self.python}: {error.strerror}",
                "`metaconf backends doctor` checks the environment",
            ) from None
        self._after(self.timeout_s, self._give_up, f"no result after {self.timeout_s:.0f}s")
        threading.Thread(target=self._end_leftovers, daemon=True).start()

    def events(self) -> Iterator[dict[str, Any]]:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                self._log.write(f"[metaconf] unreadable worker line: {line}\n")
                continue
            if isinstance(event, dict):
                yield event

    def wait(self) -> int:
        assert self.process is not None
        code = self.process.wait()
        for timer in self._timers:
            timer.cancel()
        self._log.close()
        return code

    def _end_leftovers(self) -> None:
        """Once the worker has exited, kill what is left of its process group: a process of auto-sklearn's
        that outlived it would hold the protocol pipe open, and :meth:`events` would never end."""
        assert self.process is not None
        self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def _after(self, seconds: float, action: Callable[[str], None], reason: str) -> None:
        timer = threading.Timer(seconds, action, args=(reason,))
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def _give_up(self, reason: str) -> None:
        """SIGTERM to the worker, which then writes the best result that finished; SIGKILL if it has not
        exited :attr:`kill_grace_s` later."""
        if self.process is None or self.process.poll() is not None:
            return
        self.killed_for = reason
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        self._after(self.kill_grace_s, self._kill, reason)

    def _kill(self, reason: str) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.killed_for = reason
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def failure_reason(self, code: int) -> str:
        if self.killed_for is not None:
            return f"killed by metaconf: {self.killed_for}"
        if code < 0:
            return f"the worker died from signal {signal.Signals(-code).name}"
        tail = _log_tail(self.tool_dir / LOG_FILE)
        return f"the worker exited with code {code} without a result{': ' + tail if tail else ''}"

    def _on_signal(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.process is None or self.process.poll() is not None:
            return
        if self.stop_signal is None:
            self.stop_signal = name
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            # A worker that has not stopped within the hard timeout is given up on.
            self._after(self.timeout_s, self._give_up, "did not stop after " + name)
        else:
            self._kill(f"second {name}")

    @contextlib.contextmanager
    def signals_forwarded(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for s in previous:
            signal.signal(s, self._on_signal)
        try:
            yield
        except BaseException:
            self._kill("metaconf stopped")
            raise
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)
