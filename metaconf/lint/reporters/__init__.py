"""Output formats of ``metaconf lint``: one module per format, each a ``render(report) -> str`` function.

Every reporter receives the same :class:`LintReport`; machine formats (json, github, sarif) print findings
only, so their output can be piped into another tool as it is, while the text format adds a summary line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from metaconf.lint.finding import Finding, Severity


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


@dataclass
class LintReport:
    """The findings of one ``metaconf lint`` invocation, and the counts its summary reports."""

    findings: Sequence[Finding]
    files: int
    """Files linted."""
    skipped: int = 0
    """Non-YAML files seen in directories and not linted."""
    fixed: int = 0
    """Findings fixed by ``--fix`` (already gone from ``findings``)."""
    unsafe_fixes_enabled: bool = False
    descriptions: dict[str, tuple[str, str, Severity]] = field(default_factory=dict)
    """Rule code -> (name, summary, default severity), for formats that describe their rules (SARIF)."""

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def fixable(self) -> int:
        """Findings ``--fix`` would fix now (safe fixes, or any fix with ``--unsafe-fixes``)."""
        return sum(1 for f in self.findings if is_applicable(f, unsafe=self.unsafe_fixes_enabled))

    @property
    def unsafe_fixable(self) -> int:
        """Findings that only ``--unsafe-fixes`` would fix."""
        if self.unsafe_fixes_enabled:
            return 0
        return sum(1 for f in self.findings if is_applicable(f, unsafe=True) and not is_applicable(f, unsafe=False))


def is_applicable(finding: Finding, *, unsafe: bool = False) -> bool:
    """Whether ``--fix`` can apply this finding's fix by itself (it has edits, and is safe unless allowed)."""
    fix = finding.fix
    return fix is not None and bool(fix.edits) and (fix.safe or unsafe)


def registry_descriptions() -> dict[str, tuple[str, str, Severity]]:
    """Rule code -> (name, summary, default severity) for every registered rule."""
    from metaconf.lint.catalog import all_rules

    return {code: (r.name, r.summary, r.severity) for code, r in all_rules().items()}


def display_path(file: str) -> str:
    """How a file is named in output: as the user gave it, with ``<stdin>`` for ``-``."""
    return "<stdin>" if file == "-" else file


def render(output_format: OutputFormat, report: LintReport, *, color: bool = False) -> str:
    """The full output of ``metaconf lint`` in ``output_format``."""
    from metaconf.lint.reporters import github, json, sarif, text

    if not report.descriptions and report.findings:
        report.descriptions = registry_descriptions()

    renderers: dict[OutputFormat, Callable[[LintReport], str]] = {
        OutputFormat.json: json.render,
        OutputFormat.github: github.render,
        OutputFormat.sarif: sarif.render,
    }
    if output_format is OutputFormat.text:
        return text.render(report, color=color)
    return renderers[output_format](report)
