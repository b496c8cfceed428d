"""What a lint rule reports: a finding at a place in a file, and an optional structural fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from metaconf.config.loader import JsonPath, Span

HELP_COMMAND = "metaconf rule {code}"
"""Where a rule's page is read: offline, from the installed rule's own documentation (no public site exists)."""


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


class Status(str, Enum):
    stable = "stable"
    preview = "preview"
    deprecated = "deprecated"


@dataclass(frozen=True)
class Edit:
    """One change to the document: set ``path`` to ``value``, or delete it (``delete=True``)."""

    path: JsonPath
    value: Any = None
    delete: bool = False


@dataclass(frozen=True)
class Fix:
    """A fix: an imperative title and the edits that carry it out. Only ``safe`` fixes apply by default."""

    title: str
    edits: tuple[Edit, ...] = ()
    safe: bool = True


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    severity: Severity
    file: str
    span: Span
    json_path: JsonPath = ()
    fix: Fix | None = None
    fix_title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def help(self) -> str:
        """The command that prints this rule's page."""
        return HELP_COMMAND.format(code=self.code)

    @property
    def pointer(self) -> str:
        """The JSON path as ``$.stopping.n_trials`` / ``$.initial_design.warm_start[0]``."""
        out = "$"
        for step in self.json_path:
            out += f"[{step}]" if isinstance(step, int) else f".{step}"
        return out

    @property
    def title_of_fix(self) -> str | None:
        return self.fix.title if self.fix else self.fix_title

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.span.line, self.span.col, self.code)
