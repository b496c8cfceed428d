"""The package as pip sees it: every third-party package metaconf imports is declared in pyproject.toml, with
the bounds metaconf relies on; the LICENSE pyproject names is there; the project URLs point at something that
exists."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "metaconf"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

RUNS_ELSEWHERE = {PACKAGE / "targets" / "autosklearn" / "worker.py"}
"""Files that run in another interpreter: the auto-sklearn worker imports auto-sklearn, SMAC 1.2, scipy, ... in
auto-sklearn's own environment, whose pins live in metaconf/targets/autosklearn/environment.py."""
DISTRIBUTION_OF = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "ruamel": "ruamel.yaml",
    "llama_cpp": "llama-cpp-python",
}
"""Import names whose distribution is named otherwise, for packages that may not be installed here."""


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(group: str | None = None) -> list[Requirement]:
    project = PYPROJECT["project"]
    lines = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return [Requirement(line) for line in lines]


def third_party_imports() -> dict[str, dict[Path, bool]]:
    """Top-level module -> {file: imported at module level (not inside a function or TYPE_CHECKING)}."""
    found: dict[str, dict[Path, bool]] = defaultdict(dict)
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in RUNS_ELSEWHERE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_level = {id(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("metaconf", "__future__"):
                    continue
                found[top][path] = found[top].get(path, False) or id(node) in module_level
    # estimator classes the built-in model families import by name ("module:Class")
    from metaconf.space.builtin import FAMILY_SPECS

    builtin = PACKAGE / "space" / "builtin.py"
    for specs in FAMILY_SPECS.values():
        for spec in specs.values():
            top = spec.estimator.split(":")[0].split(".")[0]
            found[top].setdefault(builtin, False)
    return found


def distribution(module: str) -> str:
    installed = importlib.metadata.packages_distributions().get(module)
    return normalize(installed[0] if installed else DISTRIBUTION_OF.get(module, module))


def declared(group: str | None = None) -> set[str]:
    return {normalize(r.name) for r in requirements(group)}


def test_every_imported_package_is_declared() -> None:
    core = declared()
    extras = {name: declared(name) for name in PYPROJECT["project"]["optional-dependencies"]}
    problems = []
    for module, files in sorted(third_party_imports().items()):
        dist = distribution(module)
        where = ", ".join(str(p.relative_to(ROOT)) for p in files)
        if dist in core:
            continue
        groups = [name for name, members in extras.items() if dist in members]
        if not groups:
            problems.append(f"`{module}` ({dist}) is imported in {where} but not declared in pyproject.toml")
            continue
        at_top = [str(p.relative_to(ROOT)) for p, top in files.items() if top]
        if at_top:
            problems.append(
                f"`{module}` comes with the extra {groups} but is imported at module level in {', '.join(at_top)}: "
                "import it inside the function that needs it"
            )
    assert not problems, "\n".join(problems)


def test_the_scan_sees_the_imports_it_must_see() -> None:
    imports = third_party_imports()
    for module in ("joblib", "psutil", "pynisher", "threadpoolctl", "typer", "ruamel", "sklearn", "lightgbm"):
        assert module in imports, module
    assert "autosklearn" not in imports  # only the worker, in auto-sklearn's environment
    assert all(not top for top in imports["llama_cpp"].values())  # the LLM extra is imported lazily


@pytest.mark.parametrize("name", ["typer", "ruamel.yaml", "pynisher"])
def test_packages_whose_internals_metaconf_relies_on_have_an_upper_bound(name: str) -> None:
    requirement = next(r for r in requirements() if normalize(r.name) == normalize(name))
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), requirement


def test_the_installed_versions_satisfy_the_declared_bounds() -> None:
    for requirement in requirements():
        version = importlib.metadata.version(requirement.name)
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement.name} {version}: {requirement}"
        )


def test_the_license_file_is_the_declared_license() -> None:
    assert PYPROJECT["project"]["license"] == "BSD-3-Clause"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "metaconf developers" in text
    assert "Neither the name of the copyright holder nor the names of its" in text


def test_project_urls_point_at_what_exists() -> None:
    urls = PYPROJECT["project"]["urls"]
    assert "Documentation" in urls
    for label, url in urls.items():
        # no public site exists yet: a URL without a scheme is a path in the repository, and must be there
        assert "readthedocs" not in url, f"{label}: {url} does not exist"
        if "://" not in url:
            assert (ROOT / url).exists(), f"{label}: {url} is not a file of the repository"


DATA_PACKAGES = {"metaconf.schemas": "schemas", "metaconf.templates": "templates",
                 "metaconf.templates.prompts": "templates/prompts", "metaconf.examples": "examples"}


def test_the_package_list_is_the_source_tree_and_the_top_level_data() -> None:
    from setuptools import find_packages

    setuptools = PYPROJECT["tool"]["setuptools"]
    assert set(setuptools["packages"]) == set(find_packages(str(ROOT), include=["metaconf*"])) | set(DATA_PACKAGES)
    assert setuptools["package-dir"] == DATA_PACKAGES
    for folder in DATA_PACKAGES.values():
        assert (ROOT / folder).is_dir() and any((ROOT / folder).iterdir())
        assert not (ROOT / "metaconf" / folder).exists()


@pytest.mark.slow
def test_the_wheel_ships_schemas_templates_and_examples_and_init_and_schema_work_from_it(tmp_path: Path) -> None:
    """Build the wheel from this checkout (offline: no build isolation), install it into a folder of its own and
    run `metaconf init` and `metaconf schema` from there, away from the checkout."""
    import subprocess
    import zipfile

    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("metaconf-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("schemas", "templates", "templates/prompts", "examples"):
        shipped = {n for n in names if n.startswith(f"metaconf/{folder}/") and n.count("/") == folder.count("/") + 2}
        on_disk = {f"metaconf/{folder}/{p.name}" for p in (ROOT / folder).iterdir() if p.is_file()}
        assert shipped == on_disk, folder
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=600,
    )
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {**__import__("os").environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import metaconf, metaconf.resources as r; print(metaconf.__file__); "
         "print(r.data_dir('schemas')); print(r.data_dir('templates.prompts'))"],
        cwd=away, env=env, capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    assert all(line.startswith(str(site)) for line in where), where
    init = subprocess.run([sys.executable, "-m", "metaconf", "init", "starter.yaml"], cwd=away, env=env,
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    first = (away / "starter.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert str(site / "metaconf" / "schemas" / "metaconf-config-1.schema.json") in first
    schema = subprocess.run([sys.executable, "-m", "metaconf", "schema"], cwd=away, env=env,
                            capture_output=True, text=True, timeout=120)
    assert schema.returncode == 0 and schema.stdout == (ROOT / "schemas" / "metaconf-config-1.schema.json").read_text()
    lint = subprocess.run([sys.executable, "-m", "metaconf", "lint", str(site / "metaconf" / "examples")],
                          cwd=away, env=env, capture_output=True, text=True, timeout=300)
    assert "broken.yaml:7:11: MC606" in lint.stdout and lint.returncode == 2  # errors in broken.yaml only
