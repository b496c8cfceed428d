"""What one evaluation costs: measured by a bounded probe, or estimated by a documented cost model.

The advisor turns a walltime budget into a number of trials, so it needs the seconds one evaluation takes at
full fidelity. Two ways to get them:

**The probe** (:func:`probe_trial_cost`) fits the *default configuration* of each candidate family (from the
built-in space, :func:`metaconf.space.builtin.build_space`) inside the same preprocessing pipeline a run uses
(:func:`metaconf.targets.preprocess.build_preprocessor`) on stratified subsamples of the rows. For data up to
``SMALL_ROWS`` rows: 50 % of the rows first (nearest the rows one evaluation fits on, so a limit that allows one
fit per family still measures almost what is needed), 25 % for the families whose 50 % fit would overrun the
limit, then all rows (:func:`probe_order`); else 10 %, 25 % and 50 % capped at ``max_rows`` (the largest
subsample) with the others scaled down alike. Each timing is the CPU time of one fit plus one prediction on the
rows fitted, single-threaded as a trial runs: the walltime of the same fit varies several-fold while other
processes share the cores (:func:`fit_timing`). Per family it fits a power law ``seconds = a * rows ** b``
through the two largest measurements, where fixed per-fit overheads distort least, and extrapolates to the full
rows and folds. A family fitted only once (a small limit stops the probe after the first subsample) is
extrapolated along the cost model's curve through that fit, fixed part included: the fit is mostly the pipeline's
fixed cost, which does not grow with the rows (`benchmarks/probe_accuracy.py`). ``b`` is clamped to ``[0.8,
2.5]``: every family's fit is at least about linear in the rows, and a flatter slope on small subsamples comes
from fixed overhead that the larger fit will not hide; a slope above 2.5 is noise. The encoding of categorical
and datetime columns (one-hot encoders fitted, rows transformed) is timed on its own at each size
(:func:`time_encoding`): it is the same for every family, mostly fixed, and absent from the cost model's numeric
calibration, so the model's curve and the machine factor (R2) see the fits without it. The probe's own walltime
counts against the user's budget, so it is bounded by ``time_limit_s``, counted in the CPU seconds of its work
like the fits (so that other processes on the machine do not change which fits it makes; its walltime is capped
at ``WALL_SLACK`` x the limit): before each fit it predicts the fit's time (from the family's previous fit, or
for the first one from the encoding + the cost model x how much faster or slower than the model the families
measured so far ran, the fastest of them) and skips the fit when 1.5x the prediction would overrun (a smaller
subsample later in the order is still tried); families it could not measure at all fall back to the cost model,
and the result says so (the advisor scales that fallback by the machine factor, R2). The limit's clock starts
after the one-off imports (every family's estimator built once, the preprocessing fitted once on a few rows),
which ``walltime_s`` still counts.

**The cost model** (:func:`estimate_trial_cost`, ``--no-probe``) predicts the seconds of one default fit from
the rows and the width of the preprocessed matrix: ``t = t0 + c * (rows / 1000) ** b * (width / 20) ** e``
per family, where ``width = numeric + h * one_hot`` counts each one-hot column at the family's weight ``h`` (a
binary column costs a tree far less than a continuous one). The constants in :data:`COST_MODEL` were measured
on this project's reference machine (2 cores, ``n_jobs=1``) by ``python benchmarks/components/cost_model.py``, which
fits them on synthetic data with the same measuring code as the probe; rerun it to recalibrate on other
hardware.

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
BUSY_WALL_PER_CPU = 1.25
"""From this walltime / CPU time of the fits on, the probe notes that the machine is busy."""
WALL_SLACK = 2.0
"""The probe's limit counts the CPU seconds of its work; its walltime may exceed the limit by this factor while
other processes compete for the cores (no more: the fits then stop)."""
PREDICTION_MARGIN = 1.5
"""A fit is started only if 1.5x its predicted time still fits in the probe's limit (timings on a shared
machine vary by that much from one fit to the next)."""

COST_MODEL: dict[str, dict[str, dict[str, float]]] = {
    # Measured by `python benchmarks/components/cost_model.py` on the project's 2-core reference VM (scikit-learn
    # 1.9.1, n_jobs=1, one thread), otherwise idle: default configuration of each family, one fit + one
    # predict, rows 500..6000, preprocessed width 10..40; median relative error of the fitted model on its 96
    # timings: 11 % (132 s). The first table (the same VM shared with other jobs, load average ~9) was ~3x
    # slower for the forests and ~6x for the MLP, and the probe's machine factor (R2) could not undo its
    # shape: a family the probe skipped kept those seconds. t0: fixed seconds; c: seconds at 1000 rows x 20
    # columns; b: row exponent (clamped to EXPONENT_RANGE); e: width exponent (clamped to [0, 2]); h: what one
    # one-hot column weighs against a numeric one (`python benchmarks/components/cost_model.py --onehot`, 102 s: 80 and 72
    # one-hot columns against 20 numeric at 500 and 2,000 rows). Without h the forests' cost on categorical data
    # was 4-11x too high (titanic, 108 encoded columns: random forest 3.2 s at 1,309 rows, measured 0.6 s), and
    # the probe's single-fit extrapolation along this curve left random forest out of titanic at 45 s.
    # lightgbm was added later (`--families lightgbm hist_gradient_boosting`, 44 s, median error 10 %): in the
    # same pass hist_gradient_boosting's t0 and c came within 7 % of its rows here, so the two passes agree.
    # LightGBM bundles the one-hot columns of a categorical column into one feature (exclusive feature bundling,
    # Ke et al. 2017): its h is far below the forests'.
    "classification": {
        "linear": {"t0": 0.0091, "c": 0.0082, "b": 0.867, "e": 0.922, "h": 1.458},
        "svm": {"t0": 0.0116, "c": 0.0374, "b": 2.055, "e": 1.198, "h": 0.667},
        "random_forest": {"t0": 0.1298, "c": 0.2692, "b": 1.422, "e": 1.219, "h": 0.22},
        "extra_trees": {"t0": 0.0822, "c": 0.0954, "b": 1.147, "e": 0.896, "h": 0.861},
        "hist_gradient_boosting": {"t0": 0.0777, "c": 0.0725, "b": 0.8, "e": 0.9, "h": 0.452},
        "k_nearest_neighbors": {"t0": 0.0113, "c": 0.0132, "b": 1.419, "e": 0.239, "h": 1.0},
        "mlp": {"t0": 0.1375, "c": 0.1362, "b": 1.444, "e": 0.229, "h": 1.0},
        "decision_tree": {"t0": 0.0082, "c": 0.0137, "b": 1.164, "e": 1.191, "h": 0.415},
        "lightgbm": {"t0": 0.0386, "c": 0.0728, "b": 1.006, "e": 1.287, "h": 0.117},
    },
    "regression": {
        "linear": {"t0": 0.0067, "c": 0.0048, "b": 0.8, "e": 1.117, "h": 0.999},
        "svm": {"t0": 0.017, "c": 0.0466, "b": 2.183, "e": 0.669, "h": 1.169},
        "random_forest": {"t0": 0.1644, "c": 0.3863, "b": 1.475, "e": 1.167, "h": 0.253},
        "extra_trees": {"t0": 0.1117, "c": 0.2058, "b": 1.357, "e": 1.055, "h": 0.422},
        "hist_gradient_boosting": {"t0": 0.0825, "c": 0.0825, "b": 0.8, "e": 0.946, "h": 0.306},
        "k_nearest_neighbors": {"t0": 0.0107, "c": 0.0124, "b": 1.579, "e": 0.0, "h": 1.0},
        "mlp": {"t0": 0.1257, "c": 0.1289, "b": 1.446, "e": 0.29, "h": 1.0},
        "decision_tree": {"t0": 0.0094, "c": 0.0131, "b": 1.005, "e": 1.17, "h": 0.413},
        "lightgbm": {"t0": 0.0443, "c": 0.0712, "b": 0.883, "e": 1.213, "h": 0.065},
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
    encoding_seconds: float = 0.0
    """Seconds of one evaluation spent encoding the categorical and datetime columns (fitting the encoders and
    transforming the rows fitted and predicted), as the probe measured them; included in every family's
    ``seconds``. The cost model, calibrated on numeric data, has no such term: R2 takes it out before comparing
    the probe with the model."""
    encoding: list[tuple[int, float]] = field(default_factory=list)
    """(rows, seconds) of each timing of the encoding alone (:func:`time_encoding`)."""
    cpu_s: float = 0.0
    """CPU seconds the probe took, one-off imports included: its walltime on an idle machine, and what the
    advisor reserves from the budget for it (the walltime grows with other processes' load, from one run to
    the next)."""
    wall_per_cpu: float = 1.0
    """Walltime / CPU time of the timed fits together: about 1 on an idle machine, more while other processes
    compete for the cores (the costs are CPU seconds: :func:`fit_timing`)."""

    @property
    def measured(self) -> tuple[str, ...]:
        """The families the probe timed (the others' costs come from the cost model), in probe order."""
        return tuple(name for name, cost in self.families.items() if cost.source != "cost model")

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
        data["encoding"] = [list(m) for m in data["encoding"]]
        return data


# ------------------------------------------------------------------------------------------------ cost model


def evaluation_fits(rows: int, folds: int) -> tuple[int, float]:
    """(fits, rows per fit) of one evaluation with ``folds`` (1 = one fit on all rows)."""
    if folds <= 1:
        return 1, float(rows)
    return folds, rows * (folds - 1) / folds


CLASS_EXPONENT = {"hist_gradient_boosting": 0.85, "lightgbm": 0.85, "linear": 0.35, "svm": 0.15}
"""With ``k`` > 2 classes a family's fit costs ``k ** x`` times the binary fit: gradient boosting grows one tree
per class and round, the multinomial linear model's gradient has a column per class, the SVM fits one-vs-one
pairs on fewer rows each; the forests, trees, k-NN and the MLP barely change. Measured binary vs multiclass on
the same rows (digits, 10 classes; synthetic, 6 classes; 1,800 rows): gradient boosting 5.2x / 5.8x, linear
3.8x / 1.3x, SVM 1.3x / 1.5x, the others 0.9-1.2x (multiplying the linear model and SVM by ``k``, as before,
made the SVM 10x too slow on digits). LightGBM, measured the same way: 4.2x / 6.3x (hist gradient boosting in
the same pass 5.8x / 5.0x)."""


def model_fit_seconds(
    family: str, task_type: str, rows: float, width: float, onehot: float = 0.0, n_classes: int = 2
) -> float:
    """Seconds of one default fit (+ predict) of ``family`` on ``rows`` x ``width`` (preprocessed) data, of which
    ``onehot`` columns are one-hot indicators (weighted by the family's ``h``), with ``n_classes`` classes
    (:data:`CLASS_EXPONENT`)."""
    table = COST_MODEL["regression" if task_type == "regression" else "classification"]
    k = table.get(family) or max(table.values(), key=lambda item: item["c"])
    onehot = min(max(onehot, 0.0), width)
    effective = width - onehot + k.get("h", 1.0) * onehot
    seconds = k["t0"] + k["c"] * (max(rows, 1.0) / 1000.0) ** k["b"] * (max(effective, 1.0) / 20.0) ** k["e"]
    if task_type != "regression" and n_classes > 2:
        seconds *= n_classes ** CLASS_EXPONENT.get(family, 0.0)
    return seconds


def estimate_trial_cost(profile: DataProfile, families: Sequence[str], folds: int) -> ProbeResult:
    """The ``--no-probe`` cost: :data:`COST_MODEL` applied to the profile's rows, preprocessed width and classes
    (:func:`model_fit_seconds`)."""
    task_type = profile.task_type or "classification"
    width = max(1, profile.n_encoded_features)
    onehot = profile.n_onehot_features
    n_classes = profile.target.n_classes if profile.target is not None else 2
    fits, fit_rows = evaluation_fits(profile.n_rows, folds)
    result: dict[str, FamilyCost] = {}
    for family in families:
        name = getattr(family, "value", family)
        per_fit = model_fit_seconds(name, task_type, fit_rows, width, onehot, n_classes)
        table = COST_MODEL["regression" if task_type == "regression" else "classification"]
        result[name] = FamilyCost(
            family=name,
            seconds=per_fit * fits,
            fit_seconds=model_fit_seconds(name, task_type, profile.n_rows, width, onehot, n_classes),
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
        method="cost model (constants from benchmarks/components/cost_model.py)",
        notes=[
            f"{profile.n_rows:,} rows, {width} preprocessed columns ({onehot} one-hot), {fits} fit(s) of "
            f"{fit_rows:,.0f} rows each"
        ],
    )


# ---------------------------------------------------------------------------------------------------- probe


def default_values(family: str, task_type: str) -> dict[str, Any]:
    """The default configuration of ``family``'s built-in space (what the probe fits)."""
    from metaconf.config.model import Config
    from metaconf.space.builtin import build_space

    config = Config.model_validate({"task": {"type": task_type}, "search_space": {"models": [family]}})
    space = build_space(config, task_type=task_type)
    return dict(space.get_default_configuration())


@dataclass(frozen=True)
class FitTiming:
    """One timed fit (+ predict): the CPU seconds the costs use, and the walltime the probe's limit counts."""

    cpu_s: float
    wall_s: float


def fit_timing(
    values: dict[str, Any], X: pd.DataFrame, y: pd.Series, task_type: str, *, seed: int, repeat_below_s: float = 0.05
) -> FitTiming:
    """Time fitting ``values``' estimator in the run's preprocessing pipeline and predicting the rows fitted.

    Runs as a trial does (one OpenMP / BLAS thread, convergence warnings silenced). The cost is the CPU time
    of this process, not the walltime: with one thread they agree on an idle machine, but while other
    processes compete for the cores the walltime of the same fit varied 1.2-4x from one fit to the next and
    the CPU time 1.1-1.4x (2.2x for one family; breast cancer, 12 fits per family at a load average of 3.4 on
    2 cores), and that noise flowed into the advice (a trial budget that changed on every rerun of `suggest`).
    A fit faster than ``repeat_below_s`` is repeated up to 3 times and the fastest kept: timer and scheduler
    jitter is then as large as the fit itself.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import Pipeline
    from threadpoolctl import threadpool_limits

    from metaconf.space.builtin import needs_scaling
    from metaconf.space.estimators import make_estimator
    from metaconf.targets.preprocess import build_preprocessor

    best = FitTiming(float("inf"), float("inf"))
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            wall_started, cpu_started = time.perf_counter(), time.process_time()
            estimator = make_estimator(values, task_type, seed=seed, n_samples=len(y))
            steps = [("preprocess", build_preprocessor(X, scale=needs_scaling(values))), ("model", estimator)]
            pipeline = Pipeline(steps)
            pipeline.fit(X, y)
            pipeline.predict(X)
            timing = FitTiming(time.process_time() - cpu_started, time.perf_counter() - wall_started)
            best = min(best, timing, key=lambda t: t.cpu_s)
            if best.cpu_s >= repeat_below_s:
                break
    return best


def time_fit(
    values: dict[str, Any], X: pd.DataFrame, y: pd.Series, task_type: str, *, seed: int, repeat_below_s: float = 0.05
) -> float:
    """CPU seconds to fit ``values``' estimator in the run's preprocessing pipeline and predict the rows fitted
    (:func:`fit_timing`)."""
    return fit_timing(values, X, y, task_type, seed=seed, repeat_below_s=repeat_below_s).cpu_s


def _warm_up(name: str, task_type: str, seed: int) -> dict[str, Any]:
    """The family's default values, after building its estimator once untimed: the first construction imports
    the estimator's module (a one-off cost, up to a second on a busy machine, that would otherwise inflate the
    first, smallest fit and, through it, the fitted exponent)."""
    from metaconf.space.estimators import make_estimator

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


def probe_order(sizes: Sequence[int], n_rows: int) -> list[tuple[int, bool]]:
    """The passes of the probe: (subsample size, only the families not measured yet). On small data the 50 %
    subsample comes first: one evaluation fits on 53-64 % of the rows (holdout, 3- or 5-fold CV of the training
    split), so when a small limit allows one fit per family, that fit needs almost no extrapolation. The 25 %
    subsample follows for the families whose 50 % fit would have overrun the limit (one fit each is worth more
    than a second fit of the others), then all rows for every family (the slope). On larger data the sizes go
    up: the largest subsample alone may not fit the limit."""
    ordered = sorted(sizes)
    if n_rows <= SMALL_ROWS and len(ordered) == 3:
        return [(ordered[1], False), (ordered[0], True), (ordered[2], False)]
    return [(size, False) for size in ordered]


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


def without_encoding(seconds: float, encoding: float) -> float:
    """A fit's seconds without the encoding's, which the cost model has no term for; at least a quarter of the
    fit (the two are timed apart, so noise can make the encoding look as long as the whole fit)."""
    return max(seconds - encoding, 0.25 * seconds)


def _speed(
    measured: dict[str, list[tuple[int, float]]],
    task_type: str,
    width: int,
    onehot: int = 0,
    encoding: dict[int, float] | None = None,
    n_classes: int = 2,
) -> float:
    """How this machine compares with the cost model's reference so far: the smallest, over the families
    measured, of their last fit's seconds (without the encoding's, ``encoding``: rows -> seconds) / the model's
    (1 before any fit). It scales the prediction for a family's first fit, so that a machine faster than the
    reference still probes the slower families instead of skipping them on the model's raw seconds. The
    smallest, not the median: one family the model gets wrong for this data (the linear model's convergence
    on digits, 8x its modelled seconds) must not make the probe skip every family after it, and an optimistic
    prediction costs at most the one fit that overruns the limit (no fit starts after it)."""
    encoding = encoding or {}
    ratios = [
        without_encoding(history[-1][1], encoding.get(history[-1][0], 0.0))
        / model_fit_seconds(name, task_type, history[-1][0], width, onehot, n_classes)
        for name, history in measured.items()
        if history
    ]
    if not ratios:
        return 1.0
    return min(max(min(ratios), SPEED_RANGE[0]), SPEED_RANGE[1])


ENCODED_TREATMENTS = ("categorical", "high_cardinality", "datetime")
"""Column treatments whose encoding the probe times on its own (the cost model's numeric data has none)."""
ENCODING_EXPONENT = 0.5
"""How the encoding's seconds grow with the rows when only one size was timed: it is mostly fixed cost (fitting
the encoders), 0.3-0.4 measured between 25 % and 100 % of titanic and kr-vs-kp; 0.5 errs high."""


def time_encoding(X: pd.DataFrame, y: pd.Series, columns: Sequence[str]) -> float:
    """CPU seconds (as :func:`fit_timing`) to fit the run's preprocessing of ``columns`` alone and transform the
    rows twice (the fit's and the prediction's), as a timed fit does; repeated up to 3 times when shorter than
    50 ms, fastest kept."""
    if not columns:
        return 0.0
    from metaconf.targets.preprocess import build_preprocessor

    part = X[list(columns)]
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        preprocessor = build_preprocessor(part, scale=False)
        preprocessor.fit_transform(part, y)
        preprocessor.transform(part)
        best = min(best, time.process_time() - started)
        if best >= 0.05:
            break
    return best


def _encoding_at(encoding: dict[int, float], rows: float) -> float:
    """The encoding's seconds at ``rows``: measured, or a power law through the two largest sizes timed (exponent
    clamped to [0, 1]), or from one size with :data:`ENCODING_EXPONENT`."""
    import math

    if not encoding:
        return 0.0
    if rows in encoding:
        return encoding[int(rows)]
    points = sorted(encoding.items())
    if len(points) >= 2:
        (n1, t1), (n2, t2) = points[-2:]
        b = math.log(max(t2, 1e-6) / max(t1, 1e-6)) / math.log(n2 / n1)
        b = min(max(b, 0.0), 1.0)
    else:
        (n2, t2), b = points[-1], ENCODING_EXPONENT
    return t2 * (max(rows, 1.0) / n2) ** b


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
    takes much more than ``time_limit_s`` of CPU time (at most one fit's misprediction beyond it) nor
    ``WALL_SLACK`` x as much walltime; the one-off imports and
    estimator constructions before it (:func:`_warm_up`, :func:`_warm_up_pipeline`: ~2 s of scikit-learn and
    SciPy imports in a fresh process, which would otherwise leave a small limit no time to measure anything)
    are not limited, but they are counted in ``walltime_s``, which the advisor reserves from the budget."""
    from metaconf.profile.profile import profile_dataset

    begun, cpu_begun = time.perf_counter(), time.process_time()
    X, y = dataset.X, dataset.y
    n_rows = len(y)
    names = [getattr(f, "value", f) for f in families]
    sizes = probe_sizes(n_rows, max_rows)
    profile = profile_dataset(dataset, max_rows=min(n_rows, 20_000), seed=seed)
    prior = estimate_trial_cost(profile, names, 1)
    width = max(1, profile.n_encoded_features)
    onehot = profile.n_onehot_features
    n_classes = profile.target.n_classes if profile.target is not None else 2
    encoded = [c.name for c in profile.columns if c.treatment in ENCODED_TREATMENTS and c.name in X.columns]
    encoding: dict[int, float] = {}

    def model(name: str, rows: float) -> float:
        return model_fit_seconds(name, task_type, rows, width, onehot, n_classes)

    values: dict[str, dict[str, Any]] = {}
    measured: dict[str, list[tuple[int, float]]] = {name: [] for name in names}
    failed: dict[str, str] = {}
    for name in names:
        try:
            values[name] = _warm_up(name, task_type, seed)
        except Exception as error:  # an unknown family: say why, use the cost model
            failed[name] = _failure(error)
    _warm_up_pipeline(X, y)
    started, cpu_started = time.perf_counter(), time.process_time()
    skipped: dict[str, int] = {}
    """family -> the smallest size whose fit was predicted to overrun the limit: larger sizes are not tried, a
    smaller one later in the order still is."""
    notes: list[str] = []
    stopped_early = False
    fits_wall = fits_cpu = 0.0
    """Walltime and CPU time of the fits so far: the costs are CPU seconds, the limit counts walltime."""
    for size, only_unmeasured in probe_order(sizes, n_rows):
        due = [
            name
            for name in names
            if name not in failed
            and size < skipped.get(name, size + 1)
            and not (only_unmeasured and measured[name])
        ]
        if not due:
            continue
        X_s, y_s = _subsample(X, y, size, task_type, seed)
        if encoded:
            with contextlib.suppress(Exception):  # a column the encoders reject alone: the fits report errors
                encoding[len(y_s)] = time_encoding(X_s, y_s, encoded)
        for name in due:
            if name in failed or size >= skipped.get(name, size + 1):
                continue
            history = measured[name]
            if history:
                last_n, last_t = history[-1]
                exponent = _power_law(history)[1] if len(history) >= 2 else 1.0
                # the conservative slope: at least linear going up, the flattest allowed going down
                slope = max(exponent, 1.0) if size >= last_n else EXPONENT_RANGE[0]
                predicted = last_t * (size / last_n) ** slope
            else:
                predicted = _encoding_at(encoding, size) + model(name, size) * _speed(
                    measured, task_type, width, onehot, encoding, n_classes
                )
            # The limit counts CPU seconds, as the fits do, so that other processes do not change which fits
            # the probe makes; the walltime is capped too, at WALL_SLACK x the limit.
            spent = time.process_time() - cpu_started
            wall_per_cpu = max(1.0, fits_wall / fits_cpu) if fits_cpu > 0 else 1.0
            elapsed = time.perf_counter() - started
            if (
                spent + PREDICTION_MARGIN * predicted > time_limit_s
                or elapsed + predicted * wall_per_cpu > WALL_SLACK * time_limit_s
            ):
                stopped_early = True
                skipped[name] = min(size, skipped.get(name, size))
                continue
            try:
                timing = fit_timing(values[name], X_s, y_s, task_type, seed=seed)
            except Exception as error:  # a family that cannot fit this data: say why, use the cost model
                failed[name] = _failure(error)
                continue
            fits_wall, fits_cpu = fits_wall + timing.wall_s, fits_cpu + timing.cpu_s
            history.append((len(y_s), timing.cpu_s))

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
            # One fit: on a small subsample mostly the pipeline's fixed cost, which does not grow with the rows.
            # The cost model's curve (fixed part + power law) through that fit, without the encoding's seconds
            # (timed apart, extrapolated on their own), extrapolates it; a pure power law would scale the fixed
            # part too (2-7x too high on German credit at a 45 s budget).
            b = prior.families[name].exponent
            own = without_encoding(largest_t, encoding.get(largest_n, 0.0))
            scale = own / model(name, largest_n)
            fit_seconds = _encoding_at(encoding, n_rows) + scale * model(name, n_rows)
            per_fit = _encoding_at(encoding, fit_rows) + scale * model(name, fit_rows)
        note = ""
        if name in skipped and len(history) < len(sizes):
            note = f"measured on {len(history)} of {len(sizes)} subsamples (time limit)"
        result[name] = FamilyCost(
            family=name,
            seconds=per_fit * fits,
            fit_seconds=fit_seconds,
            exponent=round(b, 4),
            source=source,
            measurements=[(n, round(t, 5)) for n, t in sorted(history)],
            note=note,
        )
    if stopped_early:
        notes.append(f"the probe stopped at its time limit of {time_limit_s:.1f} s; costs rest on fewer fits")
    wall_per_cpu = fits_wall / fits_cpu if fits_cpu > 0 else 1.0
    if wall_per_cpu >= BUSY_WALL_PER_CPU:
        notes.append(
            f"the fits took {wall_per_cpu:.1f}x their CPU time in walltime: other processes share the cores; "
            "the costs are CPU seconds, what a trial costs when it has a core to itself"
        )
    walltime = time.perf_counter() - begun
    return ProbeResult(
        families=result,
        rows=n_rows,
        n_features=int(X.shape[1]),
        folds=resampling_folds,
        walltime_s=round(walltime, 4),
        cpu_s=round(time.process_time() - cpu_begun, 4),
        time_limit_s=time_limit_s,
        method=(
            "probe: default configuration of each family fitted on "
            + ", ".join(f"{s:,}" for s in sizes)
            + " rows; power law through the two largest fits"
        ),
        stopped_early=stopped_early,
        notes=notes,
        encoding_seconds=round(_encoding_at(encoding, fit_rows) * fits, 5),
        encoding=[(n, round(t, 5)) for n, t in sorted(encoding.items())],
        wall_per_cpu=round(wall_per_cpu, 3),
    )
