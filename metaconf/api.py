"""metaconf's Python API: what the commands do, as functions that return typed objects and print nothing.

Example (``docs/api.md`` has the full one, which ``tests/test_api.py`` runs)::

    import metaconf

    suggestion = metaconf.suggest(demo="iris", budget="1m", output="iris.yaml")  # nothing is written
    open("iris.yaml", "w").write(suggestion.text)
    findings = metaconf.lint_config("iris.yaml")
    plan = metaconf.compile("iris.yaml")                                          # the SMAC3 calls
    results = metaconf.run("iris.yaml", save_model=True)                          # into runs/iris

(``lint_config`` and ``read_run`` are not called ``lint`` and ``report``: those names are metaconf's subpackages.)

Errors in the user's input raise :class:`metaconf.errors.MetaconfError` (``message`` and ``hint``) or
:class:`metaconf.errors.DataError`, with the same messages the commands print; nothing here calls ``sys.exit``.
Heavy libraries (scikit-learn, SMAC3, pandas) are imported when a function runs, not by ``import metaconf``.
``docs/api.md`` documents every function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from metaconf.advise.suggest import Suggestion
    from metaconf.config.loader import Document
    from metaconf.config.model import Config
    from metaconf.lint.finding import Finding
    from metaconf.report.results import RunResults, TrialRecord
    from metaconf.targets.autosklearn.compile import AutoSklearnPlan
    from metaconf.targets.saved_model import Predictions
    from metaconf.targets.smac.compile import SmacPlan

__all__ = ["compile", "lint_config", "load_config", "predict", "read_run", "run", "suggest"]


def load_config(path: str | Path) -> Config:
    """Read and validate a config file (YAML; never runs code from it). A file that does not load or validate
    raises :class:`~metaconf.errors.UsageError` naming the file, line:col and field of the first problem."""
    return loaded_config(Path(path))[1]


def lint_config(
    path: str | Path,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    data: bool = False,
    trust: bool = False,
) -> list[Finding]:
    """The findings of `metaconf lint` for one config file (rules chosen by code, prefix or name like
    ``--select`` / ``--ignore``). ``data``: load the config's data for the data-aware rules; ``trust``: import
    the estimator a user space names (runs its code)."""
    from metaconf.lint.engine import LintOptions, lint_file

    options = LintOptions(select=select, ignore=ignore, data=data, trust=trust)
    return lint_file(Path(path), options)


def suggest(
    *,
    output: str | Path,
    budget: str | None = None,
    data: str | Path | None = None,
    demo: str | None = None,
    target: str | None = None,
    describe: str | None = None,
    task: str | None = None,
    cores: int | None = None,
    memory: str | None = None,
    tool: str | None = None,
    seed: int | None = None,
    metric: str | None = None,
    models: Sequence[str] | None = None,
    advisor: str = "rules",
    probe: bool = True,
    llm: Any = None,
    status: Callable[[str], Any] | None = None,
) -> Suggestion:
    """`metaconf suggest` without writing: the commented YAML (``.text``), the advice with every value's
    reason (``.advice``), lint's findings and the timings. ``output`` is where the config will live (relative
    data paths are written from it, and a config already there with costs measured on this machine is reused
    so that a rerun gives the same text). ``describe`` is the text itself or a file holding it. ``advisor``:
    ``rules``, ``auto`` or ``llm`` (``llm``: :class:`metaconf.advise.llm.LLMOptions`, the model and decoder);
    ``status(message)``: a context manager shown while a slow step runs."""
    from metaconf.advise.suggest import SuggestRequest, make_suggestion
    from metaconf.config.units import UnitError
    from metaconf.errors import UsageError

    request = SuggestRequest(
        output=Path(output),
        budget=budget,
        data=Path(data) if data is not None else None,
        demo=demo,
        target=target,
        task=task,
        cores=cores,
        memory=memory,
        describe=describe,
        tool=tool,
        seed=seed,
        probe=probe,
        metric=metric,
        models=list(models) if models else None,
        advisor=advisor,
        llm=llm,
        status=status,
    )
    try:
        return make_suggestion(request)
    except UnitError as error:  # a budget or memory the user wrote that does not read as one
        raise UsageError(str(error), "e.g. budget=\"20m\", memory=\"8GB\"") from None


def compile(config_path: str | Path, *, seed: int | None = None) -> SmacPlan | AutoSklearnPlan:
    """The calls `metaconf run` would make for a config (lint errors raise first): a
    :class:`~metaconf.targets.smac.compile.SmacPlan` (``.to_dict()``, ``.notes``) or auto-sklearn's plan."""
    from metaconf.targets.base import target_for
    from metaconf.targets.run_dir import RunRequest, apply_overrides, run_directory

    path = Path(config_path)
    config, base_dir = checked_config(path)
    config = apply_overrides(config, RunRequest(seed=seed))
    return target_for(config.tool).plan(config, base_dir, run_directory(config, path))  # type: ignore[return-value]


def run(
    config_path: str | Path,
    *,
    seed: int | None = None,
    save_model: bool = False,
    model_rows: str = "all",
    overwrite: bool = False,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    on_trial: Callable[[TrialRecord, Any], None] | None = None,
) -> RunResults:
    """`metaconf run` for a config file: lint, compile, search, write the run directory, return its results
    (what ``results.json`` holds). ``on_trial(record, state)`` is called after every SMAC trial.

    SMAC's results depend on the interpreter's hash seed: `metaconf run` runs with ``PYTHONHASHSEED=0``; start
    Python with it to reproduce a command-line run exactly. A run stopped by SIGINT / SIGTERM returns its
    results with ``status == "interrupted"``.
    """
    from metaconf.errors import UsageError
    from metaconf.targets.base import target_for
    from metaconf.targets.run_dir import RunRequest, apply_overrides, run_directory

    if overwrite and resume:
        raise UsageError("overwrite and resume exclude each other", "pass one of them")
    path = Path(config_path)
    config, base_dir = checked_config(path, trust=True)
    request = RunRequest(
        overwrite=overwrite,
        resume=resume,
        workers=workers,
        scheduler=scheduler,
        seed=seed,
        save_model=save_model,
        model_rows=model_rows,
        on_trial=on_trial,
    )
    config = apply_overrides(config, request)
    run_dir = run_directory(config, path)
    return target_for(config.tool).run(config, base_dir, run_dir, request).results


def read_run(run_dir: str | Path) -> RunResults:
    """The results of a run directory (finished, interrupted or failed; SMAC or auto-sklearn), as
    `metaconf report` reads them."""
    from metaconf.report.results import read_results

    return read_results(Path(run_dir))


def predict(run_dir: str | Path, data: pd.DataFrame | str | Path, *, proba: bool = False) -> Predictions:
    """Predict rows with the model a run saved (`metaconf run --save-model`): ``data`` is a DataFrame with the
    training columns or a CSV / Parquet / ARFF file; the result's ``.frame`` has one row per input row."""
    from metaconf.targets.predict import predict as predict_rows

    if isinstance(data, str | Path):
        from metaconf.data.load import _read_table

        frame = _read_table(Path(data))
        source = str(data)
    else:
        frame, source = data, "the data frame"
    return predict_rows(Path(run_dir), frame, proba=proba, source=source)


# ------------------------------------------------------------------------------- shared with the commands


def loaded_config(path: Path) -> tuple[Document, Config]:
    """The YAML document (values and their positions) and the validated config; the first problem raises
    :class:`~metaconf.errors.UsageError` with its file:line:col (`metaconf lint` lists them all)."""
    from metaconf.config.loader import LoadError, load_file
    from metaconf.errors import UsageError
    from metaconf.lint.engine import schema_problems

    if not path.exists():
        raise UsageError(f"`{path}` does not exist", "pass the path of a metaconf config (YAML)")
    try:
        document = load_file(path)
    except LoadError as error:
        raise UsageError(
            f"{path}:{error.span.line}:{error.span.col}: {error.message}", f"`metaconf lint {path}` shows every problem"
        ) from None
    parsed, problems = schema_problems(document.data)
    if parsed is None:
        first = problems[0]
        span = document.span(first.path, key=first.key)
        raise UsageError(
            f"{path}:{span.line}:{span.col}: {first.message}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            f"`metaconf lint {path}` lists every problem; fix them first",
        )
    return document, parsed


def checked_config(path: Path, *, trust: bool = False, on_findings: Callable[[list[Finding]], None] | None = None) -> tuple[Config, Path]:
    """Lint ``path`` (errors raise :class:`~metaconf.errors.UsageError` listing them) and load it; warnings go to
    ``on_findings`` (the CLI prints them). ``trust``: the run will import the estimator a user space names, so
    lint imports it too (from the config's directory, never from the working directory). Returns the config
    and the directory its relative paths start from."""
    from metaconf.config.loader import load_file
    from metaconf.config.model import Config
    from metaconf.errors import UsageError
    from metaconf.lint.engine import LintOptions, has_errors, lint_file

    if not path.exists():
        raise UsageError(f"`{path}` does not exist", "pass the path of a metaconf config (YAML)")
    if trust:
        from metaconf.space.user_code import prepare_run_import_path
        from metaconf.targets.smac.runner import is_command_process

        prepare_run_import_path(path.resolve().parent, command_process=is_command_process())
    findings = lint_file(path, LintOptions(trust=trust))
    if findings and on_findings is not None:
        on_findings(findings)
    if has_errors(findings):
        listed = "" if on_findings is not None else ": " + "; ".join(
            f"{f.code} at {f.pointer}: {f.message}" for f in findings if f.severity.value == "error"
        )
        raise UsageError(
            f"`{path}` has lint errors{' (listed above)' if on_findings is not None else listed}; nothing was run",
            f"fix them (`metaconf lint --fix {path}` fixes the safe ones) and run again",
        )
    document = load_file(path)
    return Config.model_validate(document.data), document.base_dir
