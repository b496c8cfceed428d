"""A disk that refuses writes (issue 21): before the search, one line and exit 2; mid-run, `results.json` says
`failed` with the reason. The disk is filled for real: `metaconf run` runs in a child process whose
RLIMIT_FSIZE makes every write past the limit fail with EFBIG (Python ignores SIGXFSZ), as a full disk does."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml


def write_config(directory: Path, n_trials: int) -> Path:
    data = {
        "data": {"demo": "iris"},
        "search_space": {"models": ["linear"]},
        "stopping": {"n_trials": n_trials},
        "execution": {"seed": 0, "output_dir": "runs"},
    }
    path = directory / "c.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def run_limited(config: Path, limit: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    return subprocess.run(
        [sys.executable, "-m", "metaconf", "run", str(config), "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=file_size_limit(limit),
    )


def test_a_disk_that_refuses_the_first_write_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, n_trials=2)
    result = run_limited(config, limit=64)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert "cannot write `" in line and "File too large" in line
    assert not (tmp_path / "runs").exists()  # the refused run removed the directory it made


@pytest.mark.slow
def test_a_disk_that_fills_up_mid_run_leaves_a_failed_results_json_with_the_reason(tmp_path: Path) -> None:
    """SMAC's run history outgrows the limit after a few trials; metaconf's own files stay below it."""
    config = write_config(tmp_path, n_trials=60)
    result = run_limited(config, limit=8_000)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "the SMAC search failed: cannot write " in result.stderr and "File too large" in result.stderr
    run_dir = tmp_path / "runs" / "c"
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "failed"
    assert results["error"].startswith("cannot write ") and "File too large" in results["error"]
    assert 0 < results["trials"]["total"] < 60
    assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_a_run_the_full_disk_stopped_resumes_once_there_is_room(tmp_path: Path) -> None:
    """SMAC writes its state with open("w"): a write the disk refused used to leave runhistory.json truncated,
    and the run could not be resumed. metaconf makes SMAC's saves atomic (a temporary file renamed into place),
    so the last complete state survives and the run continues from it."""
    config = write_config(tmp_path, n_trials=30)
    failed = run_limited(config, limit=8_000)
    assert failed.returncode == 1, failed.stderr
    run_dir = tmp_path / "runs" / "c"
    [history] = (run_dir / "smac").rglob("runhistory.json")
    before = json.loads(history.read_text())["stats"]["finished"]  # complete JSON, not a truncated file
    assert 0 < before < 30
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    resumed = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", str(config)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "finished" and results["trials"]["total"] == 30
    assert json.loads(history.read_text())["stats"]["finished"] == 30
    trajectory = (run_dir / "trajectory.csv").read_text().splitlines()
    assert [int(line.split(",")[0]) for line in trajectory[1:]] == list(range(1, 31))
