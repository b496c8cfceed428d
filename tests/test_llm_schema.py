"""The LLM advisor without a model: the narrowed schema, answer parsing, merge, check, repair and fallback.

The "LLM" here is a scripted list of answers (what a model could decode inside the schema); everything else
is real: the rule advisor, the search space, the meta-space and lint with the data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from metaconf.advise.envelope import AdvisorInputs, CostModel, DataSummary, DescriptionHints, UserChoices
from metaconf.advise.inputs import space_shape
from metaconf.advise.llm.repair import check_and_repair, merge
from metaconf.advise.llm.schema import (
    REASON_MAX_CHARS,
    Decision,
    DecisionSpace,
    check_value,
    decision_space,
    number_step,
)
from metaconf.advise.rules import Advice, advise
from metaconf.config.model import CostMatrix, Metric, ModelFamily, Origin, Tool
from metaconf.config.writer import render_config
from metaconf.lint.engine import LintOptions, has_errors, lint_text
from metaconf.space.builtin import families_for

FAMILIES = families_for("classification")


def _inputs(**user: Any) -> AdvisorInputs:
    hints = user.pop("hints", DescriptionHints())
    return AdvisorInputs(
        user=UserChoices(walltime_s=user.pop("walltime_s", 300.0), demo="breast_cancer", **user),
        data=DataSummary(
            n_rows=569,
            n_features=30,
            task_type="classification",
            class_counts={"0": 212, "1": 357},
            n_numeric=30,
        ),
        costs=CostModel(fit_seconds={f.value: 0.2 for f in FAMILIES}, rows=569),
        description=hints,
        space_shape=space_shape(FAMILIES, "classification"),
        families=FAMILIES,
    )


def _setup(**user: Any) -> tuple[Advice, AdvisorInputs, DecisionSpace]:
    inputs = _inputs(**user)
    advice = advise(inputs)
    return advice, inputs, decision_space(advice, inputs)


@pytest.fixture
def lint(tmp_path: Path) -> Any:
    return lambda text: lint_text(text, str(tmp_path / "c.yaml"), LintOptions(data=True))


def _walk(schema: Any) -> list[dict[str, Any]]:
    out = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            out.append(schema)
        for value in schema.values():
            out.extend(_walk(value))
    elif isinstance(schema, list):
        for value in schema:
            out.extend(_walk(value))
    return out


def test_schema_is_narrowed_to_the_envelope() -> None:
    advice, _, space = _setup()
    env, props = advice.envelope, space.schema["properties"]
    assert space.schema["x-guidance"] == {"whitespace_flexible": False}
    assert all(obj.get("additionalProperties") is False for obj in _walk(space.schema))
    assert props["models"]["properties"]["value"]["items"]["enum"] == [f.value for f in env.families]
    assert props["optimizer"]["properties"]["value"]["enum"] == [o.value for o in env.optimizers]
    assert props["fidelity"]["properties"]["value"]["enum"] == [f.value for f in env.fidelity_types]
    # no cost matrix anywhere: expected_cost cannot be chosen
    assert "expected_cost" not in props["metric"]["properties"]["value"]["enum"]
    trials = props["n_trials"]["properties"]["value"]
    assert trials["minimum"] >= 1 and trials["maximum"] >= advice.config.stopping.n_trials
    assert props["metric"]["properties"]["reason"]["maxLength"] == REASON_MAX_CHARS
    assert props["warm_start"]["properties"]["value"]["maxItems"] == 3
    # the rule advisor's values are inside the schema (they are the fallback)
    for name, value in space.rule_values.items():
        assert check_value(props[name]["properties"]["value"], value) is None, name


def test_portable_schema_turns_small_integer_ranges_into_enums_with_the_same_values() -> None:
    from metaconf.advise.llm.openai_backend import MAX_ENUM_RANGE, portable_schema

    _, _, space = _setup()
    portable = portable_schema(space.schema)
    assert space.schema["properties"]["initial_design_size"]["properties"]["value"]["type"] == "integer"
    for name, bound in space.bounds.items():
        sent = portable["properties"][name]["properties"]["value"]
        if bound.get("type") == "integer" and bound["maximum"] - bound["minimum"] < MAX_ENUM_RANGE:
            assert sent == {"enum": list(range(bound["minimum"], bound["maximum"] + 1))}, name
            for value in (bound["minimum"] - 1, bound["maximum"] + 1, bound["minimum"], bound["maximum"]):
                assert (value in sent["enum"]) == (check_value(bound, value) is None)
        elif bound.get("type") != "integer":
            assert sent == bound or "anyOf" in json.dumps(sent) or sent.get("type") == "array", name
    wide = {"type": "integer", "minimum": 0, "maximum": MAX_ENUM_RANGE}
    assert portable_schema(wide) == wide  # too many values for an enum: left to the per-value check
    assert portable_schema({"type": "number", "minimum": 0, "maximum": 3}) == {
        "type": "number",
        "minimum": 0,
        "maximum": 3,
    }
    assert portable_schema({"type": "integer", "minimum": True, "maximum": 3})["type"] == "integer"


def test_user_choices_leave_the_schema_and_auto_sklearn_has_no_smac_settings() -> None:
    _, _, space = _setup(metric=Metric.roc_auc, models=[ModelFamily.linear, ModelFamily.svm])
    assert "metric" not in space.decisions and "models" not in space.decisions
    _, _, autosk = _setup(tool=Tool.auto_sklearn)
    assert not {"optimizer", "n_trials", "warm_start", "fidelity"} & set(autosk.decisions)


def test_expected_cost_is_allowed_with_a_cost_matrix_from_the_description() -> None:
    matrix = CostMatrix(labels=["0", "1"], costs=[[0, 1], [5, 0]])
    _, _, space = _setup(hints=DescriptionHints(cost_matrix=matrix))
    assert "expected_cost" in space.schema["properties"]["metric"]["properties"]["value"]["enum"]
    assert space.rule_values["metric"] == "expected_cost"


def test_warm_start_schema_uses_the_builtin_ranges() -> None:
    _, _, space = _setup()
    item = space.schema["properties"]["warm_start"]["properties"]["value"]["items"]
    forest = next(o for o in item["anyOf"] if o["properties"]["model"] == {"const": "random_forest"})
    assert forest["properties"]["min_samples_leaf"] == {"type": "integer", "minimum": 1, "maximum": 20}
    assert check_value(item, {"model": "random_forest", "min_samples_leaf": 50}) is not None
    assert check_value(item, {"model": "random_forest", "min_samples_leaf": 5}) is None


def test_float_hyperparameters_have_a_bounded_number_of_decimals() -> None:
    """Without multipleOf, llguidance lets a number run on (the bundled model wrote 1.000... until max_tokens)."""
    llguidance = pytest.importorskip("llguidance")
    _, _, space = _setup()
    item = space.schema["properties"]["warm_start"]["properties"]["value"]["items"]
    forest = next(o for o in item["anyOf"] if o["properties"]["model"] == {"const": "random_forest"})
    assert forest["properties"]["max_features"] == {
        "type": "number",
        "minimum": 0.05,
        "maximum": 1.0,
        "multipleOf": 0.001,
    }
    grammar = llguidance.grammar_from("json_schema", space.schema_json())
    failed, problems = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    assert not failed, problems
    # the rule values and every built-in default stay expressible
    from metaconf.space.builtin import builtin_space_bounds

    for family, hps in builtin_space_bounds("classification").items():
        for name, spec in hps.items():
            if spec.get("type") == "float":
                step = number_step(float(spec["lower"]))
                assert abs(round(spec["default"] / step) * step - spec["default"]) < 1e-12, (family, name)


def test_check_value_messages() -> None:
    assert "outside" in (check_value({"type": "integer", "minimum": 1, "maximum": 5}, 9) or "")
    assert check_value({"enum": [1, 2]}, True) is not None  # JSON true is not the number 1
    assert check_value({"type": "integer"}, 2.5) == "expected an integer, got 2.5"
    assert "unknown key" in (
        check_value({"type": "object", "properties": {}, "additionalProperties": False}, {"x": 1}) or ""
    )


def test_parse_keeps_valid_values_and_notes_the_rest() -> None:
    _, _, space = _setup()
    answer = {name: {"value": value, "reason": "as proposed"} for name, value in space.rule_values.items()}
    answer["n_trials"] = {"value": 10**9, "reason": "a lot"}
    del answer["metric"]
    answer["extra"] = 1
    decisions, notes = space.parse(json.dumps(answer))
    assert "n_trials" not in decisions and "metric" not in decisions
    assert any(n.startswith("n_trials:") and "outside" in n for n in notes)
    assert any("metric: missing" in n for n in notes)
    assert any("extra" in n for n in notes)
    with pytest.raises(ValueError):
        space.parse('{"metric": ')
    with pytest.raises(ValueError):
        space.parse("[1, 2]")
    # a raw control character inside a string (a server's grammar let one through): accepted, removed
    raw = json.dumps({"metric": {"value": "accuracy", "reason": "PLACEHOLDER"}}).replace(
        "PLACEHOLDER", "balanced\x01 classes\t\nfine"
    )
    with pytest.raises(ValueError):
        json.loads(raw)
    decisions, _ = space.parse(raw)
    assert decisions["metric"].reason == "balanced classes fine"


def test_merge_reruns_the_rules_for_models_and_derives_fidelity(lint: Any) -> None:
    advice, inputs, space = _setup()
    merged = merge(
        advice,
        inputs,
        space,
        {
            "models": Decision(["linear", "linear", "random_forest"], "small space"),
            "optimizer": Decision("hyperband", "cheap first"),
            "fidelity": Decision("n_estimators", "more trees later"),
        },
    )
    config = merged.config
    assert config.search_space.models == [ModelFamily.linear, ModelFamily.random_forest]
    assert config.optimizer.kind.value == "hyperband"
    assert config.fidelity.type.value == "n_estimators" and config.fidelity.min < config.fidelity.max
    assert config.initial_design.kind.value == "random"
    assert not has_errors(lint(render_config(config)))


def test_invalid_warm_starts_are_dropped_with_a_note() -> None:
    advice, inputs, space = _setup()
    merged = merge(
        advice,
        inputs,
        space,
        {
            "warm_start": Decision(
                [
                    {
                        "model": "svm",
                        "kernel": "linear",
                        "gamma": 0.1,
                    },  # gamma is inactive with a linear kernel
                    {"model": "random_forest", "max_features": 0.30000001},
                ],
                "known good",
            )
        },
    )
    assert merged.config.initial_design.warm_start[0] == {"model": "random_forest", "max_features": 0.3}
    assert len(merged.notes) == 1 and "svm:gamma" in merged.notes[0] and "inactive" in merged.notes[0]


def test_a_lint_error_is_repaired_once(lint: Any) -> None:
    advice, inputs, space = _setup()
    first = {"n_trials": Decision(10, "few"), "initial_design_size": Decision(28, "many")}
    asked: list[list[str]] = []

    def repair(findings: list[str]) -> dict[str, Decision]:
        asked.append(findings)
        return {"initial_design_size": Decision(2, "fits 10 trials")}

    outcome = check_and_repair(advice, inputs, space, first, lint, repair, model_label="LLM (test)")
    assert len(asked) == 1 and any("MC301" in f and "initial_design.size" in f for f in asked[0])
    assert outcome.origins["initial_design_size"][0] == Origin.llm_repaired
    assert outcome.origins["n_trials"][0] == Origin.llm
    assert outcome.config.initial_design.size == 2 and outcome.config.stopping.n_trials == 10
    assert not has_errors(outcome.findings)


def test_what_still_fails_falls_back_to_the_rule_value(lint: Any) -> None:
    advice, inputs, space = _setup()
    first = {
        "n_trials": Decision(10, "few"),
        "initial_design_size": Decision(28, "many"),
        "metric": Decision("f1", "x"),
    }
    outcome = check_and_repair(
        advice, inputs, space, first, lint, lambda findings: None, model_label="LLM (test)"
    )
    config = outcome.config
    assert not has_errors(outcome.findings)
    assert outcome.origins["initial_design_size"][0] == Origin.rule
    assert "MC301" in outcome.origins["initial_design_size"][1]
    assert config.initial_design.size == advice.config.initial_design.size
    # the unrelated, valid choice stays the LLM's
    assert outcome.origins["metric"][0] == Origin.llm and config.task.metric == Metric.f1


def test_auto_sklearn_decisions_merge_lint_clean(lint: Any) -> None:
    advice, inputs, space = _setup(tool=Tool.auto_sklearn, walltime_s=600.0)
    assert set(space.decisions) <= {"metric", "models", "resampling"}
    first = {
        "models": Decision(["random_forest", "linear"], "two"),
        "resampling": Decision("cv3", "steadier"),
    }
    outcome = check_and_repair(
        advice, inputs, space, first, lint, lambda findings: None, model_label="LLM (test)"
    )
    assert not has_errors(outcome.findings)
    assert outcome.config.tool == Tool.auto_sklearn
    assert outcome.origins["resampling"][0] == Origin.llm and outcome.config.resampling.folds == 3


def test_a_prompt_too_long_for_the_context_is_truncated_and_says_so() -> None:
    from metaconf.advise.llm.errors import LLMError
    from metaconf.advise.llm.prompt import build_prompt

    advice, inputs, space = _setup()
    description = "The loans dataset. " + "Filler words about nothing in particular. " * 400 + "THE-END"
    words = lambda text: len(text.split())  # noqa: E731  (a stand-in tokenizer: one token per word)
    full = build_prompt(space, advice, inputs, description)
    assert "THE-END" in full.user and not full.notes
    limit = words(full.system + "\n" + full.user) - 1000
    short = build_prompt(space, advice, inputs, description, count_tokens=words, max_prompt_tokens=limit)
    assert words(short.system + "\n" + short.user) <= limit
    assert "THE-END" not in short.user and "description truncated" in short.user
    assert short.notes and "truncated" in short.notes[0] and "context window" in short.notes[0]
    with pytest.raises(LLMError, match="even without the description"):
        build_prompt(space, advice, inputs, description, count_tokens=words, max_prompt_tokens=50)
