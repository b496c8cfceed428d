"""`metaconf report RUN_DIR...`: re-print the summary of a run, or compare several runs in one table and plot.

Reads only the run directory (``results.json``, ``trajectory.csv``; ``config.yaml`` and the tool's trial
records for --format json / --html), so it works for SMAC and auto-sklearn runs, for finished, interrupted and
failed ones, and without the data.

Output: the summary as a table (``--format text``, the default), JSON (one object per run) or a Markdown table
on stdout; ``--plot FILE.png`` the trajectories; ``--html FILE.html`` one self-contained page to share
(:mod:`metaconf.report.html`).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from metaconf.cli.common import cli_errors
from metaconf.errors import UsageError


class ReportFormat(str, Enum):
    text = "text"
    json = "json"
    md = "md"


HTML_SUFFIXES = (".html", ".htm")


def _check_output(path: Path, option: str, what: str, suffixes: tuple[str, ...], force: bool) -> None:
    """Refuse an output path before anything is read: wrong suffix, a directory, or an existing file without
    --force (exit 2, like every other command that writes a file)."""
    if path.suffix.lower() not in suffixes:
        raise UsageError(
            f"`{path}`: {option} writes {what}", f"give a file name ending in {' or '.join(suffixes)}"
        )
    if path.is_dir():
        raise UsageError(f"`{path}` is a directory", f"give {option} a file name")
    if path.exists() and not force:
        raise UsageError(f"`{path}` already exists", "pass --force to overwrite it, or choose another path")


@cli_errors
def report(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(help="One or more run directories written by `metaconf run`.", show_default=False),
    ],
    *,
    output_format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            help="`text` (a table for people), `json` (one object per run, for tools) or `md` (a Markdown table).",
            case_sensitive=False,
        ),
    ] = ReportFormat.text,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write the best-so-far trajectories of all runs into this PNG file."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Write one self-contained HTML page (summary, plots, incumbent, every config value with its "
            "reason, versions; several runs: compared first). It loads nothing from the network.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the --plot / --html file if it exists.")
    ] = False,
) -> None:
    """Summarise one run, or compare several in one table (and one plot with --plot, one page with --html)."""
    from metaconf.report.export import load_runs, runs_json, runs_markdown
    from metaconf.report.results import plot_trajectories
    from metaconf.report.summary import comparison_table, output_console, summary_table

    if plot is not None:
        _check_output(plot, "--plot", "a PNG image", (".png",), force)
    if html is not None:
        _check_output(html, "--html", "an HTML page", HTML_SUFFIXES, force)
    if plot is not None and html is not None and plot.resolve() == html.resolve():
        raise UsageError("--plot and --html name the same file", "give them different paths")
    needs_config = html is not None or output_format == ReportFormat.json
    views = load_runs(run_dirs, with_config=needs_config)
    if output_format == ReportFormat.json:
        typer.echo(runs_json(views), nl=False)
    elif output_format == ReportFormat.md:
        typer.echo(runs_markdown(views), nl=False)
    else:
        console = output_console()
        if len(views) == 1:
            console.print(summary_table(views[0].results, views[0].run_dir))
        else:
            console.print(comparison_table([(v.label, v.results) for v in views]))
    if plot is not None:
        plot_trajectories([v.run_dir for v in views], plot, labels=[v.label for v in views])
        typer.echo(f"wrote {plot}", err=True)
    if html is not None:
        from metaconf.report.html import write_html

        write_html(views, html, force=force)
        typer.echo(f"wrote {html}", err=True)
