"""`metaconf explain CONFIG`: every value of a config, who chose it and why.

The reasons come from the config's ``provenance.values`` (written by `metaconf suggest`). A value without a
recorded reason is shown as ``user`` when the file sets it (hand-written, or edited after it was suggested)
and as ``default`` when the model's default is in force, with the default's documentation as the reason, so
the table always covers the whole effective configuration, not only what the file spells out.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from metaconf.cli.common import ConfigArgument, cli_errors

if TYPE_CHECKING:  # the config model (pydantic) loads when the command runs, not at `metaconf --help`
    from metaconf.config.explain import ExplainedValue


class ExplainFormat(str, Enum):
    table = "table"
    json = "json"


@cli_errors
def explain(
    config: ConfigArgument,
    all_values: Annotated[
        bool, typer.Option("--all", help="Also list values left at their defaults, with what each one means.")
    ] = False,
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="A table for people, or JSON for tools.")
    ] = ExplainFormat.table,
) -> None:
    """Print every value of a config with its origin (rule / llm / user / default) and the reason for it."""
    from metaconf.api import loaded_config

    document, parsed = loaded_config(config)
    from metaconf.config.explain import explain_values

    rows = explain_values(document.data, all_values=all_values)
    if output_format == ExplainFormat.json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))
        return
    _print_table(Path(config), parsed, rows)


def _print_table(path: Path, config: Any, rows: list[ExplainedValue]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    provenance = config.provenance
    title = f"{path}"
    if provenance is not None and provenance.advisor:
        title += (
            f" (written by the {provenance.advisor} advisor, metaconf {provenance.metaconf_version or '?'})"
        )
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("setting", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("origin", no_wrap=True)
    table.add_column("reason", overflow="fold")
    styles = {"rule": "green", "user": "cyan", "llm": "magenta", "llm-repaired": "magenta", "default": "dim"}
    for row in rows:
        table.add_row(row.path, row.value, f"[{styles.get(row.origin, '')}]{row.origin}[/]", row.reason)
    console.print(table)
    if provenance is None:
        console.print("[dim]This config has no provenance block: it was written by hand.[/]")
