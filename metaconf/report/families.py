"""Scores per model family: every successful trial's score, grouped by the model family it tried.

``trajectory.csv`` does not say which configuration a trial evaluated, so the families come from the tool's own
files in the run directory:

- SMAC: ``smac/<name>/<seed>/runhistory.json`` (each trial's configuration id, cost, status and budget; the
  configuration's ``model`` choice is the family; a user search space has none, and its family is the
  estimator's class name);
- auto-sklearn: ``leaderboard.csv`` (one row per model it trained: ``type``, ``cost``, ``status``).

A run without these files (a run that failed before its first trial, or an older run directory) has no
families; a damaged file is a note, never an error: the report still shows everything else.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaconf.report.results import SMAC_DIR, RunResults

LEADERBOARD_FILE = "leaderboard.csv"
"""auto-sklearn's leaderboard in the run directory (``metaconf.targets.autosklearn.runner`` writes it)."""
RUNHISTORY_FILE = "runhistory.json"
SMAC_SUCCESS = 1
"""``StatusType.SUCCESS`` in SMAC3's ``runhistory.json``."""


@dataclass
class FamilyScores:
    """The successful trials of one model family."""

    family: str
    scores: list[float] = field(default_factory=list)
    """Each successful trial's score, in the metric's own direction."""
    greater_is_better: bool = True

    @property
    def best(self) -> float:
        return max(self.scores) if self.greater_is_better else min(self.scores)


@dataclass
class Families:
    """The families of one run, best first, where they were read from, and what to know about them."""

    families: list[FamilyScores]
    source: str | None
    """The file the trials were read from (relative to the run directory), or None."""
    note: str | None = None
    """Why there are none, or what the scores include (several fidelity budgets)."""


def score_of(cost: float, greater_is_better: bool) -> float:
    """A cost on the metric's own scale: ``1 - cost`` for the metrics where greater is better (accuracy,
    balanced accuracy, AUC, F1, R²), the cost itself otherwise (RMSE, MAE, log loss, expected cost), as
    :meth:`metaconf.targets.metrics.MetricSpec.score` does."""
    return 1.0 - cost if greater_is_better else cost


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def family_scores(run_dir: str | Path, results: RunResults, config: dict[str, Any] | None = None) -> Families:
    """The run's successful trials grouped by model family, best family first."""
    run_path = Path(run_dir)
    leaderboard = run_path / LEADERBOARD_FILE
    budgets: set[Any] = set()
    try:
        if results.tool == "auto-sklearn" or leaderboard.exists():
            if not leaderboard.exists():
                return Families([], None, f"the run directory holds no {LEADERBOARD_FILE}")
            pairs = _from_leaderboard(leaderboard)
            source = LEADERBOARD_FILE
        else:
            history = _runhistory(run_path, results.seed)
            if history is None:
                return Families([], None, f"the run directory holds no {SMAC_DIR}/*/*/{RUNHISTORY_FILE}")
            pairs, budgets = _from_runhistory(history, config)
            source = history.relative_to(run_path).as_posix()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return Families([], None, f"cannot read the trials' model families: {error}")
    by_family: dict[str, FamilyScores] = {}
    for family, cost in pairs:
        entry = by_family.setdefault(
            family, FamilyScores(family, greater_is_better=results.greater_is_better)
        )
        entry.scores.append(score_of(cost, results.greater_is_better))
    ordered = sorted(
        by_family.values(), key=lambda f: (-f.best if results.greater_is_better else f.best, f.family)
    )
    note = None
    if not ordered:
        note = "no trial finished successfully"
    elif len(budgets) > 1:
        note = "multi-fidelity run: the scores include trials at low budgets, which usually score lower"
    return Families(ordered, source, note)


def _runhistory(run_path: Path, seed: int | None) -> Path | None:
    """SMAC's ``runhistory.json`` of the run: the one of the run's seed, else the newest."""
    found = sorted((run_path / SMAC_DIR).glob(f"*/*/{RUNHISTORY_FILE}"))
    if not found:
        return None
    for path in found:
        if path.parent.name == str(seed):
            return path
    return max(found, key=lambda p: p.stat().st_mtime)


def _from_runhistory(path: Path, config: dict[str, Any] | None) -> tuple[list[tuple[str, float]], set[Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    configs = data.get("configs") or {}
    space = (config or {}).get("search_space") if isinstance(config, dict) else None
    estimator = space.get("estimator") if isinstance(space, dict) else None
    fallback = str(estimator).rsplit(":", 1)[-1] if estimator else "custom search space"
    pairs, budgets = [], set()
    for entry in data.get("data") or []:
        if entry.get("status") != SMAC_SUCCESS:
            continue
        cost = _finite(entry.get("cost"))
        if cost is None:
            continue
        values = configs.get(str(entry.get("config_id"))) or {}
        pairs.append((str(values.get("model", fallback)), cost))
        budgets.add(entry.get("budget"))
    return pairs, budgets


def _from_leaderboard(path: Path) -> list[tuple[str, float]]:
    pairs = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if (row.get("status") or "").lower() != "success":
                continue
            cost = _finite(row.get("cost"))
            if cost is not None:
                pairs.append((row.get("type") or "unknown", cost))
    return pairs
