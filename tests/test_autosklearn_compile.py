"""The auto-sklearn compiler: the exact constructor kwargs per config family, and every trap caught before the
environment starts. No auto-sklearn environment needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.model import Config
from metaconf.errors import UsageError
from metaconf.targets.autosklearn import components as comp
from metaconf.targets.autosklearn.compile import class_order, compile_autosklearn

BASE: dict[str, Any] = {"tool": "auto-sklearn", "data": {"demo": "breast_cancer"}}


def make(**sections: Any) -> Config:
    data = json.loads(json.dumps(BASE))
    for key, value in sections.items():
        data[key] = value
    return Config.model_validate(data)


def kwargs_of(config: Config, **extra: Any) -> dict[str, Any]:
    return compile_autosklearn(config, run_dir="runs/x", seed=7, **extra).constructor_kwargs


def test_holdout_classification_exact_kwargs() -> None:
    config = make(stopping={"walltime": "2m", "trial_walltime": "20s", "trial_memory": "2GB"})
    plan = compile_autosklearn(config, run_dir="runs/x", seed=7, classes=["benign", "malignant"])
    assert plan.estimator == "AutoSklearnClassifier"
    assert plan.constructor_kwargs == {
        "time_left_for_this_task": 120,
        "per_run_time_limit": 20,
        "initial_configurations_via_metalearning": 25,
        "ensemble_class": "default",
        "ensemble_kwargs": None,
        "ensemble_nbest": 50,
        "max_models_on_disc": 50,
        "seed": 7,
        "memory_limit": 2048,
        "include": None,
        "exclude": None,
        "resampling_strategy": "holdout",
        "resampling_strategy_arguments": {"train_size": 0.67, "shuffle": True},
        "delete_tmp_folder_after_terminate": False,
        "n_jobs": 1,
        "smac_scenario_args": None,
        "dataset_compression": True,
    }
    assert plan.fit_kwargs == {"dataset_name": "breast_cancer"}
    assert plan.metric.autosklearn_name == "accuracy"
    assert plan.metric.custom_function is None
    assert plan.worker["omp_num_threads"] == 1
    assert plan.worker["output_dir"] == str(Path("runs/x") / "autosklearn")
    assert plan.worker["fit_deadline_s"] == 126  # 120 s + 5 %
    assert plan.worker["hard_timeout_s"] == 166  # + 10 s grace + 30 s for the worker's start-up and predictions


def test_cv_regression_with_families_and_workers() -> None:
    config = make(
        task={"type": "regression", "metric": "mae"},
        data={"demo": "diabetes"},
        stopping={"walltime": 60, "n_trials": 40},
        resampling={"strategy": "cv", "folds": 3},
        search_space={"models": ["linear", "svm", "hist_gradient_boosting"]},
        execution={"workers": 2},
        budget={"memory": "8GB"},
    )
    plan = compile_autosklearn(config, run_dir="r", seed=0)
    kwargs = plan.constructor_kwargs
    assert plan.estimator == "AutoSklearnRegressor"
    assert plan.metric.autosklearn_name == "mean_absolute_error"
    assert kwargs["resampling_strategy"] == "cv"
    assert kwargs["resampling_strategy_arguments"] == {"folds": 3, "shuffle": True}
    assert kwargs["include"] == {"regressor": ["ard_regression", "sgd", "liblinear_svr", "libsvm_svr", "gradient_boosting"]}
    assert kwargs["n_jobs"] == 2
    assert kwargs["memory_limit"] == 4096  # budget.memory split over the two jobs (auto-sklearn's limit is per job)
    assert kwargs["per_run_time_limit"] == 12  # auto-sklearn's own default: n_jobs * total // 10
    assert kwargs["smac_scenario_args"] == {"runcount_limit": 40}
    assert kwargs["initial_configurations_via_metalearning"] == 25


@pytest.mark.parametrize(
    ("family", "classification", "regression"),
    [
        ("linear", ["liblinear_svc", "sgd", "passive_aggressive", "lda"], ["ard_regression", "sgd", "liblinear_svr"]),
        ("svm", ["libsvm_svc"], ["libsvm_svr"]),
        ("random_forest", ["random_forest"], ["random_forest"]),
        ("extra_trees", ["extra_trees"], ["extra_trees"]),
        ("hist_gradient_boosting", ["gradient_boosting"], ["gradient_boosting"]),
        ("k_nearest_neighbors", ["k_nearest_neighbors"], ["k_nearest_neighbors"]),
        ("mlp", ["mlp"], ["mlp"]),
        ("decision_tree", ["decision_tree"], ["decision_tree"]),
    ],
)
def test_every_family_maps_to_real_components(family: str, classification: list[str], regression: list[str]) -> None:
    assert set(classification) <= set(comp.CLASSIFIERS)
    assert set(regression) <= set(comp.REGRESSORS)
    clf = kwargs_of(make(search_space={"models": [family]}, stopping={"walltime": 30}))
    reg = kwargs_of(
        make(task={"type": "regression"}, data={"demo": "diabetes"}, search_space={"models": [family]}, stopping={"walltime": 30})
    )
    assert clf["include"] == {"classifier": classification}
    assert reg["include"] == {"regressor": regression}


def test_time_limits() -> None:
    # budget.walltime keeps a start-up reserve for the worker
    assert kwargs_of(make(budget={"walltime": "1m"}))["time_left_for_this_task"] == 55
    # neither set: auto-sklearn's default, written out
    assert kwargs_of(make())["time_left_for_this_task"] == 3600
    # a per-run limit above the total is capped, and the plan says so
    plan = compile_autosklearn(make(stopping={"walltime": 40, "trial_walltime": 90}), run_dir="r", seed=0)
    assert plan.constructor_kwargs["per_run_time_limit"] == 40
    assert any("capped" in note for note in plan.notes)
    # fractional per-run limits round up: 0.5 s would be 0 and kill every run
    assert kwargs_of(make(stopping={"walltime": 40, "trial_walltime": 0.5}))["per_run_time_limit"] == 1


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"stopping": {"walltime": "20s"}}, "auto-sklearn needs at least 30s"),
        ({"budget": {"walltime": "32s"}}, "leaves 27s for the search"),
    ],
)
def test_below_thirty_seconds_is_refused_with_the_minimum(sections: dict[str, Any], expected: str) -> None:
    with pytest.raises(UsageError) as caught:
        compile_autosklearn(make(**sections), run_dir="r", seed=0)
    assert expected in caught.value.message
    assert "30s" in (caught.value.hint or "") or "35s" in (caught.value.hint or "")


def test_n_trials_shrinks_default_metalearning_but_not_an_explicit_one() -> None:
    plan = compile_autosklearn(make(stopping={"walltime": 30, "n_trials": 5}), run_dir="r", seed=0)
    assert plan.constructor_kwargs["initial_configurations_via_metalearning"] == 4
    assert plan.constructor_kwargs["smac_scenario_args"] == {"runcount_limit": 5}
    assert plan.worker["initial_design_size"] == 5
    with pytest.raises(UsageError, match="smaller than the initial design"):
        compile_autosklearn(
            make(stopping={"walltime": 30, "n_trials": 5}, auto_sklearn={"metalearning_configs": 25}), run_dir="r", seed=0
        )
    with pytest.raises(UsageError, match="at least 1 run"):
        compile_autosklearn(make(stopping={"walltime": 30, "n_trials": 0}), run_dir="r", seed=0)


def test_ensemble_settings() -> None:
    off = kwargs_of(make(stopping={"walltime": 30}, auto_sklearn={"ensemble_size": 0}))
    assert off["ensemble_class"] is None and off["ensemble_kwargs"] is None
    sized = kwargs_of(
        make(stopping={"walltime": 30}, auto_sklearn={"ensemble_size": 10, "ensemble_nbest": 5, "max_models_on_disc": 8})
    )
    # The deprecated constructor argument loses silently to ensemble_kwargs: only ensemble_kwargs is compiled.
    assert sized["ensemble_kwargs"] == {"ensemble_size": 10}
    assert "ensemble_size" not in sized
    assert (sized["ensemble_nbest"], sized["max_models_on_disc"]) == (5, 8)


def test_user_include_wins_over_models_and_is_checked() -> None:
    config = make(
        stopping={"walltime": 30},
        search_space={"models": ["svm"]},
        auto_sklearn={"include": {"classifier": ["random_forest"], "feature_preprocessor": ["no_preprocessing"]}},
    )
    plan = compile_autosklearn(config, run_dir="r", seed=0)
    assert plan.constructor_kwargs["include"] == {"classifier": ["random_forest"], "feature_preprocessor": ["no_preprocessing"]}
    assert any("search_space.models is not used" in note for note in plan.notes)


@pytest.mark.parametrize(
    ("auto_sklearn", "message", "hint"),
    [
        ({"include": {"classifier": ["random_forst"]}}, "names `random_forst`", "did you mean `random_forest`?"),
        ({"include": {"regressor": ["sgd"]}}, "step `regressor`", "did you mean `classifier`?"),
        ({"include": {"balancing": ["weighting"]}}, "step `balancing`", "steps:"),
        ({"include": {"classifier": []}}, "empty list", "name components"),
        ({"include": {"classifier": ["sgd"]}, "exclude": {"classifier": ["lda"]}}, "both name the step `classifier`", "keep"),
        ({"smac_scenario_args": {"runcount_limt": 5}}, ".runcount_limt`", "did you mean `runcount_limit`?"),
        ({"smac_scenario_args": {"cutoff_time": 5}}, "set by metaconf", "stopping.trial_walltime"),
        ({"smac_scenario_args": {"deterministic": False}}, "fixed by auto-sklearn", "remove"),
        ({"smac_scenario_args": {"initial_incumbent": "SOBOL"}}, "IndexError", "DEFAULT"),
    ],
)
def test_auto_sklearn_section_errors(auto_sklearn: dict[str, Any], message: str, hint: str) -> None:
    with pytest.raises(UsageError) as caught:
        compile_autosklearn(make(stopping={"walltime": 30}, auto_sklearn=auto_sklearn), run_dir="r", seed=0)
    assert message in caught.value.message
    assert hint in (caught.value.hint or "")


def test_runcount_limit_disagreeing_with_n_trials() -> None:
    with pytest.raises(UsageError, match="disagree"):
        compile_autosklearn(
            make(stopping={"walltime": 30, "n_trials": 50}, auto_sklearn={"smac_scenario_args": {"runcount_limit": 60}}),
            run_dir="r",
            seed=0,
        )
    same = kwargs_of(make(stopping={"walltime": 30}, auto_sklearn={"smac_scenario_args": {"ta_run_limit": 60}}))
    assert same["smac_scenario_args"] == {"runcount_limit": 60}


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({"optimizer": {"kind": "hyperband"}}, "optimizer.kind"),
        ({"fidelity": {"type": "subsample", "min": 0.1, "max": 1.0}}, "fidelity.type"),
        ({"initial_design": {"warm_start": [{"model": "svm"}]}}, "initial_design.warm_start"),
        ({"search_space": {"overrides": {"svm": {"C": {"lower": 1.0}}}}}, "search_space.overrides"),
        ({"search_space": {"file": "space.yaml"}}, "search_space.file"),
        ({"stopping": {"walltime": 30, "cputime": 30}}, "stopping.cputime"),
    ],
)
def test_settings_auto_sklearn_cannot_honour_are_refused(sections: dict[str, Any], field: str) -> None:
    with pytest.raises(UsageError) as caught:
        compile_autosklearn(make(**sections), run_dir="r", seed=0)
    assert f"`{field}" in caught.value.message
    assert "tool: smac" in (caught.value.hint or "") or "remove" in (caught.value.hint or "") or "use" in (caught.value.hint or "")


def test_expected_cost_is_a_picklable_custom_scorer_in_worker_class_order() -> None:
    config = make(
        stopping={"walltime": 30},
        task={"metric": "expected_cost", "cost_matrix": {"labels": ["malignant", "benign"], "costs": [[0, 5], [1, 0]]}},
    )
    plan = compile_autosklearn(config, run_dir="r", seed=0, classes=["benign", "malignant"])
    assert plan.metric.custom_function == "expected_cost"
    assert plan.metric.classes == ["benign", "malignant"]
    # rows: truth, columns: prediction, reordered from the config's label order to the worker's encoding
    assert plan.metric.make_scorer_args == {
        "optimum": 0.0,
        "worst_possible_result": 5.0,
        "greater_is_better": False,
        "needs_proba": True,
        "costs": [[0.0, 1.0], [5.0, 0.0]],
    }
    # auto-sklearn has no meta-data for a custom metric: it would drop meta-learning silently
    assert plan.constructor_kwargs["initial_configurations_via_metalearning"] == 0
    assert any("no meta-data" in note for note in plan.notes)


def test_binary_positive_class_is_encoded_last() -> None:
    assert class_order(["a", "b"], "a") == ["b", "a"]
    assert class_order([0, 1, 2], 0) == ["0", "1", "2"]  # multiclass: sorted, untouched
    config = make(stopping={"walltime": 30}, task={"metric": "f1", "positive_label": "benign"})
    plan = compile_autosklearn(config, run_dir="r", seed=0, classes=["benign", "malignant"])
    assert plan.metric.autosklearn_name == "f1"
    assert plan.metric.classes == ["malignant", "benign"]


def test_multiclass_metrics_auto_sklearn_lacks_become_custom_scorers() -> None:
    wine = {"demo": "wine"}
    roc = compile_autosklearn(make(data=wine, stopping={"walltime": 30}, task={"metric": "roc_auc"}), run_dir="r", seed=0, classes=["a", "b", "c"])
    assert roc.metric.custom_function == "roc_auc_ovr"
    f1 = compile_autosklearn(make(data=wine, stopping={"walltime": 30}, task={"metric": "f1"}), run_dir="r", seed=0, classes=["a", "b", "c"])
    assert (f1.metric.autosklearn_name, f1.metric.custom_function) == ("f1_macro", None)
    one = compile_autosklearn(
        make(data=wine, stopping={"walltime": 30}, task={"metric": "f1", "positive_label": "b"}), run_dir="r", seed=0, classes=["a", "b", "c"]
    )
    assert one.metric.custom_function == "f1_of_class"
    assert one.metric.make_scorer_args["label"] == 1


def test_plan_identity_and_python_snippet() -> None:
    config = make(stopping={"walltime": 45}, execution={"dask_scheduler": "tcp://127.0.0.1:8786"})
    first = compile_autosklearn(config, run_dir="r", seed=1)
    again = compile_autosklearn(config, run_dir="r", seed=1)
    other = compile_autosklearn(config, run_dir="r", seed=2)
    assert first.meta == again.meta != other.meta
    assert len(first.meta) == 64
    snippet = first.python_snippet()
    assert 'if __name__ == "__main__":' in snippet
    assert 'os.environ["OMP_NUM_THREADS"] = "1"' in snippet
    assert "metric = autosklearn.metrics.accuracy" in snippet
    assert "dask_client=distributed.Client('tcp://127.0.0.1:8786')" in snippet
    compile(snippet, "snippet", "exec")  # valid Python


def test_metaconf_compile_prints_the_autosklearn_plan(tmp_path: Path) -> None:
    path = tmp_path / "askl.yaml"
    path.write_text(
        "tool: auto-sklearn\ntask:\n  type: classification\ndata:\n  demo: breast_cancer\n"
        "stopping:\n  walltime: 40s\n  trial_walltime: 10s\nexecution:\n  seed: 3\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["compile", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["estimator"] == "AutoSklearnClassifier"
    assert data["constructor_kwargs"]["time_left_for_this_task"] == 40
    assert data["constructor_kwargs"]["seed"] == 3
    assert data["metric"]["classes"] == ["benign", "malignant"]
    dry = CliRunner().invoke(app, ["run", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "time_left_for_this_task: 40" in dry.stdout


def test_metaconf_compile_refuses_a_short_budget(tmp_path: Path) -> None:
    path = tmp_path / "short.yaml"
    path.write_text("tool: auto-sklearn\ndata:\n  demo: iris\nstopping:\n  walltime: 10s\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["compile", str(path)])
    assert result.exit_code == 2
    assert "at least 30s" in result.output
    assert "Traceback" not in result.output
