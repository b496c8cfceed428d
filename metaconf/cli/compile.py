"""`metaconf compile CONFIG`: print the exact SMAC3 calls `metaconf run` would make, without running them.

Formats: ``yaml`` (the plan: facade, Scenario and component arguments, callbacks, and a note for every value
metaconf derived), ``json`` (the same, machine-readable, with ``meta``: the plan's sha256) and ``python`` (a
SMAC3 script that runs as is: the search space, metaconf's target function with its per-trial limits, the same
SMAC calls and seed; :func:`~metaconf.targets.smac.script.render_python`). The data is loaded, because the
crash cost of some metrics depends on it.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from metaconf.cli.common import ConfigArgument, cli_errors, load_checked_config, seed_option

if TYPE_CHECKING:

    from metaconf.config.model import Config
    from metaconf.targets.smac.compile import SmacPlan


class PlanFormat(str, Enum):
    yaml = "yaml"
    json = "json"
    python = "python"


def compile_config(config: Config, base_dir: Path, run_dir: Path) -> SmacPlan:
    """Compile ``config`` as ``metaconf run`` does (:func:`metaconf.api.compile_with_space`)."""
    from metaconf.api import compile_with_space

    return compile_with_space(config, base_dir, run_dir)[0]


def python_script(config: Config, base_dir: Path, run_dir: Path, config_path: Path) -> str:
    """The SMAC3 script ``compile --format python`` prints for ``config`` (already overridden)."""
    from metaconf.api import compile_with_space
    from metaconf.targets.smac.script import render_python

    plan, space = compile_with_space(config, base_dir, run_dir)
    return render_python(plan, space, config, base_dir=base_dir, name=run_dir.name, source=config_path)


def render_plan(plan: SmacPlan, fmt: PlanFormat | str) -> str:
    """The plan as YAML or JSON (a Python script needs the config and space too: :func:`python_script`)."""
    import json

    fmt = PlanFormat(fmt)
    if fmt == PlanFormat.python:
        raise ValueError("a Python script is rendered from the config: use python_script()")
    data = plan.to_dict()
    if fmt == PlanFormat.json:
        return json.dumps(data, indent=2) + "\n"
    import yaml

    header = (
        "# The SMAC3 calls `metaconf run` makes for this config. null limits mean none (SMAC's inf).\n"
        f"# plan sha256: {plan.meta}\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


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
    from metaconf.config.model import Tool
    from metaconf.targets.smac.runner import RunRequest, apply_overrides, run_directory

    config, base_dir = load_checked_config(config_path)
    config = apply_overrides(config, RunRequest(seed=seed))
    if config.tool == Tool.auto_sklearn:
        from metaconf.targets.autosklearn import runner as autosklearn

        askl_plan = autosklearn.plan_for_cli(config, base_dir, run_directory(config, config_path))
        typer.echo(autosklearn.render_plan(askl_plan, fmt.value), nl=False)
        return
    run_dir = run_directory(config, config_path)
    if fmt == PlanFormat.python:
        typer.echo(python_script(config, base_dir, run_dir, config_path), nl=False)
        return
    plan = compile_config(config, base_dir, run_dir)
    typer.echo(render_plan(plan, fmt), nl=False)
