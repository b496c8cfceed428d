"""The SMAC3 compiler: the exact arguments SMAC receives for each config family, and the traps it handles.

Unit tests on :func:`compile_smac` (pure data), on :func:`build_smac` with SMAC's facade class replaced by a
mock ONLY to capture the exact call, and next to them real facade constructions (no mock) that SMAC accepts.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from metaconf.config.model import Config
from metaconf.errors import UsageError
from metaconf.space.builtin import build_space
from metaconf.space.configurations import normalize_warm_start
from metaconf.targets.metrics import MetricSpec
from metaconf.targets.smac.compile import SmacPlan, compile_smac, initial_design_size
from metaconf.targets.smac.runner import BudgetTrialTarget, TrialTarget, build_smac
from metaconf.targets.smac.script import render_python

RUN_DIR = Path("/tmp/metaconf-test-run")


def make(**sections: Any) -> Config:
    data: dict[str, Any] = {"data": {"demo": "iris"}, "search_space": {"models": ["random_forest", "linear"]}}
    data.update(sections)
    return Config.model_validate(data)


def plan_for(config: Config, **kwargs: Any) -> SmacPlan:
    return compile_smac(config, build_space(config), run_dir=RUN_DIR, **kwargs)


def scenario(**changes: Any) -> dict[str, Any]:
    """The Scenario kwargs metaconf compiles by default, with ``changes``."""
    base = {
        "name": "metaconf",
        "output_directory": str(RUN_DIR / "smac"),
        "deterministic": True,
        "objectives": "cost",
        "crash_cost": 1.0,
        "termination_cost_threshold": math.inf,
        "walltime_limit": math.inf,
        "cputime_limit": math.inf,
        "trial_walltime_limit": None,
        "trial_memory_limit": None,
        "n_trials": 20,
        "use_default_config": False,
        "min_budget": None,
        "max_budget": None,
        "seed": 0,
        "n_workers": 1,
    }
    base.update(changes)
    return base


RF_MODEL = {
    "log_y": True,
    "n_trees": 10,
    "ratio_features": 1.0,
    "min_samples_split": 2,
    "min_samples_leaf": 1,
    "max_depth": 2**20,
    "bootstrapping": True,
    "n_jobs": 1,
}


def test_bo_compiles_to_the_hpo_facade_with_single_threaded_surrogate() -> None:
    plan = plan_for(make(stopping={"n_trials": 20}))
    assert plan.facade == "HyperparameterOptimizationFacade"
    assert plan.scenario == scenario()
    assert plan.intensifier.cls == "smac.intensifier.Intensifier"
    assert plan.intensifier.kwargs == {"max_config_calls": 3, "max_incumbents": 10}
    assert plan.initial_design.cls == "smac.initial_design.SobolInitialDesign"
    assert plan.initial_design.kwargs == {
        "n_configs": None,
        "n_configs_per_hyperparameter": 10,
        "max_ratio": 0.25,
        "additional_configs": [],
    }
    assert plan.random_design is not None and plan.random_design.kwargs == {"probability": 0.2}
    assert plan.model is not None and plan.model.kwargs == RF_MODEL
    assert plan.target == {"arguments": ["config", "seed"], "fidelity": None}
    assert [c["name"] for c in plan.callbacks] == ["origins", "stop_signals"]
    assert plan.initial_design_size == 5  # 10 per HP x many HPs, capped at 0.25 x 20


def test_bo_gp_compiles_to_the_black_box_facade_with_its_own_defaults() -> None:
    plan = plan_for(make(optimizer={"kind": "bo_gp"}, stopping={"n_trials": 20}))
    assert plan.facade == "BlackBoxFacade"
    assert plan.scenario == scenario()
    assert plan.intensifier.kwargs == {"max_config_calls": 3, "max_incumbents": 20}
    assert plan.initial_design.kwargs["n_configs_per_hyperparameter"] == 8
    assert plan.random_design is not None and plan.random_design.kwargs == {
        "probability": 0.08447232371720552
    }
    assert plan.model is None  # SMAC's GP


def test_random_search_keeps_the_facade_dummies() -> None:
    plan = plan_for(make(optimizer={"kind": "random"}, stopping={"n_trials": 20}))
    assert plan.facade == "RandomFacade"
    assert plan.random_design is None and plan.model is None
    assert plan.intensifier.cls == "smac.intensifier.Intensifier"


def test_hyperband_puts_budgets_in_the_scenario_and_eta_in_the_intensifier() -> None:
    config = make(
        optimizer={"kind": "hyperband"},
        fidelity={"type": "n_estimators", "eta": 3},
        stopping={"n_trials": 30},
    )
    plan = plan_for(config)
    assert plan.facade == "MultiFidelityFacade"
    assert plan.scenario == scenario(n_trials=30, min_budget=10.0, max_budget=300.0)
    assert "eta" not in plan.scenario
    assert plan.intensifier.cls == "smac.intensifier.Hyperband"
    assert plan.intensifier.kwargs == {
        "eta": 3,
        "n_seeds": 1,
        "instance_seed_order": "shuffle_once",
        "max_incumbents": 10,
        "incumbent_selection": "highest_observed_budget",
    }
    assert isinstance(plan.intensifier.kwargs["eta"], int)
    assert plan.target == {"arguments": ["config", "seed", "budget"], "fidelity": "n_estimators"}
    assert plan.model is not None and plan.model.kwargs["n_jobs"] == 1


def test_successive_halving_with_subsample_and_fractional_eta() -> None:
    config = make(
        optimizer={"kind": "successive_halving"},
        fidelity={"type": "subsample", "min": 0.2, "max": 1.0, "eta": 2.5},
        stopping={"n_trials": 30},
    )
    plan = plan_for(config)
    assert plan.intensifier.cls == "smac.intensifier.SuccessiveHalving"
    assert plan.intensifier.kwargs["eta"] == 2.5
    assert (plan.scenario["min_budget"], plan.scenario["max_budget"]) == (0.2, 1.0)


def test_multi_fidelity_without_fidelity_type_subsamples_and_says_so() -> None:
    plan = plan_for(make(optimizer={"kind": "hyperband"}, stopping={"n_trials": 30}))
    assert plan.target["fidelity"] == "subsample"
    assert (plan.scenario["min_budget"], plan.scenario["max_budget"]) == (0.1, 1.0)
    assert any("using `subsample`" in note for note in plan.notes)


def test_cv_folds_fidelity_defaults_to_the_resampling_folds() -> None:
    config = make(
        optimizer={"kind": "hyperband"},
        fidelity={"type": "cv_folds"},
        resampling={"strategy": "cv", "folds": 4},
        stopping={"n_trials": 30},
    )
    assert (plan_for(config).scenario["min_budget"], plan_for(config).scenario["max_budget"]) == (1.0, 4.0)


def test_fidelity_is_ignored_with_a_full_fidelity_optimizer() -> None:
    plan = plan_for(make(fidelity={"type": "subsample", "min": 0.1, "max": 1.0}, stopping={"n_trials": 20}))
    assert plan.scenario["min_budget"] is None and plan.scenario["max_budget"] is None
    assert any("is ignored" in note for note in plan.notes)


@pytest.mark.parametrize(
    ("fidelity", "message"),
    [
        ({"type": "subsample", "min": 0.5, "max": 0.5}, "must be below `fidelity.max`"),
        ({"type": "subsample", "min": 0.0, "max": 1.0}, "must be greater than 0"),
        ({"type": "subsample", "min": 0.1, "max": 2.0}, "at most 1 for `subsample`"),
        ({"type": "n_estimators", "min": 0.5, "max": 100}, "at least 1 for `n_estimators`"),
        ({"type": "subsample", "eta": 1.0}, "`fidelity.eta` parameter must be greater than 1"),
        ({"type": "subsample", "eta": 0.0}, "`fidelity.eta` parameter must be greater than 1"),
        ({"type": "cv_folds", "min": 1, "max": 9}, "at most `resampling.folds`"),
    ],
)
def test_bad_multi_fidelity_settings_are_refused_with_the_field(
    fidelity: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        plan_for(make(optimizer={"kind": "hyperband"}, fidelity=fidelity, stopping={"n_trials": 30}))


def test_memory_limit_is_passed_in_megabytes_with_its_unit() -> None:
    plan = plan_for(make(stopping={"n_trials": 20, "trial_memory": "2GB"}))
    assert plan.scenario["trial_memory_limit"] == [2048, "MB"]
    plan = plan_for(make(stopping={"n_trials": 20, "trial_memory": "300.5MB"}))
    assert plan.scenario["trial_memory_limit"] == [301, "MB"]


def test_trial_walltime_is_rounded_up_to_whole_seconds() -> None:
    plan = plan_for(make(stopping={"n_trials": 20, "trial_walltime": "2.5s"}))
    assert plan.scenario["trial_walltime_limit"] == 3
    assert any("rounded up to 3 s" in note for note in plan.notes)
    assert (
        plan_for(make(stopping={"n_trials": 20, "trial_walltime": "0.2s"})).scenario["trial_walltime_limit"]
        == 1
    )


def test_crash_cost_is_always_finite() -> None:
    assert plan_for(make(stopping={"n_trials": 20})).scenario["crash_cost"] == 1.0
    assert plan_for(make(stopping={"n_trials": 20, "crash_cost": 0.7})).scenario["crash_cost"] == 0.7
    log_loss = make(task={"metric": "log_loss"}, stopping={"n_trials": 20})
    assert plan_for(log_loss).scenario["crash_cost"] == pytest.approx(3 * math.log(2))
    data_metric = MetricSpec("rmse", False, False, 0.0, 42.0)
    regression = make(task={"type": "regression"}, data={"demo": "diabetes"}, stopping={"n_trials": 20})
    assert plan_for(regression, metric=data_metric).scenario["crash_cost"] == 42.0
    with pytest.raises(UsageError, match="must be finite"):
        plan_for(make(stopping={"n_trials": 20, "crash_cost": math.inf}))


def test_n_trials_must_be_positive_and_is_derived_when_unset() -> None:
    with pytest.raises(
        UsageError, match=re.escape("`stopping.n_trials` parameter must be at least 1. Got 0 instead")
    ):
        plan_for(make(stopping={"n_trials": 0}))
    with_walltime = plan_for(make(stopping={"walltime": "10m"}))
    assert with_walltime.scenario["n_trials"] == 600
    assert with_walltime.scenario["walltime_limit"] == 600.0
    assert any("stopping.n_trials is unset" in note for note in with_walltime.notes)
    bare = plan_for(make())
    assert bare.scenario["n_trials"] == 100 and bare.scenario["walltime_limit"] == math.inf
    assert any("SMAC's default of 100" in note for note in bare.notes)


def test_search_walltime_comes_from_stopping_then_budget() -> None:
    assert (
        plan_for(make(budget={"walltime": "2m"}, stopping={"n_trials": 20})).scenario["walltime_limit"] == 120
    )
    both = plan_for(make(budget={"walltime": "1m"}, stopping={"n_trials": 20, "walltime": "5m"}))
    assert both.scenario["walltime_limit"] == 60
    assert plan_for(make(stopping={"n_trials": 20, "cputime": "30s"})).scenario["cputime_limit"] == 30


def test_cost_threshold_goes_to_the_scenario_or_to_a_full_budget_callback() -> None:
    plan = plan_for(make(stopping={"n_trials": 20, "cost_threshold": 0.05}))
    assert plan.scenario["termination_cost_threshold"] == 0.05
    mf = plan_for(
        make(
            optimizer={"kind": "hyperband"},
            fidelity={"type": "subsample", "min": 0.1, "max": 1.0},
            stopping={"n_trials": 30, "cost_threshold": 0.05},
        )
    )
    assert mf.scenario["termination_cost_threshold"] == math.inf
    assert {"name": "cost_threshold", "threshold": 0.05, "max_budget": 1.0} in mf.callbacks


def test_plateau_callback_carries_patience_and_delta() -> None:
    plan = plan_for(make(stopping={"n_trials": 20, "plateau_patience": 4, "plateau_min_delta": 0.01}))
    assert plan.callbacks[-1] == {"name": "plateau", "patience": 4, "min_delta": 0.01}


def test_warm_start_initial_design_and_size() -> None:
    warm = [{"model": "linear", "linear:C": 1.0}]
    config = make(initial_design={"kind": "random", "size": 4, "warm_start": warm}, stopping={"n_trials": 20})
    plan = plan_for(config, warm_start=warm)
    assert plan.initial_design.cls == "smac.initial_design.RandomInitialDesign"
    assert plan.initial_design.kwargs["additional_configs"] == warm
    assert plan.initial_design.kwargs["n_configs"] == 4
    assert plan.initial_design_size == 5
    pure = plan_for(
        make(initial_design={"size": 0, "warm_start": warm}, stopping={"n_trials": 20}), warm_start=warm
    )
    assert pure.initial_design_size == 1


def test_initial_design_that_does_not_fit_in_n_trials_is_refused() -> None:
    warm = [{"model": "linear"}] * 3
    with pytest.raises(UsageError, match=re.escape("must fit in `stopping.n_trials` (3)")):
        plan_for(
            make(initial_design={"size": 1, "warm_start": warm}, stopping={"n_trials": 3}), warm_start=warm
        )


def test_initial_design_size_follows_smacs_formula() -> None:
    assert (
        initial_design_size(
            size=None, per_hyperparameter=10, n_hyperparameters=3, max_ratio=0.25, n_trials=100
        )
        == 25
    )
    assert (
        initial_design_size(
            size=None, per_hyperparameter=10, n_hyperparameters=2, max_ratio=0.25, n_trials=100
        )
        == 20
    )
    assert (
        initial_design_size(size=7, per_hyperparameter=10, n_hyperparameters=2, max_ratio=0.1, n_trials=10)
        == 1
    )
    assert (
        initial_design_size(size=1, per_hyperparameter=10, n_hyperparameters=2, max_ratio=0.01, n_trials=10)
        == 1
    )


def test_seed_cli_wins_then_config_then_zero() -> None:
    assert plan_for(make(stopping={"n_trials": 20}, execution={"seed": 5}), seed=9).scenario["seed"] == 9
    assert plan_for(make(stopping={"n_trials": 20}, execution={"seed": 5})).scenario["seed"] == 5
    unset = plan_for(make(stopping={"n_trials": 20}))
    assert unset.scenario["seed"] == 0 and any("execution.seed is unset" in n for n in unset.notes)


def test_meta_is_a_stable_hash_of_the_plan_without_paths() -> None:
    config = make(stopping={"n_trials": 20})
    space = build_space(config)
    first = compile_smac(config, space, run_dir=Path("/a"))
    again = compile_smac(config, space, run_dir=Path("/elsewhere"))
    other_seed = compile_smac(config, space, run_dir=Path("/a"), seed=1)
    assert len(first.meta) == 64
    assert first.meta == again.meta
    assert first.meta != other_seed.meta


def test_plan_is_json_renderable_and_the_python_script_is_valid() -> None:
    config = make(
        optimizer={"kind": "hyperband"},
        fidelity={"type": "subsample"},
        stopping={"n_trials": 30, "trial_memory": "1GB"},
    )
    space = build_space(config)
    plan = compile_smac(config, space, run_dir=RUN_DIR)
    data = json.loads(json.dumps(plan.to_dict(), allow_nan=False))
    assert data["scenario"]["walltime_limit"] is None  # inf: no limit
    source = render_python(plan, space, config, base_dir=".", name="plan")  # tests/test_compile_python.py runs it
    compile(source, "<script>", "exec")
    assert 'TRIAL_MEMORY_LIMIT = (1024, "MB")' in source and "trial_memory_limit=TRIAL_MEMORY_LIMIT," in source
    assert "Hyperband(\n        scenario,\n        eta=3," in source
    assert "RandomForest(\n        configspace=scenario.configspace,\n        seed=scenario.seed,\n        log_y=True," in source


# --------------------------------------------------------------------------------------- build_smac
def _target(plan: SmacPlan, config: Config) -> TrialTarget:
    cls = BudgetTrialTarget if "budget" in plan.target["arguments"] else TrialTarget
    return cls(config.model_dump_json(), ".", 0)


def test_build_smac_passes_exactly_the_plan_to_the_facade(tmp_path: Path) -> None:
    config = make(
        optimizer={"kind": "hyperband"},
        fidelity={"type": "subsample", "min": 0.1, "max": 1.0, "eta": 3},
        stopping={"n_trials": 30, "trial_memory": "1GB", "trial_walltime": "4s"},
        initial_design={"warm_start": [{"model": "linear", "linear:C": 2.0}]},
    )
    space = build_space(config)
    warm = [normalize_warm_start(space, {"model": "linear", "linear:C": 2.0})]
    plan = compile_smac(config, space, run_dir=tmp_path, warm_start=warm)
    with mock.patch("smac.MultiFidelityFacade") as facade:
        build_smac(plan, space, _target(plan, config), callbacks=["cb"], overwrite=True)
    assert facade.call_count == 1
    args, kwargs = facade.call_args
    scenario_obj, runner = args
    assert set(kwargs) == {
        "callbacks",
        "overwrite",
        "intensifier",
        "initial_design",
        "random_design",
        "model",
        "logging_level",
    }
    assert kwargs["callbacks"] == ["cb"] and kwargs["overwrite"] is True and kwargs["logging_level"] == 40
    assert scenario_obj.trial_memory_limit == (1024, "MB")
    assert scenario_obj.trial_walltime_limit == 4
    assert (scenario_obj.min_budget, scenario_obj.max_budget, scenario_obj.n_trials) == (0.1, 1.0, 30)
    assert (
        scenario_obj.crash_cost == 1.0 and scenario_obj.deterministic is True and scenario_obj.n_workers == 1
    )
    assert scenario_obj.output_directory == tmp_path / "smac" / "metaconf" / "0"
    assert type(kwargs["intensifier"]).__name__ == "Hyperband" and kwargs["intensifier"]._eta == 3
    design = kwargs["initial_design"]
    assert type(design).__name__ == "SobolInitialDesign"
    assert [dict(c) for c in design._additional_configs] == warm
    assert warm[0]["linear:C"] == 2.0
    assert kwargs["model"]._rf_opts["n_jobs"] == 1
    assert kwargs["random_design"]._probability == 0.2
    # The limits reach the target, which applies them with pynisher's fork context (see limits.py)
    assert runner._target_function.limits == ((1024, "MB"), 4)
    assert runner._memory_limit is None and runner._algorithm_walltime_limit is None
    assert runner._required_arguments == ["seed", "budget"]


@pytest.mark.parametrize("kind", ["bo", "bo_gp", "random", "hyperband", "successive_halving"])
def test_smac_accepts_every_compiled_family(tmp_path: Path, kind: str) -> None:
    """No mock: SMAC builds a facade from every plan (its own validation passes) and keeps our values."""
    config = make(optimizer={"kind": kind}, fidelity={"type": "subsample"}, stopping={"n_trials": 12})
    space = build_space(config)
    plan = compile_smac(config, space, run_dir=tmp_path)
    target = _target(plan, config)
    smac = build_smac(plan, space, target, callbacks=[], overwrite=True)
    assert type(smac).__name__ == plan.facade
    assert smac.scenario.crash_cost == 1.0
    assert smac.scenario.n_trials == 12
    assert type(smac.intensifier).__name__ == plan.intensifier.cls.rpartition(".")[2]
    # SMAC hashes the target's bytecode into the scenario it compares on resume: ours is stable per class
    assert smac.scenario.meta["runner"]["code"] == str(type(target).__call__.__code__.co_code)
