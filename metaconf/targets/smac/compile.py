"""Compile a metaconf :class:`~metaconf.config.model.Config` into the exact SMAC3 2.4.1 calls that run it.

The result, :class:`SmacPlan`, is pure data (JSON-renderable): the facade class, the keyword arguments of
``Scenario``, of each component (intensifier, initial design, random design, surrogate model) and of the
facade itself, plus the callbacks metaconf adds. ``metaconf compile`` / ``metaconf run --dry-run`` print it;
:mod:`metaconf.targets.smac.runner` builds the SMAC objects from it and nothing else, so what is printed is
what runs. ``plan.meta`` is the sha256 of the plan's canonical JSON (sorted keys), not of ``str(obj)``.
:func:`render_python` writes the plan as a SMAC3 script that runs as is (``metaconf compile -f python``).

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

import json
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

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from metaconf.targets.metrics import MetricSpec

SMAC_RUN_NAME = "metaconf"
"""SMAC's run ``name``: constant, because SMAC's results depend on it."""
DEFAULT_SEED = 0
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


def resolve_seed(config: Config, seed: int | None) -> tuple[int, str | None]:
    """The run's seed: ``--seed``, else ``execution.seed``, else 0 (with a note saying so)."""
    if seed is not None:
        return seed, None
    if config.execution.seed is not None:
        return config.execution.seed, None
    return DEFAULT_SEED, f"execution.seed is unset: using {DEFAULT_SEED} so that the run is reproducible"


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
        derived = max(N_TRIALS_WITHOUT_LIMITS, math.ceil(walltime * TRIALS_PER_SECOND_CAP))
        notes.append(
            f"stopping.n_trials is unset: the walltime ({walltime:g} s) stops the search; n_trials is capped at "
            f"{derived} (at most one trial per second, at least {N_TRIALS_WITHOUT_LIMITS})"
        )
        return derived
    notes.append(
        f"stopping.n_trials and every walltime are unset: SMAC's default of {N_TRIALS_WITHOUT_LIMITS} trials applies"
    )
    return N_TRIALS_WITHOUT_LIMITS


def _search_walltime(config: Config, notes: list[str]) -> float | None:
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

    walltime = _search_walltime(config, notes)
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
    per_hp = (
        design.per_hyperparameter
        if design.per_hyperparameter is not None
        else _PER_HYPERPARAMETER.get(kind, 10)
    )
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


# ------------------------------------------------------------------------------------- the python script
SCRIPT_OUTPUT_ROOT = "smac3_output"
"""Where the exported script's SMAC writes, relative to the directory it is run in (``<root>/<run name>``)."""

_TARGET_SECTIONS = ("task", "data", "budget", "search_space", "fidelity", "resampling")
"""The config sections the target function reads (with ``execution.seed``); the script leaves out the others,
whose values it writes as SMAC arguments instead."""


class _Code(str):
    """Python source written into the script as is (a constant's name, an expression)."""


def target_config_data(config: Config, base_dir: str | Path, *, seed: Any = None) -> dict[str, Any]:
    """What the target function reads of ``config``, as plain data for the script's ``METACONF_CONFIG``.

    Only the fields that are set are kept (whether ``task.type`` was set changes how the data is read), plus
    the seed (``seed``: a value or the script's ``SEED``). ``data.path`` and a user space's ``search_space.file``
    are made absolute; ``budget`` keeps ``memory`` only (the data loader's size check). ``optimizer``,
    ``initial_design``, ``stopping`` and the rest of ``execution`` are left out: the script passes them to SMAC
    itself, and the target never reads them.
    """
    from metaconf.space.builtin import is_user_space

    base = Path(base_dir)
    dumped = config.model_dump(mode="json", exclude_unset=True)
    data: dict[str, Any] = {}
    for section in _TARGET_SECTIONS:
        values = dict(dumped.get(section) or {})
        if section == "budget":
            values = {k: v for k, v in values.items() if k == "memory"}
        if section == "search_space":
            if not is_user_space(config):
                continue  # a built-in space: the script's SEARCH_SPACE; the target reads only `model` values
            if values.get("file") is not None:
                values["file"] = str((base / Path(values["file"]).expanduser()).resolve())
        if section == "data" and values.get("path") is not None:
            values["path"] = str((base / Path(values["path"]).expanduser()).resolve())
        if values:
            data[section] = values
    data["execution"] = {"seed": config.execution.seed if seed is None else seed}
    return data


def render_python(
    plan: SmacPlan,
    space: ConfigurationSpace,
    config: Config,
    *,
    base_dir: str | Path,
    name: str,
    source: str | Path | None = None,
) -> str:
    """A SMAC3 script that runs as is and makes the calls ``metaconf run`` makes (``metaconf compile -f python``).

    It defines the search space (ConfigSpace JSON, read with ConfigSpace's own reader), metaconf's target
    function (:class:`~metaconf.targets.smac.runner.TrialTarget` on ``config``'s data, task and metric, with
    the per-trial limits applied by :class:`~metaconf.targets.smac.limits.LimitingTargetRunner` as in a run),
    the Scenario, intensifier, initial design, random design and surrogate of ``plan``, and metaconf's stopping
    callbacks (plateau, full-budget cost threshold) when the plan has them. Seed, trials, limits, data path and
    output directory are constants at the top. SMAC writes to ``smac3_output/<name>`` under the directory the
    script runs in, never to ``metaconf run``'s run directory. ``config`` is the resolved config (seed set),
    ``base_dir`` the directory its relative paths start from. Raises :class:`UsageError` when the space cannot
    be written as ConfigSpace JSON.
    """
    from importlib import metadata

    from metaconf import __version__
    from metaconf.space.builtin import is_user_space

    scenario = plan.scenario
    seed = int(scenario["seed"])
    multi_fidelity = "budget" in plan.target["arguments"]
    target_cls = "BudgetTrialTarget" if multi_fidelity else "TrialTarget"
    stoppers = [c for c in plan.callbacks if c["name"] in ("plateau", "cost_threshold")]
    config_data = target_config_data(config, base_dir, seed=_Code("SEED"))
    data_path = config_data.get("data", {}).get("path")
    if data_path is not None:
        config_data["data"]["path"] = _Code("DATA_PATH")
    warm = list(plan.initial_design.kwargs.get("additional_configs", []))
    user_estimator = is_user_space(config) and config.search_space.estimator is not None
    if not is_user_space(config):
        space_origin = "metaconf's built-in space for search_space"
    elif config.search_space.file is not None:
        space_origin = "read from search_space.file"
    else:
        space_origin = "read from search_space.inline"
    try:
        smac_version = metadata.version("smac")
    except metadata.PackageNotFoundError:  # pragma: no cover - SMAC is a dependency
        smac_version = "?"
    shown_source = f"`{Path(source).name}`" if source is not None else "a metaconf config"

    # --------------------------------------------------------------------------------------- docstring
    lines = [
        f'"""SMAC3 search for {shown_source}, exported by `metaconf compile --format python` '
        f"(metaconf {__version__}, SMAC3 {smac_version}).",
        "",
        "Runs as is: `python <this file>`, from any directory. It makes the SMAC3 calls `metaconf run` makes for this",
        "config (search space, seed, Scenario, intensifier, initial design, random design, surrogate) with",
        "metaconf's own target function (the same data split, preprocessing, metric and per-trial limits), so it",
        "proposes and scores the same first trials. SMAC writes to OUTPUT_DIRECTORY, a directory of its own (never",
        "metaconf's run directory); running the script again continues the search there (delete it to start over).",
        "",
        "Change the constants at the top and SEARCH_SPACE as you like. Not here: what `metaconf run` does around the",
        "search (results.json, trajectory.csv, the progress bar, the test-set score, --save-model, a clean stop on",
        "SIGINT).",
        f"Plan sha256: {plan.meta}",
        '"""',
        "",
        "import io",
        "import math",
        "import os",
        "import sys",
        "import warnings",
        "from pathlib import Path",
        "",
        "# ---- What you may want to change " + "-" * 76,
        f"SEED = {seed!r}  # execution.seed: SMAC's seed, the data split and the estimators' random_state",
        f"N_TRIALS = {int(scenario['n_trials'])!r}  # stopping.n_trials",
        f"WALLTIME_LIMIT = {_py(scenario['walltime_limit'])}  # seconds for the whole search (stopping.walltime)",
        f"TRIAL_WALLTIME_LIMIT = {_py(scenario['trial_walltime_limit'])}  # seconds per trial "
        "(stopping.trial_walltime); None: no limit",
        f"TRIAL_MEMORY_LIMIT = {_py(_memory_limit(scenario['trial_memory_limit']))}  # per trial "
        "(stopping.trial_memory); keep the unit: a bare number is bytes",
    ]
    if data_path is not None:
        lines.append(f"DATA_PATH = {_py(data_path)}  # data.path, resolved when the script was exported")
    lines += [
        f"OUTPUT_DIRECTORY = Path({_py(SCRIPT_OUTPUT_ROOT)}) / {_py(name)}  # relative to the working directory; "
        f"SMAC adds {SMAC_RUN_NAME}/<SEED>",
    ]
    if warm:
        lines.append("# initial_design.warm_start: configurations SMAC adds to its initial design")
        lines.append(f"WARM_START = {_py_block(warm, 0)}")
    lines += [
        "",
        "# What a trial reads of metaconf's config: data, task, metric, resampling and fidelity, as `metaconf run`",
        "# resolved them. The search space and SMAC's settings are below"
        + (" (of search_space, a trial reads only `estimator`)." if is_user_space(config) else "."),
        f"METACONF_CONFIG = {_py_block(config_data, 0)}",
        f"CONFIG_DIR = {_py(str(Path(base_dir).resolve()))}  # the config's directory: relative paths start here",
        "",
        f"# The search space, as ConfigSpace JSON ({space_origin}).",
        f"SEARCH_SPACE = {_space_literal(space)}",
    ]
    notes = list(plan.notes)
    execution = plan.execution
    if execution.get("dask_scheduler") or int(execution.get("workers") or 1) > 1:
        where = (
            f"on the Dask cluster at {execution['dask_scheduler']}"
            if execution.get("dask_scheduler")
            else f"on {execution['workers']} local Dask workers"
        )
        notes.append(
            f"`metaconf run` runs this config's trials {where}; this script runs them one after another "
            "(parallel trials are proposed in an order that depends on timing, so only a sequential run is "
            "reproducible)"
        )
    if notes:
        lines += ["", "# What metaconf derived when it compiled the config:"]
        for note in notes:
            lines += _comment_lines(note)

    # ------------------------------------------------------------------------------------------- main
    components = [("intensifier", plan.intensifier), ("initial_design", plan.initial_design)]
    if plan.random_design is not None:
        components.append(("random_design", plan.random_design))
    if plan.model is not None:
        components.append(("model", plan.model))
    smac_imports = [f"from smac import {plan.facade}, Scenario"]
    smac_imports += sorted(
        {f"from {c.cls.rpartition('.')[0]} import {c.cls.rpartition('.')[2]}" for _, c in components}
    )
    metaconf_imports = [
        "from metaconf.config.model import Config",
        "from metaconf.data.load import load_dataset",
    ]
    plateau = any(c["name"] == "plateau" for c in stoppers)
    if stoppers:
        names = ["SearchState"]
        names += ["PlateauStop", "RecordTrials"] if plateau else []
        names += ["FullBudgetCostThreshold"] if any(c["name"] == "cost_threshold" for c in stoppers) else []
        metaconf_imports.append(f"from metaconf.targets.smac.callbacks import {', '.join(sorted(names))}")
    if user_estimator:
        metaconf_imports.append("from metaconf.space.user_code import add_config_directory")
    metaconf_imports += [
        "from metaconf.targets.evaluate import Evaluator",
        "from metaconf.targets.smac.limits import LimitingTargetRunner",
        f"from metaconf.targets.smac.runner import {target_cls}",
    ]
    metaconf_imports.sort()
    lines += [
        "",
        "",
        "def main() -> None:",
        "    from ConfigSpace import Configuration, ConfigurationSpace",
        *(f"    {line}" for line in smac_imports),
        "",
        *(f"    {line}" for line in metaconf_imports),
        "",
        "    configspace = ConfigurationSpace.from_json(io.StringIO(SEARCH_SPACE))",
    ]
    scenario_kwargs: dict[str, Any] = {}
    constants = {
        "output_directory": "OUTPUT_DIRECTORY",
        "walltime_limit": "WALLTIME_LIMIT",
        "trial_walltime_limit": "TRIAL_WALLTIME_LIMIT",
        "trial_memory_limit": "TRIAL_MEMORY_LIMIT",
        "n_trials": "N_TRIALS",
        "seed": "SEED",
    }
    for key, value in scenario.items():
        scenario_kwargs[key] = _Code(constants[key]) if key in constants else value
    lines.append(_call("    scenario = Scenario", [_Code("configspace")], scenario_kwargs))
    lines += [
        "",
        "    # metaconf's target function, as `metaconf run` builds it: it fits one configuration on the search rows",
        "    # and returns its validation cost. The data is loaded once, here.",
    ]
    if user_estimator:
        lines.append(
            "    add_config_directory(CONFIG_DIR)  # search_space.estimator is imported from the config's directory"
        )
    lines += [
        "    config = Config.model_validate(METACONF_CONFIG)",
        "    evaluator = Evaluator(config, load_dataset(config, CONFIG_DIR), seed=SEED)",
        "    metric = evaluator.metric",
        f"    target = {target_cls}(config.model_dump_json(), CONFIG_DIR, SEED)",
        "    target.remember(evaluator)",
        "    # SMAC's runner for it: the Scenario's per-trial limits are applied by the target, in a forked process kept",
        "    # from trial to trial (SMAC's own pynisher subprocess per trial would reload everything every time).",
        _call(
            "    runner = LimitingTargetRunner",
            [],
            {
                "scenario": _Code("scenario"),
                "target_function": _Code("target"),
                "required_arguments": [a for a in plan.target["arguments"] if a != "config"],
            },
        ),
        "",
    ]
    for variable, component in components:
        cls_name = component.cls.rpartition(".")[2]
        kwargs = dict(component.kwargs)
        if variable == "initial_design":
            kwargs["additional_configs"] = _Code(
                "[Configuration(configspace, values=values) for values in WARM_START]" if warm else "[]"
            )
            lines.append(_call(f"    {variable} = {cls_name}", [_Code("scenario")], kwargs))
        elif variable == "random_design":
            lines.append(
                _call(f"    {variable} = {cls_name}", [], {**kwargs, "seed": _Code("scenario.seed")})
            )
        elif variable == "model":
            lines.append(
                _call(
                    f"    {variable} = {cls_name}",
                    [],
                    {"configspace": _Code("scenario.configspace"), "seed": _Code("scenario.seed"), **kwargs},
                )
            )
        else:
            lines.append(_call(f"    {variable} = {cls_name}", [_Code("scenario")], kwargs))
    facade_kwargs: dict[str, Any] = {v: _Code(v) for v, _ in components}
    if stoppers:
        lines += [
            "",
            "    # metaconf's stopping rules, as `metaconf run` adds them (SMAC has no such callbacks of its own)",
            "    state = SearchState(greater_is_better=metric.greater_is_better, score_of=metric.score)",
        ]
        callbacks: list[str] = []
        if plateau:
            lines += [
                "    # trial origins: the plateau rule does not count the initial design's trials",
                f"    recorder = RecordTrials(state, {'WARM_START' if warm else '[]'})",
            ]
            callbacks.append("recorder")
        for spec in stoppers:
            if spec["name"] == "plateau":
                lines += [
                    "    # stopping.plateau_patience / plateau_min_delta",
                    f"    plateau = PlateauStop(state, recorder, patience={spec['patience']!r}, "
                    f"min_delta={_py(spec['min_delta'])})",
                ]
                callbacks.append("plateau")
            else:
                lines += [
                    "    # stopping.cost_threshold, checked on full-budget trials only",
                    f"    threshold = FullBudgetCostThreshold(state, threshold={_py(spec['threshold'])}, "
                    f"max_budget={_py(spec['max_budget'])})",
                ]
                callbacks.append("threshold")
        facade_kwargs["callbacks"] = _Code(f"[{', '.join(callbacks)}]")
    facade_kwargs.update(plan.facade_kwargs)
    facade_kwargs["overwrite"] = False
    lines += [
        "",
        _call(f"    smac = {plan.facade}", [_Code("scenario"), _Code("runner")], facade_kwargs),
        "    with warnings.catch_warnings():",
        "        # badly configured models warn (convergence, empty slices): the trial's cost already says it",
        "        for category in (RuntimeWarning, UserWarning, FutureWarning):",
        '            warnings.simplefilter("ignore", category)',
        "        incumbent = smac.optimize()",
        "",
        "    if incumbent is None:",
        '        print("no trial finished")',
        "        return",
        "    cost = smac.runhistory.get_cost(incumbent)",
        '    print(f"incumbent (cost {cost:.6g}, {metric.name} {metric.score(cost):.6g}):")',
        "    for name, value in dict(incumbent).items():",
        '        print(f"  {name}: {value}")',
        '    print(f"SMAC\'s files: {smac.scenario.output_directory}")',
        "",
        "",
        'if __name__ == "__main__":',
        '    if os.environ.get("PYTHONHASHSEED") != "0":',
        "        # SMAC's results depend on the hash seed: `metaconf run` searches with PYTHONHASHSEED=0, and so does this",
        '        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], {**os.environ, "PYTHONHASHSEED": "0"})',
        "    main()",
    ]
    return "\n".join(lines) + "\n"


def _memory_limit(value: Any) -> Any:
    return tuple(value) if value is not None else None


def _comment_lines(text: str, width: int = 110) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent="# - ", subsequent_indent="#   ") or ["# -"]


def _space_literal(space: ConfigurationSpace) -> str:
    """``space`` as a Python string literal of ConfigSpace JSON, one hyperparameter / condition / forbidden a
    line; checked to read back (with ConfigSpace's reader) as the same space."""
    import ast
    import io

    from ConfigSpace import ConfigurationSpace

    buffer = io.StringIO()
    space.to_json(buffer)
    data = json.loads(buffer.getvalue())
    out = ["{"]
    items = list(data.items())
    for index, (key, value) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        if isinstance(value, list) and value:
            out.append(f"  {json.dumps(key)}: [")
            out += [
                f"    {json.dumps(item, ensure_ascii=False)}{',' if i < len(value) - 1 else ''}"
                for i, item in enumerate(value)
            ]
            out.append(f"  ]{comma}")
        else:
            out.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    out.append("}")
    text = "\n".join(out)
    literal = f'r"""\n{text}\n"""' if '"""' not in text else repr(text)
    problem = None
    try:
        if ast.literal_eval(literal).strip() != text:
            literal = repr(text)
        if ConfigurationSpace.from_json(io.StringIO(text)) != space:
            problem = "it reads back as a different space"
    except Exception as exc:  # ConfigSpace raises its own types for what it cannot read
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        raise UsageError(
            f"the search space cannot be written into a Python script as ConfigSpace JSON ({problem})",
            "use `metaconf compile -f yaml` to see the plan, or `metaconf run` to run it",
        )
    return literal


def _call(head: str, args: list[Any], kwargs: dict[str, Any], width: int = 110) -> str:
    """``head(args..., key=value...)`` on one line when it fits, else one argument a line."""
    parts = [_py(a) for a in args] + [f"{k}={_py(v)}" for k, v in kwargs.items()]
    one_line = f"{head}({', '.join(parts)})"
    if len(one_line) <= width:
        return one_line
    indent = " " * (len(head) - len(head.lstrip()) + 4)
    return f"{head}(\n" + "".join(f"{indent}{part},\n" for part in parts) + f"{indent[:-4]})"


def _py_block(value: Any, indent: int, width: int = 110) -> str:
    """``value`` as Python source: on one line when it fits, else dicts and lists one item a line."""
    inline = _py(value)
    if len(inline) + indent <= width - 20 or not isinstance(value, dict | list) or not value:
        return inline
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{pad}{_py(k)}: {_py_block(v, indent + 4, width)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{pad}{_py_block(v, indent + 4, width)}," for v in value]
    return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"


def _py(value: Any) -> str:
    if isinstance(value, _Code):
        return str(value)
    if isinstance(value, float) and math.isinf(value):
        return "math.inf" if value > 0 else "-math.inf"
    if isinstance(value, float) and math.isnan(value):
        return "math.nan"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_py(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)  # a JSON string is a Python literal of the same value
        return text if text.isprintable() and "\\" not in text else repr(value)
    return repr(value)
