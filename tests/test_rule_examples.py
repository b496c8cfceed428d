"""Every registered rule documents itself, and its documented examples are its tests.

For each rule (whoever wrote it), the ``## Example`` YAML block must produce at least one finding of that
rule's code, and the ``## Use instead`` block none. Linting runs with data loading on, so the data-aware
rules see the demo datasets their examples name, and selects the one rule by its code: that also runs preview
rules (which ``ALL`` leaves out) and keeps each example independent of the other rules.
"""

from __future__ import annotations

import re

import pytest

from metaconf.lint.catalog import all_rules
from metaconf.lint.engine import LintOptions, lint_text
from metaconf.lint.registry import CODE_PATTERN, FAMILIES, NAME_PATTERN, Rule

HEADINGS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "References")
OPTIONAL_HEADINGS = {"References"}
"""Rules that state a plain fact of the format (a key twice, a typo) may have no literature to cite ..."""

GROUNDED_MODULES = {
    f"metaconf.lint.rules.{name}"
    for name in ("budget", "fidelity", "stopping", "resampling", "reproducibility", "autosklearn", "data")
}
"""... but every budget, fidelity, stopping, resampling, reproducibility, auto-sklearn and data rule is
grounded in a measured fact or the literature, and cites it."""

NO_TEXT_EXAMPLE = {"MC003"}
"""Rules whose failing input cannot be written as text (an unreadable or non-UTF-8 file)."""

RULES = all_rules()


def section(doc: str, heading: str) -> str | None:
    """The body of ``## heading`` in a rule docstring, or None."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", doc, flags=re.S | re.M)
    return match.group(1) if match else None


def yaml_block(doc: str, heading: str) -> str | None:
    body = section(doc, heading)
    if body is None:
        return None
    match = re.search(r"```ya?ml\n(.*?)```", body, flags=re.S)
    return match.group(1) if match else None


def codes_found(rule_: Rule, text: str) -> list[str]:
    findings = lint_text(text, "example.yaml", LintOptions(select=[rule_.code], data=True))
    return [f"{f.code} {f.span.line}:{f.span.col} {f.message}" for f in findings if f.code == rule_.code]


EXAMPLE_RULES = [r for code, r in RULES.items() if code not in NO_TEXT_EXAMPLE]


@pytest.mark.parametrize("rule_", EXAMPLE_RULES, ids=lambda r: f"{r.code}-{r.name}")
def test_example_fails(rule_: Rule) -> None:
    text = yaml_block(rule_.doc, "Example")
    assert text is not None, f"{rule_.code} has no ```yaml block under `## Example`"
    assert codes_found(rule_, text), f"{rule_.code}: its `## Example` produces no {rule_.code} finding:\n{text}"


@pytest.mark.parametrize("rule_", EXAMPLE_RULES, ids=lambda r: f"{r.code}-{r.name}")
def test_use_instead_passes(rule_: Rule) -> None:
    text = yaml_block(rule_.doc, "Use instead")
    assert text is not None, f"{rule_.code} has no ```yaml block under `## Use instead`"
    found = codes_found(rule_, text)
    assert not found, f"{rule_.code}: its `## Use instead` still produces findings: {found}\n{text}"


@pytest.mark.parametrize("rule_", list(RULES.values()), ids=lambda r: f"{r.code}-{r.name}")
def test_docstring_has_every_heading(rule_: Rule) -> None:
    present = re.findall(r"^## (.+)$", rule_.doc, flags=re.M)
    grounded = rule_.check.__module__ in GROUNDED_MODULES
    required = [h for h in HEADINGS if grounded or h not in OPTIONAL_HEADINGS]
    if rule_.code in NO_TEXT_EXAMPLE:
        required = [h for h in required if h not in ("Example", "Use instead")]
    missing = [h for h in required if h not in present]
    assert not missing, f"{rule_.code} docstring lacks headings {missing}"
    order = [h for h in HEADINGS if h in present]
    assert [h for h in present if h in HEADINGS] == order, f"{rule_.code} headings out of order: {present}"
    assert rule_.summary.endswith(".") and not rule_.summary[0].islower(), f"{rule_.code} summary: {rule_.summary!r}"


def test_registry_has_at_least_30_rules() -> None:
    assert len(RULES) >= 30, sorted(RULES)


def test_codes_and_names_are_unique_and_well_formed() -> None:
    names = [r.name for r in RULES.values()]
    assert len(names) == len(set(names))
    for code, rule_ in RULES.items():
        assert code == rule_.code and CODE_PATTERN.match(code) and NAME_PATTERN.match(rule_.name)
        assert rule_.family == FAMILIES[code[:3]]


def test_every_family_from_mc3_to_mc9_has_rules() -> None:
    families = {r.family for r in RULES.values()}
    for prefix in ("MC3", "MC4", "MC5", "MC6", "MC7", "MC8", "MC9"):
        assert FAMILIES[prefix] in families, f"no {prefix}xx rules registered"


def test_data_rules_are_silent_without_data() -> None:
    """A data-aware rule's failing example says nothing when the data is not loaded (no `--data`)."""
    for rule_ in RULES.values():
        if not rule_.needs_data or rule_.code in NO_TEXT_EXAMPLE:
            continue
        text = yaml_block(rule_.doc, "Example")
        assert text is not None
        findings = lint_text(text, "example.yaml", LintOptions(select=[rule_.code], data=False))
        assert not [f for f in findings if f.code == rule_.code], rule_.code


def test_section_parser_reads_blocks() -> None:
    doc = "## Example\n```yaml\na: 1\n```\n\n## Use instead\n```yaml\na: 2\n```\n"
    assert yaml_block(doc, "Example") == "a: 1\n"
    assert yaml_block(doc, "Use instead") == "a: 2\n"
    assert yaml_block(doc, "References") is None


def test_fixes_resolve_the_finding_they_fix() -> None:
    """Applying a rule's own fixes (safe and unsafe) to its failing example leaves no finding of that rule."""
    from metaconf.lint.fix import fix_text

    checked, unresolved = [], []
    for rule_ in EXAMPLE_RULES:
        text = yaml_block(rule_.doc, "Example")
        assert text is not None
        options = LintOptions(select=[rule_.code], data=True)
        found = [f for f in lint_text(text, "example.yaml", options) if f.code == rule_.code]
        if not any(f.fix is not None and f.fix.edits for f in found):
            continue
        result = fix_text(text, "example.yaml", options, unsafe=True)
        checked.append(rule_.code)
        if result.error or any(f.code == rule_.code for f in result.findings):
            unresolved.append(f"{rule_.code}: {result.error or 'still reported'}\n{result.fixed}")
    assert len(checked) >= 30, checked
    assert not unresolved, "\n".join(unresolved)
