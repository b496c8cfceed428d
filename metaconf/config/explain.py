"""Every value of a config, who chose it and why: the rows of `metaconf explain` and of `metaconf report --html`.

The reasons come from the config's ``provenance.values`` (written by `metaconf suggest`). A value without a
recorded reason is ``user`` when the file sets it (hand-written, or edited after it was suggested) and
``default`` when the model's default is in force, with the default's documentation as the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from metaconf.config.model import Config


@dataclass(frozen=True)
class ExplainedValue:
    path: str
    value: str
    origin: str
    reason: str


def _leaves(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict) and data:
        out: list[tuple[str, Any]] = []
        for key, value in data.items():
            out.extend(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return [(prefix, data)] if prefix else []


def _field_doc(path: str) -> str:
    """The model's docstring of a field, first sentence (used as the reason of a default value)."""
    model: Any = Config
    doc = ""
    for step in path.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or step not in fields:
            return doc
        info = fields[step]
        doc = (info.description or "").strip()
        annotation = info.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return doc.split(". ")[0].rstrip(".")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def explain_values(raw: dict[str, Any], *, all_values: bool = False) -> list[ExplainedValue]:
    """The rows of the table for a loaded config document (``raw`` = the YAML mapping)."""
    config = Config.model_validate(raw)
    provenance = config.provenance
    recorded = provenance.values if provenance is not None else {}
    full = dict(_leaves(config.model_dump(mode="json", exclude={"provenance"})))
    written = {path for path, _ in _leaves({k: v for k, v in raw.items() if k != "provenance"})}

    rows: list[ExplainedValue] = []
    seen: set[str] = set()
    for path, value in full.items():
        prov_path = next((p for p in _ancestors(path) if p in recorded), None)
        if prov_path is not None:
            entry = recorded[prov_path]
            rows.append(ExplainedValue(path, _show(value), entry.origin.value, entry.reason))
        elif path in written or any(path.startswith(w + ".") for w in written):
            rows.append(ExplainedValue(path, _show(value), "user", "set in the file (no recorded reason)"))
        elif all_values:
            rows.append(ExplainedValue(path, _show(value), "default", _field_doc(path)))
        else:
            continue
        seen.add(path)
    # Recorded reasons for values that are unset (None / empty) still say something: show them.
    for path, entry in recorded.items():
        if path not in seen and not any(r.path.startswith(path + ".") for r in rows) and path in full:
            rows.append(ExplainedValue(path, _show(full[path]), entry.origin.value, entry.reason))
    return rows


def _ancestors(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
