"""Built-in model search spaces: shape, overrides, estimators, warm-start normalisation."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from ConfigSpace import EqualsCondition
from ConfigSpace.hyperparameters import CategoricalHyperparameter, Constant
from sklearn.base import BaseEstimator
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from metaconf.config.model import Config, ModelFamily
from metaconf.errors import UsageError
from metaconf.space.builtin import (
    FAMILY_SPECS,
    MODEL,
    build_space,
    builtin_space_bounds,
    families_for,
    fidelity_families,
    fidelity_range,
    needs_scaling,
    plain_values,
)
from metaconf.space.configurations import normalize_warm_start, to_configuration
from metaconf.space.errors import SpaceError, SpaceProblem
from metaconf.space.estimators import make_estimator

TASKS = ("classification", "regression")


def config(**search_space: Any) -> Config:
    task = search_space.pop("task", "classification")
    seed = search_space.pop("seed", None)
    return Config.model_validate(
        {"task": {"type": task}, "search_space": search_space, "execution": {"seed": seed}}
    )


@pytest.fixture(scope="module")
def tiny_data() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    xc, yc = make_classification(60, 5, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    xr, yr = make_regression(60, 5, noise=0.1, random_state=0)
    return {
        "classification": (StandardScaler().fit_transform(xc), yc),
        "regression": (StandardScaler().fit_transform(xr), yr),
    }


def test_every_family_fits_every_task() -> None:
    for task in TASKS:
        assert families_for(task) == list(ModelFamily)
        for family in ModelFamily:
            assert task in FAMILY_SPECS[family]


def test_unknown_task_type_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="Unknown task type `ranking`"):
        families_for("ranking")


def test_combined_space_has_model_choice_and_conditional_prefixed_hyperparameters() -> None:
    space = build_space(config())
    model = space[MODEL]
    assert isinstance(model, CategoricalHyperparameter)
    assert list(model.choices) == [f.value for f in ModelFamily]
    assert model.default_value == "random_forest"
    for name in space:
        if name == MODEL:
            continue
        family, _, param = name.partition(":")
        assert family in model.choices and param
        parents = [p.name for p in space.parents_of[name]]
        # every hyperparameter hangs off `model`, directly or through a sibling (svm:gamma | svm:kernel)
        assert parents == [MODEL] or all(p.startswith(family + ":") for p in parents), name
    assert [p.name for p in space.parents_of["svm:gamma"]] == ["svm:kernel"]
    for configuration in space.sample_configuration(40):
        values = dict(configuration)
        assert all(key == MODEL or key.startswith(values[MODEL] + ":") for key in values)


def test_family_sizes_stay_moderate() -> None:
    # a conditional hyperparameter (lightgbm's subsample under subsample_freq) only counts where its parent is set
    for family in ModelFamily:
        for task in TASKS:
            specs = FAMILY_SPECS[family][task].hyperparameters
            assert 1 <= sum(spec.active_if is None for spec in specs) <= 8


def test_single_family_has_constant_model_and_unconditional_hyperparameters() -> None:
    space = build_space(config(models=["random_forest"]))
    assert isinstance(space[MODEL], Constant)
    assert space.conditions == []
    assert set(space) == {MODEL} | {
        f"random_forest:{h.name}"
        for h in FAMILY_SPECS[ModelFamily.random_forest]["classification"].hyperparameters
    }


def test_log_scale_for_scale_parameters() -> None:
    space = build_space(config(models=["svm", "mlp", "hist_gradient_boosting", "linear"]))
    for name in (
        "svm:C",
        "svm:gamma",
        "mlp:alpha",
        "mlp:learning_rate_init",
        "hist_gradient_boosting:learning_rate",
        "linear:C",
    ):
        assert space[name].log, name


def test_space_is_seeded_from_execution_seed() -> None:
    first = [dict(c) for c in build_space(config(seed=7)).sample_configuration(5)]
    again = [dict(c) for c in build_space(config(seed=7)).sample_configuration(5)]
    other = [dict(c) for c in build_space(config(seed=8)).sample_configuration(5)]
    assert first == again
    assert first != other


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("family", list(ModelFamily), ids=lambda f: f.value)
def test_thirty_sampled_configurations_fit_without_error(
    task: str, family: ModelFamily, tiny_data: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    x, y = tiny_data[task]
    space = build_space(config(models=[family.value], task=task, seed=3))
    fidelity = "n_estimators" if family in fidelity_families("n_estimators") else "max_iter"
    for configuration in space.sample_configuration(30):
        # low fidelity keeps the test fast; every other argument is as sampled
        estimator = make_estimator(
            configuration,
            task,
            seed=0,
            fidelity=fidelity,
            fidelity_value=10,
            needs_proba=True,
            n_samples=len(x),
        )
        # one BLAS/OpenMP thread, as in a trial: HGB and MLP are 10-60x slower oversubscribed on 2 busy cores
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            estimator.fit(x, y)
            if task == "classification":
                proba = estimator.predict_proba(x)
                assert proba.shape == (len(x), 3)
            assert np.all(np.isfinite(estimator.predict(x).astype(float)))


def test_make_estimator_sets_seed_and_single_job_and_converts_numpy_scalars() -> None:
    values = {
        MODEL: np.str_("random_forest"),
        "random_forest:bootstrap": np.False_,
        "random_forest:min_samples_leaf": np.int64(3),
    }
    estimator = make_estimator(values, "classification", seed=11)
    params = estimator.get_params()
    assert type(estimator).__name__ == "RandomForestClassifier"
    assert params["n_jobs"] == 1 and params["random_state"] == 11
    assert params["bootstrap"] is False and type(params["min_samples_leaf"]) is int
    assert params["n_estimators"] == 100


def test_make_estimator_builds_mlp_layers_and_regressors() -> None:
    mlp = make_estimator({MODEL: "mlp", "mlp:n_layers": 2, "mlp:n_units": 32}, "regression", seed=0)
    assert type(mlp).__name__ == "TransformedTargetRegressor"  # fitted to the standardised target
    assert type(mlp.regressor).__name__ == "MLPRegressor"
    assert mlp.regressor.get_params()["hidden_layer_sizes"] == (32, 32)
    ridge = make_estimator({MODEL: "linear", "linear:alpha": 0.5}, "regression", seed=0)
    assert type(ridge).__name__ == "Ridge" and ridge.get_params()["alpha"] == 0.5


def test_fidelity_sets_the_budget_argument_only_where_it_is_a_budget() -> None:
    forest = make_estimator(
        {MODEL: "extra_trees"}, "regression", seed=0, fidelity="n_estimators", fidelity_value=27.4
    )
    assert forest.get_params()["n_estimators"] == 27
    hgb = make_estimator(
        {MODEL: "hist_gradient_boosting"}, "classification", seed=0, fidelity="max_iter", fidelity_value=12
    )
    assert hgb.get_params()["max_iter"] == 12 and hgb.get_params()["early_stopping"] is False
    knn = make_estimator(
        {MODEL: "k_nearest_neighbors"}, "classification", seed=0, fidelity="max_iter", fidelity_value=12
    )
    assert "max_iter" not in knn.get_params()
    ridge = make_estimator({MODEL: "linear"}, "regression", seed=0, fidelity="max_iter", fidelity_value=12)
    assert ridge.get_params()["max_iter"] is None  # Ridge's solver ignores it: not a budget


def test_fidelity_families_and_ranges() -> None:
    assert fidelity_families("n_estimators") == {ModelFamily.random_forest, ModelFamily.extra_trees}
    assert ModelFamily.linear in fidelity_families("max_iter", "classification")
    assert ModelFamily.linear not in fidelity_families("max_iter", "regression")
    assert fidelity_families("subsample") == set()
    low, high = fidelity_range("max_iter")
    assert 1 <= low < high
    with pytest.raises(UsageError, match="not an estimator-argument fidelity"):
        fidelity_range("subsample")


def test_svm_probabilities_only_when_asked() -> None:
    plain = make_estimator({MODEL: "svm", "svm:kernel": "linear"}, "classification", seed=0)
    assert type(plain).__name__ == "SVC"
    assert plain.get_params().get("probability") in (False, "deprecated")  # never the costly Platt scaling
    calibrated = make_estimator(
        {MODEL: "svm", "svm:kernel": "linear"}, "classification", seed=0, needs_proba=True
    )
    assert type(calibrated).__name__ == "CalibratedClassifierCV"
    assert calibrated.get_params()["ensemble"] is False


def test_knn_neighbours_are_capped_by_training_rows() -> None:
    knn = make_estimator(
        {MODEL: "k_nearest_neighbors", "k_nearest_neighbors:n_neighbors": 80},
        "regression",
        seed=0,
        n_samples=30,
    )
    assert knn.get_params()["n_neighbors"] == 30


def test_make_estimator_needs_a_model() -> None:
    with pytest.raises(SpaceError, match="no `model` value"):
        make_estimator({"C": 1.0}, "classification", seed=0)


def test_needs_scaling() -> None:
    assert needs_scaling({MODEL: "svm"}) and needs_scaling({MODEL: np.str_("mlp")})
    assert needs_scaling({MODEL: "linear"}) and needs_scaling({MODEL: "k_nearest_neighbors"})
    assert not needs_scaling({MODEL: "random_forest"}) and not needs_scaling({MODEL: "decision_tree"})
    assert not needs_scaling({"max_depth": 3})


# --- overrides ---------------------------------------------------------------------------------------------


def test_overrides_narrow_fix_and_replace_choices() -> None:
    space = build_space(
        config(
            models=["svm", "k_nearest_neighbors"],
            overrides={
                "svm": {"C": {"lower": 0.1, "upper": 10, "log": False}, "svm:kernel": {"value": "linear"}},
                "k_nearest_neighbors": {"n_neighbors": {"choices": [1, 5, 15], "default": 5}},
            },
        )
    )
    c = space["svm:C"]
    assert (c.lower, c.upper, c.log, c.default_value) == (0.1, 10.0, False, 1.0)
    assert isinstance(space["svm:kernel"], Constant) and space["svm:kernel"].value == "linear"
    assert "svm:gamma" not in space  # only active with rbf, which can no longer be chosen
    neighbours = space["k_nearest_neighbors:n_neighbors"]
    assert list(neighbours.choices) == [1, 5, 15] and neighbours.default_value == 5


def test_override_keeps_condition_only_while_parent_can_differ() -> None:
    space = build_space(config(models=["svm"], overrides={"svm": {"kernel": {"choices": ["rbf"]}}}))
    assert "svm:gamma" in space
    assert all(not isinstance(c, EqualsCondition) or c.child.name != "svm:gamma" for c in space.conditions)


def test_override_default_moves_into_new_range() -> None:
    space = build_space(config(models=["svm"], overrides={"svm": {"C": {"lower": 10, "upper": 1000}}}))
    assert space["svm:C"].default_value == pytest.approx(100.0)  # geometric middle of a log range
    space = build_space(
        config(models=["decision_tree"], overrides={"decision_tree": {"max_depth": {"upper": 6}}})
    )
    assert space["decision_tree:max_depth"].default_value == 4  # (1 + 6) / 2, rounded


@pytest.mark.parametrize(
    ("overrides", "models", "kind", "path", "match"),
    [
        (
            {"xgboost": {"eta": {"value": 1}}},
            None,
            SpaceProblem.bad_override,
            ("search_space", "overrides", "xgboost"),
            "not a model family",
        ),
        (
            {"svm": {"C": {"value": 1}}},
            ["random_forest"],
            SpaceProblem.bad_override,
            ("search_space", "overrides", "svm"),
            "not searched",
        ),
        (
            {"svm": {"degree": {"value": 3}}},
            ["svm"],
            SpaceProblem.bad_override,
            ("search_space", "overrides", "svm", "degree"),
            "no hyperparameter `degree`",
        ),
        (
            {"svm": {"C": {"lower": 5, "upper": 5}}},
            ["svm"],
            SpaceProblem.override_bounds,
            ("search_space", "overrides", "svm", "C", "lower"),
            "lower 5.0 >= upper 5.0",
        ),
        (
            {"svm": {"C": {"lower": 0}}},
            ["svm"],
            SpaceProblem.override_bounds,
            ("search_space", "overrides", "svm", "C", "lower"),
            "log scale",
        ),
        (
            {"svm": {"C": {"upper": 10, "default": 50}}},
            ["svm"],
            SpaceProblem.default_out_of_range,
            ("search_space", "overrides", "svm", "C", "default"),
            "outside its range",
        ),
        (
            {"svm": {"kernel": {"lower": 1}}},
            ["svm"],
            SpaceProblem.bad_override,
            ("search_space", "overrides", "svm", "kernel", "lower"),
            "categorical",
        ),
        (
            {"svm": {"kernel": {"default": "poly"}}},
            ["svm"],
            SpaceProblem.default_out_of_range,
            ("search_space", "overrides", "svm", "kernel", "default"),
            "not one of",
        ),
        (
            {"mlp": {"n_layers": {"lower": 1.5}}},
            ["mlp"],
            SpaceProblem.bad_override,
            ("search_space", "overrides", "mlp", "n_layers", "lower"),
            "whole number",
        ),
        (
            {"svm": {"C": {"value": "big"}}},
            ["svm"],
            SpaceProblem.bad_override,
            ("search_space", "overrides", "svm", "C", "value"),
            "not a number",
        ),
    ],
)
def test_bad_overrides_name_the_field(
    overrides: dict, models: list | None, kind: SpaceProblem, path: tuple, match: str
) -> None:
    with pytest.raises(SpaceError, match=match) as info:
        build_space(config(models=models, overrides=overrides))
    assert info.value.kind == kind
    assert info.value.path == path
    assert info.value.hint


def test_empty_models_list_is_refused() -> None:
    with pytest.raises(SpaceError, match="empty") as info:
        build_space(config(models=[]))
    assert info.value.kind == SpaceProblem.bad_models and info.value.path == ("search_space", "models")


# --- warm start --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def combined() -> Any:
    return build_space(config(models=["svm", "random_forest"]))


def test_warm_start_shorthand_is_expanded_and_filled_with_defaults(combined: Any) -> None:
    full = normalize_warm_start(combined, {"model": "svm", "C": 3.0, "kernel": "linear"})
    assert full == {"model": "svm", "svm:C": 3.0, "svm:kernel": "linear"}
    full = normalize_warm_start(combined, {"random_forest:max_features": np.float64(0.3)})
    assert full["model"] == "random_forest" and full["random_forest:max_features"] == 0.3
    assert full["random_forest:bootstrap"] is True  # default filled
    assert all(type(v) in (str, int, float, bool) for v in full.values())
    to_configuration(combined, full)


@pytest.mark.parametrize(
    ("entry", "path", "match"),
    [
        ({"model": "svm", "max_depth": 3}, ("max_depth",), "not a hyperparameter"),
        ({"model": "random_forest", "C": 1.0}, ("C",), "belongs to another family"),
        ({"model": "svm", "C": 1e6}, ("C",), r"cannot be 1000000.0: expected a number in \[0.01, 1000.0\]"),
        ({"model": "svm", "kernel": "linear", "gamma": 0.1}, ("gamma",), "inactive"),
        ({"model": "knn"}, ("model",), "not searched"),
        ({"C": 1.0}, (), "must say which `model`"),
        ({"model": "svm", "C": 1.0, "svm:C": 2.0}, ("svm:C",), "given twice"),
    ],
)
def test_bad_warm_start_names_key(combined: Any, entry: dict, path: tuple, match: str) -> None:
    with pytest.raises(SpaceError, match=match) as info:
        normalize_warm_start(combined, entry)
    assert info.value.kind == SpaceProblem.bad_warm_start
    assert info.value.path == path


def test_to_configuration_validates(combined: Any) -> None:
    configuration = to_configuration(combined, {"model": "svm", "svm:C": 2.0, "svm:kernel": "linear"})
    assert plain_values(configuration) == {"model": "svm", "svm:C": 2.0, "svm:kernel": "linear"}
    with pytest.raises(SpaceError, match="inactive"):
        to_configuration(combined, {"model": "svm", "svm:C": 2.0, "svm:kernel": "linear", "svm:gamma": 0.1})
    with pytest.raises(SpaceError, match="not a hyperparameter"):
        to_configuration(combined, {"model": "svm", "C": 2.0})


def test_estimators_are_sklearn_estimators() -> None:
    for family in ModelFamily:
        for task in TASKS:
            assert isinstance(make_estimator({MODEL: family.value}, task, seed=0), BaseEstimator)


def test_builtin_space_bounds_are_json_data_matching_the_space() -> None:
    import json

    bounds = builtin_space_bounds("classification")
    json.dumps(bounds)
    assert set(bounds) == {f.value for f in ModelFamily}
    assert bounds["svm"]["gamma"] == {
        "type": "float",
        "default": 0.1,
        "lower": 1e-4,
        "upper": 8.0,
        "log": True,
        "active_if": {"kernel": ["rbf"]},
    }
    space = build_space(config())
    for family, params in bounds.items():
        for param, entry in params.items():
            hp = space[f"{family}:{param}"]
            assert hp.default_value == entry["default"]
            if entry["type"] in ("float", "int"):
                assert (hp.lower, hp.upper, hp.log) == (entry["lower"], entry["upper"], entry["log"])


def test_regression_svms_and_mlps_learn_a_target_far_from_unit_scale() -> None:
    """SVR's epsilon / C and an MLP's output assume a unit-scale target: on prices in the 100,000s an SVR on the
    raw target predicted a constant. Fitted to the standardised target they learn it, in the target's units."""
    from sklearn.datasets import make_regression
    from sklearn.metrics import r2_score
    from sklearn.preprocessing import StandardScaler

    X, y = make_regression(n_samples=400, n_features=5, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = 150_000 + 40_000 * y / y.std()
    svr = make_estimator({MODEL: "svm", "svm:kernel": "rbf", "svm:gamma": 0.1}, "regression", seed=0)
    assert r2_score(y, svr.fit(X, y).predict(X)) > 0.8
    assert abs(float(np.mean(svr.predict(X))) - float(np.mean(y))) < 10_000  # in the target's units
    from sklearn.svm import SVR

    assert r2_score(y, SVR(gamma=0.1).fit(X, y).predict(X)) < 0.05  # what the raw target gave
    mlp = make_estimator({MODEL: "mlp", "mlp:n_layers": 1, "mlp:n_units": 32}, "regression", seed=0)
    assert r2_score(y, mlp.fit(X, y).predict(X)) > 0.8
    forest = make_estimator({MODEL: "random_forest"}, "regression", seed=0)
    assert type(forest).__name__ == "RandomForestRegressor"  # trees do not care about the target's scale
