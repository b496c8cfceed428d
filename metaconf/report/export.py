"""What `metaconf report` shows beyond ``results.json``, and its machine formats (``--format json|md``).

A :class:`RunView` is one run directory as the report sees it: its label, its ``results.json`` and, when the run
directory keeps one, its resolved ``config.yaml`` (the budget, the target and every value with its reason come
from there). Everything here reads the run directory only, never the data, so it works for SMAC and
auto-sklearn runs, finished, interrupted and failed ones alike; a missing or unreadable ``config.yaml`` is a note
on the run (the report then leaves the budget and the config table out), never an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.report.results import CONFIG_FILE, RunResults, jsonable, read_results
from metaconf.report.summary import COMPARISON_COLUMNS, comparison_rows

if TYPE_CHECKING:
    from metaconf.config.explain import ExplainedValue

JSON_KEYS = (
    "run",
    "run_dir",
    "tool",
    "status",
    "stop_reason",
    "error",
    "task",
    "metric",
    "budget",
    "validation_score",
    "test_score",
    "best_cost",
    "test_cost",
    "incumbent",
    "trials",
    "time",
    "seed",
    "config_sha256",
    "versions",
)
"""The keys of every run's object in ``--format json``, always all of them, in this order (null when unknown)."""


@dataclass
class RunView:
    """One run directory as the report sees it."""

    label: str
    """The run's name in tables and plots: its directory name (with the parent's where two runs share one)."""
    run_dir: Path
    results: RunResults
    config: dict[str, Any] | None = None
    """``config.yaml`` of the run directory as loaded (the resolved config), None when there is none."""
    config_note: str | None = None
    """Why ``config`` is None (no file, or a file that cannot be read)."""


def run_labels(run_dirs: Sequence[Path]) -> list[str]:
    """Run labels: the directory names, with parent names added where two runs share a name."""
    names = [Path(p).resolve().name for p in run_dirs]
    return [
        name if names.count(name) == 1 else f"{Path(path).resolve().parent.name}/{name}"
        for path, name in zip(run_dirs, names, strict=True)
    ]


def load_runs(run_dirs: Sequence[Path], *, with_config: bool = True) -> list[RunView]:
    """Read every run directory (``results.json``, and ``config.yaml`` with ``with_config``).

    A missing or damaged ``results.json`` raises :class:`~metaconf.errors.UsageError` (the run directory is not
    usable at all); a missing or damaged ``config.yaml`` only leaves ``config`` empty, with a note.
    """
    views = []
    for run_dir, label in zip(run_dirs, run_labels(run_dirs), strict=True):
        view = RunView(label, Path(run_dir), read_results(run_dir))
        if with_config:
            view.config, view.config_note = _read_config(Path(run_dir))
        views.append(view)
    return views


def _read_config(run_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    from metaconf.config.loader import LoadError, load_file

    path = run_dir / CONFIG_FILE
    if not path.exists():
        return None, f"the run directory holds no {CONFIG_FILE}"
    try:
        document = load_file(path)
    except LoadError as error:
        return None, f"{path}:{error.span.line}:{error.span.col}: {error.message}"
    except OSError as error:
        return None, f"cannot read {path}: {error.strerror or error}"
    if not isinstance(document.data, dict):
        return None, f"{path} does not hold a config (a mapping)"
    return document.data, None


def _section(config: dict[str, Any] | None, name: str) -> dict[str, Any]:
    value = (config or {}).get(name)
    return value if isinstance(value, dict) else {}


def _seconds_of(value: Any) -> float | None:
    from metaconf.config.units import UnitError, parse_duration

    if value is None:
        return None
    try:
        return parse_duration(value)
    except (UnitError, TypeError, ValueError):
        return None


def _megabytes_of(value: Any) -> float | None:
    from metaconf.config.units import UnitError, parse_memory

    if value is None:
        return None
    try:
        return parse_memory(value)
    except (UnitError, TypeError, ValueError):
        return None


def budget_of(view: RunView) -> dict[str, Any]:
    """The run's budget from its config: the whole job's wall time, cores and memory, and the search's own
    limits (trials, wall time). Every key is there; None where the config sets no limit or is missing."""
    budget = _section(view.config, "budget")
    stopping = _section(view.config, "stopping")
    cores = budget.get("cores")
    n_trials = stopping.get("n_trials")
    return {
        "walltime_s": _seconds_of(budget.get("walltime")),
        "cores": cores if isinstance(cores, int) and not isinstance(cores, bool) else None,
        "memory_mb": _megabytes_of(budget.get("memory")),
        "n_trials": n_trials if isinstance(n_trials, int) and not isinstance(n_trials, bool) else None,
        "search_walltime_s": _seconds_of(stopping.get("walltime")),
    }


def task_of(view: RunView) -> dict[str, Any]:
    """What was learnt: task type, target column, dataset name, source and shape."""
    data = view.results.dataset
    task = _section(view.config, "task")
    return {
        "type": data.get("task_type", task.get("type")),
        "target": task.get("target"),
        "dataset": data.get("name"),
        "source": data.get("source"),
        "n_rows": data.get("n_rows"),
        "n_features": data.get("n_features"),
    }


def run_record(view: RunView) -> dict[str, Any]:
    """One run as plain JSON data with the keys of :data:`JSON_KEYS` (``--format json``)."""
    results = view.results
    incumbent = results.incumbent
    record = {
        "run": view.label,
        "run_dir": str(view.run_dir),
        "tool": results.tool,
        "status": results.status,
        "stop_reason": results.stop_reason,
        "error": results.error,
        "task": task_of(view),
        "metric": {"name": results.metric_name, "greater_is_better": results.greater_is_better},
        "budget": budget_of(view),
        "validation_score": incumbent.validation_score if incumbent else None,
        "test_score": incumbent.test_score if incumbent else None,
        "best_cost": incumbent.cost if incumbent else None,
        "test_cost": incumbent.test_cost if incumbent else None,
        "incumbent": incumbent.config if incumbent else None,
        "trials": {"total": results.n_trials, "by_status": dict(sorted(results.trials_by_status.items()))},
        "time": {
            "total_s": results.total_s,
            "search_s": results.search_s,
            "started": results.started,
            "finished": results.finished,
        },
        "seed": results.seed,
        "config_sha256": results.config_sha256,
        "versions": dict(results.versions),
    }
    assert tuple(record) == JSON_KEYS
    return jsonable(record)


def runs_json(views: Sequence[RunView]) -> str:
    """``--format json``: a JSON array with one object per run (see :func:`run_record`), in argument order."""
    return json.dumps([run_record(v) for v in views], indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def md_cell(text: str) -> str:
    """A Markdown table cell: one line, ``|`` and ``\\`` escaped."""
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def md_row(cells: Sequence[str]) -> str:
    """One Markdown table row, every cell through :func:`md_cell` (the header row too)."""
    return "| " + " | ".join(md_cell(cell) for cell in cells) + " |"


def runs_markdown(views: Sequence[RunView]) -> str:
    """``--format md``: the comparison table (one row per run) as a GitHub-flavoured Markdown table."""
    rows, caption = comparison_rows([(v.label, v.results) for v in views])
    lines = [
        md_row([name for name, _ in COMPARISON_COLUMNS]),
        "|" + "|".join("---:" if justify == "right" else "---" for _, justify in COMPARISON_COLUMNS) + "|",
    ]
    lines += [md_row(row) for row in rows]
    if caption is not None:
        lines += ["", "\\" + caption if caption.startswith("*") else caption]  # not a list item
    return "\n".join(lines) + "\n"


def config_rows(view: RunView) -> tuple[list[ExplainedValue], str | None]:
    """Every value of the run's config with its origin and reason, as `metaconf explain --all` gives them.

    ``config.yaml`` in a run directory is the *resolved* config: every default is written out. Passed as it is,
    every value would read as set by the user; so the values equal to metaconf's own defaults are left out of
    the document first, and `explain` then shows them as ``default`` with what they mean. Values whose origin the
    config's provenance records (written by `metaconf suggest`) keep it whatever their value. Returns the rows
    and a note (why there are none, or None).
    """
    from pydantic import ValidationError

    from metaconf.config.explain import explain_values
    from metaconf.config.model import Config

    if view.config is None:
        return [], view.config_note
    defaults = Config.model_validate({}).model_dump(mode="json")
    try:
        return explain_values(_without_defaults(view.config, defaults), all_values=True), None
    except ValidationError as error:
        problems = error.errors()
        first = problems[0] if problems else {"loc": (), "msg": str(error)}
        where = ".".join(str(p) for p in first.get("loc", ())) or "the config"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return [], f"{CONFIG_FILE} does not validate with this metaconf: `{where}`: {first.get('msg')}{more}"


def _without_defaults(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the values equal to ``defaults`` (recursively; a section left empty goes too)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "provenance" or key not in defaults:
            out[key] = value
            continue
        default = defaults[key]
        if isinstance(value, dict) and isinstance(default, dict) and value:
            kept = _without_defaults(value, default)
            if kept:
                out[key] = kept
        elif value != default:
            out[key] = value
    return out
