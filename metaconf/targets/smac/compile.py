"""Compile a metaconf :class:`~metaconf.config.model.Config` into the exact SMAC3 2.4.1 calls that run it.

The result, :class:`SmacPlan`, is pure data (JSON-renderable): the facade class, the keyword arguments of
``Scenario``, of each component (intensifier, initial design, random design, surrogate model) and of the
facade itself, plus the callbacks metaconf adds. ``metaconf compile`` / ``metaconf run --dry-run`` print it;
:mod:`metaconf.targets.smac.runner` builds the SMAC objects from it and nothing else, so what is printed is
what runs. ``plan.meta`` is the sha256 of the plan's canonical JSON (sorted keys), not of ``str(obj)``.
:func:`metaconf.targets.smac.script.render_python` writes the plan as a SMAC3 script that runs as is (``metaconf compile -f python``).

Every SMAC trap in ``docs/tools.md`` that a config can reach is handled here, once:

- ``crash_cost`` is always finite (the metric's worst cost): an infinite one turns the first crashed trial into
  a NaN in the random-forest surrogate and kills the run.
- ``trial_memory_limit`` is passed as ``(MB, "MB")``: a bare number is read as *bytes* by pynisher.
- ``trial_walltime_limit`` is rounded up to whole seconds (pynisher does so anyway; the plan says so).
- ``eta`` goes to the intensifier (``Hyperband(scenario, eta=3)``), never to the Scenario; ``eta <= 1`` and
  ``min_budget >= max_budget`` are refused here with a message instead of SMAC's ``OverflowError``.
- Budgets go to the Scenario only for the multi-fidelity facade (the HPO facade silently ignores them).
- ``n_trials <= 0`` is refused (SMAC raises at facade construction); an unset ``n_trials`` is derived from the
  walltime, and the plan says how.
- ``termination_cost_threshold`` is kept out of the Scenario for multi-fidelity runs (SMAC would stop on a
  low-budget cost); metaconf's callback checks it on full-budget trials only.
- The run ``name`` is a constant (``metaconf``): SMAC's results depend on it, so deriving it from the config
  file's name would make two copies of one config disagree.
- The random-forest surrogate gets ``n_jobs=1``: on 2 cores joblib threads double SMAC's own overhead.
- ``deterministic=True``: a trial is a function of (config, seed, budget), so SMAC evaluates each
  configuration once instead of racing it on up to three seeds.
- ``Scenario.n_workers`` stays 1: metaconf hands SMAC its own Dask runner (see the runner), and SMAC would
  otherwise wrap it in a second one.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.config.model import (
    Config,
    FidelityType,
    InitialDesignKind,
    OptimizerKind,
)
from metaconf.errors import UsageError
from metaconf.report.results import jsonable, sha256_of
from metaconf.targets.run_dir import resolve_seed

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from metaconf.targets.metrics import MetricSpec

SMAC_RUN_NAME = "metaconf"
"""SMAC's run ``name``: constant, because SMAC's results depend on it."""
N_TRIALS_WITHOUT_LIMITS = 100
"""SMAC's own default, used when neither ``stopping.n_trials`` nor any walltime is set."""
TRIALS_PER_SECOND_CAP = 1.0
"""With only a walltime, n_trials is capped at one trial per second of it (the walltime is what stops)."""

FACADES: dict[OptimizerKind, str] = {
    OptimizerKind.bo: "HyperparameterOptimizationFacade",
    OptimizerKind.bo_gp: "BlackBoxFacade",
    OptimizerKind.random: "RandomFacade",
    OptimizerKind.hyperband: "MultiFidelityFacade",
    OptimizerKind.successive_halving: "MultiFidelityFacade",
}

INITIAL_DESIGNS: dict[InitialDesignKind, str] = {
    InitialDesignKind.sobol: "smac.initial_design.SobolInitialDesign",
    InitialDesignKind.random: "smac.initial_design.RandomInitialDesign",
    InitialDesignKind.latin_hypercube: "smac.initial_design.LatinHypercubeInitialDesign",
    InitialDesignKind.factorial: "smac.initial_design.FactorialInitialDesign",
    InitialDesignKind.default: "smac.initial_design.DefaultInitialDesign",
}

# SMAC's facade defaults, written out so that the plan shows every value SMAC will use.
_PER_HYPERPARAMETER = {OptimizerKind.bo_gp: 8}
_RANDOM_DESIGN_PROBABILITY = {
    OptimizerKind.bo: 0.2,
    OptimizerKind.hyperband: 0.2,
    OptimizerKind.successive_halving: 0.2,
    OptimizerKind.bo_gp: 0.08447232371720552,
}
_MAX_INCUMBENTS = {OptimizerKind.bo_gp: 20}

SUBSAMPLE_RANGE = (0.1, 1.0)
"""Default (min, max) fraction of training rows. n_estimators / max_iter defaults come from the built-in
spaces (:func:`metaconf.space.builtin.fidelity_range`); cv_folds defaults to 1 .. ``resampling.folds``."""


@dataclass(frozen=True)
class Component:
    """One SMAC component: its class (dotted path) and the keyword arguments besides ``scenario``.

    Arguments that only exist at run time (``scenario``, ``configspace``, ``additional_configs`` as
    ``Configuration`` objects) are filled in by the runner; here ``additional_configs`` holds plain dicts.
    """

    cls: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SmacPlan:
    """Everything SMAC3 receives for one run, as data."""

    facade: str
    """Class name in ``smac`` (``HyperparameterOptimizationFacade``, ``MultiFidelityFacade``, ...)."""
    scenario: dict[str, Any]
    """``Scenario(configspace, **scenario)``; ``trial_memory_limit`` is ``[MB, "MB"]`` (a tuple at run time)."""
    intensifier: Component
    initial_design: Component
    random_design: Component | None
    """None: the facade's own (random search has a dummy one)."""
    model: Component | None
    """None: the facade's own surrogate (GP for ``bo_gp``, a dummy for random search)."""
    facade_kwargs: dict[str, Any]
    """Extra facade arguments (``logging_level``; ``overwrite`` is decided by the runner)."""
    target: dict[str, Any]
    """The target function: its SMAC arguments and the fidelity it reads ``budget`` as."""
    callbacks: list[dict[str, Any]]
    """metaconf callbacks in order: ``{"name": ..., **parameters}``."""
    execution: dict[str, Any]
    """``workers`` and ``dask_scheduler``: how trials are run (not part of SMAC's scenario)."""
    initial_design_size: int
    """Configurations the initial design will propose (before SMAC drops forbidden ones), plus warm starts."""
    notes: list[str]
    """Every value metaconf derived or changed, in words."""
    meta: str = ""
    """sha256 of the canonical JSON of everything above except paths."""

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON data (what ``metaconf compile --format json`` prints)."""
        return jsonable(asdict(self))


def _plan_identity(plan_data: dict[str, Any]) -> str:
    data = dict(plan_data)
    data.pop("meta", None)
    data["scenario"] = {k: v for k, v in data["scenario"].items() if k != "output_directory"}
    return sha256_of(data)


def fidelity_range(config: Config) -> tuple[FidelityType, float, float, list[str]]:
    """(type, min_budget, max_budget, notes) of a multi-fidelity config, checked."""
    notes: list[str] = []
    kind = config.fidelity.type
    if kind == FidelityType.none:
        kind = FidelityType.subsample
        notes.append(
            f"fidelity.type is `none` with the multi-fidelity optimizer `{config.optimizer.kind.value}`: "
            "using `subsample` (a fraction of the training rows), which works for every model"
        )
    if kind == FidelityType.cv_folds:
        default_min, default_max = 1.0, float(config.resampling.folds)
    elif kind == FidelityType.subsample:
        default_min, default_max = SUBSAMPLE_RANGE
    else:
        from metaconf.space.builtin import fidelity_range as estimator_fidelity_range

        default_min, default_max = estimator_fidelity_range(kind.value)
    low = config.fidelity.min if config.fidelity.min is not None else default_min
    high = config.fidelity.max if config.fidelity.max is not None else default_max
    if config.fidelity.min is None or config.fidelity.max is None:
        notes.append(
            f"fidelity budgets from {low:g} to {high:g} ({kind.value}; metaconf's defaults for unset ends)"
        )
    if low <= 0:
        raise UsageError(
            f"The `fidelity.min` parameter must be greater than 0. Got {low:g} instead.",
            "the smallest budget must be positive (e.g. 0.1 for subsample)",
        )
    if low >= high:
        raise UsageError(
            f"The `fidelity.min` parameter must be below `fidelity.max` ({high:g}). Got {low:g} instead.",
            "lower `fidelity.min` or raise `fidelity.max`",
        )
    if kind == FidelityType.subsample and high > 1:
        raise UsageError(
            f"The `fidelity.max` parameter must be at most 1 for `subsample` (a fraction). Got {high:g} instead.",
            "use fractions of the training rows, e.g. min 0.1 and max 1.0",
        )
    if kind in (FidelityType.n_estimators, FidelityType.max_iter, FidelityType.cv_folds) and low < 1:
        raise UsageError(
            f"The `fidelity.min` parameter must be at least 1 for `{kind.value}` (a count). Got {low:g} instead.",
            "count trees, iterations or folds from 1",
        )
    if kind == FidelityType.cv_folds and high > config.resampling.folds:
        raise UsageError(
            f"The `fidelity.max` parameter must be at most `resampling.folds` ({config.resampling.folds}) for "
            f"`cv_folds`. Got {high:g} instead.",
            "raise `resampling.folds` or lower `fidelity.max`",
        )
    return kind, low, high, notes


def _eta(config: Config) -> int | float:
    eta = config.fidelity.eta if config.fidelity.eta is not None else 3.0
    if not eta > 1:
        raise UsageError(
            f"The `fidelity.eta` parameter must be greater than 1. Got {eta:g} instead.",
            "use 3 (SMAC's default): keep the best third at every rung",
        )
    return int(eta) if float(eta).is_integer() else float(eta)


def _n_trials(config: Config, walltime: float | None, notes: list[str]) -> int:
    n_trials = config.stopping.n_trials
    if n_trials is not None:
        if n_trials <= 0:
            raise UsageError(
                f"The `stopping.n_trials` parameter must be at least 1. Got {n_trials} instead.",
                "remove it to stop on walltime only, or set a positive number of trials",
            )
        return n_trials
    if walltime is not None:
        derived = n_trials_from_walltime(walltime)
        notes.append(
            f"stopping.n_trials is unset: the walltime ({walltime:g} s) stops the search; n_trials is capped at "
            f"{derived} (at most one trial per second, at least {N_TRIALS_WITHOUT_LIMITS})"
        )
        return derived
    notes.append(
        f"stopping.n_trials and every walltime are unset: SMAC's default of {N_TRIALS_WITHOUT_LIMITS} trials applies"
    )
    return N_TRIALS_WITHOUT_LIMITS


def n_trials_from_walltime(walltime: float | None) -> int:
    """The trial limit SMAC gets when ``stopping.n_trials`` is unset: at most one trial per second of the search
    walltime, at least SMAC's default of 100 (100 without any walltime). Lint's budget rules use it too."""
    if walltime is None:
        return N_TRIALS_WITHOUT_LIMITS
    return max(N_TRIALS_WITHOUT_LIMITS, math.ceil(walltime * TRIALS_PER_SECOND_CAP))


def per_hyperparameter(config: Config) -> int:
    """Initial-design configurations per hyperparameter: ``initial_design.per_hyperparameter``, else the
    facade's default (SMAC 2.4.1: 8 for the Gaussian-process facade, 10 otherwise)."""
    given = config.initial_design.per_hyperparameter
    return given if given is not None else _PER_HYPERPARAMETER.get(config.optimizer.kind, 10)


def search_walltime(config: Config, notes: list[str] | None = None) -> float | None:
    """Seconds the search may run: ``stopping.walltime``, never more than ``budget.walltime`` (the search
    cannot outlast the job), else ``budget.walltime``, else None; ``notes`` get what was derived and why."""
    notes = [] if notes is None else notes
    own, total = config.stopping.walltime, config.budget.walltime
    if own is not None and total is not None and own > total:
        notes.append(
            f"stopping.walltime ({own:g} s) exceeds budget.walltime ({total:g} s): using {total:g} s"
        )
        return total
    if own is not None:
        return own
    if total is not None:
        notes.append(
            f"stopping.walltime is unset: the search may use budget.walltime ({total:g} s); the final test "
            "evaluation and refit come on top"
        )
        return total
    return None


def initial_design_size(
    *, size: int | None, per_hyperparameter: int, n_hyperparameters: int, max_ratio: float, n_trials: int
) -> int:
    """SMAC's own formula for the number of initial-design configurations (without warm starts)."""
    n = size if size is not None else per_hyperparameter * n_hyperparameters
    if n > 1:
        n = int(max(1, min(n, max_ratio * n_trials)))
    return n


def compile_smac(
    config: Config,
    space: ConfigurationSpace,
    *,
    run_dir: str | Path,
    seed: int | None = None,
    metric: MetricSpec | None = None,
    warm_start: list[dict[str, Any]] | None = None,
) -> SmacPlan:
    """Compile ``config`` for SMAC3 over ``space``.

    ``seed`` (e.g. from ``--seed``) wins over ``execution.seed``. ``metric`` supplies the crash cost (its
    ``worst_cost``, data-derived for rmse / mae); without it the data-free :func:`metric_for` is used.
    ``warm_start`` are the already normalized warm-start configurations (``normalize_warm_start``); without
    it ``initial_design.warm_start`` is used as written. Raises :class:`UsageError` for settings SMAC would
    crash on or silently misread.
    """
    notes: list[str] = []
    kind = config.optimizer.kind
    facade = FACADES[kind]
    run_seed, seed_note = resolve_seed(config, seed)
    if seed_note:
        notes.append(seed_note)

    if metric is None:
        from metaconf.targets.metrics import metric_for

        metric = metric_for(config)
    crash_cost = config.stopping.crash_cost if config.stopping.crash_cost is not None else metric.worst_cost
    if not math.isfinite(crash_cost):
        raise UsageError(
            f"The `stopping.crash_cost` parameter must be finite. Got {crash_cost} instead.",
            f"remove it to use the metric's worst cost ({metric.worst_cost:g})",
        )
    if config.stopping.crash_cost is None:
        notes.append(
            f"crash_cost = {crash_cost:g}, the worst cost of `{metric.name}` (SMAC's default inf kills runs)"
        )

    walltime = search_walltime(config, notes)
    n_trials = _n_trials(config, walltime, notes)
    multi_fidelity = config.is_multi_fidelity()

    scenario: dict[str, Any] = {
        "name": SMAC_RUN_NAME,
        "output_directory": str(Path(run_dir) / "smac"),
        "deterministic": True,
        "objectives": "cost",
        "crash_cost": float(crash_cost),
        "termination_cost_threshold": math.inf,
        "walltime_limit": float(walltime) if walltime is not None else math.inf,
        "cputime_limit": float(config.stopping.cputime) if config.stopping.cputime is not None else math.inf,
        "trial_walltime_limit": None,
        "trial_memory_limit": None,
        "n_trials": int(n_trials),
        "use_default_config": False,
        "min_budget": None,
        "max_budget": None,
        "seed": int(run_seed),
        "n_workers": 1,
    }
    if config.stopping.trial_walltime is not None:
        seconds = max(1, math.ceil(config.stopping.trial_walltime))
        scenario["trial_walltime_limit"] = seconds
        if seconds != config.stopping.trial_walltime:
            notes.append(
                f"trial_walltime {config.stopping.trial_walltime:g} s rounded up to {seconds} s (pynisher)"
            )
    if config.stopping.trial_memory is not None:
        scenario["trial_memory_limit"] = [max(1, math.ceil(config.stopping.trial_memory)), "MB"]
    if config.stopping.cputime is not None and (
        config.stopping.trial_walltime is not None or config.stopping.trial_memory is not None
    ):
        notes.append(
            "stopping.cputime counts only SMAC's main process; with per-trial limits trials run in subprocesses, "
            "so it will not trigger: use stopping.walltime"
        )

    callbacks: list[dict[str, Any]] = [{"name": "origins"}, {"name": "stop_signals"}]
    threshold = config.stopping.cost_threshold
    target: dict[str, Any] = {"arguments": ["config", "seed"], "fidelity": None}
    eta: int | float | None = None
    if multi_fidelity:
        fidelity, low, high, fidelity_notes = fidelity_range(config)
        notes.extend(fidelity_notes)
        scenario["min_budget"] = float(low)
        scenario["max_budget"] = float(high)
        target = {"arguments": ["config", "seed", "budget"], "fidelity": fidelity.value}
        eta = _eta(config)
        if threshold is not None:
            callbacks.append(
                {"name": "cost_threshold", "threshold": float(threshold), "max_budget": float(high)}
            )
            notes.append(
                "stopping.cost_threshold is checked by metaconf on full-budget trials only (SMAC's own check "
                "fires on low-budget costs)"
            )
    else:
        if config.fidelity.type != FidelityType.none:
            notes.append(
                f"fidelity.type `{config.fidelity.type.value}` is ignored: optimizer `{kind.value}` evaluates "
                "every trial at full fidelity"
            )
        if threshold is not None:
            scenario["termination_cost_threshold"] = float(threshold)

    # Intensifier
    if kind == OptimizerKind.hyperband or kind == OptimizerKind.successive_halving:
        cls = (
            "smac.intensifier.Hyperband"
            if kind == OptimizerKind.hyperband
            else "smac.intensifier.SuccessiveHalving"
        )
        intensifier = Component(
            cls,
            {
                "eta": eta,
                "n_seeds": 1,
                "instance_seed_order": "shuffle_once",
                "max_incumbents": 10,
                "incumbent_selection": "highest_observed_budget",
            },
        )
    else:
        intensifier = Component(
            "smac.intensifier.Intensifier",
            {"max_config_calls": 3, "max_incumbents": _MAX_INCUMBENTS.get(kind, 10)},
        )

    # Initial design
    design = config.initial_design
    warm = [dict(v) for v in (warm_start if warm_start is not None else design.warm_start)]
    per_hp = per_hyperparameter(config)
    n_hps = len(list(space.values()))
    if design.kind == InitialDesignKind.default:
        initial = Component(INITIAL_DESIGNS[design.kind], {"additional_configs": warm})
        n_initial = 1
    else:
        initial = Component(
            INITIAL_DESIGNS[design.kind],
            {
                "n_configs": design.size,
                "n_configs_per_hyperparameter": per_hp,
                "max_ratio": design.max_ratio,
                "additional_configs": warm,
            },
        )
        n_initial = initial_design_size(
            size=design.size,
            per_hyperparameter=per_hp,
            n_hyperparameters=n_hps,
            max_ratio=design.max_ratio,
            n_trials=n_trials,
        )
        if design.size == 0 and warm:
            n_initial = 0
    if n_initial + len(warm) > n_trials:
        raise UsageError(
            f"The initial design ({n_initial} configurations + {len(warm)} warm starts) must fit in "
            f"`stopping.n_trials` ({n_trials}). Got {n_initial + len(warm)} instead.",
            "raise `stopping.n_trials`, lower `initial_design.size`, or drop warm-start configurations",
        )

    # Random interleaving and surrogate
    random_design: Component | None = None
    if kind in _RANDOM_DESIGN_PROBABILITY:
        random_design = Component(
            "smac.random_design.ProbabilityRandomDesign", {"probability": _RANDOM_DESIGN_PROBABILITY[kind]}
        )
    model: Component | None = None
    if kind in (OptimizerKind.bo, OptimizerKind.hyperband, OptimizerKind.successive_halving):
        model = Component(
            "smac.model.random_forest.RandomForest",
            {
                "log_y": True,
                "n_trees": 10,
                "ratio_features": 1.0,
                "min_samples_split": 2,
                "min_samples_leaf": 1,
                "max_depth": 2**20,
                "bootstrapping": True,
                "n_jobs": 1,
            },
        )

    if config.stopping.plateau_patience is not None:
        callbacks.append(
            {
                "name": "plateau",
                "patience": config.stopping.plateau_patience,
                "min_delta": config.stopping.plateau_min_delta,
            }
        )

    execution = {"workers": config.execution.workers, "dask_scheduler": config.execution.dask_scheduler}
    if config.execution.dask_scheduler and config.execution.workers > 1:
        notes.append(
            "execution.workers is ignored: the Dask cluster at dask_scheduler decides how many run at once"
        )

    plan = SmacPlan(
        facade=facade,
        scenario=scenario,
        intensifier=intensifier,
        initial_design=initial,
        random_design=random_design,
        model=model,
        facade_kwargs={"logging_level": 40},
        target=target,
        callbacks=callbacks,
        execution=execution,
        initial_design_size=n_initial + len(warm),
        notes=notes,
    )
    return replace(plan, meta=_plan_identity(plan.to_dict()))


