"""The selection ablation's arithmetic, and one real run it must score exactly as `metaconf run` did."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_module import load_benchmark

from metaconf.config.model import Config

ablation = load_benchmark("selection_ablation")


def _row(config_id: int, cost: float, *, budget: float | None = None, status: int = 1, seed: int = 7) -> dict:
    return {"config_id": config_id, "cost": cost, "budget": budget, "status": status, "seed": seed}


def test_top_trials_keeps_the_best_distinct_successes_at_the_highest_budget() -> None:
    history = {
        "configs": {str(i): {"model": f"m{i}"} for i in range(1, 7)},
        "data": [
            _row(1, 0.30),
            _row(2, 0.10, status=2),  # crashed: not a candidate
            _row(3, 0.20, seed=11),
            _row(3, 0.25, seed=12),  # the same configuration again: its best trial counts
            _row(4, 0.20),  # tied with 3: the lower config id first
            _row(5, float("inf")),
            _row(6, 0.05),
        ],
    }
    top = ablation.top_trials(history, 3)
    assert top == [(0.05, 7, {"model": "m6"}), (0.20, 11, {"model": "m3"}), (0.20, 7, {"model": "m4"})]
    fidelity = {
        "configs": {"1": {"model": "a"}, "2": {"model": "b"}},
        "data": [_row(1, 0.01, budget=1.0), _row(2, 0.30, budget=9.0), _row(1, 0.40, budget=9.0)],
    }
    # a low-fidelity cost is not comparable: only the highest budget's trials are candidates
    assert [c for c, _, _ in ablation.top_trials(fidelity, 5)] == [0.30, 0.40]


def test_spearman() -> None:
    assert ablation.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert ablation.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert ablation.spearman([1, 2, 3, 4], [1, 1, 2, 2]) == pytest.approx(0.894427, rel=1e-5)  # average ranks
    assert ablation.spearman([1, 1, 1], [1, 2, 3]) is None


@pytest.mark.slow
def test_refits_score_the_incumbent_exactly_as_the_run_did(tmp_path: Path) -> None:
    from metaconf.targets.run_dir import RunRequest
    from metaconf.targets.smac.runner import run_smac

    config = Config.model_validate(
        {
            "data": {"demo": "breast_cancer"},
            "search_space": {"models": ["linear", "decision_tree"]},
            "stopping": {"n_trials": 8},
        }
    )
    run_dir = tmp_path / "breast_cancer-1m-s0-suggested"
    run_smac(config, tmp_path, run_dir, RunRequest(overwrite=True, progress=False))
    row = ablation.ablate(run_dir, 8)
    assert row is not None and row["k"] >= 2
    assert row["reproduced"] is True  # the incumbent's refit here scores what results.json recorded
    assert row["oracle"] >= row["mean"]  # accuracy: the best of the k is at least their mean
    assert ablation.main([str(tmp_path), "--k", "3"]) == 0
