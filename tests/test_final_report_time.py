"""benchmarks/components/final_report_time.py on a real finished run: both ways give the search's validation
cost, and the run without a decision threshold is counted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from benchmark_module import load_benchmark
from typer.testing import CliRunner

from metaconf.cli.app import app


def test_it_times_a_finished_run_both_ways_and_both_give_the_trial_s_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": {"demo": "diabetes"},
                "task": {"type": "regression", "metric": "rmse"},
                "search_space": {"models": ["linear", "random_forest"]},
                "resampling": {"strategy": "cv", "folds": 3},
                "stopping": {"n_trials": 4},
                "execution": {"seed": 1, "output_dir": "runs"},
            }
        )
    )
    result = CliRunner().invoke(app, ["run", str(config)])
    assert result.exit_code == 0, result.output
    final_report_time = load_benchmark("components/final_report_time")
    assert final_report_time.main([str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "same validation cost: True" in out
    assert "1 runs, 1 without a decision threshold; validation cost identical in 1 of 1" in out
