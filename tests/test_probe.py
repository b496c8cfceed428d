"""The trial-cost probe (real fits on small data) and the --no-probe cost model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaconf.data.load import Dataset
from metaconf.profile.probe import (
    EXPONENT_RANGE,
    MAX_PROBE_ROWS,
    SPEED_RANGE,
    _encoding_at,
    _speed,
    estimate_trial_cost,
    evaluation_fits,
    model_fit_seconds,
    probe_order,
    probe_sizes,
    probe_trial_cost,
    without_encoding,
)
from metaconf.profile.profile import profile_dataset

CHEAP = ["linear", "decision_tree", "k_nearest_neighbors"]


def _dataset(n: int, *, task_type: str = "classification", n_classes: int = 2, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{i}" for i in range(6)])
    X["colour"] = rng.choice(["red", "green", "blue"], n)
    score = X["x0"] + 0.5 * X["x1"] + rng.normal(scale=0.5, size=n)
    if task_type == "classification":
        edges = np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1])
        y = pd.Series(np.array([f"c{k}" for k in np.digitize(score, edges)]), name="y")
    else:
        y = pd.Series(score, name="y")
    return Dataset(X=X, y=y, name="synthetic", source="test", task_type=task_type)


def _bound(result: object) -> float:
    """The probe may overrun its limit by at most one fit it mispredicted: the longest fit it timed."""
    fits = [t for cost in result.families.values() for _, t in cost.measurements]  # type: ignore[attr-defined]
    return max(fits, default=0.0)


@pytest.mark.slow
def test_probe_measures_and_extrapolates_monotonically() -> None:
    dataset = _dataset(6000)
    limit = 20.0
    result = probe_trial_cost(
        dataset, task_type="classification", families=CHEAP, resampling_folds=5, time_limit_s=limit, seed=0
    )
    assert result.walltime_s <= limit + _bound(result)
    assert result.rows == 6000 and result.folds == 5
    for name in CHEAP:
        cost = result.families[name]
        assert cost.source in ("probe", "measured", "cost model")
        if cost.source == "cost model":
            continue
        rows = [n for n, _ in cost.measurements]
        assert rows == sorted(rows) and rows[-1] <= 3000  # at most half of the rows
        assert EXPONENT_RANGE[0] <= cost.exponent <= EXPONENT_RANGE[1]
        largest_rows_seconds = cost.measurements[-1][1]
        # more rows never cost less than the fit on the most rows (b > 0), whatever the noise on smaller fits
        assert cost.fit_seconds >= largest_rows_seconds * 0.999
        assert cost.seconds > cost.fit_seconds  # five fits on 80 % of the rows cost more than one on all
    assert result.seconds("linear") == result.families["linear"].seconds
    assert "power law" in result.method


def test_probe_on_small_data_measures_at_full_size() -> None:
    dataset = _dataset(300)
    result = probe_trial_cost(
        dataset, task_type="classification", families=["linear", "decision_tree"], resampling_folds=1,
        time_limit_s=30.0, seed=0,
    )
    assert not result.stopped_early
    for cost in result.families.values():
        assert cost.source == "measured"
        assert [n for n, _ in cost.measurements] == [150, 300]  # 75 only for a family 150 would overrun
        assert cost.seconds == pytest.approx(cost.fit_seconds)  # folds=1: one fit on all rows


def test_one_fit_is_extrapolated_along_the_cost_models_curve_not_a_pure_power_law() -> None:
    # max_rows=50: every subsample is 50 rows, so each family is measured once, as at a 45 s budget's limit.
    dataset = _dataset(6000)
    result = probe_trial_cost(
        dataset, task_type="classification", families=CHEAP, resampling_folds=3, time_limit_s=30.0, seed=0,
        max_rows=50,
    )
    profile = profile_dataset(dataset)
    width, onehot = profile.n_encoded_features, profile.n_onehot_features
    assert onehot == 3  # the colour column
    fits, fit_rows = evaluation_fits(6000, 3)
    # the colour column's encoding, timed on its own at the one size, extrapolated by ENCODING_EXPONENT
    [(n_encoded, encoded)] = result.encoding
    assert n_encoded == 50 and encoded > 0
    # both figures are stored rounded to 5 decimals, and 50 rows encode in well under a millisecond: the bound
    # allows for that rounding (half a unit of the 5th decimal in each), not for another curve
    scale = fits * (fit_rows / 50) ** 0.5
    assert abs(result.encoding_seconds - scale * encoded) <= (scale + 1) * 0.5e-5 + 1e-12

    def model(name: str, rows: float) -> float:
        return model_fit_seconds(name, "classification", rows, width, onehot)

    for name in CHEAP:
        cost = result.families[name]
        [(n, t)] = cost.measurements
        assert n == 50 and cost.source == "probe"
        # A 50-row fit is mostly the pipeline's fixed cost: the model's fixed part does not grow with the rows;
        # the encoding's seconds are taken out and extrapolated on their own.
        own = without_encoding(t, encoded)
        expected = _encoding_at({50: encoded}, 6000) + own * model(name, 6000) / model(name, 50)
        assert cost.fit_seconds == pytest.approx(expected, rel=1e-3)  # measurements are kept to 10 us
        assert cost.seconds == pytest.approx(
            result.encoding_seconds + fits * own * model(name, fit_rows) / model(name, 50), rel=1e-3
        )
        assert cost.fit_seconds < t * (6000 / 50) ** cost.exponent  # what the pure power law would say


def test_probe_stops_at_a_tight_limit_and_falls_back() -> None:
    dataset = _dataset(2000)
    limit = 0.05
    result = probe_trial_cost(
        dataset, task_type="classification", families=["random_forest", "mlp"], resampling_folds=3,
        time_limit_s=limit, seed=0,
    )
    assert result.stopped_early
    assert result.walltime_s <= limit + _bound(result) + 1.0  # + building the estimators once (imports)
    for cost in result.families.values():
        assert cost.seconds > 0
    assert any("time limit" in note for note in result.notes)


def test_probe_regression_and_unknown_family() -> None:
    dataset = _dataset(400, task_type="regression")
    result = probe_trial_cost(
        dataset, task_type="regression", families=["linear", "no_such_family"], resampling_folds=1,
        time_limit_s=20.0, seed=0,
    )
    assert result.families["linear"].source == "measured"
    fallback = result.families["no_such_family"]
    assert fallback.source == "cost model" and "fit failed" in fallback.note
    assert any("no_such_family" in note for note in result.notes)


def test_probe_result_to_dict_is_json() -> None:
    import json

    result = probe_trial_cost(
        _dataset(200), task_type="classification", families=["decision_tree"], resampling_folds=2,
        time_limit_s=10.0, seed=0,
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert [m[0] for m in data["families"]["decision_tree"]["measurements"]] == [100, 200]
    assert data["encoding"] and data["encoding"][0][0] == 100  # the colour column


def test_probe_order_measures_near_the_evaluations_rows_first_on_small_data() -> None:
    # An evaluation fits on 53-64 % of the rows: on small data the 50 % subsample first, 25 % only for the
    # families not measured at 50 %, then all rows.
    assert probe_order(probe_sizes(1309), 1309) == [(654, False), (327, True), (1309, False)]
    assert probe_order(probe_sizes(60), 60) == [(50, False), (60, False)]
    # larger data: ascending, the largest subsample alone may not fit the limit
    assert probe_order(probe_sizes(100_000), 100_000) == [(4000, False), (10_000, False), (MAX_PROBE_ROWS, False)]


def test_encoding_is_extrapolated_on_its_own() -> None:
    assert _encoding_at({}, 1000) == 0.0
    assert _encoding_at({500: 0.1}, 500) == 0.1
    assert _encoding_at({500: 0.1}, 2000) == pytest.approx(0.2)  # one size: square root of the rows
    assert _encoding_at({500: 0.1, 1000: 0.12}, 2000) == pytest.approx(0.12 * 2 ** (np.log(1.2) / np.log(2)))
    assert _encoding_at({500: 0.2, 1000: 0.1}, 4000) == pytest.approx(0.1)  # never falls with more rows
    assert without_encoding(1.0, 0.3) == pytest.approx(0.7)
    assert without_encoding(1.0, 2.0) == pytest.approx(0.25)  # timed apart: at least a quarter of the fit


def test_probe_times_the_encoding_only_when_there_is_something_to_encode() -> None:
    categorical = probe_trial_cost(
        _dataset(400), task_type="classification", families=["linear"], resampling_folds=1,
        time_limit_s=30.0, seed=0,
    )
    assert [n for n, _ in categorical.encoding] == [200, 400]  # timed with the fits of each pass
    assert 0 < categorical.encoding_seconds < categorical.families["linear"].seconds
    full = _dataset(400)
    numeric = Dataset(X=full.X.drop(columns="colour"), y=full.y, name="numeric", source="test", task_type="classification")
    result = probe_trial_cost(
        numeric, task_type="classification", families=["linear"], resampling_folds=1, time_limit_s=30.0, seed=0
    )
    assert result.encoding == [] and result.encoding_seconds == 0.0


def test_one_hot_columns_weigh_per_family() -> None:
    # A one-hot column costs a forest far less than a continuous one (h < 1); the width counts it at h.
    from metaconf.profile.probe import COST_MODEL

    for name in ("random_forest", "hist_gradient_boosting", "decision_tree"):
        h = COST_MODEL["classification"][name]["h"]
        assert h < 1
        assert model_fit_seconds(name, "classification", 1000, 100, onehot=90) == pytest.approx(
            model_fit_seconds(name, "classification", 1000, 10 + h * 90)
        )
        assert model_fit_seconds(name, "classification", 1000, 100, onehot=90) < model_fit_seconds(
            name, "classification", 1000, 100
        )
    # more one-hot columns than the width cannot happen; clamped rather than negative
    assert model_fit_seconds("svm", "classification", 1000, 10, onehot=50) == pytest.approx(
        model_fit_seconds("svm", "classification", 1000, 10, onehot=10)
    )


def test_probe_sizes() -> None:
    assert probe_sizes(400) == [100, 200, 400]
    assert probe_sizes(120) == [50, 60, 120]
    assert probe_sizes(60) == [50, 60]
    assert probe_sizes(100_000) == [4000, 10_000, MAX_PROBE_ROWS]
    assert probe_sizes(20_000) == [2000, 5000, 10_000]  # 10 %, 25 %, 50 %


def test_evaluation_fits() -> None:
    assert evaluation_fits(1000, 1) == (1, 1000.0)
    assert evaluation_fits(1000, 5) == (5, 800.0)


def test_cost_model_scales_with_rows_folds_and_classes() -> None:
    small = profile_dataset(_dataset(500))
    large = profile_dataset(_dataset(5000))
    families = ["linear", "svm", "random_forest", "hist_gradient_boosting"]
    one = estimate_trial_cost(small, families, 1)
    for name in families:
        assert estimate_trial_cost(large, families, 1).seconds(name) > one.seconds(name)
        assert estimate_trial_cost(small, families, 5).seconds(name) > one.seconds(name)
        assert one.families[name].source == "cost model"
    assert one.walltime_s == 0.0 and "benchmarks/components/cost_model.py" in one.method
    multiclass = profile_dataset(_dataset(500, n_classes=4))
    # k classes: gradient boosting grows a tree per class (k ** 0.85), the linear model k ** 0.35, a forest ~1x
    for name, exponent in (("hist_gradient_boosting", 0.85), ("linear", 0.35), ("svm", 0.15), ("random_forest", 0)):
        assert estimate_trial_cost(multiclass, [name], 1).seconds(name) == pytest.approx(
            4**exponent * one.seconds(name)
        )
    assert one.seconds("not_a_family") == max(c.seconds for c in one.families.values())


def test_probe_with_many_small_classes() -> None:
    """25 classes in 60 rows: no stratified 50-row subsample exists; the probe still measures."""
    X = pd.DataFrame({"x": np.arange(60, dtype=float), "z": np.arange(60) % 7})
    y = pd.Series([f"c{i % 25}" for i in range(60)], name="y")
    dataset = Dataset(X=X, y=y, name="many", source="test", task_type="classification")
    result = probe_trial_cost(
        dataset, task_type="classification", families=["decision_tree"], resampling_folds=1, time_limit_s=10.0
    )
    assert [n for n, _ in result.families["decision_tree"].measurements] == [50, 60]


def test_probe_time_limit_bounds_the_fits_not_the_one_off_imports() -> None:
    # In a fresh interpreter, importing scikit-learn and SciPy alone takes longer than this limit. Those
    # one-off imports come before the limit's clock, so the first fit is still measured; walltime_s (which
    # the advisor reserves from the budget) counts them.
    import subprocess
    import sys

    code = (
        "import numpy as np, pandas as pd\n"
        "from metaconf.data.load import Dataset\n"
        "from metaconf.profile.probe import probe_trial_cost\n"
        "rng = np.random.default_rng(0)\n"
        "X = pd.DataFrame(rng.normal(size=(400, 4)), columns=list('abcd'))\n"
        "y = pd.Series(np.where(X['a'] > 0, 'p', 'n'), name='y')\n"
        "r = probe_trial_cost(Dataset(X=X, y=y, name='s', source='test', task_type='classification'),\n"
        "    task_type='classification', families=['linear'], resampling_folds=1, time_limit_s=0.3, seed=0)\n"
        "fits = sum(t for _, t in r.families['linear'].measurements)\n"
        "print(len(r.families['linear'].measurements), r.walltime_s > fits)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600)
    measured, counted = out.stdout.split()
    assert int(measured) >= 1
    assert counted == "True"


def test_first_fit_predictions_follow_the_fastest_family_measured_so_far() -> None:
    # No fit yet: the cost model as it is. Then the smallest, over the families measured, of measured / modelled:
    # one family the model gets wrong for this data must not make the probe skip all the others.
    assert _speed({"linear": [], "svm": []}, "classification", 20) == 1.0
    linear = model_fit_seconds("linear", "classification", 1000, 20)
    svm = model_fit_seconds("svm", "classification", 500, 20)
    tree = model_fit_seconds("decision_tree", "classification", 500, 20)
    measured = {
        "linear": [(250, 9.9), (1000, 0.4 * linear)],  # the last fit counts
        "svm": [(500, 0.2 * svm)],
        "decision_tree": [(500, 3.0 * tree)],
        "mlp": [],
    }
    assert _speed(measured, "classification", 20) == pytest.approx(0.2)
    assert _speed({"svm": [(500, 1e-9)]}, "classification", 20) == SPEED_RANGE[0]
    assert _speed({"svm": [(500, 1e9)]}, "classification", 20) == SPEED_RANGE[1]
