"""`metaconf init`: every template is valid, commented, lint-clean and runnable as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.cli.init import Template, template_description, template_text, with_modeline
from metaconf.config.loader import load_text
from metaconf.config.model import Config
from metaconf.config.schema import PACKAGED_MODELINE, modeline
from metaconf.lint.engine import LintOptions, lint_text
from metaconf.lint.finding import Severity

runner = CliRunner()
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


def test_every_template_file_has_a_choice_and_back() -> None:
    files = {p.stem for p in TEMPLATE_DIR.glob("*.yaml")}
    assert files == {t.value for t in Template}


@pytest.mark.parametrize("template", list(Template))
def test_template_starts_with_the_modeline_and_describes_itself(template: Template) -> None:
    text = template_text(template)
    assert text.splitlines()[0] == PACKAGED_MODELINE
    assert template_description(template)
    assert sum(1 for line in text.splitlines() if "#" in line) >= 10  # commented, not a bare dump


@pytest.mark.parametrize("template", list(Template))
def test_template_validates_and_has_no_error_findings(template: Template) -> None:
    text = template_text(template)
    config = Config.model_validate(load_text(text).data)
    assert config.data.demo == "breast_cancer"
    findings = lint_text(text, f"{template.value}.yaml", LintOptions(data=True))
    errors = [f"{f.code} {f.message}" for f in findings if f.severity == Severity.error]
    assert errors == []


@pytest.mark.parametrize("template", list(Template))
def test_template_is_clean_under_all_stable_rules(template: Template) -> None:
    """Stricter than the brief's "no errors": a starter config should not teach the user to ignore warnings."""
    findings = lint_text(template_text(template), f"{template.value}.yaml", LintOptions(data=True))
    assert [f"{f.code} {f.message}" for f in findings] == []


def test_template_tools() -> None:
    tools = {t: Config.model_validate(load_text(template_text(t)).data) for t in Template}
    assert tools[Template.smac_hpo].tool.value == "smac"
    assert tools[Template.smac_multi_fidelity].is_multi_fidelity()
    assert tools[Template.smac_multi_fidelity].fidelity.type.value != "none"
    assert tools[Template.auto_sklearn].tool.value == "auto-sklearn"


def test_init_writes_the_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "metaconf.yaml").read_text(encoding="utf-8").split("\n")
    assert written[0] == modeline()  # the template's package-relative line would not resolve from here
    assert written[1:] == template_text(Template.smac_hpo).split("\n")[1:]
    assert "wrote metaconf.yaml from the smac-hpo template" in result.stdout
    lint = runner.invoke(app, ["lint", "metaconf.yaml"])
    assert lint.exit_code == 0, lint.output


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "exp.yaml"
    target.write_text("mine: true\n", encoding="utf-8")
    result = runner.invoke(app, ["init", str(target), "--template", "auto-sklearn"])
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert target.read_text(encoding="utf-8") == "mine: true\n"
    result = runner.invoke(app, ["init", str(target), "--template", "auto-sklearn", "--force"])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == with_modeline(template_text(Template.auto_sklearn))


def test_init_creates_parent_directories(tmp_path: Path) -> None:
    target = tmp_path / "configs" / "mf.yml"
    result = runner.invoke(app, ["init", str(target), "--template", "smac-multi-fidelity"])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == with_modeline(template_text(Template.smac_multi_fidelity))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["init", "notes.txt"], "does not end in .yaml or .yml"),
        (["init", "."], "is a directory"),
        (["init", "x.yaml", "--template", "bohb"], "bohb"),
    ],
)
def test_init_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.yaml").exists()


def test_init_list() -> None:
    result = runner.invoke(app, ["init", "--list"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [t.value for t in Template]
    assert all(template_description(t) in result.stdout for t in Template)
