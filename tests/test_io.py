"""Files metaconf writes: atomic, the umask's mode (or the replaced file's), symlinks written through, no temp
files left behind; through the helpers and through the commands that use them (issue 21)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.errors import OutputExistsError
from metaconf.io import atomic_path, atomic_write_text
from metaconf.report import results as rr

cli = CliRunner()


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the process umask for one test (and restore it)."""
    old = os.umask(0o022)
    os.umask(old)

    def set_umask(value: int) -> None:
        os.umask(value)

    yield set_umask
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_the_umask_allows(
    tmp_path: Path, umask: Callable[[int], None], mask: int, expected: int
) -> None:
    umask(mask)
    path = atomic_write_text(tmp_path / "out" / "c.yaml", "a: 1\n")
    assert mode(path) == expected and path.read_text() == "a: 1\n"
    assert leftovers(path.parent) == []


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask: Callable[[int], None]) -> None:
    umask(0o022)
    path = tmp_path / "c.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    atomic_write_text(path, "new\n", force=True)
    assert path.read_text() == "new\n" and mode(path) == 0o640


def test_an_existing_file_needs_force(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("mine\n")
    with pytest.raises(OutputExistsError):
        atomic_write_text(path, "theirs\n")
    assert path.read_text() == "mine\n" and leftovers(tmp_path) == []


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "configs" / "real.yaml"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o604)
    link = tmp_path / "link.yaml"
    link.symlink_to(Path("configs") / "real.yaml")
    atomic_write_text(link, "new\n", force=True)
    assert link.is_symlink() and os.readlink(link) == str(Path("configs") / "real.yaml")
    assert real.read_text() == "new\n" and mode(real) == 0o604
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(path, force=True) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk on fire")
    assert path.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_run_files_respect_the_umask_and_leave_no_temp_files(
    tmp_path: Path, umask: Callable[[int], None]
) -> None:
    umask(0o022)
    results = rr.RunResults(
        tool="smac",
        status="running",
        seed=0,
        config_sha256="x",
        metric_name="accuracy",
        greater_is_better=True,
        started=rr.utc_now(),
    )
    trial = rr.TrialRecord(
        trial=1, walltime_s=0.5, cost=0.2, status="success", incumbent_cost=0.2, incumbent_score=0.8
    )
    for durable in (True, False):
        rr.write_results(tmp_path, results, [trial], durable=durable)
    rr.write_results(tmp_path, results, [trial], plot=True)
    for name in (rr.RESULTS_FILE, rr.TRAJECTORY_FILE, rr.PLOT_FILE):
        assert mode(tmp_path / name) == 0o644, name
    assert leftovers(tmp_path) == []


def test_init_writes_a_config_with_the_umask_mode(tmp_path: Path, umask: Callable[[int], None]) -> None:
    umask(0o002)
    target = tmp_path / "c.yaml"
    result = cli.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o664


def test_lint_fix_writes_through_a_symlinked_config(tmp_path: Path, umask: Callable[[int], None]) -> None:
    umask(0o022)
    real = tmp_path / "shared" / "real.yaml"
    real.parent.mkdir()
    real.write_text("data:\n  demo: iris\nsearch_space:\n  models: [linear]\n  estimator: sklearn.svm:SVC\n")
    link = tmp_path / "c.yaml"
    link.symlink_to(real)
    result = cli.invoke(app, ["lint", "--fix", str(link)])
    assert "fixed:" in result.stderr, result.output
    assert link.is_symlink() and link.resolve() == real
    assert "estimator" not in real.read_text() and mode(real) == 0o644
