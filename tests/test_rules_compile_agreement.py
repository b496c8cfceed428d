"""Lint, the compilers and the evaluator agree: every config they refuse is an *error* finding of a specific rule,
with the position of the key to change, before anything runs; configs the compilers accept get no error from
the rules that mirror them."""

from __future__ import annotations

import textwrap

import pytest

from metaconf.config.loader import load_text
from metaconf.config.model import Config
from metaconf.errors import UsageError
from metaconf.lint.engine import LintOptions, lint_text
from metaconf.lint.finding import Severity


def compile_config(text: str) -> None:
    config = Config.model_validate(load_text(text).data)
    if config.tool.value == "auto-sklearn":
        from metaconf.targets.autosklearn.compile import compile_autosklearn

        compile_autosklearn(config, run_dir="runs/x", seed=0)
    else:
        from metaconf.space.builtin import build_space
        from metaconf.targets.smac.compile import compile_smac

        compile_smac(config, build_space(config), run_dir="runs/x")


def errors(text: str) -> dict[str, tuple[int, int]]:
    """Error findings of the config-level rules (MC3xx-MC8xx): code -> line:col."""
    found = lint_text(text, "c.yaml", LintOptions(select=["MC3", "MC4", "MC5", "MC6", "MC7", "MC8"]))
    return {f.code: (f.span.line, f.span.col) for f in found if f.severity == Severity.error}


REFUSED = {
    "eta-one": ("MC403", 5, 8, "optimizer: {kind: hyperband}\nfidelity:\n  type: subsample\n  min: 0.1\n  eta: 1\n"),
    "min-above-max": (
        "MC402",
        4,
        8,
        "optimizer: {kind: hyperband}\nfidelity:\n  type: n_estimators\n  min: 300\n  max: 100\n",
    ),
    "subsample-above-one": (
        "MC404",
        4,
        8,
        "optimizer: {kind: successive_halving}\nfidelity:\n  type: subsample\n  max: 2\n",
    ),
    "fewer-than-one-tree": (
        "MC404",
        4,
        8,
        "optimizer: {kind: hyperband}\nfidelity:\n  type: n_estimators\n  min: 0.5\n  max: 100\n",
    ),
    "more-folds-than-cv": (
        "MC404",
        4,
        8,
        "optimizer: {kind: hyperband}\nfidelity:\n  type: cv_folds\n  max: 10\nresampling: {strategy: cv, folds: 5}\n",
    ),
    "zero-trials": ("MC307", 2, 13, "stopping:\n  n_trials: 0\n"),
    "infinite-crash-cost": ("MC502", 2, 15, "stopping:\n  crash_cost: .inf\n"),
    "autosklearn-20s": ("MC801", 3, 13, "tool: auto-sklearn\nstopping:\n  walltime: 20s\n"),
    "autosklearn-budget-28s": ("MC801", 3, 13, "tool: auto-sklearn\nbudget:\n  walltime: 28s\n"),
    "autosklearn-hyperband": ("MC811", 2, 19, "tool: auto-sklearn\noptimizer: {kind: hyperband}\n"),
    "autosklearn-warm-start": ("MC811", 3, 3, "tool: auto-sklearn\ninitial_design:\n  warm_start: [{C: 1}]\n"),
    "autosklearn-cputime": ("MC811", 3, 3, "tool: auto-sklearn\nstopping:\n  cputime: 10m\n"),
    "autosklearn-include-exclude": (
        "MC806",
        6,
        5,
        "tool: auto-sklearn\nauto_sklearn:\n  include:\n    classifier: [mlp]\n  exclude:\n    classifier: [sgd]\n",
    ),
    "autosklearn-unknown-classifier": (
        "MC807",
        4,
        18,
        "tool: auto-sklearn\nauto_sklearn:\n  include:\n    classifier: [randomforest]\n",
    ),
    "autosklearn-regressor-under-classification": (
        "MC807",
        4,
        5,
        "tool: auto-sklearn\nauto_sklearn:\n  include:\n    regressor: [random_forest]\n",
    ),
    "autosklearn-empty-include": (
        "MC807",
        4,
        17,
        "tool: auto-sklearn\nauto_sklearn:\n  include:\n    classifier: []\n",
    ),
    "autosklearn-scenario-typo": (
        "MC808",
        4,
        5,
        "tool: auto-sklearn\nauto_sklearn:\n  smac_scenario_args:\n    runcount_limt: 50\n",
    ),
    "autosklearn-sobol-incumbent": (
        "MC808",
        4,
        24,
        "tool: auto-sklearn\nauto_sklearn:\n  smac_scenario_args:\n    initial_incumbent: SOBOL\n",
    ),
    "autosklearn-metalearning": (
        "MC805",
        5,
        25,
        "tool: auto-sklearn\nstopping:\n  n_trials: 10\nauto_sklearn:\n  metalearning_configs: 25\n",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_what_a_compiler_refuses_is_a_positioned_lint_error(case: str) -> None:
    code, line, col, text = REFUSED[case]
    with pytest.raises(UsageError):
        compile_config(text)
    found = errors(text)
    assert code in found, f"{case}: expected an {code} error, got {found}"
    assert found[code] == (line, col), f"{case}: {code} at {found[code]}, expected {line}:{col}"


ACCEPTED = {
    "hyperband-defaults": "optimizer: {kind: hyperband}\nfidelity: {type: subsample}\nstopping: {n_trials: 60}\n",
    "hyperband-trees": "optimizer: {kind: hyperband}\nfidelity: {type: n_estimators, min: 10, max: 270}\n",
    "bo-plain": "budget: {walltime: 10m}\nstopping: {n_trials: 50, trial_walltime: 30s}\nexecution: {seed: 1}\n",
    "autosklearn-plain": "tool: auto-sklearn\nbudget: {walltime: 2m}\nstopping: {trial_walltime: 20s}\n",
    "autosklearn-small-runcount": "tool: auto-sklearn\nstopping: {walltime: 1m, n_trials: 5}\n",
    "autosklearn-include": "tool: auto-sklearn\nauto_sklearn:\n  include: {classifier: [random_forest, mlp]}\n",
}


@pytest.mark.parametrize("case", list(ACCEPTED), ids=list(ACCEPTED))
def test_what_the_compilers_accept_has_no_lint_error(case: str) -> None:
    text = textwrap.dedent(ACCEPTED[case])
    compile_config(text)
    assert errors(text) == {}


def build_evaluator(text: str) -> None:
    from metaconf.data.load import load_dataset
    from metaconf.targets.evaluate import Evaluator

    config = Config.model_validate(load_text(text).data)
    Evaluator(config, load_dataset(config), seed=0)


def data_errors(text: str) -> set[str]:
    found = lint_text(text, "c.yaml", LintOptions(select=["MC3", "MC4", "MC5", "MC6", "MC7", "MC8", "MC9"], data=True))
    return {f.code for f in found if f.severity == Severity.error}


EVALUATOR_REFUSED = {
    "folds-above-rows": ("MC906", "data: {demo: iris, sample_rows: 12}\nresampling: {strategy: cv, folds: 20}\n"),
    "test-split-takes-all": ("MC906", "data: {demo: iris, sample_rows: 4, test_size: 0.9}\n"),
    "holdout-takes-all": ("MC906", "data: {demo: iris, sample_rows: 4}\nresampling: {holdout_fraction: 0.9}\n"),
    "cv-fidelity-above-rows": (
        "MC906",
        "data: {demo: iris, sample_rows: 12}\noptimizer: {kind: hyperband}\nfidelity: {type: cv_folds, max: 40}\n",
    ),
    "cost-matrix-label": (
        "MC901",
        "data: {demo: breast_cancer}\ntask:\n  metric: expected_cost\n"
        "  cost_matrix: {labels: [benign, cancer], costs: [[0, 1], [5, 0]]}\n",
    ),
    "positive-label": ("MC902", "data: {demo: breast_cancer}\ntask: {metric: f1, positive_label: 1}\n"),
}


@pytest.mark.parametrize("case", list(EVALUATOR_REFUSED), ids=list(EVALUATOR_REFUSED))
def test_what_the_evaluator_refuses_is_a_lint_error(case: str) -> None:
    code, text = EVALUATOR_REFUSED[case]
    with pytest.raises(UsageError):
        build_evaluator(text)
    assert code in data_errors(text)


EVALUATOR_ACCEPTED = {
    "iris-defaults": "data: {demo: iris}\n",
    "few-rows-few-folds": "data: {demo: iris, sample_rows: 12}\nresampling: {strategy: cv, folds: 3}\n",
    "singleton-classes-fall-back": "data: {demo: iris, sample_rows: 4}\n",
    "tiny-test-split-falls-back": "data: {demo: iris, test_size: 0.01}\n",
    "folds-above-a-class": "data: {demo: iris, sample_rows: 30}\nresampling: {strategy: cv, folds: 10}\n",
}


@pytest.mark.parametrize("case", list(EVALUATOR_ACCEPTED), ids=list(EVALUATOR_ACCEPTED))
def test_what_the_evaluator_accepts_has_no_data_error(case: str) -> None:
    text = EVALUATOR_ACCEPTED[case]
    build_evaluator(text)
    assert data_errors(text) == set()
