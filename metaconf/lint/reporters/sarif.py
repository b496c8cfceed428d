"""SARIF 2.1.0 output, the format GitHub code scanning and most static-analysis viewers import.

One run; ``tool.driver.rules`` describes each rule that has a result (id, name, short description, help URI,
default level) and every result points at its rule by id and index, with a physical location region
(1-based lines and columns, counted in Unicode code points, which the run declares in ``columnKind``).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any

from metaconf import __version__
from metaconf.lint.finding import HELP_COMMAND, Finding, Severity
from metaconf.lint.reporters import LintReport, display_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.error: "error", Severity.warning: "warning", Severity.info: "note"}


def artifact_location(file: str) -> dict[str, Any]:
    """A relative path stays relative to the source root (``%SRCROOT%``), percent-encoded as a URI reference
    must be; an absolute one becomes a ``file://`` URI."""
    from urllib.parse import quote

    path = PurePath(display_path(file))
    if path.is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path.as_posix()), "uriBaseId": "%SRCROOT%"}


def _rule_descriptor(code: str, report: LintReport, fallback: Finding) -> dict[str, Any]:
    name, summary, severity = report.descriptions.get(code, ("", "", fallback.severity))
    descriptor: dict[str, Any] = {"id": code}
    if name:
        descriptor["name"] = name
    descriptor["shortDescription"] = {"text": summary or code}
    # No helpUri: no public site hosts the rule pages. The help text says how to read one offline.
    command = HELP_COMMAND.format(code=code)
    descriptor["help"] = {"text": f"{summary or code} Run `{command}` for what it catches, why, and how to fix it.",
                          "markdown": f"{summary or code}\n\nRun `{command}` for what it catches, why, and how to fix it."}
    descriptor["defaultConfiguration"] = {"level": _LEVEL[severity]}
    return descriptor


def _result(finding: Finding, index: int) -> dict[str, Any]:
    span = finding.span
    message = finding.message
    if finding.title_of_fix:
        message += f" (fix: {finding.title_of_fix})"
    return {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.file),
                    "region": {
                        "startLine": span.line,
                        "startColumn": span.col,
                        "endLine": span.end_line,
                        "endColumn": span.end_col,
                    },
                }
            }
        ],
        "properties": {"jsonPath": finding.pointer},
    }


def build(report: LintReport) -> dict[str, Any]:
    """The SARIF log as a dict."""
    first: dict[str, Finding] = {}
    for finding in report.findings:
        first.setdefault(finding.code, finding)
    codes = sorted(first)
    index = {code: i for i, code in enumerate(codes)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "metaconf",
                        "version": __version__,
                        "rules": [_rule_descriptor(code, report, first[code]) for code in codes],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index[f.code]) for f in report.findings],
            }
        ],
    }


def render(report: LintReport) -> str:
    return json.dumps(build(report), indent=2, ensure_ascii=False) + "\n"
