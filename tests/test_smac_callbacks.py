"""metaconf's SMAC callbacks on real SMAC TrialInfo / TrialValue objects: trial recording with origins, plateau
stopping after the initial design, the full-budget cost threshold, and SIGINT / SIGTERM turned into clean stops.
The ``smbo`` argument is unused by these callbacks, so ``None`` stands in for it."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
from ConfigSpace import Configuration, ConfigurationSpace, Float
from smac.runhistory import StatusType, TrialInfo, TrialValue

from metaconf.targets.smac.callbacks import (
    FullBudgetCostThreshold,
    PlateauStop,
    RecordTrials,
    SearchState,
    StopOnSignal,
    classify_origin,
)

SPACE = ConfigurationSpace({"x": Float("x", (0.0, 1.0))})


def config(x: float, origin: str | None) -> Configuration:
    configuration = Configuration(SPACE, values={"x": x})
    configuration.origin = origin
    return configuration


def state() -> SearchState:
    return SearchState(greater_is_better=True, score_of=lambda cost: 1.0 - cost)


def ask_and_tell(
    callbacks: list[Any],
    cfg: Configuration,
    cost: float,
    status: StatusType = StatusType.SUCCESS,
    budget: float | None = None,
) -> list[bool | None]:
    info = TrialInfo(cfg, seed=0, budget=budget)
    for callback in callbacks:
        callback.on_ask_end(None, info)
    return [callback.on_tell_end(None, info, TrialValue(cost=cost, status=status)) for callback in callbacks]


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("Initial Design: Sobol", "initial design"),
        ("Initial design", "initial design"),
        ("Acquisition Function Maximizer: Local Search", "acquisition: local search"),
        ("Acquisition Function Maximizer: Random Search (sorted)", "acquisition: random search"),
        ("Random Search", "random"),
        (None, "random"),  # sampled before the model has data
    ],
)
def test_origins_are_named_in_a_few_words(raw: str | None, origin: str) -> None:
    assert classify_origin(raw) == origin


def test_record_trials_keeps_cost_status_best_so_far_and_origin() -> None:
    s = state()
    seen: list[int] = []
    s.on_trial = lambda record: seen.append(record.trial)
    recorder = RecordTrials(s, warm_start=[{"x": 0.5}])
    ask_and_tell([recorder], config(0.5, "Initial design"), 0.3)
    ask_and_tell([recorder], config(0.1, "Initial Design: Sobol"), 0.2)
    ask_and_tell(
        [recorder], config(0.2, "Acquisition Function Maximizer: Local Search"), 1.0, StatusType.CRASHED
    )
    ask_and_tell([recorder], config(0.3, "Random Search"), 0.25, budget=0.5)
    assert seen == [1, 2, 3, 4]
    assert [t.origin for t in s.trials] == [
        "warm start",
        "initial design",
        "acquisition: local search",
        "random",
    ]
    assert [t.status for t in s.trials] == ["success", "success", "crashed", "success"]
    assert [t.incumbent_cost for t in s.trials] == [0.3, 0.2, 0.2, 0.2]  # a crash never becomes the best
    assert s.trials[-1].incumbent_score == pytest.approx(0.8)
    assert s.trials[-1].budget == 0.5 and s.trials[0].budget is None
    assert all(
        later.walltime_s >= earlier.walltime_s for earlier, later in zip(s.trials, s.trials[1:], strict=False)
    )


def test_plateau_counts_only_after_the_initial_design() -> None:
    s = state()
    recorder = RecordTrials(s, warm_start=[])
    plateau = PlateauStop(s, recorder, patience=2, min_delta=0.0)
    callbacks = [recorder, plateau]
    for i in range(5):  # no improvement in the initial design: never a stop
        assert ask_and_tell(callbacks, config(i / 10, "Initial Design: Sobol"), 0.5) == [None, None]
    assert ask_and_tell(callbacks, config(0.6, "Acquisition Function Maximizer: Local Search"), 0.4) == [
        None,
        None,
    ]
    assert ask_and_tell(callbacks, config(0.7, "Acquisition Function Maximizer: Local Search"), 0.45) == [
        None,
        None,
    ]
    assert s.stop_reason is None
    assert ask_and_tell(callbacks, config(0.8, "Random Search"), 0.41)[1] is False  # SMAC stops on any False
    assert s.stop_reason == "plateau: 2 trials without improvement"


def test_plateau_min_delta_ignores_tiny_improvements() -> None:
    s = state()
    recorder = RecordTrials(s, warm_start=[])
    plateau = PlateauStop(s, recorder, patience=2, min_delta=0.05)
    callbacks = [recorder, plateau]
    ask_and_tell(callbacks, config(0.1, "Random Search"), 0.5)
    ask_and_tell(callbacks, config(0.2, "Random Search"), 0.49)  # better, but by less than min_delta
    assert ask_and_tell(callbacks, config(0.3, "Random Search"), 0.48)[1] is False


def test_cost_threshold_fires_on_full_budget_trials_only() -> None:
    s = state()
    threshold = FullBudgetCostThreshold(s, threshold=0.1, max_budget=1.0)
    low = TrialInfo(config(0.1, None), seed=0, budget=1 / 9)
    assert threshold.on_tell_end(None, low, TrialValue(cost=0.0)) is None
    full = TrialInfo(config(0.2, None), seed=0, budget=1.0)
    assert threshold.on_tell_end(None, full, TrialValue(cost=0.2)) is None
    assert threshold.on_tell_end(None, full, TrialValue(cost=0.05)) is False
    assert s.stop_reason == "cost threshold 0.1 reached at full budget"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_request_a_clean_stop_and_handlers_are_restored(signum: int) -> None:
    s = state()
    stopper = StopOnSignal(s)
    before = signal.getsignal(signum)
    stopper.install()
    try:
        os.kill(os.getpid(), signum)
        assert s.stop_requested and s.stop_reason == signal.Signals(signum).name
        info = TrialInfo(config(0.1, None), seed=0)
        assert stopper.on_tell_end(None, info, TrialValue(cost=0.1)) is False
        with pytest.raises(KeyboardInterrupt):  # a second signal: the user insists
            os.kill(os.getpid(), signum)
    finally:
        stopper.restore()
    assert signal.getsignal(signum) == before
