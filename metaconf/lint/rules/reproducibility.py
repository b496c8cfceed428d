"""MC7xx: reproducibility. Whether running the same config twice gives the same trajectory, and when it
cannot.
"""

from __future__ import annotations

from collections.abc import Iterator

from metaconf.lint.finding import Edit, Fix, Severity, Status
from metaconf.lint.registry import LintContext, Violation, rule
from metaconf.lint.rules.budget import config_of


@rule(
    "MC701",
    "missing-seed",
    severity=Severity.info,
    summary="No `execution.seed`: the run silently uses seed 0.",
    status=Status.preview,
)
def missing_seed(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a config without `execution.seed`. A preview rule (it fires on most hand-written configs, and
    the run is reproducible anyway): select it with `--select MC701`.

    ## Why is this bad?
    The seed decides the initial design, the random interleaving, the data splits and every model's own
    randomness. metaconf then uses 0 so that a run can be repeated, but the config does not say so: a
    reader cannot tell which seed produced a result, and repetitions over seeds (the only honest way to
    compare optimisers) have to be set up outside the config.

    ## Example
    ```yaml
    data:
      demo: iris
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
    execution:
      seed: 0
    ```

    ## Fix safety
    Setting `execution.seed: 0` is safe: it is the seed the run uses anyway.

    ## References
    - Lindauer & Hutter 2020, "Best Practices for Scientific Research on Neural Architecture Search", JMLR 21
      (report seeds, repeat over seeds)
    - docs/tools.md, "Reproducibility" (measured with SMAC3 2.4.1): results differ across processes unless seeds are fixed
    """
    if config_of(ctx).execution.seed is not None:
        return
    yield Violation(
        ctx.where(("execution",), ()),
        "`execution.seed` is not set; the run uses seed 0",
        fix=Fix("Set `execution.seed` to 0", (Edit(("execution", "seed"), 0),), safe=True),
    )


@rule(
    "MC702",
    "parallel-run-not-reproducible",
    severity=Severity.info,
    summary="With parallel workers the trajectory depends on timing, even with a fixed seed.",
)
def parallel_run_not_reproducible(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Notes a run with more than one worker or an external Dask scheduler.

    ## Why is this bad?
    With several workers, the order in which trials finish depends on machine load. The surrogate model is
    fitted on whatever has finished when the next configuration is asked for, so two runs with the same
    seed propose different configurations and end with different incumbents. Use one worker when a run
    must be repeatable exactly.

    ## Example
    ```yaml
    budget:
      cores: 4
    stopping:
      trial_walltime: 1m
    execution:
      workers: 4
      seed: 1
    ```

    ## Use instead
    ```yaml
    budget:
      cores: 4
    execution:
      workers: 1
      seed: 1
    ```

    ## Fix safety
    No automatic fix; the finding is informational.

    ## References
    - docs/tools.md, "Dask" (measured with SMAC3 2.4.1) (seeded results differ across processes)
    - Lindauer et al. 2022, "SMAC3", JMLR 23(54): parallel runs share one run history asynchronously
    """
    config = config_of(ctx)
    if config.execution.workers <= 1 and config.execution.dask_scheduler is None:
        return
    yield Violation(
        ctx.where(("execution", "workers"), ("execution", "dask_scheduler")),
        "trials run in parallel: the trajectory depends on which trial finishes first, so the same seed can "
        "give a different result",
    )


@rule(
    "MC703",
    "walltime-bound-not-reproducible",
    severity=Severity.info,
    summary="A search stopped by walltime only runs a machine-dependent number of trials.",
    status=Status.preview,
)
def walltime_bound_not_reproducible(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Notes a config whose search is limited by a walltime but not by `stopping.n_trials`. A preview rule:
    select it with `--select MC703`.

    ## Why is this bad?
    The number of trials that fit into a walltime depends on the machine and its load: the same config and
    seed run 40 trials on a laptop and 60 on a server, and end with different incumbents. A trial count (with
    the walltime as a safety net) makes a seeded run repeatable.

    ## Example
    ```yaml
    budget:
      walltime: 10m
    ```

    ## Use instead
    ```yaml
    budget:
      walltime: 10m
    stopping:
      n_trials: 200
    ```

    ## Fix safety
    No automatic fix: a trial count that fits the walltime needs a measured trial cost (`metaconf profile`).

    ## References
    - Eggensperger et al. 2021, "HPOBench", NeurIPS Datasets and Benchmarks: budgets in function evaluations
      for reproducible comparisons
    """
    config = config_of(ctx)
    if config.stopping.n_trials is not None:
        return
    if config.stopping.walltime is None and config.budget.walltime is None:
        return
    yield Violation(
        ctx.where(("stopping", "walltime"), ("budget", "walltime")),
        "the search is limited by walltime only: how many trials run depends on the machine",
        fix_title="Set `stopping.n_trials` as well",
    )
