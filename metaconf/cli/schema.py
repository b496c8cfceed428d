"""`metaconf schema`: print or write the config's JSON Schema."""

from __future__ import annotations

from typing import Annotated

import typer

from metaconf.cli.common import cli_errors


@cli_errors
def schema(
    write: Annotated[bool, typer.Option("--write", help="Write the schema into schemas/ (for developers).")] = False,
) -> None:
    """Print the JSON Schema of metaconf config files."""

    from metaconf.config.schema import render_schema
    from metaconf.io import atomic_write_text

    text = render_schema()
    if write:
        from metaconf.config.schema import schema_path

        target = schema_path()
        atomic_write_text(target, text, force=True)
        typer.echo(f"wrote {target}")
    else:
        typer.echo(text, nl=False)
