"""`metaconf rule CODE` explains one lint rule; `metaconf rules` lists them.

A rule's docstring is its documentation (*What it does / Why is this bad? / Example / Use instead / Fix
safety / References*); `rule` prints it as rich Markdown on a terminal and as the Markdown source otherwise,
so that it pipes into a pager, a file or a docs build unchanged.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from metaconf.cli.common import cli_errors
from metaconf.errors import UsageError

if TYPE_CHECKING:
    from metaconf.lint.registry import Rule


class Family(str, Enum):
    """Rule families, one per code prefix (`metaconf.lint.registry.FAMILIES`)."""

    yaml = "yaml"
    schema = "schema"
    search_space = "search-space"
    budget = "budget"
    multi_fidelity = "multi-fidelity"
    stopping = "stopping"
    resampling = "resampling"
    reproducibility = "reproducibility"
    auto_sklearn = "auto-sklearn"
    data = "data"


class RulesFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


FormatOption = Annotated[
    RulesFormat,
    typer.Option(
        "--format",
        "-f",
        help="`text` (Markdown on a terminal, a table for `rules`), `json`, or `markdown` (every rule's full "
        "documentation, e.g. for a docs page).",
        case_sensitive=False,
    ),
]

COLUMNS = ("code", "name", "family", "severity", "status", "summary")


def rule_record(rule_: Rule, *, with_doc: bool = False) -> dict[str, Any]:
    """A rule as plain data (the JSON output)."""
    from metaconf.lint.finding import HELP_COMMAND

    record: dict[str, Any] = {
        "code": rule_.code,
        "name": rule_.name,
        "family": rule_.family,
        "severity": rule_.severity.value,
        "status": rule_.status.value,
        "summary": rule_.summary,
        "needs_data": rule_.needs_data,
        "tools": sorted(rule_.tools) if rule_.tools is not None else None,
        "help": HELP_COMMAND.format(code=rule_.code),
    }
    if with_doc:
        record["doc"] = rule_.doc
    return record


def find_rule(query: str) -> Rule:
    """The rule with code or kebab-case name ``query``; a :class:`UsageError` listing close ones otherwise."""
    import difflib

    from metaconf.lint.catalog import all_rules

    rules = all_rules()
    wanted = query.strip()
    if wanted.upper() in rules:
        return rules[wanted.upper()]
    by_name = {r.name: r for r in rules.values()}
    if wanted.lower() in by_name:
        return by_name[wanted.lower()]
    close = difflib.get_close_matches(wanted.upper(), list(rules), n=3, cutoff=0.6)
    close += difflib.get_close_matches(wanted.lower(), list(by_name), n=3, cutoff=0.6)
    if not close and wanted.upper()[:3] in {code[:3] for code in rules}:
        close = [code for code in rules if code.startswith(wanted.upper()[:3])][:3]
    shown = [f"`{c}` ({rules[c].name})" if c in rules else f"`{c}` ({by_name[c].code})" for c in close]
    raise UsageError(
        f"unknown rule `{query}`",
        (f"close: {', '.join(shown)}; " if shown else "") + "`metaconf rules` lists every rule",
    )


def rule_markdown(rule_: Rule) -> str:
    """The full explanation of a rule, as Markdown: a title, its facts, the summary and the docstring."""
    from metaconf.lint.finding import Status

    tools = ", ".join(sorted(rule_.tools)) if rule_.tools is not None else "all"
    status = rule_.status.value
    if rule_.status == Status.preview:
        status += f" (off by default: `metaconf lint --select {rule_.code}`)"
    facts = (
        f"Family: {rule_.family} · Severity: {rule_.severity.value} · Status: {status} · "
        f"Tools: {tools} · Needs data: {'yes (`--data`)' if rule_.needs_data else 'no'}"
    )
    return f"# {rule_.code} `{rule_.name}`\n\n{facts}\n\n{rule_.summary}\n\n{rule_.doc}\n"


def _on_terminal() -> bool:
    return sys.stdout.isatty()


@cli_errors
def rule(
    code: Annotated[
        str, typer.Argument(help="A rule code (`MC301`) or name (`initial-design-exceeds-trials`).", show_default=False)
    ],
    output_format: FormatOption = RulesFormat.text,
) -> None:
    """Explain one lint rule: what it checks, why it matters, a failing and a passing example."""
    found = find_rule(code)
    if output_format == RulesFormat.json:
        typer.echo(json.dumps(rule_record(found, with_doc=True), indent=2))
        return
    text = rule_markdown(found)
    if _on_terminal() and output_format == RulesFormat.text:
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        typer.echo(text, nl=False)


@cli_errors
def rules(
    family: Annotated[
        Family | None, typer.Option("--family", help="Only the rules of this family.", case_sensitive=False)
    ] = None,
    output_format: FormatOption = RulesFormat.text,
) -> None:
    """List the lint rules: code, name, family, severity, status and summary."""
    from metaconf.lint.catalog import all_rules

    chosen = [r for r in all_rules().values() if family is None or r.family == family.value]
    if output_format == RulesFormat.json:
        typer.echo(json.dumps([rule_record(r) for r in chosen], indent=2))
        return
    if output_format == RulesFormat.markdown:
        typer.echo("\n---\n\n".join(rule_markdown(r) for r in chosen), nl=False)
        return
    rows = [[str(rule_record(r)[column]) for column in COLUMNS] for r in chosen]
    if _on_terminal():
        from rich.console import Console
        from rich.table import Table

        table = Table(*(c.upper() for c in COLUMNS), box=None, pad_edge=False, header_style="bold")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    typer.echo("\n".join(lines))
