"""The `lightgbm` model family: its space fits real data, its defaults are LightGBM's own and score well, its
conditional hyperparameter is active only under its parent, it stays out of CLI start-up, and a config that
searches it round-trips, lints clean and runs end to end."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.model import Config, ModelFamily
from metaconf.errors import UsageError
from metaconf.lint.engine import LintOptions, has_errors, lint_file
from metaconf.profile.probe import COST_MODEL, model_fit_seconds
from metaconf.report.results import read_results
from metaconf.space.builtin import MODEL, build_space, families_for, model_spec
from metaconf.space.configurations import active_names, normalize_warm_start
from metaconf.space.estimators import make_estimator
from metaconf.targets.autosklearn.components import FAMILY_COMPONENTS

runner = CliRunner()
DATASETS = {
    "binary": ("classification", load_breast_cancer),
    "multiclass": ("classification", load_wine),
    "regression": ("regression", load_diabetes),
}


def _config(task: str = "classification", models: list[str] | None = None, **sections: Any) -> Config:
    return Config.model_validate(
        {
            "task": {"type": task},
            "search_space": {"models": models or ["lightgbm"], **sections.pop("search_space", {})},
            "execution": {"seed": 5},
            **sections,
        }
    )


def _split(kind: str) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    task, load = DATASETS[kind]
    X, y = load(return_X_y=True)
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=stratify
    )
    return task, X_train, X_test, y_train, y_test


@pytest.mark.parametrize("kind", list(DATASETS))
def test_sampled_configurations_fit_real_data(kind: str) -> None:
    task, X_train, X_test, y_train, _ = _split(kind)
    space = build_space(_config(task))
    for configuration in space.sample_configuration(12):
        estimator = make_estimator(configuration, task, seed=0)
        # a trial has one thread; LightGBM must not warn (verbose=-1) or fail on any configuration of its space
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("error")
            estimator.fit(X_train, y_train)
            predictions = estimator.predict(X_test)
        assert predictions.shape == (len(X_test),)
        if task == "classification":
            proba = estimator.predict_proba(X_test)
            assert proba.shape == (len(X_test), len(np.unique(y_train)))
            assert np.allclose(proba.sum(axis=1), 1.0)
        else:
            assert np.all(np.isfinite(predictions))


def test_default_configuration_is_lightgbms_own_with_one_thread_and_a_seed() -> None:
    default = dict(build_space(_config()).get_default_configuration())
    estimator = make_estimator(default, "classification", seed=11)
    assert type(estimator).__name__ == "LGBMClassifier"
    params = estimator.get_params()
    assert {k: params[k] for k in ("n_estimators", "num_leaves", "learning_rate", "min_child_samples")} == {
        "n_estimators": 100,
        "num_leaves": 31,
        "learning_rate": 0.1,
        "min_child_samples": 20,
    }
    assert params["colsample_bytree"] == 1.0 and params["subsample_freq"] == 0  # no column or row sampling
    assert params["n_jobs"] == 1 and params["random_state"] == 11 and params["verbose"] == -1
    assert params["deterministic"] is True and params["force_col_wise"] is True
    assert "lightgbm:subsample" not in default  # bagging is off by default, so its fraction is inactive
    regressor = make_estimator({MODEL: "lightgbm"}, "regression", seed=0)
    assert type(regressor).__name__ == "LGBMRegressor"


@pytest.mark.parametrize(("kind", "floor"), [("binary", 0.93), ("multiclass", 0.9), ("regression", 0.2)])
def test_defaults_score_well_on_held_out_rows(kind: str, floor: float) -> None:
    # accuracy on breast cancer and wine, R² on diabetes (noisy: a default random forest reaches 0.31 here); and
    # no worse than the default of scikit-learn's histogram gradient boosting, the same kind of learner
    task, X_train, X_test, y_train, y_test = _split(kind)
    scores = {}
    for family in ("lightgbm", "hist_gradient_boosting"):
        default = dict(build_space(_config(task, models=[family])).get_default_configuration())
        with threadpool_limits(1):
            estimator = make_estimator(default, task, seed=0).fit(X_train, y_train)
        scores[family] = estimator.score(X_test, y_test)
    assert scores["lightgbm"] >= floor
    assert scores["lightgbm"] >= scores["hist_gradient_boosting"] - 0.02, scores


def test_same_seed_same_model_and_the_seed_reaches_bagging() -> None:
    task, X_train, X_test, y_train, _ = _split("regression")
    values = {MODEL: "lightgbm", "lightgbm:subsample_freq": 1, "lightgbm:subsample": 0.6}
    values["lightgbm:colsample_bytree"] = 0.5

    def predict(seed: int) -> np.ndarray:
        with threadpool_limits(1):
            return make_estimator(values, task, seed=seed).fit(X_train, y_train).predict(X_test)

    assert np.array_equal(predict(1), predict(1))
    assert not np.array_equal(predict(1), predict(2))


def test_subsample_is_active_only_when_bagging_is_on_and_lightgbm_is_the_model() -> None:
    space = build_space(_config(models=["lightgbm", "random_forest"]))
    assert [p.name for p in space.parents_of["lightgbm:subsample"]] == ["lightgbm:subsample_freq"]
    assert [p.name for p in space.parents_of["lightgbm:subsample_freq"]] == [MODEL]
    seen = set()
    for configuration in space.sample_configuration(200):
        values = dict(configuration)
        bagging = values.get("lightgbm:subsample_freq") == 1
        assert ("lightgbm:subsample" in values) == (values[MODEL] == "lightgbm" and bagging)
        assert ("lightgbm:num_leaves" in values) == (values[MODEL] == "lightgbm")
        seen.add((values[MODEL], bagging))
    assert seen == {("lightgbm", True), ("lightgbm", False), ("random_forest", False)}
    assert "lightgbm:subsample" not in active_names(space, {MODEL: "lightgbm", "lightgbm:subsample_freq": 0})
    assert "lightgbm:subsample" in active_names(space, {MODEL: "lightgbm", "lightgbm:subsample_freq": 1})


def test_a_warm_start_may_set_the_bagging_fraction_only_with_bagging_on() -> None:
    space = build_space(_config(models=["lightgbm", "random_forest"]))
    with pytest.raises(UsageError, match="`lightgbm:subsample` is inactive"):
        normalize_warm_start(space, {"model": "lightgbm", "subsample": 0.7})
    full = normalize_warm_start(space, {"model": "lightgbm", "subsample_freq": 1, "subsample": 0.7})
    assert full["lightgbm:subsample"] == 0.7 and full["lightgbm:num_leaves"] == 31


def test_overrides_that_fix_the_parent_keep_or_drop_the_child() -> None:
    on = build_space(_config(search_space={"overrides": {"lightgbm": {"subsample_freq": {"value": 1}}}}))
    assert (
        "lightgbm:subsample" in on and on.conditions == []
    )  # bagging always on: the fraction is always searched
    off = build_space(_config(search_space={"overrides": {"lightgbm": {"subsample_freq": {"value": 0}}}}))
    assert "lightgbm:subsample" not in off  # bagging never on: nothing to search


def test_log_scales_for_sizes_rates_and_penalties() -> None:
    space = build_space(_config())
    for name in (
        "n_estimators",
        "num_leaves",
        "learning_rate",
        "min_child_samples",
        "reg_alpha",
        "reg_lambda",
    ):
        assert space[f"lightgbm:{name}"].log, name
    assert not space["lightgbm:colsample_bytree"].log


def test_lightgbm_is_a_family_of_both_tasks_with_its_own_cost_and_an_autosklearn_counterpart() -> None:
    for task in ("classification", "regression"):
        assert ModelFamily.lightgbm in families_for(task)
        assert model_spec("lightgbm", task).estimator.startswith("lightgbm:")
        assert set(COST_MODEL[task]) == {f.value for f in families_for(task)}
        assert set(FAMILY_COMPONENTS) == {f.value for f in families_for(task)}
        assert FAMILY_COMPONENTS["lightgbm"][task] == ("gradient_boosting",)
    # its own constants, not the slowest family's fallback; one-hot columns cost it little
    assert model_fit_seconds("lightgbm", "classification", 2000, 100, onehot=90) < model_fit_seconds(
        "hist_gradient_boosting", "classification", 2000, 100, onehot=90
    )


def test_cli_start_up_does_not_import_lightgbm() -> None:
    code = (
        "import sys; import metaconf.cli.app, metaconf.space.builtin, metaconf.advise.rules, metaconf.profile.probe;"
        "print('lightgbm' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        == "False\n"
    )


def test_suggested_config_round_trips_and_lints_clean(tmp_path: Path) -> None:
    out = tmp_path / "lgbm.yaml"
    result = runner.invoke(
        app,
        ["suggest", "--demo", "wine", "--budget", "2m", "--models", "lightgbm", "--no-probe", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    config = Config.model_validate(data)
    assert [m.value for m in config.search_space.models or []] == ["lightgbm"]
    again = Config.model_validate(yaml.safe_load(yaml.safe_dump(config.model_dump(mode="json"))))
    assert again == config
    findings = lint_file(out, LintOptions(data=True))
    assert not has_errors(findings), [f"{f.code} {f.pointer}: {f.message}" for f in findings]


def test_hand_written_lightgbm_config_with_overrides_and_a_warm_start_lints_clean(tmp_path: Path) -> None:
    path = tmp_path / "hand.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "task": {"type": "classification", "metric": "accuracy"},
                "data": {"demo": "breast_cancer"},
                "budget": {"walltime": "2m"},
                "search_space": {
                    "models": ["lightgbm", "random_forest"],
                    "overrides": {
                        "lightgbm": {"num_leaves": {"upper": 128}, "learning_rate": {"lower": 0.02}}
                    },
                },
                "initial_design": {
                    "warm_start": [{"model": "lightgbm", "subsample_freq": 1, "subsample": 0.7}]
                },
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    findings = lint_file(path, LintOptions(data=True))
    assert not findings, [f"{f.code} {f.pointer}: {f.message}" for f in findings]


@pytest.mark.slow
def test_a_short_run_searches_lightgbm_end_to_end(tmp_path: Path) -> None:
    config = tmp_path / "lgbm-run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "task": {"type": "classification", "metric": "accuracy"},
                "data": {"demo": "breast_cancer"},
                "search_space": {"models": ["lightgbm"]},
                "optimizer": {"kind": "random"},
                "stopping": {"n_trials": 6},
                "execution": {"seed": 3, "output_dir": "runs"},
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["run", str(config), "--save-model"])
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "runs" / "lgbm-run"
    results = read_results(run_dir)
    assert results.status == "finished" and results.trials_by_status == {"success": 6}
    assert results.incumbent is not None and results.incumbent.config[MODEL] == "lightgbm"
    assert results.incumbent.test_score is not None and results.incumbent.test_score >= 0.9
    assert (run_dir / "model.joblib").stat().st_size > 0


def _advice(rows: int, seconds_per_fit: float, walltime: float = 60.0) -> Any:
    from metaconf.advise.envelope import AdvisorInputs, CostModel, DataSummary, UserChoices
    from metaconf.advise.inputs import space_shape
    from metaconf.advise.rules import advise

    families = families_for("classification")
    return advise(
        AdvisorInputs(
            user=UserChoices(walltime_s=walltime, data_path="train.csv", target="y"),
            data=DataSummary(
                n_rows=rows,
                n_features=20,
                task_type="classification",
                class_counts={"no": rows - rows // 3, "yes": rows // 3},
                n_numeric=20,
            ),
            costs=CostModel(
                {f.value: seconds_per_fit for f in families}, rows=int(rows * 0.8), source="test"
            ),
            space_shape=space_shape(families, "classification"),
            families=families,
        )
    )


@pytest.mark.parametrize(
    ("rows", "seconds_per_fit", "size"),
    [(1500, 1.0, 3), (1500, 0.1, 5), (20_000, 4.0, 3), (20_000, 0.5, 5)],
    ids=["small-3", "small-5", "large-3", "large-5"],
)
def test_the_advisor_searches_lightgbm_and_warm_starts_it_on_small_and_large_tables(
    rows: int, seconds_per_fit: float, size: int
) -> None:
    advice = _advice(rows, seconds_per_fit)
    models = [m.value for m in advice.config.search_space.models or []]
    assert len(models) == size and "lightgbm" in models
    assert models.index("lightgbm") == (1 if rows < 2500 else 0)  # after the random forest on small data
    assert {"model": "lightgbm"} in advice.config.initial_design.warm_start
