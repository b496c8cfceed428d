"""Render a :class:`~metaconf.config.model.Config` as commented, deterministic YAML.

`metaconf suggest` writes its configs through :func:`render_config`. The output is meant to be read and edited by
a person, so:

- the schema modeline comes first, so editors (the YAML language server) validate and complete the file;
- sections and keys follow the model's field order, not alphabetical order, so a config reads like the docs;
- each value that has a recorded reason carries it as a comment right above its key, wrapped to the line width;
- durations and memory sizes are in human units (``15m``, ``4GB``): ``model_dump(mode="json")`` formats them;
- only values that differ from the model's defaults, that have a reason, or that are *key* values (the ones a
  reader looks for first: tool, task, data, budget, optimizer, stopping) are written, so the file stays short;
- the provenance block (origin and reason of every value, the advisor's inputs) closes the file, where
  `metaconf explain` reads it back.

The same ``Config`` and ``Provenance`` always give byte-identical text (no timestamps, no dict-order or hash
dependence), so a generated config can be committed and diffed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from metaconf.config.model import Config, Provenance
from metaconf.config.schema import modeline

LINE_WIDTH = 100
INDENT = "  "

KEY_PATHS: tuple[str, ...] = (
    "tool",
    "task.type",
    "task.metric",
    "budget.walltime",
    "budget.cores",
    "optimizer.kind",
    "stopping.walltime",
    "stopping.n_trials",
    "execution.seed",
)
"""Written even when they equal the default: the values a reader looks for first."""

HEADER = (
    "# Written by `metaconf suggest`. Each comment says why a value was chosen;\n"
    "# `metaconf explain FILE` shows every value with its origin and reason as a table."
)


def _leaf_paths(data: Any, prefix: str = "") -> Iterable[str]:
    """Dotted paths of the leaves of a nested dict (lists and empty dicts count as leaves)."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaf_paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif prefix:
        yield prefix


def _get(data: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = data
    for step in path.split("."):
        if not isinstance(node, dict) or step not in node:
            return False, None
        node = node[step]
    return True, node


def _select(full: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """The part of ``full`` on the given paths, keeping ``full``'s key order."""
    wanted = set()
    for path in paths:
        found, _ = _get(full, path)
        if found:
            wanted.add(path)

    def keep(node: Any, prefix: str) -> tuple[bool, Any]:
        if prefix and prefix in wanted:
            return True, node
        if not isinstance(node, dict):
            return False, None
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = f"{prefix}.{key}" if prefix else str(key)
            if not any(w == child or w.startswith(child + ".") for w in wanted):
                continue
            ok, kept = keep(value, child)
            if ok:
                out[key] = kept
        return bool(out), out

    _, selected = keep(dict(full), "")
    return selected


def _scalar(value: Any) -> str:
    """One value in YAML flow style, quoted only where YAML needs it (``'yes'``, ``'1.0'``, ``'a: b'``)."""
    text = yaml.safe_dump([value], default_flow_style=True, width=10**9, allow_unicode=True, sort_keys=False)
    return text.strip()[1:-1]


def _is_flow(value: Any) -> bool:
    """Short lists of scalars (and lists of such lists, like a cost matrix) are written on one line."""
    if isinstance(value, list):
        return all(not isinstance(v, dict) and _is_flow(v) for v in value)
    return not isinstance(value, dict)


def _comment(reason: str, indent: str) -> list[str]:
    width = max(40, LINE_WIDTH - len(indent) - 2)
    lines = textwrap.wrap(
        " ".join(reason.split()), width=width, break_long_words=False, break_on_hyphens=False
    )
    return [f"{indent}# {line}" for line in lines]


def _emit(node: Any, path: str, depth: int, reasons: Mapping[str, str], out: list[str]) -> None:
    indent = INDENT * depth
    for key, value in node.items():
        child = f"{path}.{key}" if path else str(key)
        if child in reasons:
            out.extend(_comment(reasons[child], indent))
        name = _scalar(str(key))
        if isinstance(value, dict):
            if not value:
                out.append(f"{indent}{name}: {{}}")
                continue
            out.append(f"{indent}{name}:")
            _emit(value, child, depth + 1, reasons, out)
        elif isinstance(value, list) and value and not _is_flow(value):
            out.append(f"{indent}{name}:")
            for item in value:
                _emit_item(item, child, depth + 1, reasons, out)
        else:
            out.append(f"{indent}{name}: {_scalar(value)}")


def _emit_item(item: Any, path: str, depth: int, reasons: Mapping[str, str], out: list[str]) -> None:
    indent = INDENT * depth
    if isinstance(item, dict) and item:
        inner: list[str] = []
        _emit(item, path, depth + 1, {}, inner)
        first = inner[0][len(INDENT * (depth + 1)) :]
        out.append(f"{indent}- {first}")
        out.extend(inner[1:])
    else:
        out.append(f"{indent}- {_scalar(item)}")


def _dump_block(data: Mapping[str, Any]) -> list[str]:
    text = yaml.safe_dump(
        dict(data), sort_keys=False, default_flow_style=False, width=LINE_WIDTH, allow_unicode=True
    )
    return text.rstrip("\n").split("\n")


def render_config(config: Config, provenance: Provenance | None = None) -> str:
    """The config as commented YAML: modeline, header, values in field order with reasons, provenance last.

    ``provenance`` defaults to ``config.provenance``. Reasons are looked up by dotted path
    (``stopping.n_trials``); a reason on a section (``search_space``) is written above the section.
    """
    provenance = provenance if provenance is not None else config.provenance
    full = config.model_dump(mode="json", exclude={"provenance"})
    non_default = config.model_dump(mode="json", exclude={"provenance"}, exclude_defaults=True)
    reasons = {path: value.reason for path, value in (provenance.values if provenance else {}).items()}
    # A reason on a section (`search_space`) is a comment above it; it does not pull in the section's defaults.
    explained = [path for path in reasons if not isinstance(_get(full, path)[1], dict)]
    paths = [*_leaf_paths(non_default), *KEY_PATHS, *explained]
    body = _select(full, paths)
    # A null the user did not set says nothing; keep it only where a reason explains it.
    body = _drop_unexplained_nulls(body, "", reasons)

    out = [modeline(), *HEADER.split("\n"), ""]
    sections = list(body.items())
    for index, (key, value) in enumerate(sections):
        _emit({key: value}, "", 0, reasons, out)
        if index != len(sections) - 1:
            out.append("")
    if provenance is not None:
        out.append("")
        out.append("# Who chose each value and why (read by `metaconf explain`).")
        out.extend(_dump_block({"provenance": provenance.model_dump(mode="json", exclude_defaults=True)}))
    return "\n".join(out) + "\n"


def _drop_unexplained_nulls(node: dict[str, Any], prefix: str, reasons: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            inner = _drop_unexplained_nulls(value, path, reasons)
            if inner or path in reasons:
                out[key] = inner
        elif value is None and path not in reasons:
            continue
        else:
            out[key] = value
    return out
