"""SMAC callbacks metaconf adds to every run: trial recording (with each configuration's origin), plateau
stopping, a full-budget cost threshold, and a clean stop on SIGINT / SIGTERM.

SMAC stops cleanly (and the run stays resumable) when an ``on_tell_end`` callback returns ``False``; pending
Dask trials are still waited for and told, so nothing finished is lost.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from smac.callback import Callback

from metaconf.report.results import TrialRecord

if TYPE_CHECKING:
    from ConfigSpace import Configuration
    from smac.main.smbo import SMBO
    from smac.runhistory import TrialInfo, TrialValue

ORIGIN_INITIAL = "initial design"
ORIGIN_WARM_START = "warm start"


def classify_origin(raw: str | None) -> str:
    """SMAC's origin strings (``Initial Design: Sobol``, ``Acquisition Function Maximizer: Local Search``,
    ``Random Search``) in a few words."""
    if not raw:
        # SMAC samples without setting an origin when its model has no data yet (parallel workers asking
        # before the first result is in)
        return "random"
    text = raw.lower()
    if "initial design" in text:
        return ORIGIN_INITIAL
    if "local search" in text:
        return "acquisition: local search"
    if "acquisition function maximizer: random search" in text:
        return "acquisition: random search"
    if "random" in text:
        return "random"
    return text


@dataclass
class SearchState:
    """What the callbacks share with the runner: the trials told so far and why the search stopped."""

    greater_is_better: bool
    score_of: Callable[[float], float]
    started: float = field(default_factory=time.monotonic)
    time_offset: float = 0.0
    """Search seconds already spent by earlier sessions of a resumed run."""
    trials: list[TrialRecord] = field(default_factory=list)
    best_cost: float | None = None
    stop_reason: str | None = None
    stop_requested: bool = False
    on_trial: Callable[[TrialRecord], None] | None = None
    n_trials: int | None = None
    """The plan's trial limit, for progress displays."""
    errors: Counter[str] = field(default_factory=Counter)
    """Why trials crashed: the error SMAC recorded, counted."""

    def elapsed(self) -> float:
        return self.time_offset + time.monotonic() - self.started

    def request_stop(self, reason: str) -> None:
        if not self.stop_requested:
            self.stop_requested = True
            self.stop_reason = reason


_WHY_NOT_FINISHED = {
    "timeout": "over the per-trial time limit (`stopping.trial_walltime`)",
    "memoryout": "out of memory (over `stopping.trial_memory`)",
}
"""What SMAC's status means, for the statuses it records no error with."""


class RecordTrials(Callback):
    """Records every told trial (cost, status, budget, origin) and the best cost so far.

    Origins are taken when SMAC *asks* for a trial (``on_ask_end``): ``config.origin`` read back from the
    runhistory later is wrong (docs/tools.md). Warm-start configurations are recognised by their values.
    """

    def __init__(self, state: SearchState, warm_start: list[dict[str, Any]]):
        super().__init__()
        self._state = state
        self._warm = [dict(sorted(v.items())) for v in warm_start]
        self._origins: dict[Configuration, str] = {}

    def on_ask_end(self, smbo: SMBO, info: TrialInfo) -> None:
        config = info.config
        if config in self._origins:
            return
        origin = classify_origin(config.origin)
        if origin == ORIGIN_INITIAL and self._warm:
            values = {k: _plain(v) for k, v in dict(config).items()}
            if dict(sorted(values.items())) in self._warm:
                origin = ORIGIN_WARM_START
        self._origins[config] = origin

    def origin_of(self, config: Configuration) -> str:
        return self._origins.get(config, "unknown")

    def on_tell_end(self, smbo: SMBO, info: TrialInfo, value: TrialValue) -> bool | None:
        state = self._state
        cost = _finite(value.cost)
        status = value.status.name.lower()
        if status != "success":
            error = (value.additional_info or {}).get("error")
            state.errors[str(error) if error else _WHY_NOT_FINISHED.get(status, status)] += 1
        if cost is not None and status == "success" and (state.best_cost is None or cost < state.best_cost):
            state.best_cost = cost
        record = TrialRecord(
            trial=len(state.trials) + 1,
            walltime_s=round(state.elapsed(), 4),
            cost=cost,
            status=status,
            incumbent_cost=state.best_cost,
            incumbent_score=state.score_of(state.best_cost) if state.best_cost is not None else None,
            budget=float(info.budget) if info.budget is not None else None,
            origin=self.origin_of(info.config),
        )
        state.trials.append(record)
        if state.on_trial is not None:
            state.on_trial(record)
        return None if not state.stop_requested else False


class PlateauStop(Callback):
    """Stops after ``patience`` trials past the initial design without improving the best cost by more than
    ``min_delta``. Trials of initial-design and warm-start configurations never count: counting them would
    stop the search before the surrogate model ever proposes anything."""

    def __init__(self, state: SearchState, recorder: RecordTrials, patience: int, min_delta: float):
        super().__init__()
        self._state = state
        self._recorder = recorder
        self._patience = patience
        self._min_delta = min_delta
        self._best: float | None = None
        self._stale = 0

    def on_tell_end(self, smbo: SMBO, info: TrialInfo, value: TrialValue) -> bool | None:
        cost = _finite(value.cost)
        if cost is not None and (self._best is None or cost < self._best - self._min_delta):
            self._best = cost
            self._stale = 0
            return None
        if cost is not None and self._best is not None and cost < self._best:
            self._best = cost  # a small improvement moves the bar but does not reset the count
        if self._recorder.origin_of(info.config) in (ORIGIN_INITIAL, ORIGIN_WARM_START):
            return None
        self._stale += 1
        if self._stale >= self._patience:
            self._state.request_stop(f"plateau: {self._patience} trials without improvement")
            return False
        return None


class FullBudgetCostThreshold(Callback):
    """``stopping.cost_threshold`` for multi-fidelity runs: only a trial at the full budget can stop the
    search (SMAC's own threshold fires on low-budget costs)."""

    def __init__(self, state: SearchState, threshold: float, max_budget: float):
        super().__init__()
        self._state = state
        self._threshold = threshold
        self._max_budget = max_budget

    def on_tell_end(self, smbo: SMBO, info: TrialInfo, value: TrialValue) -> bool | None:
        cost = _finite(value.cost)
        full = info.budget is None or math.isclose(float(info.budget), self._max_budget, rel_tol=1e-9)
        if full and cost is not None and cost <= self._threshold:
            self._state.request_stop(f"cost threshold {self._threshold:g} reached at full budget")
            return False
        return None


class StopOnSignal(Callback):
    """Turns SIGINT and SIGTERM into a clean stop: the running trial finishes, everything is written.

    A second signal raises :class:`KeyboardInterrupt` at once (the user insists). Handlers are installed only
    in the main thread (Python allows no other) and restored when the search ends.
    """

    def __init__(self, state: SearchState):
        super().__init__()
        self._state = state
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._state.stop_requested and self._state.stop_reason in ("SIGINT", "SIGTERM"):
            raise KeyboardInterrupt
        self._state.request_stop(signal.Signals(signum).name)

    def on_tell_end(self, smbo: SMBO, info: TrialInfo, value: TrialValue) -> bool | None:
        return False if self._state.stop_requested else None

    def on_iteration_start(self, smbo: SMBO) -> None:
        # A signal during SMAC's own bookkeeping (no trial told yet) must stop the loop too.
        if self._state.stop_requested:
            smbo._stop = True


def _finite(cost: Any) -> float | None:
    try:
        value = float(cost)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, str | int | float | bool) else value
