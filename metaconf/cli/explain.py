"""`metaconf explain CONFIG`: every value of a config, who chose it and why.

The reasons come from the config's ``provenance.values`` (written by `metaconf suggest`). A value without a
recorded reason is shown as ``user`` when the file sets it (hand-written, or edited after it was suggested)
and as ``default`` when the model's default is in force, with the default's documentation as the reason, so
the table always covers the whole effective configuration, not only what the file spells out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from metaconf.cli.common import ConfigArgument, cli_errors


class ExplainFormat(str, Enum):
    table = "table"
    json = "json"


@dataclass(frozen=True)
class ExplainedValue:
    path: str
    value: str
    origin: str
    reason: str


def _leaves(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict) and data:
        out: list[tuple[str, Any]] = []
        for key, value in data.items():
            out.extend(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return [(prefix, data)] if prefix else []


def _field_doc(path: str) -> str:
    """The model's docstring of a field, first sentence (used as the reason of a default value)."""
    from pydantic import BaseModel

    from metaconf.config.model import Config

    model: Any = Config
    doc = ""
    for step in path.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or step not in fields:
            return doc
        info = fields[step]
        doc = (info.description or "").strip()
        annotation = info.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return doc.split(". ")[0].rstrip(".")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def explain_values(raw: dict[str, Any], *, all_values: bool = False) -> list[ExplainedValue]:
    """The rows of the table for a loaded config document (``raw`` = the YAML mapping)."""
    from metaconf.config.model import Config

    config = Config.model_validate(raw)
    provenance = config.provenance
    recorded = provenance.values if provenance is not None else {}
    full = dict(_leaves(config.model_dump(mode="json", exclude={"provenance"})))
    written = {path for path, _ in _leaves({k: v for k, v in raw.items() if k != "provenance"})}

    rows: list[ExplainedValue] = []
    seen: set[str] = set()
    for path, value in full.items():
        prov_path = next((p for p in _ancestors(path) if p in recorded), None)
        if prov_path is not None:
            entry = recorded[prov_path]
            rows.append(ExplainedValue(path, _show(value), entry.origin.value, entry.reason))
        elif path in written or any(path.startswith(w + ".") for w in written):
            rows.append(ExplainedValue(path, _show(value), "user", "set in the file (no recorded reason)"))
        elif all_values:
            rows.append(ExplainedValue(path, _show(value), "default", _field_doc(path)))
        else:
            continue
        seen.add(path)
    # Recorded reasons for values that are unset (None / empty) still say something: show them.
    for path, entry in recorded.items():
        if path not in seen and not any(r.path.startswith(path + ".") for r in rows) and path in full:
            rows.append(ExplainedValue(path, _show(full[path]), entry.origin.value, entry.reason))
    return rows


def _ancestors(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


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
    from metaconf.config.loader import LoadError, load_file
    from metaconf.errors import UsageError
    from metaconf.lint.engine import schema_problems

    try:
        document = load_file(config)
    except LoadError as error:
        where = f"{config}:{error.span.line}:{error.span.col}"
        raise UsageError(
            f"{where}: {error.message}", f"`metaconf lint {config}` shows every problem"
        ) from None
    parsed, problems = schema_problems(document.data)
    if parsed is None:
        first = problems[0]
        span = document.span(first.path, key=first.key)
        raise UsageError(
            f"{config}:{span.line}:{span.col}: {first.message}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            f"`metaconf lint {config}` lists every problem; fix them first",
        )
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
