"""The benchmarks measure metaconf as its users call it: `benchmarks/*.py` import only the public API
(``import metaconf``, its ``__all__``, and ``metaconf.errors``). ``benchmarks/components/`` is the documented
exception: each script there measures one internal component and imports it on purpose."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import metaconf

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
PUBLIC_MODULES = {"metaconf", "metaconf.errors"}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                f"{path.name}:{node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] == "metaconf" and alias.name not in PUBLIC_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "metaconf":
            if node.module not in PUBLIC_MODULES:
                found.append(f"{path.name}:{node.lineno}: from {node.module} import ...")
            elif node.module == "metaconf":
                found += [
                    f"{path.name}:{node.lineno}: from metaconf import {alias.name} (not in metaconf.__all__)"
                    for alias in node.names
                    if alias.name not in metaconf.__all__
                ]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "metaconf"
            and node.attr not in (*metaconf.__all__, "errors", "__file__")
        ):
            found.append(f"{path.name}:{node.lineno}: metaconf.{node.attr} (not in metaconf.__all__)")
    return found


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.name)
def test_a_benchmark_uses_only_the_public_api(path: Path) -> None:
    assert _violations(path) == []


def test_the_check_finds_internal_imports(tmp_path: Path) -> None:
    script = tmp_path / "bench.py"
    script.write_text(
        "import metaconf\nfrom metaconf.targets.evaluate import Evaluator\nimport metaconf.advise.llm.backends as b\n"
        "from metaconf import run, _private\nmetaconf.api.checked_config\nmetaconf.run\n",
        encoding="utf-8",
    )
    assert [v.split(": ", 1)[1] for v in _violations(script)] == [
        "from metaconf.targets.evaluate import ...",
        "import metaconf.advise.llm.backends",
        "from metaconf import _private (not in metaconf.__all__)",
        "metaconf.api (not in metaconf.__all__)",
    ]


def test_the_component_benchmarks_say_why_they_import_internals() -> None:
    components = sorted(p.name for p in (BENCHMARKS / "components").glob("*.py"))
    assert components == [
        "cost_model.py",
        "final_report_time.py",
        "llm_threads.py",
        "selection_replay.py",
        "trial_limits.py",
    ]
    readme = (BENCHMARKS / "components" / "README.md").read_text(encoding="utf-8")
    assert all(name in readme for name in components)
