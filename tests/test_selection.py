"""Which evaluated configuration a run keeps (``resampling.selection_margin``, metaconf/targets/selection.py): the
lowest validation cost unless an earlier configuration is within the noise of the estimate."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

import metaconf
from metaconf.report.results import config_sha256
from metaconf.targets.metrics import MetricSpec
from metaconf.targets.selection import Candidate, full_budget_candidates, select, standard_error

ACCURACY = MetricSpec("accuracy", True, False, 0.0, 1.0)


def metric(name: str, cost_matrix: tuple[tuple[float, ...], ...] | None = None) -> MetricSpec:
    return MetricSpec(name, name not in ("rmse", "mae", "log_loss", "expected_cost"), False, 0.0, 1e9,
                      cost_matrix=cost_matrix)  # fmt: skip


# ------------------------------------------------------------------------------------- standard errors
def test_the_standard_error_of_an_error_rate_is_binomial() -> None:
    assert standard_error(ACCURACY, 0.2, 400) == pytest.approx(math.sqrt(0.2 * 0.8 / 400))  # 0.02
    assert standard_error(metric("roc_auc"), 0.1, 900) == pytest.approx(0.01)
    assert standard_error(ACCURACY, 0.0, 400) == 0.0  # a perfect score has no spread left


def test_the_standard_error_of_an_expected_cost_is_the_smallest_its_costs_allow() -> None:
    german = metric("expected_cost", ((0.0, 1.0), (5.0, 0.0)))  # an error costs 1 or 5
    assert standard_error(german, 0.5, 1000) == pytest.approx(math.sqrt(0.5 * 0.5 / 1000))
    assert standard_error(german, 1.5, 1000) == 0.0  # past the smallest error cost, no bound is left
    pricier = metric("expected_cost", ((0.0, 2.0), (10.0, 0.0)))
    assert standard_error(pricier, 1.0, 1000) == pytest.approx(math.sqrt(1.0 * 1.0 / 1000))


def test_regression_errors_scale_with_the_cost() -> None:
    assert standard_error(metric("rmse"), 50.0, 200) == pytest.approx(2.5)
    assert standard_error(metric("r2"), 0.5, 200) == pytest.approx(0.05)
    assert standard_error(metric("mae"), 10.0, 100) == pytest.approx(0.7555, abs=1e-4)
    assert standard_error(metric("log_loss"), 0.4, 400) == pytest.approx(0.02)


def test_no_rows_or_no_cost_gives_no_error() -> None:
    assert standard_error(ACCURACY, 0.2, 0) == 0.0
    assert standard_error(ACCURACY, math.inf, 100) == 0.0


# ---------------------------------------------------------------------------------------------- the rule
def test_margin_zero_keeps_the_lowest_cost_and_the_earliest_of_ties() -> None:
    found = [Candidate("a", 0.20, 1), Candidate("b", 0.19, 2), Candidate("c", 0.19, 3), Candidate("d", 0.21, 4)]
    selection = select(found, margin=0.0, metric=ACCURACY, n_rows=400)
    assert selection.kept.key == "b" and selection.lowest.key == "b" and not selection.moved


def test_a_later_configuration_must_beat_the_kept_one_by_more_than_the_margin() -> None:
    # standard error of 0.20 on 400 rows: 0.02; half of it: 0.01
    within = [Candidate("default", 0.20, 1), Candidate("tuned", 0.191, 2)]
    selection = select(within, margin=0.5, metric=ACCURACY, n_rows=400)
    assert selection.kept.key == "default" and selection.lowest.key == "tuned" and selection.moved
    assert selection.margin == pytest.approx(0.01)
    beyond = [Candidate("default", 0.20, 1), Candidate("tuned", 0.189, 2)]
    assert select(beyond, margin=0.5, metric=ACCURACY, n_rows=400).kept.key == "tuned"


def test_the_bar_is_the_kept_configuration_s_so_small_steps_do_not_add_up() -> None:
    steps = [Candidate(i, 0.20 - 0.003 * i, i) for i in range(6)]  # each 0.003 better than the one before
    selection = select(steps, margin=0.5, metric=ACCURACY, n_rows=400)
    # 0.197-0.191 are within 0.01 of 0.20; 0.188 is not (kept: 4); 0.185 is within 0.0098 of 0.188
    assert selection.kept.key == 4 and selection.lowest.key == 5


def test_the_order_of_evaluation_decides_not_the_order_given() -> None:
    found = [Candidate("late", 0.195, 9.0), Candidate("early", 0.20, 1.0)]
    assert select(found, margin=0.5, metric=ACCURACY, n_rows=400).kept.key == "early"
    assert select(found, margin=0.0, metric=ACCURACY, n_rows=400).kept.key == "late"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="no configuration"):
        select([], margin=0.5, metric=ACCURACY, n_rows=10)
    with pytest.raises(ValueError, match=">= 0"):
        select([Candidate("a", 0.1, 1)], margin=-1, metric=ACCURACY, n_rows=10)


# ------------------------------------------------------------------------------------------------ a run
RUN = {
    "data": {"demo": "breast_cancer"},
    "search_space": {"models": ["linear"]},
    "resampling": {"strategy": "cv", "folds": 3},
    "stopping": {"n_trials": 14},
    "execution": {"seed": 0},
}


def _run(tmp_path: Path, name: str, margin: float) -> tuple[dict, list[float]]:
    config = metaconf.Config.model_validate({**RUN, "resampling": {**RUN["resampling"], "selection_margin": margin}})
    metaconf.run(config, base_dir=tmp_path, run_dir=tmp_path / name)
    results = json.loads((tmp_path / name / "results.json").read_text(encoding="utf-8"))
    costs = [t.cost for t in metaconf.read_trials(tmp_path / name) if t.status == "success"]
    return results, costs


def test_a_run_keeps_the_first_configuration_within_the_margin_and_says_so(tmp_path: Path) -> None:
    lowest, lowest_costs = _run(tmp_path, "lowest", 0.0)
    assert lowest["incumbent"]["cost"] == pytest.approx(min(lowest_costs))
    assert "selection" not in lowest["incumbent"]

    # a margin of 10 standard errors: no linear model on breast cancer beats the first evaluated one by that much
    kept, costs = _run(tmp_path, "kept", 10.0)
    assert costs == lowest_costs  # the search is the same; only the choice after it differs
    assert kept["incumbent"]["cost"] == pytest.approx(costs[0]) and costs[0] > min(costs)
    assert kept["incumbent"]["config"] != lowest["incumbent"]["config"]
    selection = kept["incumbent"]["selection"]
    assert selection["lowest_cost_config"] == lowest["incumbent"]["config"]
    assert selection["lowest_cost"] == pytest.approx(min(costs))
    assert selection["margin"] > kept["incumbent"]["cost"] - min(costs)
    why = selection["why"]
    assert "`resampling.selection_margin`" in why and "10 standard errors" in why and "validation rows" in why
    assert kept["incumbent"]["test_score"] is not None

    # the summary `metaconf run` / `metaconf report` print: the search's best cost, and why another was kept
    from rich.console import Console

    from metaconf.report.results import read_results
    from metaconf.report.summary import summary_table

    console = Console(width=300, record=True)
    console.print(summary_table(read_results(tmp_path / "kept")))
    text = console.export_text()
    (best,) = [line for line in text.splitlines() if "best cost (search)" in line]
    assert f"{min(costs):.4g}" in best and "lower by less than the selection margin" in text
    console.print(summary_table(read_results(tmp_path / "lowest")))
    assert console.export_text().count("selection_margin") == 0


def test_the_margin_does_not_change_the_run_s_identity() -> None:
    """Which configuration is kept is decided after the search: a run resumes under another margin."""
    a = metaconf.Config.model_validate(RUN)
    b = metaconf.Config.model_validate({**RUN, "resampling": {**RUN["resampling"], "selection_margin": 0}})
    assert a.resampling.selection_margin == 0.5
    assert config_sha256(a) == config_sha256(b)


def test_candidates_are_the_configurations_at_the_highest_budget_with_their_mean_cost() -> None:
    trials = [
        (1, 3.0, 0.30, 5.0),
        (2, 9.0, 0.20, 7.0),
        (1, 9.0, 0.25, 8.0),
        (2, 9.0, 0.30, 2.0),  # the same configuration, another seed: its costs are averaged, its first end kept
        (3, 9.0, math.inf, 9.0),  # no finite cost: not a candidate
    ]
    found = {c.key: c for c in full_budget_candidates(trials)}
    assert set(found) == {1, 2}
    assert found[1] == Candidate(1, 0.25, 8.0) and found[2] == Candidate(2, pytest.approx(0.25), 2.0)
    assert [c.key for c in full_budget_candidates([(7, None, 0.1, 1.0)])] == [7]  # full fidelity: budget None


def test_the_replay_benchmark_scores_margin_zero_as_the_saved_model(tmp_path: Path) -> None:
    """benchmarks/components/selection_replay.py on a run laid out as benchmarks/peers.py lays one out: margin 0
    is the saved model (the same fit, the same test rows), and a large margin keeps the first configuration."""
    import joblib
    from benchmark_module import load_benchmark
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    replay = load_benchmark("components/selection_replay")
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    train, test = train_test_split(frame, test_size=0.25, random_state=0, stratify=frame["y"])
    data = tmp_path / "data" / "bc-seed0"
    data.mkdir(parents=True)
    train.to_csv(data / "train.csv", index=False)
    test.to_csv(data / "test.csv", index=False)
    cell = tmp_path / "runs" / "60s" / "bc-seed0"
    (cell / "metaconf").mkdir(parents=True)
    config = metaconf.Config.model_validate(
        {
            **RUN,
            "data": {"path": "../../../../data/bc-seed0/train.csv"},
            "task": {"target": "y"},
            "resampling": {**RUN["resampling"], "selection_margin": 0},  # the saved model is margin 0's
        }
    )
    metaconf.run(config, base_dir=cell / "metaconf", run_dir=cell / "metaconf" / "runs" / "metaconf", save_model=True)
    saved = joblib.load(cell / "metaconf" / "runs" / "metaconf" / "model.joblib")
    expected = replay.headline_score("binary", test["y"].tolist(), list(saved.predict(test.drop(columns=["y"]))))

    row = replay.replay(cell, [0.0, 10.0])
    assert row["0"]["score"] == pytest.approx(expected)
    assert row["10"]["position"] == 0 and row["0"]["position"] > 0
    assert row["ran_with"] == 0  # the run set selection_margin: 0
    # the margin comes from the keys the run's config.yaml set: another value is read as such, and a config
    # from before the setting existed (no key, so the default 0.5 if parsed) counts as margin 0
    saved_config = cell / "metaconf" / "runs" / "metaconf" / "config.yaml"
    text = saved_config.read_text(encoding="utf-8")
    line = re.compile(r"^  selection_margin: [0-9.]+\n", re.MULTILINE)
    assert len(line.findall(text)) == 1
    saved_config.write_text(line.sub("  selection_margin: 10\n", text), encoding="utf-8")
    assert replay.replay(cell, [0.0])["ran_with"] == 10
    saved_config.write_text(line.sub("", text), encoding="utf-8")
    assert replay.replay(cell, [0.0])["ran_with"] == 0


def test_a_failing_selection_leaves_smac_s_incumbent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: whatever goes wrong in the selection, the run keeps SMAC's incumbent and its scores."""
    import metaconf.targets.selection as selection_module

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(selection_module, "select", broken)
    config = metaconf.Config.model_validate({**RUN, "stopping": {"n_trials": 5}})
    results = metaconf.run(config, base_dir=tmp_path)
    costs = [t.cost for t in metaconf.read_trials(tmp_path / "runs" / "run") if t.status == "success"]
    assert results.incumbent is not None and results.incumbent.selection is None
    assert results.incumbent.cost == pytest.approx(min(costs)) and results.incumbent.test_score is not None
