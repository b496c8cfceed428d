"""`metaconf compile -f python`: the script runs as is and reproduces the run's trials.

End to end (marked ``slow``, a few seconds each): ``metaconf run`` on a small config, then the exported script
run with ``python script.py`` from another directory; the trials in SMAC's ``runhistory.json`` of both (their
configurations, budgets, seeds, statuses and costs) must be equal, and equal to metaconf's own
``trajectory.csv``. The other tests check the script's text without running a search.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.model import Config
from metaconf.errors import UsageError
from metaconf.report.results import read_results
from metaconf.space.builtin import build_space
from metaconf.space.configurations import normalize_warm_start
from metaconf.targets.smac.compile import compile_smac
from metaconf.targets.smac.script import render_python, target_config_data

cli = CliRunner()
TESTS_DIR = Path(__file__).resolve().parent


def write_config(directory: Path, name: str, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def subprocess_env() -> dict[str, str]:
    """The caller's environment without ``PYTHONHASHSEED``: ``metaconf run`` and the script both set it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR.parent), env.get("PYTHONPATH", "")]))
    return env


def export_script(config: Path, destination: Path) -> Path:
    result = cli.invoke(app, ["compile", str(config), "-f", "python"])
    assert result.exit_code == 0, result.output
    destination.write_text(result.stdout)
    return destination


def smac_trials(smac_dir: Path) -> list[dict[str, Any]]:
    """SMAC's trials in the order they were told: configuration, budget, seed, status, cost."""
    history = json.loads((smac_dir / "runhistory.json").read_text())
    return [
        {
            "config": history["configs"][str(row["config_id"])],
            "budget": row["budget"],
            "seed": row["seed"],
            "status": row["status"],
            "cost": row["cost"],
        }
        for row in history["data"]
    ]


def trajectory_costs(run_dir: Path) -> list[float | None]:
    with (run_dir / "trajectory.csv").open() as handle:
        return [float(row["cost"]) if row["cost"] else None for row in csv.DictReader(handle)]


def run_both(config: Path, cwd: Path, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """``metaconf run`` on ``config``, then its exported script from ``cwd``: both runs' trials and the
    script's output."""
    env = subprocess_env()
    run = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", str(config), "-q"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    script = export_script(config, cwd.parent / f"{config.stem}_smac.py")
    cwd.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    run_dir = config.parent / "runs" / config.stem
    ran = smac_trials(run_dir / "smac" / "metaconf" / str(seed))
    exported = smac_trials(cwd / "smac3_output" / config.stem / "metaconf" / str(seed))
    return ran, exported, done.stdout


@pytest.mark.slow
def test_script_reproduces_the_runs_trials_with_per_trial_limits(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "project",
        "iris_bo",
        {
            "data": {"demo": "iris"},
            "search_space": {"models": ["random_forest", "linear"]},
            "initial_design": {"size": 3},
            "stopping": {
                "n_trials": 6,
                "trial_walltime": "30s",
                "trial_memory": "3GB",
                "plateau_patience": 5,
            },
            "execution": {"seed": 4, "output_dir": "runs"},
        },
    )
    ran, exported, stdout = run_both(config, tmp_path / "elsewhere", seed=4)
    assert len(ran) == 6
    assert exported == ran  # the same configurations, in the same order, with the same costs
    assert all(trial["status"] == 1 for trial in ran)  # SUCCESS: the limits did not cut a trial
    run_dir = config.parent / "runs" / config.stem
    assert trajectory_costs(run_dir) == pytest.approx([t["cost"] for t in exported])
    incumbent = read_results(run_dir).incumbent
    assert incumbent is not None and incumbent.cost is not None
    assert f"incumbent (cost {incumbent.cost:.6g}, accuracy " in stdout
    # the script's SMAC never writes into metaconf's run directory, nor next to the config
    assert not (config.parent / "smac3_output").exists()


@pytest.mark.slow
def test_multi_fidelity_script_on_a_data_file_reproduces_budgets_and_warm_starts(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    load_iris(as_frame=True).frame.to_csv(project / "data" / "iris.csv", index=False)
    config = write_config(
        project,
        "iris_hb",
        {
            "task": {"type": "classification", "target": "target"},
            "data": {"path": "data/iris.csv"},  # relative to the config: the script holds it absolute
            "search_space": {"models": ["k_nearest_neighbors", "decision_tree"]},
            "optimizer": {"kind": "hyperband"},
            "fidelity": {"type": "subsample", "min": 0.3},
            "initial_design": {"warm_start": [{"model": "decision_tree"}]},
            "stopping": {"n_trials": 8},
            "execution": {"seed": 5, "output_dir": "runs"},
        },
    )
    ran, exported, _ = run_both(config, tmp_path / "elsewhere", seed=5)
    assert len(ran) == 8
    assert exported == ran
    budgets = sorted({round(t["budget"], 6) for t in ran})
    assert budgets == [0.333333, 1.0]  # Hyperband's rungs (eta 3, from 0.3)
    loaded = Config.model_validate(yaml.safe_load(config.read_text()))
    warm = normalize_warm_start(build_space(loaded, project), {"model": "decision_tree"})
    assert warm in [t["config"] for t in exported]  # the warm start was evaluated


# ------------------------------------------------------------------------------------------- the text
def make(**sections: Any) -> Config:
    data: dict[str, Any] = {"data": {"demo": "iris"}, "search_space": {"models": ["random_forest", "linear"]}}
    data.update(sections)
    return Config.model_validate(data)


def script_for(config: Config, base_dir: Path = Path("/project")) -> str:
    space = build_space(config, base_dir)
    warm = [normalize_warm_start(space, values) for values in config.initial_design.warm_start]
    plan = compile_smac(config, space, run_dir=Path("/project/runs/x"), warm_start=warm)
    return render_python(plan, space, config, base_dir=base_dir, name="x", source="x.yaml")


def constants(source: str) -> dict[str, Any]:
    """The script's top-level constants that are plain literals."""
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                values[node.targets[0].id] = ast.unparse(node.value)
    return values


@pytest.mark.parametrize(
    ("sections", "facade"),
    [
        ({"stopping": {"n_trials": 20}}, "HyperparameterOptimizationFacade"),
        ({"optimizer": {"kind": "bo_gp"}, "stopping": {"n_trials": 20}}, "BlackBoxFacade"),
        ({"optimizer": {"kind": "random"}, "stopping": {"n_trials": 20}}, "RandomFacade"),
        (
            {"optimizer": {"kind": "successive_halving"}, "fidelity": {"type": "subsample"},
             "stopping": {"n_trials": 30, "cost_threshold": 0.1, "plateau_patience": 4}},
            "MultiFidelityFacade",
        ),
    ],
)  # fmt: skip
def test_script_is_valid_python_with_the_plans_calls(sections: dict[str, Any], facade: str) -> None:
    source = script_for(make(**sections))
    compile(source, "<script>", "exec")
    assert f"    smac = {facade}(\n        scenario,\n        runner," in source
    assert "overwrite=False" in source
    assert 'if __name__ == "__main__":' in source and '"PYTHONHASHSEED": "0"' in source
    # the configuration printed is the one `metaconf run` keeps (resampling.selection_margin)
    assert "kept_configuration(smac.runhistory, incumbent, evaluator, config.resampling.selection_margin)" in source
    values = constants(source)
    assert values["N_TRIALS"] == sections["stopping"]["n_trials"] and values["SEED"] == 0
    assert values["OUTPUT_DIRECTORY"] == "Path('smac3_output') / 'x'"
    if facade == "MultiFidelityFacade":
        assert "BudgetTrialTarget(" in source and "required_arguments=['seed', 'budget']" in ast.unparse(
            ast.parse(source)
        )
        assert "FullBudgetCostThreshold(state, threshold=0.1, max_budget=1.0)" in source
        assert "PlateauStop(state, recorder, patience=4, min_delta=0.0)" in source
        assert "termination_cost_threshold=math.inf" in source  # SMAC's own check stays off


def test_limits_seed_and_data_path_are_constants_at_the_top(tmp_path: Path) -> None:
    config = make(
        data={"path": "data/iris.csv"},
        task={"target": "species"},
        stopping={"n_trials": 20, "trial_walltime": "2.5s", "trial_memory": "1GB", "walltime": "1m"},
        execution={"seed": 7},
    )
    source = script_for(config, tmp_path)
    values = constants(source)
    assert values["SEED"] == 7
    assert values["TRIAL_WALLTIME_LIMIT"] == 3  # rounded up, as SMAC's pynisher would
    assert values["TRIAL_MEMORY_LIMIT"] == (1024, "MB")  # with its unit: a bare number is bytes
    assert values["WALLTIME_LIMIT"] == 60.0
    assert values["DATA_PATH"] == str((tmp_path / "data" / "iris.csv").resolve())
    assert values["CONFIG_DIR"] == str(tmp_path.resolve())
    for argument, constant in [
        ("seed", "SEED"),
        ("n_trials", "N_TRIALS"),
        ("trial_walltime_limit", "TRIAL_WALLTIME_LIMIT"),
        ("trial_memory_limit", "TRIAL_MEMORY_LIMIT"),
        ("walltime_limit", "WALLTIME_LIMIT"),
        ("output_directory", "OUTPUT_DIRECTORY"),
    ]:
        assert f"        {argument}={constant},\n" in source
    # the target reads the config with the script's constants in it
    assert '"execution": {"seed": SEED}' in source and '"path": DATA_PATH' in source
    assert "LimitingTargetRunner(scenario=scenario, target_function=target" in source


def test_search_space_reads_back_as_the_runs_space() -> None:
    from ConfigSpace import ConfigurationSpace

    config = make(
        search_space={"models": ["random_forest", "linear", "k_nearest_neighbors"]},
        stopping={"n_trials": 20},
    )
    source = script_for(config)
    text = constants(source)["SEARCH_SPACE"]
    assert ConfigurationSpace.from_json(io.StringIO(text)) == build_space(config)
    assert '"name": "random_forest:min_samples_leaf"' in text  # one hyperparameter a line, readable


def test_target_config_keeps_what_trials_read_and_nothing_else(tmp_path: Path) -> None:
    config = make(
        task={"type": "classification", "metric": "balanced_accuracy"},
        data={"path": "d.csv", "test_size": 0.3},
        budget={"walltime": "10m", "memory": "4GB"},
        resampling={"strategy": "cv", "folds": 3},
        fidelity={"type": "subsample", "max": 0.8},
        stopping={"n_trials": 20, "plateau_patience": 3},
        optimizer={"kind": "random"},
        execution={"seed": 2, "workers": 1, "name": "n"},
    )
    data = target_config_data(config, tmp_path)
    assert set(data) == {"task", "data", "budget", "fidelity", "resampling", "execution"}
    assert data["budget"] == {"memory": "4GB"} and data["execution"] == {"seed": 2}
    assert data["data"]["path"] == str((tmp_path / "d.csv").resolve())
    again = Config.model_validate(data)
    for section in ("task", "fidelity", "resampling"):
        assert getattr(again, section) == getattr(config, section)
        assert getattr(again, section).model_fields_set == getattr(config, section).model_fields_set
    assert again.data.test_size == 0.3 and again.budget.memory == config.budget.memory
    assert again.execution.seed == 2
    # an unset task.type stays unset (the data loader then infers the task, as in the run)
    assert "type" not in Config.model_validate(target_config_data(make(), tmp_path)).task.model_fields_set


def test_user_space_script_imports_the_estimator_from_the_configs_directory(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text("max_depth: {lower: 1, upper: 8}\ncriterion: [gini, entropy]\n")
    config = Config.model_validate(
        {
            "data": {"demo": "iris"},
            "search_space": {"file": "space.yaml", "estimator": "my_tree:MyTree"},
            "stopping": {"n_trials": 10},
        }
    )
    source = script_for(config, tmp_path)
    compile(source, "<script>", "exec")
    assert "    add_config_directory(CONFIG_DIR)" in source
    assert f'"file": "{(tmp_path / "space.yaml").resolve()}"' in source
    assert '"estimator": "my_tree:MyTree"' in source


def test_dask_execution_is_named_in_a_comment() -> None:
    source = script_for(make(stopping={"n_trials": 20}, execution={"workers": 2}))
    assert "# - `metaconf run` runs this config's trials on 2 local Dask workers; this script runs" in source


def test_a_space_that_does_not_read_back_is_refused() -> None:
    from ConfigSpace import ConfigurationSpace

    with (
        mock.patch.object(ConfigurationSpace, "from_json", side_effect=ValueError("unknown type")),
        pytest.raises(UsageError, match="cannot be written into a Python script"),
    ):
        script_for(make(stopping={"n_trials": 20}))


def test_compile_command_prints_the_script(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, "cli", {"data": {"demo": "iris"}, "stopping": {"n_trials": 12}, "execution": {"seed": 9}}
    )
    result = cli.invoke(app, ["compile", str(config), "-f", "python", "--seed", "11"])
    assert result.exit_code == 0, result.output
    values = constants(result.stdout)
    assert values["SEED"] == 11 and values["N_TRIALS"] == 12
    assert values["OUTPUT_DIRECTORY"] == "Path('smac3_output') / 'cli'"
    assert "SMAC3 search for `cli.yaml`" in result.stdout
