"""MC5xx: stopping. Whether the search stops when the user expects it to: criteria that are missing, never
fire, fire at once, or turn one crashed trial into the end of the run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from metaconf.config.model import Metric
from metaconf.lint.finding import Edit, Fix, Severity
from metaconf.lint.registry import LintContext, Violation, rule
from metaconf.lint.rules.budget import config_of, initial_design_size

SCORE_METRICS = frozenset({Metric.accuracy, Metric.balanced_accuracy, Metric.roc_auc, Metric.f1})
"""Metrics whose cost is ``1 - score`` (best 0, worst 1)."""

CRASH_COST = ("stopping", "crash_cost")
COST_THRESHOLD = ("stopping", "cost_threshold")


def metric_cost_range(ctx: LintContext) -> tuple[float, float] | None:
    """(best, worst) cost of the config's metric, as metaconf's metrics define them; None when the worst cost
    depends on data that is not loaded (rmse / mae) or the metric cannot be resolved."""
    from metaconf.errors import MetaconfError
    from metaconf.targets.metrics import metric_for

    config = config_of(ctx)
    metric = config.effective_metric()
    if metric in (Metric.rmse, Metric.mae):
        return None
    if metric == Metric.log_loss and ctx.data is None:
        return None
    classes = sorted(ctx.data.class_counts) if ctx.data is not None and ctx.data.class_counts else None
    try:
        spec = metric_for(config, classes)
    except MetaconfError:  # labels or cost matrix unusable: the resampling / data rules say why
        return None
    return spec.best_cost, spec.worst_cost


@rule(
    "MC501",
    "no-stopping-criterion",
    severity=Severity.warning,
    summary="Nothing limits the search: no walltime, trial count, CPU time or cost threshold.",
)
def no_stopping_criterion(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a config with none of `budget.walltime`, `stopping.walltime`, `stopping.n_trials`,
    `stopping.cputime`, `stopping.cost_threshold` or `stopping.plateau_patience`.

    ## Why is this bad?
    The run length is then the tool's default, not a decision: SMAC stops after 100 trials however long they
    take (a minute or a week), auto-sklearn after one hour. A budget-aware config says how long it may run.

    ## Example
    ```yaml
    data:
      demo: iris
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
    budget:
      walltime: 10m
    ```

    ## Fix safety
    No automatic fix: only the user knows the budget.

    ## References
    - SMAC3 2.4.1 `Scenario`: `n_trials=100`, `walltime_limit=inf` by default
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): `time_left_for_this_task=3600`
    """
    config = config_of(ctx)
    stopping = config.stopping
    criteria = (
        config.budget.walltime,
        stopping.walltime,
        stopping.n_trials,
        stopping.cputime,
        stopping.cost_threshold,
        stopping.plateau_patience,
    )
    if any(value is not None for value in criteria):
        return
    default = "one hour" if config.tool.value == "auto-sklearn" else "100 trials of any length"
    yield Violation(
        ctx.where(("stopping",), ("budget",), ()),
        f"no stopping criterion: the run lasts the tool's default ({default})",
        fix_title="Set `budget.walltime` (or `stopping.n_trials`)",
    )


@rule(
    "MC502",
    "infinite-crash-cost",
    severity=Severity.error,
    summary="`stopping.crash_cost` is infinite: one crashed trial kills a SMAC run.",
)
def infinite_crash_cost(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `stopping.crash_cost` set to `.inf` or `.nan`.

    ## Why is this bad?
    SMAC's default `crash_cost=inf` is its worst trap: one crashed, timed-out or out-of-memory trial puts an
    infinite cost into the random-forest surrogate, and the run dies with `ValueError: Input y contains NaN.`
    metaconf compiles a finite default (the metric's worst cost) and refuses an explicit infinite one.

    ## Example
    ```yaml
    stopping:
      crash_cost: .inf
    ```

    ## Use instead
    ```yaml
    stopping:
      crash_cost: 1.0
    ```

    ## Fix safety
    Setting the crash cost to the metric's worst cost is safe: it is what a failed trial is worth, and what
    metaconf uses when the key is absent.

    ## References
    - docs/tools.md, "Crashed trials" (measured with SMAC3 2.4.1): default `crash_cost=inf` kills the run on the first crash
    """
    crash_cost = config_of(ctx).stopping.crash_cost
    if crash_cost is None or math.isfinite(crash_cost):
        return
    bounds = metric_cost_range(ctx)
    fix = (
        Fix(f"Set `stopping.crash_cost` to {bounds[1]:g}", (Edit(CRASH_COST, bounds[1]),), safe=True)
        if bounds
        else Fix("Remove `stopping.crash_cost` (the metric's worst cost is used)", (Edit(CRASH_COST, delete=True),))
    )
    yield Violation(
        CRASH_COST,
        f"`stopping.crash_cost` is {crash_cost}; one failed trial would put it into the surrogate and end the run",
        fix=fix,
    )


@rule(
    "MC503",
    "crash-cost-below-worst",
    severity=Severity.warning,
    summary="A crash cost better than the metric's worst cost rewards configurations that crash.",
)
def crash_cost_below_worst(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Compares a finite `stopping.crash_cost` with the worst cost of the metric (1 for accuracy, balanced
    accuracy, ROC AUC and F1, whose cost is `1 - score`; the largest entry of the cost matrix for expected
    cost; 10 for r2; 3 x log(classes) for log loss).

    ## Why is this bad?
    A crashed or timed-out trial is recorded at the crash cost. If that is better than a poor finished
    trial, the surrogate learns that the crashing region is good and proposes more configurations there: too
    large models, too little memory, ever more timeouts. Below the best cost (e.g. negative), a crash even
    becomes the incumbent.

    ## Example
    ```yaml
    task:
      metric: accuracy
    stopping:
      crash_cost: 0.5
    ```

    ## Use instead
    ```yaml
    task:
      metric: accuracy
    stopping:
      crash_cost: 1.0
    ```

    ## Fix safety
    Raising the crash cost to the metric's worst cost is safe: a failure is never better than a result.

    ## References
    - docs/tools.md, "Time limits" (measured with SMAC3 2.4.1): an over-limit trial becomes TIMEOUT with cost = crash_cost
    - Lindauer et al. 2022, "SMAC3", JMLR 23(54)
    """
    crash_cost = config_of(ctx).stopping.crash_cost
    if crash_cost is None or not math.isfinite(crash_cost):
        return
    bounds = metric_cost_range(ctx)
    if bounds is None or crash_cost >= bounds[1]:
        return
    best, worst = bounds
    below_best = crash_cost < best
    yield Violation(
        CRASH_COST,
        f"`stopping.crash_cost` ({crash_cost:g}) is below the metric's worst cost ({worst:g})"
        + (f" and even its best ({best:g}): a crash would become the incumbent" if below_best else "; crashes look better than poor results"),
        fix=Fix(f"Set `stopping.crash_cost` to {worst:g}", (Edit(CRASH_COST, worst),), safe=True),
        severity=Severity.error if below_best else None,
    )


@rule(
    "MC504",
    "cputime-never-triggers",
    severity=Severity.error,
    summary="`stopping.cputime` with per-trial limits or parallel workers, where it never fires.",
    tools=["smac"],
)
def cputime_never_triggers(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `stopping.cputime` together with `stopping.trial_walltime`, `stopping.trial_memory`, or more than
    one worker.

    ## Why is this bad?
    SMAC's `cputime_limit` counts only the CPU time of its main process. Per-trial limits run each trial in a
    pynisher subprocess, and parallel trials run on Dask workers: the main process then mostly waits, its CPU
    time barely grows, and the limit never stops the run.

    ## Example
    ```yaml
    stopping:
      cputime: 30m
      trial_walltime: 1m
    ```

    ## Use instead
    ```yaml
    stopping:
      walltime: 30m
      trial_walltime: 1m
    ```

    ## Fix safety
    Replacing `cputime` with `walltime` is unsafe: wall-clock time also counts waiting.

    ## References
    - docs/tools.md, "Time limits" (measured with SMAC3 2.4.1): `cputime_limit` only counts CPU of the main process
    """
    config = config_of(ctx)
    stopping = config.stopping
    if stopping.cputime is None:
        return
    reasons = []
    if stopping.trial_walltime is not None or stopping.trial_memory is not None:
        reasons.append("per-trial limits run trials in subprocesses")
    if config.execution.workers > 1 or config.execution.dask_scheduler is not None:
        reasons.append("trials run on Dask workers")
    if not reasons:
        return
    fix = None
    if stopping.walltime is None:
        fix = Fix(
            "Use `stopping.walltime` instead of `stopping.cputime`",
            (Edit(("stopping", "walltime"), ctx.raw("stopping", "cputime")), Edit(("stopping", "cputime"), delete=True)),
            safe=False,
        )
    yield Violation(
        ("stopping", "cputime"),
        f"`stopping.cputime` counts only SMAC's main process and will not fire: {' and '.join(reasons)}",
        fix=fix,
        fix_title=None if fix else "Remove `stopping.cputime`; `stopping.walltime` already limits the run",
    )


@rule(
    "MC505",
    "cost-threshold-with-multi-fidelity",
    severity=Severity.info,
    summary="A cost threshold in a multi-fidelity run is checked on full-budget trials only.",
    tools=["smac"],
)
def cost_threshold_with_multi_fidelity(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Notes `stopping.cost_threshold` with `hyperband` or `successive_halving`.

    ## Why is this bad?
    SMAC compares its termination threshold with the cost of any trial, whatever its budget: a lucky
    low-budget cost (a 10% subsample) stops the search, as measured here after one trial at budget 1 of 9.
    metaconf therefore checks the threshold itself on full-budget trials only, which can be much later
    than the first good low-budget result.

    ## Example
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: subsample
    stopping:
      cost_threshold: 0.05
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: subsample
    stopping:
      walltime: 30m
    ```

    ## Fix safety
    No automatic fix; the finding is informational.

    ## References
    - docs/tools.md, "Trial counts and early stops" (measured with SMAC3 2.4.1): `termination_cost_threshold` with multi-fidelity fires on a LOW-budget cost
    - Li et al. 2018, "Hyperband", JMLR 18(185): low-budget costs are noisy estimates
    """
    config = config_of(ctx)
    if not config.is_multi_fidelity() or config.stopping.cost_threshold is None:
        return
    yield Violation(
        COST_THRESHOLD,
        "with multi-fidelity, `stopping.cost_threshold` is checked on full-budget trials only "
        "(SMAC's own check would stop on a low-budget cost)",
    )


@rule(
    "MC506",
    "cost-threshold-out-of-range",
    severity=Severity.error,
    summary="A cost threshold that every trial reaches, that no trial can reach, or that reads like a score.",
)
def cost_threshold_out_of_range(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Compares `stopping.cost_threshold` with the metric's cost range. Costs are minimised: for accuracy,
    balanced accuracy, ROC AUC and F1 the cost is `1 - score`.

    ## Why is this bad?
    A threshold above the worst cost stops the search after its first trial (an error). One below the best
    cost is never reached (a warning). And `cost_threshold: 0.95` with accuracy usually means "stop at 95%
    accuracy" but says "stop at 5% accuracy", which the first trial reaches (a warning: write 0.05).

    ## Example
    ```yaml
    task:
      metric: accuracy
    stopping:
      cost_threshold: 1.5
    ```

    ## Use instead
    ```yaml
    task:
      metric: accuracy
    stopping:
      cost_threshold: 0.05
    ```

    ## Fix safety
    Rewriting a score-like threshold as `1 - threshold` is unsafe: it assumes a score was meant.

    ## References
    - SMAC3 2.4.1 `SMBO`: stops when the incumbent's cost is below `termination_cost_threshold`
    """
    config = config_of(ctx)
    threshold = config.stopping.cost_threshold
    if threshold is None:
        return
    bounds = metric_cost_range(ctx)
    if bounds is None:
        return
    best, worst = bounds
    metric = config.effective_metric().value
    if threshold > worst:
        yield Violation(
            COST_THRESHOLD,
            f"`stopping.cost_threshold` ({threshold:g}) is above the worst cost of `{metric}` ({worst:g}); "
            "the first trial stops the search",
            fix_title="Lower `stopping.cost_threshold` (it is a cost: lower is better)",
        )
    elif threshold < best:
        yield Violation(
            COST_THRESHOLD,
            f"`stopping.cost_threshold` ({threshold:g}) is below the best cost of `{metric}` ({best:g}); "
            "it is never reached",
            fix_title="Remove `stopping.cost_threshold`, or set a reachable cost",
            severity=Severity.warning,
        )
    elif config.effective_metric() in SCORE_METRICS and threshold >= 0.5:
        cost = round(1 - threshold, 6)
        yield Violation(
            COST_THRESHOLD,
            f"`stopping.cost_threshold` is a cost (1 - {metric}): {threshold:g} stops at {metric} "
            f"{1 - threshold:g}; for {metric} {threshold:g}, write {cost:g}",
            fix=Fix(f"Set `stopping.cost_threshold` to {cost:g}", (Edit(COST_THRESHOLD, cost),), safe=False),
            severity=Severity.warning,
        )


@rule(
    "MC507",
    "plateau-patience-never-fires",
    severity=Severity.warning,
    summary="Plateau patience is larger than the trials left after the initial design.",
    tools=["smac"],
)
def plateau_patience_never_fires(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Compares `stopping.plateau_patience` with the trials the model proposes: `n_trials` minus the initial
    design and the warm-start configurations (which never count towards patience).

    ## Why is this bad?
    metaconf counts patience only after the initial design (counting during it would stop the search
    before the model ever proposed a configuration). A patience at least as large as the trials that are
    left can never run out, so the plateau stop silently does nothing.

    ## Example
    ```yaml
    stopping:
      n_trials: 50
      plateau_patience: 60
    ```

    ## Use instead
    ```yaml
    stopping:
      n_trials: 50
      plateau_patience: 15
    ```

    ## Fix safety
    Setting the patience to a quarter of the remaining trials is unsafe: it may stop runs that would still
    improve.

    ## References
    - docs/tools.md, "Trial counts and early stops" (measured with SMAC3 2.4.1): no plateau stop is built in; count patience only after the initial design
    """
    config = config_of(ctx)
    n_trials, patience = config.stopping.n_trials, config.stopping.plateau_patience
    if n_trials is None or patience is None or n_trials <= 0:
        return
    design = initial_design_size(ctx).effective or 0
    left = n_trials - design - len(config.initial_design.warm_start)
    if patience < left:
        return
    suggestion = max(1, left // 4)
    yield Violation(
        ("stopping", "plateau_patience"),
        f"`stopping.plateau_patience` ({patience}) is not below the {max(left, 0)} trials left after the initial "
        f"design; the plateau stop can never fire",
        fix=Fix(
            f"Set `stopping.plateau_patience` to {suggestion}",
            (Edit(("stopping", "plateau_patience"), suggestion),),
            safe=False,
        ),
    )


@rule(
    "MC508",
    "plateau-delta-without-patience",
    severity=Severity.warning,
    summary="`stopping.plateau_min_delta` without `plateau_patience` does nothing.",
)
def plateau_delta_without_patience(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `stopping.plateau_min_delta` set while `stopping.plateau_patience` is not.

    ## Why is this bad?
    The minimum improvement only matters to the plateau stop, which needs a patience to exist. The user
    meant to stop on a plateau, and the run will not.

    ## Example
    ```yaml
    stopping:
      plateau_min_delta: 0.001
    ```

    ## Use instead
    ```yaml
    stopping:
      plateau_patience: 20
      plateau_min_delta: 0.001
    ```

    ## Fix safety
    No automatic fix: the intended patience is not knowable.

    ## References
    - Prechelt 1998, "Early Stopping - But When?", Neural Networks: Tricks of the Trade (patience criteria)
    """
    config = config_of(ctx)
    if config.stopping.plateau_patience is not None or not ctx.has("stopping", "plateau_min_delta"):
        return
    yield Violation(
        ("stopping", "plateau_min_delta"),
        "`stopping.plateau_min_delta` has no effect without `stopping.plateau_patience`",
        fix_title="Set `stopping.plateau_patience`, or remove `plateau_min_delta`",
        key=True,
    )
