"""`metaconf rule CODE` and `metaconf rules`: explain and list the lint rules."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.cli.rules import Family, find_rule, rule_markdown
from metaconf.errors import UsageError
from metaconf.lint.catalog import all_rules
from metaconf.lint.registry import FAMILIES

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_rule_by_code_prints_the_docstring_as_markdown_text() -> None:
    code, out, _ = invoke("rule", "MC301")
    assert code == 0
    assert out.startswith("# MC301 `initial-design-exceeds-trials`\n")
    assert "Family: budget · Severity: warning · Status: stable · Tools: smac · Needs data: no" in out
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
        assert heading in out
    assert "```yaml" in out  # plain text off a terminal: the Markdown source, pipe-friendly
    assert "\x1b[" not in out


def test_rule_by_name_and_case_insensitive_code() -> None:
    by_name = invoke("rule", "initial-design-exceeds-trials")
    by_code = invoke("rule", "mc301")
    assert by_name[0] == by_code[0] == 0
    assert by_name[1] == by_code[1]


def test_unknown_rule_exits_2_and_lists_close_ones() -> None:
    code, out, err = invoke("rule", "MC999")
    assert code == 2
    assert out == ""
    assert "unknown rule `MC999`" in err
    assert "close: `MC9" in err
    assert "Traceback" not in err


def test_misspelled_rule_name_suggests_the_right_one() -> None:
    code, _, err = invoke("rule", "initial-design-exceed-trials")
    assert code == 2
    assert "`initial-design-exceeds-trials` (MC301)" in err


def test_rule_json_carries_the_doc() -> None:
    code, out, _ = invoke("rule", "MC502", "--format", "json")
    assert code == 0
    record = json.loads(out)
    assert record["code"] == "MC502" and record["name"] == "infinite-crash-cost"
    assert record["severity"] == "error" and record["family"] == "stopping"
    assert record["doc"].startswith("## What it does")
    assert record["help"] == "metaconf rule MC502"


def test_rules_table_lists_every_rule_once() -> None:
    code, out, _ = invoke("rules")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "FAMILY", "SEVERITY", "STATUS", "SUMMARY"]
    codes = [line.split()[0] for line in lines[1:]]
    assert codes == sorted(all_rules())


def test_rules_family_filter() -> None:
    code, out, _ = invoke("rules", "--family", "budget")
    assert code == 0
    rows = out.splitlines()[1:]
    assert rows and all(row.split()[2] == "budget" for row in rows)
    assert {row.split()[0] for row in rows} == {c for c, r in all_rules().items() if r.family == "budget"}
    assert "MC301" in out and "MC501" not in out


def test_rules_unknown_family_is_a_usage_error() -> None:
    code, _, err = invoke("rules", "--family", "budgets")
    assert code == 2
    assert "budgets" in err


def test_rules_json() -> None:
    code, out, _ = invoke("rules", "--format", "json", "--family", "multi-fidelity")
    assert code == 0
    records = json.loads(out)
    assert records and {r["family"] for r in records} == {"multi-fidelity"}
    assert set(records[0]) == {"code", "name", "family", "severity", "status", "summary", "needs_data", "tools", "help"}
    data_rules = json.loads(invoke("rules", "--format", "json", "--family", "data")[1])
    assert len(data_rules) >= 5
    assert all(r["needs_data"] for r in data_rules if r["code"] != "MC900")  # MC900 reports unloadable data


def test_family_enum_matches_the_registry() -> None:
    assert {f.value for f in Family} == set(FAMILIES.values())


def test_find_rule_and_markdown_helpers() -> None:
    found = find_rule(" initial-design-exceeds-trials ")
    assert found.code == "MC301"
    assert rule_markdown(found).endswith(found.doc + "\n")
    with pytest.raises(UsageError, match="unknown rule"):
        find_rule("no-such-rule")


def test_rule_renders_rich_markdown_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("metaconf.cli.rules._on_terminal", lambda: True)
    code, out, _ = invoke("rule", "MC301")
    assert code == 0
    assert "What it does" in out
    assert "## What it does" not in out  # headings are rendered, not printed as source
    code, out, _ = invoke("rules", "--family", "stopping")
    assert code == 0 and "MC501" in out and "no-stopping-criterion" in out


def test_a_preview_rule_says_how_to_turn_it_on() -> None:
    code, out, _ = invoke("rule", "missing-seed")
    assert code == 0
    assert "Status: preview (off by default: `metaconf lint --select MC701`)" in out


def test_rules_markdown_is_every_rules_documentation() -> None:
    code, out, _ = invoke("rules", "--format", "markdown", "--family", "stopping")
    assert code == 0
    titles = [line for line in out.splitlines() if line.startswith("# MC")]
    assert titles == [f"# {c} `{r.name}`" for c, r in all_rules().items() if r.family == "stopping"]
    assert out.count("\n---\n") == len(titles) - 1
    code, single, _ = invoke("rule", "MC502", "--format", "markdown")
    assert code == 0 and single == rule_markdown(find_rule("MC502"))
