"""Fault injection (issue 21, item 4): real `metaconf run` processes killed with SIGKILL at seeded random moments
(start-up, a trial, SMAC saving its state, the final refit), then run again until they finish. Every run must
end finished, with every trial counted once: `trajectory.csv`, SMAC's run history and `results.json` agree on
n_trials, and no temporary file is left behind. Corrupted files and a lost `trajectory.csv` resume correctly."""

from __future__ import annotations

import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

N_TRIALS = 20
MIN_KILLS = 24


def write_config(directory: Path, name: str) -> Path:
    data = {
        "data": {"demo": "iris"},
        "search_space": {"models": ["linear", "k_nearest_neighbors"]},
        "stopping": {"n_trials": N_TRIALS},
        "execution": {"seed": 0, "output_dir": "runs"},
    }
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def start(config: Path, *, quiet: bool = True) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}  # the re-exec is part of what is killed
    return subprocess.Popen(
        [sys.executable, "-m", "metaconf", "run", config.name, *(["-q"] if quiet else [])],
        cwd=config.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def kill_after(process: subprocess.Popen[str], seconds: float) -> bool:
    """SIGKILL the run's process group after ``seconds``; False when it had finished by then."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        return True


def finish(config: Path, *, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    process = start(config, quiet=quiet)
    out, err = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def check_complete(run_dir: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "finished", results
    assert results["trials"]["total"] == N_TRIALS, results["trials"]
    with (run_dir / "trajectory.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["trial"]) for r in rows] == list(range(1, N_TRIALS + 1))
    [history_file] = (run_dir / "smac").rglob("runhistory.json")
    history = json.loads(history_file.read_text())
    finished = [d for d in history["data"] if d["status"] != 2]  # 2: RUNNING
    assert len(finished) == N_TRIALS == history["stats"]["finished"]
    assert (history_file.parent / "scenario.json").exists()
    leftovers = [p.name for p in run_dir.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".metaconf-saving")]
    assert not leftovers


@pytest.mark.slow
def test_runs_killed_at_random_moments_resume_and_count_every_trial_once(tmp_path: Path) -> None:
    # The kill moments are drawn from this machine's own duration of an uninterrupted run, so a faster or slower
    # machine still kills start-up, trials, saves and the refit rather than finishing before the kill.
    began = time.monotonic()
    check_complete(tmp_path / "runs" / "calibration", finish(write_config(tmp_path, "calibration")))
    duration = time.monotonic() - began
    rng = random.Random(21)
    kills = 0
    rounds = 0
    while kills < MIN_KILLS:
        rounds += 1
        assert rounds <= 16, f"only {kills} kills in 16 runs of about {duration:.1f} s: the runs finish before the kills"
        config = write_config(tmp_path, f"r{rounds}")
        for _ in range(8):  # up to 8 kills of one run, each after a fresh start (resume)
            if not kill_after(start(config), rng.uniform(0.05, 0.95) * duration):
                break
            kills += 1
        check_complete(tmp_path / "runs" / f"r{rounds}", finish(config))
    assert kills >= MIN_KILLS


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage",
    ["trajectory truncated", "trajectory deleted", "trajectory row added", "runhistory temp left"],
)
def test_a_damaged_run_directory_resumes_from_smac_s_state(tmp_path: Path, damage: str) -> None:
    config = write_config(tmp_path, "d")
    run_dir = tmp_path / "runs" / "d"
    process = start(config)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # stop the run once it has recorded a few trials
        trajectory = run_dir / "trajectory.csv"
        if trajectory.exists() and len(trajectory.read_text().splitlines()) > 6:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    trajectory = run_dir / "trajectory.csv"
    lines = trajectory.read_text().splitlines()
    if damage == "trajectory truncated":  # what a kill mid-write of a non-atomic writer would leave
        trajectory.write_text("\n".join(lines)[: len("\n".join(lines)) // 2])
    elif damage == "trajectory deleted":
        trajectory.unlink()
    elif damage == "trajectory row added":  # a trial recorded after SMAC's last save: SMAC runs it again
        trajectory.write_text("\n".join([*lines, lines[-1]]) + "\n")
    else:
        [history] = (run_dir / "smac").rglob("runhistory.json")
        (history.parent / ".metaconf-saving-runhistory.json").write_text('{"stats": {"submi')
    result = finish(config, quiet=False)
    check_complete(run_dir, result)
    said = " ".join(result.stderr.split())
    if damage in ("trajectory truncated", "trajectory deleted"):  # what was repaired is said
        assert "rebuilt from the run history" in said, said
    elif damage == "trajectory row added":
        # the added row, and any trial the kill caught between writing its row and SMAC's next save
        assert re.search(
            r"1 trial in trajectory\.csv finished after SMAC last saved its state .*"
            r"SMAC runs it again, so the row was dropped"
            r"|([2-9]|[1-9]\d+) trials in trajectory\.csv finished after SMAC last saved its state .*"
            r"SMAC runs them again, so the rows were dropped",
            said,
        ), said


@pytest.mark.slow
def test_a_damaged_smac_run_history_is_named_with_exit_2_and_overwrite_starts_again(tmp_path: Path) -> None:
    config = write_config(tmp_path, "h")
    run_dir = tmp_path / "runs" / "h"
    process = start(config)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        trajectory = run_dir / "trajectory.csv"
        if trajectory.exists() and len(trajectory.read_text().splitlines()) > 6:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    [history] = (run_dir / "smac").rglob("runhistory.json")
    history.write_text(history.read_text()[:300])  # damaged from outside: metaconf's own saves are atomic
    result = finish(config, quiet=False)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    said = " ".join(result.stderr.split())
    assert "runhistory.json` is damaged" in said and "--overwrite" in said, said
    overwritten = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", config.name, "-q", "--overwrite"],
        cwd=config.parent, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    check_complete(run_dir, overwritten)
