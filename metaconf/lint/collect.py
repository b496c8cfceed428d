"""Turn the PATH arguments of ``metaconf lint`` into the list of files to lint.

A path argument is a file, a directory (searched recursively for ``*.yaml`` / ``*.yml``), a glob (expanded
here, so a quoted ``"configs/**/*.yaml"`` works the same on every shell and on Windows), or ``-`` for stdin.
Files named explicitly are always linted whatever their suffix: the user asked for them. Files found by
walking a directory are linted only when they look like YAML; the others are counted, so the summary can say
how many were skipped instead of silently ignoring them.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

YAML_SUFFIXES = frozenset({".yaml", ".yml"})
SKIPPED_DIRS = frozenset({"runs", "node_modules", "__pycache__", "venv", ".venv"})
"""Directories never searched: run outputs (``runs/`` holds resolved copies of configs), environments."""
STDIN = "-"
_GLOB_CHARS = frozenset("*?[")


@dataclass
class Collection:
    """What the PATH arguments expanded to."""

    files: list[str] = field(default_factory=list)
    """Files to lint, in a stable order, each once (``-`` stands for stdin)."""
    skipped: list[str] = field(default_factory=list)
    """Files found in directories that are not YAML."""
    unmatched: list[str] = field(default_factory=list)
    """Arguments that named nothing: a missing path, or a glob that matched no file."""


def _is_yaml(path: Path) -> bool:
    return path.suffix.lower() in YAML_SUFFIXES


def _hidden_or_skipped(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_DIRS


def _walk(directory: Path) -> tuple[list[str], list[str]]:
    """YAML files below ``directory`` and the other files seen, skipping hidden dirs and ``runs/``."""
    found: list[str] = []
    others: list[str] = []
    for root, dirs, files in os.walk(directory, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _hidden_or_skipped(d))
        for name in sorted(files):
            path = Path(root) / name
            if name.startswith("."):
                continue
            (found if _is_yaml(path) else others).append(str(path))
    return found, others


def _in_skipped_dir(path: Path, pattern: str) -> bool:
    """A ``**`` glob should not reach into ``runs/`` either, unless the pattern names it."""
    named = set(Path(pattern).parts)
    return any(_hidden_or_skipped(part) and part not in named for part in path.parts[:-1] if part not in (".", ".."))


def _names_suffix(pattern: str, path: Path) -> bool:
    """``configs/*.conf`` asks for ``.conf`` files explicitly; ``configs/*`` does not."""
    return bool(path.suffix) and pattern.lower().endswith(path.suffix.lower())


def has_glob(argument: str) -> bool:
    return any(c in argument for c in _GLOB_CHARS)


def collect_paths(arguments: Sequence[str] | Iterable[str]) -> Collection:
    """Expand files, directories and globs; keep first-seen order and drop duplicates.

    An argument that is an existing path is taken literally even if it contains glob characters
    (``configs/[draft].yaml`` is a legal file name).
    """
    out = Collection()
    seen: set[str] = set()

    def add(path: str) -> None:
        key = path if path == STDIN else os.path.normpath(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            out.files.append(path)

    for argument in arguments:
        if argument == STDIN:
            add(STDIN)
            continue
        candidate = Path(argument)
        if candidate.is_dir():
            found, others = _walk(candidate)
            for path in found:
                add(path)
            out.skipped.extend(others)
        elif candidate.exists() or candidate.is_symlink():
            add(argument)
        elif has_glob(argument):
            files: list[str] = []
            for match in sorted(glob.glob(argument, recursive=True)):
                matched = Path(match)
                if _in_skipped_dir(matched, argument):
                    continue
                if matched.is_dir():
                    found, others = _walk(matched)
                    files.extend(found)
                    out.skipped.extend(others)
                elif _is_yaml(matched) or _names_suffix(argument, matched):
                    files.append(match)
                else:
                    out.skipped.append(match)
            if not files:
                out.unmatched.append(argument)
            for file in files:
                add(file)
        else:
            out.unmatched.append(argument)
    return out
