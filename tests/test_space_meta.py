"""The meta-space: conditions, forbidden clauses, bounds as data, and findings at the right YAML position."""

from __future__ import annotations

import json
from typing import Any

import pytest

from metaconf.config.loader import load_text
from metaconf.config.model import Config
from metaconf.lint.engine import LintOptions, lint_text
from metaconf.space.configurations import active_names
from metaconf.space.meta import check_config, config_values, meta_space, meta_space_bounds, path_of


def check(text: str) -> list[tuple[tuple, bool, str, int, int]]:
    document = load_text(text, "run.yaml")
    config = Config.model_validate(document.data)
    out = []
    for violation in check_config(document, config):
        span = document.span(violation.path, key=violation.key)
        out.append((violation.path, violation.key, violation.message, span.line, span.col))
    return out


def active(tool: str, **values: Any) -> set[str]:
    space = meta_space(tool)
    filled = {name: hp.default_value for name, hp in space.items()}
    filled.update(values)
    return active_names(space, filled)


def test_fidelity_settings_are_active_only_with_a_multi_fidelity_optimizer() -> None:
    assert "fidelity.eta" not in active("smac", **{"optimizer.kind": "bo"})
    assert "fidelity.type" not in active("smac", **{"optimizer.kind": "random"})
    on = active("smac", **{"optimizer.kind": "hyperband", "fidelity.type": "n_estimators"})
    assert {"fidelity.eta", "fidelity.type", "fidelity.min[n_estimators]", "fidelity.max[n_estimators]"} <= on
    assert "fidelity.min[subsample]" not in on


def test_resampling_settings_follow_the_strategy() -> None:
    assert "resampling.folds" not in active("smac", **{"resampling.strategy": "holdout"})
    assert "resampling.holdout_fraction" in active("smac", **{"resampling.strategy": "holdout"})
    assert "resampling.folds" in active("auto-sklearn", **{"resampling.strategy": "cv"})
    assert "resampling.holdout_fraction" not in active("auto-sklearn", **{"resampling.strategy": "cv"})


def test_forbidden_clauses() -> None:
    smac = {str(f) for f in meta_space("smac").forbidden_clauses}
    assert "(Forbidden: fidelity.type == 'cv_folds' && Forbidden: resampling.strategy == 'holdout')" in smac
    assert "Forbidden: fidelity.min[subsample] >= fidelity.max[subsample]" in smac
    assert "Forbidden: fidelity.max[cv_folds] > resampling.folds" in smac
    autosklearn = {str(f) for f in meta_space("auto-sklearn").forbidden_clauses}
    assert autosklearn == {"Forbidden: stopping.n_trials <= auto_sklearn.metalearning_configs"}


def test_autosklearn_has_no_multi_fidelity_and_a_30_second_floor() -> None:
    space = meta_space("auto-sklearn")
    assert list(space["optimizer.kind"].choices) == ["bo"]
    assert list(space["fidelity.type"].choices) == ["none"]
    assert space["stopping.walltime"].lower == 30.0
    assert "fidelity.eta" not in space


def test_every_hyperparameter_maps_to_a_config_field() -> None:
    for tool in ("smac", "auto-sklearn"):
        for name in meta_space(tool):
            path = path_of(name)
            node: Any = Config.model_fields
            for step in path:
                assert step in node, f"{name} -> {path}"
                annotation = node[step].annotation
                node = getattr(annotation, "model_fields", None) or _optional_model_fields(annotation)


def _optional_model_fields(annotation: Any) -> dict:
    for arg in getattr(annotation, "__args__", ()):
        if hasattr(arg, "model_fields"):
            return arg.model_fields
    return {}


def test_bounds_are_json_data_with_paths_and_conditions() -> None:
    bounds = meta_space_bounds("smac")
    json.dumps(bounds)
    assert bounds["fidelity.eta"] == {
        "path": ["fidelity", "eta"],
        "default": 3.0,
        "type": "number",
        "lower": 1.1,
        "upper": 10.0,
        "log": False,
        "active_if": {"optimizer.kind": ["hyperband", "successive_halving"]},
    }
    assert bounds["resampling.folds"]["type"] == "integer"
    assert bounds["resampling.folds"]["active_if"] == {"resampling.strategy": ["cv"]}
    assert bounds["optimizer.kind"]["choices"] == ["bo", "bo_gp", "random", "hyperband", "successive_halving"]
    assert meta_space_bounds("auto-sklearn")["stopping.walltime"]["lower"] == 30.0


def test_default_config_and_shipped_examples_are_clean() -> None:
    assert check_config(None, Config()) == []
    assert check_config(None, Config.model_validate({"tool": "auto-sklearn"})) == []


def test_config_values_only_include_the_fidelity_case_in_force() -> None:
    config = Config.model_validate(
        {"optimizer": {"kind": "hyperband"}, "fidelity": {"type": "max_iter", "min": 10, "max": 100}}
    )
    values = config_values(config)
    assert values["fidelity.min[max_iter]"] == 10 and values["fidelity.max[max_iter]"] == 100
    assert "fidelity.min[subsample]" not in values
    assert values["optimizer.kind"] == "hyperband"


def test_inactive_setting_the_user_wrote_is_reported_at_its_key() -> None:
    found = check(
        "optimizer:\n  kind: bo\nfidelity:\n  eta: 2\nresampling:\n  strategy: holdout\n  folds: 10\n"
    )
    assert (
        ("fidelity", "eta"),
        True,
        "`fidelity.eta` has no effect with `optimizer.kind: bo`",
        4,
        3,
    ) in found
    assert (
        ("resampling", "folds"),
        True,
        "`resampling.folds` has no effect with `resampling.strategy: holdout`",
        7,
        3,
    ) in found


def test_defaults_the_user_did_not_write_are_not_reported() -> None:
    # fidelity.eta defaults to 3 and holdout_fraction to 0.33 even with cv: neither is the user's doing
    assert check("resampling:\n  strategy: cv\n") == []


def test_out_of_range_value_is_reported_at_the_value() -> None:
    ((path, key, message, line, col),) = check("stopping:\n  n_trials: 0\n")
    assert (path, key, line, col) == (("stopping", "n_trials"), False, 2, 13)
    assert message == "`stopping.n_trials` is 0; it must be between 1 and 100,000,000"


def test_case_split_range_names_the_case() -> None:
    found = check("optimizer:\n  kind: hyperband\nfidelity:\n  type: subsample\n  min: 0.1\n  max: 2\n")
    assert found == [
        (
            ("fidelity", "max"),
            False,
            "`fidelity.max` is 2.0 with `fidelity.type: subsample`; it must be between 0.001 and 1",
            6,
            8,
        )
    ]


@pytest.mark.parametrize(
    ("text", "path", "line", "match"),
    [
        (
            "optimizer:\n  kind: hyperband\nfidelity:\n  type: cv_folds\nresampling:\n  strategy: holdout\n",
            ("fidelity", "type"),
            4,
            "needs `resampling.strategy: cv`",
        ),
        (
            "optimizer:\n  kind: hyperband\nfidelity:\n  type: cv_folds\n  min: 1\n  max: 8\nresampling:\n"
            "  strategy: cv\n  folds: 5\n",
            ("fidelity", "max"),
            6,
            "more folds than `resampling.folds`",
        ),
        (
            "optimizer:\n  kind: successive_halving\nfidelity:\n  type: n_estimators\n  min: 50\n  max: 50\n",
            ("fidelity", "min"),
            5,
            "must be below `fidelity.max`",
        ),
        (
            "tool: auto-sklearn\nstopping:\n  n_trials: 20\nauto_sklearn:\n  metalearning_configs: 25\n",
            ("stopping", "n_trials"),
            3,
            "above `auto_sklearn.metalearning_configs`",
        ),
    ],
)
def test_forbidden_combination_lands_on_a_field_the_user_wrote(
    text: str, path: tuple, line: int, match: str
) -> None:
    found = [f for f in check(text) if match in f[2]]
    assert len(found) == 1
    assert found[0][0] == path and found[0][3] == line


def test_forbidden_clause_needs_every_field_set() -> None:
    # n_trials unset: auto-sklearn's meta-learning limit cannot be violated yet
    assert check("tool: auto-sklearn\nauto_sklearn:\n  metalearning_configs: 500\n") == []


def test_autosklearn_illegal_choices_name_the_tool() -> None:
    found = check("tool: auto-sklearn\noptimizer:\n  kind: hyperband\nstopping:\n  walltime: 10s\n")
    messages = {f[0]: f[2] for f in found}
    assert (
        messages[("optimizer", "kind")]
        == "`optimizer.kind` is 'hyperband' with tool `auto-sklearn`; it must be one of `bo`"
    )
    assert (
        messages[("stopping", "walltime")]
        == "`stopping.walltime` is 10.0; it must be between 30 and 31,622,400"
    )


def test_without_a_document_explicitly_set_values_count_as_written() -> None:
    assert check_config(None, Config.model_validate({"resampling": {"strategy": "cv"}})) == []
    config = Config.model_validate({"resampling": {"strategy": "cv", "holdout_fraction": 0.2}})
    assert [v.path for v in check_config(None, config)] == [("resampling", "holdout_fraction")]


def test_sampled_meta_configurations_are_clean_configs() -> None:
    for tool in ("smac", "auto-sklearn"):
        space = meta_space(tool)
        space.seed(1)
        for configuration in space.sample_configuration(40):
            data: dict[str, Any] = {"tool": tool}
            for name, value in dict(configuration).items():
                section, field = path_of(name)
                value = value.item() if hasattr(value, "item") else value
                data.setdefault(section, {})[field] = value
            config = Config.model_validate(data)
            assert check_config(None, config) == [], data


# --- the MC110 rule -----------------------------------------------------------------------------------------


def test_mc110_finding_position_and_safe_fix() -> None:
    text = "task:\n  type: classification\nresampling:\n  strategy: cv\n  holdout_fraction: 0.2\n"
    (finding,) = [f for f in lint_text(text, "run.yaml", LintOptions(select=["MC110"]))]
    assert (finding.span.line, finding.span.col) == (5, 3)
    assert finding.severity.value == "warning"
    assert finding.fix is not None and finding.fix.safe
    assert finding.fix.edits[0].path == ("resampling", "holdout_fraction") and finding.fix.edits[0].delete


def test_mc110_leaves_smac_fidelity_findings_to_the_mc4_rules() -> None:
    text = "optimizer:\n  kind: bo\nfidelity:\n  eta: 2\n"
    assert [f for f in lint_text(text, "run.yaml", LintOptions(select=["MC110"]))] == []
    assert any(f.code == "MC405" for f in lint_text(text, "run.yaml", LintOptions(select=["MC405"])))


def _activating(tool: str, name: str) -> dict[str, Any]:
    """Parent values that make ``name`` active (walking up the conditions)."""
    space = meta_space(tool)
    out: dict[str, Any] = {}
    for condition in space.parent_conditions_of.get(name, []):
        parent = condition.parent.name
        values = getattr(condition, "values", None) or [condition.value]
        out[parent] = values[0]
        out.update(_activating(tool, parent))
    return out


@pytest.mark.parametrize("tool", ["smac", "auto-sklearn"])
def test_values_generated_outside_every_declared_range_are_reported(tool: str) -> None:
    from pydantic import ValidationError

    bounds = meta_space_bounds(tool)
    checked = 0
    for name, entry in bounds.items():
        if entry["type"] == "categorical":
            continue
        for bad in (
            entry["lower"] - (1 if entry["type"] == "integer" else entry["lower"] / 2 or 0.5),
            entry["upper"] * 2,
        ):
            data: dict[str, Any] = {"tool": tool}
            for parent, value in {**_activating(tool, name), name: bad}.items():
                section, field = path_of(parent)
                data.setdefault(section, {})[field] = value
            if "[" in name:
                data.setdefault("fidelity", {})["type"] = name.split("[")[1].rstrip("]")
            try:
                config = Config.model_validate(data)
            except ValidationError:
                continue  # the schema already refuses it (MC102), before the meta-space is consulted
            found = [
                v
                for v in check_config(None, config)
                if v.path == path_of(name) and "it must be between" in v.message
            ]
            assert found, (name, bad)
            checked += 1
    assert checked >= 8
