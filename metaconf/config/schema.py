"""The JSON Schema of the config, generated from the pydantic model and committed to ``schemas/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from metaconf.config.model import SCHEMA_VERSION, Config

SCHEMA_FILE = f"metaconf-config-{SCHEMA_VERSION}.schema.json"
MODELINE_PREFIX = "# yaml-language-server: $schema="
PACKAGED_MODELINE = f"{MODELINE_PREFIX}../schemas/{SCHEMA_FILE}"
"""The modeline of the templates and examples inside the package: relative to their folder, so it resolves in a
checkout and in an installed wheel alike."""
REGENERATE = "metaconf schema --write"


def generate_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(mode="validation")
    ordered = {"$schema": schema.pop("$schema"), "$id": schema.pop("$id"), "version": SCHEMA_VERSION}
    ordered.update(schema)
    return ordered


def render_schema() -> str:
    return json.dumps(generate_schema(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def committed_schema_path() -> Any:
    from metaconf.resources import data_dir

    return data_dir("schemas") / SCHEMA_FILE


def schema_path() -> Path:
    """The schema file installed with metaconf (inside the package, next to the code that reads configs)."""
    return Path(str(committed_schema_path())).resolve()


def modeline() -> str:
    """The first line of every config metaconf writes: the ``file:`` URI of the installed schema, so that an editor
    with the YAML language server offers completion and checks offline, on the machine that wrote the file. (The
    schema is not published anywhere; on another machine `metaconf schema > FILE` writes a copy to point at.)"""
    return f"{MODELINE_PREFIX}{schema_path().as_uri()}"
