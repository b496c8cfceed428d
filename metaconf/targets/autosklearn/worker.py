"""metaconf's auto-sklearn worker: runs INSIDE auto-sklearn's own environment (Python 3.8 / 3.9).

It imports only the standard library, numpy, pandas, scikit-learn 0.24 and auto-sklearn 0.15, never metaconf
(which needs Python >= 3.10 and SMAC3 2.x). metaconf copies this file into the run directory and starts it with
the environment's Python::

    <env>/bin/python <run_dir>/autosklearn/metaconf_worker.py SPEC.json   # run a search
    <env>/bin/python metaconf_worker.py --check                              # print versions (doctor)

Protocol: the spec (written by ``runner.py``) holds the compiled plan and the paths of the already-split
train / test CSV files. Progress goes to the ORIGINAL stdout as JSON lines (``{"event": "trial", ...}``);
everything else that anything prints (auto-sklearn, SMAC, dask) is redirected to stderr, which the runner
sends to a log file, so a stray print can never corrupt the protocol. The final result is a JSON file
(``result_path`` of the spec), written atomically, and the ``{"event": "result"}`` line points at it.

Exit codes: 0 a result was written (finished or interrupted); 3 a result was written and the run failed (an
exception inside ``fit``, or only the dummy model came out); 2 the spec is unusable; anything else is a crash
the runner reports with the log's tail.

Traps handled here (AUTOSKLEARN-FACTS.md): ``OMP_NUM_THREADS=1`` before numpy is imported; the
``if __name__ == "__main__"`` guard (dask re-imports this module in its workers with n_jobs > 1); a fresh
``tmp_folder`` that does not exist yet; custom metrics as module-level functions handed to ``make_scorer``
with their data as kwargs (picklable; a closure silently loses the ensemble); a fit that produced only the
dummy model is a failure, not a success.
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
_MAIN_PID = os.getpid()


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
    """First SIGINT / SIGTERM: stop after the running trial (the trials callback returns False).

    Forked children (pynisher's trial processes) inherit this handler; pynisher ends a timed-out trial with
    SIGTERM, which must kill that child as usual, not ask the search to stop (and leave the child alive).
    """
    global _STOP_SIGNAL
    if os.getpid() != _MAIN_PID:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    if _STOP_SIGNAL is None:
        _STOP_SIGNAL = signal.Signals(signum).name
        emit("stopping", signal=_STOP_SIGNAL)


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
            "walltime_s": round(time.time() - self.started, 3),
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


def _load_frame(path: str, columns: list[dict[str, str]], target: str, task_type: str, classes: list[str] | None):
    import numpy as np
    import pandas as pd

    dtypes = {c["name"]: str for c in columns if c["kind"] == "categorical"}
    if task_type == "classification":
        dtypes[target] = str
    # metaconf writes a missing feature value as an empty cell and labels exactly as they are matched: a class
    # called "NA" or "None" must stay a label, not become NaN by pandas' default missing-value words.
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values={c["name"]: [""] for c in columns})
    for column in columns:
        if column["kind"] == "categorical":
            frame[column["name"]] = frame[column["name"]].astype("category")
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
    if ensemble is None:
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
    started = time.time()
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
        "error": None,
        "versions": {},
        "timings": {},
    }
    reporter = TrialReporter(started, settings)
    tmp_root = tempfile.mkdtemp(prefix="metaconf-autosklearn-")
    tmp_folder = os.path.join(tmp_root, "autosklearn")  # must not exist yet: auto-sklearn creates it
    client = None
    exit_code = EXIT_RUN_FAILED
    try:
        import_started = time.time()
        import autosklearn
        import numpy as np
        import pandas as pd

        result["versions"] = {"auto-sklearn": autosklearn.__version__, "python": ".".join(str(v) for v in sys.version_info[:3])}
        result["timings"]["import_s"] = round(time.time() - import_started, 3)
        data = spec["data"]
        classes = plan["metric"].get("classes")
        task_type = spec["task_type"]
        load_started = time.time()
        X_train, y_train = _load_frame(data["train"], data["columns"], data["target"], task_type, classes)
        X_test, y_test = _load_frame(data["test"], data["columns"], data["target"], task_type, classes)
        result["timings"]["load_s"] = round(time.time() - load_started, 3)
        emit("loaded", n_train=len(y_train), n_test=len(y_test), n_features=X_train.shape[1])

        metric = _build_metric(plan)
        if settings.get("dask_scheduler"):
            from dask.distributed import Client

            client = Client(settings["dask_scheduler"])
        automl = _build_estimator(plan, metric, tmp_folder, reporter, client)
        fit_started = time.time()
        reporter.started = fit_started
        emit("fit_started", time_left_s=plan["constructor_kwargs"]["time_left_for_this_task"])
        automl.fit(X_train, y_train, **plan["fit_kwargs"])
        result["timings"]["fit_s"] = round(time.time() - fit_started, 3)
        emit("fit_finished", fit_s=result["timings"]["fit_s"])

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
            predict_started = time.time()
            if task_type == "classification":
                prediction = automl.predict_proba(X_test)
                frame = pd.DataFrame(prediction, columns=["proba:" + str(c) for c in classes])
            else:
                prediction = automl.predict(X_test)
                frame = pd.DataFrame({"prediction": prediction})
            frame.to_csv(spec["predictions_path"], index=False)
            result["timings"]["predict_s"] = round(time.time() - predict_started, 3)
            result["test_cost_autosklearn"] = _finite(metric._optimum - metric(np.asarray(y_test), prediction))
            if _STOP_SIGNAL is not None:
                result["status"], result["stop_reason"] = "interrupted", _STOP_SIGNAL
            else:
                result["status"] = "finished"
                result["stop_reason"] = reporter.stop_reason or _limit_reason(plan, reporter)
            exit_code = EXIT_OK
    except Exception as error:  # everything inside fit: report it, keep what was evaluated
        traceback.print_exc()
        result["error"], result["error_kind"] = _explain_error(error, plan)
        if _STOP_SIGNAL is not None:
            result["status"], result["stop_reason"] = "interrupted", _STOP_SIGNAL
    finally:
        if client is not None:
            client.close()
        result["trials"] = reporter.trials
        result["timings"]["total_s"] = round(time.time() - started, 3)
        try:
            _copy_tool_files(tmp_folder, output_dir)
        finally:
            shutil.rmtree(tmp_root, ignore_errors=True)
        _write_json(result_path, result)
        emit("result", path=result_path, status=result["status"])
    return exit_code


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
    if len(argv) != 2:
        emit("error", message="usage: metaconf_worker.py SPEC.json | --check")
        return EXIT_BAD_SPEC
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        _read_spec(argv[1])
    except (OSError, ValueError, KeyError) as error:
        emit("error", message=f"cannot read the spec {argv[1]}: {error}")
        return EXIT_BAD_SPEC
    return run(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
