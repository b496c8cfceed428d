"""What one evaluation costs: measured by a bounded probe, or estimated by a documented cost model.

The advisor turns a walltime budget into a number of trials, so it needs the seconds one evaluation takes at
full fidelity. Two ways to get them:

**The probe** (:func:`probe_trial_cost`) fits the *default configuration* of each candidate family (from the
built-in space, :func:`metaconf.space.builtin.build_space`) inside the same preprocessing pipeline a run uses
(:func:`metaconf.targets.preprocess.build_preprocessor`) on growing, stratified subsamples of the rows: 25 %,
50 % and 100 % of the rows for data up to ``SMALL_ROWS`` rows, else 10 %, 25 % and 50 % capped at ``max_rows``
(the largest subsample) with the others scaled down alike. Each timing is one fit plus one prediction on the
rows fitted. Per family it fits a power law ``seconds = a * rows ** b`` through the two largest measurements,
where fixed per-fit overheads distort least, and extrapolates to the full rows and folds. A family fitted only
once (a small limit stops the probe after the smallest subsample) is extrapolated along the cost model's curve
through that fit, fixed part included: the fit is mostly the pipeline's fixed cost, which does not grow with
the rows (`benchmarks/probe_accuracy.py`). ``b`` is clamped to ``[0.8, 2.5]``: every family's fit is at least
about linear in the rows, and a flatter slope on small subsamples comes from fixed overhead that the larger
fit will not hide; a slope above 2.5 is noise. The probe's own walltime counts against the user's budget, so
it is bounded by ``time_limit_s``: before each fit it predicts the fit's time (from the family's previous fit,
or for the first one from the cost model x how much faster or slower than the model the families measured so
far ran) and skips the fit when 1.5x the prediction would overrun; families it could not measure at all fall
back to the cost model, and the result says so (the advisor scales that fallback by the machine factor, R2).
The limit's clock starts after the one-off imports (every family's estimator built once, the preprocessing
fitted once on a few rows), which ``walltime_s`` still counts.

**The cost model** (:func:`estimate_trial_cost`, ``--no-probe``) predicts the seconds of one default fit from
the rows and the width of the preprocessed matrix: ``t = t0 + c * (rows / 1000) ** b * (width / 20) ** e``
per family. The constants in :data:`COST_MODEL` were measured on this project's reference machine (2 cores,
``n_jobs=1``) by ``python benchmarks/cost_model.py``, which fits them on synthetic data with the same
measuring code as the probe; rerun it to recalibrate on other hardware.

One *evaluation* with ``folds`` >= 2 is ``folds`` fits on ``(folds - 1) / folds`` of the rows each; with
``folds`` = 1 it is one fit on all rows (a holdout evaluation fits on fewer rows, so this is an upper bound).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from metaconf.data.load import Dataset

if TYPE_CHECKING:
    import pandas as pd

    from metaconf.profile.profile import DataProfile

SMALL_ROWS = 5_000
"""Up to this many rows the probe measures at 25 %, 50 % and 100 % of the rows: no row extrapolation."""
MAX_PROBE_ROWS = 20_000
"""The largest subsample the probe fits on larger data."""
MIN_PROBE_ROWS = 50
EXPONENT_RANGE = (0.8, 2.5)
SPEED_RANGE = (0.1, 10.0)
"""The clamp on the machine's speed relative to the cost model when predicting a family's first probe fit."""
PREDICTION_MARGIN = 1.5
"""A fit is started only if 1.5x its predicted time still fits in the probe's limit (timings on a shared
machine vary by that much from one fit to the next)."""

COST_MODEL: dict[str, dict[str, dict[str, float]]] = {
    # Measured by `python benchmarks/cost_model.py` on the project's 2-core reference VM (scikit-learn
    # 1.9.1, n_jobs=1, one thread), otherwise idle: default configuration of each family, one fit + one
    # predict, rows 500..6000, preprocessed width 10..40; median relative error of the fitted model on its 96
    # timings: 11 % (132 s). The first table (the same VM shared with other jobs, load average ~9) was ~3x
    # slower for the forests and ~6x for the MLP, and the probe's machine factor (R2) could not undo its
    # shape: a family the probe skipped kept those seconds. t0: fixed seconds; c: seconds at 1000 rows x 20
    # columns; b: row exponent (clamped to EXPONENT_RANGE); e: width exponent (clamped to [0, 2]).
    "classification": {
        "linear": {"t0": 0.0091, "c": 0.0082, "b": 0.867, "e": 0.922},
        "svm": {"t0": 0.0116, "c": 0.0374, "b": 2.055, "e": 1.198},
        "random_forest": {"t0": 0.1298, "c": 0.2692, "b": 1.422, "e": 1.219},
        "extra_trees": {"t0": 0.0822, "c": 0.0954, "b": 1.147, "e": 0.896},
        "hist_gradient_boosting": {"t0": 0.0777, "c": 0.0725, "b": 0.8, "e": 0.9},
        "k_nearest_neighbors": {"t0": 0.0113, "c": 0.0132, "b": 1.419, "e": 0.239},
        "mlp": {"t0": 0.1375, "c": 0.1362, "b": 1.444, "e": 0.229},
        "decision_tree": {"t0": 0.0082, "c": 0.0137, "b": 1.164, "e": 1.191},
    },
    "regression": {
        "linear": {"t0": 0.0067, "c": 0.0048, "b": 0.8, "e": 1.117},
        "svm": {"t0": 0.017, "c": 0.0466, "b": 2.183, "e": 0.669},
        "random_forest": {"t0": 0.1644, "c": 0.3863, "b": 1.475, "e": 1.167},
        "extra_trees": {"t0": 0.1117, "c": 0.2058, "b": 1.357, "e": 1.055},
        "hist_gradient_boosting": {"t0": 0.0825, "c": 0.0825, "b": 0.8, "e": 0.946},
        "k_nearest_neighbors": {"t0": 0.0107, "c": 0.0124, "b": 1.579, "e": 0.0},
        "mlp": {"t0": 0.1257, "c": 0.1289, "b": 1.446, "e": 0.29},
        "decision_tree": {"t0": 0.0094, "c": 0.0131, "b": 1.005, "e": 1.17},
    },
}


@dataclass(frozen=True)
class FamilyCost:
    """The cost of one family's evaluation at full fidelity."""

    family: str
    seconds: float
    """Seconds of one full evaluation (all rows, all folds), as defined in the module docstring."""
    fit_seconds: float
    """Seconds of one fit (+ predict) on all ``rows``."""
    exponent: float
    """``b`` in ``seconds ~ rows ** b``."""
    source: str
    """`probe` (measured and extrapolated), `measured` (measured on all rows) or `cost model`."""
    measurements: list[tuple[int, float]] = field(default_factory=list)
    """(rows, seconds) of each timed fit."""
    note: str = ""


@dataclass(frozen=True)
class ProbeResult:
    """Per-family cost of one evaluation, and how it was obtained."""

    families: dict[str, FamilyCost]
    rows: int
    """Rows of the data the costs refer to."""
    n_features: int
    folds: int
    walltime_s: float
    """Walltime the probe itself took (0 for the cost model); it counts against the budget."""
    time_limit_s: float | None
    method: str
    stopped_early: bool = False
    """True when the time limit cut the probe short (costs then rest on fewer measurements)."""
    notes: list[str] = field(default_factory=list)

    def seconds(self, family: str) -> float:
        """Seconds of one full evaluation of ``family`` (the slowest family's when it was not probed)."""
        item = self.families.get(getattr(family, "value", family))
        if item is None:
            return max((c.seconds for c in self.families.values()), default=1.0)
        return item.seconds

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for cost in data["families"].values():
            cost["measurements"] = [list(m) for m in cost["measurements"]]
        return data


# ------------------------------------------------------------------------------------------------ cost model


def evaluation_fits(rows: int, folds: int) -> tuple[int, float]:
    """(fits, rows per fit) of one evaluation with ``folds`` (1 = one fit on all rows)."""
    if folds <= 1:
        return 1, float(rows)
    return folds, rows * (folds - 1) / folds


def model_fit_seconds(family: str, task_type: str, rows: float, width: float) -> float:
    """Seconds of one default fit (+ predict) of ``family`` on ``rows`` x ``width`` (preprocessed) data."""
    table = COST_MODEL["regression" if task_type == "regression" else "classification"]
    k = table.get(family) or max(table.values(), key=lambda item: item["c"])
    return k["t0"] + k["c"] * (max(rows, 1.0) / 1000.0) ** k["b"] * (max(width, 1.0) / 20.0) ** k["e"]


def estimate_trial_cost(profile: DataProfile, families: Sequence[str], folds: int) -> ProbeResult:
    """The ``--no-probe`` cost: :data:`COST_MODEL` applied to the profile's rows and preprocessed width.

    Multiclass classification multiplies the linear / SVM cost by the number of classes (one-vs-rest fits).
    """
    task_type = profile.task_type or "classification"
    width = max(1, profile.n_encoded_features)
    n_classes = profile.target.n_classes if profile.target is not None else 2
    fits, fit_rows = evaluation_fits(profile.n_rows, folds)
    result: dict[str, FamilyCost] = {}
    for family in families:
        name = getattr(family, "value", family)
        per_fit = model_fit_seconds(name, task_type, fit_rows, width)
        if task_type == "classification" and name in ("linear", "svm") and n_classes > 2:
            per_fit *= n_classes
        table = COST_MODEL["regression" if task_type == "regression" else "classification"]
        result[name] = FamilyCost(
            family=name,
            seconds=per_fit * fits,
            fit_seconds=model_fit_seconds(name, task_type, profile.n_rows, width)
            * (n_classes if task_type == "classification" and name in ("linear", "svm") and n_classes > 2 else 1),
            exponent=table.get(name, {"b": 1.0})["b"],
            source="cost model",
        )
    return ProbeResult(
        families=result,
        rows=profile.n_rows,
        n_features=profile.n_features,
        folds=folds,
        walltime_s=0.0,
        time_limit_s=None,
        method="cost model (constants from benchmarks/cost_model.py)",
        notes=[f"{profile.n_rows:,} rows, {width} preprocessed columns, {fits} fit(s) of {fit_rows:,.0f} rows each"],
    )


# ---------------------------------------------------------------------------------------------------- probe


def default_values(family: str, task_type: str) -> dict[str, Any]:
    """The default configuration of ``family``'s built-in space (what the probe fits)."""
    from metaconf.config.model import Config
    from metaconf.space.builtin import build_space

    config = Config.model_validate({"task": {"type": task_type}, "search_space": {"models": [family]}})
    space = build_space(config, task_type=task_type)
    return dict(space.get_default_configuration())


def time_fit(
    values: dict[str, Any], X: pd.DataFrame, y: pd.Series, task_type: str, *, seed: int, repeat_below_s: float = 0.05
) -> float:
    """Seconds to fit ``values``' estimator in the run's preprocessing pipeline and predict the rows fitted.

    Runs as a trial does (one OpenMP / BLAS thread, convergence warnings silenced). A fit faster than
    ``repeat_below_s`` is repeated up to 3 times and the fastest kept: timer and scheduler jitter is then as
    large as the fit itself.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import Pipeline
    from threadpoolctl import threadpool_limits

    from metaconf.space.builtin import make_estimator, needs_scaling
    from metaconf.targets.preprocess import build_preprocessor

    best = float("inf")
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            started = time.perf_counter()
            estimator = make_estimator(values, task_type, seed=seed, n_samples=len(y))
            steps = [("preprocess", build_preprocessor(X, scale=needs_scaling(values))), ("model", estimator)]
            pipeline = Pipeline(steps)
            pipeline.fit(X, y)
            pipeline.predict(X)
            best = min(best, time.perf_counter() - started)
            if best >= repeat_below_s:
                break
    return best


def _warm_up(name: str, task_type: str, seed: int) -> dict[str, Any]:
    """The family's default values, after building its estimator once untimed: the first construction imports
    the estimator's module (a one-off cost, up to a second on a busy machine, that would otherwise inflate the
    first, smallest fit and, through it, the fitted exponent)."""
    from metaconf.space.builtin import make_estimator

    values = default_values(name, task_type)
    make_estimator(values, task_type, seed=seed)
    return values


def _failure(error: Exception) -> str:
    """Why a family could not be probed: the error's type and first line, short enough for a note."""
    return f"{type(error).__name__}: {error}".splitlines()[0][:200]


def _warm_up_pipeline(X: pd.DataFrame, y: pd.Series) -> None:
    """Import what every timed fit uses (subsampling, pipeline, preprocessing) and fit the preprocessing once
    on a few rows, untimed: in a fresh process these one-off imports take longer than a small probe limit."""
    from sklearn.model_selection import train_test_split  # noqa: F401  (imported for its one-off cost)
    from sklearn.pipeline import Pipeline  # noqa: F401

    from metaconf.targets.preprocess import build_preprocessor

    head = X.iloc[: min(len(X), MIN_PROBE_ROWS)]
    with contextlib.suppress(Exception):  # the timed fits report what fails; this is only a warm-up
        build_preprocessor(head, scale=True).fit(head, y.iloc[: len(head)])


def probe_sizes(n_rows: int, max_rows: int = MAX_PROBE_ROWS, min_rows: int = MIN_PROBE_ROWS) -> list[int]:
    """The subsample sizes the probe fits on, ascending and distinct (see the module docstring)."""
    if n_rows <= SMALL_ROWS:
        fractions: tuple[float, ...] = (0.25, 0.5, 1.0)
        largest = n_rows
    else:
        fractions = (0.2, 0.5, 1.0)  # of the largest subsample: 10 %, 25 %, 50 % of the rows when uncapped
        largest = min(max_rows, n_rows // 2)
    sizes = sorted({min(n_rows, max(min_rows, round(f * largest))) for f in fractions})
    return sizes


def _subsample(X: pd.DataFrame, y: pd.Series, n: int, task_type: str, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    if n >= len(y):
        return X, y
    from sklearn.model_selection import train_test_split

    stratify = None
    if task_type == "classification":
        counts = y.value_counts()
        if counts.min() >= 2 and n >= len(counts):
            stratify = y
    try:
        X_s, _, y_s, _ = train_test_split(X, y, train_size=n, stratify=stratify, random_state=seed)
    except ValueError:  # too few rows left for every class on the other side: a plain random subsample
        X_s, _, y_s, _ = train_test_split(X, y, train_size=n, random_state=seed)
    return X_s, y_s


def _power_law(measurements: list[tuple[int, float]]) -> tuple[float, float]:
    """(a, b) of ``seconds = a * rows ** b`` through the two largest measurements, ``b`` clamped."""
    import math

    (n1, t1), (n2, t2) = sorted(measurements)[-2:]
    b = math.log(max(t2, 1e-6) / max(t1, 1e-6)) / math.log(n2 / n1) if n2 > n1 else 1.0
    b = min(max(b, EXPONENT_RANGE[0]), EXPONENT_RANGE[1])
    return t2 / n2**b, b


def _speed(measured: dict[str, list[tuple[int, float]]], task_type: str, width: int) -> float:
    """How this machine compares with the cost model's reference so far: the median, over the families
    measured, of their last fit's seconds / the model's (1 before any fit). It scales the prediction for a
    family's first fit, so that a machine faster than the reference still probes the slower
    families instead of skipping them on the model's raw seconds."""
    import statistics

    ratios = [
        history[-1][1] / model_fit_seconds(name, task_type, history[-1][0], width)
        for name, history in measured.items()
        if history
    ]
    if not ratios:
        return 1.0
    return min(max(statistics.median(ratios), SPEED_RANGE[0]), SPEED_RANGE[1])


def probe_trial_cost(
    dataset: Dataset,
    *,
    task_type: str,
    families: Sequence[str],
    resampling_folds: int,
    time_limit_s: float,
    seed: int = 0,
    max_rows: int = MAX_PROBE_ROWS,
) -> ProbeResult:
    """Measure the cost of one full evaluation per family (see the module docstring). The measuring never
    takes much more than ``time_limit_s`` (at most one fit's misprediction beyond it); the one-off imports and
    estimator constructions before it (:func:`_warm_up`, :func:`_warm_up_pipeline`: ~2 s of scikit-learn and
    SciPy imports in a fresh process, which would otherwise leave a small limit no time to measure anything)
    are not limited, but they are counted in ``walltime_s``, which the advisor reserves from the budget."""
    from metaconf.profile.profile import profile_dataset

    begun = time.perf_counter()
    X, y = dataset.X, dataset.y
    n_rows = len(y)
    names = [getattr(f, "value", f) for f in families]
    sizes = probe_sizes(n_rows, max_rows)
    profile = profile_dataset(dataset, max_rows=min(n_rows, 20_000), seed=seed)
    prior = estimate_trial_cost(profile, names, 1)
    width = max(1, profile.n_encoded_features)

    values: dict[str, dict[str, Any]] = {}
    measured: dict[str, list[tuple[int, float]]] = {name: [] for name in names}
    failed: dict[str, str] = {}
    for name in names:
        try:
            values[name] = _warm_up(name, task_type, seed)
        except Exception as error:  # an unknown family: say why, use the cost model
            failed[name] = _failure(error)
    _warm_up_pipeline(X, y)
    started = time.perf_counter()
    skipped: set[str] = set()
    notes: list[str] = []
    stopped_early = False
    for size in sizes:
        X_s, y_s = _subsample(X, y, size, task_type, seed)
        for name in names:
            if name in failed or name in skipped:
                continue
            history = measured[name]
            if history:
                last_n, last_t = history[-1]
                exponent = _power_law(history)[1] if len(history) >= 2 else 1.0
                predicted = last_t * (size / last_n) ** max(exponent, 1.0)
            else:
                predicted = model_fit_seconds(name, task_type, size, width) * _speed(measured, task_type, width)
            elapsed = time.perf_counter() - started
            if elapsed + PREDICTION_MARGIN * predicted > time_limit_s:
                stopped_early = True
                skipped.add(name)
                continue
            try:
                seconds = time_fit(values[name], X_s, y_s, task_type, seed=seed)
            except Exception as error:  # a family that cannot fit this data: say why, use the cost model
                failed[name] = _failure(error)
                continue
            history.append((len(y_s), seconds))

    fits, fit_rows = evaluation_fits(n_rows, resampling_folds)
    result: dict[str, FamilyCost] = {}
    for name in names:
        history = measured[name]
        if not history:
            fallback = prior.families[name]
            why = f"fit failed ({failed[name]})" if name in failed else "not measured within the time limit"
            notes.append(f"{name}: {why}; cost model used")
            result[name] = FamilyCost(
                family=name,
                seconds=fallback.fit_seconds * (fit_rows / max(1, n_rows)) ** fallback.exponent * fits,
                fit_seconds=fallback.fit_seconds,
                exponent=fallback.exponent,
                source="cost model",
                note=why,
            )
            continue
        largest_n, largest_t = max(history)
        source = "measured" if largest_n >= n_rows else "probe"
        if len(history) >= 2:
            a, b = _power_law(history)
            fit_seconds = a * n_rows**b  # = the measured time when the largest fit used every row
            per_fit = a * fit_rows**b
        else:
            # One fit, on the smallest subsample: mostly the pipeline's fixed cost, which does not grow with the
            # rows. The cost model's curve (fixed part + power law) through that fit extrapolates it; a pure
            # power law would scale the fixed part too (2-7x too high on German credit at a 45 s budget).
            b = prior.families[name].exponent
            scale = largest_t / model_fit_seconds(name, task_type, largest_n, width)
            fit_seconds = scale * model_fit_seconds(name, task_type, n_rows, width)
            per_fit = scale * model_fit_seconds(name, task_type, fit_rows, width)
        note = ""
        if name in skipped and len(history) < len(sizes):
            note = f"measured on {len(history)} of {len(sizes)} subsamples (time limit)"
        result[name] = FamilyCost(
            family=name,
            seconds=per_fit * fits,
            fit_seconds=fit_seconds,
            exponent=round(b, 4),
            source=source,
            measurements=[(n, round(t, 5)) for n, t in history],
            note=note,
        )
    if stopped_early:
        notes.append(f"the probe stopped at its time limit of {time_limit_s:.1f} s; costs rest on fewer fits")
    walltime = time.perf_counter() - begun
    return ProbeResult(
        families=result,
        rows=n_rows,
        n_features=int(X.shape[1]),
        folds=resampling_folds,
        walltime_s=round(walltime, 4),
        time_limit_s=time_limit_s,
        method=(
            "probe: default configuration of each family fitted on "
            + ", ".join(f"{s:,}" for s in sizes)
            + " rows; power law through the two largest fits"
        ),
        stopped_early=stopped_early,
        notes=notes,
    )
