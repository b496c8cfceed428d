"""The `metaconf` command. Each command lives in its own module and imports heavy libraries lazily."""

from __future__ import annotations

import typer

from metaconf import __version__
from metaconf.cli.backends import backends_app
from metaconf.cli.common import Command, Group
from metaconf.cli.compile import compile_command
from metaconf.cli.explain import explain
from metaconf.cli.init import init
from metaconf.cli.lint import lint
from metaconf.cli.models import models
from metaconf.cli.predict import predict
from metaconf.cli.profile import profile
from metaconf.cli.report import report
from metaconf.cli.rules import rule, rules
from metaconf.cli.run import run
from metaconf.cli.schema import schema
from metaconf.cli.suggest import suggest

app = typer.Typer(
    name="metaconf",
    help="Compile a compute budget and a data description into a checked, explained AutoML configuration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    cls=Group,
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"metaconf {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """metaconf: AutoML configs that run as you meant."""


app.command("schema", cls=Command)(schema)
app.command("lint", cls=Command)(lint)
app.command("init", cls=Command)(init)
app.command("suggest", cls=Command)(suggest)
app.command("explain", cls=Command)(explain)
app.command("run", cls=Command)(run)
app.command("predict", cls=Command)(predict)
app.command("compile", cls=Command)(compile_command)
app.command("report", cls=Command)(report)
app.command("rule", cls=Command)(rule)
app.command("rules", cls=Command)(rules)
app.command("profile", cls=Command)(profile)
app.command("models", cls=Command)(models)
app.add_typer(backends_app, name="backends", cls=Group)


def main() -> None:
    # one program name however it is started (`metaconf`, `python -m metaconf`): usage lines and completion
    app(prog_name="metaconf")
