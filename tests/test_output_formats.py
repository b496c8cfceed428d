"""`--format text|json|md` of `metaconf suggest`, `metaconf models` and `metaconf backends list|doctor`
(issue 23): JSON on stdout that parses as a whole, Markdown tables with a header and a separator line, the
deprecated `backends --json`, and a suggested config that does not depend on the format."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import test_llm_cli
import yaml
from fake_model_packages import FakeSite, fake_site
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.cli.suggest import SUMMARY_KEYS

runner = CliRunner()
SUGGEST = ["suggest", "--demo", "iris", "--budget", "1m", "--no-probe", "--advisor", "rules", "--seed", "0"]

server = test_llm_cli.server  # the scripted OpenAI-compatible server (a fixture)


def _invoke(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output + result.stderr
    return result


def _md_table(text: str, header: str) -> list[str]:
    """The rows of the Markdown table that starts with ``header`` (asserting its separator line)."""
    lines = text.splitlines()
    start = lines.index(header)
    columns = header.count("|") - 1
    separator = lines[start + 1]
    assert separator.startswith("|") and separator.endswith("|") and separator.count("|") == columns + 1
    assert set(separator) <= set("|-:")
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        assert line.replace("\\|", "").count("|") == columns + 1, line
        rows.append(line)
    return rows


# ------------------------------------------------------------------------------------------------ suggest


@dataclass
class Suggested:
    out: Path
    """The config's path: every format wrote it (--force)."""
    results: dict[str, Any]
    """Format -> the CliRunner result."""
    configs: dict[str, bytes]
    """Format -> the config file that run wrote."""


@pytest.fixture(scope="module")
def suggested(tmp_path_factory: pytest.TempPathFactory) -> Suggested:
    """The same suggestion (--no-probe: no probe cache either) in each format, written to the same path."""
    found = Suggested(tmp_path_factory.mktemp("suggest") / "iris.yaml", {}, {})
    for output_format in ("text", "json", "md"):
        found.results[output_format] = _invoke(*SUGGEST, "-o", str(found.out), "--force", "-f", output_format)
        found.configs[output_format] = found.out.read_bytes()
    return found


def test_suggest_writes_the_same_config_in_every_format(suggested: Suggested) -> None:
    text = suggested.configs["text"]
    assert text.startswith(b"# yaml-language-server: $schema=")
    assert suggested.configs["json"] == text and suggested.configs["md"] == text


def test_suggest_text_keeps_stdout_empty(suggested: Suggested) -> None:
    result, out = suggested.results["text"], suggested.out
    assert result.stdout == ""
    assert f"wrote {out}" in " ".join(result.stderr.split()) and "took" in result.stderr


def test_suggest_json_is_one_object_on_stdout(suggested: Suggested) -> None:
    result, out = suggested.results["json"], suggested.out
    document = json.loads(result.stdout)  # stdout holds the object and nothing else
    assert tuple(document) == SUMMARY_KEYS
    assert document["output"] == str(out)
    lint = document["lint"]
    assert lint["errors"] == 0
    assert lint["warnings"] == sum(finding["severity"] == "warning" for finding in lint["findings"])
    for finding in lint["findings"]:
        assert set(finding) == {"code", "severity", "message", "pointer", "line", "col"}
    config = yaml.safe_load(suggested.configs["json"])
    assert document["summary"]["metric"] == config["task"]["metric"] == "accuracy"
    assert document["advisor"] is None
    assert document["probe"] == "--no-probe: trial cost from the documented cost model"
    assert {"load", "profile", "probe", "lint", "total"} <= set(document["timings"])
    assert all(isinstance(seconds, float) for seconds in document["timings"].values())
    values = {row["path"]: row for row in document["values"]}
    assert values["task.metric"]["value"] == "accuracy" and values["task.metric"]["origin"] == "rule"
    assert values["task.metric"]["reason"].startswith("R6:")
    assert values["data.demo"] == {
        "path": "data.demo",
        "value": "iris",
        "origin": "user",
        "reason": values["data.demo"]["reason"],
    }
    # the rows are exactly what `metaconf explain --all --format json` shows for the written file
    explained = json.loads(_invoke("explain", str(out), "--all", "--format", "json").stdout)
    assert document["values"] == explained
    assert result.stderr == ""  # not a terminal: no spinner, no notes


def test_suggest_md_is_a_short_document_with_a_table(suggested: Suggested) -> None:
    result, out = suggested.results["md"], suggested.out
    text = result.stdout
    assert text.startswith(f"# metaconf suggest: `{out}`\n")
    assert "- **metric**: accuracy" in text and "- **trial cost from**: --no-probe" in text
    assert "- **lint**: 0 error(s)" in text
    rows = _md_table(text, "| setting | value | origin | reason |")
    assert any(row.startswith("| task.metric | accuracy | rule | R6:") for row in rows)
    explained = json.loads(_invoke("explain", str(out), "--all", "--format", "json").stdout)
    assert len(rows) == len(explained)
    assert result.stderr == ""


def test_suggest_json_error_leaves_stdout_empty(tmp_path: Path) -> None:
    out = tmp_path / "c.yaml"
    out.write_text("x: 1\n")
    result = _invoke(*SUGGEST, "-o", str(out), "-f", "json", code=2)
    assert result.stdout == "" and "already exists" in result.stderr
    assert out.read_text() == "x: 1\n"


def test_suggest_json_asks_its_questions_on_stderr(tmp_path: Path) -> None:
    out = tmp_path / "c.yaml"
    result = runner.invoke(app, [*SUGGEST, "-o", str(out), "-i", "-f", "json"], input="balanced_accuracy\n")
    assert result.exit_code == 0, result.output + result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["metric"] == "balanced_accuracy"
    assert "Metric (auto:" in result.stderr


def test_suggest_json_sends_the_llm_prompt_to_stderr(
    tmp_path: Path, server: tuple[str, test_llm_cli._Script]
) -> None:
    url, script = server
    script.content = "{}"
    out = tmp_path / "c.yaml"
    args = [*test_llm_cli.BASE, "-o", str(out), "--advisor", "llm", "--server", url, "--show-prompt"]
    result = _invoke(*args, "--format", "json")
    document = json.loads(result.stdout)
    assert document["output"] == str(out) and document["advisor"]
    assert "rule advisor's proposal" in result.stderr  # the prompt
    assert any(row["origin"] == "rule" for row in document["values"])


# ------------------------------------------------------------------------------------------------ models


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSite:
    return fake_site(tmp_path, monkeypatch)


def test_models_json_keeps_its_shape(site: FakeSite) -> None:
    document = json.loads(_invoke("models", "-f", "json").stdout)
    assert set(document) == {"default", "model_dir", "models", "other", "libraries"}
    (row,) = document["models"]
    assert set(row) == {
        "name", "model", "default", "file", "bytes", "sha256", "licence", "chat_format", "reads_descriptions",
        "packages", "state", "status", "path", "install",
    }  # fmt: skip
    assert (row["name"], row["state"], row["sha256"]) == ("tiny-test", "absent", site.spec.sha256)


def test_models_md_is_a_table_of_the_same_rows(site: FakeSite) -> None:
    text = _invoke("models", "--format", "md").stdout
    (row,) = _md_table(text, "| name | model | size | licence | status | sha256 | install / path |")
    assert row == (
        f"| tiny-test (default) | Tiny Test GGUF | 10 kB | Apache-2.0 | not installed | `{site.spec.sha256}` "
        "| `metaconf backends install llm` |"
    )
    assert "Libraries: llama-cpp-python" in text


def test_models_table_is_still_the_default(site: FakeSite) -> None:
    text = _invoke("models").stdout
    assert "tiny-test (default)" in text and "| name |" not in text


# ------------------------------------------------------------------------------------------------ backends


def test_backends_list_in_every_format(tmp_path: Path) -> None:
    text = _invoke("backends", "list", "--env-dir", str(tmp_path)).stdout
    assert "auto-sklearn" in text and "missing" in text and "| backend |" not in text
    assert _invoke("backends", "list", "--env-dir", str(tmp_path), "--format", "text").stdout == text
    rows = json.loads(_invoke("backends", "list", "--env-dir", str(tmp_path), "-f", "json").stdout)
    assert [row["backend"] for row in rows] == ["smac", "auto-sklearn"]
    assert set(rows[1]) >= {"backend", "state", "location", "python", "versions", "problem", "fix"}
    assert rows[1]["state"] == "missing"
    md = _invoke("backends", "list", "--env-dir", str(tmp_path), "--format", "md").stdout
    smac, autosklearn = _md_table(md, "| backend | status | versions | location | problem | fix |")
    assert smac.startswith("| smac | ready | smac 2.4.1")
    assert autosklearn.startswith("| auto-sklearn | missing | - |")
    assert f"metaconf backends install auto-sklearn --env-dir {tmp_path}" in autosklearn


def test_backends_json_flag_is_a_hidden_alias_of_format_json(tmp_path: Path) -> None:
    base = ["backends", "list", "--env-dir", str(tmp_path)]
    old = _invoke(*base, "--json").stdout
    assert old == _invoke(*base, "--format", "json").stdout
    assert old == _invoke(*base, "--json", "--format", "json").stdout
    json.loads(old)
    for other in ("text", "md"):
        result = _invoke(*base, "--json", "--format", other, code=2)
        assert "--json" in result.stderr and result.stdout == ""
    assert "--json" not in _invoke("backends", "list", "--help").stdout


def test_backends_doctor_in_every_format(tmp_path: Path) -> None:
    base = ["backends", "doctor", "--env-dir", str(tmp_path)]
    text = _invoke(*base, code=1).stdout
    assert "auto-sklearn: not installed" in text and "Pythons that can build" in text
    document = json.loads(_invoke(*base, "--format", "json", code=1).stdout)
    assert set(document) == {"backends", "pythons_for_auto_sklearn"}
    assert [row["state"] for row in document["backends"]] == ["ready", "missing"]
    assert json.loads(_invoke(*base, "--json", code=1).stdout) == document
    md = _invoke(*base, "-f", "md", code=1).stdout
    rows = _md_table(md, "| backend | status | versions | location | problem | fix |")
    assert len(rows) == 2 and "| auto-sklearn | missing |" in rows[1]
    assert "Pythons that can build auto-sklearn's environment (best first):" in md
    assert _invoke(*base, "--json", "-f", "text", code=2).stdout == ""
