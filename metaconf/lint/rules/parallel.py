"""MC3xx, parallel trials: workers against cores, per-trial limits with workers and on Dask clusters, a Dask
scheduler reached in the clear. Part of the budget family (rule codes and family as in
:mod:`metaconf.lint.rules.budget`, whose helpers these rules share)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from metaconf.lint.finding import Edit, Fix, Severity
from metaconf.lint.registry import LintContext, Violation, rule
from metaconf.lint.rules.budget import config_of

if TYPE_CHECKING:
    pass


@rule(
    "MC303",
    "workers-exceed-cores",
    severity=Severity.warning,
    summary="More parallel workers than the budget has cores.",
)
def workers_exceed_cores(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `execution.workers` above `budget.cores` when trials run on a local cluster (no
    `execution.dask_scheduler`).

    ## Why is this bad?
    Workers beyond the cores only time-share them: every trial gets slower, per-trial walltime limits fire
    on configurations that would have finished, and SMAC's own process competes too. On 2 cores even 2
    workers give no speed-up for cheap trials.

    ## Example
    ```yaml
    budget:
      cores: 2
    execution:
      workers: 8
    ```

    ## Use instead
    ```yaml
    budget:
      cores: 8
    execution:
      workers: 8
    ```

    ## Fix safety
    Lowering `execution.workers` to `budget.cores` is unsafe: it halves the trials run in parallel.

    ## References
    - docs/tools.md, "Dask" (measured with SMAC3 2.4.1): no speed-up on 2 cores
    """
    config = config_of(ctx)
    workers, cores = config.execution.workers, config.budget.cores
    if config.execution.dask_scheduler is not None or workers <= cores:
        return
    yield Violation(
        ("execution", "workers"),
        f"`execution.workers` ({workers}) is more than `budget.cores` ({cores}); the workers only share the cores",
        fix=Fix(f"Set `execution.workers` to {cores}", (Edit(("execution", "workers"), cores),), safe=False),
    )


@rule(
    "MC310",
    "parallel-without-trial-limit",
    severity=Severity.warning,
    summary="Parallel workers without a per-trial time limit: one stuck trial holds a worker to the end.",
    tools=["smac"],
)
def parallel_without_trial_limit(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a parallel run (`execution.workers` above 1, or a `dask_scheduler`) without
    `stopping.trial_walltime`.

    ## Why is this bad?
    Without a per-trial limit a trial runs until it finishes. In a parallel run one pathological
    configuration (a huge SVM, a non-converging MLP) occupies its worker until the end, and the run cannot
    stop at its walltime either: SMAC checks its limits only when a trial finishes.

    ## Example
    ```yaml
    budget:
      cores: 4
    execution:
      workers: 4
    ```

    ## Use instead
    ```yaml
    budget:
      cores: 4
    stopping:
      trial_walltime: 2m
    execution:
      workers: 4
    ```

    ## Fix safety
    No automatic fix: a good limit depends on how long a fit takes (`metaconf profile` measures it).

    ## References
    - docs/tools.md, "Time limits" (measured with SMAC3 2.4.1): stop conditions are checked only after a trial finishes
    """
    config = config_of(ctx)
    parallel = config.execution.workers > 1 or config.execution.dask_scheduler is not None
    if not parallel or config.stopping.trial_walltime is not None:
        return
    yield Violation(
        ctx.where(("execution", "workers"), ("execution", "dask_scheduler")),
        "trials run in parallel without `stopping.trial_walltime`; a stuck trial holds its worker until the run ends",
        fix_title="Set `stopping.trial_walltime`",
    )


@rule(
    "MC311",
    "workers-with-dask-scheduler",
    severity=Severity.warning,
    summary="`execution.workers` set together with an external Dask scheduler, whose workers it does not size.",
)
def workers_with_dask_scheduler(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `execution.workers` above 1 next to `execution.dask_scheduler`.

    ## Why is this bad?
    With an external scheduler the cluster's own workers run the trials; metaconf connects a
    `distributed.Client` and starts no workers. A `workers` count suggests a parallelism the run does not
    control, and it silently differs from what the cluster provides.

    ## Example
    ```yaml
    execution:
      dask_scheduler: tls://10.0.0.5:8786
      workers: 16
    ```

    ## Use instead
    ```yaml
    execution:
      dask_scheduler: tls://10.0.0.5:8786
    ```

    ## Fix safety
    Removing `execution.workers` is safe: it has no effect with an external scheduler.

    ## References
    - docs/tools.md, "Dask" (measured with SMAC3 2.4.1): pass a `distributed.Client`; trials run on its workers
    """
    config = config_of(ctx)
    if config.execution.dask_scheduler is None or config.execution.workers <= 1:
        return
    yield Violation(
        ("execution", "workers"),
        f"`execution.workers` ({config.execution.workers}) has no effect with `execution.dask_scheduler`; "
        "the cluster's workers run the trials",
        fix=Fix("Remove `execution.workers`", (Edit(("execution", "workers"), delete=True),), safe=True),
    )


@rule(
    "MC316",
    "trial-limit-on-dask-cluster",
    severity=Severity.info,
    summary="A per-trial time limit on an external Dask cluster, where SMAC may never run a trial.",
    tools=["smac"],
)
def trial_limit_on_dask_cluster(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Notes `stopping.trial_walltime` together with `execution.dask_scheduler`.

    ## Why is this bad?
    SMAC enforces per-trial limits with pynisher, which starts a subprocess inside the Dask worker. On
    clusters whose workers may not fork (SMAC3 #1020: Dask on SLURM) no trial ever runs and the search
    waits until its walltime. Try a short run on the cluster first, or enforce the limit in the job
    scheduler.

    ## Example
    ```yaml
    stopping:
      trial_walltime: 5m
    execution:
      dask_scheduler: tls://10.0.0.5:8786
    ```

    ## Use instead
    ```yaml
    stopping:
      walltime: 2h
    execution:
      dask_scheduler: tls://10.0.0.5:8786
    ```

    ## Fix safety
    No automatic fix; the finding is informational.

    ## References
    - docs/tools.md, "Dask" (measured with SMAC3 2.4.1): SMAC3 #1020
    - https://github.com/automl/SMAC3/issues/1020
    """
    config = config_of(ctx)
    if config.execution.dask_scheduler is None or config.stopping.trial_walltime is None:
        return
    yield Violation(
        ("stopping", "trial_walltime"),
        "per-trial limits start a pynisher subprocess inside each Dask worker; on some clusters (SLURM, "
        "SMAC3 #1020) no trial then runs: try a short run first",
    )


LOOPBACK_HOSTS = ("localhost", "127.", "::1", "[::1]")
CLEAR_SCHEMES = ("tcp", "ws", "ucx", "")
"""Dask comm schemes that carry pickles unencrypted and unauthenticated (no scheme means tcp)."""


def scheduler_in_the_clear(address: str) -> str | None:
    """The host of a Dask scheduler ``address`` reached over a clear-text transport off this machine, else None."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "", address
    if scheme.lower() not in CLEAR_SCHEMES:
        return None  # tls://, wss://, inproc://
    host = rest.rsplit(":", 1)[0] if rest.count(":") == 1 or rest.startswith("[") else rest
    host = host.strip("/").lower()
    if not host or host.startswith(LOOPBACK_HOSTS):
        return None
    return host


@rule(
    "MC317",
    "dask-scheduler-in-the-clear",
    severity=Severity.warning,
    summary="A Dask scheduler on another machine reached over plain tcp: trials and results travel as unauthenticated pickles.",
)
def dask_scheduler_in_the_clear(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `execution.dask_scheduler` with a clear-text address (`tcp://`, `ws://`, `ucx://` or no scheme) whose
    host is not this machine.

    ## Why is this bad?
    `metaconf run` sends each trial to the scheduler and receives its result as a pickle, and unpickling can run
    code. Over plain tcp anyone on the network path can read the data and the configurations, or answer in the
    scheduler's place with a pickle that runs code in metaconf's process. Dask's `tls://` transport encrypts
    the connection and authenticates both ends with certificates (docs/trust.md).

    ## Example
    ```yaml
    execution:
      dask_scheduler: tcp://10.0.0.5:8786
    ```

    ## Use instead
    ```yaml
    execution:
      dask_scheduler: tls://10.0.0.5:8786
    ```

    ## Fix safety
    No automatic fix: `tls://` needs the cluster's certificates in Dask's configuration
    (`distributed.comm.tls`); an SSH tunnel to `tcp://localhost:8786` is the other way.

    ## References
    - Dask distributed, "TLS/SSL": https://distributed.dask.org/en/stable/tls.html
    - docs/trust.md, "Configs are data"
    """
    address = config_of(ctx).execution.dask_scheduler
    if address is None:
        return
    host = scheduler_in_the_clear(str(address))
    if host is None:
        return
    yield Violation(
        ("execution", "dask_scheduler"),
        f"`{address}` reaches {host} over a clear-text transport: trials and results travel as unauthenticated "
        "pickles, and unpickling can run code; use `tls://` with the cluster's certificates, or an SSH tunnel to "
        "localhost",
    )
