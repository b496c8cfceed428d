"""`metaconf profile`: what metaconf sees in a dataset (column kinds and why, target balance, duplicates,
memory) and, with ``--probe``, what one model fit costs on it.

Exit codes: 0 profiled, 2 bad input (a missing or unreadable file, an unknown demo or target column).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from metaconf.cli.common import cli_errors
from metaconf.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

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
    output_format: Annotated[ProfileFormat, typer.Option("--format", help="Output format.")] = ProfileFormat.text,
    probe: Annotated[
        bool, typer.Option("--probe", help="Also time a default fit of each model family (the trial-cost probe).")
    ] = False,
    probe_time: Annotated[
        str, typer.Option("--probe-time", help="Time limit of the probe, e.g. `20s`, `2m`.")
    ] = "30s",
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=100, help="Rows beyond this are sampled for the column statistics.")
    ] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed for sampling and the probe.")] = 0,
    list_demos_flag: Annotated[
        bool, typer.Option("--list-demos", help="List the bundled demo datasets and exit.")
    ] = False,
) -> None:
    """Profile a dataset: rows, column kinds with reasons, missing values, target classes and balance,
    duplicates, memory; `--probe` also measures what one model fit costs."""
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
    result, dataset = _profile(data, demo, target, max_rows=max_rows, seed=seed, need_dataset=probe)
    probe_result = None
    if probe:
        probe_result = _probe(result, dataset, data, probe_limit, seed)
    if output_format is ProfileFormat.json:
        import json

        payload: dict[str, Any] = result.to_dict()
        if probe_result is not None:
            payload["probe"] = probe_result.to_dict()
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    _print_profile(console, result)
    if probe_result is not None:
        _print_probe(console, probe_result)


def _profile(
    data: Path | None, demo: str | None, target: str | None, *, max_rows: int, seed: int, need_dataset: bool
) -> tuple[DataProfile, Any]:
    from metaconf.data.load import load_dataset
    from metaconf.profile.profile import profile_dataset, profile_path

    if demo is not None:
        from metaconf.config.model import Config

        config = Config.model_validate({"data": {"demo": demo}, "task": {"target": target}})
        dataset = load_dataset(config)
        return profile_dataset(dataset, max_rows=max_rows, seed=seed), dataset
    assert data is not None
    result = profile_path(data, target, max_rows=max_rows, seed=seed)
    return result, None


def _probe(result: DataProfile, dataset: Any, data: Path | None, limit: float, seed: int) -> ProbeResult:
    from metaconf.profile.probe import probe_trial_cost
    from metaconf.space.builtin import families_for

    if result.target is None:
        raise UsageError("--probe needs a target column", "pass --target COLUMN")
    if dataset is None:
        from metaconf.config.model import Config
        from metaconf.data.load import load_dataset

        assert data is not None
        config = Config.model_validate({"data": {"path": str(data)}, "task": {"target": result.target.name}})
        dataset = load_dataset(config, Path("."))
    task_type = result.target.task_type
    families = [family.value for family in families_for(task_type)]
    return probe_trial_cost(
        dataset, task_type=task_type, families=families, resampling_folds=1, time_limit_s=limit, seed=seed
    )


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
    summary.add_row("memory", f"{result.memory_mb:,.1f} MB" + (" (estimated)" if result.sampled else ""))
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


def _print_probe(console: Console, result: ProbeResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print()
    console.print(
        f"trial cost: seconds per fit on all {result.rows:,} rows "
        f"(the probe took {result.walltime_s:.1f} s of at most {result.time_limit_s or 0:.0f} s)"
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
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
