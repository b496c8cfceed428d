"""auto-sklearn's environment: location, interpreter discovery (fake pyenv trees), marker states, install
orchestration and its refusals, the `metaconf backends` commands, and a worker that crashes.

Fake interpreters are small shell scripts that answer like Python does to the exact commands metaconf sends
(the version probe, `-m venv`, `-m pip install`, the worker's `--check`). The real install is exercised by
`metaconf backends install auto-sklearn` in CI and by tests/test_autosklearn_e2e.py.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.errors import UsageError
from metaconf.targets.autosklearn import environment as envs

CHECK_LINE = (
    '{"event": "check", "versions": {"python": "3.9.18", "auto-sklearn": "0.15.0", "smac": "1.2", '
    '"scikit-learn": "0.24.2"}, "import_s": 0.1}'
)


def write_script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def fake_python(path: Path, version: str, *, venv: bool = True, extra: str = "") -> Path:
    """A script that answers metaconf's version probe like CPython ``version`` would."""
    major, minor, patch = version.split(".")
    probe = json.dumps({"version": [int(major), int(minor), int(patch)], "implementation": "cpython", "venv": venv})
    return write_script(path, f"{extra}echo '{probe}'\n")


def fake_pyenv(root: Path, versions: list[str]) -> Path:
    for version in versions:
        fake_python(root / "versions" / version / "bin" / "python", version if version[0].isdigit() and "-" not in version else "3.9.1")
    return root


def write_marker(directory: Path, **overrides: object) -> None:
    marker = {
        "format": envs.MARKER_FORMAT,
        "backend": "auto-sklearn",
        "recipe": "wheels",
        "recipe_sha256": envs.WHEELS.sha256(),
        "base_python": "/usr/bin/python3.9",
        "versions": {"auto-sklearn": "0.15.0", "python": "3.9.18"},
    }
    marker.update(overrides)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / envs.MARKER_FILE).write_text(json.dumps(marker), encoding="utf-8")


# ------------------------------------------------------------------------------------------------ location
def test_envs_root_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(envs.ENV_DIR_VARIABLE, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert envs.envs_root() == (tmp_path / "home" / ".cache" / "metaconf" / "envs").resolve()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert envs.env_dir() == (tmp_path / "xdg" / "metaconf" / "envs" / "auto-sklearn").resolve()
    monkeypatch.setenv(envs.ENV_DIR_VARIABLE, str(tmp_path / "ci-cache"))
    assert envs.env_dir() == (tmp_path / "ci-cache" / "auto-sklearn").resolve()
    assert envs.env_dir(tmp_path / "explicit") == (tmp_path / "explicit" / "auto-sklearn").resolve()


# ---------------------------------------------------------------------------------------------- interpreters
def test_candidates_prefer_the_wheels_recipe_then_newest_patch(tmp_path: Path) -> None:
    pyenv = fake_pyenv(tmp_path / "pyenv", ["3.8.18", "3.9.7", "3.9.18", "3.10.13", "3.12.1", "3.9.18-dev", "miniconda3"])
    bin_dir = tmp_path / "bin"
    fake_python(bin_dir / "python3.9", "3.9.2")
    fake_python(bin_dir / "python3.11", "3.11.4")
    ordered = [(p.relative_to(tmp_path).as_posix(), source) for p, source in envs.candidate_paths(pyenv, str(bin_dir))]
    assert ordered == [
        ("pyenv/versions/3.9.18/bin/python", "pyenv"),
        ("pyenv/versions/3.9.7/bin/python", "pyenv"),
        ("bin/python3.9", "PATH"),
        ("pyenv/versions/3.8.18/bin/python", "pyenv"),
        ("pyenv/versions/3.10.13/bin/python", "pyenv"),
        ("bin/python3.11", "PATH"),
    ]


def test_find_interpreters_probes_and_drops_broken_ones(tmp_path: Path) -> None:
    pyenv = fake_pyenv(tmp_path / "pyenv", ["3.8.18", "3.10.13"])
    write_script(pyenv / "versions" / "3.9.18" / "bin" / "python", "echo 'cannot run' >&2\nexit 1\n")  # a broken build
    found = envs.find_interpreters(pyenv, str(tmp_path / "empty"))
    assert [(i.version_text, i.source, i.recipe.name if i.recipe else None) for i in found] == [
        ("3.8.18", "pyenv", "wheels"),
        ("3.10.13", "pyenv", "source-build"),
    ]
    chosen = envs.choose_interpreter(pyenv=pyenv, search_path=str(tmp_path / "empty"))
    assert chosen.version_text == "3.8.18"


def test_no_suitable_python_says_what_to_install(tmp_path: Path) -> None:
    pyenv = fake_pyenv(tmp_path / "pyenv", ["3.12.1"])
    with pytest.raises(envs.BackendEnvError) as caught:
        envs.choose_interpreter(pyenv=pyenv, search_path=str(tmp_path / "empty"))
    assert "no suitable Python found" in caught.value.message
    assert "pyenv install 3.9.18" in (caught.value.hint or "")
    assert "--python PATH" in (caught.value.hint or "")


def test_explicit_python_is_checked(tmp_path: Path) -> None:
    with pytest.raises(envs.BackendEnvError, match="no such file"):
        envs.choose_interpreter(tmp_path / "nope")
    too_new = fake_python(tmp_path / "py312", "3.12.1")
    with pytest.raises(envs.BackendEnvError) as caught:
        envs.choose_interpreter(too_new)
    assert "is Python 3.12.1" in caught.value.message and "3.8 to 3.11" in caught.value.message
    no_venv = fake_python(tmp_path / "debian39", "3.9.2", venv=False)
    with pytest.raises(envs.BackendEnvError) as caught:
        envs.choose_interpreter(no_venv)
    assert "apt-get install python3.9-venv" in (caught.value.hint or "")
    good = fake_python(tmp_path / "py39", "3.9.18")
    assert envs.choose_interpreter(good).source == "--python"


# ------------------------------------------------------------------------------------------------ states
def test_states_missing_half_installed_broken_outdated_ready(tmp_path: Path) -> None:
    directory = tmp_path / "auto-sklearn"
    status = envs.inspect_env(directory)
    assert status.state == envs.EnvState.missing
    assert status.fix == "run `metaconf backends install auto-sklearn`"

    (directory / "bin").mkdir(parents=True)
    (directory / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (directory / envs.LOG_FILE).write_text("Collecting auto-sklearn\n", encoding="utf-8")
    status = envs.inspect_env(directory, root_option=tmp_path)
    assert status.state == envs.EnvState.half_installed
    assert str(directory / envs.LOG_FILE) in (status.problem or "")
    assert status.fix == f"run `metaconf backends install auto-sklearn --repair --env-dir {tmp_path}`"

    write_marker(directory)
    status = envs.inspect_env(directory)
    assert status.state == envs.EnvState.broken
    assert "is gone" in (status.problem or "")

    write_script(directory / "bin" / "python", f"echo '{CHECK_LINE}'\n")
    write_marker(directory, recipe_sha256="0" * 64, recipe="wheels-2024")
    assert envs.inspect_env(directory).state == envs.EnvState.outdated

    write_marker(directory)
    status = envs.inspect_env(directory, deep=True)
    assert status.state == envs.EnvState.ready
    assert status.versions["auto-sklearn"] == "0.15.0"
    assert status.check_s is not None


def test_deep_check_catches_an_env_whose_imports_fail(tmp_path: Path) -> None:
    directory = tmp_path / "auto-sklearn"
    write_marker(directory)
    write_script(directory / "bin" / "python", "echo \"ImportError: numpy.core.multiarray failed to import\" >&2\nexit 1\n")
    assert envs.inspect_env(directory).state == envs.EnvState.ready  # the cheap check trusts the marker
    status = envs.inspect_env(directory, deep=True)
    assert status.state == envs.EnvState.broken
    assert "numpy.core.multiarray failed to import" in (status.problem or "")
    assert "--repair" in (status.fix or "")


# ------------------------------------------------------------------------------------------------ install
def fake_installable_python(tmp_path: Path, *, pip_fails: bool = False) -> envs.Interpreter:
    """A base Python whose `-m venv DIR` makes a venv whose Python 'installs' and passes the check."""
    env_python = write_script(
        tmp_path / "templates" / "env-python",
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then\n'
        '  echo "Collecting auto-sklearn==0.15.0"\n'
        + ('  echo "ERROR: No matching distribution found for auto-sklearn==0.15.0"\n  exit 1\n' if pip_fails else "")
        + '  echo "Successfully installed auto-sklearn-0.15.0"\n  exit 0\nfi\n'
        f"echo '{CHECK_LINE}'\n",
    )
    base = fake_python(
        tmp_path / "base" / "python3.9",
        "3.9.18",
        extra=(
            'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
            '  mkdir -p "$3/bin" && echo "home = /usr" > "$3/pyvenv.cfg"\n'
            f'  cp "{env_python}" "$3/bin/python"\n'
            "  exit 0\nfi\n"
        ),
    )
    interpreter = envs.probe_interpreter(base, "--python")
    assert interpreter is not None
    return interpreter


def test_install_writes_the_marker_last_and_logs_pip(tmp_path: Path) -> None:
    interpreter = fake_installable_python(tmp_path)
    directory = tmp_path / "envs" / "auto-sklearn"
    lines: list[str] = []
    marker = envs.install_env(directory, interpreter, progress=lines.append)
    assert marker["recipe"] == "wheels" and marker["versions"]["auto-sklearn"] == "0.15.0"
    assert envs.read_marker(directory) == marker
    assert envs.inspect_env(directory).state == envs.EnvState.ready
    log = (directory / envs.LOG_FILE).read_text(encoding="utf-8")
    assert "Successfully installed auto-sklearn-0.15.0" in log
    assert any(line.startswith("step 1/1: pip install auto-sklearn==0.15.0") for line in lines)
    assert "  Successfully installed auto-sklearn-0.15.0" in lines

    kept: list[str] = []
    assert envs.install_env(directory, interpreter, repair=True, progress=kept.append) == marker  # ready: kept
    assert kept and kept[0].startswith("already installed")
    (directory / "stale").write_text("x", encoding="utf-8")
    envs.install_env(directory, interpreter, force=True)  # --force rebuilds a ready environment
    assert not (directory / "stale").exists()
    assert envs.inspect_env(directory).ready


def test_a_failed_install_leaves_no_marker_and_points_at_the_log(tmp_path: Path) -> None:
    interpreter = fake_installable_python(tmp_path, pip_fails=True)
    directory = tmp_path / "envs" / "auto-sklearn"
    with pytest.raises(envs.BackendEnvError) as caught:
        envs.install_env(directory, interpreter)
    assert "No matching distribution found" in caught.value.message
    assert str(directory / envs.LOG_FILE) in caught.value.message
    assert "--repair" in (caught.value.hint or "")
    assert envs.read_marker(directory) is None
    assert envs.inspect_env(directory).state == envs.EnvState.half_installed
    with pytest.raises(UsageError, match="half installed"):
        envs.install_env(directory, interpreter)


def test_repair_never_deletes_a_folder_metaconf_did_not_make(tmp_path: Path) -> None:
    interpreter = fake_installable_python(tmp_path)
    directory = tmp_path / "envs" / "auto-sklearn"
    directory.mkdir(parents=True)
    (directory / "thesis.tex").write_text("years of work", encoding="utf-8")
    with pytest.raises(UsageError, match="will not delete it"):
        envs.install_env(directory, interpreter, repair=True)
    assert (directory / "thesis.tex").exists()


def test_source_build_needs_a_compiler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    interpreter = envs.probe_interpreter(fake_python(tmp_path / "py311", "3.11.7"), "--python")
    assert interpreter is not None and interpreter.recipe is envs.SOURCE_BUILD
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(envs.BackendEnvError, match="no C compiler"):
        envs.install_env(tmp_path / "env", interpreter)


# ------------------------------------------------------------------------------------------------ CLI
def test_backends_list_and_doctor_report_a_missing_env(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["backends", "list", "--env-dir", str(tmp_path), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["backend"]: row for row in json.loads(listed.stdout)}
    assert rows["smac"]["state"] == "ready" and rows["smac"]["versions"]["smac"] == "2.4.1"
    assert rows["auto-sklearn"]["state"] == "missing"
    assert rows["auto-sklearn"]["location"] == str((tmp_path / "auto-sklearn").resolve())
    assert rows["auto-sklearn"]["fix"] == f"run `metaconf backends install auto-sklearn --env-dir {tmp_path}`"
    doctor = runner.invoke(app, ["backends", "doctor", "--env-dir", str(tmp_path)])
    assert doctor.exit_code == 1
    assert "auto-sklearn: not installed" in doctor.stdout
    assert "Pythons that can build" in doctor.stdout


def test_backends_doctor_offers_repair_for_a_half_installed_env(tmp_path: Path) -> None:
    (tmp_path / "auto-sklearn" / "lib").mkdir(parents=True)
    result = CliRunner().invoke(app, ["backends", "doctor", "--env-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "half-installed" in result.stdout
    assert f"metaconf backends install auto-sklearn --repair --env-dir {tmp_path}" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["install", "h2o"], "unknown backend `h2o`"),
        (["install", "smac"], "SMAC3 needs no environment"),
        (["install", "auto-sklearn", "--python", "/no/such/python"], "no such file"),
    ],
)
def test_backends_install_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["backends", *args, "--env-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_backends_install_cli_end_to_end_with_a_fake_python(tmp_path: Path) -> None:
    interpreter = fake_installable_python(tmp_path)
    result = CliRunner().invoke(
        app, ["backends", "install", "auto-sklearn", "--python", str(interpreter.path), "--env-dir", str(tmp_path / "envs")]
    )
    assert result.exit_code == 0, result.output
    assert f"pip's full output goes to {(tmp_path / 'envs' / 'auto-sklearn').resolve() / envs.LOG_FILE}" in result.output
    assert "ready in" in result.output


# ------------------------------------------------------------------------------------------------ a crashing worker
def test_a_crashing_worker_is_a_clear_failure_and_keeps_the_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "envs"
    directory = root / "auto-sklearn"
    write_marker(directory)
    write_script(directory / "bin" / "python", "echo 'Segmentation fault in libgomp' >&2\nexit 139\n")
    monkeypatch.setenv(envs.ENV_DIR_VARIABLE, str(root))
    config = tmp_path / "askl.yaml"
    config.write_text(
        "tool: auto-sklearn\ntask:\n  type: classification\ndata:\n  demo: iris\nstopping:\n  walltime: 30s\n"
        "execution:\n  seed: 0\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["run", str(config), "--quiet"])
    assert result.exit_code == 1, result.output
    assert "exited with code 139 without a result: Segmentation fault in libgomp" in result.output
    assert "Traceback" not in result.output
    run_dir = tmp_path / "runs" / "askl"
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert results["status"] == "failed" and results["tool"] == "auto-sklearn"
    assert (run_dir / "autosklearn" / "spec.json").exists()


def test_run_without_the_env_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(envs.ENV_DIR_VARIABLE, str(tmp_path / "envs"))
    config = tmp_path / "askl.yaml"
    config.write_text("tool: auto-sklearn\ndata:\n  demo: iris\nstopping:\n  walltime: 30s\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(config), "--quiet"])
    assert result.exit_code == 2
    assert "metaconf backends install auto-sklearn" in result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(
    not envs.inspect_env(envs.env_dir()).ready, reason="needs the environment: metaconf backends install auto-sklearn"
)
def test_doctor_imports_the_real_environment() -> None:
    status = envs.inspect_env(envs.env_dir(), deep=True)
    assert status.state == envs.EnvState.ready, status.problem
    assert status.versions["auto-sklearn"] == "0.15.0"
    assert status.versions["smac"] == "1.2"
    assert os.path.basename(str(status.python)) == "python"
