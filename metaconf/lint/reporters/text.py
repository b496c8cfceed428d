"""Text output: ``file:line:col: CODE message`` per finding (the format editors and CI problem matchers
parse), a ``help:`` line with the fix when there is one, and a summary line.

On a terminal the same lines are coloured with rich; piped or redirected output stays plain, so the text
format is also a stable format for ``grep`` and snapshot tests.
"""

from __future__ import annotations

from metaconf.lint.finding import Finding, Severity
from metaconf.lint.reporters import LintReport, display_path, is_applicable

_STYLE = {Severity.error: "bold red", Severity.warning: "bold yellow", Severity.info: "bold blue"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _one_line(message: str) -> str:
    """One finding, one line: a message with line breaks would break ``file:line:col:`` parsers."""
    return " ".join(message.split("\n"))


def _fix_note(finding: Finding, report: LintReport) -> str | None:
    title = finding.title_of_fix
    if title is None:
        return None
    if is_applicable(finding, unsafe=False):
        return f"{title} (safe fix: --fix)"
    if is_applicable(finding, unsafe=True):
        hint = "--fix" if report.unsafe_fixes_enabled else "--fix --unsafe-fixes"
        return f"{title} (unsafe fix: {hint})"
    return title


def summary(report: LintReport) -> list[str]:
    """The closing lines: counts, what --fix can do, what was fixed and what was skipped."""
    lines: list[str] = []
    findings = len(report.findings)
    files = _plural(report.files, "file")
    if findings == 0:
        lines.append(f"All checks passed ({files})." if report.files else "No files were linted.")
    else:
        parts = [_plural(report.count(s), s.value) for s in Severity if report.count(s)]
        parts = [p.replace("infos", "info") for p in parts]
        line = f"Found {_plural(findings, 'finding')} ({', '.join(parts)}) in {files}"
        if report.fixable:
            line += f"; {report.fixable} fixable with --fix"
        if report.unsafe_fixable:
            more = "more " if report.fixable else ""
            line += f"; {report.unsafe_fixable} {more}fixable with --fix --unsafe-fixes"
        lines.append(line + ".")
    if report.fixed:
        lines.append(f"Fixed {_plural(report.fixed, 'finding')} ({findings} remaining).")
    if report.skipped:
        lines.append(f"Skipped {_plural(report.skipped, 'file')} that {'is' if report.skipped == 1 else 'are'} not YAML (*.yaml, *.yml).")
    return lines


def render(report: LintReport, *, color: bool = False) -> str:
    """All findings, then the summary. ``color`` adds ANSI styles (for a terminal)."""
    if color:
        return _render_color(report)
    out: list[str] = []
    for finding in report.findings:
        span = finding.span
        out.append(f"{display_path(finding.file)}:{span.line}:{span.col}: {finding.code} {_one_line(finding.message)}")
        note = _fix_note(finding, report)
        if note:
            out.append(f"  help: {note}")
    if report.findings:
        out.append("")
    out.extend(summary(report))
    return "\n".join(out) + "\n"


def _render_color(report: LintReport) -> str:
    import io

    from rich.console import Console
    from rich.markup import escape

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="standard", highlight=False, soft_wrap=True)
    for finding in report.findings:
        span = finding.span
        style = _STYLE[finding.severity]
        console.print(
            f"[bold]{escape(display_path(finding.file))}[/]:{span.line}:{span.col}: "
            f"[{style}]{finding.code}[/] {escape(_one_line(finding.message))}"
        )
        note = _fix_note(finding, report)
        if note:
            console.print(f"  [cyan]help:[/] {escape(note)}")
    if report.findings:
        console.print()
    for line in summary(report):
        console.print(escape(line), style="bold" if report.findings else "green")
    return buffer.getvalue()
