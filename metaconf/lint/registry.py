"""The rule registry: one table from a stable code (``MC301``) to the rule that reports it.

A rule is a function decorated with :func:`rule`. It receives a :class:`LintContext` and yields
:class:`Violation` s; the context turns them into positioned :class:`Finding` s. The function's docstring, with
the fixed headings *What it does / Why is this bad? / Example / Use instead / Fix safety / References*, is
what ``metaconf rule CODE`` prints, and its *Example* (FAIL) and *Use instead* (PASS) YAML blocks run as tests.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from metaconf.config.loader import Document, JsonPath
from metaconf.lint.finding import Finding, Fix, Severity, Status

if TYPE_CHECKING:
    from metaconf.config.model import Config
    from metaconf.data.facts import DataFacts

CODE_PATTERN = re.compile(r"^MC\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

FAMILIES = {
    "MC0": "yaml",
    "MC1": "schema",
    "MC2": "search-space",
    "MC3": "budget",
    "MC4": "multi-fidelity",
    "MC5": "stopping",
    "MC6": "resampling",
    "MC7": "reproducibility",
    "MC8": "auto-sklearn",
    "MC9": "data",
}


@dataclass(frozen=True)
class Violation:
    """What a rule found: where (a JSON path into the document), what, and how to fix it."""

    path: JsonPath
    message: str
    fix: Fix | None = None
    fix_title: str | None = None
    key: bool = False
    """Point at the key rather than the value (e.g. for an unknown or misplaced key)."""
    severity: Severity | None = None
    """Override the rule's severity for this one finding."""


@dataclass
class LintContext:
    """Everything a rule may look at. ``config`` is None when the document does not validate; ``data`` is
    None unless the data file was reachable and asked for (``--data``). Without ``trust`` no rule may run
    code the config names (configs are data)."""

    document: Document
    config: Config | None
    data: DataFacts | None = None
    data_error: str | None = None
    trust: bool = False
    """The user trusts the config's code (``lint --trust``): rules may import the estimator it names."""
    cache: dict[str, Any] = field(default_factory=dict)

    def raw(self, *path: str | int, default: Any = None) -> Any:
        return self.document.get(tuple(path), default)

    def has(self, *path: str | int) -> bool:
        return self.document.has(tuple(path))

    def where(self, *candidates: JsonPath) -> JsonPath:
        """The first of ``candidates`` that the user wrote, else the last one (its nearest parent is shown)."""
        for candidate in candidates:
            if self.document.has(candidate):
                return candidate
        return candidates[-1]


RuleCheck = Callable[[LintContext], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    family: str
    severity: Severity
    status: Status
    summary: str
    check: RuleCheck
    needs_config: bool
    needs_data: bool
    tools: frozenset[str] | None

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.check.__doc__ or "")

    def run(self, ctx: LintContext) -> Iterator[Finding]:
        if self.needs_config and ctx.config is None:
            return
        if self.needs_data and ctx.data is None:
            return
        if self.tools is not None and ctx.config is not None and ctx.config.tool.value not in self.tools:
            return
        for violation in self.check(ctx):
            span = ctx.document.span(violation.path, key=violation.key)
            yield Finding(
                code=self.code,
                message=violation.message,
                severity=violation.severity or self.severity,
                file=ctx.document.path,
                span=span,
                json_path=violation.path,
                fix=violation.fix,
                fix_title=violation.fix_title,
            )


RULES: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    *,
    severity: Severity,
    summary: str,
    status: Status = Status.stable,
    needs_config: bool = True,
    needs_data: bool = False,
    tools: Iterable[str] | None = None,
) -> Callable[[RuleCheck], RuleCheck]:
    """Register a rule. ``summary`` is the one-line description shown by ``metaconf rules``."""
    if not CODE_PATTERN.match(code):
        raise ValueError(f"rule code {code!r} must look like MC123")
    if not NAME_PATTERN.match(name):
        raise ValueError(f"rule name {name!r} must be kebab-case")

    def register(check: RuleCheck) -> RuleCheck:
        if code in RULES:
            raise ValueError(f"rule code {code} is registered twice ({RULES[code].name} and {name})")
        if any(r.name == name for r in RULES.values()):
            raise ValueError(f"rule name {name} is registered twice")
        RULES[code] = Rule(
            code=code,
            name=name,
            family=FAMILIES[code[:3]],
            severity=severity,
            status=status,
            summary=summary,
            check=check,
            needs_config=needs_config,
            needs_data=needs_data,
            tools=frozenset(tools) if tools is not None else None,
        )
        return check

    return register
