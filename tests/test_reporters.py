"""Snapshot tests of every output format, on hand-built findings so that a change in a rule's wording does
not churn the snapshots: they pin the formats themselves.

Regenerate after an intended format change with ``METACONF_UPDATE_SNAPSHOTS=1 python -m pytest
tests/test_reporters.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from metaconf.config.loader import Span
from metaconf.lint.finding import Edit, Finding, Fix, Severity
from metaconf.lint.reporters import LintReport, OutputFormat, render
from metaconf.lint.reporters.github import escape_data, escape_property
from metaconf.lint.reporters.sarif import artifact_location

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("METACONF_UPDATE_SNAPSHOTS") == "1"

FINDINGS = [
    Finding(
        code="MC101",
        message="unknown key `corse`; did you mean `cores`?",
        severity=Severity.error,
        file="configs/exp.yaml",
        span=Span(3, 3, 3, 8),
        json_path=("budget", "corse"),
        fix=Fix("Rename `corse` to `cores`", (Edit(("budget", "cores"), 2), Edit(("budget", "corse"), delete=True)), safe=False),
    ),
    Finding(
        code="MC502",
        message="`stopping.crash_cost` is infinite: one crashed trial stops the run",
        severity=Severity.error,
        file="configs/exp.yaml",
        span=Span(9, 15, 9, 19),
        json_path=("stopping", "crash_cost"),
        fix=Fix("Set `stopping.crash_cost` to 1.0", (Edit(("stopping", "crash_cost"), 1.0),), safe=True),
    ),
    Finding(
        code="MC301",
        message="the initial design asks for 38 configurations, 50% of `n_trials`: 100%, done",
        severity=Severity.warning,
        file="configs/exp.yaml",
        span=Span(12, 9, 12, 12),
        json_path=("initial_design", "warm_start", 0),
        fix_title="Lower `initial_design.size`",
    ),
    Finding(
        code="MC701",
        message="no `execution.seed`: results differ between runs\nset one for reproducible runs",
        severity=Severity.info,
        file="other dir/naïve, run.yml",
        span=Span(1, 1, 1, 1),
    ),
]

DESCRIPTIONS = {
    "MC101": ("unknown-key", "A key the config format does not have (often a typo).", Severity.error),
    "MC502": ("infinite-crash-cost", "Crashed trials cost infinity, which breaks the surrogate.", Severity.error),
    "MC301": ("initial-design-exceeds-trials", "The initial design is larger than the trial budget.", Severity.warning),
    "MC701": ("missing-seed", "No seed: runs are not reproducible.", Severity.info),
}


def _report(findings: list[Finding] = FINDINGS, **kwargs: object) -> LintReport:
    return LintReport(findings=findings, files=3, descriptions=DESCRIPTIONS, **kwargs)  # type: ignore[arg-type]


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; create it with METACONF_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"output differs from {path} (METACONF_UPDATE_SNAPSHOTS=1 updates it)"


@pytest.mark.parametrize(
    ("output_format", "snapshot"),
    [
        (OutputFormat.text, "report.txt"),
        (OutputFormat.json, "report.json"),
        (OutputFormat.github, "report.github.txt"),
        (OutputFormat.sarif, "report.sarif"),
    ],
)
def test_every_format_matches_its_snapshot(output_format: OutputFormat, snapshot: str) -> None:
    assert_snapshot(snapshot, render(output_format, _report(skipped=2)))


def test_text_summary_variants_match_snapshot() -> None:
    parts = [
        render(OutputFormat.text, _report([])),
        render(OutputFormat.text, LintReport(findings=[], files=0)),
        render(OutputFormat.text, _report(FINDINGS[2:3], fixed=2)),
        render(OutputFormat.text, _report(FINDINGS[:2], unsafe_fixes_enabled=True)),
    ]
    assert_snapshot("summaries.txt", "\n---\n".join(parts))


def test_text_line_format_is_file_line_col_code_message() -> None:
    first = render(OutputFormat.text, _report()).splitlines()[0]
    assert first == "configs/exp.yaml:3:3: MC101 unknown key `corse`; did you mean `cores`?"


def test_text_counts_and_fixability() -> None:
    out = render(OutputFormat.text, _report())
    assert "Found 4 findings (2 errors, 1 warning, 1 info) in 3 files; 1 fixable with --fix; 1 more fixable with --fix --unsafe-fixes." in out
    assert "help: Set `stopping.crash_cost` to 1.0 (safe fix: --fix)" in out
    assert "help: Lower `initial_design.size`\n" in out


def test_color_variant_has_ansi_codes_and_same_words() -> None:
    colored = render(OutputFormat.text, _report(), color=True)
    plain = render(OutputFormat.text, _report())
    assert "\x1b[" in colored
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == plain


def test_json_fields() -> None:
    items = json.loads(render(OutputFormat.json, _report()))
    assert [i["code"] for i in items] == ["MC101", "MC502", "MC301", "MC701"]
    first = items[0]
    assert set(first) == {
        "file", "line", "column", "end_line", "end_column", "json_path", "code", "name", "severity",
        "message", "fix", "help",
    }
    assert first["json_path"] == "$.budget.corse"
    assert first["fix"] == {"title": "Rename `corse` to `cores`", "safe": False, "applicable": False}
    assert items[1]["fix"] == {"title": "Set `stopping.crash_cost` to 1.0", "safe": True, "applicable": True}
    assert items[2]["json_path"] == "$.initial_design.warm_start[0]"
    assert items[2]["fix"]["applicable"] is False
    assert items[3]["fix"] is None
    assert first["help"] == "metaconf rule MC101"


def test_json_marks_unsafe_fix_applicable_with_unsafe_fixes() -> None:
    items = json.loads(render(OutputFormat.json, _report(unsafe_fixes_enabled=True)))
    assert items[0]["fix"]["applicable"] is True


def test_github_escaping() -> None:
    assert escape_property("a,b:c%d\ne") == "a%2Cb%3Cc%25d%0Ae".replace("%3C", "%3A")
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    lines = render(OutputFormat.github, _report()).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("::error file=configs/exp.yaml,line=3,col=3,endLine=3,endColumn=8,title=MC101::")
    assert lines[2].startswith("::warning ")
    assert lines[3].startswith("::notice file=other dir/naïve%2C run.yml,")
    assert "%0A" in lines[3]


# The parts of the SARIF 2.1.0 schema (https://json.schemastore.org/sarif-2.1.0.json) that consumers such as
# GitHub code scanning require, written out so the test runs offline.
SARIF_REQUIRED = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "informationUri": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription", "help", "defaultConfiguration"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "name": {"type": "string"},
                                                "shortDescription": {
                                                    "type": "object",
                                                    "required": ["text"],
                                                    "properties": {"text": {"type": "string"}},
                                                },
                                                "help": {
                                                    "type": "object",
                                                    "required": ["text"],
                                                    "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}},
                                                },
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "required": ["level"],
                                                    "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "message", "locations", "level"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": 0},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {"text": {"type": "string"}},
                                },
                                "locations": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "required": ["physicalLocation"],
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation", "region"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                        "properties": {"uri": {"type": "string"}},
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "required": ["startLine"],
                                                        "properties": {
                                                            "startLine": {"type": "integer", "minimum": 1},
                                                            "startColumn": {"type": "integer", "minimum": 1},
                                                            "endLine": {"type": "integer", "minimum": 1},
                                                            "endColumn": {"type": "integer", "minimum": 1},
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_has_the_required_structure() -> None:
    import jsonschema

    log = json.loads(render(OutputFormat.sarif, _report()))
    jsonschema.validate(log, SARIF_REQUIRED)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["MC101", "MC301", "MC502", "MC701"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"MC101": "error", "MC502": "error", "MC301": "warning", "MC701": "note"}
    assert rules[0]["name"] == "unknown-key"
    assert rules[0]["defaultConfiguration"] == {"level": "error"}


def test_sarif_rejects_a_broken_log_in_the_structure_check() -> None:
    """The structural schema above can fail: a result without a location is caught."""
    import jsonschema

    log = json.loads(render(OutputFormat.sarif, _report()))
    del log["runs"][0]["results"][0]["locations"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, SARIF_REQUIRED)


def test_sarif_artifact_locations() -> None:
    assert artifact_location("configs/a.yaml") == {"uri": "configs/a.yaml", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("/abs/a b.yaml") == {"uri": "file:///abs/a%20b.yaml"}
    assert artifact_location("-") == {"uri": "%3Cstdin%3E", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("other dir/naïve, run.yml")["uri"] == "other%20dir/na%C3%AFve%2C%20run.yml"


def test_empty_machine_outputs_are_valid() -> None:
    report = LintReport(findings=[], files=1)
    assert json.loads(render(OutputFormat.json, report)) == []
    assert render(OutputFormat.github, report) == ""
    log = json.loads(render(OutputFormat.sarif, report))
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []
