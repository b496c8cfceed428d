"""JSON output: a list of finding objects, one per finding, in file / line / column order.

Fields: file, line, column, end_line, end_column (1-based; the end is exclusive), json_path (``$.a.b[0]``),
code, name, severity, message, fix (``{title, safe, applicable}`` or null), url.
"""

from __future__ import annotations

import json
from typing import Any

from metaconf.lint.finding import Finding
from metaconf.lint.reporters import LintReport, display_path, is_applicable


def finding_to_dict(finding: Finding, report: LintReport) -> dict[str, Any]:
    span = finding.span
    fix: dict[str, Any] | None = None
    if finding.title_of_fix is not None:
        fix = {
            "title": finding.title_of_fix,
            "safe": bool(finding.fix is not None and finding.fix.safe and finding.fix.edits),
            "applicable": is_applicable(finding, unsafe=report.unsafe_fixes_enabled),
        }
    name = report.descriptions.get(finding.code, ("", "", finding.severity))[0]
    return {
        "file": display_path(finding.file),
        "line": span.line,
        "column": span.col,
        "end_line": span.end_line,
        "end_column": span.end_col,
        "json_path": finding.pointer,
        "code": finding.code,
        "name": name,
        "severity": finding.severity.value,
        "message": finding.message,
        "fix": fix,
        "help": finding.help,
    }


def render(report: LintReport) -> str:
    return json.dumps([finding_to_dict(f, report) for f in report.findings], indent=2, ensure_ascii=False) + "\n"
