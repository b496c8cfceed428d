"""The trust model (docs/trust.md, issue 21): configs are data.

- `lint` never runs code a config names; `lint --trust` imports the estimator to check its class;
- `run` imports the estimator from the config's directory only, never from the working directory;
- every YAML file metaconf reads (configs, `search_space.file`) has the same limits: size, aliases,
  duplicate keys, tags.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.model import Config
from metaconf.lint.engine import LintOptions, lint_file
from metaconf.space.builtin import build_space
from metaconf.space.errors import SpaceError
from metaconf.space.user_code import find_module

cli = CliRunner()
_names = itertools.count()

SIDE_EFFECT = """\
import pathlib
pathlib.Path({flag!r}).write_text("imported")
from sklearn.tree import DecisionTreeClassifier as Tree
"""


def side_effect_module(directory: Path, flag: Path) -> str:
    """A module in ``directory`` that writes ``flag`` when imported; returns its (unique) name."""
    name = f"side_effect_{os.getpid()}_{next(_names)}"
    (directory / f"{name}.py").write_text(SIDE_EFFECT.format(flag=str(flag)))
    return name


def user_space_config(directory: Path, estimator: str, *, extra: str = "") -> Path:
    path = directory / "c.yaml"
    path.write_text(
        "data:\n  demo: iris\nsearch_space:\n  inline:\n    max_depth: {lower: 1, upper: 4}\n"
        f"  estimator: {estimator}\nstopping:\n  n_trials: 2\nexecution:\n  seed: 0\n  output_dir: runs\n"
        + extra
    )
    return path


def mc208(path: Path, *, trust: bool = False) -> list[str]:
    return [f.message for f in lint_file(path, LintOptions(select=["MC208"], trust=trust))]


# --- lint runs no code a config names -------------------------------------------------------------------------


def test_lint_finds_the_module_without_running_it(tmp_path: Path) -> None:
    flag = tmp_path / "imported.flag"
    name = side_effect_module(tmp_path, flag)
    config = user_space_config(tmp_path, f"{name}:Tree")
    result = cli.invoke(app, ["lint", str(config)])
    assert result.exit_code == 0, result.output
    assert not flag.exists() and name not in sys.modules


def test_lint_in_a_subprocess_started_in_the_config_directory_runs_nothing(tmp_path: Path) -> None:
    """`python -m metaconf lint` puts the working directory first on sys.path: still nothing is imported."""
    flag = tmp_path / "imported.flag"
    name = side_effect_module(tmp_path, flag)
    user_space_config(tmp_path, f"{name}:Tree")
    result = subprocess.run(
        [sys.executable, "-m", "metaconf", "lint", "c.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not flag.exists()


def test_lint_reports_a_module_it_cannot_find_without_importing(tmp_path: Path) -> None:
    config = user_space_config(tmp_path, "sklearn.ensembel:RandomForestClassifier")
    (finding,) = lint_file(config, LintOptions(select=["MC208"]))
    assert "Cannot find module `sklearn.ensembel`" in finding.message and "--trust" in str(finding.fix_title)
    assert "sklearn.ensembel" not in sys.modules
    user_space_config(tmp_path, "no_such_package_here:Model")
    assert len(mc208(config)) == 1


def test_lint_trust_imports_from_the_config_directory_and_checks_the_class(tmp_path: Path) -> None:
    flag = tmp_path / "imported.flag"
    name = side_effect_module(tmp_path, flag)
    config = user_space_config(tmp_path, f"{name}:NoSuchTree")
    assert mc208(config) == []  # the class is unknown without importing
    assert not flag.exists()
    result = cli.invoke(app, ["lint", "--trust", str(config)])
    assert result.exit_code == 1 and "MC208" in result.stdout and "has no class `NoSuchTree`" in result.stdout
    assert flag.exists()
    assert (
        str(tmp_path.resolve()) not in sys.path
    )  # the config's directory was on the path only for the import


def test_find_module_executes_no_parent_package(tmp_path: Path) -> None:
    package = tmp_path / f"pkg_{os.getpid()}_{next(_names)}"
    package.mkdir()
    flag = tmp_path / "parent.flag"
    (package / "__init__.py").write_text(f"import pathlib\npathlib.Path({str(flag)!r}).write_text('x')\n")
    (package / "model.py").write_text("")
    assert find_module(f"{package.name}.model", tmp_path)
    assert not find_module(f"{package.name}.nothing", tmp_path)
    assert not find_module(package.name, None)  # not on sys.path, and no config directory given
    assert not flag.exists()


# --- run imports from the config's directory only ----------------------------------------------------------------


def run_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED", "PYTHONPATH", "METACONF_NO_REEXEC")
    }
    env.update(extra)
    return env


@pytest.mark.parametrize("hash_seed", [None, "0"], ids=["re-executed", "not-re-executed"])
def test_run_never_imports_a_module_from_the_working_directory(tmp_path: Path, hash_seed: str | None) -> None:
    """A module in the directory `metaconf run` is started from, not next to the config, is not imported:
    the config's lint stops the run (exit 2) and the module's code never runs."""
    workdir, project = tmp_path / "work", tmp_path / "project"
    workdir.mkdir()
    project.mkdir()
    flag = tmp_path / "imported.flag"
    name = side_effect_module(workdir, flag)
    config = user_space_config(project, f"{name}:Tree")
    env = run_env(**({"PYTHONHASHSEED": hash_seed} if hash_seed else {}))
    result = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", str(config), "-q"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"Cannot import module `{name}`" in result.stderr
    assert not flag.exists()
    assert "Traceback" not in result.stderr


def test_run_checks_the_estimator_next_to_the_config_before_it_starts(tmp_path: Path) -> None:
    flag = tmp_path / "imported.flag"
    name = side_effect_module(tmp_path, flag)
    config = user_space_config(tmp_path, f"{name}:NoSuchTree")
    result = cli.invoke(app, ["run", str(config), "-q"])
    assert result.exit_code == 2 and "has no class `NoSuchTree`" in result.stderr
    assert flag.exists() and not (tmp_path / "runs").exists()


def test_dry_run_runs_no_code_the_config_names(tmp_path: Path) -> None:
    flag = tmp_path / "imported.flag"
    name = side_effect_module(tmp_path, flag)
    config = user_space_config(tmp_path, f"{name}:Tree")
    for command in (["run", "--dry-run"], ["compile"]):
        result = cli.invoke(app, [*command, str(config)])
        assert result.exit_code == 0, result.output
    assert not flag.exists()


@pytest.mark.slow
def test_run_imports_the_estimator_next_to_the_config_from_any_working_directory(tmp_path: Path) -> None:
    workdir, project = tmp_path / "work", tmp_path / "project"
    workdir.mkdir()
    project.mkdir()
    flag = tmp_path / "imported.flag"
    name = side_effect_module(project, flag)
    config = user_space_config(project, f"{name}:Tree")
    result = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", str(config), "-q"],
        cwd=workdir,
        env=run_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert flag.exists()
    results = json.loads((project / "runs" / "c" / "results.json").read_text())
    assert results["status"] == "finished" and results["trials"]["by_status"] == {"success": 2}


# --- one loader, the same limits, for every YAML file ------------------------------------------------------------


def space_config(directory: Path, space_file: str) -> Config:
    return Config.model_validate(
        {"search_space": {"file": space_file, "estimator": "sklearn.tree:DecisionTreeClassifier"}}
    )


def space_error(directory: Path, name: str, content: str | bytes) -> str:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(SpaceError) as info:
        build_space(space_config(directory, name), directory)
    return info.value.message


def test_space_file_duplicate_keys_are_refused_with_line_and_column(tmp_path: Path) -> None:
    message = space_error(
        tmp_path, "space.yaml", "max_depth: {lower: 2, upper: 9}\nmax_depth: {lower: 1, upper: 3}\n"
    )
    assert "defines `max_depth` twice (space.yaml:2:1, first at line 1)" in message
    message = space_error(tmp_path, "space.json", '{"max_depth": [1, 2, 3], "max_depth": [4, 5, 6]}')
    assert "`max_depth` is defined twice" in message


def test_space_file_alias_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    message = space_error(tmp_path, "space.yaml", "\n".join(lines) + "\n")
    assert "alias bomb" in message and "space.yaml:" in message


def test_space_file_python_tags_are_refused_and_never_executed(tmp_path: Path) -> None:
    flag = tmp_path / "pwned"
    message = space_error(
        tmp_path, "space.yaml", f"max_depth: !!python/object/apply:os.system ['touch {flag}']\n"
    )
    assert "space.yaml:1:12" in message and "is not allowed" in message
    assert not flag.exists()


def test_space_file_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    from metaconf.config.loader import MAX_FILE_BYTES

    big = "# padding\n" * (MAX_FILE_BYTES // 10 + 1) + "max_depth: [1, 2, 3]\n"
    assert "larger than 2 MiB" in space_error(tmp_path, "space.yaml", big)
    assert "larger than 2 MiB" in space_error(tmp_path, "space.json", " " * MAX_FILE_BYTES + "{}")


def test_lint_reports_a_space_file_duplicate_key_as_mc201(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text("max_depth: {lower: 2, upper: 9}\nmax_depth: {lower: 1, upper: 3}\n")
    config = tmp_path / "c.yaml"
    config.write_text(
        "data:\n  demo: iris\nsearch_space:\n  file: space.yaml\n  estimator: sklearn.svm:SVC\n"
    )
    result = cli.invoke(app, ["lint", str(config)])
    assert result.exit_code == 2
    assert "c.yaml:4:9: MC201" in result.stdout and "space.yaml:2:1" in result.stdout


@pytest.mark.parametrize(
    ("address", "host"),
    [
        ("tcp://10.0.0.5:8786", "10.0.0.5"),
        ("10.0.0.5:8786", "10.0.0.5"),  # no scheme is tcp
        ("ws://dask.example.org:8787", "dask.example.org"),
        ("tcp://[fe80::1]:8786", "[fe80::1]"),
        ("tls://10.0.0.5:8786", None),
        ("tcp://localhost:8786", None),
        ("tcp://127.0.0.1:8786", None),
        ("tcp://[::1]:8786", None),
        ("inproc://192.168.1.2/1/1", None),
    ],
)
def test_a_plain_tcp_scheduler_off_this_machine_is_reported(address: str, host: str | None) -> None:
    from metaconf.lint.engine import LintOptions, lint_text
    from metaconf.lint.rules.parallel import scheduler_in_the_clear

    assert scheduler_in_the_clear(address) == host
    text = f"execution:\n  dask_scheduler: '{address}'\n"
    found = [f for f in lint_text(text, "c.yaml", LintOptions(select=["MC317"])) if f.code == "MC317"]
    assert bool(found) == (host is not None)
    if found:
        assert found[0].span.line == 2 and "tls://" in found[0].message
