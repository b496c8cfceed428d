"""The lint engine: selection, suppression, positions, bytes from stdin, partial configs, data loading, and the
bundled example configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from metaconf.config.loader import Span
from metaconf.lint.catalog import all_rules
from metaconf.lint.engine import (
    LintOptions,
    has_errors,
    lint_bytes,
    lint_file,
    lint_text,
    partial_config,
    schema_problems,
)
from metaconf.lint.finding import Severity

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TYPO = "budget:\n  walltime: 10m\n  corse: 2\n"


def codes(findings: list) -> list[str]:
    return [f.code for f in findings]


def test_finding_carries_position_path_and_url() -> None:
    (finding,) = lint_text(TYPO, "c.yaml", LintOptions(select=["MC1"]))
    assert finding.file == "c.yaml"
    assert finding.span == Span(3, 3, 3, 8)
    assert finding.pointer == "$.budget.corse"
    assert finding.help == "metaconf rule MC101"
    assert finding.title_of_fix == "Rename `corse` to `cores`"
    assert has_errors([finding])


def test_select_ignore_by_code_prefix_and_name() -> None:
    assert codes(lint_text(TYPO, options=LintOptions(select=["MC101"]))) == ["MC101"]
    assert codes(lint_text(TYPO, options=LintOptions(select=["unknown-key"]))) == ["MC101"]
    assert lint_text(TYPO, options=LintOptions(select=["MC1"], ignore=["MC10"])) == []
    assert lint_text(TYPO, options=LintOptions(select=["MC3"])) == [] or all(
        c.startswith("MC3") for c in codes(lint_text(TYPO, options=LintOptions(select=["MC3"])))
    )


def test_load_error_is_reported_whatever_is_selected() -> None:
    assert codes(lint_text("a: [1\n")) == ["MC001"]
    assert codes(lint_text("a: [1\n", options=LintOptions(ignore=["MC001"]))) == ["MC001"]
    assert codes(lint_text("a: [1\n", options=LintOptions(select=["MC3"]))) == ["MC001"]


def test_suppression_on_the_line_and_the_line_above() -> None:
    same_line = "budget:\n  corse: 2  # metaconf: ignore[MC101]\n"
    above = "budget:\n  # metaconf: ignore[MC1]\n  corse: 2\n"
    other_code = "budget:\n  corse: 2  # metaconf: ignore[MC301]\n"
    select = LintOptions(select=["MC1"])
    assert lint_text(same_line, options=select) == []
    assert lint_text(above, options=select) == []
    assert codes(lint_text(other_code, options=select)) == ["MC101"]


def test_findings_are_sorted_by_position() -> None:
    text = "stopping:\n  n_trails: 5\nbudget:\n  corse: 2\n"
    findings = lint_text(text, options=LintOptions(select=["MC1"]))
    assert [f.span.line for f in findings] == sorted(f.span.line for f in findings)
    assert len(findings) == 2


def test_lint_file_and_unreadable_paths(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(TYPO, encoding="utf-8")
    assert codes(lint_file(path, LintOptions(select=["MC1"]))) == ["MC101"]
    assert codes(lint_file(tmp_path / "missing.yaml")) == ["MC003"]
    assert codes(lint_file(tmp_path)) == ["MC003"]


def test_lint_bytes_handles_bom_and_bad_bytes() -> None:
    assert codes(lint_bytes(b"\xef\xbb\xbf" + TYPO.encode(), "-", LintOptions(select=["MC1"]))) == ["MC101"]
    (finding,) = lint_bytes(b"a: 1\nb: \xff\n")
    assert finding.code == "MC003" and (finding.span.line, finding.span.col) == (2, 4)


def test_partial_config_keeps_the_valid_parts() -> None:
    data = {
        "budget": {"walltime": "20 minuets", "cores": 2},
        "search_space": {"models": ["random_forest", "gradient_boosting", "svm", "nope"]},
        "task": {"cost_matrix": {"labels": ["a", "b"]}},
        "execution": {"seed": 3},
    }
    config, problems = schema_problems(data)
    assert config is None and problems
    partial, pruned = partial_config(data, problems)
    assert partial is not None
    assert partial.budget.cores == 2 and partial.budget.walltime is None
    assert [m.value for m in partial.search_space.models] == ["random_forest", "svm"]
    assert partial.task.cost_matrix is None
    assert partial.execution.seed == 3
    assert ("task", "cost_matrix") in pruned
    assert data["budget"]["walltime"] == "20 minuets"  # the input is not changed


def test_partial_config_gives_up_on_a_non_mapping() -> None:
    _, problems = schema_problems([1, 2])
    assert partial_config([1, 2], problems) == (None, [])


def test_config_rules_run_despite_schema_errors_but_not_on_pruned_values() -> None:
    text = (
        "data:\n  demo: iris\n"
        "budget:\n  corse: 2\n"
        "stopping:\n  n_trials: 10\n  crash_cost: .inf\n"
        "execution:\n  seed: zero\n"
    )
    found = lint_text(text, "c.yaml")
    assert "MC101" in codes(found) and "MC102" in codes(found)
    config_level = [f for f in found if not f.code.startswith(("MC0", "MC1"))]
    assert config_level, "config-level rules should still report on the valid parts"
    # `execution.seed` was cut out: no rule may report on it as if it were missing
    assert not [f for f in config_level if f.json_path[:2] == ("execution", "seed")]


def test_data_loading_and_mc900(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("task:\n  target: y\ndata:\n  path: d.csv\n", encoding="utf-8")
    (finding,) = lint_file(config, LintOptions(select=["MC900"], data=True))
    assert finding.code == "MC900" and finding.json_path == ("data", "path")
    assert "d.csv" in finding.message and finding.title_of_fix
    assert lint_file(config, LintOptions(select=["MC900"], data=False)) == []
    (tmp_path / "d.csv").write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)), encoding="utf-8")
    assert lint_file(config, LintOptions(select=["MC900"], data=True)) == []


def test_unknown_demo_names_the_choices() -> None:
    (finding,) = lint_text("data:\n  demo: irs\n", options=LintOptions(select=["MC900"], data=True))
    assert "irs" in finding.message and "iris" in (finding.title_of_fix or "")


def test_mc900_is_registered_as_an_error_rule() -> None:
    rule = all_rules()["MC900"]
    assert rule.name == "data-unreadable" and rule.severity == Severity.error and rule.family == "data"


# --- the bundled examples -----------------------------------------------------------------------------------


GOOD_EXAMPLES = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "broken.yaml")


def test_there_is_an_example_per_optimizer_family() -> None:
    from metaconf.config.loader import load_file
    from metaconf.config.model import Config, OptimizerKind

    configs = [Config.model_validate(load_file(p).data) for p in GOOD_EXAMPLES]
    smac_kinds = {c.optimizer.kind for c in configs if c.tool.value == "smac"}
    assert smac_kinds == set(OptimizerKind)
    assert any(c.tool.value == "auto-sklearn" for c in configs)
    cost = [c for c in configs if c.task.cost_matrix is not None]
    assert cost and cost[0].task.cost_matrix is not None
    assert cost[0].task.cost_matrix.labels == ["good", "bad"]
    assert cost[0].task.cost_matrix.costs == [[0, 1], [5, 0]]


@pytest.mark.parametrize("path", GOOD_EXAMPLES, ids=lambda p: p.name)
def test_example_is_lint_clean(path: Path) -> None:
    findings = lint_file(path, LintOptions(select=["ALL"]))
    assert [f"{f.code} {f.message}" for f in findings] == []


@pytest.mark.parametrize("path", GOOD_EXAMPLES, ids=lambda p: p.name)
def test_example_data_loads_when_its_demo_is_installed(path: Path) -> None:
    from metaconf.config.loader import load_file
    from metaconf.data.load import list_demos

    demo = load_file(path).data.get("data", {}).get("demo")
    if demo not in list_demos():
        pytest.skip(f"demo `{demo}` is an optional extra not installed here")
    findings = lint_file(path, LintOptions(data=True))
    assert [f"{f.code} {f.message}" for f in findings] == []


def test_broken_example_shows_many_kinds_of_finding() -> None:
    findings = lint_file(EXAMPLES / "broken.yaml")
    kinds = set(codes(findings))
    assert len(findings) >= 10
    assert {"MC006", "MC101", "MC102", "MC103"} <= kinds
    assert any(not c.startswith(("MC0", "MC1")) for c in kinds), "cross-field rules should fire too"
    assert all(f.span.line > 2 for f in findings)  # every finding points into the config, not the header


def test_a_crashing_rule_becomes_a_rule_error_not_a_traceback() -> None:
    from dataclasses import replace

    from metaconf.config.loader import load_text
    from metaconf.lint.engine import RuleError, lint_document

    def boom(ctx: object) -> list:
        raise ZeroDivisionError("division by zero")

    broken = replace(all_rules()["MC101"], check=boom)
    with pytest.raises(RuleError) as info:
        lint_document(load_text(TYPO, "c.yaml"), [broken])
    assert info.value.exit_code == 2
    assert "rule MC101 failed on `c.yaml`: ZeroDivisionError" in info.value.message
    assert "--ignore MC101" in (info.value.hint or "")


def test_data_facts_are_reused_until_the_file_changes(tmp_path: Path) -> None:
    import os

    from metaconf.lint import engine

    config = tmp_path / "c.yaml"
    config.write_text("task:\n  target: y\ndata:\n  path: d.csv\n", encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)), encoding="utf-8")
    options = LintOptions(select=["MC900"], data=True)
    assert lint_file(config, options) == []
    cached = len(engine._DATA_CACHE)
    assert lint_file(config, options) == []
    assert len(engine._DATA_CACHE) == cached  # the second lint reused the facts
    data.write_text("x,y\n" + "".join(f"{i},1\n" for i in range(20)), encoding="utf-8")  # one class left
    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    (finding,) = lint_file(config, options)
    assert finding.code == "MC900" and "single class" in finding.message
