"""The Python API (``import metaconf``): the documented example runs as written, the functions raise metaconf's
errors instead of exiting, and importing the package loads no heavy library."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import metaconf
from metaconf.errors import DataError, MetaconfError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _python_blocks(text: str) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 2, "docs/api.md has two Python examples: the commands and the building blocks"
    return blocks


def _run_example(block: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "example.py"
    script.write_text(block, encoding="utf-8")
    env = {**os.environ, "PYTHONHASHSEED": "0", "METACONF_PROBE_CACHE": str(tmp_path / "probes")}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_the_example_in_docs_api_md_runs_as_written(tmp_path: Path) -> None:
    done = _run_example(_python_blocks(DOCS.read_text(encoding="utf-8"))[0], tmp_path)
    lines = done.stdout.splitlines()
    assert lines[1].startswith("HyperparameterOptimizationFacade ")
    assert lines[2].startswith("finished accuracy ")
    assert (tmp_path / "runs" / "iris" / "model.joblib").exists()
    assert "proba_setosa" in done.stdout


@pytest.mark.slow
def test_the_building_blocks_example_in_docs_api_md_runs_as_written(tmp_path: Path) -> None:
    done = _run_example(_python_blocks(DOCS.read_text(encoding="utf-8"))[1], tmp_path)
    lines = done.stdout.splitlines()
    assert lines[0] == "finished 8"
    assert lines[1].startswith("balanced_accuracy 0.")
    assert 0.3 < float(lines[2]) < 0.7  # a coin's balanced accuracy
    assert "costs=((0.0, 1.0), (20.0, 0.0))" in lines[3]
    assert (tmp_path / "runs" / "api-demo" / "results.json").exists()


REEXPORTED = {"Config": "metaconf.config.model", "LLMOptions": "metaconf.advise.llm"}
"""Types the API takes or returns that live where they are defined; every other public name is metaconf.api's."""


def test_every_public_name_is_documented_and_comes_from_the_api() -> None:
    documented = DOCS.read_text(encoding="utf-8")
    for name in metaconf.__all__:
        if name == "__version__":
            continue
        value = getattr(metaconf, name)
        assert callable(value) and value.__module__ == REEXPORTED.get(name, "metaconf.api"), name
        if isinstance(value, type):
            assert f"`{name}`" in documented, name
        else:
            assert f"`{name}(" in documented, name
    assert set(metaconf.__all__) <= set(dir(metaconf))
    # the package lists the API's names statically (so that importing it loads nothing): the two lists agree
    from metaconf import api

    assert set(metaconf.__all__) - {"__version__"} == set(api.__all__)
    with pytest.raises(AttributeError):
        metaconf.no_such_function  # noqa: B018


def test_import_metaconf_loads_no_heavy_library() -> None:
    probe = (
        "import sys, metaconf; metaconf.suggest; "
        "print(sorted(m for m in ('sklearn', 'pandas', 'numpy', 'smac', 'ConfigSpace', 'pydantic') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_input_errors_raise_metaconf_errors_not_exits(tmp_path: Path) -> None:
    with pytest.raises((MetaconfError, DataError)) as raised:
        metaconf.suggest(demo="no_such_demo", budget="1m", output=tmp_path / "x.yaml")
    assert "no_such_demo" in str(raised.value)

    with pytest.raises(MetaconfError, match="minuets"):
        metaconf.suggest(demo="iris", budget="20 minuets", output=tmp_path / "x.yaml")

    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\ntool: smac\ntask: {target: species}\ndata: {demo: iris}\nstopping: {n_trials: 0}\n")
    with pytest.raises(MetaconfError) as raised:
        metaconf.run(broken)
    assert "MC" in raised.value.message and "nothing was run" in raised.value.message
    assert not (tmp_path / "runs").exists()

    with pytest.raises(MetaconfError):
        metaconf.load_config(tmp_path / "missing.yaml")
    with pytest.raises(MetaconfError):
        metaconf.read_run(tmp_path / "not_a_run")


def test_lint_config_and_compile_agree_with_the_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from metaconf.cli.app import app

    suggestion = metaconf.suggest(demo="iris", budget="30s", output=tmp_path / "iris.yaml", probe=False)
    path = tmp_path / "iris.yaml"
    path.write_text(suggestion.text, encoding="utf-8")
    loaded = metaconf.load_config(path)
    assert (loaded.task, loaded.stopping, loaded.optimizer) == (
        suggestion.advice.config.task,
        suggestion.advice.config.stopping,
        suggestion.advice.config.optimizer,
    )
    codes = sorted(f.code for f in metaconf.lint_config(path, select=["ALL"]))
    shown = CliRunner().invoke(app, ["lint", str(path), "--select", "ALL", "--format", "json"])
    assert sorted(re.findall(r'"code": "(MC\d+)"', shown.output)) == codes
    plan = metaconf.compile(path, seed=5)
    printed = CliRunner().invoke(app, ["compile", str(path), "--seed", "5", "--format", "json"])
    assert f'"{plan.meta}"' in printed.output
