"""metaconf's auto-sklearn worker: runs INSIDE auto-sklearn's own environment (Python 3.8 / 3.9).

It imports only the standard library, numpy, pandas, scikit-learn 0.24 and auto-sklearn 0.15, never metaconf
(which needs Python >= 3.10 and SMAC3 2.x). metaconf copies this file into the run directory and starts it with
the environment's Python::

    <env>/bin/python <run_dir>/autosklearn/metaconf_worker.py SPEC.json   # run a search
    <env>/bin/python metaconf_worker.py --check                              # print versions (doctor)
    <env>/bin/python metaconf_worker.py --predict REQUEST.json               # predict with a saved model

Protocol: the spec (written by ``runner.py``) holds the compiled plan and the paths of the already-split
train / test CSV files. Progress goes to the ORIGINAL stdout as JSON lines (``{"event": "trial", ...}``);
everything else that anything prints (auto-sklearn, SMAC, dask) is redirected to stderr, which the runner
sends to a log file, so a stray print can never corrupt the protocol. The final result is a JSON file
(``result_path`` of the spec), written atomically, and the ``{"event": "result"}`` line points at it.

Exit codes: 0 a result was written (finished or interrupted); 3 a result was written and the run failed (an
exception inside ``fit``, or only the dummy model came out); 2 the spec is unusable; anything else is a crash
the runner reports with the log's tail.

Traps handled here (docs/tools.md): ``OMP_NUM_THREADS=1`` before numpy is imported; the
``if __name__ == "__main__"`` guard (dask re-imports this module in its workers with n_jobs > 1); a fresh
``tmp_folder`` that does not exist yet; custom metrics as module-level functions handed to ``make_scorer``
with their data as kwargs (picklable; a closure silently loses the ensemble); a fit that produced only the
dummy model is a failure, not a success; auto-sklearn's forked runs get the default SIGTERM back (else a run
inside C code outlives pynisher's limit).

Time: a :class:`Watchdog` thread bounds ``fit`` (``fit_deadline_s`` of the plan); when auto-sklearn stalls, the
result still holds the best model that finished, and ``stalled`` / ``stop_reason`` say what stalled.
"""

from __future__ import annotations

import os

# Before numpy / scipy load: one BLAS / OpenMP thread per process. Without it an ensemble with
# gradient_boosting took 25-35 s to predict (0.09 s with it) and runs timed out spuriously.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from typing import Any  # noqa: E402

SPEC_FORMAT = 1
RESULT_FORMAT = 1
EXIT_OK = 0
EXIT_BAD_SPEC = 2
EXIT_RUN_FAILED = 3

STATUS_NAMES = {
    "SUCCESS": "success",
    "DONOTADVANCE": "success",
    "TIMEOUT": "timeout",
    "CRASHED": "crashed",
    "ABORT": "aborted",
    "MEMOUT": "memoryout",
    "CAPPED": "capped",
    "STOP": "stopped",
    "RUNNING": "running",
}

_PROTOCOL_FD: int | None = None
_STOP_SIGNAL: str | None = None
_WATCHDOG: Watchdog | None = None


# ------------------------------------------------------------------------------ custom metrics (module level)
def expected_cost(y_true: Any, y_proba: Any, costs: list[list[float]]) -> float:
    """Mean misclassification cost of Bayes decisions: per row the class with the lowest expected cost under
    the probabilities. ``costs[i][j]``: truth ``i``, prediction ``j``, in the worker's class encoding."""
    import numpy as np

    matrix = np.asarray(costs, dtype=float)
    proba = np.asarray(y_proba, dtype=float)
    if proba.ndim == 1:  # a binary scorer may hand over P(class 1) only
        proba = np.column_stack([1.0 - proba, proba])
    decisions = np.argmin(proba @ matrix, axis=1)
    truth = np.asarray(y_true).astype(int)
    return float(matrix[truth, decisions].mean())


def roc_auc_ovr(y_true: Any, y_proba: Any) -> float:
    """Multiclass ROC AUC, one-vs-rest, macro over the classes present in ``y_true`` (metaconf's definition)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    truth = np.asarray(y_true).astype(int)
    proba = np.asarray(y_proba, dtype=float)
    aucs = []
    for column in range(proba.shape[1]):
        is_class = truth == column
        if 0 < is_class.sum() < len(truth):
            aucs.append(roc_auc_score(is_class, proba[:, column]))
    return float(np.mean(aucs)) if aucs else 0.5


def f1_of_class(y_true: Any, y_pred: Any, label: int) -> float:
    """F1 of one class (``task.positive_label`` on a multiclass task)."""
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, labels=[label], average="macro", zero_division=0))


CUSTOM_METRICS = {"expected_cost": expected_cost, "roc_auc_ovr": roc_auc_ovr, "f1_of_class": f1_of_class}


# ------------------------------------------------------------------------------------------------ protocol
def emit(event: str, **fields: Any) -> None:
    """One JSON line on the protocol channel (the original stdout)."""
    line = json.dumps(dict(event=event, **fields), default=_json_default, allow_nan=False)
    fd = _PROTOCOL_FD if _PROTOCOL_FD is not None else 1
    data = (line + "\n").encode("utf-8")
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _clean(value: Any) -> Any:
    """Plain JSON data: numpy scalars unwrapped, NaN / inf as None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _write_json(path: str, data: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(_clean(data), handle, indent=2, allow_nan=False)
        handle.write("\n")
    os.replace(tmp, path)


def _on_signal(signum: int, frame: Any) -> None:
    """First SIGINT / SIGTERM: stop after the running trial (the trials callback returns False). Another one,
    or one past the fit's deadline (metaconf's hard timeout), makes the watchdog act at once, so that the
    best result that finished is still written before metaconf kills the worker."""
    global _STOP_SIGNAL
    past_deadline = _WATCHDOG is not None and _WATCHDOG.past_deadline()
    if _STOP_SIGNAL is None and not past_deadline:
        _STOP_SIGNAL = signal.Signals(signum).name
        emit("stopping", signal=_STOP_SIGNAL)
    elif _WATCHDOG is not None:
        _WATCHDOG.abandon_now()


def _install_signal_handlers() -> None:
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    os.register_at_fork(after_in_child=_default_signals_in_child)


def _default_signals_in_child() -> None:
    """Forked children (pynisher's trial and ensemble processes) get the default SIGTERM / SIGINT back.

    pynisher ends a run past its limit with SIGTERM. Had the child kept :func:`_on_signal`, Python would only
    note the signal and run the handler at its next bytecode, which never comes while the run is inside C
    code (a libsvm fit with a large C): the run kept going far past its limit, pynisher waited for it, and
    the whole search hung (issue 18: a 4,454-row table, killed by metaconf with no result)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


# ------------------------------------------------------------------------------------------- progress / stop
class TrialReporter:
    """auto-sklearn's ``get_trials_callback``: one progress line per finished run, and metaconf's stopping
    rules (signal, plateau after the initial design, cost threshold). Returning False stops SMAC cleanly; the
    ensemble is still built from what was evaluated."""

    def __init__(self, started: float, settings: dict[str, Any]) -> None:
        self.started = started
        self.patience = settings.get("plateau_patience")
        self.min_delta = float(settings.get("plateau_min_delta") or 0.0)
        self.threshold = settings.get("cost_threshold")
        self.initial = int(settings.get("initial_design_size") or 1)
        self.trials: list[dict[str, Any]] = []
        self.best: float | None = None
        self.since_improvement = 0
        self.stop_reason: str | None = None

    def __call__(self, smbo: Any, run_info: Any, result: Any, time_left: float) -> bool | None:
        status = STATUS_NAMES.get(getattr(result.status, "name", str(result.status)), str(result.status).lower())
        cost = _finite(result.cost)
        improved = False
        if status == "success" and cost is not None:
            if self.best is None or cost < self.best - self.min_delta:
                improved = True
            if self.best is None or cost < self.best:
                self.best = cost
        origin = getattr(run_info.config, "origin", None) or ""
        record = {
            "trial": len(self.trials) + 1,
            "walltime_s": round(time.monotonic() - self.started, 3),
            "status": status,
            "cost": cost,
            "incumbent_cost": self.best,
            "origin": _origin(origin),
            "duration_s": _finite(getattr(result, "time", None)),
        }
        self.trials.append(record)
        emit("trial", **record)
        if len(self.trials) > self.initial:
            self.since_improvement = 0 if improved else self.since_improvement + 1
        if _STOP_SIGNAL is not None:
            self.stop_reason = _STOP_SIGNAL
        elif self.threshold is not None and self.best is not None and self.best <= float(self.threshold):
            self.stop_reason = f"cost threshold reached ({self.best:g} <= {float(self.threshold):g})"
        elif self.patience is not None and self.since_improvement >= int(self.patience):
            self.stop_reason = f"plateau: {self.since_improvement} runs without improvement"
        return False if self.stop_reason is not None else None


def _origin(origin: str) -> str:
    text = origin.lower()
    if "meta" in text:
        return "meta-learning"
    if "initial" in text or "default" in text:
        return "initial design"
    if "random" in text:
        return "random"
    if "local search" in text or "sls" in text or "acquisition" in text:
        return "acquisition"
    return text


# ------------------------------------------------------------------------------------------------ watchdog
class Watchdog:
    """Bounds ``fit`` by wall time, in a thread of the worker, whatever auto-sklearn is stuck in.

    At ``deadline`` (auto-sklearn's time limit plus a small allowance: ``fit_deadline_s`` of the plan), or at
    once when :meth:`abandon_now` is called, it names what the fit is doing (a run, the ensemble building)
    and kills auto-sklearn's subprocesses still running: a stuck run or ensemble process then returns to
    auto-sklearn as failed and ``fit`` usually finishes with what was built. If ``fit`` has still not
    returned ``grace_s`` later, ``rescue`` takes over: it predicts with the best single model that finished,
    writes the result and ends the process. Exactly one of the main thread and ``rescue`` writes the result.
    """

    def __init__(self, limit: float, deadline: float, grace_s: float, rescue: Any, keep: Any) -> None:
        # time.monotonic() values: a step of the wall clock (seen on these VMs) must not move them.
        self.limit = limit
        """When auto-sklearn's own time limit (``time_left_for_this_task``) ends."""
        self.deadline = deadline
        self.grace_s = grace_s
        self.rescue = rescue
        self.keep = keep
        """Returns the pids to leave alive (auto-sklearn's log server, known only once fit has started)."""
        self.stalled: str | None = None
        self.stopped: list[dict[str, Any]] = []
        self._wake = threading.Event()
        self._fit_done = threading.Event()
        self._lock = threading.Lock()
        self._rescuing = False
        self._thread = threading.Thread(target=self._watch, name="metaconf-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def past_deadline(self) -> bool:
        return time.monotonic() >= self.deadline

    def abandon_now(self) -> None:
        """metaconf's hard timeout (a SIGTERM past the deadline): act now instead of at the deadline."""
        self.deadline = min(self.deadline, time.monotonic())
        self._wake.set()

    def fit_returned(self) -> None:
        """Called by the main thread when ``fit`` is over. If ``rescue`` already writes the result, wait for
        it to end the process instead of writing a second one."""
        with self._lock:
            rescuing = self._rescuing
            self._fit_done.set()
        self._wake.set()
        if rescuing:
            threading.Event().wait()

    def _watch(self) -> None:
        while not self._fit_done.is_set():
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                break
            self._wake.wait(remaining)
            self._wake.clear()
        if self._fit_done.is_set():
            return
        activity = _main_thread_activity()
        self.stopped = _stop_subprocesses(self.keep())
        late = max(0.0, time.monotonic() - self.limit)
        self.stalled = f"auto-sklearn's {activity} stalled (still running {late:.0f} s past its time limit)"
        emit("stalled", activity=activity, stopped_processes=self.stopped)
        if self._fit_done.wait(self.grace_s):
            return
        with self._lock:
            if self._fit_done.is_set():
                return
            self._rescuing = True
        self.rescue(self.stalled)


def _main_thread_activity() -> str:
    """What auto-sklearn's ``fit`` is doing, from the main thread's stack: ``ensemble building``,
    ``run 15 (libsvm_svc)``, or the innermost auto-sklearn function."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    innermost = None
    while frame is not None:
        path = frame.f_code.co_filename.replace(os.sep, "/")
        if "/autosklearn/ensemble_building/" in path:
            return "ensemble building"
        if path.endswith("/autosklearn/evaluation/__init__.py") and frame.f_code.co_name == "run":
            config: Any = frame.f_locals.get("config")  # an int for auto-sklearn's dummy run
            values = config.get_dictionary() if hasattr(config, "get_dictionary") else {}
            component = values.get("classifier:__choice__") or values.get("regressor:__choice__")
            return f"run {frame.f_locals.get('num_run', '?')}" + (f" ({component})" if component else "")
        if innermost is None and "/autosklearn/" in path:
            module = path.rsplit("/autosklearn/", 1)[1][: -len(".py")].replace("/", ".")
            innermost = f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back
    return f"fit ({innermost})" if innermost else "fit"


def _stop_subprocesses(keep: set[int]) -> list[dict[str, Any]]:
    """SIGKILL every descendant of this process except ``keep`` (auto-sklearn's log server); what they were."""
    import psutil

    stopped = []
    for child in psutil.Process().children(recursive=True):
        if child.pid in keep:
            continue
        try:
            age = time.time() - child.create_time()
            child.kill()
        except psutil.Error:  # ended by itself meanwhile
            continue
        stopped.append({"pid": child.pid, "running_s": round(age, 1)})
    return stopped


def _best_single_model(automl: Any, metric: Any, X_test: Any, plan: dict[str, Any]):
    """The best finished run in auto-sklearn's temporary folder whose model loads, ranked by its validation
    loss (computed from its saved validation predictions, as auto-sklearn's ensemble builder does), and its
    test predictions (probabilities for classification), as auto-sklearn's own ``predict`` makes them.

    The folder, not the trials callback, is the record: auto-sklearn calls the ensemble step before
    metaconf's callback, so a run that finished just before an ensemble step stalled was never reported."""
    from pathlib import Path

    from autosklearn.automl import _model_predict
    from autosklearn.ensemble_building.run import Run
    from autosklearn.metrics import calculate_loss

    inner = automl.automl_
    backend = inner._backend
    if plan["constructor_kwargs"]["resampling_strategy"] == "cv":
        load = backend.load_cv_model_by_seed_and_id_and_budget  # the folds' vote, as fit would predict
    else:
        load = backend.load_model_by_seed_and_id_and_budget
    targets = backend.load_targets_ensemble()
    ranked = []
    for path in Path(backend.get_runs_directory()).iterdir():
        try:
            run = Run(path)
            if run.is_dummy() or not run.has_predictions():
                continue
            loss = calculate_loss(solution=targets, prediction=run.predictions(), task_type=inner._task, metric=metric)
        except Exception:  # a run still being written, or not a run folder
            continue
        if _finite(loss) is not None:
            ranked.append((float(loss), run.num_run, run))
    X = inner.InputValidator.feature_validator.transform(X_test)
    for loss, _, run in sorted(ranked, key=lambda entry: entry[:2]):
        try:
            model = load(run.seed, run.num_run, run.budget)
            prediction = _model_predict(model=model, X=X, task=inner._task)
        except Exception:  # removed by auto-sklearn's disk limit, or unusable: the next best
            traceback.print_exc()
            continue
        return {"model_id": run.num_run, "type": _component(model), "cost": loss}, prediction
    return None, None


def _component(model: Any) -> str | None:
    """The classifier / regressor of a saved pipeline (or of the first fold's pipeline of a cv model)."""
    pipeline = model.estimators_[0] if hasattr(model, "estimators_") else model
    config = getattr(pipeline, "config", None)
    if config is None:
        return None
    values = config.get_dictionary()
    return values.get("classifier:__choice__") or values.get("regressor:__choice__")


TEST_STALL_VARIABLE = "METACONF_WORKER_TEST_STALL"


def _inject_test_stall(mode: str | None) -> None:
    """For metaconf's tests only (``METACONF_WORKER_TEST_STALL``): make auto-sklearn's ensemble building
    really hang, as a stalled tool does. ``ensemble-process``: the ensemble builder's subprocess never
    returns and pynisher's signals cannot end it. ``ensemble``: the fit's own process hangs in the
    ensemble step (nothing to kill)."""
    if not mode:
        return
    from autosklearn.ensemble_building.builder import EnsembleBuilder
    from autosklearn.ensemble_building.manager import EnsembleBuilderManager

    def hang_deaf_to_pynisher(*args: Any, **kwargs: Any) -> None:
        # Blocked, pynisher's SIGALRM and SIGTERM stay pending, as they do for a run stuck inside C code.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGTERM})
        threading.Event().wait()

    def hang(*args: Any, **kwargs: Any) -> None:
        threading.Event().wait()

    if mode == "ensemble-process":
        EnsembleBuilder.main = hang_deaf_to_pynisher
    elif mode == "ensemble":
        EnsembleBuilderManager.build_ensemble = hang
    else:
        raise ValueError(f"{TEST_STALL_VARIABLE}={mode!r}: use ensemble or ensemble-process")


# ------------------------------------------------------------------------------------------------- the run
def check() -> int:
    """Import what a run needs and print the versions as one JSON line (``backends doctor``)."""
    started = time.time()
    import autosklearn
    import numpy
    import pandas
    import scipy
    import sklearn
    import smac
    from autosklearn.classification import AutoSklearnClassifier  # noqa: F401  (the real import chain)

    versions = {
        "python": ".".join(str(v) for v in sys.version_info[:3]),
        "auto-sklearn": autosklearn.__version__,
        "smac": getattr(smac, "__version__", "unknown"),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
    }
    try:
        import ConfigSpace

        versions["ConfigSpace"] = ConfigSpace.__version__
    except ImportError:
        pass
    emit("check", versions=versions, import_s=round(time.time() - started, 3), omp_num_threads=os.environ.get("OMP_NUM_THREADS"))
    return EXIT_OK


def _read_spec(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        spec = json.load(handle)
    if spec.get("format") != SPEC_FORMAT:
        raise ValueError("spec format {!r} is not {}".format(spec.get("format"), SPEC_FORMAT))
    return spec


def _read_columns(path: str, columns: list[dict[str, str]], extra_str: list[str]):
    import pandas as pd

    dtypes = {c["name"]: str for c in columns if c["kind"] == "categorical"}
    for name in extra_str:
        dtypes[name] = str
    # metaconf writes a missing feature value as an empty cell and labels exactly as they are matched: a class
    # called "NA" or "None" must stay a label, not become NaN by pandas' default missing-value words.
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values={c["name"]: [""] for c in columns})
    for column in columns:
        if column["kind"] == "categorical":
            frame[column["name"]] = frame[column["name"]].astype("category")
        else:  # a numeric column without a single value would be read as text
            frame[column["name"]] = frame[column["name"]].astype(float)
    return frame


def _load_features(path: str, columns: list[dict[str, str]]):
    """The feature columns of a CSV metaconf wrote, in the order and with the dtypes training had."""
    frame = _read_columns(path, columns, [])
    return frame[[c["name"] for c in columns]]


def _load_frame(path: str, columns: list[dict[str, str]], target: str, task_type: str, classes: list[str] | None):
    import numpy as np

    frame = _read_columns(path, columns, [target] if task_type == "classification" else [])
    y_raw = frame.pop(target)
    if task_type == "classification":
        assert classes is not None
        index = {label: i for i, label in enumerate(classes)}
        unknown = sorted(set(y_raw.astype(str)) - set(index))
        if unknown:
            raise ValueError(f"labels {unknown} are not among the classes {classes}")
        y = y_raw.astype(str).map(index).to_numpy(dtype=np.int64)
    else:
        y = y_raw.to_numpy(dtype=float)
    return frame, y


def _build_metric(plan: dict[str, Any]):
    import autosklearn.metrics

    metric = plan["metric"]
    if metric.get("custom_function"):
        function = CUSTOM_METRICS[metric["custom_function"]]
        return autosklearn.metrics.make_scorer(metric["name"], function, **metric["make_scorer_args"])
    # An object, never the name: metric="accuracy" fails with "'str' object has no attribute 'name'".
    return getattr(autosklearn.metrics, metric["autosklearn_name"])


def _build_estimator(plan: dict[str, Any], metric: Any, tmp_folder: str, reporter: TrialReporter, client: Any):
    if plan["estimator"] == "AutoSklearnRegressor":
        from autosklearn.regression import AutoSklearnRegressor as Estimator
    else:
        from autosklearn.classification import AutoSklearnClassifier as Estimator
    kwargs = dict(plan["constructor_kwargs"])
    kwargs.update(metric=metric, tmp_folder=tmp_folder, get_trials_callback=reporter)
    if client is not None:
        kwargs["dask_client"] = client
    return Estimator(**kwargs)


def _run_statuses(automl: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in automl.automl_.runhistory_.data.values():
        name = STATUS_NAMES.get(value.status.name, value.status.name.lower())
        counts[name] = counts.get(name, 0) + 1
    return counts


def _best_effort(function: Any, *args: Any) -> Any:
    """Reports that auto-sklearn cannot always give (its ``leaderboard`` raises a KeyError when no pipeline
    succeeded): log the error, carry on with None, so the real reason reaches the user."""
    try:
        return function(*args)
    except Exception:
        traceback.print_exc()
        return None


def _single_best_cost(automl: Any) -> float | None:
    costs = [
        _finite(value.cost)
        for value in automl.automl_.runhistory_.data.values()
        if STATUS_NAMES.get(value.status.name) == "success"
    ]
    finite = [c for c in costs if c is not None]
    return min(finite) if finite else None


def _leaderboard(automl: Any) -> list[dict[str, Any]]:
    board = automl.leaderboard(detailed=True, ensemble_only=False).reset_index()
    records = []
    for row in board.to_dict(orient="records"):
        records.append({str(k): (list(v) if isinstance(v, (list, tuple)) else v) for k, v in row.items()})
    return _clean(records)


def _ensemble(automl: Any, leaderboard: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ensemble members with weight, component, validation cost and configuration."""
    configs = automl.automl_.runhistory_.ids_config
    members = []
    for row in leaderboard:
        weight = _finite(row.get("ensemble_weight"))
        if not weight:
            continue
        config_id = row.get("config_id")
        config = configs.get(config_id) if config_id is not None else None
        members.append(
            {
                "model_id": row.get("model_id"),
                "weight": weight,
                "type": row.get("type"),
                "cost": _finite(row.get("cost")),
                "config": _clean(config.get_dictionary()) if config is not None else None,
            }
        )
    members.sort(key=lambda m: -(m["weight"] or 0.0))
    return members


def _dummy_only(automl: Any, statuses: dict[str, int]) -> str | None:
    """Why the fit produced nothing but auto-sklearn's dummy (constant) model, or None."""
    if statuses.get("success", 0) == 0:
        # `stopped` / `running` entries are runs SMAC cancelled at the time limit before they started.
        ran = {s: n for s, n in statuses.items() if s not in ("stopped", "running")}
        total = sum(ran.values())
        details = ", ".join(f"{n} {s}" for s, n in sorted(ran.items())) or "no run finished"
        return f"no pipeline finished successfully ({total} runs: {details}); the model is auto-sklearn's dummy (constant) predictor"
    try:
        models = automl.get_models_with_weights()
    except Exception:  # ensemble off or not loadable: the success count above is the check
        return None
    names = [type(model).__name__ for _, model in models]
    if names and all(name.startswith("MyDummy") for name in names):
        return "the ensemble holds only auto-sklearn's dummy (constant) model"
    return None


def _ensemble_validation_cost(automl: Any) -> float | None:
    ensemble = getattr(automl.automl_, "ensemble_", None)
    # auto-sklearn's fallback to its best single model reports a score there, not a loss (0.94 for 6 %
    # validation error); the runner then takes the single best run's cost, which is that model's.
    if ensemble is None or type(ensemble).__name__ == "SingleBestFromRunhistory":
        return None
    try:
        return _finite(ensemble.get_validation_performance())
    except Exception:
        return None


def _copy_tool_files(tmp_folder: str, output_dir: str) -> None:
    """Keep auto-sklearn's log and SMAC's run history from the temporary folder before it is removed."""
    if not os.path.isdir(tmp_folder):
        return
    for name in os.listdir(tmp_folder):
        if name.endswith(".log") and os.path.getsize(os.path.join(tmp_folder, name)) > 0:
            shutil.copyfile(os.path.join(tmp_folder, name), os.path.join(output_dir, "autosklearn.log"))
    smac_dir = os.path.join(tmp_folder, "smac3-output")
    if os.path.isdir(smac_dir):
        target = os.path.join(output_dir, "smac3-output")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(smac_dir, target)


def run(spec_path: str) -> int:
    global _WATCHDOG
    started = time.monotonic()
    spec = _read_spec(spec_path)
    plan = spec["plan"]
    settings = plan["worker"]
    output_dir = settings["output_dir"]
    result_path = spec["result_path"]
    os.makedirs(output_dir, exist_ok=True)

    result: dict[str, Any] = {
        "format": RESULT_FORMAT,
        "status": "failed",
        "stop_reason": None,
        "stalled": None,
        "error": None,
        "versions": {},
        "timings": {},
    }
    reporter = TrialReporter(started, settings)
    tmp_root = tempfile.mkdtemp(prefix="metaconf-autosklearn-")
    tmp_folder = os.path.join(tmp_root, "autosklearn")  # must not exist yet: auto-sklearn creates it
    client = None
    exit_code = EXIT_RUN_FAILED

    def finish() -> None:
        """Keep the tool's files, write the result and announce it (by the main thread, or by the rescue)."""
        result["trials"] = reporter.trials
        result["timings"]["total_s"] = round(time.monotonic() - started, 3)
        try:
            _copy_tool_files(tmp_folder, output_dir)
        finally:
            shutil.rmtree(tmp_root, ignore_errors=True)
        _write_json(result_path, result)
        emit("result", path=result_path, status=result["status"])

    try:
        import_started = time.monotonic()
        import autosklearn
        import numpy as np

        result["versions"] = {"auto-sklearn": autosklearn.__version__, "python": ".".join(str(v) for v in sys.version_info[:3])}
        result["timings"]["import_s"] = round(time.monotonic() - import_started, 3)
        data = spec["data"]
        classes = plan["metric"].get("classes")
        task_type = spec["task_type"]
        load_started = time.monotonic()
        X_train, y_train = _load_frame(data["train"], data["columns"], data["target"], task_type, classes)
        X_test, y_test = _load_frame(data["test"], data["columns"], data["target"], task_type, classes)
        result["timings"]["load_s"] = round(time.monotonic() - load_started, 3)
        emit("loaded", n_train=len(y_train), n_test=len(y_test), n_features=X_train.shape[1])

        metric = _build_metric(plan)
        if settings.get("dask_scheduler"):
            from dask.distributed import Client

            client = Client(settings["dask_scheduler"])
        automl = _build_estimator(plan, metric, tmp_folder, reporter, client)
        _inject_test_stall(os.environ.get(TEST_STALL_VARIABLE))

        def score_test_set(prediction: Any) -> None:
            _save_predictions(prediction, task_type, classes, spec["predictions_path"])
            result["test_cost_autosklearn"] = _finite(metric._optimum - metric(np.asarray(y_test), prediction))
            if _STOP_SIGNAL is not None:
                result["status"], result["stop_reason"] = "interrupted", _STOP_SIGNAL
            else:
                result["status"] = "finished"
                result["stop_reason"] = result["stalled"] or reporter.stop_reason or _limit_reason(plan, reporter)

        def rescue(stalled: str) -> None:
            """``fit`` never returned: predict with the best single model that finished, write the result and
            end the process (the main thread is still inside auto-sklearn)."""
            code = EXIT_RUN_FAILED
            try:
                predict_started = time.monotonic()
                chosen, prediction = _best_single_model(automl, metric, X_test, plan)
                result["timings"]["fit_s"] = round(predict_started - reporter.started, 3)
                result["runs"] = {"total": len(reporter.trials), "by_status": _count(t["status"] for t in reporter.trials)}
                if chosen is None:
                    result["error"] = f"{stalled}, and no run had finished with a model to predict with"
                    result["error_kind"] = "stalled"
                else:
                    result["stalled"] = (
                        f"{stalled}; metaconf abandoned the fit and used the best single model that finished "
                        f"({chosen['type']}, run {chosen['model_id']}, validation cost {chosen['cost']:.4g})"
                    )
                    result["single_best_cost"] = chosen["cost"]
                    result["ensemble"] = [dict(chosen, weight=1.0)]
                    result["leaderboard"] = [{"rank": 1, "ensemble_weight": 1.0, "status": "success", **chosen}]
                    score_test_set(prediction)
                    result["timings"]["predict_s"] = round(time.monotonic() - predict_started, 3)
                    if spec.get("model_path"):
                        result["model_saved"] = False
                        result["model_error"] = "the fit never returned, so there is no fitted estimator to save"
                    code = EXIT_OK
            except Exception as error:
                traceback.print_exc()
                result["error"], result["error_kind"] = f"{stalled}; the best single model failed: {error}", "stalled"
            finally:
                try:
                    finish()
                finally:
                    _stop_subprocesses(set())  # auto-sklearn's log server too: nothing of the fit outlives it
                    os._exit(code)

        time_left = plan["constructor_kwargs"]["time_left_for_this_task"]
        fit_started = time.monotonic()
        reporter.started = fit_started
        _WATCHDOG = Watchdog(
            limit=fit_started + time_left,
            deadline=fit_started + settings["fit_deadline_s"],
            grace_s=settings["stall_grace_s"],
            rescue=rescue,
            keep=lambda: _log_server_pids(automl),
        )
        _WATCHDOG.start()
        emit("fit_started", time_left_s=time_left)
        try:
            automl.fit(X_train, y_train, **plan["fit_kwargs"])
        finally:
            _WATCHDOG.fit_returned()
        result["timings"]["fit_s"] = round(time.monotonic() - fit_started, 3)
        emit("fit_finished", fit_s=result["timings"]["fit_s"])
        if _WATCHDOG.stalled is not None:
            result["stalled"] = f"{_WATCHDOG.stalled}; {_after_stall(automl, _WATCHDOG.stopped)}"

        statuses = _run_statuses(automl)
        result["runs"] = {"total": sum(statuses.values()), "by_status": statuses}
        result["single_best_cost"] = _single_best_cost(automl)
        leaderboard = _best_effort(_leaderboard, automl) or []
        result["leaderboard"] = leaderboard
        result["ensemble"] = _best_effort(_ensemble, automl, leaderboard) or []
        result["ensemble_validation_cost"] = _ensemble_validation_cost(automl)
        result["sprint_statistics"] = _best_effort(automl.sprint_statistics)

        failure = _dummy_only(automl, statuses)
        if failure is not None:
            result["error"] = failure
            result["error_kind"] = "dummy_only"
        else:
            predict_started = time.monotonic()
            score_test_set(automl.predict_proba(X_test) if task_type == "classification" else automl.predict(X_test))
            result["timings"]["predict_s"] = round(time.monotonic() - predict_started, 3)
            if spec.get("model_path"):
                _save_model(automl, spec["model_path"], result)
            exit_code = EXIT_OK
    except Exception as error:  # everything inside fit: report it, keep what was evaluated
        traceback.print_exc()
        result["error"], result["error_kind"] = _explain_error(error, plan)
        if _STOP_SIGNAL is not None:
            result["status"], result["stop_reason"] = "interrupted", _STOP_SIGNAL
    finally:
        if client is not None:
            client.close()
        finish()
    return exit_code


def _save_model(automl: Any, path: str, result: dict[str, Any]) -> None:
    """Pickle the fitted estimator (its models are in memory: it predicts without the temporary folder)."""
    import pickle

    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as handle:
            pickle.dump(automl, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        result["model_saved"] = True
    except Exception as error:
        traceback.print_exc()
        if os.path.exists(tmp):
            os.remove(tmp)
        result["model_saved"] = False
        result["model_error"] = f"{type(error).__name__}: {error}"


def predict(request_path: str) -> int:
    """``--predict REQUEST.json``: predict the rows of a features CSV with a pickled estimator.

    The request names ``model`` (the pickle), ``data`` (a CSV written by metaconf, the columns as in
    training), ``columns`` (their kinds), ``task_type``, ``classes`` and ``output``; the output CSV holds one
    ``proba:<class>`` column per class (classification) or ``prediction``. One ``{"event": "result"}`` or
    ``{"event": "error"}`` line says how it went.
    """
    import pickle

    try:
        with open(request_path, encoding="utf-8") as handle:
            request = json.load(handle)
        with open(request["model"], "rb") as handle:
            automl = pickle.load(handle)
        X = _load_features(request["data"], request["columns"])
        if request["task_type"] == "classification":
            prediction = automl.predict_proba(X)
        else:
            prediction = automl.predict(X)
        _save_predictions(prediction, request["task_type"], request.get("classes"), request["output"])
    except Exception as error:
        traceback.print_exc()
        text = str(error).strip()
        emit("error", message=f"{type(error).__name__}: {text.splitlines()[0][:400] if text else ''}")
        return EXIT_RUN_FAILED
    emit("result", path=request["output"], rows=len(X))
    return EXIT_OK


def _save_predictions(prediction: Any, task_type: str, classes: list[str] | None, path: str) -> None:
    import pandas as pd

    if task_type == "classification":
        assert classes is not None
        frame = pd.DataFrame(prediction, columns=["proba:" + str(c) for c in classes])
    else:
        frame = pd.DataFrame({"prediction": prediction})
    frame.to_csv(path, index=False)


def _count(statuses: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


def _log_server_pids(automl: Any) -> set[int]:
    """auto-sklearn's log server process (started inside fit), which the watchdog leaves running."""
    server = getattr(getattr(automl, "automl_", None), "logging_server", None)
    return {server.pid} if server is not None and server.pid else set()


def _after_stall(automl: Any, stopped: list[dict[str, Any]]) -> str:
    """What became of a stalled fit that returned after the watchdog acted."""
    ended = f"metaconf ended {len(stopped)} of its processes" if stopped else "it then returned by itself"
    ensemble = getattr(automl.automl_, "ensemble_", None)
    if type(ensemble).__name__.startswith("SingleBest"):
        return f"{ended}; auto-sklearn used its best single model"
    return f"{ended}; auto-sklearn used the ensemble it had built by then"


def _explain_error(error: BaseException, plan: dict[str, Any]) -> tuple[str, str]:
    """A one-line reason for an exception out of ``fit``, and its kind (the full traceback is in the log)."""
    import re

    text = str(error)
    if "Dummy prediction failed" in text:
        state = re.search(r"run state StatusType\.(\w+)", text)
        detail = re.search(r"error message: (.*?)(?:\\n|\n|$)", text)
        message = re.sub(r"\\+", "", detail.group(1)).strip() if detail else ""  # repr escapes, nested twice
        why = (state.group(1) if state else "failed") + (f": {message}" if message else "")
        limit = plan["constructor_kwargs"].get("memory_limit")
        return (
            f"auto-sklearn's dummy model already failed ({why}); most often the memory limit ({limit} MB per "
            "job) is too small for the data",
            "dummy_failed",
        )
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(error).__name__}: {first[:400]}", "exception"


def _limit_reason(plan: dict[str, Any], reporter: TrialReporter) -> str:
    limit = (plan["constructor_kwargs"].get("smac_scenario_args") or {}).get("runcount_limit")
    if limit is not None and len(reporter.trials) >= int(limit):
        return "n_trials reached"
    return "walltime reached"


def main(argv: list[str]) -> int:
    global _PROTOCOL_FD
    # The protocol keeps the original stdout; every other print goes to stderr (the runner's log file).
    _PROTOCOL_FD = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if argv[1:] == ["--check"]:
        return check()
    if len(argv) == 3 and argv[1] == "--predict":
        return predict(argv[2])
    if len(argv) != 2:
        emit("error", message="usage: metaconf_worker.py SPEC.json | --predict REQUEST.json | --check")
        return EXIT_BAD_SPEC
    _install_signal_handlers()
    try:
        _read_spec(argv[1])
    except (OSError, ValueError, KeyError) as error:
        emit("error", message=f"cannot read the spec {argv[1]}: {error}")
        return EXIT_BAD_SPEC
    return run(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
