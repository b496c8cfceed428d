"""Repeatable suggestions: `metaconf suggest` with the probe on writes the same file when rerun on one machine
(the measured costs enter the advice on a grid, with hysteresis against the config it overwrites), and a real
change of the costs still moves them."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from metaconf.advise.envelope import CostModel
from metaconf.advise.repeatable import (
    GRID,
    STEPS_PER_DECADE,
    cached_probe,
    grid_value,
    machine_identity,
    previous_probe,
    probe_cache_dir,
    probe_cache_key,
    probe_record,
    remember_probe,
    repeatable_costs,
    reused_costs,
    snap,
    snap_exponent,
)

STEP = 10 ** (1 / STEPS_PER_DECADE)


def _run_suggest(output: Path, *args: str) -> str:
    """One `metaconf suggest` in a fresh process, as a user runs it (imports and all); what it printed."""
    command = [sys.executable, "-m", "metaconf", "suggest", *args, "-o", str(output), "--force"]
    env = {**os.environ, "COLUMNS": "400"}  # the summary table's notes on one line each
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def _suggest(output: Path, *args: str) -> str:
    """The file one `metaconf suggest` wrote."""
    _run_suggest(output, *args)
    return output.read_text(encoding="utf-8")


def _differences(texts: list[str]) -> str:
    """The first rerun that differs from the first run, as a unified diff (for the assertion message)."""
    for index, text in enumerate(texts[1:], start=2):
        if text != texts[0]:
            diff = difflib.unified_diff(texts[0].splitlines(), text.splitlines(), "run 1", f"run {index}", lineterm="")
            return "\n".join(diff)
    return ""


def _probe(text: str) -> dict:
    return yaml.safe_load(text)["provenance"]["inputs"]["probe"]


@pytest.mark.slow
def test_reruns_with_the_probe_write_byte_identical_yaml(tmp_path: Path) -> None:
    output = tmp_path / "iris.yaml"
    first = _run_suggest(output, "--demo", "iris", "--budget", "40s")
    assert "fits limited to" in first  # the first run measured
    texts = [output.read_text(encoding="utf-8")]
    for _ in range(3):
        done = _run_suggest(output, "--demo", "iris", "--budget", "40s")
        assert "are reused" in done and "--reprobe measures again" in done
        texts.append(output.read_text(encoding="utf-8"))
    assert all(text == texts[0] for text in texts[1:]), _differences(texts)
    probe = _probe(texts[0])
    assert probe["grid"] == GRID
    assert probe["machine"] == machine_identity() and probe["limit_s"] == 1.2
    assert probe["task_type"] == "classification"
    # every recorded seconds value is a grid point, which survives being written and read back
    for value in [probe["machine_factor"], probe["probe_seconds"], *probe["seconds_per_fit"].values()]:
        assert snap(value) == value


@pytest.mark.slow
def test_reprobe_another_machine_or_budget_measure_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "iris.yaml"
    _suggest(output, "--demo", "iris", "--budget", "40s")
    # --reprobe measures again; the hysteresis holds the new measurement at the recorded values where close
    done = _run_suggest(output, "--demo", "iris", "--budget", "40s", "--reprobe")
    assert "fits limited to" in done and "kept at those recorded in" in done
    # a config measured on another machine class is not reused (and with no cache, nothing stands in for it)
    monkeypatch.setenv("METACONF_PROBE_CACHE", "off")
    document = yaml.safe_load(output.read_text(encoding="utf-8"))
    machine = document["provenance"]["inputs"]["probe"]["machine"]
    document["provenance"]["inputs"]["probe"]["machine"] = "x86_64, another CPU, 64 CPUs"
    output.write_text(yaml.safe_dump(document), encoding="utf-8")
    done = _run_suggest(output, "--demo", "iris", "--budget", "40s")
    assert "fits limited to" in done and "are reused" not in done
    assert _probe(output.read_text(encoding="utf-8"))["machine"] == machine
    # another budget gives the probe another limit: measured again
    done = _run_suggest(output, "--demo", "iris", "--budget", "2m")
    assert "fits limited to 3.6 s" in done and "are reused" not in done
    assert _probe(output.read_text(encoding="utf-8"))["limit_s"] == 3.6


@pytest.mark.slow
def test_a_rerun_into_another_file_reuses_the_cached_costs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, third = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    assert "fits limited to" in _run_suggest(first, "--demo", "iris", "--budget", "40s")
    done = _run_suggest(second, "--demo", "iris", "--budget", "40s")
    assert f"cached in {probe_cache_dir()}" in done and "are reused" in done
    assert second.read_bytes() == first.read_bytes()
    # overwriting a config measured for another budget: the cache still holds this budget's costs
    _run_suggest(first, "--demo", "iris", "--budget", "2m")
    done = _run_suggest(first, "--demo", "iris", "--budget", "40s")
    assert "cached in" in done and "are reused" in done
    assert first.read_bytes() == second.read_bytes()
    # with the cache off, the probe measures again and nothing is cached
    monkeypatch.setenv("METACONF_PROBE_CACHE", "off")
    done = _run_suggest(third, "--demo", "iris", "--budget", "40s")
    assert "fits limited to" in done and "are reused" not in done


def test_probe_cache_round_trip_and_keys(tmp_path: Path) -> None:
    demo = {"name": "iris", "source": "demo"}
    key = probe_cache_key(demo, rows=150, task_type="classification", families=["linear", "mlp"], limit_s=1.2)
    assert key is not None
    record = {"method": "probe", **probe_record(_model(), machine=machine_identity(), limit_s=1.2)}
    assert cached_probe(key) == {}
    remember_probe(key, record, fingerprint=demo, rows=150)
    assert cached_probe(key) == record
    # the families are a set; anything else that changes the costs changes the key
    assert key == probe_cache_key(
        demo, rows=150, task_type="classification", families=["mlp", "linear"], limit_s=1.2
    )
    others = [
        probe_cache_key(demo, rows=151, task_type="classification", families=["linear", "mlp"], limit_s=1.2),
        probe_cache_key(demo, rows=150, task_type="regression", families=["linear", "mlp"], limit_s=1.2),
        probe_cache_key(demo, rows=150, task_type="classification", families=["linear"], limit_s=1.2),
        probe_cache_key(demo, rows=150, task_type="classification", families=["linear", "mlp"], limit_s=3.6),
        probe_cache_key({**demo, "name": "wine"}, rows=150, task_type="classification", families=["mlp"], limit_s=1),
    ]
    assert key not in others and len(set(others)) == len(others)
    # a file too large to hash has no key: same size is no proof of same content
    big = {"name": "big.csv", "source": "file", "bytes": 300 * 1024 * 1024}
    assert probe_cache_key(big, rows=10**6, task_type="regression", families=["linear"], limit_s=30) is None


def test_probe_cache_ignores_broken_entries_and_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = probe_cache_dir()
    assert folder is not None
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in [("a", "not json"), ("b", "[1, 2]"), ("c", '{"record": {"grid": "another grid"}}')]:
        (folder / f"{name}.json").write_text(text, encoding="utf-8")
        assert cached_probe(name) == {}
    assert cached_probe(None) == {}
    for value in ("off", "0", ""):
        monkeypatch.setenv("METACONF_PROBE_CACHE", value)
        assert probe_cache_dir() is None
    remember_probe("d", {"grid": GRID}, fingerprint={}, rows=1)  # nowhere to write: skipped
    assert not (folder / "d.json").exists()
    monkeypatch.delenv("METACONF_PROBE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert probe_cache_dir() == tmp_path / "xdg" / "metaconf" / "probes"


def test_grid_values_survive_yaml_and_map_back_to_their_index() -> None:
    for index in range(-60, 37):
        value = grid_value(index)
        assert yaml.safe_load(yaml.safe_dump(value)) == value
        assert snap(value) == value
    assert [grid_value(k) for k in range(13)] == [
        1.0, 1.21, 1.47, 1.78, 2.15, 2.61, 3.16, 3.83, 4.64, 5.62, 6.81, 8.25, 10.0,
    ]


def test_snap_takes_the_nearest_grid_point_in_log_space() -> None:
    assert snap(1.05) == 1.0  # 0.25 steps above 1.0
    assert snap(1.15) == 1.21  # 0.73 steps above
    assert snap(0.0047) == 0.00464
    assert snap(0.0) == 0.0


def test_hysteresis_keeps_a_recorded_value_against_noise_but_not_a_real_change() -> None:
    recorded = snap(0.5)
    assert recorded == 0.464
    # a value right at the midpoint between two grid points flips without a record, not with one
    midpoint = recorded * STEP**0.5
    assert {snap(midpoint * 0.99), snap(midpoint * 1.01)} == {0.464, 0.562}
    assert snap(midpoint * 0.99, recorded) == snap(midpoint * 1.01, recorded) == recorded
    # within two steps (~47 %) either way: kept
    assert snap(recorded * 1.45, recorded) == recorded
    assert snap(recorded / 1.45, recorded) == recorded
    # a machine 2x slower or faster (3.6 steps) moves the value to the grid point nearest the measurement
    assert snap(recorded * 2, recorded) == snap(recorded * 2) == 1.0
    assert snap(recorded / 2, recorded) == snap(recorded / 2) == 0.215


def test_exponents_on_their_grid_with_hysteresis() -> None:
    assert snap_exponent(1.13) == 1.25 and snap_exponent(0.8) == 0.75
    assert snap_exponent(1.67, 1.0) == 1.0  # the 1.04-1.67 spread of one family over ten runs
    assert snap_exponent(1.9, 1.0) == 2.0


def _model(scale: float = 1.0, **overrides: float) -> CostModel:
    seconds = {"linear": 0.02, "random_forest": 0.25, "mlp": 0.4}
    seconds.update(overrides)
    return CostModel(
        fit_seconds={k: v * scale for k, v in seconds.items()},
        rows=1000,
        exponent={"linear": 1.0, "random_forest": 1.4, "mlp": 1.4},
        source="probe",
        probe_seconds=1.3,
        machine_factor=0.9 * scale,
    )


def _rerun(model: CostModel, measured: set[str], first: CostModel) -> CostModel:
    return repeatable_costs(model, measured, dict(probe_record(first)))


def test_repeatable_costs_anchor_the_seconds_and_put_everything_on_the_grid() -> None:
    model = _model()
    costs = repeatable_costs(model, set(model.fit_seconds), {})
    assert costs.rows == 640  # the rows of a 5-fold CV fit after the 20 % test split
    assert costs.fit_seconds["random_forest"] == snap(0.25 * 0.64**1.4)
    assert costs.exponent == {"linear": 1.0, "random_forest": 1.5, "mlp": 1.5}
    assert (costs.machine_factor, costs.probe_seconds) == (0.825, 1.21)
    assert costs.source == "probe"


def test_a_rerun_with_noisy_timings_keeps_every_value() -> None:
    measured = {"linear", "random_forest", "mlp"}
    first = repeatable_costs(_model(), measured, {})
    noisy = _model(1.3, linear=0.016)  # everything 30 % slower, the linear model 20 % faster
    assert _rerun(noisy, measured, first) == first


def test_a_machine_twice_as_slow_moves_the_values() -> None:
    measured = {"linear", "random_forest", "mlp"}
    first = repeatable_costs(_model(), measured, {})
    model = _model(2.0)
    slower = _rerun(model, measured, first)
    assert slower.machine_factor == snap(1.8) == 1.78
    for name, seconds in first.fit_seconds.items():
        assert slower.fit_seconds[name] == snap(model.seconds(name, 640)) > 1.7 * seconds


def test_a_family_the_probe_skipped_this_time_keeps_its_recorded_cost() -> None:
    first = repeatable_costs(_model(), {"linear", "random_forest", "mlp"}, {})
    # the probe's limit left the MLP unmeasured: cost model x machine factor, 2.5x its measured cost
    skipped = _rerun(_model(mlp=1.0), {"linear", "random_forest"}, first)
    assert skipped.fit_seconds["mlp"] == first.fit_seconds["mlp"]
    # once measured again, it follows the measurement
    assert _rerun(_model(mlp=1.0), {"linear", "random_forest", "mlp"}, first).fit_seconds["mlp"] == snap(
        1.0 * 0.64**1.4
    )


def _config(path: Path, probe: dict, dataset: dict, rows: int = 150) -> Path:
    document = {"provenance": {"inputs": {"dataset": dataset, "data": {"rows": rows}, "probe": probe}}}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_previous_config_is_reused_only_for_the_same_data_and_grid(tmp_path: Path) -> None:
    record = {"method": "probe", **probe_record(repeatable_costs(_model(), {"linear"}, {}))}
    iris = {"name": "iris", "source": "demo"}
    same = _config(tmp_path / "same.yaml", record, iris)
    assert previous_probe(same, iris, 150) == record
    assert previous_probe(same, {"name": "wine", "source": "demo"}, 150) == {}
    assert previous_probe(same, iris, 178) == {}  # other rows
    other_grid = _config(tmp_path / "grid.yaml", {**record, "grid": "another grid"}, iris)
    assert previous_probe(other_grid, iris, 150) == {}
    assert previous_probe(tmp_path / "missing.yaml", iris, 150) == {}
    (tmp_path / "broken.yaml").write_text("provenance: [not, a, config", encoding="utf-8")
    assert previous_probe(tmp_path / "broken.yaml", iris, 150) == {}
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    assert previous_probe(tmp_path / "list.yaml", iris, 150) == {}
    # the earlier file is read with the loader's limits: an alias bomb or a python tag is ignored, not expanded or run
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    (tmp_path / "bomb.yaml").write_text(bomb, encoding="utf-8")
    assert previous_probe(tmp_path / "bomb.yaml", iris, 150) == {}
    (tmp_path / "tag.yaml").write_text("provenance: !!python/object/apply:os.system [echo]\n", encoding="utf-8")
    assert previous_probe(tmp_path / "tag.yaml", iris, 150) == {}


def test_the_advisor_reserves_the_probes_cpu_seconds_and_scales_a_single_fit_along_its_curve() -> None:
    from types import SimpleNamespace

    from metaconf.advise.inputs import cost_model_from_probe

    def family(seconds: float, fit_seconds: float, exponent: float, measurements: list) -> SimpleNamespace:
        source = "probe" if measurements else "cost model"
        return SimpleNamespace(
            seconds=seconds, fit_seconds=fit_seconds, exponent=exponent, source=source, measurements=measurements
        )

    result = SimpleNamespace(
        families={
            # fitted once on 284 rows (0.016 s), extrapolated to 0.031 s on 569 along the cost model's curve:
            # slope 0.95, not the model's pure power law 2.06
            "svm": family(0.031, 0.031, 2.06, [(284, 0.016)]),
            "linear": family(0.03, 0.03, 1.3, [(284, 0.02), (569, 0.03)]),  # fitted twice: its own slope
            "mlp": family(0.4, 0.4, 1.44, []),  # not measured: the model's
        },
        rows=569,
        walltime_s=3.1,  # a busy machine
        cpu_s=1.2,
        method="probe",
    )
    model = cost_model_from_probe(result, n_rows=569, measured=False)
    assert model.exponent["svm"] == pytest.approx(0.95, abs=0.01)
    assert model.exponent["linear"] == 1.3 and model.exponent["mlp"] == 1.44
    assert cost_model_from_probe(result, n_rows=569, measured=True).probe_seconds == 1.2


def test_the_probe_records_its_cpu_seconds_and_how_busy_the_machine_was() -> None:
    import numpy as np
    import pandas as pd

    from metaconf.data.load import Dataset
    from metaconf.profile.probe import probe_trial_cost

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 4)), columns=list("abcd"))
    y = pd.Series(np.where(X["a"] + rng.normal(size=200) > 0, "yes", "no"), name="y")
    result = probe_trial_cost(
        Dataset(X=X, y=y, name="synthetic", source="test", task_type="classification"),
        task_type="classification", families=["linear", "decision_tree"], resampling_folds=1, time_limit_s=10.0,
    )
    fits = sum(t for cost in result.families.values() for _, t in cost.measurements)
    assert 0 < fits <= result.cpu_s  # the fits' CPU seconds are part of the probe's
    assert result.wall_per_cpu > 0
    assert result.to_dict()["cpu_s"] == result.cpu_s


def _record(**changes: object) -> dict:
    model = repeatable_costs(_model(), {"linear", "random_forest", "mlp"}, {})
    record = {
        "method": "probe: fitted on 500, 1000 rows",
        **probe_record(model, machine=machine_identity(), limit_s=1.2, task_type="classification"),
    }
    record.update(changes)
    return record


def test_costs_measured_on_this_machine_are_reused_as_recorded() -> None:
    families = ["linear", "random_forest", "mlp"]
    record = _record()
    costs = reused_costs(record, rows=1000, families=families, limit_s=1.2, task_type="classification")
    first = repeatable_costs(_model(), set(families), {})
    assert costs is not None
    assert costs.fit_seconds == first.fit_seconds and costs.exponent == first.exponent
    assert (costs.rows, costs.machine_factor, costs.probe_seconds) == (first.rows, first.machine_factor, 1.21)
    assert costs.source == "probe: fitted on 500, 1000 rows"
    # written and read back, the record gives the same costs
    again = yaml.safe_load(yaml.safe_dump({"probe": {**record}}))["probe"]
    assert reused_costs(again, rows=1000, families=families, limit_s=1.2, task_type="classification") == costs


@pytest.mark.parametrize(
    ("change", "families", "limit", "task"),
    [
        ({"machine": "x86_64, another CPU, 2 CPUs; Python 3.11.7, scikit-learn 1.9.1, lightgbm 4.6.0"},
         None, 1.2, "classification"),
        ({}, None, 3.6, "classification"),  # another budget: another probe limit
        ({}, None, 1.2, "regression"),
        ({}, ["linear", "random_forest"], 1.2, "classification"),  # --models: the limit was shared otherwise
        ({}, ["linear", "random_forest", "mlp", "svm"], 1.2, "classification"),
        ({"machine_factor": float("nan")}, None, 1.2, "classification"),
        ({"seconds_per_fit": {"linear": 0.01, "random_forest": -1.0, "mlp": 0.2}}, None, 1.2, "classification"),
        ({"exponent": {"linear": float("inf")}}, None, 1.2, "classification"),
        ({"method": None}, None, 1.2, "classification"),
        ({"probe_seconds": "1.2"}, None, 1.2, "classification"),
    ],
)
def test_costs_are_measured_again_when_anything_they_depend_on_differs(
    change: dict, families: list[str] | None, limit: float, task: str
) -> None:
    families = families or ["linear", "random_forest", "mlp"]
    assert reused_costs(_record(**change), rows=1000, families=families, limit_s=limit, task_type=task) is None


def test_a_record_without_the_machine_is_not_reused() -> None:
    record = _record()
    del record["machine"]
    families = ["linear", "random_forest", "mlp"]
    assert reused_costs(record, rows=1000, families=families, limit_s=1.2, task_type="classification") is None


def test_the_machine_identity_names_the_cpu_and_the_libraries_that_fit() -> None:
    identity = machine_identity()
    assert "CPUs; Python " in identity and "scikit-learn " in identity and "lightgbm " in identity
    assert identity == machine_identity()
