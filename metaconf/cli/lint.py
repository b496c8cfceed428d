"""`metaconf lint`: check config files, report findings in one of four formats, and fix what is safe to fix.

Exit codes: 0 clean (or only findings below ``--fail-on``), 1 findings on a valid config, 2 usage error or
input that is not a usable config (a path that matches nothing, invalid YAML, an empty or non-UTF-8 file,
refused tags, an alias bomb, a config that does not validate against the schema, data that cannot be loaded
with ``--data``). ``--exit-zero`` turns 1 into 0, never 2.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from metaconf.cli.common import cli_errors
from metaconf.errors import UsageError
from metaconf.lint.reporters import OutputFormat

if TYPE_CHECKING:
    from metaconf.lint.engine import LintOptions
    from metaconf.lint.finding import Finding
    from metaconf.lint.fix import FixResult

UNREADABLE_CODES = frozenset(
    {"MC001", "MC002", "MC003", "MC004", "MC005", "MC006", "MC101", "MC102", "MC103", "MC201", "MC900"}
)
"""Findings that mean an input is not a usable config at all: it cannot be read (the config, the search-space
file it names, or its data with ``--data``), or it is not valid against the schema (unknown keys, wrong types,
NaN / negative / huge budgets, duplicate keys). They make the exit code 2, like a missing path; findings on a
valid config make it 1."""


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


_RANK = {"error": 3, "warning": 2, "info": 1}


def _split(values: list[str] | None) -> list[str] | None:
    """``--select MC1,MC3 --select MC501`` -> ``[MC1, MC3, MC501]``."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _check_selectors(select: list[str] | None, ignore: list[str] | None) -> None:
    from metaconf.lint.catalog import all_rules, unknown_selectors

    unknown = unknown_selectors([*(select or []), *(ignore or [])])
    if unknown:
        import difflib

        names = [*all_rules(), *(r.name for r in all_rules().values())]
        close = sorted({m for u in unknown for m in difflib.get_close_matches(u, names, n=2, cutoff=0.6)})
        hint = f"did you mean {', '.join(f'`{c}`' for c in close)}? " if close else ""
        raise UsageError(
            f"unknown rule selector{'s' if len(unknown) > 1 else ''}: {', '.join(f'`{u}`' for u in unknown)}",
            f"{hint}select by code (`MC301`), prefix (`MC3`), name (`unknown-key`) or `ALL`; "
            "`metaconf rules` lists them",
        )


def _lint_one(file: str, options: LintOptions, stdin_name: str | None, stdin: bytes | None) -> list[Finding]:
    from metaconf.lint.engine import lint_bytes, lint_file

    if file == "-":
        return lint_bytes(stdin or b"", stdin_name or "-", options)
    return lint_file(file, options)


def _fix_one(
    file: str, options: LintOptions, unsafe: bool, stdin_name: str | None, stdin: bytes | None
) -> FixResult | None:
    """Fix one input in memory (nothing is written here); None when it cannot be read as text, and then
    plain linting reports why."""
    from pathlib import Path

    from metaconf.config.loader import LoadError, read_text
    from metaconf.lint.fix import fix_text

    if file == "-":
        text = _decode(stdin)
        return None if text is None else fix_text(text, stdin_name or "-", options, unsafe=unsafe)
    try:
        text = read_text(Path(file))
    except LoadError:
        return None
    return fix_text(text, file, options, unsafe=unsafe)


@cli_errors
def lint(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Config files, directories (searched for `*.yaml` / `*.yml`, skipping hidden dirs and `runs/`), "
            "globs (quote them: `'configs/**/*.yaml'`), or `-` for stdin.",
            show_default=False,
        ),
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format: text, json, github (annotations), sarif (2.1.0).")
    ] = OutputFormat.text,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", help="Only these rules: codes, prefixes (`MC3`), names or `ALL`; comma-separated or repeated."),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Skip these rules (same syntax as --select).")
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe fixes in place, keeping comments and key order.")] = False,
    unsafe_fixes: Annotated[
        bool, typer.Option("--unsafe-fixes", help="With --fix or --diff, also apply fixes that may change the meaning.")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print the fixes as a unified diff instead of writing them; exit 1 if any.")
    ] = False,
    data: Annotated[
        bool, typer.Option("--data", help="Load the data each config names (relative to it) and run the data-aware rules.")
    ] = False,
    trust: Annotated[
        bool,
        typer.Option(
            "--trust",
            help="Import the estimator each config names (`search_space.estimator`), running its code, to check "
            "its class and arguments. Without it lint runs no code a config names.",
        ),
    ] = False,
    fail_on: Annotated[
        FailOn,
        typer.Option("--fail-on", help="Lowest severity that makes the exit code 1 (findings below it are shown, exit 0)."),
    ] = FailOn.warning,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even with findings (still 2 for unreadable input).")
    ] = False,
    stdin_filename: Annotated[
        str | None, typer.Option("--stdin-filename", help="Name shown for `-` (stdin); relative data paths resolve from it.")
    ] = None,
) -> None:
    """Check config files for mistakes that make AutoML runs crash, waste budget, or silently do something else.

    Exit codes: **0** no findings at or above `--fail-on` (default: warning), **1** findings on a valid config,
    **2** usage error or input that is not a usable config (invalid YAML, empty or non-UTF-8 file, missing path,
    schema errors such as unknown keys or wrong types, a search-space file that is not a ConfigSpace space,
    data that cannot be loaded with `--data`). Suppress one finding with a `# metaconf: ignore[MC301]` comment on its
    line (or alone on the line above). Configs are data: lint never runs code a config names unless you pass
    `--trust`.
    """
    from metaconf.lint.collect import collect_paths
    from metaconf.lint.engine import LintOptions
    from metaconf.lint.reporters import LintReport, registry_descriptions, render

    select_list, ignore_list = _split(select), _split(ignore)
    _check_selectors(select_list, ignore_list)
    collection = collect_paths(paths)
    if not collection.files:
        given = ", ".join(f"`{p}`" for p in paths)
        raise UsageError(
            f"no config file matched {given}",
            "give YAML files, a directory holding *.yaml / *.yml files, a glob, or - for stdin",
        )
    use_stdin = "-" in collection.files
    if use_stdin and (fix and not diff):
        raise UsageError("--fix cannot write back to stdin", "use --diff to see the fixes, or lint the file itself")
    stdin_bytes = sys.stdin.buffer.read() if use_stdin else None
    options = LintOptions(select=select_list, ignore=ignore_list, data=data, trust=trust)

    findings: list[Finding] = []
    results: list[FixResult] = []
    for file in collection.files:
        result = _fix_one(file, options, unsafe_fixes, stdin_filename, stdin_bytes) if fix or diff else None
        if result is not None:
            results.append(result)
            findings.extend(result.findings)
        else:
            findings.extend(_lint_one(file, options, stdin_filename, stdin_bytes))

    for missing in collection.unmatched:
        from metaconf.cli.common import print_error

        print_error(f"`{missing}` matched no file", "check the path; quote globs so the shell does not expand them")

    if diff:
        _print_diffs(results)
        changed = any(r.changed for r in results)
        code = 2 if collection.unmatched or any(f.code in UNREADABLE_CODES for f in findings) else int(changed)
        raise typer.Exit(code)

    fixed = 0
    if fix:
        from metaconf.io import atomic_write_text

        for result in results:  # stdin is refused with --fix above, so every result is a file
            if result.changed:
                atomic_write_text(result.path, result.fixed, force=True)
            for applied in result.applied:
                span = applied.span
                typer.echo(f"fixed: {result.path}:{span.line}:{span.col}: {applied.code} {applied.title_of_fix}", err=True)
            if result.error:
                typer.echo(f"warning: {result.path}: fixes not applied: {result.error}", err=True)
            fixed += len(result.applied)

    findings.sort(key=lambda f: f.sort_key())
    report = LintReport(
        findings=findings,
        files=len(collection.files),
        skipped=len(collection.skipped),
        fixed=fixed,
        unsafe_fixes_enabled=unsafe_fixes,
        descriptions=registry_descriptions(),
    )
    color = output_format is OutputFormat.text and _use_color()
    typer.echo(render(output_format, report, color=color), nl=False, color=color or None)
    raise typer.Exit(_exit_code(findings, bool(collection.unmatched), fail_on, exit_zero))


def _decode(raw: bytes | None) -> str | None:
    """Stdin as text, or None when it is not UTF-8 (then the plain lint path reports where)."""
    try:
        return (raw or b"").removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        return None


def _print_diffs(results: list[FixResult]) -> None:
    would_fix = 0
    for result in results:
        text = result.diff()
        if text:
            typer.echo(text, nl=not text.endswith("\n"))
        if result.error:
            typer.echo(f"warning: {result.path}: fixes not applied: {result.error}", err=True)
        would_fix += len(result.applied)
    remaining = sum(len(r.findings) for r in results)
    noun = "finding" if would_fix == 1 else "findings"
    typer.echo(f"Would fix {would_fix} {noun} ({remaining} remaining).", err=True)


def _use_color() -> bool:
    import os

    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def _exit_code(findings: list[Finding], unmatched: bool, fail_on: FailOn, exit_zero: bool) -> int:
    if unmatched or any(f.code in UNREADABLE_CODES for f in findings):
        return 2
    if exit_zero:
        return 0
    threshold = _RANK[fail_on.value]
    return int(any(_RANK[f.severity.value] >= threshold for f in findings))
