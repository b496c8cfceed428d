"""The MC3xx-MC9xx rules never crash: any config the schema accepts, with extreme but legal values, lints to
findings (possibly none), never to an exception. Rules run unguarded inside `metaconf lint`, so a crash here
would be a traceback for the user."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metaconf.lint.catalog import all_rules
from metaconf.lint.engine import LintOptions, lint_text

MINE = [code for code in all_rules() if code[2] in "345678" or (code[2] == "9" and code != "MC900")]

durations = st.one_of(st.sampled_from([0, 0.2, 1, 29, 30, 600, "1h", "90s", "0.5s"]), st.integers(0, 10**6))
memories = st.one_of(st.sampled_from(["512MB", "1GB", "4GB", 0, 1, 2048]), st.integers(0, 4 * 10**9))
small_ints = st.integers(-3, 400)
fractions = st.sampled_from([0.0, 0.01, 0.1, 0.33, 0.5, 0.9, 1.0, 1.5, 10.0, -1.0])
labels = st.sampled_from(["good", "bad", "setosa", "virginica", "malignant", 1, 0, True])


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def section(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping holding any subset of ``fields`` (absent keys stay unwritten)."""
    return st.fixed_dictionaries({}, optional=fields)


configs = st.fixed_dictionaries(
    {},
    optional={
        "tool": st.sampled_from(["smac", "auto-sklearn"]),
        "task": section(
            type=st.sampled_from(["classification", "regression"]),
            metric=st.sampled_from(
                ["accuracy", "balanced_accuracy", "roc_auc", "log_loss", "f1", "expected_cost", "rmse", "mae", "r2"]
            ),
            positive_label=labels,
            cost_matrix=st.fixed_dictionaries(
                {
                    "labels": st.lists(labels, min_size=2, max_size=3),
                    "costs": st.lists(st.lists(st.sampled_from([0, 1, 5, -1]), max_size=3), max_size=3),
                }
            ),
        ),
        "budget": section(walltime=durations, cores=st.integers(1, 64), memory=memories),
        "search_space": section(
            models=st.lists(st.sampled_from(["svm", "mlp", "random_forest", "k_nearest_neighbors", "linear"]), max_size=3)
        ),
        "optimizer": section(kind=st.sampled_from(["bo", "bo_gp", "random", "hyperband", "successive_halving"])),
        "fidelity": section(
            type=st.sampled_from(["none", "subsample", "n_estimators", "max_iter", "cv_folds"]),
            min=maybe(fractions),
            max=maybe(st.sampled_from([0.5, 1.0, 3, 10, 300])),
            eta=maybe(st.sampled_from([-1, 0, 0.5, 1, 2, 3, 100])),
        ),
        "initial_design": section(
            kind=st.sampled_from(["sobol", "random", "default"]),
            size=st.integers(0, 500),
            per_hyperparameter=st.integers(0, 20),
            max_ratio=st.sampled_from([0.01, 0.25, 1.0]),
            warm_start=st.lists(st.just({"C": 1.0}), max_size=6),
        ),
        "stopping": section(
            walltime=durations,
            n_trials=small_ints,
            plateau_patience=st.integers(1, 500),
            plateau_min_delta=st.sampled_from([0.0, 0.01]),
            cost_threshold=st.sampled_from([-1.0, 0.0, 0.05, 0.95, 2.0, 1e9]),
            cputime=durations,
            trial_walltime=durations,
            trial_memory=memories,
            crash_cost=st.sampled_from([-1.0, 0.0, 0.5, 1.0, 1e9, float("inf")]),
        ),
        "resampling": section(
            strategy=st.sampled_from(["holdout", "cv"]),
            holdout_fraction=st.sampled_from([0.01, 0.33, 0.9]),
            folds=st.integers(2, 100),
            stratify=st.booleans(),
        ),
        "execution": section(
            workers=st.integers(1, 16), dask_scheduler=st.just("tcp://127.0.0.1:8786"), seed=st.integers(0, 5)
        ),
        "auto_sklearn": section(
            ensemble_size=st.integers(0, 50),
            metalearning_configs=st.integers(0, 50),
            include=st.dictionaries(
                st.sampled_from(["classifier", "regressor", "balancing"]),
                st.lists(st.sampled_from(["random_forest", "mlp", "randomforest", "sgd"]), max_size=2),
                max_size=2,
            ),
            exclude=st.dictionaries(st.sampled_from(["classifier", "feature_preprocessor"]), st.just(["pca"]), max_size=1),
            smac_scenario_args=st.dictionaries(
                st.sampled_from(["runcount_limit", "runcount_limt", "cutoff", "initial_incumbent", "cs"]),
                st.sampled_from([5, "SOBOL", "DEFAULT"]),
                max_size=2,
            ),
        ),
    },
)


def to_yaml(config: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(config, sort_keys=False)  # writes float("inf") as `.inf`


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_rules_never_crash_without_data(config: dict[str, Any]) -> None:
    lint_text(to_yaml(config), "fuzz.yaml", LintOptions(select=MINE))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs, st.sampled_from(["iris", "diabetes", "breast_cancer"]), st.sampled_from([None, 4, 30]))
def test_rules_never_crash_with_data(config: dict[str, Any], demo: str, sample_rows: int | None) -> None:
    data: dict[str, Any] = {"demo": demo}
    if sample_rows is not None:
        data["sample_rows"] = sample_rows
    lint_text(to_yaml({**config, "data": data}), "fuzz.yaml", LintOptions(select=MINE, data=True))
