"""Compile a metaconf :class:`~metaconf.config.model.Config` into auto-sklearn 0.15 arguments.

The result, :class:`AutoSklearnPlan`, is pure JSON data: the estimator class name, the exact constructor and
``fit`` keyword arguments, the metric to build, and the worker's own settings. The worker (``worker.py``,
running inside auto-sklearn's Python 3.9 environment) turns it into real objects; ``metaconf compile`` and
``metaconf run --dry-run`` print it. Only objects that cannot be JSON are added by the worker at run time:
``metric`` (a ``Scorer``), ``tmp_folder`` (a fresh temporary folder), ``get_trials_callback`` (progress and
stopping) and ``dask_client`` (when a scheduler address is configured).

Every trap in docs/tools.md ("auto-sklearn") that the config can reach is decided here, before a 30 s environment
start: the 30 s minimum, an unknown or misspelled component or scenario key, include and exclude on one step,
a run limit below the meta-learning initial design, ``ensemble_size`` next to ``ensemble_kwargs``, ``metric``
as a string, a custom metric's silent loss of meta-learning, ``memory_limit=None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.errors import UsageError
from metaconf.targets.autosklearn import components as comp

if TYPE_CHECKING:
    from metaconf.config.model import Config

AUTOSKLEARN_VERSION = "0.15.0"

TOOL_DIR = "autosklearn"
"""auto-sklearn's own files inside the run directory (its log, the leaderboard, the spec and raw result),
the counterpart of SMAC's ``smac/``."""

STARTUP_RESERVE_S = 5
"""Seconds of ``budget.walltime`` kept for what is not auto-sklearn's search: starting the worker and its
Python (about 1.3 s), reading the data, the final predictions on the test rows."""

STALL_GRACE_S = 10
"""Once the worker's watchdog has ended auto-sklearn's stuck processes at the fit deadline, the seconds ``fit``
gets to return before the worker abandons it and predicts with the best single model that finished. The end
of every fit takes about 5 s: auto-sklearn 0.15 waits out a 5 s join of its log server (measured)."""

WORKER_OVERHEAD_S = 30
"""For metaconf's hard timeout: the worker's Python and imports, reading the data, the test predictions."""

BUILTIN_METRICS = {
    # metaconf metric -> name in autosklearn.metrics. auto-sklearn's loss (optimum - score) equals metaconf's
    # cost for each: 1 - accuracy, 1 - balanced accuracy, 1 - AUC, 1 - F1, log loss, rmse, mae, 1 - R².
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "roc_auc": "roc_auc",
    "f1": "f1",
    "log_loss": "log_loss",
    "rmse": "root_mean_squared_error",
    "mae": "mean_absolute_error",
    "r2": "r2",
}


@dataclass(frozen=True)
class MetricPlan:
    """The metric the worker builds: an ``autosklearn.metrics`` object, or a custom scorer.

    A custom scorer wraps a module-level function of the worker through ``autosklearn.metrics.make_scorer``
    with its arguments as ``kwargs`` (a closure would silently lose the ensemble: docs/tools.md).
    """

    name: str
    """metaconf's metric name (``accuracy``, ``expected_cost``, ...)."""
    autosklearn_name: str | None
    """Name in ``autosklearn.metrics`` for a built-in metric; None for a custom one."""
    custom_function: str | None = None
    """Module-level function of the worker for a custom metric (``expected_cost``, ``roc_auc_ovr``,
    ``f1_of_class``)."""
    make_scorer_args: dict[str, Any] = field(default_factory=dict)
    """``make_scorer`` arguments of a custom metric: optimum, worst_possible_result, greater_is_better,
    needs_proba and the function's own kwargs."""
    classes: list[str] | None = None
    """Classification: the class labels (as strings) in the order the worker encodes them as 0..k-1. Binary
    tasks put the positive class last, so auto-sklearn's ``f1`` / ``roc_auc`` (positive = 1) score it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "autosklearn_name": self.autosklearn_name,
            "custom_function": self.custom_function,
            "make_scorer_args": self.make_scorer_args,
            "classes": self.classes,
        }


@dataclass(frozen=True)
class AutoSklearnPlan:
    """Everything the worker needs to build and fit the estimator, as JSON data."""

    estimator: str
    """``AutoSklearnClassifier`` or ``AutoSklearnRegressor``."""
    constructor_kwargs: dict[str, Any]
    """The exact keyword arguments of the estimator, without the run-time objects (see module docstring)."""
    fit_kwargs: dict[str, Any]
    """Keyword arguments of ``fit`` besides X and y."""
    metric: MetricPlan
    worker: dict[str, Any]
    """The worker's own settings: thread limits, Dask scheduler, plateau / cost-threshold stopping, and the
    hard timeout after which metaconf kills it."""
    notes: tuple[str, ...] = ()
    """How derived values were chosen, and what auto-sklearn does differently from the config's words."""

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON data, with ``meta``: the sha256 of its canonical JSON (sorted keys)."""
        from metaconf.report.results import sha256_of

        data = {
            "tool": "auto-sklearn",
            "autosklearn_version": AUTOSKLEARN_VERSION,
            "estimator": self.estimator,
            "constructor_kwargs": self.constructor_kwargs,
            "fit_kwargs": self.fit_kwargs,
            "metric": self.metric.to_dict(),
            "worker": self.worker,
            "notes": list(self.notes),
        }
        return {**data, "meta": {"sha256": sha256_of(data)}}

    @property
    def meta(self) -> str:
        """Identity of the plan: sha256 of its canonical JSON."""
        return str(self.to_dict()["meta"]["sha256"])

    def python_snippet(self) -> str:
        """An equivalent stand-alone auto-sklearn script (what the worker does, minus progress and checks)."""
        lines = [
            "# Runs inside the auto-sklearn environment: `metaconf backends list` shows its Python.",
            "import os",
            'os.environ["OMP_NUM_THREADS"] = "1"  # before numpy: ensembles predict 300x slower without it',
            "",
            "import autosklearn.metrics",
            f"from autosklearn.{'classification' if self.estimator.endswith('Classifier') else 'regression'} "
            f"import {self.estimator}",
        ]
        if self.metric.custom_function is not None:
            lines += ["", f"from metaconf_worker import {self.metric.custom_function}  # module level: picklable"]
        lines += ["", ""]
        lines.append('if __name__ == "__main__":  # dask re-imports the main module with n_jobs > 1')
        if self.metric.custom_function is not None:
            args = ", ".join(f"{k}={v!r}" for k, v in self.metric.make_scorer_args.items())
            lines.append(
                f"    metric = autosklearn.metrics.make_scorer({self.metric.name!r}, "
                f"{self.metric.custom_function}, {args})"
            )
        else:
            lines.append(f"    metric = autosklearn.metrics.{self.metric.autosklearn_name}")
        lines.append(f"    automl = {self.estimator}(")
        for key, value in self.constructor_kwargs.items():
            lines.append(f"        {key}={value!r},")
        lines.append("        metric=metric,")
        lines.append('        tmp_folder="/tmp/metaconf-autosklearn-XXXX/autosklearn",  # must not exist yet')
        if self.worker.get("dask_scheduler"):
            lines.append(f"        dask_client=distributed.Client({self.worker['dask_scheduler']!r}),")
        lines.append("    )")
        fit_args = "".join(f", {k}={v!r}" for k, v in self.fit_kwargs.items())
        lines.append(f"    automl.fit(X_train, y_train{fit_args})")
        lines.append("    print(automl.leaderboard())")
        return "\n".join(lines) + "\n"


def class_order(classes: Sequence[Any], positive_label: Any = None) -> list[str]:
    """Class labels as strings in the order the worker encodes them (0..k-1).

    Sorted like scikit-learn's ``classes_``; on a binary task the positive class goes last, because
    auto-sklearn's ``f1`` and ``roc_auc`` treat encoded class 1 as positive.
    """
    from metaconf.targets.metrics import label_key

    keys = [label_key(c) for c in classes]
    if positive_label is not None and len(keys) == 2:
        positive = label_key(positive_label)
        if positive in keys:
            keys = [k for k in keys if k != positive] + [positive]
    return keys


def compile_autosklearn(
    config: Config,
    *,
    run_dir: str | Path,
    seed: int,
    classes: Sequence[Any] | None = None,
    y: Any = None,
) -> AutoSklearnPlan:
    """The auto-sklearn plan for ``config``. Raises :class:`UsageError` for anything auto-sklearn would reject
    (or silently ignore) with the field to change.

    ``classes`` (the target's classes, sorted) and ``y`` (the training target) let the metric be resolved
    against the data: the positive class, multiclass ROC AUC, the cost matrix's label order. Without them
    (``metaconf compile`` before the data is read) a binary task is assumed and the note says so.
    """
    notes: list[str] = []
    task_type = config.task.type.value
    _reject_unsupported(config)

    total, total_note = _time_left(config)
    notes.append(total_note)
    metric = _metric_plan(config, classes, y, notes)
    metalearning = _metalearning(config, metric, notes)
    scenario_args, metalearning = _scenario_args(config, metalearning, notes)
    workers = config.execution.workers
    per_run = _per_run(config, total, workers, notes)
    include, exclude = _include_exclude(config, notes)

    settings = config.auto_sklearn
    ensemble_nbest = settings.ensemble_nbest if settings else 50
    max_models = settings.max_models_on_disc if settings else 50
    dataset_compression = settings.dataset_compression if settings else True
    ensemble_size = settings.ensemble_size if settings else None
    ensemble_class: str | None = "default"
    ensemble_kwargs: dict[str, Any] | None = None
    if ensemble_size == 0:
        ensemble_class = None
        notes.append("ensemble: off (auto_sklearn.ensemble_size 0): predictions come from the single best model")
    elif ensemble_size is not None:
        # The constructor's ensemble_size is deprecated and loses silently to ensemble_kwargs.
        ensemble_kwargs = {"ensemble_size": ensemble_size}

    kwargs: dict[str, Any] = {
        "time_left_for_this_task": total,
        "per_run_time_limit": per_run,
        "initial_configurations_via_metalearning": metalearning,
        "ensemble_class": ensemble_class,
        "ensemble_kwargs": ensemble_kwargs,
        "ensemble_nbest": ensemble_nbest,
        "max_models_on_disc": max_models,
        "seed": seed,
        "memory_limit": _memory_limit(config, workers, notes),
        "include": include,
        "exclude": exclude,
        "resampling_strategy": config.resampling.strategy.value,
        "resampling_strategy_arguments": _resampling_arguments(config, notes),
        "delete_tmp_folder_after_terminate": False,
        "n_jobs": workers,
        "smac_scenario_args": scenario_args,
        "dataset_compression": dataset_compression,
    }
    stopping = config.stopping
    worker = {
        "omp_num_threads": 1,
        "output_dir": str(Path(run_dir) / TOOL_DIR),
        "dask_scheduler": config.execution.dask_scheduler,
        "plateau_patience": stopping.plateau_patience,
        "plateau_min_delta": stopping.plateau_min_delta,
        "cost_threshold": stopping.cost_threshold,
        "initial_design_size": 1 + metalearning,
        "fit_deadline_s": _fit_deadline(total),
        "stall_grace_s": STALL_GRACE_S,
        "hard_timeout_s": _hard_timeout(total),
    }
    if stopping.plateau_patience is not None:
        notes.append(
            f"plateau stop: after {stopping.plateau_patience} runs without improvement, counted after the "
            f"{1 + metalearning} initial runs (default + meta-learning); done by metaconf's trials callback"
        )
    if config.execution.dask_scheduler:
        notes.append(
            "dask: the scheduler and workers must run auto-sklearn's environment (its dask 2024.8), e.g. "
            "`<env>/bin/dask scheduler`; a scheduler of metaconf's own dask cannot talk to it"
        )
    estimator = "AutoSklearnRegressor" if task_type == "regression" else "AutoSklearnClassifier"
    return AutoSklearnPlan(
        estimator=estimator,
        constructor_kwargs=kwargs,
        fit_kwargs={"dataset_name": _dataset_name(config)},
        metric=metric,
        worker=worker,
        notes=tuple(notes),
    )


# ------------------------------------------------------------------------------------------------ pieces
def _reject_unsupported(config: Config) -> None:
    """Settings auto-sklearn cannot honour. Each would otherwise be dropped without a word."""
    space = config.search_space
    for name in ("file", "inline", "estimator"):
        if getattr(space, name) is not None:
            raise UsageError(
                f"`search_space.{name}` is not supported with `tool: auto-sklearn`: auto-sklearn searches its "
                "own pipeline space",
                "pick models with `search_space.models` (or `auto_sklearn.include`), or use `tool: smac`",
            )
    if space.overrides:
        raise UsageError(
            "`search_space.overrides` is not supported with `tool: auto-sklearn`: its hyperparameter ranges "
            "are fixed",
            "remove the overrides, or use `tool: smac` to search narrowed ranges",
        )
    kind = config.optimizer.kind.value
    if kind != "bo":
        raise UsageError(
            f"`optimizer.kind: {kind}` is not available with `tool: auto-sklearn`, which always runs SMAC's "
            "random-forest Bayesian optimisation",
            "set `optimizer.kind: bo`, or use `tool: smac` for this optimiser",
        )
    if config.fidelity.type.value != "none":
        raise UsageError(
            f"`fidelity.type: {config.fidelity.type.value}` is not available with `tool: auto-sklearn`",
            "set `fidelity.type: none`, or use `tool: smac` with a multi-fidelity optimiser",
        )
    if config.initial_design.warm_start:
        raise UsageError(
            "`initial_design.warm_start` is not available with `tool: auto-sklearn`: its initial "
            "configurations come from meta-learning",
            "remove the warm start; set `auto_sklearn.metalearning_configs` for the number of initial runs",
        )
    if config.stopping.cputime is not None:
        raise UsageError(
            "`stopping.cputime` is not available with `tool: auto-sklearn`",
            "use `stopping.walltime` instead",
        )


def _time_left(config: Config) -> tuple[int, str]:
    minimum = comp.MIN_TIME_LEFT_S
    if config.stopping.walltime is not None:
        total = math.floor(config.stopping.walltime)
        if total < minimum:
            raise UsageError(
                f"`stopping.walltime` is {config.stopping.walltime:g}s; auto-sklearn needs at least {minimum}s "
                "(`time_left_for_this_task`)",
                f"set `stopping.walltime: {minimum}s` or more",
            )
        return total, f"time_left_for_this_task: {total}s from stopping.walltime"
    if config.budget.walltime is not None:
        total = math.floor(config.budget.walltime - STARTUP_RESERVE_S)
        if total < minimum:
            raise UsageError(
                f"`budget.walltime` is {config.budget.walltime:g}s, which leaves {max(total, 0)}s for the "
                f"search after {STARTUP_RESERVE_S}s of start-up; auto-sklearn needs at least {minimum}s",
                f"set `budget.walltime: {minimum + STARTUP_RESERVE_S}s` or more",
            )
        return total, (
            f"time_left_for_this_task: {total}s = budget.walltime {config.budget.walltime:g}s minus "
            f"{STARTUP_RESERVE_S}s for the worker's start-up and test predictions"
        )
    return 3600, "time_left_for_this_task: 3600s, auto-sklearn's default (set `stopping.walltime` to choose)"


def _per_run(config: Config, total: int, workers: int, notes: list[str]) -> int:
    trial = config.stopping.trial_walltime
    if trial is not None:
        per_run = max(1, math.ceil(trial))
        if per_run > total:
            notes.append(
                f"per_run_time_limit: stopping.trial_walltime {trial:g}s is above the total {total}s; "
                f"capped at {total}s (auto-sklearn would cap it silently)"
            )
            return total
        notes.append(f"per_run_time_limit: {per_run}s from stopping.trial_walltime")
        return per_run
    per_run = max(1, workers * total // comp.PER_RUN_FRACTION)
    notes.append(
        f"per_run_time_limit: {per_run}s, auto-sklearn's default (workers x total / {comp.PER_RUN_FRACTION}); "
        "set `stopping.trial_walltime` to choose"
    )
    return per_run


def _memory_limit(config: Config, workers: int, notes: list[str]) -> int:
    if config.stopping.trial_memory is not None:
        limit = max(1, math.floor(config.stopping.trial_memory))
        notes.append(f"memory_limit: {limit} MB per job from stopping.trial_memory")
        return limit
    if config.budget.memory is not None:
        limit = max(1, math.floor(config.budget.memory / workers))
        notes.append(
            f"memory_limit: {limit} MB per job = budget.memory {config.budget.memory:g} MB / {workers} worker(s)"
        )
        return limit
    # None would mean "no limit" but raises a TypeError unless dataset_compression is off: always compile a number.
    notes.append(f"memory_limit: {comp.DEFAULT_MEMORY_LIMIT_MB} MB per job, auto-sklearn's default")
    return comp.DEFAULT_MEMORY_LIMIT_MB


def _resampling_arguments(config: Config, notes: list[str]) -> dict[str, Any]:
    resampling = config.resampling
    if resampling.stratify is False and config.task.type.value == "classification":
        notes.append(
            "resampling: auto-sklearn always stratifies classification splits; `resampling.stratify: false` "
            "has no effect"
        )
    if resampling.strategy.value == "cv":
        return {"folds": resampling.folds, "shuffle": True}
    return {"train_size": round(1.0 - resampling.holdout_fraction, 6), "shuffle": True}


def _metric_plan(config: Config, classes: Sequence[Any] | None, y: Any, notes: list[str]) -> MetricPlan:
    name = config.effective_metric().value
    if config.task.type.value == "regression":
        return MetricPlan(name, BUILTIN_METRICS[name])
    from metaconf.targets.metrics import label_key, metric_for

    spec = metric_for(config, classes, y)
    order = class_order(classes, spec.positive_label) if classes is not None else None
    n_classes = len(classes) if classes is not None else None
    if name == "expected_cost":
        matrix = _cost_matrix_in_order(spec.cost_matrix, classes, order)
        flat = [c for row in matrix for c in row]
        notes.append(
            "metric: expected cost, a custom scorer (module-level `expected_cost` of the worker, cost matrix "
            "in its kwargs); predictions are Bayes decisions (lowest expected cost under the probabilities)"
        )
        return MetricPlan(
            name,
            None,
            "expected_cost",
            {
                "optimum": 0.0,  # auto-sklearn's loss is optimum - score: 0 makes the loss the expected cost
                "worst_possible_result": max(flat),
                "greater_is_better": False,
                "needs_proba": True,
                "costs": matrix,
            },
            order,
        )
    if n_classes is not None and n_classes > 2:
        if name == "roc_auc":
            notes.append("metric: multiclass ROC AUC (one-vs-rest, macro), a custom scorer of the worker")
            return MetricPlan(
                name,
                None,
                "roc_auc_ovr",
                {"optimum": 1.0, "worst_possible_result": 0.0, "greater_is_better": True, "needs_proba": True},
                order,
            )
        if name == "f1":
            if spec.positive_label is not None and order is not None:
                index = order.index(label_key(spec.positive_label))
                notes.append(f"metric: F1 of the class `{order[index]}` (task.positive_label), a custom scorer")
                return MetricPlan(
                    name,
                    None,
                    "f1_of_class",
                    {"optimum": 1.0, "worst_possible_result": 0.0, "greater_is_better": True, "label": index},
                    order,
                )
            return MetricPlan(name, "f1_macro", classes=order)
    if classes is None and name in ("f1", "roc_auc"):
        notes.append(f"metric: `{name}` assumes a binary target until the data is read")
    if spec.positive_label is not None and n_classes == 2:
        notes.append(f"metric: positive class `{label_key(spec.positive_label)}` (encoded as 1)")
    return MetricPlan(name, BUILTIN_METRICS[name], classes=order)


def _cost_matrix_in_order(
    matrix: Sequence[Sequence[float]] | None, classes: Sequence[Any] | None, order: list[str] | None
) -> list[list[float]]:
    """The cost matrix (in ``classes`` order, as ``metric_for`` returns it) reordered to the worker's encoding."""
    from metaconf.targets.metrics import label_key

    assert matrix is not None  # metric_for raises for expected_cost without a cost matrix
    if classes is None or order is None:
        return [list(row) for row in matrix]
    position = [[label_key(c) for c in classes].index(key) for key in order]
    return [[matrix[i][j] for j in position] for i in position]


def _metalearning(config: Config, metric: MetricPlan, notes: list[str]) -> int:
    settings = config.auto_sklearn
    value = settings.metalearning_configs if settings else 25
    if metric.custom_function is not None and value:
        notes.append(
            "initial_configurations_via_metalearning: 0, because auto-sklearn has no meta-data for a custom "
            f"metric (it would skip the {value} configurations silently)"
        )
        return 0
    return value


def _scenario_args(config: Config, metalearning: int, notes: list[str]) -> tuple[dict[str, Any] | None, int]:
    settings = config.auto_sklearn
    user = dict(settings.smac_scenario_args or {}) if settings else {}
    args: dict[str, Any] = {}
    for key, value in user.items():
        if key in comp.SCENARIO_KEYS_FIXED_BY_AUTOSKLEARN:
            raise UsageError(
                f"`auto_sklearn.smac_scenario_args.{key}` is fixed by auto-sklearn, which drops it with only a "
                "log warning",
                f"remove `{key}`",
            )
        if key in comp.SCENARIO_KEYS_FROM_METACONF:
            raise UsageError(
                f"`auto_sklearn.smac_scenario_args.{key}` is set by metaconf from "
                f"`{comp.SCENARIO_KEYS_FROM_METACONF[key]}`",
                f"remove `{key}` and set `{comp.SCENARIO_KEYS_FROM_METACONF[key]}` instead",
            )
        if key not in comp.SCENARIO_KEYS:
            close = get_close_matches(key, sorted(comp.SCENARIO_KEYS), n=1)
            guess = f"did you mean `{close[0]}`? " if close else ""
            raise UsageError(
                f"`auto_sklearn.smac_scenario_args.{key}` is not a SMAC 1.2 scenario option; SMAC would ignore "
                "it without a word",
                guess + "known options: " + ", ".join(sorted(comp.SCENARIO_KEYS)),
            )
        if key == "initial_incumbent" and str(value).upper() not in comp.SAFE_INITIAL_INCUMBENTS:
            raise UsageError(
                f"`auto_sklearn.smac_scenario_args.initial_incumbent: {value}` crashes SMAC 1.2 inside "
                "auto-sklearn (IndexError)",
                "use `DEFAULT` or `RANDOM`",
            )
        args["runcount_limit" if key == "ta_run_limit" else key] = value

    n_trials = config.stopping.n_trials
    if n_trials is not None:
        if n_trials < 1:
            raise UsageError(
                f"`stopping.n_trials` is {n_trials}; auto-sklearn needs at least 1 run",
                "set `stopping.n_trials` to 1 or more, or remove it to stop on time only",
            )
        given = args.get("runcount_limit")
        if given is not None and given != n_trials:
            raise UsageError(
                f"`stopping.n_trials` ({n_trials}) and `auto_sklearn.smac_scenario_args.runcount_limit` "
                f"({given}) disagree",
                "keep `stopping.n_trials` and remove `runcount_limit`",
            )
        args["runcount_limit"] = n_trials
    limit = args.get("runcount_limit")
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise UsageError(
                f"`auto_sklearn.smac_scenario_args.runcount_limit` must be a positive integer. Got {limit!r} instead.",
                "use `stopping.n_trials` instead",
            )
        # SMAC 1.2 refuses an initial design (default config + meta-learning ones) larger than the run limit,
        # but only after ~5 s inside fit.
        if limit < 1 + metalearning:
            explicit = config.auto_sklearn is not None and "metalearning_configs" in config.auto_sklearn.model_fields_set
            if explicit:
                raise UsageError(
                    f"`stopping.n_trials` ({limit}) is smaller than the initial design: 1 default + "
                    f"{metalearning} meta-learning configurations (`auto_sklearn.metalearning_configs`)",
                    f"set `auto_sklearn.metalearning_configs` to at most {limit - 1}, or `stopping.n_trials` "
                    f"to at least {1 + metalearning}",
                )
            notes.append(
                f"initial_configurations_via_metalearning: {limit - 1} (not {metalearning}), so that the "
                f"initial design fits in the {limit} runs of stopping.n_trials"
            )
            metalearning = limit - 1
        notes.append(f"smac_scenario_args.runcount_limit: {limit} runs")
    return (args or None), metalearning


def _include_exclude(
    config: Config, notes: list[str]
) -> tuple[dict[str, list[str]] | None, dict[str, list[str]] | None]:
    task_type = config.task.type.value
    steps = comp.components_by_step(task_type)
    model_step = "regressor" if task_type == "regression" else "classifier"
    settings = config.auto_sklearn
    include = {k: list(v) for k, v in settings.include.items()} if settings and settings.include else None
    exclude = {k: list(v) for k, v in settings.exclude.items()} if settings and settings.exclude else None
    for what, mapping in (("include", include), ("exclude", exclude)):
        for step, names in (mapping or {}).items():
            _check_step(what, step, names, steps, task_type)
    models = config.search_space.models
    if models:
        if include is not None and model_step in include:
            notes.append(
                f"include.{model_step}: from auto_sklearn.include; search_space.models is not used for it"
            )
        elif exclude is not None and model_step in exclude:
            raise UsageError(
                f"`search_space.models` and `auto_sklearn.exclude.{model_step}` both choose the models",
                f"keep one: remove `auto_sklearn.exclude.{model_step}` or `search_space.models`",
            )
        else:
            derived: list[str] = []
            for family in models:
                for name in comp.FAMILY_COMPONENTS[family.value][task_type]:
                    if name not in derived:
                        derived.append(name)
            include = {**(include or {}), model_step: derived}
            notes.append(
                f"include.{model_step}: "
                + "; ".join(
                    f"{f.value} -> {', '.join(comp.FAMILY_COMPONENTS[f.value][task_type])}" for f in models
                )
            )
    if include and exclude:
        both = sorted(set(include) & set(exclude))
        if both:
            raise UsageError(
                f"`auto_sklearn.include` and `auto_sklearn.exclude` both name the step `{both[0]}`; "
                "auto-sklearn rejects that (after 5 s inside fit)",
                f"keep `{both[0]}` in one of them",
            )
    return include, exclude


def _check_step(
    what: str, step: str, names: list[str], steps: dict[str, tuple[str, ...]], task_type: str
) -> None:
    where = f"auto_sklearn.{what}.{step}"
    if step not in steps:
        swapped = {"regressor": "classifier", "classifier": "regressor"}.get(step)
        close = [swapped] if swapped in steps else get_close_matches(step, list(steps), n=1)
        guess = f"did you mean `{close[0]}`? " if close else ""
        raise UsageError(
            f"`auto_sklearn.{what}` has the step `{step}`, which auto-sklearn does not know for {task_type}",
            guess + "steps: " + ", ".join(f"`{s}`" for s in steps),
        )
    if not names:
        raise UsageError(f"`{where}` is an empty list; auto-sklearn needs at least one component",
                         f"name components ({', '.join(steps[step][:4])}, ...) or remove `{step}`")
    for name in names:
        if name not in steps[step]:
            close = get_close_matches(name, list(steps[step]), n=1)
            guess = f"did you mean `{close[0]}`? " if close else ""
            raise UsageError(
                f"`{where}` names `{name}`, which is not an auto-sklearn {step} for {task_type}",
                guess + "choices: " + ", ".join(steps[step]),
            )


def _fit_deadline(total: int) -> int:
    """Seconds after ``fit`` starts by which auto-sklearn must have returned, else the worker's watchdog ends
    what is stuck: its time limit plus 5 % (at least 5 s). A healthy fit returns before its time limit (its
    SMAC stops 5 s early and bounds the last ensemble by the limit): 69 s of 74 s on a 4,454-row table."""
    return total + max(5, math.ceil(total * 0.05))


def _hard_timeout(total: int) -> int:
    """When metaconf gives up on the worker (SIGTERM, then SIGKILL after a grace period): the watchdog's
    deadline and grace plus the worker's own start-up, data loading and predictions."""
    return _fit_deadline(total) + STALL_GRACE_S + WORKER_OVERHEAD_S


def _dataset_name(config: Config) -> str:
    if config.data.demo:
        return config.data.demo
    if config.data.path:
        return Path(config.data.path).stem
    return "data"
