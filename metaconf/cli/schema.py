"""`metaconf schema`: print or write the config's JSON Schema."""

from __future__ import annotations

from typing import Annotated

import typer

from metaconf.cli.common import cli_errors


@cli_errors
def schema(
    write: Annotated[bool, typer.Option("--write", help="Write the schema into metaconf/schemas/ (for developers).")] = False,
) -> None:
    """Print the JSON Schema of metaconf config files."""
    from pathlib import Path

    from metaconf.config.schema import SCHEMA_FILE, render_schema
    from metaconf.io import atomic_write_text

    text = render_schema()
    if write:
        target = Path(__file__).resolve().parent.parent / "schemas" / SCHEMA_FILE
        atomic_write_text(target, text, force=True)
        typer.echo(f"wrote {target}")
    else:
        typer.echo(text, nl=False)
