"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding, which the
Actions runner turns into annotations on the pull request's diff.

Format: ``::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::message``. Property values escape
``%``, CR, LF, ``:`` and ``,``; the message escapes ``%``, CR and LF (the runner's own rules).
"""

from __future__ import annotations

from metaconf.lint.finding import Severity
from metaconf.lint.reporters import LintReport, display_path

_COMMAND = {Severity.error: "error", Severity.warning: "warning", Severity.info: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: LintReport) -> str:
    lines = []
    for finding in report.findings:
        span = finding.span
        props = ",".join(
            [
                f"file={escape_property(display_path(finding.file))}",
                f"line={span.line}",
                f"col={span.col}",
                f"endLine={span.end_line}",
                f"endColumn={span.end_col}",
                f"title={escape_property(finding.code)}",
            ]
        )
        message = finding.message
        if finding.title_of_fix:
            message += f" (fix: {finding.title_of_fix})"
        lines.append(f"::{_COMMAND[finding.severity]} {props}::{escape_data(message)}")
    return "".join(line + "\n" for line in lines)
