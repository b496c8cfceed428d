"""User ConfigSpace spaces: files, inline dicts, the list-as-range trap, estimators, and their lint findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ConfigSpace import Categorical as CategoricalFactory
from ConfigSpace import ConfigurationSpace, EqualsCondition, Float, Integer
from sklearn.datasets import make_classification

from metaconf.config.model import Config
from metaconf.lint.engine import LintOptions, lint_text
from metaconf.space.builtin import build_space
from metaconf.space.configurations import normalize_warm_start
from metaconf.space.errors import SpaceError, SpaceProblem
from metaconf.space.estimators import make_estimator

ESTIMATOR = "sklearn.tree:DecisionTreeClassifier"


def user_config(*, seed: int | None = None, **search_space: Any) -> Config:
    search_space.setdefault("estimator", ESTIMATOR)
    return Config.model_validate({"search_space": search_space, "execution": {"seed": seed}})


def tree_space() -> ConfigurationSpace:
    space = ConfigurationSpace(name="tree")
    splitter = CategoricalFactory("splitter", ["best", "random"], default="best")
    depth = Integer("max_depth", (2, 20), default=8)
    space.add(splitter, depth, Float("min_impurity_decrease", (0.0, 0.1), default=0.0))
    space.add(EqualsCondition(depth, splitter, "best"))
    return space


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_serialized_file_round_trips_and_configures_the_estimator(tmp_path: Path, suffix: str) -> None:
    original = tree_space()
    path = tmp_path / f"space{suffix}"
    (original.to_yaml if suffix == ".yaml" else original.to_json)(path)
    space = build_space(user_config(file=path.name, seed=5), tmp_path)
    assert space == original
    x, y = make_classification(40, 4, random_state=0)
    for configuration in space.sample_configuration(5):
        estimator = make_estimator(
            configuration, "classification", seed=2, config=user_config(file=path.name)
        )
        assert type(estimator).__name__ == "DecisionTreeClassifier"
        assert estimator.get_params()["random_state"] == 2
        assert all(
            type(v) in (str, int, float)
            for v in estimator.get_params().values()
            if v is not None and not isinstance(v, bool)
        )
        estimator.fit(x, y)


def test_inline_shorthand_ranges_choices_and_constants() -> None:
    config = user_config(
        inline={
            "max_depth": {"lower": 2, "upper": 20, "default": 5},
            "min_impurity_decrease": {"lower": 1e-6, "upper": 0.1, "log": True},
            "criterion": ["gini", "entropy", "log_loss"],
            "splitter": {"choices": ["best", "random"], "default": "random"},
            "max_features": 0.5,
        }
    )
    space = build_space(config)
    assert (
        type(space["max_depth"]).__name__ == "UniformIntegerHyperparameter"
        and space["max_depth"].default_value == 5
    )
    assert space["min_impurity_decrease"].log
    assert list(space["criterion"].choices) == ["gini", "entropy", "log_loss"]
    assert space["splitter"].default_value == "random"
    assert space["max_features"].value == 0.5
    values = normalize_warm_start(space, {"max_depth": 3})
    assert values["max_depth"] == 3 and values["criterion"] == "gini"


def test_inline_serialized_form_is_accepted() -> None:
    inline = json.loads(json.dumps(tree_space().to_serialized_dict()))
    assert build_space(user_config(inline=inline)) == tree_space()


def test_configspace_trap_that_the_check_exists_for() -> None:
    # The measured fact: ConfigSpace reads a list as choices and silently builds an empty space.
    assert len(ConfigurationSpace.from_serialized_dict({"lr": [0.0, 1.0]})) == 0


@pytest.mark.parametrize("inline", [{"lr": [0.0, 1.0]}, {"max_depth": [2, 20]}])
def test_list_of_two_numbers_is_refused_as_a_range(inline: dict) -> None:
    with pytest.raises(SpaceError, match="not a range") as info:
        build_space(user_config(inline=inline))
    name = next(iter(inline))
    assert info.value.kind == SpaceProblem.list_as_range
    assert info.value.path == ("search_space", "inline", name)
    assert f"{name}: {{lower:" in (info.value.hint or "")


def test_list_as_range_in_a_yaml_file(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text("learning_rate: [0.001, 0.1]\n")
    with pytest.raises(SpaceError, match=r"`space\.yaml` at `learning_rate`") as info:
        build_space(user_config(file="space.yaml"), tmp_path)
    assert info.value.kind == SpaceProblem.list_as_range and info.value.path == ("search_space", "file")


def test_a_list_of_three_numbers_is_a_choice() -> None:
    space = build_space(user_config(inline={"max_depth": [2, 5, 10]}))
    assert list(space["max_depth"].choices) == [2, 5, 10]


@pytest.mark.parametrize(
    ("inline", "kind", "inner", "match"),
    [
        ({}, SpaceProblem.user_space_invalid, (), "no hyperparameters"),
        ({"hyperparameters": []}, SpaceProblem.user_space_invalid, (), "no hyperparameters"),
        (
            {"max_depth": {"lower": 2}},
            SpaceProblem.user_space_invalid,
            ("max_depth",),
            "needs both `lower` and `upper`",
        ),
        (
            {"max_depth": {"lower": 2, "upper": 9, "step": 1}},
            SpaceProblem.user_space_invalid,
            ("max_depth", "step"),
            "unknown key `step`",
        ),
        (
            {"max_depth": {"lower": 2, "upper": 9, "default": 12}},
            SpaceProblem.default_out_of_range,
            ("max_depth", "default"),
            "outside",
        ),
        (
            {"splitter": {"choices": ["best"], "default": "worst"}},
            SpaceProblem.default_out_of_range,
            ("splitter", "default"),
            "not one of",
        ),
        (
            {
                "hyperparameters": [
                    {"name": "a", "type": "uniform_float", "lower": 0, "upper": 1, "default_value": 3}
                ]
            },
            SpaceProblem.default_out_of_range,
            ("hyperparameters", 0, "default_value"),
            r"default 3 of `a` is outside \[0, 1\]",
        ),
        (
            {
                "hyperparameters": [{"name": "a", "type": "uniform_float", "lower": 0, "upper": 1}],
                "conditions": [{"type": "EQ", "child": "a", "parent": "b", "value": 1}],
            },
            SpaceProblem.missing_parent,
            ("conditions", 0, "parent"),
            "names `b`",
        ),
        (
            {
                "hyperparameters": [{"name": "a", "type": "categorical", "choices": ["x", "y"]}],
                "forbiddens": [{"type": "EQUALS", "name": "zz", "value": "x"}],
            },
            SpaceProblem.missing_parent,
            ("forbiddens", 0, "name"),
            "forbidden clause names `zz`",
        ),
        (
            {"hyperparameters": [{"name": "a", "type": "no_such_type"}]},
            SpaceProblem.user_space_invalid,
            (),
            "not a valid ConfigSpace space",
        ),
    ],
)
def test_malformed_inline_spaces_point_inside_the_space(
    inline: dict, kind: SpaceProblem, inner: tuple, match: str
) -> None:
    with pytest.raises(SpaceError, match=match) as info:
        build_space(user_config(inline=inline))
    assert info.value.kind == kind
    assert info.value.path == ("search_space", "inline", *inner)


def test_missing_unreadable_and_non_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match="does not exist") as info:
        build_space(user_config(file="nope.yaml"), tmp_path)
    assert info.value.path == ("search_space", "file") and info.value.kind == SpaceProblem.user_space_invalid
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    with pytest.raises(SpaceError, match="not valid YAML"):
        build_space(user_config(file="bad.yaml"), tmp_path)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SpaceError, match="not valid JSON"):
        build_space(user_config(file="bad.json"), tmp_path)
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(SpaceError, match="expected a mapping"):
        build_space(user_config(file="list.yaml"), tmp_path)


def test_estimator_is_required_and_must_import() -> None:
    with pytest.raises(SpaceError, match=r"needs `search_space\.estimator`") as info:
        build_space(Config.model_validate({"search_space": {"inline": {"max_depth": 3}}}))
    assert info.value.kind == SpaceProblem.bad_estimator
    for bad, match in [
        ("sklearn.tree:NoSuchTree", "has no class `NoSuchTree`"),
        ("no_such_package.sub:Model", "Cannot import module `no_such_package.sub`"),
        ("DecisionTree", "not a `module:Class`"),
    ]:
        config = user_config(inline={"max_depth": 3}, estimator=bad)
        with pytest.raises(SpaceError, match=match):
            make_estimator({"max_depth": 3}, "classification", seed=0, config=config)


def test_dotted_estimator_path_and_unknown_arguments() -> None:
    config = user_config(
        inline={"max_dept": {"lower": 2, "upper": 5}}, estimator="sklearn.tree.DecisionTreeClassifier"
    )
    with pytest.raises(SpaceError, match="no constructor argument `max_dept`"):
        make_estimator({"max_dept": 3}, "classification", seed=0, config=config)


def test_fidelity_reaches_a_user_estimator_that_has_the_argument() -> None:
    config = user_config(
        inline={"max_depth": {"lower": 2, "upper": 5}}, estimator="sklearn.ensemble:RandomForestRegressor"
    )
    forest = make_estimator(
        {"max_depth": np.int64(3)},
        "regression",
        seed=4,
        config=config,
        fidelity="n_estimators",
        fidelity_value=12.0,
    )
    params = forest.get_params()
    assert (params["n_estimators"], params["max_depth"], params["n_jobs"], params["random_state"]) == (
        12,
        3,
        1,
        4,
    )


# --- lint ---------------------------------------------------------------------------------------------------


def findings(text: str, select: str, *, trust: bool = False) -> list[tuple[str, int, int, str]]:
    return [
        (f.code, f.span.line, f.span.col, f.message)
        for f in lint_text(text, "space.yaml", LintOptions(select=[select], trust=trust))
    ]


def test_lint_list_as_range_points_at_the_inline_key() -> None:
    text = """search_space:
  estimator: sklearn.tree:DecisionTreeClassifier
  inline:
    max_depth: {lower: 2, upper: 9}
    min_impurity_decrease: [0.0, 0.1]
"""
    ((code, line, col, message),) = findings(text, "MC202")
    assert (code, line, col) == ("MC202", 5, 28)
    assert "two choices, not a range" in message


def test_lint_reports_space_and_estimator_problems_together() -> None:
    text = """search_space:
  inline:
    max_depth: [2, 20]
"""
    found = findings(text, "MC2")
    assert {code for code, *_ in found} == {"MC202", "MC208"}


def test_lint_unknown_constructor_argument() -> None:
    text = """search_space:
  estimator: sklearn.tree:DecisionTreeClassifier
  inline:
    max_dept: {lower: 2, upper: 9}
"""
    ((_code, line, _, message),) = findings(text, "MC208", trust=True)
    assert line == 2 and "`max_dept`" in message
    assert findings(text, "MC208") == []  # the arguments are known only by importing the class


def test_lint_warm_start_in_a_user_space() -> None:
    text = """search_space:
  estimator: sklearn.tree:DecisionTreeClassifier
  inline:
    max_depth: {lower: 2, upper: 9}
initial_design:
  warm_start:
    - {max_depth: 3}
    - {max_depth: 30}
"""
    ((_code, line, col, message),) = findings(text, "MC209")
    assert (line, col) == (8, 19) and "`max_depth` cannot be 30" in message


def test_lint_missing_file_relative_to_the_config(tmp_path: Path) -> None:
    tree_space().to_yaml(tmp_path / "tree.yaml")
    config = tmp_path / "config.yaml"
    config.write_text(f"search_space:\n  file: tree.yaml\n  estimator: {ESTIMATOR}\n")
    from metaconf.lint.engine import lint_file

    assert [f for f in lint_file(config, LintOptions(select=["MC2"]))] == []
    config.write_text(f"search_space:\n  file: other.yaml\n  estimator: {ESTIMATOR}\n")
    ((finding),) = lint_file(config, LintOptions(select=["MC2"]))
    assert finding.code == "MC201" and finding.span.line == 2 and "does not exist" in finding.message


def test_file_and_inline_together_are_ambiguous(tmp_path: Path) -> None:
    tree_space().to_yaml(tmp_path / "tree.yaml")
    with pytest.raises(SpaceError, match="both `file` and `inline`") as info:
        build_space(user_config(file="tree.yaml", inline={"max_depth": 3}), tmp_path)
    assert info.value.kind == SpaceProblem.user_space_invalid


def test_lint_warns_about_built_in_settings_next_to_a_user_space() -> None:
    text = """search_space:
  models: [svm]
  overrides:
    svm: {C: {upper: 10}}
  estimator: sklearn.tree:DecisionTreeClassifier
  inline:
    max_depth: {lower: 2, upper: 9}
"""
    found = lint_text(text, "space.yaml", LintOptions(select=["MC2"]))
    assert sorted((f.code, f.span.line, f.severity.value) for f in found) == [
        ("MC205", 3, "warning"),
        ("MC207", 2, "warning"),
    ]
    assert all(f.fix is not None and f.fix.safe for f in found)
