"""The quality benchmark's arithmetic (the searches themselves run only in `benchmarks/`, never here)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from benchmark_module import load_benchmark

from metaconf.config.model import Budget, Config, Data, InitialDesign, OptimizerKind, Stopping

bench = load_benchmark("suggest_quality")


def _result(
    arm: str, seed: int, test: float, trajectory: list[tuple[float, float]], *, greater: bool = True
) -> object:
    return bench.ArmResult(
        dataset="d",
        budget="1m",
        seed=seed,
        arm=arm,
        test_score=test,
        validation_score=None,
        final_cost=trajectory[-1][1] if trajectory else None,
        trials=len(trajectory),
        search_s=60.0,
        walltime_s=50.0,
        trajectory=trajectory,
        greater_is_better=greater,
        metric="accuracy",
    )


def test_time_to_reach() -> None:
    trajectory = [(1.0, 0.3), (5.0, 0.2), (9.0, 0.1)]
    assert bench.time_to_reach(trajectory, 0.2) == 5.0
    assert bench.time_to_reach(trajectory, 0.05) == math.inf
    assert bench.time_to_reach(trajectory, None) == math.inf


def test_summary_compares_with_the_default_of_the_same_seed() -> None:
    results = [
        _result("default", 0, 0.90, [(1.0, 0.3), (40.0, 0.2)]),
        _result("suggested", 0, 0.92, [(2.0, 0.25), (10.0, 0.15)]),
        _result("random", 0, 0.88, [(1.0, 0.3), (30.0, 0.21)]),
    ]
    [row] = bench.summarise(results)
    assert row["test_suggested"] == pytest.approx(0.92)
    assert row["reach_suggested"] == pytest.approx(10.0 / 50.0)
    assert row["reach_random"] == math.inf
    assert row["suggested_at_least_default"] is True


def test_arms_share_everything_but_the_optimizer_settings() -> None:
    suggested = Config(
        data=Data(demo="iris"),
        budget=Budget(walltime=120),
        initial_design=InitialDesign(size=5, warm_start=[{"model": "svm"}]),
        stopping=Stopping(walltime=100, n_trials=80, trial_walltime=10, plateau_patience=30),
    )
    default = bench._arm_config(suggested, "default")
    assert default.optimizer.kind == OptimizerKind.bo
    assert default.stopping.n_trials == 100  # SMAC's Scenario default
    assert default.stopping.walltime == 100
    assert default.stopping.trial_walltime is None
    assert default.initial_design == InitialDesign()
    assert default.data == suggested.data and default.resampling == suggested.resampling
    assert bench._arm_config(suggested, "random").optimizer.kind == OptimizerKind.random


def test_paired_differences_are_signed_so_that_positive_means_the_suggested_arm_did_better() -> None:
    results = [
        _result("default", 0, 0.50, [(1.0, 0.5)], greater=False),
        _result("suggested", 0, 0.40, [(1.0, 0.4)], greater=False),
        _result("default", 1, 0.50, [(1.0, 0.5)], greater=False),
        _result("suggested", 1, 0.60, [(1.0, 0.6)], greater=False),
        _result("default", 2, 0.50, [(1.0, 0.5)], greater=False),
        _result("suggested", 2, 0.50, [(1.0, 0.5)], greater=False),
    ]
    [row] = bench.summarise(results)
    assert (row["wins"], row["ties"], row["losses"]) == (1, 1, 1)
    assert row["diff_mean"] == pytest.approx(0.0)
    assert row["diff_se"] == pytest.approx(0.1 / math.sqrt(3))


def _write_arm(out: Path, arm: str, seed: int, status: str = "finished") -> None:
    from metaconf.report.results import Incumbent, RunResults, TrialRecord, write_config, write_results

    run_dir = out / f"d-1m-s{seed}-{arm}"
    run_dir.mkdir(parents=True)
    write_config(run_dir, Config(data=Data(demo="iris"), stopping=Stopping(walltime=50, n_trials=40)))
    trials = [
        TrialRecord(trial=1, walltime_s=2.0, cost=0.3, status="success", incumbent_cost=0.3, incumbent_score=0.7),
        TrialRecord(trial=2, walltime_s=7.0, cost=0.1, status="success", incumbent_cost=0.1, incumbent_score=0.9),
    ]
    results = RunResults(
        tool="smac",
        status=status,  # type: ignore[arg-type]
        seed=seed,
        config_sha256="0" * 64,
        metric_name="accuracy",
        greater_is_better=True,
        started="2026-01-01T00:00:00Z",
        incumbent=Incumbent(config={"model": "svm"}, cost=0.1, validation_score=0.9, test_score=0.88),
        trials_by_status={"success": 2},
        search_s=48.0,
    )
    write_results(run_dir, results, trials)


def test_reuse_reads_back_a_seed_only_when_all_three_arms_finished(tmp_path: Path) -> None:
    for arm in bench.ARMS:
        _write_arm(tmp_path, arm, seed=0)
    loaded = bench.load_finished("d", "1m", 0, tmp_path)
    assert loaded is not None and [r.arm for r in loaded] == list(bench.ARMS)
    first = loaded[0]
    assert (first.test_score, first.validation_score, first.trials) == (0.88, 0.9, 2)
    assert first.walltime_s == 50.0 and first.trajectory == [(2.0, 0.3), (7.0, 0.1)]

    _write_arm(tmp_path, "suggested", seed=1)
    _write_arm(tmp_path, "default", seed=1, status="interrupted")
    assert bench.load_finished("d", "1m", 1, tmp_path) is None  # one arm interrupted, one missing: re-run
    assert bench.load_finished("d", "1m", 2, tmp_path) is None
