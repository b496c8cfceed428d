"""The JSON Schema of the config, generated from the pydantic model and committed to ``metaconf/schemas/``."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from metaconf.config.model import SCHEMA_ID, SCHEMA_VERSION, Config

SCHEMA_FILE = f"metaconf-config-{SCHEMA_VERSION}.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_ID}"
REGENERATE = "metaconf schema --write"


def generate_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(mode="validation")
    ordered = {"$schema": schema.pop("$schema"), "$id": schema.pop("$id"), "version": SCHEMA_VERSION}
    ordered.update(schema)
    return ordered


def render_schema() -> str:
    return json.dumps(generate_schema(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def committed_schema_path() -> Any:
    return resources.files("metaconf") / "schemas" / SCHEMA_FILE
