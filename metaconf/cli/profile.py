"""`metaconf profile`: what metaconf sees in a dataset (column kinds and why, target balance, duplicates,
memory) and, with ``--probe``, what one model fit costs on it.

Exit codes: 0 profiled, 2 bad input (a missing or unreadable file, an unknown demo or target column).
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from metaconf.cli.common import cli_errors, seed_option, working
from metaconf.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from metaconf.advise.facts import DescriptionFacts
    from metaconf.profile.probe import ProbeResult
    from metaconf.profile.profile import DataProfile


class ProfileFormat(str, Enum):
    text = "text"
    json = "json"


_MAX_COLUMN_ROWS = 60
"""Columns shown in the text table; the rest are counted (JSON always has them all)."""


@cli_errors
def profile(
    data: Annotated[
        Path | None, typer.Argument(help="A CSV, TSV, Parquet or ARFF file.", show_default=False)
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", help="The target column (default: a column named target/class/label/y)."),
    ] = None,
    demo: Annotated[
        str | None, typer.Option("--demo", help="Profile a bundled demo dataset instead of a file.")
    ] = None,
    output_format: Annotated[ProfileFormat, typer.Option("--format", "-f", help="Output format.")] = ProfileFormat.text,
    probe: Annotated[
        bool, typer.Option("--probe", help="Also time a default fit of each model family (the trial-cost probe).")
    ] = False,
    probe_time: Annotated[
        str, typer.Option("--probe-time", help="Time limit of the probe, e.g. `20s`, `2m`.")
    ] = "30s",
    describe: Annotated[
        str | None,
        typer.Option(
            "--describe",
            help="A task description (a file, or the text itself): show what metaconf reads from it.",
        ),
    ] = None,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=100, help="Rows beyond this are sampled for the column statistics.")
    ] = 100_000,
    seed: Annotated[int, seed_option("Seed for sampling and the probe.")] = 0,
    list_demos_flag: Annotated[
        bool, typer.Option("--list-demos", help="List the bundled demo datasets and exit.")
    ] = False,
) -> None:
    """Profile a dataset: rows, column kinds with reasons, missing values, target classes and balance,
    duplicates, memory; `--describe` shows what metaconf reads from a task description; `--probe` measures
    what one model fit costs."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    if list_demos_flag:
        _print_demos(console, output_format)
        return
    if (data is None) == (demo is None):
        raise UsageError(
            "give a data file or --demo NAME" if data is None else "give either a data file or --demo, not both",
            "e.g. `metaconf profile data.csv --target label` or `metaconf profile --demo titanic`; "
            "`metaconf profile --list-demos` lists the demos",
        )
    from metaconf.config.units import parse_duration

    probe_limit = parse_duration(probe_time) if probe else 0.0
    result = _profile(data, demo, target, max_rows=max_rows, seed=seed)
    facts = _describe(describe, result) if describe is not None else None
    probe_result = None
    if probe:
        probe_result = _probe(result, data, demo, probe_limit, seed)
    if output_format is ProfileFormat.json:
        import json

        payload: dict[str, Any] = result.to_dict()
        if facts is not None:
            payload["description"] = facts.to_dict()
        if probe_result is not None:
            payload["probe"] = probe_result.to_dict()
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    _print_profile(console, result)
    if facts is not None:
        _print_description(console, facts)
    if probe_result is not None:
        _print_probe(console, probe_result)


def _describe(value: str, result: DataProfile) -> DescriptionFacts:
    """Parse ``--describe`` (a file when one exists at that path, else the text) against the data's columns
    and classes."""
    from metaconf.advise.describe import parse_description

    path = Path(value).expanduser()
    try:
        is_file = "\n" not in value and len(value) < 4096 and path.is_file()
    except OSError:
        is_file = False
    if is_file:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise UsageError(f"cannot read the description file `{path}`: {error.strerror or error}") from None
    else:
        text = value
    columns = [c.name for c in result.columns] + ([result.target.name] if result.target else [])
    classes = list(result.target.class_counts) if result.target and result.target.class_counts else None
    return parse_description(text, columns=columns, classes=classes)


def _profile(data: Path | None, demo: str | None, target: str | None, *, max_rows: int, seed: int) -> DataProfile:
    from metaconf.data.load import load_dataset
    from metaconf.profile.profile import profile_dataset, profile_path

    if demo is not None:
        from metaconf.config.model import Config

        config = Config.model_validate({"data": {"demo": demo}, "task": {"target": target}})
        return profile_dataset(load_dataset(config), max_rows=max_rows, seed=seed)
    assert data is not None
    return profile_path(data, target, max_rows=max_rows, seed=seed)


def _probe(result: DataProfile, data: Path | None, demo: str | None, limit: float, seed: int) -> ProbeResult:
    """:func:`metaconf.api.probe` on the profiled data: every family of the target's task."""
    from metaconf.api import probe
    from metaconf.config.model import Config

    if result.target is None:
        raise UsageError("--probe needs a target column", "pass --target COLUMN")
    source = {"demo": demo} if demo is not None else {"path": str(data)}
    config = Config.model_validate({"data": source, "task": {"target": result.target.name}})
    with working("measuring what one fit of each model family costs"):
        return probe(config, base_dir=Path("."), limit=limit, seed=seed).probe


def _print_demos(console: Console, output_format: ProfileFormat) -> None:
    from metaconf.data.load import list_demos

    demos = list_demos()
    if output_format is ProfileFormat.json:
        import json

        typer.echo(json.dumps(demos, indent=2))
        return
    from rich.table import Table

    table = Table(title="demo datasets (`--demo NAME`)", title_justify="left", show_edge=False)
    table.add_column("name", style="bold")
    table.add_column("description", overflow="fold")
    for name, description in demos.items():
        table.add_row(name, description)
    console.print(table)


def _percent(value: float) -> str:
    if value == 0:
        return "0%"
    return "<0.1%" if value < 0.001 else f"{value:.1%}"


def _print_profile(console: Console, result: DataProfile) -> None:
    from rich.markup import escape
    from rich.table import Table

    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column(style="bold")
    summary.add_column()
    rows_text = f"{result.n_rows:,}"
    if result.sampled:
        rows_text += f"  (statistics from a random sample of {result.rows_profiled:,})"
    kinds = ", ".join(f"{count} {kind}" for kind, count in result.kind_counts().items() if count)
    summary.add_row("data", escape(f"{result.name}  ({result.source})"))
    summary.add_row("rows", rows_text)
    summary.add_row("features", f"{result.n_features}: {kinds or 'none'}; {result.n_encoded_features} after encoding")
    summary.add_row(
        "missing", f"{_percent(result.missing_ratio)} of cells, {_percent(result.rows_with_missing_ratio)} of rows"
    )
    summary.add_row(
        "duplicates",
        f"{result.duplicate_rows:,} rows"
        + (f", {result.conflicting_duplicates:,} with conflicting targets" if result.conflicting_duplicates else ""),
    )
    memory = f"{result.memory_mb:,.1f} MB" if result.memory_mb >= 1 else f"{result.memory_mb * 1024:,.0f} kB"
    summary.add_row("memory", memory + (" (estimated)" if result.sampled else ""))
    summary.add_row("profiled in", f"{result.seconds:.2f} s")
    console.print(summary)

    target = result.target
    if target is not None:
        console.print()
        if target.class_counts:
            console.print(
                escape(
                    f"target `{target.name}`: {target.kind}, {target.n_classes} classes, "
                    f"imbalance {target.imbalance_ratio:.1f}:1"
                )
            )
            table = Table(show_edge=False)
            table.add_column("class")
            table.add_column("rows", justify="right")
            table.add_column("share", justify="right")
            total = sum(target.class_counts.values()) or 1
            shown = list(target.class_counts.items())
            for label, count in shown[:20]:
                table.add_row(escape(label), f"{count:,}", _percent(count / total))
            if len(shown) > 20:
                table.add_row(f"... {len(shown) - 20} more", "", "")
            console.print(table)
        else:
            stats = ", ".join(f"{k} {v:.4g}" for k, v in target.stats.items())
            console.print(escape(f"target `{target.name}`: {target.kind} ({stats})"))
        if target.missing:
            console.print(f"  {target.missing:,} rows without a target value")

    console.print()
    columns = Table(title="columns", title_justify="left", show_edge=False)
    columns.add_column("column", overflow="fold")
    columns.add_column("kind")
    columns.add_column("missing", justify="right")
    columns.add_column("distinct", justify="right")
    columns.add_column("why / details", overflow="fold")
    for column in result.columns[:_MAX_COLUMN_ROWS]:
        details = column.reason
        if column.top_values and column.kind in ("categorical", "boolean"):
            details += "; top: " + ", ".join(f"{value} ({count})" for value, count in column.top_values[:3])
        style = "dim" if column.treatment == "dropped" else None
        columns.add_row(
            escape(column.name),
            column.kind + (" (dropped)" if column.treatment == "dropped" else ""),
            _percent(column.missing_ratio),
            f"{column.n_unique:,}",
            escape(details),
            style=style,
        )
    if len(result.columns) > _MAX_COLUMN_ROWS:
        columns.add_row(f"... {len(result.columns) - _MAX_COLUMN_ROWS} more (see --format json)", "", "", "", "")
    console.print(columns)
    if result.notes:
        console.print()
        for note in result.notes:
            console.print(f"[yellow]note:[/] {escape(note)}")


def _quote(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return f"“{text[: limit - 1]}…”" if len(text) > limit else f"“{text}”"


def _print_description(console: Console, facts: DescriptionFacts) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print()
    if facts.is_empty:
        console.print("description: states nothing metaconf uses (no costs, metric, classes, time limit)")
    else:
        table = Table(title="what the description says", title_justify="left", show_edge=False)
        table.add_column("fact")
        table.add_column("value", overflow="fold")
        table.add_column("from the text", overflow="fold")
        if facts.cost_matrix is not None:
            matrix = facts.cost_matrix.as_config()
            rows = "; ".join(
                f"{label} -> " + ", ".join(f"{c:g}" for c in row) for label, row in zip(matrix["labels"], matrix["costs"], strict=True)
            )
            evidence = facts.cost_matrix.evidence.text
            if facts.cost_matrix.layout in ("table", "markdown"):
                worded = [line for line in evidence.splitlines() if len(re.findall(r"[A-Za-z]{2,}", line)) >= 4]
                kind = "markdown table" if facts.cost_matrix.layout == "markdown" else "text table"
                evidence = f"a {kind}" + (": " + " ".join(worded) if worded else "")
            table.add_row(
                "cost matrix",
                escape(f"true class -> cost of predicting {', '.join(map(str, matrix['labels']))}: {rows}"),
                escape(_quote(evidence, 120)),
            )
        hint = facts.suggested_metric
        if hint is not None:
            source = "the cost matrix" if facts.cost_matrix is not None else _quote(hint.evidence.text)
            table.add_row("metric", escape(f"{hint.metric} ({hint.word}, {hint.strength})"), escape(source))
        for other in facts.metric_hints:
            if other is not hint and other.strength in ("negated", "reported"):
                table.add_row(f"  not: {other.strength}", escape(other.word), escape(_quote(other.evidence.text)))
        if facts.positive_class is not None:
            table.add_row("positive class", escape(str(facts.positive_class.value)), escape(_quote(facts.positive_class.evidence.text)))
        if facts.target_column is not None:
            table.add_row("target column", escape(str(facts.target_column.value)), escape(_quote(facts.target_column.evidence.text)))
        for limit in facts.time_limits:
            scope = "time limit" if limit.scope == "total" else "per-trial limit"
            table.add_row(scope, f"{limit.seconds:g} s ({escape(limit.text)})", escape(_quote(limit.evidence.text)))
        for label, mention in (("interpretability", facts.interpretability), ("class imbalance", facts.imbalance)):
            if mention is not None:
                value = ("not wanted: " if mention.negated else "") + mention.word
                table.add_row(label, escape(value), escape(_quote(mention.evidence.text)))
        console.print(table)
    for note in facts.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")


def _print_probe(console: Console, result: ProbeResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print()
    console.print(
        f"trial cost: seconds per fit on all {result.rows:,} rows "
        f"(the probe took {result.walltime_s:.1f} s, fits limited to {result.time_limit_s or 0:.3g} s)"
    )
    table = Table(show_edge=False)
    table.add_column("family")
    table.add_column("s / fit", justify="right")
    table.add_column("b (s ~ rows^b)", justify="right")
    table.add_column("from")
    table.add_column("measured (rows: s)", overflow="fold")
    for name, cost in sorted(result.families.items(), key=lambda item: item[1].seconds):
        measured = ", ".join(f"{n:,}: {t:.3f}" for n, t in cost.measurements)
        table.add_row(name, f"{cost.seconds:.3f}", f"{cost.exponent:.2f}", cost.source, escape(measured or cost.note))
    console.print(table)
    console.print(escape(result.method))
    if result.encoding:
        timed = ", ".join(f"{n:,}: {t:.3f}" for n, t in result.encoding)
        console.print(
            f"encoding the categorical / datetime columns: {result.encoding_seconds:.3f} s of each fit above "
            f"(timed alone, rows: s: {timed}); the cost model has no such term"
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
