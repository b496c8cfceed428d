"""A SMAC run that survives being killed at any moment: SMAC's state written atomically, and metaconf's own record
of the trials (``trajectory.csv``) brought back in line with SMAC's when a run resumes.

**Atomic saves.** SMAC 2.4 writes its state after every trial (``SMBO.save``: ``optimization.json``,
``runhistory.json``, ``intensifier.json``) with ``open(path, "w")``: a SIGKILL or a full disk in the middle of
a write leaves a truncated ``runhistory.json``, and the run can no longer be resumed (SMAC's loader fails on
it). :func:`make_saves_atomic` replaces that method on the run's ``SMBO`` instance with one that writes the
same three files under temporary names in the same directory and renames each into place (``os.replace``:
a reader sees the old file or the new one, never a part). The run history goes first, so an intensifier state
never names a configuration the history does not hold.

**Reconciled trials.** SMAC calls its callbacks, metaconf's trajectory writer among them, *before* it saves
its state. A run killed between the two has one trial more in ``trajectory.csv`` than in SMAC's run history;
SMAC runs that trial again when the run resumes, so keeping the row would count it twice. A disk that refused
``trajectory.csv`` after SMAC saved leaves the opposite. :func:`reconcile_trials` makes the record match SMAC's
run history, which is what the resumed search continues from: extra rows are dropped, missing ones rebuilt
from the run history's entries (cost, status, budget; their wall time is not known and repeats the last one
recorded).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from metaconf.report.results import TrialRecord
from metaconf.targets.run_dir import TEMP_PREFIX

SAVED_FILES = ("runhistory.json", "intensifier.json", "optimization.json")
"""What ``SMBO.save`` writes, in the order :func:`make_saves_atomic` replaces them."""


def make_saves_atomic(smbo: Any) -> None:
    """Make ``smbo.save()`` (SMAC's ``SMBO``) write its three files atomically (see the module docstring)."""

    def save() -> None:
        path = smbo._scenario.output_directory
        if path is None:
            return
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        optimization = {
            "used_walltime": smbo.used_walltime,
            "used_target_function_walltime": smbo.used_target_function_walltime,
            "used_target_function_cputime": smbo.used_target_function_cputime,
            "last_update": time.time(),
            "finished": smbo._finished,
        }
        writers: dict[str, Callable[[Path], None]] = {
            "runhistory.json": smbo._runhistory.save,
            "intensifier.json": smbo._intensifier.save,
            "optimization.json": lambda target: _dump_json(target, optimization),
        }
        for name in SAVED_FILES:
            temporary = path / f"{TEMP_PREFIX}{name}"
            try:
                writers[name](temporary)
                _fsync(temporary)
                os.replace(temporary, path / name)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    temporary.unlink()

    smbo.save = save


def _dump_json(target: Path, data: dict[str, Any]) -> None:
    from smac.utils.numpyencoder import NumpyEncoder

    with open(target, "w") as handle:
        json.dump(data, handle, indent=2, cls=NumpyEncoder)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def reconcile_trials(
    previous: list[TrialRecord],
    runhistory: Any,
    *,
    score_of: Callable[[float], float],
) -> tuple[list[TrialRecord], str | None]:
    """``previous`` (the trials in ``trajectory.csv``) made to match the finished trials of SMAC's
    ``runhistory`` (in the order SMAC was told them), and a note saying what changed (None: nothing)."""
    entries = [(key, value) for key, value in runhistory.items() if value.status.name.lower() != "running"]
    finished = len(entries)
    if len(previous) == finished:
        return previous, None
    if len(previous) > finished:
        dropped = len(previous) - finished
        return previous[:finished], (
            f"{dropped} trial{'s' if dropped > 1 else ''} in trajectory.csv finished after SMAC last saved its state "
            "(the run was killed in between): SMAC runs "
            + ("them" if dropped > 1 else "it")
            + " again, so the row"
            + ("s were" if dropped > 1 else " was")
            + " dropped"
        )
    trials = list(previous)
    best = min((t.cost for t in trials if t.status == "success" and t.cost is not None), default=None)
    last_walltime = trials[-1].walltime_s if trials else 0.0
    for key, value in entries[len(previous) :]:
        status = value.status.name.lower()
        cost = float(value.cost) if isinstance(value.cost, int | float) and math.isfinite(value.cost) else None
        if cost is not None and status == "success" and (best is None or cost < best):
            best = cost
        trials.append(
            TrialRecord(
                trial=len(trials) + 1,
                walltime_s=last_walltime,
                cost=cost,
                status=status,
                incumbent_cost=best,
                incumbent_score=score_of(best) if best is not None else None,
                budget=float(key.budget) if key.budget is not None else None,
                origin="unknown",
            )
        )
    added = len(trials) - len(previous)
    return trials, (
        f"{added} trial{'s' if added > 1 else ''} in SMAC's run history had no row in trajectory.csv (the file "
        "could not be written before the run stopped): rebuilt from the run history, with the wall time of the "
        "last recorded trial"
    )
