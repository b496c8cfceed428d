"""`--fix` edits: what the user wrote around an edit (comments, key order, quoting, flow style, indentation)
survives, renames keep their place, overlapping fixes wait for the next pass, and fixing re-lints."""

from __future__ import annotations

import pytest

from metaconf.lint.engine import LintOptions, lint_text
from metaconf.lint.finding import Edit, Fix
from metaconf.lint.fix import FixError, _guess_indent, apply_fixes, fix_text

DOC = """\
# yaml-language-server: $schema=https://example.org/schema.json
# The experiment of the week.
budget:                   # the whole job
  walltime: "10m"         # quoted on purpose
  corse: 2                # typo
  memory: 4GB
search_space:
  models:
    - random_forest       # first choice
    - svm
task: {type: classification, metric: accuracy}
"""


def apply(text: str, *fixes: Fix) -> str:
    out, applied = apply_fixes(text, list(fixes))
    assert applied == list(range(len(fixes)))
    return out


def test_set_existing_value_keeps_comment_and_quote_style() -> None:
    out = apply(DOC, Fix("t", (Edit(("budget", "walltime"), "20m"),)))
    assert '  walltime: "20m"         # quoted on purpose\n' in out
    assert out.replace('"20m"', '"10m"') == DOC


def test_rename_keeps_position_and_comment() -> None:
    out = apply(DOC, Fix("t", (Edit(("budget", "cores"), 2), Edit(("budget", "corse"), delete=True))))
    assert out == DOC.replace("  corse: 2                # typo", "  cores: 2                # typo")


def test_rename_of_a_section_keeps_what_is_inside() -> None:
    text = "budgett:        # mine\n  walltime: 10m   # inner\n  cores: 2\nstopping:\n  n_trials: 5\n"
    value = {"walltime": "10m", "cores": 2}
    out = apply(text, Fix("t", (Edit(("budget",), value), Edit(("budgett",), delete=True))))
    assert out == text.replace("budgett:        # mine", "budget:         # mine")


def test_add_key_to_flow_mapping_stays_flow() -> None:
    out = apply(DOC, Fix("t", (Edit(("task", "target"), "label"),)))
    assert "task: {type: classification, metric: accuracy, target: label}\n" in out


def test_add_missing_section_is_block_style_at_the_end() -> None:
    out = apply(DOC, Fix("t", (Edit(("stopping", "crash_cost"), 1.0),)))
    assert out.startswith(DOC)
    assert out.endswith("stopping:\n  crash_cost: 1.0\n")


def test_delete_key_and_list_item() -> None:
    out = apply(DOC, Fix("t", (Edit(("budget", "memory"), delete=True),)))
    assert "memory" not in out and "# the whole job" in out
    out = apply(DOC, Fix("t", (Edit(("search_space", "models", 1), delete=True),)))
    assert "- svm" not in out and "- random_forest       # first choice" in out


def test_set_list_item_and_append() -> None:
    out = apply(DOC, Fix("t", (Edit(("search_space", "models", 1), "mlp"),)))
    assert "    - mlp\n" in out
    out = apply(DOC, Fix("t", (Edit(("search_space", "models", 2), "linear"),)))
    assert "    - svm\n    - linear\n" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n  b: 1\nc:\n  - x\n", (2, 4, 2)),
        ("a:\n    b: 1\nc:\n- x\n", (4, 2, 0)),
        ("a:\n  b:\n    - x\n", (2, 4, 2)),
        ("a: 1\n", (2, 4, 2)),
    ],
)
def test_indentation_is_read_from_the_file(text: str, expected: tuple[int, int, int]) -> None:
    assert _guess_indent(text) == expected


def test_four_space_files_stay_four_space() -> None:
    text = "budget:\n    walltime: 10m\n    cores: 2\nsearch_space:\n    models:\n    - svm\n"
    out = apply(text, Fix("t", (Edit(("budget", "cores"), 4),)))
    assert out == text.replace("cores: 2", "cores: 4")


def test_overlapping_fixes_wait_for_the_next_pass() -> None:
    first = Fix("a", (Edit(("budget", "walltime"), "1h"),))
    second = Fix("b", (Edit(("budget",), delete=True),))
    third = Fix("c", (Edit(("budget", "memory"), "8GB"),))
    out, applied = apply_fixes(DOC, [first, second, third])
    assert applied == [0, 2]
    assert '"1h"' in out and "memory: 8GB" in out


def test_edit_through_a_scalar_is_an_error() -> None:
    with pytest.raises(FixError):
        apply_fixes(DOC, [Fix("t", (Edit(("budget", "memory", "x"), 1),))])
    with pytest.raises(FixError):
        apply_fixes(DOC, [Fix("t", (Edit((), 1),))])


def test_fix_text_applies_only_safe_fixes_by_default() -> None:
    text = "data:\n  demo: iris\nbudget:\n  corse: 2   # typo\n"
    result = fix_text(text, "c.yaml", LintOptions(select=["MC101"]))
    assert not result.changed and [f.code for f in result.findings] == ["MC101"]
    result = fix_text(text, "c.yaml", LintOptions(select=["MC101"]), unsafe=True)
    assert result.fixed == "data:\n  demo: iris\nbudget:\n  cores: 2   # typo\n"
    assert [f.code for f in result.applied] == ["MC101"] and result.findings == []
    assert result.diff().startswith("--- a/c.yaml\n+++ b/c.yaml\n")


def test_fix_text_relints_and_fixes_several_findings() -> None:
    text = (
        "# my experiment\n"
        "data:\n  demo: iris\n"
        "budgett:\n  walltime: 5m\n"
        "stopping:\n  n_trails: 20    # twenty\n  crash_cost: 1.0\n"
    )
    result = fix_text(text, "c.yaml", LintOptions(select=["MC1"]), unsafe=True)
    assert result.findings == []
    assert result.fixed == text.replace("budgett:", "budget:").replace("n_trails: 20    #", "n_trials: 20    #")
    assert lint_text(result.fixed, "c.yaml", LintOptions(select=["MC1"])) == []


def test_safe_fix_from_a_rule_is_applied() -> None:
    """An infinite crash cost has a safe fix (the metric's worst cost); it applies without --unsafe-fixes."""
    text = "data:\n  demo: iris\nstopping:\n  crash_cost: .inf   # oops\n  n_trials: 20\n"
    before = [f for f in lint_text(text, "c.yaml") if f.fix is not None and f.fix.safe]
    assert before, "expected a rule with a safe fix for an infinite crash cost"
    result = fix_text(text, "c.yaml")
    assert result.changed
    assert "# oops" in result.fixed and ".inf" not in result.fixed
    assert {f.code for f in result.applied} == {f.code for f in before}


def test_nothing_to_fix_changes_nothing() -> None:
    result = fix_text(DOC.replace("corse", "cores"), "c.yaml", LintOptions(select=["MC1"]), unsafe=True)
    assert not result.changed and result.applied == [] and result.diff() == ""


def test_fixing_twice_changes_nothing_more() -> None:
    text = "data:\n  demo: iris\nbudgett:   # b\n  walltime: 5m\nstopping:\n  crash_cost: .inf\n  n_trials: 20\n"
    once = fix_text(text, "c.yaml", unsafe=True)
    assert once.changed
    twice = fix_text(once.fixed, "c.yaml", unsafe=True)
    assert not twice.changed and twice.applied == []


def test_duplicate_keys_block_fixes_instead_of_losing_the_last_value() -> None:
    text = "stopping:\n  n_trials: 50\n  n_trials: 100\n  crash_cost: .inf\n"
    with pytest.raises(FixError, match="set twice"):
        apply_fixes(text, [Fix("t", (Edit(("stopping", "crash_cost"), 1.0),))])
    result = fix_text("data:\n  demo: iris\n" + text, "c.yaml", unsafe=True)
    assert not result.changed and result.error and "MC006" in result.error
