"""The commented-YAML writer: modeline first, field order, reasons as comments, human units, determinism."""

from __future__ import annotations

import yaml

from metaconf.config.loader import load_text
from metaconf.config.model import (
    Budget,
    Config,
    CostMatrix,
    Data,
    InitialDesign,
    Provenance,
    SearchSpace,
    Stopping,
    Task,
    ValueProvenance,
)
from metaconf.config.schema import modeline
from metaconf.config.writer import LINE_WIDTH, render_config


def _config() -> Config:
    return Config(
        task=Task(
            target="creditability",
            metric="expected_cost",
            cost_matrix=CostMatrix(labels=["good", "bad"], costs=[[0, 1], [5, 0]]),
        ),
        data=Data(path="german.csv"),
        budget=Budget(walltime="20m", cores=2, memory="8GB"),
        search_space=SearchSpace(models=["random_forest", "linear"]),
        initial_design=InitialDesign(
            size=10, warm_start=[{"model": "random_forest"}, {"model": "linear", "linear:C": 1.0}]
        ),
        stopping=Stopping(walltime=1000, n_trials=200, trial_memory=2048, trial_walltime=30),
    )


def _provenance() -> Provenance:
    long_reason = (
        "R9: 1100 s of search x 1 worker(s) / (4.1 s per evaluation + 0.25 s SMAC overhead) = ~250 trials; the "
        "cap is 1.5x that because costs differ by family, so the walltime is what stops the run"
    )
    return Provenance(
        advisor="rules",
        values={
            "stopping.n_trials": ValueProvenance(origin="rule", reason=long_reason),
            "budget.walltime": ValueProvenance(origin="user", reason="you gave --budget 20m"),
            "search_space": ValueProvenance(origin="rule", reason="families that fit the data"),
        },
        inputs={"budget": {"walltime": "20m"}},
    )


def test_modeline_comes_first_and_header_follows() -> None:
    text = render_config(_config(), _provenance())
    lines = text.splitlines()
    assert lines[0] == modeline()
    assert lines[1].startswith("# Written by `metaconf suggest`")


def test_round_trips_to_the_same_config() -> None:
    config = _config()
    provenance = _provenance()
    text = render_config(config, provenance)
    loaded = Config.model_validate(yaml.safe_load(text))
    assert loaded == config.model_copy(update={"provenance": provenance})


def test_same_input_gives_byte_identical_output() -> None:
    assert render_config(_config(), _provenance()) == render_config(_config(), _provenance())


def test_sections_follow_the_model_field_order() -> None:
    text = render_config(_config(), _provenance())
    top = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    order = list(Config.model_fields)
    assert top == sorted(top, key=order.index)
    assert top[-1] == "provenance"


def test_reason_is_a_wrapped_comment_right_above_its_key() -> None:
    text = render_config(_config(), _provenance())
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("n_trials:"))
    comments = []
    probe = index - 1
    while lines[probe].strip().startswith("#"):
        comments.insert(0, lines[probe].strip().lstrip("# "))
        probe -= 1
    assert len(comments) >= 2, "the long reason is wrapped over several lines"
    assert " ".join(comments).startswith("R9: 1100 s of search")
    assert all(
        len(line) <= LINE_WIDTH for line in lines if line.lstrip().startswith("#") and "$schema" not in line
    )
    # a section reason is written above the section, without pulling in its default values
    section = next(i for i, line in enumerate(lines) if line == "search_space:")
    assert lines[section - 1] == "# families that fit the data"
    assert "overrides" not in text


def test_human_units_for_durations_and_memory() -> None:
    text = render_config(_config(), _provenance())
    assert "walltime: 20m" in text
    assert "memory: 8GB" in text
    assert "walltime: 16m40s" in text
    assert "trial_memory: 2GB" in text
    assert "trial_walltime: 30s" in text


def test_only_non_default_and_key_values_are_written() -> None:
    text = render_config(Config(data=Data(demo="iris"), budget=Budget(walltime=60)))
    document = load_text(text)
    assert document.get(("tool",)) == "smac"
    assert document.get(("optimizer", "kind")) == "bo"
    assert document.get(("execution",)) is None or "output_dir" not in document.get(("execution",))
    assert not document.has(("resampling",))
    assert not document.has(("fidelity",))
    assert "null" not in text


def test_nested_lists_are_flow_and_dict_lists_are_block() -> None:
    text = render_config(_config(), _provenance())
    assert "costs: [[0.0, 1.0], [5.0, 0.0]]" in text
    assert "    - model: random_forest" in text
    assert "      'linear:C': 1.0" in text or "      linear:C: 1.0" in text


def test_yaml_special_strings_are_quoted() -> None:
    config = Config(task=Task(target="yes", positive_label="1.0"), data=Data(path="data: 1.csv"))
    loaded = yaml.safe_load(render_config(config))
    assert loaded["task"]["target"] == "yes"
    assert loaded["task"]["positive_label"] == "1.0"
    assert loaded["data"]["path"] == "data: 1.csv"


def test_provenance_block_is_last_and_loads() -> None:
    text = render_config(_config(), _provenance())
    loaded = yaml.safe_load(text)
    assert loaded["provenance"]["values"]["stopping.n_trials"]["origin"] == "rule"
    assert list(loaded)[-1] == "provenance"


def test_without_provenance_there_is_no_provenance_block() -> None:
    text = render_config(_config())
    assert "provenance" not in yaml.safe_load(text)
