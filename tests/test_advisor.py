"""The rule advisor: each rule's decision and reason on synthetic inputs, and a grid of generated configs that
must always load, be deterministic and lint without errors (with the data)."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import random
from typing import Any

import pytest
import yaml

from metaconf.advise.envelope import (
    AdvisorInputs,
    BudgetTooSmallError,
    CostModel,
    DataSummary,
    DescriptionHints,
    UserChoices,
    envelope,
)
from metaconf.advise.inputs import description_hints, space_shape
from metaconf.advise.rules import _hyperband_mean_fraction, advise, expected_trials_of
from metaconf.config.model import (
    Config,
    CostMatrix,
    FidelityType,
    InitialDesignKind,
    Metric,
    ModelFamily,
    OptimizerKind,
    ResamplingStrategy,
    Tool,
)
from metaconf.config.writer import render_config

ALL = list(ModelFamily)
CHEAP = {
    "linear": 0.01,
    "svm": 0.01,
    "random_forest": 0.15,
    "extra_trees": 0.1,
    "hist_gradient_boosting": 0.3,
    "k_nearest_neighbors": 0.01,
    "mlp": 0.5,
    "decision_tree": 0.005,
    "lightgbm": 0.15,
}


def _scaled(factor: float) -> dict[str, float]:
    return {k: v * factor for k, v in CHEAP.items()}


def _inputs(
    *,
    walltime: float = 120,
    rows: int = 569,
    classes: dict[str, int] | None = None,
    task: str = "classification",
    costs: dict[str, float] | None = None,
    cost_rows: int | None = None,
    cores: int = 2,
    memory: float | None = None,
    tool: Tool = Tool.smac,
    description: DescriptionHints | None = None,
    **user: Any,
) -> AdvisorInputs:
    if classes is None:
        classes = (
            {"benign": int(rows * 0.63), "malignant": rows - int(rows * 0.63)}
            if task == "classification"
            else {}
        )
    return AdvisorInputs(
        user=UserChoices(
            walltime_s=walltime, cores=cores, memory_mb=memory, tool=tool, demo="breast_cancer", **user
        ),
        data=DataSummary(n_rows=rows, n_features=30, task_type=task, class_counts=classes, n_numeric=30),
        costs=CostModel(costs or CHEAP, rows=cost_rows or int(rows * 0.8), source="test costs"),
        description=description or DescriptionHints(),
        space_shape=space_shape(ALL, task),
        families=ALL,
    )


def _reason(advice: Any, path: str) -> str:
    return advice.config.provenance.values[path].reason


# --- R1: walltime reserve and the budget floor ---------------------------------------------------------------


def test_search_walltime_is_budget_minus_reserve() -> None:
    env = envelope(_inputs(walltime=600))
    assert env.search_walltime_s == pytest.approx(600 - env.reserve_s)
    assert env.reserve_parts["safety margin"] == pytest.approx(30.0)
    advice = advise(_inputs(walltime=600))
    assert advice.config.stopping.walltime == int(env.search_walltime_s)
    assert "R1: 10m minus" in _reason(advice, "stopping.walltime")


def test_budget_too_small_for_one_evaluation_says_the_minimum() -> None:
    with pytest.raises(BudgetTooSmallError) as caught:
        envelope(_inputs(walltime=8))
    assert "too small" in caught.value.message
    assert "give at least" in (caught.value.hint or "")


def test_probe_time_counts_against_the_budget() -> None:
    base = envelope(_inputs(walltime=300))
    inputs = _inputs(walltime=300)
    probed = AdvisorInputs(
        user=inputs.user,
        data=inputs.data,
        costs=CostModel(CHEAP, rows=455, source="probe", probe_seconds=9.0),
        space_shape=inputs.space_shape,
        families=ALL,
    )
    assert envelope(probed).search_walltime_s == pytest.approx(base.search_walltime_s - 9.0)


def test_the_llm_s_reading_of_the_description_counts_against_the_budget() -> None:
    """`--budget` covers suggest and the run it writes: what the LLM spends reading comes off the search."""
    from dataclasses import replace

    from metaconf.advise.llm.models import REGISTRY, ReadingCost, reading_seconds

    cost = ReadingCost(load_s=1.5, first_s=10.0, next_s=7.0)
    assert [cost.seconds(q) for q in (0, 1, 2, 3)] == [1.5, 11.5, 18.5, 25.5]
    assert reading_seconds(None, 3) == 0.0
    assert REGISTRY["qwen2.5-1.5b"].reading == cost
    base = _inputs(walltime=300)
    read = replace(base, reading_s=18.5)
    assert envelope(read).search_walltime_s == pytest.approx(envelope(base).search_walltime_s - 18.5)
    assert envelope(read).reserve_parts["reading the description"] == 18.5
    assert "reading the description 18.5 s" in _reason(advise(read), "stopping.walltime")
    assert "reading the description" not in _reason(advise(base), "stopping.walltime")  # 0 s: not listed


def test_autosklearn_needs_thirty_seconds_of_search() -> None:
    with pytest.raises(BudgetTooSmallError, match="auto-sklearn needs at least 30 s"):
        envelope(_inputs(walltime=35, tool=Tool.auto_sklearn))


# --- R3 / R5: model families ---------------------------------------------------------------------------------


def test_kernel_svm_and_knn_are_left_out_on_large_data() -> None:
    env = envelope(_inputs(rows=200_000, walltime=3600, costs=_scaled(0.01), cost_rows=160_000))
    assert ModelFamily.svm in env.excluded_families
    assert ModelFamily.k_nearest_neighbors in env.excluded_families
    assert "kernel SVM" in env.excluded_families[ModelFamily.svm]


def test_a_family_too_slow_for_ten_evaluations_is_left_out() -> None:
    costs = dict(CHEAP, mlp=30.0)
    env = envelope(_inputs(walltime=120, costs=costs))
    assert ModelFamily.mlp in env.excluded_families
    assert "1/10" in env.excluded_families[ModelFamily.mlp]


def test_portfolio_shrinks_with_the_budget() -> None:
    roomy = advise(_inputs(walltime=1800))
    tight = advise(_inputs(walltime=45, costs=_scaled(30)))
    assert len(roomy.config.search_space.models or []) == 6
    assert len(tight.config.search_space.models or []) == 3
    assert "3 strongest families" in _reason(tight, "search_space.models")


def test_interpretability_wish_keeps_linear_and_trees() -> None:
    hints = DescriptionHints(
        interpretable=True, interpretable_evidence="the model must be explainable to auditors"
    )
    advice = advise(_inputs(walltime=600, description=hints))
    assert advice.config.search_space.models == [ModelFamily.linear, ModelFamily.decision_tree]
    assert "explainable to auditors" in _reason(advice, "search_space.models")


def test_user_models_are_kept_with_user_origin() -> None:
    advice = advise(_inputs(models=[ModelFamily.random_forest]))
    assert advice.config.search_space.models == [ModelFamily.random_forest]
    assert advice.config.provenance is not None
    assert advice.config.provenance.values["search_space.models"].origin.value == "user"


# --- R6: metric ------------------------------------------------------------------------------------------------


def test_cost_matrix_in_the_description_gives_expected_cost_with_the_data_spelling() -> None:
    hints = DescriptionHints(
        cost_matrix=CostMatrix(labels=["Good", "Bad"], costs=[[0, 1], [5, 0]]),
        cost_matrix_evidence="it is worse to class a customer as good when they are bad (5)",
    )
    advice = advise(_inputs(rows=1000, classes={"good": 700, "bad": 300}, description=hints))
    task = advice.config.task
    assert task.metric == Metric.expected_cost
    assert task.cost_matrix is not None
    assert task.cost_matrix.labels == ["good", "bad"]
    assert task.cost_matrix.costs == [[0, 1], [5, 0]]
    assert "worst error costs 5" in _reason(advice, "task.metric")


def test_cost_matrix_with_labels_not_in_the_data_is_not_used() -> None:
    hints = DescriptionHints(cost_matrix=CostMatrix(labels=["yes", "no"], costs=[[0, 1], [5, 0]]))
    advice = advise(_inputs(description=hints))
    assert advice.config.task.metric == Metric.accuracy


def test_strong_binary_imbalance_gives_roc_auc() -> None:
    advice = advise(_inputs(rows=1200, classes={"ok": 1100, "fraud": 100}))
    assert advice.config.task.metric == Metric.roc_auc
    assert "1100:100" in _reason(advice, "task.metric")


def test_strong_multiclass_imbalance_gives_balanced_accuracy() -> None:
    advice = advise(_inputs(rows=1000, classes={"a": 800, "b": 150, "c": 50}))
    assert advice.config.task.metric == Metric.balanced_accuracy


def test_imbalance_words_lower_the_threshold() -> None:
    classes = {"ok": 750, "rare": 250}
    assert advise(_inputs(rows=1000, classes=classes)).config.task.metric == Metric.accuracy
    said = advise(_inputs(rows=1000, classes=classes, description=DescriptionHints(imbalance=True)))
    assert said.config.task.metric == Metric.roc_auc


def test_metric_hint_f1_sets_the_minority_as_positive_label() -> None:
    advice = advise(
        _inputs(description=DescriptionHints(metric=Metric.f1, metric_evidence="we evaluate by F1"))
    )
    assert advice.config.task.metric == Metric.f1
    assert advice.config.task.positive_label == "malignant"


def test_regression_defaults_to_rmse() -> None:
    advice = advise(_inputs(task="regression", rows=442, classes={}))
    assert advice.config.task.metric == Metric.rmse
    assert advice.config.task.type.value == "regression"


def test_user_metric_wins_over_everything() -> None:
    hints = DescriptionHints(metric=Metric.f1)
    advice = advise(_inputs(metric=Metric.log_loss, description=hints))
    assert advice.config.task.metric == Metric.log_loss
    assert advice.config.provenance is not None
    assert advice.config.provenance.values["task.metric"].origin.value == "user"


# --- R7: resampling ----------------------------------------------------------------------------------------------


def test_small_data_gets_cross_validation() -> None:
    advice = advise(_inputs(rows=569, walltime=300))
    assert advice.config.resampling.strategy == ResamplingStrategy.cv
    assert advice.config.resampling.folds == 5
    assert "Kohavi 1995" in _reason(advice, "resampling.strategy")


def test_a_small_holdout_split_gets_cross_validation_up_to_3000_rows() -> None:
    # 1,047 training rows (titanic): a 33% holdout validates on 345 rows; the old 1,000-row cut gave holdout here.
    advice = advise(_inputs(rows=1309, walltime=600))
    assert advice.config.resampling.strategy == ResamplingStrategy.cv
    assert advice.config.resampling.folds == 5
    reason = _reason(advice, "resampling.strategy")
    assert "validate on only 345 rows" in reason and "standard error of up to 2.7 points" in reason
    assert "Cawley & Talbot 2010" in reason


def test_families_are_sized_by_the_evaluations_the_chosen_resampling_leaves() -> None:
    # Holdout would fit >= 30 evaluations (5 families); 3-fold CV fits fewer, so the space shrinks to 3 families.
    inputs = _inputs(rows=1309, walltime=60, costs=_scaled(8.0))
    env = envelope(inputs)
    holdout_mean = sum(env.eval_seconds[f]["holdout"] for f in ALL) / len(ALL)
    assert env.n_trials_for(holdout_mean, OptimizerKind.bo) >= 30
    advice = advise(inputs, env)
    assert advice.config.resampling.strategy == ResamplingStrategy.cv
    assert advice.config.resampling.folds == 3
    assert len(advice.config.search_space.models) == 3
    assert "3-fold CV evaluations fit the budget" in _reason(advice, "search_space.models")


def test_three_fold_cv_down_to_10_trials_with_random_search_below_15() -> None:
    # ~12 3-fold CV trials (random forest, LightGBM and the SVM: the three strongest families on small data)
    advice = advise(_inputs(rows=1309, walltime=60, costs=_scaled(16.0)))
    assert advice.config.resampling.strategy == ResamplingStrategy.cv
    assert advice.config.resampling.folds == 3
    assert advice.config.optimizer.kind == OptimizerKind.random
    assert [w["model"] for w in advice.config.initial_design.warm_start] == [
        f.value for f in advice.config.search_space.models or []
    ]


def test_cross_validation_needs_enough_trials_else_holdout() -> None:
    advice = advise(_inputs(rows=1309, walltime=60, costs=_scaled(40.0)))  # ~9 3-fold CV trials
    assert advice.config.resampling.strategy == ResamplingStrategy.holdout
    assert "CV would leave too few trials" in _reason(advice, "resampling.strategy")
    assert "holdout evaluations fit the budget" in _reason(advice, "search_space.models")


def test_folds_never_exceed_the_smallest_class() -> None:
    advice = advise(_inputs(rows=200, classes={"a": 196, "b": 4}, walltime=300))
    assert (
        advice.config.resampling.strategy == ResamplingStrategy.holdout or advice.config.resampling.folds <= 3
    )


def test_large_data_gets_holdout_with_a_bounded_validation_split() -> None:
    advice = advise(_inputs(rows=100_000, walltime=3600, costs=_scaled(0.05), cost_rows=80_000))
    assert advice.config.resampling.strategy == ResamplingStrategy.holdout
    assert advice.config.resampling.holdout_fraction == pytest.approx(0.12)


# --- R8 / R9 / R10: optimizer, fidelity, trials, initial design ----------------------------------------------


def test_cheap_trials_give_random_forest_bo_with_warm_starts() -> None:
    advice = advise(_inputs(walltime=300))
    config = advice.config
    assert config.optimizer.kind == OptimizerKind.bo
    assert config.initial_design.kind == InitialDesignKind.sobol
    assert [w["model"] for w in config.initial_design.warm_start] == [
        f.value for f in config.search_space.models or []
    ]
    assert config.initial_design.size is not None
    assert config.stopping.n_trials is not None
    assert (
        config.initial_design.size + len(config.initial_design.warm_start)
        <= config.stopping.n_trials // 4 + 5
    )


def test_the_svm_warm_start_gets_scikit_learns_scale_gamma() -> None:
    data = DataSummary(
        n_rows=569,
        n_features=30,
        task_type="classification",
        class_counts={"a": 358, "b": 211},
        n_numeric=30,
        svm_scale=(0.0333333, 30, 1.0),
    )
    inputs = _inputs(walltime=300)
    advice = advise(dataclasses.replace(inputs, data=data))
    warm = advice.config.initial_design.warm_start
    assert {"model": "svm", "gamma": 0.0333} in warm
    assert {"model": "random_forest"} in warm
    assert 'gamma="scale"' in _reason(advice, "initial_design.warm_start")
    # without a measurement the space's own default stands
    assert {"model": "svm"} in advise(inputs).config.initial_design.warm_start


def test_a_handful_of_trials_gives_random_search() -> None:
    costs = {k: 7.0 for k in CHEAP}
    advice = advise(_inputs(rows=4000, walltime=90, costs=costs, cost_rows=3200))
    assert advice.config.optimizer.kind == OptimizerKind.random
    assert "Bergstra & Bengio 2012" in _reason(advice, "optimizer.kind")
    assert advice.config.initial_design.kind == InitialDesignKind.default


def test_expensive_trials_on_large_data_give_hyperband_on_subsamples() -> None:
    # 90x the cheap costs: LightGBM leads the large-data portfolio at half the cost of the boosting it replaced
    advice = advise(_inputs(rows=60_000, walltime=1200, costs=_scaled(90), cost_rows=48_000))
    config = advice.config
    assert config.optimizer.kind == OptimizerKind.hyperband
    assert config.fidelity.type == FidelityType.subsample
    assert config.fidelity.min is not None and 0 < config.fidelity.min < 1 / 9
    assert config.fidelity.max == 1.0
    assert config.fidelity.eta == 3.0
    assert "Li et al. 2018" in _reason(advice, "optimizer.kind")


def test_one_small_continuous_family_gives_gp_bo() -> None:
    advice = advise(_inputs(models=[ModelFamily.svm], walltime=300))
    assert advice.config.optimizer.kind == OptimizerKind.bo_gp
    assert (advice.config.stopping.n_trials or 0) <= 200


def test_n_trials_follows_the_budget_and_the_trial_cost() -> None:
    short = advise(_inputs(walltime=120))
    long = advise(_inputs(walltime=1200))
    slow = advise(_inputs(walltime=1200, costs=_scaled(4)))
    assert short.expected_trials < long.expected_trials
    assert slow.expected_trials < long.expected_trials
    reason = _reason(long, "stopping.n_trials")
    assert "SMAC overhead" in reason and "test costs" in reason


def test_the_n_trials_cap_leaves_the_walltime_to_stop_the_search() -> None:
    # the probe times default configurations; BO settles on cheaper ones, so the cap must allow trials that
    # cost no more than SMAC's own overhead, while 3x the estimate still covers expensive trials
    costly = advise(_inputs(walltime=120, costs=_scaled(3)))
    search = costly.envelope.search_walltime_s
    assert costly.config.optimizer.kind == OptimizerKind.bo
    assert costly.config.stopping.n_trials == int(search / 0.25) > 3 * costly.expected_trials
    assert "only SMAC's own 0.25 s" in _reason(costly, "stopping.n_trials")
    cheap = advise(_inputs(walltime=120))
    assert cheap.config.stopping.n_trials == 3 * cheap.expected_trials > int(search / 0.25)
    assert "the cap is 3x that" in _reason(cheap, "stopping.n_trials")
    long = advise(_inputs(walltime=3600))
    assert long.config.stopping.n_trials == 3000  # the random-forest surrogate's limit
    # the warm start is sized on the trials that plausibly run, not on the cap: ~3 expected random-search
    # trials start from 2 of the 3 families' defaults
    three = [ModelFamily.linear, ModelFamily.svm, ModelFamily.random_forest]
    few = advise(_inputs(rows=4000, walltime=90, costs={k: 30.0 for k in CHEAP}, cost_rows=3200, models=three))
    assert few.config.optimizer.kind == OptimizerKind.random and few.expected_trials == 3
    assert (few.config.stopping.n_trials or 0) > 100
    assert [w["model"] for w in few.config.initial_design.warm_start] == ["linear", "svm"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"walltime": 300},
        {"walltime": 90, "rows": 4000, "costs": {k: 7.0 for k in CHEAP}, "cost_rows": 3200},
        {"rows": 60_000, "walltime": 1200, "costs": _scaled(60), "cost_rows": 48_000},
        {"models": [ModelFamily.svm], "walltime": 300},
    ],
)
def test_expected_trials_read_back_from_the_config_match_the_advice(kwargs: dict[str, Any]) -> None:
    advice = advise(_inputs(**kwargs))
    expected, _ = expected_trials_of(advice.envelope, advice.config)
    # the config's walltime is the envelope's rounded down to whole seconds
    assert expected == pytest.approx(advice.expected_trials, rel=0.03, abs=1)


def test_hyperband_mean_budget_matches_the_bracket_schedule() -> None:
    # eta=3, min=1/9: brackets 9@1/9+3@1/3+1@1, 5@1/3+1@1, 3@1 -> 22 trials costing 8.67 full evaluations
    mean, rungs = _hyperband_mean_fraction(1 / 9, 3.0)
    assert rungs == 3
    assert mean == pytest.approx((1 + 1 + 1 + 5 / 3 + 1 + 3) / 22)


# --- R11 / R12: stopping, workers, seed -----------------------------------------------------------------------


def test_per_trial_limit_covers_the_slowest_family() -> None:
    advice = advise(_inputs(walltime=600, costs=_scaled(4)))
    env = advice.envelope
    slowest = max(env.eval_seconds[f]["cv5"] for f in advice.config.search_space.models or [])
    assert advice.config.stopping.trial_walltime is not None
    assert advice.config.stopping.trial_walltime >= 2 * slowest


def test_plateau_stop_only_when_the_budget_holds_far_more_trials_than_a_short_search() -> None:
    short = advise(_inputs(walltime=90))
    assert 30 <= short.expected_trials < 200
    assert short.config.stopping.plateau_patience is None
    assert "stopping.plateau_patience" not in short.config.provenance.values
    long = advise(_inputs(walltime=3600))
    design = (long.config.initial_design.size or 0) + len(long.config.initial_design.warm_start)
    patience = long.config.stopping.plateau_patience
    assert patience is not None
    assert patience == max(100, round(0.5 * (long.expected_trials - design)))
    assert patience < (long.config.stopping.n_trials or 0) - design
    assert "50% of the" in _reason(long, "stopping.plateau_patience")


def test_memory_budget_becomes_a_per_trial_limit() -> None:
    advice = advise(_inputs(memory=8192, cores=4))
    assert advice.config.execution.workers == 3
    assert advice.config.stopping.trial_memory == pytest.approx((8192 * 0.85 - 512) // 3)


def test_two_cores_mean_one_worker() -> None:
    advice = advise(_inputs(cores=2))
    assert advice.config.execution.workers == 1
    assert "docs/advisor.md, R12" in _reason(advice, "execution.workers")


def test_seed_defaults_to_zero_and_user_seed_is_kept() -> None:
    assert advise(_inputs()).config.execution.seed == 0
    advice = advise(_inputs(seed=7))
    assert advice.config.execution.seed == 7
    assert advice.config.provenance is not None
    assert advice.config.provenance.values["execution.seed"].origin.value == "user"


def test_autosklearn_config_is_walltime_bound() -> None:
    advice = advise(_inputs(tool=Tool.auto_sklearn, walltime=300))
    config = advice.config
    assert config.tool == Tool.auto_sklearn
    assert config.stopping.n_trials is None
    assert config.stopping.trial_memory == 3072
    assert config.optimizer.kind == OptimizerKind.bo
    assert config.auto_sklearn is not None


# --- every value explained, deterministic ------------------------------------------------------------------------


def _leaf_paths(data: Any, prefix: str = "") -> list[str]:
    if isinstance(data, dict) and data:
        return [p for k, v in data.items() for p in _leaf_paths(v, f"{prefix}.{k}" if prefix else k)]
    return [prefix]


@pytest.mark.parametrize("walltime", [60, 600, 7200])
@pytest.mark.parametrize("tool", [Tool.smac, Tool.auto_sklearn])
def test_every_written_value_has_a_reason(walltime: float, tool: Tool) -> None:
    advice = advise(_inputs(walltime=walltime, tool=tool))
    assert advice.config.provenance is not None
    recorded = advice.config.provenance.values
    written = _leaf_paths(
        advice.config.model_dump(mode="json", exclude={"provenance"}, exclude_defaults=True)
    )
    for path in written:
        parts = path.split(".")
        assert any(".".join(parts[:i]) in recorded for i in range(len(parts), 0, -1)), path
    for value in recorded.values():
        assert value.reason.strip()


def test_advice_is_deterministic() -> None:
    assert render_config(advise(_inputs()).config) == render_config(advise(_inputs()).config)


def test_description_facts_adapter_reads_the_german_credit_text() -> None:
    from metaconf.advise.describe import parse_description
    from metaconf.resources import data_dir

    text = (data_dir("examples") / "german_credit_description.txt").read_text(
        encoding="utf-8"
    )
    hints = description_hints(parse_description(text, classes=["bad", "good"]))
    assert hints.cost_matrix is not None
    assert [str(label) for label in hints.cost_matrix.labels] == ["good", "bad"]
    assert hints.cost_matrix.costs == [[0, 1], [5, 0]]


# --- the grid: generated configs always load and lint clean ----------------------------------------------------


@functools.cache
def _demo_summary(demo: str) -> DataSummary:
    from metaconf.config.model import Data
    from metaconf.data.facts import DataFacts
    from metaconf.data.load import load_dataset

    facts = DataFacts.of(load_dataset(Config(data=Data(demo=demo))))
    return DataSummary(
        n_rows=facts.n_rows,
        n_features=facts.n_features,
        task_type=facts.task_type,
        class_counts=facts.class_counts,
        n_numeric=facts.n_numeric,
        n_categorical=facts.n_categorical,
    )


def _grid() -> list[tuple[Any, ...]]:
    demos = ["breast_cancer", "iris", "wine", "digits", "diabetes"]
    budgets = [25, 45, 90, 300, 1200, 4 * 3600]
    scales = [0.2, 1.0, 10.0, 60.0]
    tools = [Tool.smac, Tool.auto_sklearn]
    cores = [1, 2, 8]
    memory = [None, 4096.0]
    hints = ["none", "costs", "interpretable", "f1", "imbalance"]
    every = list(itertools.product(demos, budgets, scales, tools, cores, memory, hints))
    return random.Random(0).sample(every, 45)


GERMAN_LIKE = {
    "breast_cancer": ["benign", "malignant"],
    "iris": None,
    "wine": None,
    "digits": None,
    "diabetes": None,
}


@pytest.mark.parametrize(("demo", "walltime", "scale", "tool", "cores", "memory", "hint"), _grid())
def test_generated_configs_lint_clean_load_and_are_deterministic(
    demo: str, walltime: float, scale: float, tool: Tool, cores: int, memory: float | None, hint: str
) -> None:
    from metaconf.lint.engine import LintOptions, has_errors, lint_text

    data = _demo_summary(demo)
    labels = GERMAN_LIKE[demo]
    description = {
        "none": DescriptionHints(),
        "costs": DescriptionHints(cost_matrix=CostMatrix(labels=labels, costs=[[0, 1], [5, 0]]))
        if labels
        else DescriptionHints(),
        "interpretable": DescriptionHints(interpretable=True),
        "f1": DescriptionHints(metric=Metric.f1),
        "imbalance": DescriptionHints(imbalance=True),
    }[hint]
    families = [f for f in ALL]
    inputs = AdvisorInputs(
        user=UserChoices(walltime_s=walltime, cores=cores, memory_mb=memory, tool=tool, demo=demo),
        data=data,
        costs=CostModel(_scaled(scale), rows=int(data.n_rows * 0.8), source="grid"),
        description=description,
        space_shape=space_shape(families, data.task_type),
        families=families,
    )
    try:
        advice = advise(inputs)
    except BudgetTooSmallError:
        return  # a clear refusal is a valid answer for a budget below one evaluation
    text = render_config(advice.config)
    assert text == render_config(advise(inputs).config)
    loaded = Config.model_validate(yaml.safe_load(text))
    assert loaded == advice.config
    findings = lint_text(text, "suggested.yaml", LintOptions(data=True))
    errors = [f"{f.code} {f.pointer}: {f.message}" for f in findings if f.severity.value == "error"]
    assert not has_errors(findings), errors


def test_probe_outliers_are_shrunk_towards_the_cost_model_times_the_machine_factor() -> None:
    from types import SimpleNamespace

    from metaconf.advise.inputs import cost_model_from_probe

    def result(costs: dict[str, tuple[float, str]]) -> SimpleNamespace:
        return SimpleNamespace(
            families={
                k: SimpleNamespace(seconds=v, source=src, exponent=1.0) for k, (v, src) in costs.items()
            },
            rows=569,
            walltime_s=3.5,
            method="probe",
        )

    reference = result(
        {
            "linear": (0.1, "cost model"),
            "svm": (0.1, "cost model"),
            "random_forest": (1.0, "cost model"),
            "mlp": (1.0, "cost model"),
        }
    )
    measured = result(
        {
            "linear": (0.3, "probe"),
            "svm": (0.3, "probe"),
            "random_forest": (30.0, "probe"),
            "mlp": (1.0, "cost model"),
        }
    )
    model = cost_model_from_probe(measured, n_rows=569, measured=True, reference=reference)
    assert model.machine_factor == pytest.approx(3.0)  # median of 3, 3, 30
    assert model.fit_seconds["linear"] == pytest.approx(0.3)
    assert model.fit_seconds["random_forest"] == pytest.approx(9.0)  # 1.0 x 3 x at most 3
    # not measured: the cost model x the machine factor (its raw value is the reference machine's seconds)
    assert model.fit_seconds["mlp"] == pytest.approx(3.0)
    assert model.probe_seconds == pytest.approx(3.5)
    # The encoding's seconds (measured, the same for every family, absent from the numeric cost model) come out
    # of the ratio and back after the factor: 0.25 s of encoding in a 0.45 s fit is not a 4.5x slower machine.
    encoded = result(
        {
            "linear": (0.45, "probe"),
            "svm": (0.45, "probe"),
            "random_forest": (2.25, "probe"),
            "mlp": (1.0, "cost model"),
        }
    )
    encoded.encoding_seconds = 0.25
    model = cost_model_from_probe(encoded, n_rows=569, measured=True, reference=reference)
    assert model.machine_factor == pytest.approx(2.0)  # 0.2 / 0.1, 0.2 / 0.1, 2.0 / 1.0 (4.5, 4.5, 2.25 with it)
    assert model.fit_seconds["linear"] == pytest.approx(0.45)
    assert model.fit_seconds["mlp"] == pytest.approx(1.0 * 2.0 + 0.25)
    slow = advise(
        AdvisorInputs(
            user=UserChoices(walltime_s=600, demo="breast_cancer"),
            data=DataSummary(569, 30, "classification", {"a": 300, "b": 269}),
            costs=CostModel(CHEAP, rows=455, source="probe", machine_factor=4.0),
            space_shape=space_shape(ALL, "classification"),
            families=ALL,
        )
    )
    assert slow.envelope.overhead(OptimizerKind.bo) == pytest.approx(1.0)
    assert "4.0x the reference machine" in _reason(slow, "stopping.n_trials")
