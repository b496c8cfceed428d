"""The catalogue of lint rules: every rule (the rule modules register themselves in
:data:`metaconf.lint.registry.RULES` when imported, which this module does) and the selection by code, prefix or
name that `metaconf lint --select / --ignore` uses."""

from __future__ import annotations

from collections.abc import Iterable

import metaconf.lint.rules  # noqa: F401  (registers every rule)
from metaconf.lint.finding import Status
from metaconf.lint.registry import RULES, Rule


def all_rules() -> dict[str, Rule]:
    """Every registered rule, by code, in code order (the rule modules, imported above, registered them)."""
    return dict(sorted(RULES.items()))


def select_rules(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> list[Rule]:
    """Rules chosen by code, prefix, kebab-case name or ``ALL``; preview rules only when selected by code."""
    rules = all_rules()

    def matches(rule_: Rule, selector: str) -> bool:
        selector = selector.strip()
        return selector.upper() == "ALL" or rule_.code.startswith(selector.upper()) or rule_.name == selector

    chosen = []
    for rule_ in rules.values():
        if select:
            if not any(matches(rule_, s) for s in select):
                continue
            if rule_.status == Status.preview and not any(s.upper() == rule_.code for s in select):
                continue
        elif rule_.status != Status.stable:
            continue
        if ignore and any(matches(rule_, s) for s in ignore):
            continue
        chosen.append(rule_)
    return chosen


def unknown_selectors(selectors: Iterable[str]) -> list[str]:
    """Selectors that match no rule (so the CLI can say so instead of silently selecting nothing)."""
    rules = all_rules()
    out = []
    for selector in selectors:
        s = selector.strip()
        if s.upper() == "ALL":
            continue
        if not any(r.code.startswith(s.upper()) or r.name == s for r in rules.values()):
            out.append(selector)
    return out
