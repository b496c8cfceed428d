"""Editor support that resolves offline (issue 23, item 5): every modeline metaconf writes or ships points at a
schema file that exists, and that file is the schema of this version."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.model import SCHEMA_ID
from metaconf.config.schema import MODELINE_PREFIX, render_schema

PACKAGE = Path(__file__).resolve().parent.parent / "metaconf"
ROOT = PACKAGE.parent


def resolve(modeline: str, config: Path) -> Path:
    """The file a YAML language server opens for ``modeline`` in ``config`` (a file URI or a relative path)."""
    assert modeline.startswith(MODELINE_PREFIX), modeline
    target = modeline.removeprefix(MODELINE_PREFIX)
    parsed = urlparse(target)
    if parsed.scheme:
        assert parsed.scheme == "file", f"{config}: {target} needs the network"
        return Path(unquote(parsed.path))
    return (config.parent / target).resolve()


def assert_is_the_schema(path: Path) -> None:
    assert path.is_file(), f"{path} does not exist"
    text = path.read_text(encoding="utf-8")
    assert json.loads(text)["$id"] == SCHEMA_ID
    assert text == render_schema()


@pytest.mark.parametrize("command", [["init"], ["suggest", "--demo", "iris", "--advisor", "rules", "--no-probe"]])
def test_the_modeline_of_a_written_config_opens_the_installed_schema(tmp_path: Path, command: list[str]) -> None:
    out = tmp_path / "nested" / "config.yaml"
    args = [*command, str(out)] if command[0] == "init" else [*command, "--budget", "1m", "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert_is_the_schema(resolve(first, out))


@pytest.mark.parametrize(
    "path", sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("templates/*.yaml")]), ids=lambda p: p.name
)
def test_the_modelines_that_ship_resolve_in_the_checkout_and_the_package(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    if not first.startswith(MODELINE_PREFIX):
        pytest.skip(f"{path.name} has no modeline")  # broken.yaml is broken on purpose
    assert_is_the_schema(resolve(first, path))


def test_nothing_points_at_a_documentation_site_that_does_not_exist() -> None:
    files = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.yaml"), *PACKAGE.rglob("*.json"),
             *ROOT.glob("examples/*"), *ROOT.glob("templates/**/*.*"), *ROOT.glob("schemas/*"), *ROOT.glob("docs/*.md"),
             ROOT / "README.md"]
    offenders = [str(p.relative_to(ROOT)) for p in files if "readthedocs" in p.read_text(encoding="utf-8")]
    assert not offenders
