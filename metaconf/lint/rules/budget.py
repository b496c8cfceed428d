"""MC3xx: budget feasibility. Does the compute the config asks for fit the budget it gives, in the units SMAC
really uses?

Also home of the small helpers other rule families share: the walltime in force, and the initial design
size computed the way SMAC 2.4.1 computes it (``AbstractInitialDesign.__init__``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from metaconf.config.model import InitialDesignKind, OptimizerKind
from metaconf.config.units import format_duration, format_memory
from metaconf.lint.finding import Edit, Fix, Severity
from metaconf.lint.registry import LintContext, Violation, rule
from metaconf.targets.smac.compile import initial_design_size as smac_initial_design_size
from metaconf.targets.smac.compile import n_trials_from_walltime, per_hyperparameter, search_walltime

if TYPE_CHECKING:
    from metaconf.config.loader import JsonPath
    from metaconf.config.model import Config

STOP_WALLTIME: JsonPath = ("stopping", "walltime")
BUDGET_WALLTIME: JsonPath = ("budget", "walltime")

# A bare memory number this large is almost certainly bytes (10^6 MB is a terabyte per trial).
BYTES_LIKE_MEMORY = 1e6

# The Gaussian-process surrogate refits in O(n^3) in the number of observations.
GP_MAX_TRIALS = 200


def config_of(ctx: LintContext) -> Config:
    """The validated config; rules registered with ``needs_config=True`` only run when it exists."""
    assert ctx.config is not None
    return ctx.config


def effective_walltime(config: Config) -> float | None:
    """Seconds the search may run, as the SMAC compiler decides it
    (:func:`metaconf.targets.smac.compile.search_walltime`): the smaller of ``stopping.walltime`` and
    ``budget.walltime``, whichever is set, else None."""
    return search_walltime(config)


def walltime_path(ctx: LintContext) -> JsonPath:
    """The key that holds the walltime in force (the search's own limit when both are equal)."""
    config = config_of(ctx)
    own, total = config.stopping.walltime, config.budget.walltime
    if own is not None and (total is None or own <= total):
        return STOP_WALLTIME
    return ctx.where(BUDGET_WALLTIME, STOP_WALLTIME)


def search_n_trials(config: Config) -> int:
    """The trial limit SMAC receives: ``stopping.n_trials`` (as written: the rules judge a value SMAC refuses),
    else what the SMAC compiler derives from the walltime (:func:`~metaconf.targets.smac.compile.n_trials_from_walltime`)."""
    if config.stopping.n_trials is not None:
        return config.stopping.n_trials
    return n_trials_from_walltime(search_walltime(config))


@dataclass(frozen=True)
class SpaceSummary:
    """What the budget rules need to know about the search space."""

    n_hyperparameters: int
    n_categorical: int
    max_configurations: float
    """An upper bound on the distinct configurations (inf with any float hyperparameter): the product of each
    hyperparameter's number of values, one more for a conditional one (inactive); forbiddens only lower it."""


def space_summary(ctx: LintContext) -> SpaceSummary | None:
    """Size of the search space, from ``metaconf.space.builtin.build_space`` when that module and the space
    are usable; None otherwise (the search-space rules, MC2xx, say why a space does not build)."""
    key = "budget.space_summary"
    if key in ctx.cache:
        cached: SpaceSummary | None = ctx.cache[key]
        return cached
    from metaconf.lint.rules.search_space import built_space

    summary = None
    space = built_space(ctx)  # None when the space does not build: the MC2xx rules say why
    if space is not None:
        from ConfigSpace import CategoricalHyperparameter

        hyperparameters = list(space.values())
        conditional = set(space.conditional_hyperparameters)
        summary = SpaceSummary(
            n_hyperparameters=len(hyperparameters),
            n_categorical=sum(isinstance(hp, CategoricalHyperparameter) for hp in hyperparameters),
            max_configurations=math.prod(_n_values(hp) + (1 if hp.name in conditional else 0) for hp in hyperparameters),
        )
    ctx.cache[key] = summary
    return summary


def _n_values(hyperparameter: Any) -> float:
    """How many values a ConfigSpace hyperparameter can take (inf for a float range)."""
    for attribute in ("choices", "sequence"):
        values = getattr(hyperparameter, attribute, None)
        if values is not None:
            return len(values)
    lower, upper = getattr(hyperparameter, "lower", None), getattr(hyperparameter, "upper", None)
    if lower is None or upper is None:
        return 1  # a constant
    if isinstance(lower, int | np.integer) and isinstance(upper, int | np.integer):
        return int(upper) - int(lower) + 1
    return math.inf


@dataclass(frozen=True)
class InitialDesignSize:
    requested: int | None
    """What the config asks for (``size``, or ``per_hyperparameter`` x hyperparameters); None if unknown."""
    effective: int | None
    """What SMAC will run after capping at ``max_ratio * n_trials``; None if unknown."""
    explicit: bool
    """The user wrote ``size`` or ``per_hyperparameter`` (so a cap is a surprise, not a default)."""


def initial_design_size(ctx: LintContext) -> InitialDesignSize:
    """The initial design size as the SMAC compiler computes it (SMAC 2.4.1's formula,
    :func:`metaconf.targets.smac.compile.initial_design_size`):
    ``max(1, min(size or per_hyperparameter * n_hps, max_ratio * n_trials))`` when more than one is asked for;
    1 for the `default` design; 0 for a pure warm start (`size: 0`) and for auto-sklearn, whose initial runs
    come from meta-learning."""
    config = config_of(ctx)
    design = config.initial_design
    if config.tool.value != "smac":
        return InitialDesignSize(0, 0, False)
    explicit = design.size is not None or design.per_hyperparameter is not None
    if design.kind == InitialDesignKind.default:
        return InitialDesignSize(1, 1, explicit)
    requested: int | None
    per_hp = per_hyperparameter(config)
    if design.size is not None:
        requested = design.size
    else:
        summary = space_summary(ctx) if per_hp > 0 else None
        requested = 0 if per_hp == 0 else (per_hp * summary.n_hyperparameters if summary else None)
    n_trials = search_n_trials(config)
    if requested is None or n_trials <= 0:
        return InitialDesignSize(requested, requested, explicit)
    effective = smac_initial_design_size(
        size=requested, per_hyperparameter=per_hp, n_hyperparameters=0, max_ratio=design.max_ratio, n_trials=n_trials
    )
    return InitialDesignSize(requested, effective, explicit)


def _design_path(ctx: LintContext) -> JsonPath:
    return ctx.where(("initial_design", "size"), ("initial_design", "per_hyperparameter"), ("initial_design",))


@rule(
    "MC301",
    "initial-design-exceeds-trials",
    severity=Severity.warning,
    summary="The initial design asks for more configurations than SMAC will run (it caps them silently).",
    tools=["smac"],
)
def initial_design_exceeds_trials(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Compares the initial design the config asks for (`initial_design.size`, or `per_hyperparameter` times
    the number of hyperparameters) with `stopping.n_trials` and `initial_design.max_ratio`.

    ## Why is this bad?
    SMAC computes the design size as `max(1, min(size, max_ratio * n_trials))` and only logs the cut. A
    design of 60 with `n_trials: 40` silently becomes 10 random / Sobol points, so the run is not the one
    that was written down. If the design really filled the run, the surrogate model would never be used and
    the "Bayesian optimisation" would be a quasi-random search. This is an error when the design alone asks
    for more trials than the whole run has, and a warning when only `max_ratio` cuts it.

    ## Example
    ```yaml
    stopping:
      n_trials: 40
    initial_design:
      size: 60
    ```

    ## Use instead
    ```yaml
    stopping:
      n_trials: 40
    initial_design:
      size: 10
    ```

    ## Fix safety
    Capping `initial_design.size` at a quarter of `n_trials` is unsafe: it changes how much of the run
    explores before the model takes over.

    ## References
    - docs/tools.md, "Initial design" (measured with SMAC3 2.4.1): size formula, `max_ratio` 0.25
    - Lindauer et al. 2022, "SMAC3: A Versatile Bayesian Optimization Package for HPO", JMLR 23(54)
    """
    config = config_of(ctx)
    n_trials = config.stopping.n_trials
    size = initial_design_size(ctx)
    if n_trials is None or n_trials <= 0 or not size.explicit or size.requested is None:
        return
    cap = int(max(1, config.initial_design.max_ratio * n_trials))
    if size.requested <= cap:
        return
    fix = Fix(
        f"Set `initial_design.size` to {max(1, n_trials // 4)}",
        (Edit(("initial_design", "size"), max(1, n_trials // 4)),),
        safe=False,
    )
    if size.requested >= n_trials:
        yield Violation(
            _design_path(ctx),
            f"the initial design asks for {size.requested} configurations but `stopping.n_trials` is {n_trials}; "
            f"SMAC silently cuts it to {cap} (`max_ratio` {config.initial_design.max_ratio:g})",
            fix=fix,
            severity=Severity.error,
        )
    else:
        yield Violation(
            _design_path(ctx),
            f"the initial design asks for {size.requested} configurations; SMAC cuts it to {cap}, "
            f"`max_ratio` ({config.initial_design.max_ratio:g}) x `n_trials` ({n_trials})",
            fix=fix,
        )


@rule(
    "MC302",
    "trial-walltime-exceeds-walltime",
    severity=Severity.warning,
    summary="The per-trial time limit is longer than the whole search may run.",
    tools=["smac"],
)
def trial_walltime_exceeds_walltime(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a `stopping.trial_walltime` longer than the search's walltime (`stopping.walltime`, else
    `budget.walltime`).

    ## Why is this bad?
    SMAC checks its stopping conditions only after a trial finishes, so one trial may overrun the total
    walltime by up to its own limit: the per-trial limit no longer protects the budget, and a job scheduler
    may kill the run before SMAC writes its results.

    ## Example
    ```yaml
    budget:
      walltime: 10m
    stopping:
      trial_walltime: 15m
    ```

    ## Use instead
    ```yaml
    budget:
      walltime: 10m
    stopping:
      trial_walltime: 1m
    ```

    ## Fix safety
    Setting the per-trial limit to a tenth of the walltime is unsafe: slow but good configurations may
    now time out.

    ## References
    - docs/tools.md, "Time limits" (measured with SMAC3 2.4.1): stop conditions are checked only after a trial finishes
    """
    config = config_of(ctx)
    total = effective_walltime(config)
    per_trial = config.stopping.trial_walltime
    if total is None or per_trial is None or total <= 0 or per_trial <= total:
        return
    tenth = format_duration(max(1.0, round(total / 10)))
    yield Violation(
        ("stopping", "trial_walltime"),
        f"`stopping.trial_walltime` ({format_duration(per_trial)}) is longer than the search's walltime "
        f"({format_duration(total)}, `{'.'.join(map(str, walltime_path(ctx)))}`); one trial can overrun the budget",
        fix=Fix(f"Set `stopping.trial_walltime` to {tenth}", (Edit(("stopping", "trial_walltime"), tenth),), safe=False),
    )


@rule(
    "MC304",
    "trial-memory-exceeds-budget",
    severity=Severity.error,
    summary="Per-trial memory times parallel workers is more than the memory budget.",
)
def trial_memory_exceeds_budget(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Multiplies `stopping.trial_memory` by `execution.workers` and compares it with `budget.memory`.

    ## Why is this bad?
    The per-trial limit is what each trial may use, all at the same time: if their sum exceeds the
    machine's memory, the operating system's out-of-memory killer ends trials (or SMAC itself) instead of
    the per-trial limit turning them into clean CRASHED results.

    ## Example
    ```yaml
    budget:
      memory: 4GB
    stopping:
      trial_memory: 3GB
    execution:
      workers: 2
    ```

    ## Use instead
    ```yaml
    budget:
      memory: 8GB
    stopping:
      trial_memory: 3GB
    execution:
      workers: 2
    ```

    ## Fix safety
    Lowering `trial_memory` to `budget.memory / workers` is unsafe: memory-hungry configurations will now
    fail.

    ## References
    - docs/tools.md, "Memory units" (measured with SMAC3 2.4.1): an out-of-memory trial is recorded as CRASHED
    """
    config = config_of(ctx)
    total, per_trial = config.budget.memory, config.stopping.trial_memory
    workers = 1 if config.execution.dask_scheduler is not None else config.execution.workers
    if total is None or per_trial is None or per_trial * workers <= total:
        return
    share = format_memory(float(int(total // workers)))
    times = f"{workers} x " if workers > 1 else ""
    yield Violation(
        ("stopping", "trial_memory"),
        f"trials may use {times}{format_memory(per_trial)} = {format_memory(per_trial * workers)} at once, "
        f"more than `budget.memory` ({format_memory(total)})",
        fix=Fix(f"Set `stopping.trial_memory` to {share}", (Edit(("stopping", "trial_memory"), share),), safe=False),
    )


@rule(
    "MC305",
    "walltime-too-short-for-initial-design",
    severity=Severity.warning,
    summary="At the per-trial limit, the walltime ends before the initial design is evaluated.",
    tools=["smac"],
)
def walltime_too_short_for_initial_design(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Multiplies the initial design size (as SMAC computes it) by `stopping.trial_walltime`, divides by the
    workers, and compares the result with the search's walltime (not for random search, which has no model).

    ## Why is this bad?
    The surrogate model only proposes configurations after the initial design has been evaluated. If trials
    take as long as their limit allows, the walltime runs out during the design: the run is a random /
    Sobol search that paid for a Bayesian optimiser.

    ## Example
    ```yaml
    budget:
      walltime: 10m
    stopping:
      n_trials: 200
      trial_walltime: 2m
    initial_design:
      size: 20
    ```

    ## Use instead
    ```yaml
    budget:
      walltime: 1h
    stopping:
      n_trials: 200
      trial_walltime: 2m
    initial_design:
      size: 20
    ```

    ## Fix safety
    No automatic fix: raise the walltime, lower the per-trial limit, or shrink the initial design.

    ## References
    - docs/tools.md, "Initial design" (measured with SMAC3 2.4.1)
    - Lindauer et al. 2022, "SMAC3", JMLR 23(54): the initial design precedes model-based proposals
    """
    config = config_of(ctx)
    total, per_trial = effective_walltime(config), config.stopping.trial_walltime
    if config.optimizer.kind == OptimizerKind.random or total is None or per_trial is None or total <= 0:
        return  # random search has no model waiting for the design
    size = initial_design_size(ctx).effective
    if not size or size <= 1:
        return
    workers = config.execution.workers
    needed = size * per_trial / workers
    if needed <= total:
        return
    yield Violation(
        walltime_path(ctx),
        f"the initial design ({size} configurations x `trial_walltime` {format_duration(per_trial)}"
        f"{f' / {workers} workers' if workers > 1 else ''} = {format_duration(round(needed))}) can use more "
        f"than the walltime ({format_duration(total)}); the model may never propose a configuration",
        fix_title="Raise the walltime, or lower `stopping.trial_walltime` or `initial_design.size`",
    )


@rule(
    "MC306",
    "zero-walltime",
    severity=Severity.error,
    summary="A walltime or CPU-time limit of zero still runs one trial.",
)
def zero_walltime(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `budget.walltime`, `stopping.walltime` or `stopping.cputime` set to zero.

    ## Why is this bad?
    SMAC checks its limits only after a trial has finished: `walltime_limit <= 0` still runs exactly one
    trial, for as long as it takes. A zero limit is always a mistake (a unit typo, or a template value).

    ## Example
    ```yaml
    stopping:
      walltime: 0
    ```

    ## Use instead
    ```yaml
    stopping:
      walltime: 15m
    ```

    ## Fix safety
    No automatic fix: the intended limit is not knowable.

    ## References
    - docs/tools.md, "Time limits" (measured with SMAC3 2.4.1): `walltime_limit <= 0` still runs one trial
    """
    config = config_of(ctx)
    for section, key, value in (
        ("budget", "walltime", config.budget.walltime),
        ("stopping", "walltime", config.stopping.walltime),
        ("stopping", "cputime", config.stopping.cputime),
    ):
        if value is not None and value <= 0:
            yield Violation(
                (section, key),
                f"`{section}.{key}` is 0; SMAC still runs one trial of unbounded length",
                fix_title=f"Set `{section}.{key}` to a positive duration such as `15m`, or remove it",
            )


@rule(
    "MC307",
    "n-trials-not-positive",
    severity=Severity.error,
    summary="`stopping.n_trials` is zero or negative; SMAC refuses to start.",
)
def n_trials_not_positive(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `stopping.n_trials` below 1.

    ## Why is this bad?
    SMAC 2.4.1 raises `Initial budget 1 cannot be higher than the number of trials 0.` when the facade is
    built, after the data has been loaded; auto-sklearn fails the same way on its run count.

    ## Example
    ```yaml
    stopping:
      n_trials: 0
    ```

    ## Use instead
    ```yaml
    stopping:
      n_trials: 100
    ```

    ## Fix safety
    No automatic fix: remove the key to stop on walltime only, or give a positive count.

    ## References
    - docs/tools.md, "Trial counts and early stops" (measured with SMAC3 2.4.1): `n_trials <= 0` raises at facade construction
    """
    n_trials = config_of(ctx).stopping.n_trials
    if n_trials is not None and n_trials <= 0:
        yield Violation(
            ("stopping", "n_trials"),
            f"`stopping.n_trials` is {n_trials}; SMAC needs at least 1 trial",
            fix_title="Set `stopping.n_trials` to a positive number, or remove it",
        )


@rule(
    "MC308",
    "memory-looks-like-bytes",
    severity=Severity.warning,
    summary="A bare memory number so large it was probably meant as bytes.",
    needs_config=False,
)
def memory_looks_like_bytes(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `budget.memory` or `stopping.trial_memory` written as a bare number of a million or more. A bare
    memory number in metaconf is megabytes.

    ## Why is this bad?
    SMAC's pynisher reads `trial_memory_limit` as bytes although SMAC's docs say megabytes, so numbers copied
    from SMAC scripts are often bytes: `2147483648` meant 2 GB, but as megabytes it is 2 petabytes and no limit
    at all. metaconf always passes an explicit unit on; write one in the config too.

    ## Example
    ```yaml
    stopping:
      trial_memory: 3221225472
    ```

    ## Use instead
    ```yaml
    stopping:
      trial_memory: 3GB
    ```

    ## Fix safety
    Rewriting the number as megabytes (value / 2^20) is unsafe: it assumes bytes were meant.

    ## References
    - docs/tools.md, "Memory units" (measured with SMAC3 2.4.1): `trial_memory_limit` is read as BYTES by pynisher
    """
    for path in (("budget", "memory"), ("stopping", "trial_memory")):
        value = ctx.raw(*path)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < BYTES_LIKE_MEMORY:
            continue
        as_mb = format_memory(float(max(1, round(value / 2**20))))
        yield Violation(
            path,
            f"`{'.'.join(path)}` is {value:g} megabytes ({value / 2**20:,.0f} TB); if bytes were meant, write `{as_mb}`",
            fix=Fix(f"Write `{as_mb}` (the number read as bytes)", (Edit(path, as_mb),), safe=False),
        )


@rule(
    "MC309",
    "trial-walltime-below-one-second",
    severity=Severity.warning,
    summary="A per-trial time limit under one second; pynisher rounds it up to whole seconds.",
)
def trial_walltime_below_one_second(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `stopping.trial_walltime` below one second.

    ## Why is this bad?
    pynisher, which enforces SMAC's and auto-sklearn's per-trial limits, works in whole seconds and rounds
    up: a `0.2s` limit is really 1 s, and a `0` limit is no usable limit. Process start-up alone takes a
    good part of a second, so such limits time out almost every trial anyway.

    ## Example
    ```yaml
    stopping:
      trial_walltime: 0.5s
    ```

    ## Use instead
    ```yaml
    stopping:
      trial_walltime: 5s
    ```

    ## Fix safety
    Setting the limit to `1s` is safe: it is the limit pynisher enforces anyway.

    ## References
    - docs/tools.md, "Time limits" (measured with SMAC3 2.4.1): `trial_walltime_limit` is rounded up to whole seconds
    """
    per_trial = config_of(ctx).stopping.trial_walltime
    if per_trial is None or per_trial >= 1:
        return
    yield Violation(
        ("stopping", "trial_walltime"),
        f"`stopping.trial_walltime` is {format_duration(per_trial)}; the limit is enforced in whole seconds (1s)",
        fix=Fix("Set `stopping.trial_walltime` to 1s", (Edit(("stopping", "trial_walltime"), "1s"),), safe=True),
    )


@rule(
    "MC312",
    "warm-start-exceeds-trials",
    severity=Severity.warning,
    summary="Warm-start configurations take most or all of `n_trials`.",
    tools=["smac"],
)
def warm_start_exceeds_trials(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Adds the warm-start configurations (`initial_design.warm_start`) to the initial design and compares the
    sum with `stopping.n_trials`.

    ## Why is this bad?
    Warm-start configurations ignore `max_ratio` and are evaluated after the initial design. If the two
    together exceed `n_trials`, SMAC raises `Initial budget ... cannot be higher than the number of trials`
    (an error here); if they take half of it or more, little budget is left for the model, and many
    warm-start points are known to stop SMAC runs early (SMAC3 #1048) (a warning).

    ## Example
    ```yaml
    stopping:
      n_trials: 4
    initial_design:
      size: 1
      warm_start:
        - {C: 1.0}
        - {C: 10.0}
        - {C: 100.0}
        - {C: 1000.0}
    ```

    ## Use instead
    ```yaml
    stopping:
      n_trials: 40
    initial_design:
      size: 1
      warm_start:
        - {C: 1.0}
        - {C: 10.0}
    ```

    ## Fix safety
    No automatic fix: choose which warm-start configurations matter, or raise `n_trials`.

    ## References
    - docs/tools.md, "Initial design" (measured with SMAC3 2.4.1): additional configs ignore `max_ratio`; SMAC3 #1048
    - https://github.com/automl/SMAC3/issues/1048
    """
    config = config_of(ctx)
    n_trials, warm = config.stopping.n_trials, len(config.initial_design.warm_start)
    if n_trials is None or n_trials <= 0 or warm == 0:
        return
    design = initial_design_size(ctx).effective
    design = design or 0  # unknown: 0 is a lower bound, so an error below is certain
    path = ("initial_design", "warm_start")
    if design + warm > n_trials:
        yield Violation(
            path,
            f"{warm} warm-start configurations plus an initial design of {design} exceed `stopping.n_trials` "
            f"({n_trials}); SMAC refuses to start",
            fix_title=f"Raise `stopping.n_trials` above {design + warm}, or drop warm-start configurations",
            severity=Severity.error,
        )
    elif design + warm >= n_trials / 2:
        yield Violation(
            path,
            f"{warm} warm-start configurations plus an initial design of {design} take "
            f"{design + warm} of {n_trials} trials; little is left for the model",
            fix_title="Raise `stopping.n_trials`, or drop warm-start configurations",
        )


@rule(
    "MC313",
    "gp-optimizer-scales-badly",
    severity=Severity.warning,
    summary="Gaussian-process BO with many trials, several model families or a mostly categorical space.",
    tools=["smac"],
)
def gp_optimizer_scales_badly(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With `optimizer.kind: bo_gp`, reports more than 200 trials, a search over several model families (a
    conditional space with a categorical `model` choice; an unset `search_space.models` means all of them),
    or a space whose hyperparameters are mostly categorical.

    ## Why is this bad?
    A Gaussian-process surrogate is refitted after every trial at a cost cubic in the number of
    observations, so late trials wait on the optimiser rather than on the model fit. Its kernels suit
    low-dimensional continuous spaces; categorical and conditional hyperparameters are what SMAC's
    random-forest surrogate (`bo`) was built for.

    ## Example
    ```yaml
    optimizer:
      kind: bo_gp
    stopping:
      n_trials: 1000
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: bo
    stopping:
      n_trials: 1000
    ```

    ## Fix safety
    Switching `optimizer.kind` to `bo` is unsafe: it changes the optimiser.

    ## References
    - Lindauer et al. 2022, "SMAC3", JMLR 23(54): BlackBox facade (GP) for low-dimensional continuous
      spaces, HPO facade (random forest) for mixed spaces
    - Rasmussen & Williams 2006, "Gaussian Processes for Machine Learning", ch. 2 (O(n^3) inference)
    """
    config = config_of(ctx)
    if config.optimizer.kind != OptimizerKind.bo_gp:
        return
    fix = Fix("Set `optimizer.kind` to `bo`", (Edit(("optimizer", "kind"), "bo"),), safe=False)
    n_trials = config.stopping.n_trials
    families = _searched_families(config)
    if n_trials is not None and n_trials > GP_MAX_TRIALS:
        yield Violation(
            ("stopping", "n_trials"),
            f"`optimizer.kind: bo_gp` with {n_trials} trials; the GP refit grows with the cube of the trials "
            f"(keep it below {GP_MAX_TRIALS} or use `bo`)",
            fix=fix,
        )
    elif len(families) > 1:
        unset = "" if ctx.has("search_space", "models") else " (all built-in ones: `search_space.models` is unset)"
        yield Violation(
            ctx.where(("search_space", "models"), ("optimizer", "kind")),
            f"`optimizer.kind: bo_gp` over {len(families)} model families{unset}: a conditional, categorical "
            "space that GP kernels model poorly",
            fix=fix,
        )
    else:
        summary = space_summary(ctx)
        if summary and summary.n_categorical * 2 > summary.n_hyperparameters:
            yield Violation(
                ("optimizer", "kind"),
                f"`optimizer.kind: bo_gp` on a space with {summary.n_categorical} of "
                f"{summary.n_hyperparameters} hyperparameters categorical",
                fix=fix,
            )


def _searched_families(config: Config) -> list[str]:
    """The built-in model families a config searches (none for a user-supplied space)."""
    if config.search_space.models is not None:
        return [m.value for m in config.search_space.models]
    try:
        from metaconf.space.builtin import is_user_space, selected_families

        return [] if is_user_space(config) else [f.value for f in selected_families(config)]
    except Exception:  # the search-space rules (MC2xx) report an unusable model list
        return []


@rule(
    "MC314",
    "initial-design-with-random-search",
    severity=Severity.info,
    summary="Initial design settings with random search, which has no model to start.",
    tools=["smac"],
)
def initial_design_with_random_search(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Notes `initial_design.size`, `per_hyperparameter`, `kind` or `max_ratio` with `optimizer.kind: random`.

    ## Why is this bad?
    An initial design exists to give a surrogate model its first, space-filling observations. Random search
    has no model: the design's Sobol or Latin-hypercube points are evaluated first and sampling then goes on
    at random, so the settings only change the order and spread of the first points, and they suggest a
    Bayesian optimiser that is not there. (`warm_start` configurations still make sense: they run first.)

    ## Example
    ```yaml
    optimizer:
      kind: random
    initial_design:
      size: 20
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: random
    ```

    ## Fix safety
    Removing the settings is unsafe, if only just: the first configurations become random instead of
    quasi-random points.

    ## References
    - Lindauer et al. 2022, "SMAC3", JMLR 23(54): the initial design seeds the surrogate model
    - Bergstra & Bengio 2012, "Random Search for Hyper-Parameter Optimization", JMLR 13
    """
    config = config_of(ctx)
    if config.optimizer.kind != OptimizerKind.random:
        return
    written = [k for k in ("size", "per_hyperparameter", "kind", "max_ratio") if ctx.has("initial_design", k)]
    if not written:
        return
    yield Violation(
        ("initial_design", written[0]),
        "random search has no model to start: "
        + ", ".join(f"`initial_design.{k}`" for k in written)
        + " only shapes the first random points",
        fix=Fix(
            "Remove the initial design settings",
            tuple(Edit(("initial_design", k), delete=True) for k in written),
            safe=False,
        ),
        key=True,
    )


@rule(
    "MC315",
    "n-trials-exceed-space-size",
    severity=Severity.warning,
    summary="More trials than the search space has distinct configurations.",
    tools=["smac"],
)
def n_trials_exceed_space_size(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Counts the distinct configurations of a search space without continuous hyperparameters (an upper
    bound: the product of every hyperparameter's values, one more for a conditional one) and compares it
    with `stopping.n_trials`.

    ## Why is this bad?
    SMAC evaluates each configuration once. When the space runs out, it stops with `Could not return a new
    configuration after 16 retries` before `n_trials` (SMAC3 #1088, #1160), often after long, futile
    retries; the walltime and trial count planned for the run no longer describe it. On a space this small,
    evaluating every configuration (a grid) is both cheaper and exhaustive.

    ## Example
    ```yaml
    search_space:
      models: [k_nearest_neighbors]
      overrides:
        k_nearest_neighbors:
          n_neighbors: {lower: 1, upper: 10, log: false}
    stopping:
      n_trials: 100
    ```

    ## Use instead
    ```yaml
    search_space:
      models: [k_nearest_neighbors]
      overrides:
        k_nearest_neighbors:
          n_neighbors: {lower: 1, upper: 10, log: false}
    stopping:
      n_trials: 30
    ```

    ## Fix safety
    Lowering `n_trials` to the number of configurations is unsafe: it is an upper bound, and forbidden
    clauses or conditions may leave fewer.

    ## References
    - docs/tools.md, "Initial design" (measured with SMAC3 2.4.1): "Could not return a new configuration after 16 retries" (SMAC3 #1088,
      #1160)
    - https://github.com/automl/SMAC3/issues/1088
    """
    config = config_of(ctx)
    n_trials = config.stopping.n_trials
    if n_trials is None or n_trials <= 1:
        return
    summary = space_summary(ctx)
    if summary is None or not math.isfinite(summary.max_configurations) or n_trials <= summary.max_configurations:
        return
    most = int(summary.max_configurations)
    yield Violation(
        ("stopping", "n_trials"),
        f"`stopping.n_trials` ({n_trials}) is more than the search space's {most} distinct configurations; "
        "SMAC stops early when it cannot find a new one",
        fix=Fix(f"Set `stopping.n_trials` to {most}", (Edit(("stopping", "n_trials"), most),), safe=False),
    )


