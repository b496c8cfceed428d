"""Per-trial time and memory limits that work the same in the main process and in Dask workers.

SMAC applies ``trial_walltime_limit`` / ``trial_memory_limit`` by running each trial in a pynisher subprocess
started with the process's default start method. Inside a Dask worker that method is ``spawn``: every trial
then starts a fresh interpreter that re-imports scikit-learn and reloads the data, which takes longer than
a short limit, so every trial times out (SMAC3 #1020 is the same failure on SLURM). And a daemonic worker
may not start a subprocess at all.

:class:`LimitingTargetRunner` keeps the limits in the Scenario (so SMAC's records, meta data and DeepCAVE
see them) but hands them to the target, which applies them in a forked process (:mod:`.trial_process`): the
child inherits the already loaded data and imports, and is kept from one trial to the next. It raises
pynisher's ``WallTimeoutException`` / ``MemoryLimitException``, which SMAC maps to TIMEOUT / MEMORYOUT exactly
as when it applies the limits itself.

This module imports SMAC at import time; pickles of the runner (sent to Dask workers) refer to it by name.
"""

from __future__ import annotations

import multiprocessing
import sys
from typing import Any

from smac.runner.target_function_runner import TargetFunctionRunner


def fork_context() -> str | None:
    """``"fork"`` where it is safe and available (Linux), else None (the platform's default)."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return None


class LimitingTargetRunner(TargetFunctionRunner):
    """A :class:`TargetFunctionRunner` whose target applies the scenario's per-trial limits itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = (self._memory_limit, self._algorithm_walltime_limit)
        if any(limit is not None for limit in limits):
            self._target_function.limits = limits  # type: ignore[attr-defined]
        # SMAC would otherwise wrap the (already limited) target in a second pynisher process.
        self._memory_limit = None
        self._algorithm_walltime_limit = None

