"""The run directory: one format for every AutoML target (SMAC3 in process, auto-sklearn in a subprocess).

A run directory holds everything a finished, interrupted or failed run produced, so that ``metaconf report``
(and a person, and DeepCAVE) can read it later without the config file or the data:

``config.yaml``
    The *resolved* config: the user's config with every default filled in and the effective seed and metric
    written out (``Config.model_dump(mode="json")``). Re-running it reproduces the run.
``results.json``
    The run's outcome, written atomically and rewritten as the run goes on (so an interrupted run still has
    one)::

        {"format": 1, "tool": "smac" | "auto-sklearn",
         "status": "running" | "finished" | "interrupted" | "failed",
         "stop_reason": "n_trials reached" | "walltime reached" | "plateau ..." | "SIGINT" | ... | null,
         "error": null | "message of the failure",
         "seed": 0, "config_sha256": "<sha256 of the canonical config JSON>",
         "metric": {"name": "accuracy", "greater_is_better": true},
         "incumbent": {"config": {...}, "cost": 0.03, "validation_score": 0.97,
                       "test_score": 0.95, "test_cost": 0.05, "estimator_seed": 209652396,
                       "decision_threshold": {"value": 0.23, "positive": "bad", "serves": "f1", ...},
                       "model_rows": {"rows": 750, "fitted_on": "search and test rows", "why": "..."}} | null,
         "trials": {"total": 20, "by_status": {"success": 18, "crashed": 1, "timeout": 1}},
         "time": {"total_s": 12.3, "search_s": 10.1, "started": "<ISO 8601 UTC>", "finished": "<...>" | null},
         "versions": {"metaconf": "0.1.0", "python": "3.11.9", "smac": "2.4.1", ...},
         "dataset": {"name": "iris", "source": "demo:iris", "task_type": "classification",
                     "n_rows": 150, "n_features": 4}}

    Costs are minimised (``1 - accuracy``, ``rmse``); scores are in the metric's own direction. Every number
    is a plain JSON number: numpy scalars are converted with ``.item()``, non-finite floats become ``null``.
``trajectory.csv``
    One row per finished trial, in the order trials finished: ``trial`` (1-based), ``walltime_s`` (seconds
    since the search started), ``budget`` (fidelity budget, empty for full-fidelity optimisers), ``cost``,
    ``status`` (``success``, ``crashed``, ``timeout``, ``memoryout``, ...), ``incumbent_cost`` and
    ``incumbent_score`` (the best so far after this trial), ``origin`` (how the configuration was proposed:
    ``initial design``, ``warm start``, ``acquisition``, ``random``; may be empty).
``trajectory.png``
    The best-so-far score over wall time (:func:`plot_trajectories`).
``model.joblib``
    Optional (``metaconf run --save-model``): the incumbent refitted, by default on every row of the data
    (search and test rows, once the test score is measured on the search-rows fit; ``--model-rows search``
    keeps the very model the test score describes). ``incumbent.model_rows`` says which.
``model.json``
    Written with the model: the training columns (names, dtypes, what preprocessing made of them), the
    target, the classes, and what ``metaconf predict`` needs to load the model
    (:mod:`metaconf.targets.saved_model`).
``smac/`` (or the tool's own directory)
    The tool's own output, untouched (SMAC3 writes ``<name>/<seed>/runhistory.json`` etc. there, which DeepCAVE
    reads).

Writers: :func:`write_config`, :func:`write_results` (results.json + trajectory.csv + optionally the plot).
Readers: :func:`read_results`, :func:`read_trajectory`. :func:`plot_trajectories` draws one or several runs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import platform
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from metaconf.errors import UsageError
from metaconf.io import atomic_path, atomic_write_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from metaconf.config.model import Config

RESULTS_FORMAT = 1
CONFIG_FILE = "config.yaml"
RESULTS_FILE = "results.json"
TRAJECTORY_FILE = "trajectory.csv"
PLOT_FILE = "trajectory.png"
MODEL_FILE = "model.joblib"
MODEL_SCHEMA_FILE = "model.json"
SMAC_DIR = "smac"

TRAJECTORY_COLUMNS = (
    "trial",
    "walltime_s",
    "budget",
    "cost",
    "status",
    "incumbent_cost",
    "incumbent_score",
    "origin",
)

RunStatus = Literal["running", "finished", "interrupted", "failed"]
RUN_STATUSES: tuple[str, ...] = ("running", "finished", "interrupted", "failed")

# Fields that do not change what a run computes: editing them must not force a new run directory.
_HASH_EXCLUDED_TOP = ("provenance",)
_HASH_EXCLUDED_EXECUTION = ("on_existing", "output_dir", "name")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: numpy scalars via ``.item()``, arrays as lists, non-finite floats as None.

    SMAC hands back sampled values as ``np.str_`` / ``np.float64`` / ``np.False_``; ``json.dumps`` and
    ``yaml.safe_dump`` refuse some of them and silently mangle none, so everything written goes through here.
    """
    if isinstance(value, Enum):
        return jsonable(value.value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return jsonable(value.item())
    if hasattr(value, "tolist") and callable(value.tolist):
        return jsonable(value.tolist())
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} to results.json: {value!r}")


def canonical_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no whitespace) of ``value``: the input of every identity hash."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha256_of(value: Any) -> str:
    """sha256 hex digest of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode("ascii")).hexdigest()


def resolved_config_data(config: Config) -> dict[str, Any]:
    """The config as JSON data, with every default filled in (what ``config.yaml`` holds)."""
    return config.model_dump(mode="json")


def config_sha256(config: Config) -> str:
    """Identity of what a config computes, for resume decisions.

    Provenance (who chose a value, and why) and where the output goes (`execution.output_dir`, `name`,
    `on_existing`) are left out: changing them does not change the run, so it must not block a resume. A
    setting added later is left out at its default, so a run made before it existed still resumes.
    """
    data = resolved_config_data(config)
    for key in _HASH_EXCLUDED_TOP:
        data.pop(key, None)
    execution = dict(data.get("execution") or {})
    for key in _HASH_EXCLUDED_EXECUTION:
        execution.pop(key, None)
    data["execution"] = execution
    task = dict(data.get("task") or {})
    if task.get("decision_threshold") == "auto":  # the default, and what runs before the setting existed did
        task.pop("decision_threshold")
    data["task"] = task
    resampling = dict(data.get("resampling") or {})
    # which evaluated configuration is kept is decided after the search: the search is the same at any margin
    resampling.pop("selection_margin", None)
    data["resampling"] = resampling
    return sha256_of(data)


def utc_now() -> str:
    """The current time as ISO 8601 UTC with seconds, e.g. ``2026-11-26T11:20:05Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def library_versions(*names: str) -> dict[str, str]:
    """Versions of metaconf, Python and the named distributions that are installed (missing ones skipped)."""
    from importlib import metadata

    from metaconf import __version__

    versions = {"metaconf": __version__, "python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@dataclass
class TrialRecord:
    """One finished trial, as a row of ``trajectory.csv``."""

    trial: int
    """1-based position in the order trials finished."""
    walltime_s: float
    """Seconds since the search started when the trial finished."""
    cost: float | None
    """The trial's cost (None when the tool reported none)."""
    status: str
    """``success``, ``crashed``, ``timeout``, ``memoryout``, ``stopped`` ..."""
    incumbent_cost: float | None
    """Best cost so far, after this trial."""
    incumbent_score: float | None
    """Best cost so far, as a score in the metric's own direction."""
    budget: float | None = None
    """Fidelity budget of the trial; None for full-fidelity optimisers."""
    origin: str = ""
    """How the configuration was proposed (``initial design``, ``warm start``, ``acquisition``, ...)."""


@dataclass
class Incumbent:
    """The best configuration found and how well it does."""

    config: dict[str, Any]
    cost: float | None
    validation_score: float | None = None
    test_score: float | None = None
    test_cost: float | None = None
    estimator_seed: int | None = None
    """The estimator seed of the trial that scored ``cost``; the validation and test scores reuse it, so they
    describe the very model the search selected (SMAC passes its own seeds, not ``execution.seed``)."""
    decision_threshold: dict[str, Any] | None = None
    """Binary tasks: the threshold the saved model predicts with, what it serves and why
    (:meth:`metaconf.targets.threshold.Threshold.to_dict`)."""
    model_rows: dict[str, Any] | None = None
    """``--save-model``: the rows the saved model was fitted on (``rows``, ``fitted_on``: ``search and test
    rows`` or ``search rows``) and ``why``."""
    selection: dict[str, Any] | None = None
    """Set when ``resampling.selection_margin`` kept another configuration than the one with the lowest
    validation cost: that one as ``lowest_cost_config`` and ``lowest_cost``, the ``margin`` in cost units it was
    held to, and ``why``."""


@dataclass
class RunResults:
    """The content of ``results.json`` (see the module docstring for the format)."""

    tool: str
    status: RunStatus
    seed: int | None
    config_sha256: str
    metric_name: str
    greater_is_better: bool
    started: str
    incumbent: Incumbent | None = None
    trials_by_status: dict[str, int] = field(default_factory=dict)
    total_s: float | None = None
    search_s: float | None = None
    finished: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    stop_reason: str | None = None
    error: str | None = None

    @property
    def n_trials(self) -> int:
        return sum(self.trials_by_status.values())

    def to_dict(self) -> dict[str, Any]:
        """The ``results.json`` document."""
        incumbent = None
        if self.incumbent is not None:
            incumbent = {
                "config": self.incumbent.config,
                "cost": self.incumbent.cost,
                "validation_score": self.incumbent.validation_score,
                "test_score": self.incumbent.test_score,
                "test_cost": self.incumbent.test_cost,
                "estimator_seed": self.incumbent.estimator_seed,
            }
            if self.incumbent.decision_threshold is not None:
                incumbent["decision_threshold"] = self.incumbent.decision_threshold
            if self.incumbent.model_rows is not None:
                incumbent["model_rows"] = self.incumbent.model_rows
            if self.incumbent.selection is not None:
                incumbent["selection"] = self.incumbent.selection
        return jsonable(
            {
                "format": RESULTS_FORMAT,
                "tool": self.tool,
                "status": self.status,
                "stop_reason": self.stop_reason,
                "error": self.error,
                "seed": self.seed,
                "config_sha256": self.config_sha256,
                "metric": {"name": self.metric_name, "greater_is_better": self.greater_is_better},
                "incumbent": incumbent,
                "trials": {"total": self.n_trials, "by_status": dict(sorted(self.trials_by_status.items()))},
                "time": {
                    "total_s": self.total_s,
                    "search_s": self.search_s,
                    "started": self.started,
                    "finished": self.finished,
                },
                "versions": self.versions,
                "dataset": self.dataset,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = RESULTS_FILE) -> RunResults:
        """Parse a ``results.json`` document; a wrong shape raises :class:`UsageError` naming the field."""

        def need(mapping: Any, key: str, where: str) -> Any:
            if not isinstance(mapping, Mapping) or key not in mapping:
                raise UsageError(
                    f"{source}: missing field `{where}{key}`",
                    "the run directory is damaged or was not written by metaconf",
                )
            return mapping[key]

        version = need(data, "format", "")
        if version != RESULTS_FORMAT:
            raise UsageError(
                f"{source}: results format {version!r} is not supported (this metaconf reads format {RESULTS_FORMAT})",
                "re-run it with this metaconf version, or use the metaconf version that wrote it",
            )
        status = need(data, "status", "")
        if status not in RUN_STATUSES:
            raise UsageError(
                f"{source}: `status` must be one of {', '.join(RUN_STATUSES)}. Got {status!r} instead."
            )
        metric = need(data, "metric", "")
        trials = need(data, "trials", "")
        timing = need(data, "time", "")
        raw_incumbent = data.get("incumbent")
        incumbent = None
        if isinstance(raw_incumbent, Mapping):
            incumbent = Incumbent(
                config=dict(raw_incumbent.get("config") or {}),
                cost=raw_incumbent.get("cost"),
                validation_score=raw_incumbent.get("validation_score"),
                test_score=raw_incumbent.get("test_score"),
                test_cost=raw_incumbent.get("test_cost"),
                estimator_seed=raw_incumbent.get("estimator_seed"),
                decision_threshold=raw_incumbent.get("decision_threshold"),
                model_rows=raw_incumbent.get("model_rows"),
                selection=raw_incumbent.get("selection"),
            )
        return cls(
            tool=str(need(data, "tool", "")),
            status=status,
            seed=data.get("seed"),
            config_sha256=str(need(data, "config_sha256", "")),
            metric_name=str(need(metric, "name", "metric.")),
            greater_is_better=bool(need(metric, "greater_is_better", "metric.")),
            started=str(need(timing, "started", "time.")),
            incumbent=incumbent,
            trials_by_status={str(k): int(v) for k, v in dict(need(trials, "by_status", "trials.")).items()},
            total_s=timing.get("total_s"),
            search_s=timing.get("search_s"),
            finished=timing.get("finished"),
            versions=dict(data.get("versions") or {}),
            dataset=dict(data.get("dataset") or {}),
            stop_reason=data.get("stop_reason"),
            error=data.get("error"),
        )


def count_statuses(trials: Iterable[TrialRecord]) -> dict[str, int]:
    """Trials per status, e.g. ``{"success": 18, "crashed": 2}``."""
    return dict(Counter(trial.status for trial in trials))


def write_config(run_dir: str | Path, config: Config) -> Path:
    """Write the resolved config to ``run_dir/config.yaml`` (replacing an older one)."""
    import yaml

    text = yaml.safe_dump(jsonable(resolved_config_data(config)), sort_keys=False, allow_unicode=True)
    header = "# The resolved config of this run: every default filled in. `metaconf run` it to reproduce.\n"
    return atomic_write_text(Path(run_dir) / CONFIG_FILE, header + text, force=True)


def trajectory_csv(trials: Sequence[TrialRecord]) -> str:
    """The text of ``trajectory.csv`` for ``trials``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TRAJECTORY_COLUMNS)
    for t in trials:
        writer.writerow(
            [
                t.trial,
                _fmt(t.walltime_s),
                _fmt(t.budget),
                _fmt(t.cost),
                t.status,
                _fmt(t.incumbent_cost),
                _fmt(t.incumbent_score),
                t.origin,
            ]
        )
    return buffer.getvalue()


def _fmt(value: float | None) -> str:
    value = jsonable(value)
    if value is None:
        return ""
    return repr(float(value))


def write_results(
    run_dir: str | Path,
    results: RunResults,
    trials: Sequence[TrialRecord] | None = None,
    *,
    plot: bool = False,
    durable: bool = True,
) -> Path:
    """Write ``results.json`` and, when ``trials`` are given, ``trajectory.csv`` (and ``trajectory.png`` if
    ``plot``). Each file is replaced atomically, so a reader never sees half a file even if the run is killed
    mid-write. ``durable=False`` skips the fsync: for the rewrite after every trial, where a lost write after a
    power cut costs one trial of progress display and an fsync per trial would cost search time.
    Returns the path of ``results.json``."""
    run_path = Path(run_dir)
    if trials is not None:
        atomic_write_text(run_path / TRAJECTORY_FILE, trajectory_csv(trials), force=True, durable=durable)
    text = json.dumps(results.to_dict(), indent=2, allow_nan=False) + "\n"
    path = atomic_write_text(run_path / RESULTS_FILE, text, force=True, durable=durable)
    if plot and trials:
        plot_trajectories([run_path], run_path / PLOT_FILE)
    return path


def read_results(run_dir: str | Path) -> RunResults:
    """Read ``run_dir/results.json``; a missing or damaged file raises :class:`UsageError`."""
    path = Path(run_dir) / RESULTS_FILE
    if not Path(run_dir).is_dir():
        raise UsageError(f"`{run_dir}` is not a directory", "pass a run directory written by `metaconf run`")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"`{path}` does not exist",
            "pass a run directory written by `metaconf run` (it holds results.json)",
        ) from None
    except OSError as error:
        raise UsageError(f"cannot read `{path}`: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{path}:{error.lineno}:{error.colno}: not valid JSON ({error.msg})",
            "the file is damaged; re-run the search",
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return RunResults.from_dict(data, source=str(path))


def read_trajectory(run_dir: str | Path) -> list[TrialRecord]:
    """Read ``run_dir/trajectory.csv`` (an empty list when the run wrote none)."""
    path = Path(run_dir) / TRAJECTORY_FILE
    if not path.exists():
        return []

    def num(text: str | None) -> float | None:
        return float(text) if text not in (None, "") else None

    records = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in TRAJECTORY_COLUMNS if c != "origin" and c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(
                f"{path}: missing columns {', '.join(missing)}", "the file is damaged; re-run the search"
            )
        for line, row in enumerate(reader, start=2):
            cut = [c for c in TRAJECTORY_COLUMNS if c != "origin" and row.get(c) is None]
            if cut:  # a line cut short (a kill or a full disk mid-write): csv fills the missing fields with None
                raise UsageError(f"{path}:{line}: unreadable row (no {', '.join(cut)})")
            try:
                records.append(
                    TrialRecord(
                        trial=int(row["trial"]),
                        walltime_s=float(row["walltime_s"]),
                        cost=num(row["cost"]),
                        status=row["status"],
                        incumbent_cost=num(row["incumbent_cost"]),
                        incumbent_score=num(row["incumbent_score"]),
                        budget=num(row["budget"]),
                        origin=row.get("origin") or "",
                    )
                )
            except (TypeError, ValueError) as error:
                raise UsageError(f"{path}:{line}: unreadable row ({error})") from None
    return records


def plot_trajectories(
    run_dirs: Sequence[str | Path],
    path: str | Path,
    *,
    labels: Sequence[str] | None = None,
) -> Path:
    """Draw the best-so-far score over wall time for each run into one PNG at ``path``.

    Runs with the same metric share one axis in the metric's own direction; when the metrics differ, costs are
    plotted instead (always lower-is-better), and the axis says so. Draws without pyplot (no display, no global
    figure state); :func:`trajectory_figure` is the figure itself.
    """
    runs = []
    for index, run_dir in enumerate(run_dirs):
        results = read_results(run_dir) if (Path(run_dir) / RESULTS_FILE).exists() else None
        trials = read_trajectory(run_dir)
        label = labels[index] if labels is not None else Path(run_dir).resolve().name
        runs.append((label, results, trials))
    figure = trajectory_figure(runs)
    out = Path(path)
    with atomic_path(out, force=True) as tmp:
        figure.savefig(tmp, format="png")
    return out


def plot_text(text: str) -> str:
    """``text`` as matplotlib draws it literally: a ``$`` would otherwise start mathtext (and an unbalanced one
    fails the whole plot), so a run or directory name with one is escaped."""
    return text.replace("$", r"\$")


def trajectory_figure(
    runs: Sequence[tuple[str, RunResults | None, Sequence[TrialRecord]]], *, title: str | None = None
) -> Figure:
    """The best-so-far figure of ``runs`` (label, results or None, trials): one step line per run.

    Runs with the same metric share one axis in the metric's own direction; when the metrics differ, costs are
    plotted instead (always lower-is-better), and the axis says so. A run with no finished trial draws nothing.
    """
    from matplotlib.figure import Figure

    metric_names = {r.metric_name for _, r, _ in runs if r is not None}
    use_score = len(metric_names) == 1
    metric = next(iter(metric_names)) if use_score else "cost"

    figure = Figure(figsize=(7, 4.2), dpi=110)
    axis = figure.subplots()
    for label, _, trials in runs:
        points = [
            (t.walltime_s, t.incumbent_score if use_score else t.incumbent_cost)
            for t in trials
            if (t.incumbent_score if use_score else t.incumbent_cost) is not None
        ]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        axis.step(xs, ys, where="post", label=plot_text(f"{label} (best {ys[-1]:.4g})"), linewidth=1.6)
        axis.plot(xs, ys, linestyle="none", marker=".", markersize=3, color=axis.lines[-1].get_color())
    axis.set_xlabel("wall time of the search (s)")
    axis.set_ylabel(plot_text(f"best {metric} so far") if use_score else "best cost so far (lower is better)")
    if title is None:
        title = "metaconf run: best so far" if len(runs) == 1 else "metaconf runs compared"
    axis.set_title(plot_text(title))
    axis.grid(True, alpha=0.3)
    if axis.lines:
        axis.legend(loc="best", fontsize="small")
    figure.tight_layout()
    return figure
