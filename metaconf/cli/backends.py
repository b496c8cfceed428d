"""`metaconf backends list|doctor|install`: the AutoML tools metaconf can drive, and auto-sklearn's environment.

SMAC3 runs inside metaconf's own process; auto-sklearn 0.15 needs a separate Python 3.8-3.11 environment
(``metaconf.targets.autosklearn.environment``), which ``install`` creates and ``doctor`` checks.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from metaconf.cli.common import Command, Group, cli_errors
from metaconf.errors import MetaconfError, UsageError

backends_app = typer.Typer(
    name="backends",
    help="List, check and install the AutoML tools metaconf runs (SMAC3 in process; auto-sklearn in its own env).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    cls=Group,
)

EnvDirOption = Annotated[
    Path | None,
    typer.Option(
        "--env-dir",
        help="Folder that holds metaconf's tool environments (default: $METACONF_ENV_DIR, else "
        "~/.cache/metaconf/envs).",
        show_default=False,
    ),
]


class BackendsFormat(str, Enum):
    text = "text"
    json = "json"
    md = "md"


FormatOption = Annotated[
    BackendsFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="`text` (a table for people; the default), `json` (for tools) or `md` (a Markdown table).",
        case_sensitive=False,
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", hidden=True, help="Deprecated: the same as `--format json`.")
]
"""``--json``: what ``list`` and ``doctor`` took before ``--format``; kept (hidden) so that scripts keep
working."""


def _output_format(output_format: BackendsFormat | None, json_output: bool) -> BackendsFormat:
    """The format asked for: ``--format``, or the deprecated ``--json`` (both only when they agree)."""
    if not json_output:
        return output_format or BackendsFormat.text
    if output_format not in (None, BackendsFormat.json):
        assert output_format is not None
        raise UsageError(
            f"--json asks for JSON and --format asks for {output_format.value}",
            "drop --json (deprecated: `--format json` replaces it)",
        )
    if sys.stderr.isatty():
        typer.echo("note: --json is deprecated; use --format json", err=True)
    return BackendsFormat.json

SMAC_PACKAGES = ("smac", "ConfigSpace", "scikit-learn", "dask", "distributed")


def _smac_row() -> dict[str, Any]:
    """SMAC3 runs in metaconf's own environment: its versions come from the installed distributions."""
    from importlib import metadata

    versions: dict[str, str] = {}
    missing = []
    for name in SMAC_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    ok = "smac" in versions and "ConfigSpace" in versions
    return {
        "backend": "smac",
        "state": "ready" if ok else "missing",
        "location": "metaconf's own environment",
        "versions": versions,
        "problem": None if ok else "not installed: " + ", ".join(missing),
        "fix": None if ok else 'pip install -e "." (metaconf depends on smac==2.4.1)',
    }


def _autosklearn_row(env_dir: Path | None, *, deep: bool) -> dict[str, Any]:
    from metaconf.targets.autosklearn.environment import env_dir as autosklearn_env_dir
    from metaconf.targets.autosklearn.environment import inspect_env

    status = inspect_env(autosklearn_env_dir(env_dir), deep=deep, root_option=env_dir)
    row: dict[str, Any] = {
        "backend": "auto-sklearn",
        "state": status.state.value,
        "location": str(status.directory),
        "python": str(status.python) if status.python.exists() else None,
        "versions": status.versions,
        "problem": status.problem,
        "fix": status.fix,
    }
    if status.marker:
        row["recipe"] = status.marker.get("recipe")
        row["installed"] = status.marker.get("installed")
        row["install_s"] = status.marker.get("install_s")
    if status.check_s is not None:
        row["import_check_s"] = round(status.check_s, 2)
    return row


MAIN_VERSIONS = ("auto-sklearn", "smac", "scikit-learn", "ConfigSpace", "python")


def _versions_text(row: dict[str, Any]) -> str:
    """The versions the table shows (the main packages only; JSON has them all)."""
    return ", ".join(f"{k} {v}" for k, v in row["versions"].items() if k in MAIN_VERSIONS) or "-"


def _print_rows(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    table = Table(show_lines=False)
    for column in ("backend", "status", "versions"):
        table.add_column(column)
    table.add_column("location", overflow="fold")
    for row in rows:
        colour = "green" if row["state"] == "ready" else "red" if row["state"] != "missing" else "yellow"
        table.add_row(
            row["backend"],
            f"[{colour}]{row['state']}[/]",
            escape(_versions_text(row)),
            escape(row["location"]),
        )
    console.print(table)
    for row in rows:
        if row.get("problem"):
            console.print(f"[bold]{row['backend']}[/]: {escape(row['problem'])}")
        if row.get("fix"):
            console.print(f"  [dim]fix:[/] {escape(row['fix'])}")


MD_COLUMNS = ("backend", "status", "versions", "location", "problem", "fix")


def _markdown_rows(rows: list[dict[str, Any]]) -> str:
    """``--format md``: the text table's rows, with each backend's problem and fix, as a Markdown table."""
    from metaconf.report.export import md_row

    lines = [md_row(MD_COLUMNS), "|" + "|".join("---" for _ in MD_COLUMNS) + "|"]
    for row in rows:
        cells = [
            row["backend"],
            row["state"],
            _versions_text(row),
            row["location"],
            row.get("problem") or "-",
            row.get("fix") or "-",
        ]
        lines.append(md_row(cells))
    return "\n".join(lines) + "\n"


@cli_errors
def list_backends(
    env_dir: EnvDirOption = None, output_format: FormatOption = None, json_output: JsonOption = False
) -> None:
    """Show each AutoML tool, whether it is ready, its versions and where it lives."""
    chosen = _output_format(output_format, json_output)
    rows = [_smac_row(), _autosklearn_row(env_dir, deep=False)]
    if chosen == BackendsFormat.json:
        typer.echo(json.dumps(rows, indent=2))
    elif chosen == BackendsFormat.md:
        typer.echo(_markdown_rows(rows), nl=False)
    else:
        _print_rows(rows)


NO_INTERPRETER = "none found: install Python 3.9 (`pyenv install 3.9.18`)"


@cli_errors
def doctor(
    env_dir: EnvDirOption = None, output_format: FormatOption = None, json_output: JsonOption = False
) -> None:
    """Check every backend for real (imports auto-sklearn inside its environment) and say how to fix what is
    missing. Exit code 1 when a backend is not ready."""
    from metaconf.targets.autosklearn.environment import describe_interpreters, find_interpreters

    chosen = _output_format(output_format, json_output)
    rows = [_smac_row(), _autosklearn_row(env_dir, deep=True)]
    interpreters = describe_interpreters(find_interpreters())
    if chosen == BackendsFormat.json:
        typer.echo(json.dumps({"backends": rows, "pythons_for_auto_sklearn": interpreters}, indent=2))
    elif chosen == BackendsFormat.md:
        typer.echo(_markdown_rows(rows), nl=False)
        typer.echo("\nPythons that can build auto-sklearn's environment (best first):\n")
        for line in interpreters or [NO_INTERPRETER]:
            typer.echo(f"- {line}")
    else:
        _print_rows(rows)
        typer.echo("Pythons that can build auto-sklearn's environment (best first):")
        for line in interpreters or [NO_INTERPRETER]:
            typer.echo(f"  {line}")
    if any(row["state"] != "ready" for row in rows):
        raise typer.Exit(1)


@cli_errors
def install(
    name: Annotated[str, typer.Argument(help="The backend to install: `auto-sklearn`, or `llm` (the LLM advisor's libraries and model).", show_default=False)],
    python: Annotated[
        Path | None,
        typer.Option("--python", help="The Python to build the environment with (3.9 or 3.8 preferred).", show_default=False),
    ] = None,
    env_dir: EnvDirOption = None,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Delete a broken, half-installed or outdated environment and reinstall it (a ready one is kept)."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Reinstall even a ready environment.")] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="With `llm`: the model to install and assemble (`metaconf models` lists them; default: the "
            "default model).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create the environment a backend needs (auto-sklearn: a dedicated Python 3.9 virtualenv, about a minute)."""
    from rich.console import Console
    from rich.markup import escape

    from metaconf.targets.autosklearn import environment as envs

    if name == "llm":  # the LLM advisor's pieces, into metaconf's own environment (metaconf.advise.llm.install)
        from metaconf.advise.llm.install import install_llm
        from metaconf.advise.llm.models import DEFAULT_MODEL, REGISTRY

        name = (model or DEFAULT_MODEL).strip().lower()
        if name not in REGISTRY:
            raise UsageError(
                f"unknown model `{model}` for `backends install llm --model`",
                "models: " + ", ".join(REGISTRY) + " (`metaconf models` lists them with size and licence)",
            )
        path, smoke = install_llm(force=force, model=name, progress=lambda line: typer.echo(line, err=True))
        typer.echo(f"llm ready: {name} ({path}); smoke test {smoke}")
        return
    if model is not None:
        raise UsageError("--model is for `metaconf backends install llm`", "drop --model")
    if name == "smac":
        raise UsageError("SMAC3 needs no environment: it runs inside metaconf's own", "`metaconf backends list` shows its version")
    if name != envs.BACKEND:
        raise UsageError(f"unknown backend `{name}`", "backends: `auto-sklearn`, `llm` (and `smac`, which needs no install)")
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    directory = envs.env_dir(env_dir)
    current = envs.inspect_env(directory, root_option=env_dir)
    if current.ready and not force:
        versions = current.versions
        console.print(
            f"auto-sklearn {versions.get('auto-sklearn')} is already installed in {escape(str(directory))} "
            f"(Python {versions.get('python')}); `metaconf backends doctor` checks it, --force reinstalls it"
        )
        return
    interpreter = envs.choose_interpreter(python)
    recipe = interpreter.recipe
    assert recipe is not None
    console.print(
        f"Installing auto-sklearn 0.15.0 into [bold]{escape(str(directory))}[/]\n"
        f"  with Python {interpreter.version_text} ({escape(str(interpreter.path))}, found via {interpreter.source}); "
        f"recipe `{recipe.name}`, usually about {recipe.minutes:g} minute(s)\n"
        f"  pip's full output goes to {escape(str(directory / envs.LOG_FILE))}"
    )
    with console.status("starting", spinner="dots") as status:

        def progress(line: str) -> None:
            if line.startswith("  "):
                status.update(escape(line.strip())[:120])
            else:
                console.print(f"[cyan]-[/] {escape(line)}")
                status.update(escape(line)[:120])

        try:
            marker = envs.install_env(
                directory, interpreter, repair=repair, force=force, progress=progress, root_option=env_dir
            )
        except KeyboardInterrupt:
            raise MetaconfError(
                f"install interrupted; {directory} is left half-installed",
                f"run `{envs.REPAIR_COMMAND}` to finish it",
            ) from None
    versions = marker["versions"]
    console.print(
        f"[green]ready[/] in {marker['install_s']:.0f}s: auto-sklearn {versions.get('auto-sklearn')}, smac "
        f"{versions.get('smac')}, scikit-learn {versions.get('scikit-learn')} (Python {versions.get('python')})"
    )


backends_app.command("list", cls=Command)(list_backends)
backends_app.command("doctor", cls=Command)(doctor)
backends_app.command("install", cls=Command)(install)
