"""What every command shares: error handling (one message on stderr, exit 2, no traceback) and options."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from metaconf.errors import MetaconfError

F = TypeVar("F", bound=Callable[..., Any])


def print_error(message: str, hint: str | None = None) -> None:
    """Print one error to stderr: `error: message` and an indented hint."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        console.print(f"  [dim]hint:[/] {escape(hint)}")


def cli_errors(func: F) -> F:
    """Turn metaconf's own errors (and data / unit errors, and a disk that refuses a write) into a message and
    exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from metaconf.config.units import UnitError
        from metaconf.data.load import DataError

        try:
            return func(*args, **kwargs)
        except MetaconfError as error:
            print_error(error.message, error.hint)
            raise typer.Exit(error.exit_code) from None
        except DataError as error:
            print_error(error.message, error.hint)
            raise typer.Exit(2) from None
        except UnitError as error:
            print_error(str(error))
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            print_error("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(0) from None
        except OSError as error:  # a full disk, a read-only or unwritable directory: one line, exit 2
            from metaconf.io import describe_os_error, is_disk_error

            if not is_disk_error(error):
                raise
            print_error(
                describe_os_error(error),
                "free disk space (or raise the quota), or check that the directory is writable",
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")]
ConfigArgument = Annotated[Path, typer.Argument(help="A metaconf config file (YAML).", show_default=False)]

SEED_MAX = 2**31 - 1
"""The largest seed every command takes (the config schema's ``execution.seed`` bound)."""


def seed_option(help: str, **kwargs: Any) -> Any:
    """``--seed``, the same range in every command: 0 to :data:`SEED_MAX`."""
    return typer.Option("--seed", min=0, max=SEED_MAX, help=help, **kwargs)


# Help output. typer 0.29 prints a type column for every parameter, `<bool>` for flags among them; flags take no
# value, so metaconf shows none, and arguments are shown by name in capitals as in usage lines everywhere.
# tests/test_cli_polish.py checks every command's help against this (typer is bounded in pyproject.toml).


def _tidy(params: list[Any]) -> None:
    for param in params:
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            param.metavar = ""
        elif param.param_type_name == "argument" and param.metavar is None:
            param.metavar = param.name.upper()


class Command(typer.core.TyperCommand):
    """A typer command whose help shows no type for flags and arguments by name."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _tidy(params)
        return params


class Group(typer.core.TyperGroup):
    """A typer group whose help shows no type for flags (``--help``, ``--version``, completion)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _tidy(params)
        return params


@contextlib.contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner with ``message`` on stderr while a slow step runs, when stderr is a terminal (nothing
    otherwise: logs and pipes get only the results)."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.markup import escape

    with Console(stderr=True, highlight=False).status(escape(message), spinner="dots"):
        yield


def load_checked_config(path: Path, *, trust: bool = False) -> tuple[Any, Path]:
    """:func:`metaconf.api.checked_config`, with lint's findings printed to stderr (errors stop, exit 2)."""
    from metaconf.api import checked_config

    def show(findings: list[Any]) -> None:
        from metaconf.lint.reporters import LintReport
        from metaconf.lint.reporters.text import render

        typer.echo(render(LintReport(findings=findings, files=1)), err=True, nl=False)

    return checked_config(path, trust=trust, on_findings=show)
