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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from ConfigSpace import ConfigurationSpace

    from metaconf.advise.llm import LLMOptions
    from metaconf.advise.suggest import Suggestion
    from metaconf.config.loader import Document
    from metaconf.config.model import Config
    from metaconf.data.load import Dataset
    from metaconf.lint.finding import Finding
    from metaconf.report.results import RunResults, TrialRecord
    from metaconf.targets.autosklearn.compile import AutoSklearnPlan
    from metaconf.targets.evaluate import Evaluator
    from metaconf.targets.metrics import MetricSpec
    from metaconf.targets.saved_model import Predictions
    from metaconf.targets.smac.compile import SmacPlan

__all__ = [
    "Backend",
    "Config",
    "LLMOptions",
    "LanguageModel",
    "Objective",
    "TrialCosts",
    "backend",
    "compile",
    "demos",
    "lint_config",
    "load_config",
    "load_data",
    "model_file",
    "objective",
    "open_llm",
    "parse_duration",
    "predict",
    "probe",
    "read_description",
    "read_run",
    "read_trials",
    "run",
    "score",
    "suggest",
]


def __getattr__(name: str) -> Any:
    """``Config`` (the validated config, a pydantic model) and ``LLMOptions`` load their modules only when they
    are asked for."""
    if name == "Config":
        from metaconf.config.model import Config

        return Config
    if name == "LLMOptions":  # suggest(llm=...): the model, backend, server and decoding of the LLM advisor
        from metaconf.advise.llm import LLMOptions

        return LLMOptions
    raise AttributeError(f"module 'metaconf.api' has no attribute {name!r}")


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
    config: str | Path | Config,
    *,
    base_dir: str | Path | None = None,
    run_dir: str | Path | None = None,
    seed: int | None = None,
    save_model: bool = False,
    model_rows: str = "all",
    overwrite: bool = False,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    on_trial: Callable[[TrialRecord, Any], None] | None = None,
    on_plan: Callable[[Any], None] | None = None,
) -> RunResults:
    """`metaconf run` for a config file or an in-memory :class:`~metaconf.config.model.Config`: lint,
    compile, search, write the run directory, return its results (what ``results.json`` holds).

    A file's relative paths start from its directory and its run directory is
    ``execution.output_dir / (execution.name or the file's stem)`` next to it. An in-memory config is linted
    like a file standing in ``base_dir`` (default: the working directory); its run directory is
    ``execution.output_dir / (execution.name or "run")`` under ``base_dir``. ``run_dir`` replaces either.
    ``on_trial(record, state)`` is called after every SMAC trial, ``on_plan(plan)`` once SMAC's calls are
    compiled, before the search starts.

    SMAC's results depend on the interpreter's hash seed: `metaconf run` runs with ``PYTHONHASHSEED=0``; start
    Python with it to reproduce a command-line run exactly. A run stopped by SIGINT / SIGTERM returns its
    results with ``status == "interrupted"``.
    """
    from metaconf.errors import UsageError
    from metaconf.targets.base import target_for
    from metaconf.targets.run_dir import RunRequest, apply_overrides, run_directory

    if overwrite and resume:
        raise UsageError("overwrite and resume exclude each other", "pass one of them")
    if isinstance(config, str | Path):
        path = Path(config)
        checked, base = checked_config(path, trust=True)
    else:
        base = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
        path = base / "run.yaml"  # names the default run directory: execution.name or `run`
        checked = checked_model(config, base, trust=True)
    request = RunRequest(
        overwrite=overwrite,
        resume=resume,
        workers=workers,
        scheduler=scheduler,
        seed=seed,
        save_model=save_model,
        model_rows=model_rows,
        on_trial=on_trial,
        on_plan=on_plan,
    )
    checked = apply_overrides(checked, request)
    directory = Path(run_dir).resolve() if run_dir is not None else run_directory(checked, path)
    return target_for(checked.tool).run(checked, base, directory, request).results


def read_run(run_dir: str | Path) -> RunResults:
    """The results of a run directory (finished, interrupted or failed; SMAC or auto-sklearn), as
    `metaconf report` reads them."""
    from metaconf.report.results import read_results

    return read_results(Path(run_dir))


def read_trials(run_dir: str | Path) -> list[TrialRecord]:
    """Every trial of a run directory in the order it finished (``trajectory.csv``: cost, status, seconds since
    the search started, the best cost so far, how it was proposed). The config as it ran is
    ``run_dir / "config.yaml"`` (``load_config`` reads it)."""
    from metaconf.report.results import read_trajectory

    return read_trajectory(Path(run_dir))


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


def parse_duration(value: str | float) -> float:
    """The seconds a duration means, read as configs and ``--budget`` read it (``"90s"``, ``"5m"``,
    ``"1h30m"``, a bare number of seconds); a value that is not one raises ``ValueError``."""
    from metaconf.config.units import parse_duration as parse

    return parse(value)


@dataclass(frozen=True)
class TrialCosts:
    """What one fit of each model family costs on this machine, as `metaconf suggest` measures it (made by
    :func:`probe`)."""

    seconds_per_fit: dict[str, float]
    """Family -> seconds of one default fit on all rows, as the advisor uses them: the cost model x this
    machine's factor, moved towards the family's own measurement where the probe made one."""
    machine_factor: float
    """How much slower (> 1) or faster this machine is than the cost model's reference machine (the median
    measured / modelled seconds)."""
    measured: tuple[str, ...]
    """The families the probe fitted (the others come from the cost model)."""
    probe: Any
    """Every timing (what `metaconf profile --probe` prints): rows, limit, measurements per family."""


def probe(
    config: str | Path | Config,
    *,
    base_dir: str | Path | None = None,
    limit: str | float = "30s",
    families: Sequence[str] | None = None,
    seed: int = 0,
) -> TrialCosts:
    """Measure what one fit of each model family costs on the data a config names (`metaconf profile
    --probe`): default configurations fitted on growing subsamples within ``limit`` of CPU time, turned into
    the costs `metaconf suggest` plans with. ``families``: default, every built-in family of the task."""
    from metaconf.advise.inputs import probe_costs
    from metaconf.data.load import load_dataset
    from metaconf.profile.profile import profile_dataset
    from metaconf.space.builtin import families_for

    parsed, base = _config_and_base(config, base_dir)
    dataset = load_dataset(parsed, base)
    task_type = parsed.task.type.value if "type" in parsed.task.model_fields_set else dataset.task_type
    names = list(families) if families else [f.value for f in families_for(task_type)]
    profile = profile_dataset(dataset, seed=seed)
    result, model = probe_costs(
        dataset, profile, names, task_type=task_type, limit_s=parse_duration(limit), seed=seed
    )
    return TrialCosts(dict(model.fit_seconds), float(model.machine_factor), result.measured, result)


class LanguageModel:
    """A local LLM (or an OpenAI-compatible server) loaded once to read task descriptions, as `metaconf
    suggest --advisor auto|llm` uses it. Made by :func:`open_llm`; pass it to :func:`read_description`."""

    def __init__(self, extractor: Any, load_seconds: float) -> None:
        self._extractor = extractor
        self.load_seconds = load_seconds
        """Seconds it took to load the model (or connect)."""

    @property
    def identity(self) -> dict[str, str]:
        """Which model and backend, with their hashes and versions (what provenance records)."""
        return dict(self._extractor.identity())

    def read(
        self, text: str, *, classes: Sequence[Any] | None = None, task: str | None = None, target: str | None = None
    ) -> Any:
        """The model's own reading of ``text``, without the rule parser's (to compare models): ``.facts``
        (cost matrix, positive class, task type, wishes ...), ``.answers`` (the model's raw answers),
        ``.seconds``. ``classes``: the target's classes as the data spells them (None for regression)."""
        return self._extractor.extract(text, classes=classes, task=task, target=target)


def open_llm(
    model: str | Path | None = None,
    *,
    server: str | None = None,
    backend: str | None = None,
    threads: int | None = None,
    seed: int = 0,
    timeout_s: float = 60.0,
) -> LanguageModel:
    """Load the model that reads descriptions: ``model`` a name `metaconf models` lists or a GGUF file (None:
    the best one installed), or connect to ``server``. ``threads``: llama.cpp's threads (default: what
    metaconf picks for this machine). Raises :class:`~metaconf.advise.llm.LLMError` when none is usable."""
    import time

    from metaconf.advise.llm.extract import Extractor

    started = time.perf_counter()
    extractor = Extractor.open(model, server=server, backend=backend, threads=threads, seed=seed, timeout_s=timeout_s)
    return LanguageModel(extractor, time.perf_counter() - started)


def model_file(model: str | Path | None = None) -> Path | None:
    """The GGUF file of a model that reads descriptions (a name `metaconf models` lists, a file, or None: the
    best one installed), for tools that load it themselves (llama-cpp-python). Raises
    :class:`~metaconf.advise.llm.LLMError` when none is installed."""
    from metaconf.advise.llm.models import resolve_model

    return resolve_model(model, None).path


def read_description(
    text: str,
    *,
    classes: Sequence[Any] | None = None,
    columns: Sequence[str] | None = None,
    task: str | None = None,
    target: str | None = None,
    llm: LanguageModel | None = None,
) -> Any:
    """What `metaconf suggest` reads from a task description: the rule parser's reading, cross-checked with
    ``llm``'s when one is given (`suggest --advisor auto`). Returns ``.facts`` (what the advice uses),
    ``.sources`` (which reader each fact came from), ``.notes`` and, with an LLM, ``.llm`` (its reading).
    ``classes`` / ``columns`` / ``target``: the data's, so that labels and columns the text names are
    matched; ``task``: ``classification`` or ``regression`` when known."""
    from metaconf.advise.reading import read_description as read

    return read(
        text, classes=classes, columns=columns, task=task, target=target,
        extractor=llm._extractor if llm is not None else None,
    )  # fmt: skip


def demos() -> dict[str, str]:
    """The demo datasets (``demo=`` of :func:`suggest`, ``data.demo`` of a config): name -> one line saying
    what it is (and which package it needs when that is not installed)."""
    from metaconf.data.load import list_demos

    return list_demos()


def load_data(config: str | Path | Config, *, base_dir: str | Path | None = None) -> Dataset:
    """The data a config names (a file path or an in-memory config, whose relative paths start from
    ``base_dir``, default the working directory), as the run loads it: ``.X`` (features), ``.y`` (target),
    ``.task_type``, ``.name``. Raises :class:`~metaconf.errors.DataError` when it does not load."""
    from metaconf.data.load import load_dataset

    parsed, base = _config_and_base(config, base_dir)
    return load_dataset(parsed, base)


class Objective:
    """What `metaconf run` hands SMAC3 for a config, to drive a search yourself: the ConfigSpace search space
    (``.space``), the metric (``.metric``: ``.name``, ``.greater_is_better``, ``.worst_cost``,
    ``.score(cost)``) and the cost of one configuration, measured the way the run measures it (the config's
    resampling on the search rows, the test rows held out, the decision threshold tuned where the metric
    needs one). Made by :func:`objective`."""

    def __init__(self, evaluator: Evaluator, space: ConfigurationSpace) -> None:
        self._evaluator = evaluator
        self.space = space

    @property
    def metric(self) -> MetricSpec:
        return self._evaluator.metric

    @property
    def seed(self) -> int:
        """The seed of the test split, the validation splits and the subsamples."""
        return self._evaluator.seed

    def cost(self, values: Any, *, seed: int = 0, budget: float | None = None) -> float:
        """The cost SMAC sees for a configuration (a ``Configuration`` or a dict of hyperparameter values):
        lower is better, clipped to the metric's range; ``seed`` seeds the estimator, ``budget`` (0-1] is the
        fidelity of a multi-fidelity run. A configuration that fails costs ``metric.worst_cost``."""
        return self._evaluator.cost(dict(values), seed=seed, budget=budget)

    def final_model(self, values: Any, *, seed: int = 0, validation_cost: float | None = None) -> Any:
        """The configuration refitted on every search row, as `metaconf run` refits its incumbent (a
        scikit-learn pipeline; with ``validation_cost``, a refit that diverges from it is retried with other
        seeds, as the run does)."""
        return self._evaluator.final_model(dict(values), seed=seed, validation_cost=validation_cost).model

    def test_cost(self, model: Any) -> float | None:
        """A model's cost on the held-out test rows (None when the config holds none out)."""
        return self._evaluator.test_cost(model)


def objective(config: str | Path | Config, *, base_dir: str | Path | None = None, seed: int | None = None) -> Objective:
    """The :class:`Objective` of a config: its space and the cost of a configuration on its data. ``seed``
    (default ``execution.seed``, else 0) fixes the splits as ``run --seed`` does."""
    from metaconf.data.load import load_dataset
    from metaconf.space.builtin import build_space
    from metaconf.targets.evaluate import Evaluator
    from metaconf.targets.run_dir import RunRequest, apply_overrides

    parsed, base = _config_and_base(config, base_dir)
    parsed = apply_overrides(parsed, RunRequest(seed=seed))
    evaluator = Evaluator(parsed, load_dataset(parsed, base), seed=int(parsed.execution.seed or 0))
    return Objective(evaluator, build_space(parsed, base))


def score(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    config: str | Path | Config | None = None,
    metric: str | None = None,
    proba: Any = None,
    classes: Sequence[Any] | None = None,
    labels: Sequence[Any] | None = None,
) -> float | None:
    """Score any model's predictions as metaconf scores its test rows, on the metric's own scale (accuracy,
    AUC, R², RMSE, expected cost per row): with a config's metric, its positive label and cost matrix
    (``config``), or with the metric named ``metric`` (``balanced_accuracy``, ``r2``, ...; it also overrides
    the config's). Under a cost matrix the predictions are scored as the decisions they are.

    ``proba``: class probabilities with columns in the order of ``classes`` (``roc_auc`` and ``log_loss``
    need them: without, None is returned); ``labels``: the training labels the metric is resolved on (the
    classes, and the default positive label: the minority class; default ``y_true``). Labels are matched by
    value, so ``1``, ``1.0`` and ``"1"`` are the same class."""
    import numpy as np
    import pandas as pd

    from metaconf.config.model import Config
    from metaconf.data.labels import label_key, normalize_labels
    from metaconf.errors import UsageError
    from metaconf.targets.metrics import metric_for

    if config is None and metric is None:
        raise UsageError("score needs a config or a metric", "pass config=... or metric=\"balanced_accuracy\"")
    parsed = _config_and_base(config, None)[0] if config is not None else None
    if metric is not None:
        regression = metric in ("rmse", "mae", "r2")
        data = parsed.model_dump(mode="json", exclude_unset=True) if parsed is not None else {}
        task = dict(data.get("task") or {})
        task.update(metric=metric, type="regression" if regression else "classification")
        if not regression and metric != "expected_cost":
            task.pop("cost_matrix", None)
        parsed = Config.model_validate({**data, "task": task})
    assert parsed is not None
    known = list(labels if labels is not None else y_true)
    if parsed.task.type.value != "classification":
        spec = metric_for(parsed, None, pd.Series(known, dtype=float))
        return float(spec.score(spec.cost([float(v) for v in y_true], [float(v) for v in y_pred], clip=False)))
    keys = normalize_labels(pd.Series(known).map(label_key))
    spec = _keyed(metric_for(parsed, sorted(keys.unique().tolist()), keys))
    truth = [label_key(v) for v in y_true]
    predicted = [label_key(v) for v in y_pred]
    if spec.cost_matrix is not None:  # the decisions the model made, not a Bayes rule applied for it
        return float(spec.score(spec.cost(truth, predicted, clip=False)))
    aligned = None
    if proba is not None and classes is not None:
        column = {label_key(label): i for i, label in enumerate(classes)}
        if all(c in column for c in spec.classes or ()):
            aligned = np.asarray(proba, dtype=float)[:, [column[c] for c in spec.classes or ()]]
    if spec.needs_proba and aligned is None:
        return None
    return float(spec.score(spec.cost(truth, predicted, aligned, clip=False)))


def _keyed(spec: MetricSpec) -> MetricSpec:
    """``spec`` with its classes and positive label as the strings labels are matched by."""
    import dataclasses

    from metaconf.data.labels import label_key

    return dataclasses.replace(
        spec,
        classes=None if spec.classes is None else tuple(label_key(c) for c in spec.classes),
        positive_label=None if spec.positive_label is None else label_key(spec.positive_label),
    )


@dataclass(frozen=True)
class Backend:
    """An AutoML tool's environment, as `metaconf backends list` reports it."""

    name: str
    ready: bool
    python: Path | None
    """The interpreter that runs the tool (auto-sklearn: its own Python 3.9 environment)."""
    versions: dict[str, str]
    environment: dict[str, str]
    """The environment variables its processes run with (one BLAS / OpenMP thread; no PYTHONPATH leaking in)."""
    problem: str | None = None
    fix: str | None = None


def backend(name: str) -> Backend:
    """The environment of ``smac`` (metaconf's own) or ``auto-sklearn`` (a managed virtualenv that
    `metaconf backends install auto-sklearn` creates)."""
    import os
    import sys
    from importlib.metadata import version

    from metaconf.errors import UsageError

    if name == "smac":
        versions = {package: version(package) for package in ("smac", "ConfigSpace", "scikit-learn")}
        return Backend(name, True, Path(sys.executable), versions, dict(os.environ))
    if name == "auto-sklearn":
        from metaconf.targets.autosklearn.environment import env_dir, inspect_env, worker_environment

        status = inspect_env(env_dir())
        versions = dict(status.versions or (status.marker or {}).get("versions") or {})
        return Backend(
            name, status.ready, status.python if status.ready else None, versions, worker_environment(),
            status.problem, status.fix,
        )  # fmt: skip
    raise UsageError(f"there is no backend `{name}`", "`smac` or `auto-sklearn`")


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
        _import_user_code_from(path.resolve().parent)
    findings = lint_file(path, LintOptions(trust=trust))
    if findings and on_findings is not None:
        on_findings(findings)
    if has_errors(findings):
        listed = " (listed above)" if on_findings is not None else f": {_lint_errors(findings)}"
        raise UsageError(
            f"`{path}` has lint errors{listed}; nothing was run",
            f"fix them (`metaconf lint --fix {path}` fixes the safe ones) and run again",
        )
    document = load_file(path)
    return Config.model_validate(document.data), document.base_dir


def checked_model(config: Config, base_dir: Path, *, trust: bool = False) -> Config:
    """:func:`checked_config` for an in-memory config: linted as the YAML it writes, standing in ``base_dir``
    (errors raise :class:`~metaconf.errors.UsageError` listing them); returns it validated again.

    The YAML holds every value that was set or differs from its default: pydantic counts a field as set only
    when the model that holds it was built with it, so ``config.stopping.n_trials = 7`` on a config whose
    ``stopping`` was never written would otherwise be lost."""
    import yaml

    from metaconf.config.loader import load_text
    from metaconf.config.model import Config
    from metaconf.errors import UsageError
    from metaconf.lint.catalog import select_rules
    from metaconf.lint.engine import has_errors, lint_document

    written = config.model_dump(mode="json", exclude_unset=True)
    data = _union(written, config.model_dump(mode="json", exclude_defaults=True))
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if trust:
        _import_user_code_from(base_dir)
    document = load_text(text, str(base_dir / "<in-memory config>"))
    findings = lint_document(document, select_rules(None, None), trust=trust)
    if has_errors(findings):
        raise UsageError(
            f"the config has lint errors; nothing was run: {_lint_errors(findings)}",
            "fix them in the config and run again",
        )
    return Config.model_validate(document.data)


def _import_user_code_from(base_dir: Path) -> None:
    """The run imports the estimator a user space names from the config's directory, never from the working
    directory: lint imports it from there too."""
    from metaconf.space.user_code import prepare_run_import_path
    from metaconf.targets.smac.runner import is_command_process

    prepare_run_import_path(base_dir, command_process=is_command_process())


def _lint_errors(findings: list[Finding]) -> str:
    """The error findings in one line: ``MC606 at $.task.metric: ...; ...``."""
    return "; ".join(f"{f.code} at {f.pointer}: {f.message}" for f in findings if f.severity.value == "error")


def _union(first: Any, second: Any) -> Any:
    """Two dumps of one model merged: every key of either (their values agree where both have one)."""
    if isinstance(first, dict) and isinstance(second, dict):
        return {key: _union(first.get(key), second.get(key)) if key in first and key in second
                else (first[key] if key in first else second[key]) for key in {**first, **second}}  # fmt: skip
    return first


def _config_and_base(config: str | Path | Config, base_dir: str | Path | None) -> tuple[Config, Path]:
    """A config (a file, loaded and validated, whose paths start from its directory; or a Config, whose paths
    start from ``base_dir``, default the working directory) and the directory its relative paths start from."""
    if isinstance(config, str | Path):
        path = Path(config)
        return load_config(path), path.resolve().parent
    return config, Path(base_dir).resolve() if base_dir is not None else Path.cwd()
