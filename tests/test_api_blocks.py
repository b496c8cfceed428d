"""The API's building blocks (docs/api.md, "Building blocks"): an in-memory config runs like a file, the
objective is the run's own cost and refit, ``score`` is metaconf's scoring for any model's predictions, and
the probe, the description reader and the backends report what the commands do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score, r2_score, roc_auc_score

import metaconf
from metaconf.errors import MetaconfError, UsageError

IRIS = {"data": {"demo": "iris"}, "stopping": {"n_trials": 4}, "execution": {"seed": 3}}


def test_an_in_memory_config_runs_like_the_file_that_holds_it(tmp_path: Path) -> None:
    config = metaconf.Config.model_validate(IRIS)
    results = metaconf.run(config, base_dir=tmp_path)
    run_dir = tmp_path / "runs" / "run"  # execution.output_dir / (execution.name or "run") under base_dir
    assert results.status == "finished" and (run_dir / "results.json").exists()
    trials = metaconf.read_trials(run_dir)
    assert len(trials) == results.n_trials == 4 and [t.trial for t in trials] == [1, 2, 3, 4]

    path = tmp_path / "iris.yaml"
    path.write_text("data: {demo: iris}\nstopping: {n_trials: 4}\nexecution: {seed: 3}\n", encoding="utf-8")
    from_file = metaconf.run(path, run_dir=tmp_path / "from-file")
    assert from_file.incumbent is not None and results.incumbent is not None
    assert from_file.incumbent.config == results.incumbent.config
    assert [t.cost for t in metaconf.read_trials(tmp_path / "from-file")] == [t.cost for t in trials]


def test_an_in_memory_config_with_lint_errors_runs_nothing(tmp_path: Path) -> None:
    config = metaconf.Config.model_validate({"data": {"demo": "iris"}, "task": {"metric": "r2"}})
    with pytest.raises(UsageError, match=r"MC606 at \$\.task\.metric") as raised:
        metaconf.run(config, base_dir=tmp_path)
    assert "nothing was run" in raised.value.message
    assert not (tmp_path / "runs").exists()


def test_a_value_changed_on_the_config_object_is_what_runs(tmp_path: Path) -> None:
    """pydantic counts a nested field as set only when its model was built with it: the run must not drop
    ``config.stopping.n_trials = 3`` on a config whose ``stopping`` was never written."""
    config = metaconf.Config.model_validate({"data": {"demo": "iris"}, "execution": {"seed": 3}})
    config.stopping.n_trials = 3
    assert metaconf.run(config, base_dir=tmp_path).n_trials == 3
    config.stopping.n_trials = -1  # no validation on assignment: lint catches it before anything runs
    with pytest.raises(UsageError, match=r"MC110 at \$\.stopping\.n_trials"):
        metaconf.run(config, base_dir=tmp_path / "again")
    assert not (tmp_path / "again").exists()


def test_the_objective_is_the_run_s_cost_and_refit(tmp_path: Path) -> None:
    config = metaconf.Config.model_validate({**IRIS, "search_space": {"models": ["linear", "decision_tree"]}})
    results = metaconf.run(config, base_dir=tmp_path)
    objective = metaconf.objective(config)
    assert objective.seed == 3 and objective.metric.name == "accuracy"
    assert {"model", "linear:C"} <= set(objective.space.keys())
    incumbent = results.incumbent
    assert incumbent is not None and incumbent.test_score is not None
    default = objective.space.get_default_configuration()
    assert 0.0 <= objective.cost(default) <= objective.metric.worst_cost
    assert objective.cost(default, seed=1) == objective.cost(dict(default), seed=1)  # a dict is a configuration too
    # refitted with the estimator seed its trial ran with, the incumbent scores on the test rows what the run said
    model = objective.final_model(incumbent.config, seed=incumbent.estimator_seed or 0, validation_cost=incumbent.cost)
    test_cost = objective.test_cost(model)
    assert test_cost == pytest.approx(incumbent.test_cost)
    assert objective.metric.score(test_cost) == pytest.approx(incumbent.test_score)
    assert objective.cost(incumbent.config, seed=incumbent.estimator_seed or 0) == pytest.approx(incumbent.cost)


def test_score_is_metaconf_s_metric_for_any_model_s_predictions() -> None:
    y = [1, 0, 0, 1, 0, 0, 0, 1]
    predicted = ["1", "0", "1", "1", "0", "0", "0", "0"]  # labels match by value: 1 == "1"
    as_ints = [int(v) for v in predicted]
    assert metaconf.score(y, predicted, metric="balanced_accuracy") == pytest.approx(
        balanced_accuracy_score(y, as_ints)
    )
    # f1 of the positive class: the config's, else the minority class of the labels
    assert metaconf.score(y, predicted, metric="f1") == pytest.approx(f1_score(y, as_ints, pos_label=1))
    config = metaconf.Config.model_validate({"task": {"metric": "f1", "positive_label": 0}})
    assert metaconf.score(y, predicted, config=config) == pytest.approx(f1_score(y, as_ints, pos_label=0))
    # probabilities follow `classes`, in any order; without them a ranking metric has no score
    rng = np.random.default_rng(0)
    p1 = rng.uniform(size=len(y))
    proba = np.column_stack([p1, 1 - p1])  # columns: "1", "0"
    assert metaconf.score(y, predicted, metric="roc_auc", proba=proba, classes=["1", "0"]) == pytest.approx(
        roc_auc_score(y, p1)
    )
    assert metaconf.score(y, predicted, metric="roc_auc") is None
    # a cost matrix scores the decisions made: a miss of a 1 costs 5, a false alarm 1
    costs = metaconf.Config.model_validate(
        {"task": {"metric": "expected_cost", "cost_matrix": {"labels": [0, 1], "costs": [[0, 1], [5, 0]]}}}
    )
    assert metaconf.score(y, predicted, config=costs) == pytest.approx((1 * 1 + 1 * 5) / len(y))
    # the metric overrides the config's (its cost matrix is then not used)
    assert metaconf.score(y, predicted, config=costs, metric="balanced_accuracy") == pytest.approx(
        balanced_accuracy_score(y, as_ints)
    )
    assert metaconf.score([1.0, 2.0, 3.0], [1.1, 1.9, 3.2], metric="r2") == pytest.approx(
        r2_score([1.0, 2.0, 3.0], [1.1, 1.9, 3.2])
    )
    with pytest.raises(MetaconfError):
        metaconf.score(y, predicted)


def test_load_data_demos_and_durations() -> None:
    dataset = metaconf.load_data(metaconf.Config.model_validate({"data": {"demo": "iris"}}))
    assert dataset.X.shape == (150, 4) and dataset.task_type == "classification"
    assert "iris" in metaconf.demos() and "titanic" in metaconf.demos()
    assert metaconf.parse_duration("1h30m") == 5400.0 and metaconf.parse_duration("90s") == 90.0
    with pytest.raises(ValueError):
        metaconf.parse_duration("20 minuets")


def test_suggestion_config_is_the_config_its_text_holds(tmp_path: Path) -> None:
    suggestion = metaconf.suggest(demo="iris", budget="30s", output=tmp_path / "iris.yaml", probe=False)
    (tmp_path / "iris.yaml").write_text(suggestion.text, encoding="utf-8")
    assert suggestion.config == metaconf.load_config(tmp_path / "iris.yaml")


def test_probe_reports_the_costs_suggest_plans_with() -> None:
    config = metaconf.Config.model_validate({"data": {"demo": "breast_cancer"}})
    costs = metaconf.probe(config, limit="2s", families=["linear", "decision_tree", "random_forest"], seed=0)
    assert set(costs.seconds_per_fit) == {"linear", "decision_tree", "random_forest"}
    assert all(seconds > 0 for seconds in costs.seconds_per_fit.values())
    assert costs.measured and set(costs.measured) <= set(costs.seconds_per_fit)
    assert costs.machine_factor > 0 and costs.probe.rows == 569


def test_read_description_with_and_without_the_llm() -> None:
    text = "Missing a malignant tumour is 20 times worse than a false alarm."
    reading = metaconf.read_description(text, classes=["benign", "malignant"])
    assert reading.facts.cost_matrix.costs == ((0.0, 1.0), (20.0, 0.0)) and reading.llm is None
    llm = metaconf.open_llm("smollm2")
    assert llm.identity and llm.load_seconds > 0
    alone = llm.read(text, classes=["benign", "malignant"])
    assert alone.answers  # the model was asked
    combined = metaconf.read_description(text, classes=["benign", "malignant"], llm=llm)
    assert combined.llm is not None and combined.facts.cost_matrix.costs == ((0.0, 1.0), (20.0, 0.0))
    assert metaconf.model_file("smollm2").suffix == ".gguf"


def test_backends_report_their_environment() -> None:
    smac = metaconf.backend("smac")
    assert smac.ready and "smac" in smac.versions
    autosklearn = metaconf.backend("auto-sklearn")
    if autosklearn.ready:  # `metaconf backends install auto-sklearn` (the README's test command runs it)
        assert autosklearn.python is not None and autosklearn.python.exists()
        assert autosklearn.versions["auto-sklearn"].startswith("0.15")
        assert autosklearn.environment["OMP_NUM_THREADS"] == "1" and "PYTHONPATH" not in autosklearn.environment
    else:
        assert autosklearn.python is None and autosklearn.fix
    with pytest.raises(UsageError):
        metaconf.backend("flaml")
