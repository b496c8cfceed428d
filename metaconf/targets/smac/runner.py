"""Run a compiled :class:`~metaconf.targets.smac.compile.SmacPlan` with SMAC3, and write the run directory.

What happens, in order (:func:`run_smac`):

1. The run directory is claimed and checked *before* SMAC sees it (:mod:`metaconf.targets.run_dir`): a
   directory metaconf did not make is refused, a second run into it stops at its lock, a run of the same
   config resumes, a different config stops with a message asking for ``--overwrite`` or a new name. SMAC's own
   check, in its constructor, would call ``input()`` when its old state differs (another SMAC version, a
   moved project): within :func:`_smac_never_prompts` that prompt is a one-line error instead, raised before
   SMAC writes anything. With ``--overwrite`` the files SMAC's constructor wrote for the new run are kept
   (``scenario.json`` etc.: the run can be resumed and opened in DeepCAVE); the rest of the old run goes.
2. Data is loaded once, the :class:`~metaconf.targets.evaluate.Evaluator` built and the plan compiled with
   the data-derived crash cost.
3. SMAC objects are built from the plan only (:func:`build_smac`). The target function is
   :class:`TrialTarget`: a module-level, picklable callable holding the resolved config (not the data), which
   loads the data once per process (preloaded when a Dask worker unpickles it) and keeps the same
   ``__code__`` across processes, so SMAC's resume check (it hashes the target's bytecode) sees the same run.
   Per-trial limits are applied by the target in a forked process kept from trial to trial (:mod:`.limits`,
   :mod:`.trial_process`). Everything that can refuse the run (resume check, daemonic Dask workers, SMAC's own
   validation) happens before ``config.yaml`` and a ``running`` ``results.json`` are written.
4. Trials run sequentially, on a Dask ``LocalCluster`` (``workers > 1``) or on an existing cluster
   (``dask_scheduler``), through :class:`IdentityDaskRunner`, which hands SMAC back the ``TrialInfo`` it
   submitted: log-scaled integers and normal / beta hyperparameters are not equal to themselves after
   pickling, and SMAC would otherwise count every trial twice. Whatever metaconf opens it closes.
5. ``trajectory.csv`` and ``results.json`` are rewritten after every trial, so SIGINT / SIGTERM (a clean stop
   after the running trial), a crash of metaconf itself or a kill leave a readable, resumable run.
6. After the search: the incumbent's validation and test scores (``Evaluator.test_report``), optionally the
   saved model (``model.joblib``: refitted on search and test rows with ``--model-rows all``, the default,
   when ``budget.walltime`` leaves time for one more fit), the final ``results.json``, ``trajectory.csv`` and ``trajectory.png``.

Reproducibility: SMAC's results depend on ``PYTHONHASHSEED`` (docs/tools.md). ``metaconf run`` re-executes
itself with ``PYTHONHASHSEED=0`` when it is not set (:func:`ensure_hash_seed`, called by the CLI), so two
processes with the same config and seed produce the same trajectory. In-process callers (tests, notebooks)
get the hash seed of their interpreter; ``results.json`` records it under ``versions.python_hash_seed``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.config.model import Config, FidelityType
from metaconf.errors import MetaconfError, OutputExistsError, RunError, UsageError
from metaconf.io import describe_os_error, is_disk_error
from metaconf.report import results as rr
from metaconf.targets.run_dir import RunRequest
from metaconf.targets.smac.compile import SmacPlan, compile_smac

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace
    from smac import Scenario
    from smac.facade.abstract_facade import AbstractFacade

    from metaconf.targets.evaluate import Evaluator
    from metaconf.targets.smac.callbacks import SearchState

HASH_SEED = "0"
"""The ``PYTHONHASHSEED`` ``metaconf run`` runs searches under."""
HASH_SEED_ENV = "PYTHONHASHSEED"
NO_REEXEC_ENV = "METACONF_NO_REEXEC"


# ----------------------------------------------------------------------------------------------- hash seed
def ensure_hash_seed(argv: list[str] | None = None) -> None:
    """Re-execute the current ``metaconf`` process with ``PYTHONHASHSEED=0`` unless it already runs with it.

    Only the real command-line process re-executes (its ``argv[0]`` is the ``metaconf`` script or
    ``python -m metaconf``); an embedding process (pytest's CliRunner, a notebook) is left alone, as is any
    process with ``METACONF_NO_REEXEC=1``. The exec replaces the process (same pid), so signals sent to it
    still reach the search.
    """
    if os.environ.get(HASH_SEED_ENV) == HASH_SEED or os.environ.get(NO_REEXEC_ENV) == "1":
        return
    args = list(sys.argv if argv is None else argv)
    if not is_command_process(args):
        return
    env = dict(os.environ, **{HASH_SEED_ENV: HASH_SEED})
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *_safe_path_flag(), "-m", "metaconf", *args[1:]], env)


def is_command_process(argv: list[str] | None = None) -> bool:
    """Whether this process is the ``metaconf`` command itself (its ``argv[0]`` is the ``metaconf`` script or
    ``python -m metaconf``), not a process embedding metaconf (pytest, a notebook)."""
    args = list(sys.argv if argv is None else argv)
    program = Path(args[0]) if args else Path()
    return program.name == "metaconf" or (program.name == "__main__.py" and program.parent.name == "metaconf")


def _safe_path_flag(path: list[str] | None = None) -> list[str]:
    """``-P`` (Python 3.11+): the re-executed ``python -m metaconf`` does not put the working directory first
    on ``sys.path``, so a stray ``yaml.py`` or ``my_model.py`` there is never imported by accident. Left out
    when metaconf itself was found only through that directory (it runs from its source tree). Kept when this
    process already runs with it: its first ``sys.path`` entry is then ``PYTHONPATH``'s, not the working
    directory, and dropping ``-P`` would let the working directory's metaconf (a checkout) replace this one."""
    if sys.version_info < (3, 11):
        return []
    if path is None and sys.flags.safe_path:
        return ["-P"]
    entries = sys.path if path is None else path
    first = entries[0] if entries else None
    if first is not None and Path(first or ".").resolve() == Path(__file__).resolve().parents[3]:
        return []
    return ["-P"]


# ---------------------------------------------------------------------------------------------- the target
_EVALUATORS: dict[tuple[str, str, int], Any] = {}
"""Per process: (config sha, base dir, seed) -> Evaluator, so each process loads the data once."""


class TrialTarget:
    """SMAC's target function: ``cost = target(config, seed)``.

    Holds the resolved config as JSON and the directory its relative paths start from; the data is loaded
    (once per process) on first call. Picklable, so Dask workers and pynisher subprocesses can run it.
    """

    def __init__(self, config_json: str, base_dir: str, seed: int):
        self.config_json = config_json
        self.base_dir = base_dir
        self.seed = seed
        self.key = (rr.sha256_of(config_json), base_dir, seed)
        self.limits: tuple[Any, Any] | None = None
        """(memory, walltime) per trial, set by :class:`~metaconf.targets.smac.limits.LimitingTargetRunner`."""

    @property
    def __code__(self) -> Any:
        """SMAC hashes ``target.__code__.co_code`` into the scenario it compares on resume: give it the
        bytecode of ``__call__``, which is the same in every process (a function's ``repr`` is not)."""
        return type(self).__call__.__code__

    def evaluator(self) -> Any:
        evaluator = _EVALUATORS.get(self.key)
        if evaluator is None:
            from metaconf.data.load import load_dataset
            from metaconf.targets.evaluate import Evaluator

            config = Config.model_validate_json(self.config_json)
            dataset = load_dataset(config, Path(self.base_dir))
            evaluator = Evaluator(config, dataset, seed=self.seed)
            _EVALUATORS[self.key] = evaluator
        return evaluator

    def __getstate__(self) -> dict[str, Any]:
        return {k: self.__dict__[k] for k in ("config_json", "base_dir", "seed", "key", "limits")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled in a Dask worker: load the data there, once, before SMAC forks the pynisher subprocess a
        limited trial runs in (a child's cache dies with it, so it would reload the data for every trial).
        A failure here is left for the trial itself to raise and record."""
        self.__dict__.update(state)
        from metaconf.space.user_code import add_config_directory

        add_config_directory(self.base_dir)  # a user space's estimator comes from the config's directory
        with contextlib.suppress(Exception):
            self.evaluator()

    def remember(self, evaluator: Any) -> None:
        """Use an Evaluator the main process already built (sequential runs never reload the data)."""
        _EVALUATORS[self.key] = evaluator

    def __call__(self, config: Configuration, seed: int = 0) -> float:
        return self.limited_cost(plain_config(config), seed, None)

    def cost(self, values: dict[str, Any], seed: int, budget: float | None) -> float:
        return float(self.evaluator().cost(values, seed=seed, budget=budget))

    def limited_cost(self, values: dict[str, Any], seed: int, budget: float | None) -> float:
        """The cost, within the per-trial limits when there are any.

        On Linux the trials run one after another in a forked process that is kept between them
        (:mod:`.trial_process`: a fresh fork per trial, as pynisher makes, runs each trial cold and ~2x
        slower); elsewhere in pynisher's subprocess per trial.
        """
        if self.limits is None:
            return self.cost(values, seed, budget)
        from metaconf.targets.smac.limits import fork_context

        memory, wall_time = self.limits
        if fork_context() == "fork":
            from metaconf.targets.smac.trial_process import trial_process_for

            memory_mb = None
            if memory is not None:
                amount, unit = memory
                if unit != "MB":
                    raise ValueError(f"per-trial memory limits are compiled in MB; got {unit!r}")
                memory_mb = math.ceil(amount)
            process = trial_process_for((self.key, self.limits), self.cost)
            return float(process.call((values, seed, budget), wall_time=wall_time, memory_mb=memory_mb))
        import pynisher

        limited = pynisher.limit(self.cost, memory=memory, wall_time=wall_time, wrap_errors=True)
        return float(limited(values, seed, budget))


class BudgetTrialTarget(TrialTarget):
    """The multi-fidelity target: ``cost = target(config, seed, budget)``."""

    def __call__(self, config: Configuration, seed: int = 0, budget: float | None = None) -> float:
        return self.limited_cost(plain_config(config), seed, budget)


def plain_config(config: Configuration | dict[str, Any]) -> dict[str, Any]:
    """Active hyperparameter values as plain Python scalars (SMAC hands back ``np.str_``, ``np.float64``)."""
    return {str(k): rr.jsonable(v) for k, v in dict(config).items()}


def trial_seed(trials: list[Any]) -> int | None:
    """The estimator seed of an incumbent's trials (``TrialInfo``s at its highest budget): the smallest, when
    several seeds ran (a non-deterministic scenario); None when SMAC passed none."""
    seeds = sorted(int(t.seed) for t in trials if getattr(t, "seed", None) is not None)
    return seeds[0] if seeds else None


def kept_configuration(
    runhistory: Any, incumbent: Any, evaluator: Evaluator, margin: float
) -> tuple[Any, dict[str, Any] | None]:
    """The configuration the run keeps (:mod:`metaconf.targets.selection`): among the successful trials at the
    highest budget, in the order they finished, SMAC's ``incumbent`` unless an earlier configuration's cost is
    within ``margin`` standard errors of it. Returns the configuration and, when it is not the incumbent,
    what ``results.json`` records of the choice (:attr:`~metaconf.report.results.Incumbent.selection`)."""
    from smac.runhistory.enumerations import StatusType

    from metaconf.targets.selection import full_budget_candidates, select

    incumbent_id = runhistory.get_config_id(incumbent)
    candidates = full_budget_candidates(
        (key.config_id, key.budget, float(value.cost), float(value.endtime))
        for key, value in runhistory.items()
        if value.status == StatusType.SUCCESS
    )
    if margin <= 0 or incumbent_id not in {candidate.key for candidate in candidates}:
        return incumbent, None
    n_rows = evaluator.validation_rows
    selection = select(candidates, margin=margin, metric=evaluator.metric, n_rows=n_rows)
    if not selection.moved or selection.lowest.key != incumbent_id:
        return incumbent, None  # the rule agrees, or SMAC's incumbent is not the lowest cost (several seeds)
    metric = evaluator.metric
    kept, lowest = selection.kept, selection.lowest
    why = (
        f"kept configuration {kept.key} (validation {metric.name} {metric.score(kept.cost):.4g}) over the one with "
        f"the best validation score, {lowest.key} ({metric.score(lowest.cost):.4g}): that is better by less than "
        f"{margin:g} standard errors of the estimate on {n_rows:,} validation rows ({selection.margin:.2g}), which "
        "the noise of the validation rows can explain (`resampling.selection_margin`; 0 keeps the best score)"
    )
    record = {
        "lowest_cost_config": plain_config(incumbent),
        "lowest_cost": lowest.cost,
        "margin": selection.margin,
        "why": why,
    }
    return runhistory.get_config(kept.key), record


# --------------------------------------------------------------------------------------------- Dask runner
def _identity_dask_runner_class() -> type:
    from smac.runner.dask_runner import DaskParallelRunner

    class IdentityDaskRunner(DaskParallelRunner):
        """A Dask runner that returns the ``TrialInfo`` SMAC submitted instead of the worker's unpickled copy.

        Log-scaled integers and normal / beta hyperparameters do not compare equal after a pickle round trip,
        so SMAC would not recognise the result of its own trial (every trial counted twice, docs/tools.md).
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._submitted: dict[int, Any] = {}

        def submit_trial(self, trial_info: Any, **dask_data_to_scatter: Any) -> None:
            super().submit_trial(trial_info, **dask_data_to_scatter)
            self._submitted[id(self._pending_trials[-1])] = trial_info

        def _process_pending_trials(self) -> None:
            done = [future for future in self._pending_trials if future.done()]
            for future in done:
                info, value = future.result()
                self._results_queue.append((self._submitted.pop(id(future), info), value))
                self._pending_trials.remove(future)

    return IdentityDaskRunner


@dataclass
class DaskResources:
    """The Dask client (and LocalCluster) a run opened; :meth:`close` shuts down exactly those."""

    client: Any = None
    cluster: Any = None

    def close(self) -> None:
        if self.client is not None:
            # shutting down: never mask the run's own outcome
            with contextlib.suppress(Exception):
                self.client.close(timeout=10)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)
        self.client = self.cluster = None


def open_dask(workers: int, scheduler: str | None) -> DaskResources:
    """A client for an existing scheduler, or a ``LocalCluster`` of ``workers`` single-threaded processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=15)
        except (OSError, TimeoutError) as error:
            raise UsageError(
                f"cannot connect to the Dask scheduler at `{scheduler}`: {error}",
                "start it with `dask scheduler` and workers with `dask worker <address>`, or drop --scheduler",
            ) from None
        return DaskResources(client=client)
    import dask

    # Non-daemonic workers: per-trial limits run each trial in a pynisher subprocess, and a daemonic process
    # may not have children (every trial would crash with an AssertionError).
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
            silence_logs=40,
        )
    return DaskResources(client=Client(cluster), cluster=cluster)


def check_workers_can_limit_trials(client: Any) -> None:
    """Refuse per-trial limits on a cluster whose workers are daemonic processes (they cannot start the
    pynisher subprocess a limited trial runs in; every trial would crash)."""

    def is_daemon() -> bool:
        import multiprocessing

        return bool(multiprocessing.current_process().daemon)

    daemonic = [address for address, daemon in client.run(is_daemon).items() if daemon]
    if daemonic:
        raise UsageError(
            f"the Dask workers at {', '.join(daemonic)} are daemonic processes, which cannot run trials with "
            "`stopping.trial_walltime` / `trial_memory` (each limited trial runs in a subprocess)",
            "start the workers with `DASK_DISTRIBUTED__WORKER__DAEMON=False dask worker ...`, or remove the "
            "per-trial limits",
        )


# ---------------------------------------------------------------------------------------- building SMAC
def _import(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def make_scenario(plan: SmacPlan, space: ConfigurationSpace) -> Scenario:
    """SMAC's ``Scenario`` for ``plan`` (writes nothing)."""
    import smac

    scenario_kwargs = dict(plan.scenario)
    scenario_kwargs["output_directory"] = Path(scenario_kwargs["output_directory"])
    if scenario_kwargs.get("trial_memory_limit") is not None:
        scenario_kwargs["trial_memory_limit"] = tuple(scenario_kwargs["trial_memory_limit"])
    return smac.Scenario(space, **scenario_kwargs)


def build_smac(
    plan: SmacPlan,
    space: ConfigurationSpace,
    target: TrialTarget,
    *,
    callbacks: list[Any],
    overwrite: bool,
    dask_client: Any = None,
    scenario: Scenario | None = None,
) -> AbstractFacade:
    """The SMAC facade for ``plan``, built from the plan's data and nothing else (``scenario``: the one
    :func:`make_scenario` made for it, already checked against SMAC's old state)."""
    import smac
    from ConfigSpace import Configuration

    from metaconf.targets.smac.limits import LimitingTargetRunner

    if scenario is None:
        scenario = make_scenario(plan, space)

    intensifier = _import(plan.intensifier.cls)(scenario=scenario, **plan.intensifier.kwargs)
    design_kwargs = dict(plan.initial_design.kwargs)
    design_kwargs["additional_configs"] = [
        Configuration(space, values=values) for values in design_kwargs.get("additional_configs", [])
    ]
    initial_design = _import(plan.initial_design.cls)(scenario=scenario, **design_kwargs)
    facade_cls = getattr(smac, plan.facade)
    components: dict[str, Any] = {"intensifier": intensifier, "initial_design": initial_design}
    if plan.random_design is not None:
        components["random_design"] = _import(plan.random_design.cls)(
            seed=scenario.seed, **plan.random_design.kwargs
        )
    if plan.model is not None:
        components["model"] = _import(plan.model.cls)(
            configspace=scenario.configspace,
            instance_features=scenario.instance_features,
            seed=scenario.seed,
            **plan.model.kwargs,
        )

    arguments = [a for a in plan.target["arguments"] if a != "config"]
    runner: Any = LimitingTargetRunner(
        scenario=scenario, target_function=target, required_arguments=arguments
    )
    if dask_client is not None:
        runner = _identity_dask_runner_class()(single_worker=runner, dask_client=dask_client)
    return facade_cls(
        scenario,
        runner,
        callbacks=callbacks,
        overwrite=overwrite,
        **components,
        **plan.facade_kwargs,
    )


def _check_smac_state_readable(scenario: Scenario) -> None:
    """Refuse to resume from SMAC files that cannot be read (SMAC's constructor would fail on them)."""
    from smac import Scenario

    directory = scenario.output_directory
    if not (directory / "scenario.json").exists():
        return
    try:
        Scenario.load(directory)
    except Exception:
        raise OutputExistsError(
            f"SMAC's state in `{directory}` cannot be read",
            "pass --overwrite to start this run again from scratch",
        ) from None
    # SMAC reads a damaged run history as an empty one and then fails on the intensifier's references to it
    # (`KeyError: 1`); metaconf's own writes are atomic, so damage comes from outside: say which file, exit 2.
    for name in ("runhistory.json", "intensifier.json", "optimization.json", "configspace.json"):
        path = directory / name
        if not path.exists():
            continue
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise OutputExistsError(
                f"SMAC's `{path}` is damaged ({type(error).__name__}: {error}); the search cannot resume from it",
                "pass --overwrite to start this run again from scratch (the damaged run's results.json and "
                "trajectory.csv are replaced), or set `execution.name` to keep it and start a new run",
            ) from None


@contextlib.contextmanager
def _smac_never_prompts(directory: Path) -> Iterator[None]:
    """SMAC's constructor calls ``input()`` when the run it finds in its output directory differs from this one
    (its scenario, which by then holds the facade's components and SMAC's version, compared with ``==``): the
    run would hang on a prompt, or read an answer from whatever stdin is. Within this block that prompt is an
    :class:`OutputExistsError` instead, raised before SMAC writes anything."""
    import smac.main.smbo as smbo

    def refuse(_prompt: str = "") -> str:
        raise OutputExistsError(
            f"`{directory}` holds a SMAC run that differs from this one (another metaconf or SMAC version, or "
            "a changed search space)",
            "pass --overwrite to start again, or set `execution.name` to a new run name",
        )

    smbo.input = refuse  # type: ignore[attr-defined]  # shadows the builtin for that module only
    try:
        yield
    finally:
        del smbo.input  # type: ignore[attr-defined]


# -------------------------------------------------------------------------------------------- the run
@dataclass
class RunOutcome:
    """What :func:`run_smac` hands back to the CLI."""

    run_dir: Path
    results: rr.RunResults
    trials: list[rr.TrialRecord]
    plan: SmacPlan
    resumed: bool
    notes: list[str] = field(default_factory=list)


def run_smac(config: Config, base_dir: Path, run_dir: Path, request: RunRequest) -> RunOutcome:
    """Run ``config`` (already overridden by :func:`apply_overrides`) with SMAC3 into ``run_dir``, holding
    the directory for the whole run (:func:`~metaconf.targets.run_dir.claimed_run_directory`: a directory
    metaconf did not make is refused, a second run into it stops at the lock)."""
    from metaconf.targets.run_dir import claimed_run_directory

    with claimed_run_directory(run_dir, "smac"):
        return _run_smac(config, base_dir, run_dir, request)


def _run_smac(config: Config, base_dir: Path, run_dir: Path, request: RunRequest) -> RunOutcome:
    from metaconf.targets.run_dir import clear_run_directory, decide_existing

    started_wall = rr.utc_now()
    t0 = time.monotonic()
    config_hash = rr.config_sha256(config)
    decision = decide_existing(run_dir, config_hash, config.execution.on_existing, request)
    previous_trials: list[rr.TrialRecord] = []
    unreadable_trajectory: str | None = None
    if decision == "resume":
        try:
            previous_trials = rr.read_trajectory(run_dir)
        except UsageError as exc:  # rebuilt from SMAC's run history below
            unreadable_trajectory = exc.message
        with contextlib.suppress(UsageError):
            started_wall = rr.read_results(run_dir).started

    from metaconf.data.load import load_dataset
    from metaconf.space.builtin import build_space
    from metaconf.space.configurations import normalize_warm_start
    from metaconf.targets.evaluate import Evaluator

    seed = int(config.execution.seed or 0)
    dataset = load_dataset(config, base_dir)
    evaluator = Evaluator(config, dataset, seed=seed)
    metric = evaluator.metric
    space = build_space(config, base_dir)
    warm = [normalize_warm_start(space, values) for values in config.initial_design.warm_start]
    plan = compile_smac(config, space, run_dir=run_dir, seed=seed, metric=metric, warm_start=warm)
    if request.on_plan is not None:
        request.on_plan(plan)

    dataset_info = {
        "name": dataset.name,
        "source": dataset.source,
        "task_type": dataset.task_type,
        "n_rows": len(dataset.X),
        "n_features": int(dataset.X.shape[1]),
    }
    versions = rr.library_versions(
        "smac", "ConfigSpace", "scikit-learn", "numpy", "pandas", "dask", "distributed"
    )
    versions["python_hash_seed"] = os.environ.get(HASH_SEED_ENV, "random")

    results = rr.RunResults(
        tool="smac",
        status="running",
        seed=seed,
        config_sha256=config_hash,
        metric_name=metric.name,
        greater_is_better=bool(metric.greater_is_better),
        started=started_wall,
        versions=versions,
        dataset=dataset_info,
    )

    from metaconf.targets.smac.callbacks import (
        FullBudgetCostThreshold,
        PlateauStop,
        RecordTrials,
        SearchState,
        StopOnSignal,
    )

    state = SearchState(greater_is_better=bool(metric.greater_is_better), score_of=metric.score)
    state.n_trials = int(plan.scenario["n_trials"])
    _continue_from(state, previous_trials)

    def on_trial(record: rr.TrialRecord) -> None:
        results.trials_by_status = rr.count_statuses(state.trials)
        results.search_s = round(state.elapsed(), 3)
        results.total_s = round(
            time.monotonic() - t0 + (previous_trials[-1].walltime_s if previous_trials else 0), 3
        )
        rr.write_results(run_dir, results, state.trials, durable=False)
        if request.on_trial is not None:
            request.on_trial(record, state)

    state.on_trial = on_trial
    recorder = RecordTrials(state, warm)
    stopper = StopOnSignal(state)
    callbacks: list[Any] = [recorder]
    for spec in plan.callbacks:
        if spec["name"] == "plateau":
            callbacks.append(PlateauStop(state, recorder, spec["patience"], spec["min_delta"]))
        elif spec["name"] == "cost_threshold":
            callbacks.append(FullBudgetCostThreshold(state, spec["threshold"], spec["max_budget"]))
    callbacks.append(stopper)

    target_cls = BudgetTrialTarget if "budget" in plan.target["arguments"] else TrialTarget
    target = target_cls(config.model_dump_json(), str(base_dir.resolve()), seed)
    target.remember(evaluator)

    dask = DaskResources()
    error: BaseException | None = None
    interrupted = False
    # Everything that can refuse the run happens before the run directory is written to.
    try:
        workers = plan.execution["workers"]
        scheduler = plan.execution["dask_scheduler"]
        if scheduler or workers > 1:
            dask = open_dask(workers, scheduler)
            limited = plan.scenario["trial_walltime_limit"] is not None or plan.scenario["trial_memory_limit"]
            if scheduler and limited:
                check_workers_can_limit_trials(dask.client)
        scenario = make_scenario(plan, space)
        if decision == "resume":
            _check_smac_state_readable(scenario)
        with _smac_never_prompts(scenario.output_directory):
            facade = build_smac(
                plan,
                space,
                target,
                callbacks=callbacks,
                overwrite=decision != "resume",
                dask_client=dask.client,
                scenario=scenario,
            )
    except MetaconfError:
        dask.close()
        raise
    except Exception as exc:
        dask.close()
        if is_disk_error(exc):  # SMAC could not write its files: one line, exit 2 (nothing ran)
            raise
        raise RunError(
            f"could not start the SMAC search: {type(exc).__name__}: {exc}",
            "nothing was run or written; `metaconf compile` shows what SMAC would receive",
        ) from exc
    except BaseException:
        dask.close()
        raise
    from metaconf.targets.smac.durable import make_saves_atomic, reconcile_trials

    make_saves_atomic(facade.optimizer)
    resume_notes: list[str] = []
    if decision == "resume":
        reconciled, note = reconcile_trials(previous_trials, facade.runhistory, score_of=metric.score)
        if unreadable_trajectory is not None:
            resume_notes.append(f"trajectory.csv could not be read ({unreadable_trajectory}); its rows were rebuilt")
        if note is not None:
            resume_notes.append(note)
        if reconciled is not previous_trials:
            previous_trials = reconciled
            _continue_from(state, previous_trials)
    if decision == "overwrite":
        # SMAC's constructor (overwrite=True) has just rewritten its own files for this run: keep them (a run
        # without scenario.json cannot be resumed or opened in DeepCAVE); everything else the old run wrote goes
        clear_run_directory(run_dir, keep=facade.scenario.output_directory)
    run_dir.mkdir(parents=True, exist_ok=True)
    facade.scenario.output_directory.mkdir(parents=True, exist_ok=True)  # SMAC made it at construction
    rr.write_config(run_dir, config)
    rr.write_results(run_dir, results, state.trials)
    try:
        stopper.install()
        try:
            state.started = time.monotonic()
            with warnings.catch_warnings():
                # Trials of badly configured models warn (convergence, empty slices in SMAC's surrogate):
                # the trial's cost and status already say it; a wall of warnings would hide the progress.
                for category in (RuntimeWarning, UserWarning, FutureWarning):
                    warnings.simplefilter("ignore", category)
                facade.optimize()
        finally:
            stopper.restore()
    except KeyboardInterrupt:
        interrupted = True
        state.request_stop("SIGINT")
    except Exception as exc:  # recorded in results.json, then re-raised as RunError
        error = exc
    finally:
        dask.close()
        from metaconf.targets.smac.trial_process import close_trial_processes

        close_trial_processes()
    search_s = state.elapsed()

    # Incumbent and final scores
    incumbent_values: dict[str, Any] | None = None
    incumbent_cost: float | None = None
    incumbent_seed: int | None = None
    searched_cost: float | None = None
    selection: dict[str, Any] | None = None
    selection_failed: str | None = None
    try:
        incumbent = facade.intensifier.get_incumbent()
        if incumbent is not None:
            try:
                incumbent, selection = kept_configuration(
                    facade.runhistory, incumbent, evaluator, config.resampling.selection_margin
                )
            except Exception as exc:  # SMAC's incumbent stands
                selection_failed = f"the selection margin was not applied (SMAC's incumbent is kept): {exc!r}"
            incumbent_values = plain_config(incumbent)
            cost = facade.runhistory.get_cost(incumbent)
            incumbent_cost = float(cost) if math.isfinite(float(cost)) else None
            incumbent_trials = facade.runhistory.get_trials(incumbent)
            incumbent_seed = trial_seed(incumbent_trials)
            # one trial at full fidelity: its cost is what evaluating the incumbent again would give
            if config.fidelity.type == FidelityType.none and len(incumbent_trials) == 1:
                searched_cost = incumbent_cost
    except Exception:  # no incumbent (no trial finished)
        incumbent_values = None
    notes = list(plan.notes) + resume_notes
    if selection is not None:
        notes.append(selection["why"])
    if selection_failed is not None:
        notes.append(selection_failed)
    for reason, count in state.errors.most_common(3):
        notes.append(f"{count} trial{'s' if count > 1 else ''} did not finish: {reason}")
    if incumbent_values is not None and error is None and not interrupted:
        report: dict[str, Any] | None = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # sklearn's ConvergenceWarning and friends
                report = evaluator.test_report(
                    incumbent_values,
                    seed=incumbent_seed,
                    keep_model=request.save_model,
                    searched_cost=searched_cost,
                )
            if report.get("refit_note"):
                notes.append(report["refit_note"])
            threshold = report.get("threshold")
            if threshold is not None:
                notes.append("decision threshold: " + threshold.reason())
            results.incumbent = rr.Incumbent(
                config=incumbent_values,
                cost=incumbent_cost,
                validation_score=report.get("validation_score"),
                test_score=report.get("test_score"),
                test_cost=report.get("test_cost"),
                estimator_seed=report.get("estimator_seed", incumbent_seed),
                decision_threshold=threshold.to_dict() if threshold is not None else None,
                selection=selection,
            )
        except Exception as exc:  # the search result stands; say why scores are missing
            results.incumbent = rr.Incumbent(
                config=incumbent_values, cost=incumbent_cost, estimator_seed=incumbent_seed, selection=selection
            )
            notes.append(f"the incumbent could not be evaluated on the test set: {exc!r}")
        if request.save_model:
            try:
                import joblib

                # the model the test score was computed with (a diverged refit is not saved), or its refit on
                # all rows (--model-rows all); refitted on the search rows only when the test report failed
                model = report.get("model") if report is not None else None
                if report is None or model is None:
                    model = evaluator.refit(incumbent_values, seed=results.incumbent.estimator_seed)
                else:
                    model, results.incumbent.model_rows = _saved_model_rows(
                        evaluator, incumbent_values, report, config, t0, model, request.model_rows
                    )
                from metaconf.io import atomic_path

                with atomic_path(run_dir / rr.MODEL_FILE, force=True) as tmp:
                    joblib.dump(model, tmp)
                from metaconf.targets.saved_model import training_schema, write_schema

                schema = training_schema(
                    config, dataset, evaluator, tool="smac", model_file=rr.MODEL_FILE, versions=versions
                )
                write_schema(run_dir, schema)
            except Exception as exc:
                notes.append(f"the incumbent could not be refit and saved: {exc!r}")
    elif incumbent_values is not None:
        score = metric.score(incumbent_cost) if incumbent_cost is not None else None
        results.incumbent = rr.Incumbent(
            config=incumbent_values,
            cost=incumbent_cost,
            validation_score=score,
            estimator_seed=incumbent_seed,
            selection=selection,
        )

    results.trials_by_status = rr.count_statuses(state.trials)
    results.search_s = round(search_s, 3)
    results.total_s = round(
        time.monotonic() - t0 + (previous_trials[-1].walltime_s if previous_trials else 0), 3
    )
    results.finished = rr.utc_now()
    failure: str | None = None
    if error is not None:
        failure = describe_os_error(error, run_dir) if is_disk_error(error) else f"{type(error).__name__}: {error}"
        results.status = "failed"
        results.error = failure
    elif state.stop_reason in ("SIGINT", "SIGTERM") or interrupted:
        results.status = "interrupted"
        results.stop_reason = state.stop_reason or "SIGINT"
    else:
        results.status = "finished"
        results.stop_reason = state.stop_reason or _stop_reason(facade, plan)
    write_final_results(run_dir, results, state.trials, notes)
    if error is not None:
        hint = f"what finished is in `{run_dir}`; `metaconf run` on the same config resumes it"
        if is_disk_error(error):
            hint = f"free disk space (or make the directory writable); what finished is in `{run_dir}`"
        raise RunError(f"the SMAC search failed: {failure}", hint) from error
    return RunOutcome(run_dir, results, state.trials, plan, decision == "resume", notes)


def _continue_from(state: SearchState, trials: list[rr.TrialRecord]) -> None:
    """Start ``state`` after ``trials`` (those of the run being resumed): their records, clock and best cost."""
    state.trials = list(trials)
    state.time_offset = trials[-1].walltime_s if trials else 0.0
    successes = [t.cost for t in trials if t.status == "success" and t.cost is not None]
    state.best_cost = min(successes) if successes else None


REFIT_TIME_MARGIN = 1.2
"""The all-rows refit is skipped unless ``1.2 x`` its expected time still fits in ``budget.walltime``."""


def _saved_model_rows(
    evaluator: Evaluator,
    values: dict[str, Any],
    report: dict[str, Any],
    config: Config,
    t0: float,
    tested: Any,
    wanted: str,
) -> tuple[Any, dict[str, Any]]:
    """The model ``--save-model`` saves: with ``--model-rows all`` the incumbent fitted on search + test rows
    when ``budget.walltime`` leaves time for it, else the search-rows model ``tested`` the test score describes;
    and what ``results.json`` says about it."""
    n_search, n_test = int(report.get("n_train", 0)), int(report.get("n_test", 0))
    kept: dict[str, Any] = {"rows": n_search, "fitted_on": "search rows"}
    if wanted != "all":
        return tested, kept | {"why": "--model-rows search: the very model the test score describes"}
    if not n_test:
        return tested, kept | {"why": "data.test_size is 0: the search rows are all the rows"}
    expected = float(report.get("fit_seconds") or 0.0) * (n_search + n_test) / max(n_search, 1)
    walltime = config.budget.walltime
    if walltime is not None:
        left = walltime - (time.monotonic() - t0)
        if REFIT_TIME_MARGIN * expected > left:
            return tested, kept | {
                "why": f"a fit on all {n_search + n_test:,} rows takes about {expected:.1f} s and "
                f"budget.walltime has {max(left, 0):.1f} s left: the model the test score describes is saved"
            }
    threshold = report.get("threshold")
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = evaluator.refit_all_rows(
            values, seed=int(report["estimator_seed"]), validation_cost=report.get("validation_cost"),
            threshold=threshold,
        )
    if model is None:
        return tested, kept | {
            "why": "the fit on all rows diverged (it scored worse on its own training rows than the search "
            "promised): the model the test score describes is saved"
        }
    return model, {
        "rows": n_search + n_test,
        "fitted_on": "search and test rows",
        "why": f"once the test score was measured (on the model fitted on the {n_search:,} search rows), the "
        f"{n_test:,} test rows became training data too ({time.monotonic() - started:.1f} s)",
    }


def write_final_results(
    run_dir: Path, results: rr.RunResults, trials: list[rr.TrialRecord], notes: list[str]
) -> None:
    """The run's last writes, ``results.json`` first: it must say how the run ended even when the disk
    refuses the larger files (the trajectory, the plot), which are then left out with a note. A disk that
    refuses even ``results.json`` raises (the CLI says so in one line)."""
    rr.write_results(run_dir, results)
    try:
        rr.write_results(run_dir, results, trials, plot=bool(trials))
    except OSError as exc:
        if not is_disk_error(exc):
            raise
        notes.append(f"the trajectory or its plot could not be written: {describe_os_error(exc)}")


def _stop_reason(facade: Any, plan: SmacPlan) -> str:
    if facade is None:
        return "not started"
    smbo = facade.optimizer
    try:
        if smbo.remaining_trials <= 0:
            return f"n_trials ({plan.scenario['n_trials']}) reached"
        if smbo.remaining_walltime <= 0:
            return "walltime reached"
        if smbo.remaining_cputime <= 0:
            return "cputime reached"
    except Exception:
        pass
    threshold = plan.scenario.get("termination_cost_threshold")
    if threshold is not None and math.isfinite(threshold):
        return "cost threshold reached"
    return "SMAC ended the search (no new configurations)"
