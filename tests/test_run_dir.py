"""Run directories metaconf owns (issue 21): the `.metaconf-run` marker, `--overwrite` and resume only on
marked directories, runs from before the marker, and the lock against a second run in the same directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.model import ExistingOutput
from metaconf.errors import OutputExistsError
from metaconf.targets.run_dir import (
    LOCK_FILE,
    MARKER_FILE,
    RunDirectoryBusy,
    RunRequest,
    claimed_run_directory,
    clear_run_directory,
    decide_existing,
    read_marker,
)

cli = CliRunner()


def write_config(directory: Path, name: str = "c", **sections: object) -> Path:
    data = {
        "data": {"demo": "iris"},
        "search_space": {"models": ["linear"]},
        "stopping": {"n_trials": 2},
        "execution": {"seed": 0, "output_dir": "runs"},
        **sections,
    }
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def foreign_directory(run_dir: Path, *, with_results: bool = True) -> dict[str, bytes]:
    """A directory someone else made, holding names metaconf also writes."""
    (run_dir / "smac" / "experiment").mkdir(parents=True)
    (run_dir / "smac" / "experiment" / "runhistory.json").write_text('{"theirs": true}')
    (run_dir / "config.yaml").write_text("their: config\n")
    if with_results:
        (run_dir / "results.json").write_text('{"accuracy": 0.9}')
    return snapshot(run_dir)


# --- foreign directories are never touched --------------------------------------------------------------------


@pytest.mark.parametrize("with_results", [True, False], ids=["config-and-results", "config-only"])
@pytest.mark.parametrize(
    "options", [["--overwrite"], ["--resume"], []], ids=["overwrite", "resume", "default"]
)
def test_a_directory_metaconf_did_not_make_is_never_written(
    tmp_path: Path, with_results: bool, options: list[str]
) -> None:
    config = write_config(tmp_path)
    run_dir = tmp_path / "runs" / "c"
    before = foreign_directory(run_dir, with_results=with_results)
    result = cli.invoke(app, ["run", str(config), "-q", *options])
    assert result.exit_code == 2, result.output
    assert f"`{run_dir}` holds files metaconf did not write" in result.stderr
    assert "execution.name" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(run_dir) == before  # not even a lock file or a marker was added


def test_decide_and_clear_refuse_a_foreign_directory(tmp_path: Path) -> None:
    before = foreign_directory(tmp_path)
    with pytest.raises(OutputExistsError, match="metaconf will not write"):
        decide_existing(tmp_path, "hash", ExistingOutput.overwrite, RunRequest(overwrite=True))
    with pytest.raises(OutputExistsError):
        clear_run_directory(tmp_path)
    assert snapshot(tmp_path) == before


def test_an_empty_directory_is_used_and_marked(tmp_path: Path) -> None:
    with claimed_run_directory(tmp_path, "smac"):
        marker = read_marker(tmp_path)
        assert marker is not None and marker["tool"] == "smac" and marker["metaconf"]
        assert decide_existing(tmp_path, "hash", ExistingOutput.resume, RunRequest()) == "new"
    assert (tmp_path / MARKER_FILE).exists()  # the directory existed before: it is kept, marked


def test_a_refused_new_run_leaves_no_directory_behind(tmp_path: Path) -> None:
    config = write_config(tmp_path, data={"path": "missing.csv"}, task={"target": "label"})
    result = cli.invoke(app, ["run", str(config), "-q"])
    assert result.exit_code == 2 and "missing.csv" in result.stderr
    assert not (tmp_path / "runs").exists()


# --- the lock ---------------------------------------------------------------------------------------------------

HOLD = """\
import sys, time
from pathlib import Path
from metaconf.targets.run_dir import claimed_run_directory
with claimed_run_directory(Path(sys.argv[1]), "smac"):
    print("locked", flush=True)
    time.sleep(600)
"""


def hold_lock(run_dir: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_run_in_the_same_directory_stops_at_the_lock(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    run_dir = tmp_path / "runs" / "c"
    holder = hold_lock(run_dir)
    try:
        result = cli.invoke(app, ["run", str(config), "-q"])
        assert result.exit_code == 2, result.output
        assert f"`{run_dir}` is in use by another `metaconf run` (pid {holder.pid} on " in result.stderr
        assert "Traceback" not in result.stderr
        assert sorted(p.name for p in run_dir.iterdir()) == [MARKER_FILE, LOCK_FILE]
    finally:
        holder.kill()  # SIGKILL: no clean-up runs in the holder; the kernel releases its lock
        holder.wait(timeout=30)
    with claimed_run_directory(run_dir, "smac"):
        assert f"pid {os.getpid()} on " in (run_dir / LOCK_FILE).read_text()


def test_the_lock_is_held_for_the_whole_run_and_released_when_it_is_killed(tmp_path: Path) -> None:
    """A real `metaconf run` in a subprocess holds the lock while it searches; SIGKILL releases it."""
    config = write_config(tmp_path, stopping={"n_trials": 200, "walltime": "10m"})
    run_dir = tmp_path / "runs" / "c"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED",)}
    run = subprocess.Popen(
        [sys.executable, "-m", "metaconf", "run", str(config), "-q"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not (run_dir / "trajectory.csv").exists():  # the search has started
            assert run.poll() is None, run.stderr.read() if run.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.2)
        with (
            pytest.raises(RunDirectoryBusy, match=f"pid {run.pid} on "),
            claimed_run_directory(run_dir, "smac"),
        ):
            pass
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    with claimed_run_directory(run_dir, "smac"):
        pass


# --- runs metaconf made ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_run_marks_its_directory_and_overwrite_and_resume_act_on_it(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    run_dir = tmp_path / "runs" / "c"
    assert cli.invoke(app, ["run", str(config), "-q"]).exit_code == 0
    marker = read_marker(run_dir)
    assert marker is not None and marker["tool"] == "smac" and "adopted" not in marker
    assert cli.invoke(app, ["run", str(config), "-q", "--resume"]).exit_code == 0
    result = cli.invoke(app, ["run", str(config), "-q", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert read_marker(run_dir) == marker  # the directory's identity stays


@pytest.mark.slow
def test_a_run_written_before_the_marker_is_recognised_and_marked(tmp_path: Path) -> None:
    """Runs made by a metaconf without markers: a results.json in metaconf's format makes them metaconf's."""
    config = write_config(tmp_path)
    run_dir = tmp_path / "runs" / "c"
    assert cli.invoke(app, ["run", str(config), "-q"]).exit_code == 0
    (run_dir / MARKER_FILE).unlink()
    (run_dir / LOCK_FILE).unlink()
    result = cli.invoke(app, ["run", str(config), "-q", "--overwrite"])
    assert result.exit_code == 0, result.output
    marker = read_marker(run_dir)
    assert marker is not None and marker["adopted"] is True
    assert json.loads((run_dir / "results.json").read_text())["status"] == "finished"


# --- SMAC's own files (issue 21, item 3) ---------------------------------------------------------------------------


def smac_files(run_dir: Path) -> set[str]:
    return {str(p.relative_to(run_dir)) for p in (run_dir / "smac").rglob("*.json")}


@pytest.mark.slow
def test_overwrite_keeps_the_files_smac_wrote_for_the_new_run_and_the_run_resumes(tmp_path: Path) -> None:
    """`--overwrite` used to delete `smac/` after SMAC's constructor had written scenario.json there: the new run
    had no scenario.json, so it could not be resumed and DeepCAVE could not open it."""
    config = write_config(tmp_path)
    run_dir = tmp_path / "runs" / "c"
    assert cli.invoke(app, ["run", str(config), "-q", "--seed", "1"]).exit_code == 0
    assert cli.invoke(app, ["run", str(config), "-q", "--overwrite"]).exit_code == 0
    files = smac_files(run_dir)
    assert {"smac/metaconf/0/scenario.json", "smac/metaconf/0/runhistory.json"} <= files
    assert not any(name.startswith("smac/metaconf/1/") for name in files)  # the old run's seed is gone
    history = json.loads((run_dir / "smac/metaconf/0/runhistory.json").read_text())
    assert history["stats"]["finished"] == 2
    # the overwritten run resumes from SMAC's state (it used to start from scratch: no scenario.json)
    again = cli.invoke(app, ["run", str(config), "-q", "--resume"])
    assert again.exit_code == 0, again.output
    history = json.loads((run_dir / "smac/metaconf/0/runhistory.json").read_text())
    assert history["stats"]["finished"] == 2  # n_trials was reached: nothing ran again ...
    trajectory = (run_dir / "trajectory.csv").read_text().splitlines()
    assert len(trajectory) == 1 + 2  # ... not 2 more trials of a search started from scratch


@pytest.mark.slow
def test_a_smac_state_that_differs_is_refused_before_smac_could_prompt(tmp_path: Path) -> None:
    """SMAC's constructor calls input() when the old scenario differs; metaconf decides before it runs."""
    config = write_config(tmp_path)
    run_dir = tmp_path / "runs" / "c"
    assert cli.invoke(app, ["run", str(config), "-q"]).exit_code == 0
    scenario = run_dir / "smac/metaconf/0/scenario.json"
    data = json.loads(scenario.read_text())
    data["walltime_limit"] = 12345.0  # what a moved project or another SMAC version looks like to SMAC
    scenario.write_text(json.dumps(data))
    before = snapshot(run_dir)
    result = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", str(config), "-q", "--resume"],
        cwd=tmp_path, input="1\n", capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "differs from this one" in result.stderr and "Press one of the following" not in result.stdout
    after = snapshot(run_dir)
    for files in (before, after):
        files.pop(LOCK_FILE)  # the lock names the process that holds it
    assert after == before  # nothing was written
