"""`metaconf compile CONFIG`: print the exact SMAC3 calls `metaconf run` would make, without running them.

Formats: ``yaml`` (the plan: facade, Scenario and component arguments, callbacks, and a note for every value
metaconf derived), ``json`` (the same, machine-readable, with ``meta``: the plan's sha256) and ``python`` (a
SMAC3 script that runs as is: the search space, metaconf's target function with its per-trial limits, the same
SMAC calls and seed; :func:`~metaconf.targets.smac.script.render_python`). The data is loaded, because the
crash cost of some metrics depends on it.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from metaconf.cli.common import ConfigArgument, cli_errors, load_checked_config, seed_option


class PlanFormat(str, Enum):
    yaml = "yaml"
    json = "json"
    python = "python"


@cli_errors
def compile_command(
    config_path: ConfigArgument,
    *,
    fmt: Annotated[
        PlanFormat,
        typer.Option(
            "--format",
            "-f",
            help="yaml (default), json, or python (a SMAC3 script that runs as is: `python FILE`).",
        ),
    ] = PlanFormat.yaml,
    seed: Annotated[
        int | None,
        seed_option("Random seed (overrides execution.seed)."),
    ] = None,
) -> None:
    """Print the SMAC3 calls `metaconf run` would make for a config."""
    from metaconf.targets.base import target_for
    from metaconf.targets.run_dir import RunRequest, apply_overrides, run_directory

    config, base_dir = load_checked_config(config_path)
    config = apply_overrides(config, RunRequest(seed=seed))
    target = target_for(config.tool)
    run_dir = run_directory(config, config_path)
    if fmt == PlanFormat.python:
        typer.echo(target.script(config, base_dir, run_dir, config_path), nl=False)
        return
    typer.echo(target.render(target.plan(config, base_dir, run_dir), fmt.value), nl=False)
