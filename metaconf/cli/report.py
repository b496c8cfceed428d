"""`metaconf report RUN_DIR...`: re-print the summary of a run, or compare several runs in one table and plot.

Reads only the run directory (``results.json``, ``trajectory.csv``), so it works for SMAC and auto-sklearn runs,
for finished, interrupted and failed ones, and without the config or the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from metaconf.cli.common import cli_errors
from metaconf.errors import UsageError

if TYPE_CHECKING:
    from metaconf.report.results import RunResults


@cli_errors
def report(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(help="One or more run directories written by `metaconf run`.", show_default=False),
    ],
    *,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write the best-so-far trajectories of all runs into this PNG file."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --plot file if it exists.")] = False,
) -> None:
    """Summarise one run, or compare several in one table (and one plot with --plot)."""
    from metaconf.report.results import plot_trajectories, read_results
    from metaconf.report.summary import comparison_table, output_console, summary_table

    if plot is not None:
        if plot.suffix.lower() != ".png":
            raise UsageError(f"`{plot}`: --plot writes a PNG image", "give a file name ending in .png")
        if plot.exists() and not force:
            raise UsageError(
                f"`{plot}` already exists", "pass --force to overwrite it, or choose another path"
            )
    runs = [(run_dir, read_results(run_dir)) for run_dir in run_dirs]
    console = output_console()
    if len(runs) == 1:
        console.print(summary_table(runs[0][1], runs[0][0]))
    else:
        console.print(comparison_table(_labels(runs)))
    if plot is not None:
        plot_trajectories(
            [run_dir for run_dir, _ in runs], plot, labels=[label for label, _ in _labels(runs)]
        )
        typer.echo(f"wrote {plot}", err=True)


def _labels(runs: list[tuple[Path, RunResults]]) -> list[tuple[str, RunResults]]:
    """Run labels: the directory names, with parent names added where two runs share a name."""
    names = [p.resolve().name for p, _ in runs]
    labels = []
    for (path, results), name in zip(runs, names, strict=True):
        label = name if names.count(name) == 1 else f"{path.resolve().parent.name}/{name}"
        labels.append((label, results))
    return labels
