"""`metaconf run CONFIG`: lint the config, compile it, run the search, write the run directory, print a summary.

Exit codes: 0 the search finished (or was stopped by SIGINT / SIGTERM after writing everything: 130 / 143),
1 the search itself failed (what finished is kept), 2 bad input (lint errors, unreadable data, a run
directory that holds another config, ...), with one message on stderr and never a traceback.
"""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from metaconf.cli.common import ConfigArgument, cli_errors, load_checked_config, seed_option
from metaconf.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from metaconf.config.model import Config
    from metaconf.report.results import TrialRecord
    from metaconf.targets.autosklearn.runner import SearchProgress
    from metaconf.targets.run_dir import RunRequest
    from metaconf.targets.smac.callbacks import SearchState
    from metaconf.targets.smac.compile import SmacPlan


class ModelRows(str, Enum):
    """``--model-rows``: what the saved model is fitted on."""

    all = "all"
    search = "search"


@cli_errors
def run(
    config_path: ConfigArgument,
    *,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the SMAC3 calls that would be made (as YAML) and stop.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing run in the run directory.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in the run directory (same config only).")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="Trials in parallel on a local Dask cluster (overrides the config)."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786."),
    ] = None,
    save_model: Annotated[
        bool,
        typer.Option(
            "--save-model",
            help="Save the best model (SMAC: the incumbent refit, model.joblib; auto-sklearn: its fitted ensemble) "
            "and its training columns (model.json), for `metaconf predict`.",
        ),
    ] = False,
    model_rows: Annotated[
        ModelRows,
        typer.Option(
            "--model-rows",
            help="The rows the saved model (SMAC) is fitted on: all (search and test rows, once the test score "
            "is measured; default, when budget.walltime leaves time for it) or search (the very model the test "
            "score describes).",
        ),
    ] = ModelRows.all,
    seed: Annotated[
        int | None,
        seed_option("Random seed (overrides execution.seed)."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary table.")
    ] = False,
) -> None:
    """Run a config: lint it, compile it for SMAC3, search, and write the run directory."""
    from metaconf.config.model import Tool
    from metaconf.targets.base import target_for
    from metaconf.targets.run_dir import RunRequest, apply_overrides, run_directory
    from metaconf.targets.smac.runner import ensure_hash_seed

    if overwrite and resume:
        raise UsageError("--overwrite and --resume exclude each other", "pass one of them")
    if not dry_run:
        ensure_hash_seed()
    config, base_dir = load_checked_config(config_path, trust=not dry_run)
    request = RunRequest(
        overwrite=overwrite,
        resume=resume,
        workers=workers,
        scheduler=scheduler,
        seed=seed,
        save_model=save_model,
        model_rows=model_rows.value,
    )
    config = apply_overrides(config, request)
    run_dir = run_directory(config, config_path)
    if dry_run:
        target = target_for(config.tool)
        typer.echo(target.render(target.plan(config, base_dir, run_dir), "yaml"), nl=False)
        return
    # the progress display is the CLI's: trials of n_trials for SMAC, wall time for auto-sklearn
    display = _run_autosklearn if config.tool == Tool.auto_sklearn else _run_smac
    display(config, base_dir, run_dir, request, quiet=quiet)


def _run_smac(config: Config, base_dir: Path, run_dir: Path, request: RunRequest, *, quiet: bool) -> None:
    from rich.console import Console

    from metaconf.report.summary import output_console, summary_table
    from metaconf.targets.smac.target import SmacTarget

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    show_progress = not quiet and err.is_terminal
    if not quiet:
        err.print(f"[bold]metaconf run[/]: {config.optimizer.kind.value} on {run_dir}")
    with _Progress(err, enabled=show_progress) as progress:
        request.on_trial = progress.update

        def on_plan(plan: SmacPlan) -> None:
            if not quiet:
                for note in plan.notes:
                    err.print(f"[dim]note:[/] {note}")
            progress.set_total(int(plan.scenario["n_trials"]))

        request.on_plan = on_plan
        outcome = SmacTarget().run(config, base_dir, run_dir, request)
    results = outcome.results
    if not quiet:
        for note in outcome.notes[len(outcome.plan.notes) :]:
            err.print(f"[yellow]note:[/] {note}")
        output_console().print(summary_table(results, run_dir))
    if results.status == "interrupted":
        err.print(
            f"[yellow]stopped by {results.stop_reason}[/]: everything finished is in {run_dir}; "
            "run the same command again to resume"
        )
        raise typer.Exit(143 if results.stop_reason == "SIGTERM" else 130)


class _Progress:
    """A rich progress bar on stderr: trials done of n_trials, elapsed time, best score so far."""

    def __init__(self, console: Console, *, enabled: bool):
        self._enabled = enabled
        self._console = console
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> _Progress:
        if self._enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("trials"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[best]}"),
                console=self._console,
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("search", total=None, best="")
        return self

    def set_total(self, total: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)

    def update(self, record: TrialRecord, state: SearchState) -> None:
        if self._bar is None or self._task is None:
            return
        best = "" if record.incumbent_score is None else f"best {record.incumbent_score:.4g}"
        self._bar.update(self._task, completed=record.trial, best=best)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _run_autosklearn(config: Config, base_dir: Path, run_dir: Path, request: RunRequest, *, quiet: bool) -> None:
    """``metaconf run`` for ``tool: auto-sklearn``: a time bar on stderr (its search is bounded by time), the
    summary table and the leaderboard, exit codes like a SMAC run (130 / 143 when stopped by SIGINT / SIGTERM)."""
    from rich.console import Console
    from rich.markup import escape

    from metaconf.report.summary import output_console, summary_table
    from metaconf.targets.autosklearn.runner import LEADERBOARD_FILE
    from metaconf.targets.autosklearn.target import AutoSklearnTarget

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    show = not quiet and err.is_terminal
    if not quiet:
        err.print(f"[bold]metaconf run[/]: auto-sklearn on {escape(str(run_dir))}")
    with _TimeProgress(err, enabled=show) as bar:
        outcome = AutoSklearnTarget().run(config, base_dir, run_dir, request, on_trial=bar.trial, on_phase=bar.phase)
    results = outcome.results
    if not quiet:
        for note in outcome.notes:
            err.print(f"[dim]note:[/] {escape(note)}")
        output_console().print(summary_table(results, run_dir))
        err.print(f"leaderboard: {escape(str(run_dir / LEADERBOARD_FILE))} ({len(outcome.leaderboard)} models)")
    if results.status == "interrupted":
        err.print(
            f"[yellow]stopped by {results.stop_reason}[/]: the ensemble of what finished is scored and saved in "
            f"{escape(str(run_dir))}"
        )
        raise typer.Exit(143 if results.stop_reason == "SIGTERM" else 130)


class _TimeProgress:
    """A rich progress bar on stderr that fills with wall time over auto-sklearn's budget (its search is bounded
    by time, not by a number of runs), with the phase, the runs finished and the best score so far."""

    def __init__(self, console: Any, *, enabled: bool):
        self._console, self._enabled = console, enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _TimeProgress:
        if self._enabled:
            from rich.progress import BarColumn, Progress, ProgressBar, Task, TextColumn, TimeElapsedColumn

            class TimeBarColumn(BarColumn):
                def render(self, task: Task) -> ProgressBar:
                    budget, started = task.fields.get("budget"), task.fields.get("search_started")
                    done = None if started is None else min(time.monotonic() - started, budget)
                    return ProgressBar(
                        total=budget if done is not None else None,
                        completed=done or 0.0,
                        width=None if self.bar_width is None else max(1, self.bar_width),
                        pulse=done is None,
                        animation_time=task.get_time(),
                        style=self.style,
                        complete_style=self.complete_style,
                        finished_style=self.finished_style,
                        pulse_style=self.pulse_style,
                    )

            self._bar = Progress(
                TextColumn("{task.description}"),
                TimeBarColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[runs]} runs {task.fields[best]}"),
                console=self._console,
            )
            self._bar.start()
            self._task = self._bar.add_task("starting", total=None, runs=0, best="", budget=None, search_started=None)
        return self

    def trial(self, record: TrialRecord, progress: SearchProgress) -> None:
        if self._bar is None:
            return
        best = "" if progress.best_score is None else f"best {progress.best_score:.4g}"
        self._bar.update(self._task, runs=record.trial, best=best, budget=progress.time_left_s)

    def phase(self, name: str, progress: SearchProgress) -> None:
        if self._bar is None:
            return
        self._bar.update(self._task, description=name, budget=progress.time_left_s)
        if name == "searching":
            self._bar.update(self._task, search_started=time.monotonic())

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
