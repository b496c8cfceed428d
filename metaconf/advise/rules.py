"""The built-in rule advisor: budget + data facts + measured trial cost + description -> a complete config.

It works in two steps, so that the LLM advisor (a later issue) can reuse the first one unchanged:

1. :func:`envelope` computes what is *feasible* for this user: the walltime left for the search after start-up,
   probe, final refit and a safety margin; the cost of one evaluation per model family and resampling
   strategy; the range of n_trials that budget allows; which model families fit the data and the budget;
   which fidelity types carry information for this data; which metrics and optimizers are allowed.
2. :func:`advise` picks one value inside the envelope for every setting, and records for each a
   :class:`~metaconf.config.model.ValueProvenance` with ``origin="rule"`` and a one-line reason that shows the
   numbers behind it.

Every rule (R1 ... R14) is documented, with its sources, in ``docs/advisor.md``; the rule ids appear in the
reasons, so a reader of a generated config can look them up. The advisor is pure: no I/O, no clock, no
randomness. The same inputs give the same config, byte for byte once rendered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from metaconf import __version__
from metaconf.config.model import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    AutoSklearnSettings,
    Budget,
    Config,
    CostMatrix,
    Data,
    Execution,
    Fidelity,
    FidelityType,
    InitialDesign,
    InitialDesignKind,
    Metric,
    ModelFamily,
    Optimizer,
    OptimizerKind,
    Origin,
    Provenance,
    Resampling,
    ResamplingStrategy,
    SearchSpace,
    Stopping,
    Task,
    TaskType,
    Tool,
    ValueProvenance,
)
from metaconf.config.units import format_duration, format_memory
from metaconf.errors import MetaconfError

# ---------------------------------------------------------------------------------------------------------------
# Constants, each with where it comes from (see docs/advisor.md for the full story)
# ---------------------------------------------------------------------------------------------------------------

SMAC_OVERHEAD_S: Mapping[OptimizerKind, float] = {
    OptimizerKind.bo: 0.25,
    OptimizerKind.hyperband: 0.25,
    OptimizerKind.successive_halving: 0.25,
    OptimizerKind.bo_gp: 0.35,
    OptimizerKind.random: 0.12,
}
"""SMAC's own time per trial on 2 cores with the surrogate's n_jobs=1 (docs/tools.md, "Overhead": 150 no-op trials in 28 s;
measured again here: 0.22 s/trial for 40 trials, 0.25 s with a pynisher per-trial limit)."""

MAX_OVERHEAD_FACTOR = 6.0
"""SMAC's overhead is scaled by the probe's machine factor up to this (measured here under heavy load: the
acquisition step every 8 trials took 8-15 s instead of ~2 s, i.e. 1.3-1.9 s per trial instead of 0.25 s)."""

SHRINK_RANGE = 3.0
"""A family's measured cost may differ from the cost model x machine factor by at most this factor either way:
one noisy probe fit (a busy machine, a first-call import) must not decide the search alone."""

STARTUP_S = 6.0
"""`metaconf run` start-up: importing smac (~2 s) and ConfigSpace (~1 s), building the space, the Dask-free runner."""

SAFETY_FRACTION = 0.05
"""Share of the walltime kept back: SMAC checks its walltime only after a trial ends (overshoot up to one trial)."""

N_TRIALS_HEADROOM = 3.0
"""n_trials is a cap at least this many times the expected count, and at least what fits if every trial took only
SMAC's own overhead: in the quality benchmark a 1.5x cap stopped a run at 60% of its walltime when the probe had
run on a loaded machine, and a 3x cap alone stopped 7 of 30 45 s searches at 40-89% of theirs (BO settles on cheap
configurations: 0.37 s per trial on digits where the probe's default configurations predicted 1.5 s); the walltime
is the stop that should bind."""

MIN_TRIALS_FOR_BO = 15
"""Below this, BO's initial design eats most of the budget and its surrogate never gets enough points: random
search is as good (Bergstra & Bengio 2012) and has the least overhead."""

PLATEAU_MIN_TRIALS = 200
"""Plateau stopping only when the budget holds this many trials after the initial design: below it the walltime is
the stop that should bind. In the quality benchmark a 30-trial patience ended all four 90 s searches at 40-60% of
their walltime, and lost test score to SMAC's default in two of them (a multi-family space is far from converged
after 30 quiet trials)."""

PLATEAU_SHARE = 0.5
"""Plateau patience: half the expected trials after the initial design without improvement (at least
``PLATEAU_FLOOR``), so only a search that has clearly converged stops early."""

PLATEAU_FLOOR = 100
"""The smallest plateau patience: 100 quiet trials in a multi-family space before the search counts as converged."""

MAX_TRIALS_GP = 200
"""A GP surrogate refits in O(n^3) per trial; SMAC's black-box facade is meant for a few hundred trials at most."""

MAX_TRIALS_RF = 3000
"""Past a few thousand trials, the random-forest surrogate's refit dominates cheap trials."""

MIN_EVALS_PER_FAMILY = 10
"""A model family whose single evaluation takes more than 1/10 of the search walltime cannot be tuned in it."""

AUTOSKLEARN_MIN_WALLTIME_S = 30.0
"""auto-sklearn refuses `time_left_for_this_task < 30` (docs/tools.md)."""

AUTOSKLEARN_DEFAULT_MEMORY_MB = 3072.0
"""auto-sklearn's default `memory_limit` per job (docs/tools.md); below 1 GB its dummy model fails."""

REFIT_SHARE = 0.1
"""At most this share of the walltime is reserved for the final refit of the incumbent."""

MEMORY_SHARE = 0.85
"""Share of ``--memory`` given to trials; the rest is for the OS page cache, Python and the data copies."""

MAIN_PROCESS_MB = 512.0
"""SMAC's own process (surrogate, runhistory) and the loaded data stay outside every trial's limit."""

IMBALANCE_RATIO = 5.0
"""Majority / minority count at or above which accuracy is misleading (He & Garcia 2009)."""

STABLE_VALIDATION_ROWS = 1000
"""A holdout split with fewer validation rows is too noisy to select models on (Kohavi 1995): the standard error of
an accuracy on n rows is up to 50 / sqrt(n) points, 1.6 points at 1,000 rows, more than the gap between good
configurations on small data."""

CV_MIN_TRIALS = ((5, 25), (3, 10))
"""(folds, trials they must leave) in order of preference when the holdout split would be too small: 5 folds
need >= 25 trials, 3 folds >= 10 (each family's default and a few more; below 15 R8 makes it random search).
On a holdout this small more trials buy little: the best of N noisy estimates is optimistic by about
s.e. x sqrt(2 ln N), and halving the s.e. outweighs the few extra trials (Cawley & Talbot 2010)."""

LARGE_DATA_ROWS = 5000
"""From this many training rows on, a holdout split of >= 1/3 has enough validation rows for a stable estimate."""

SVM_MAX_ROWS = 20_000
"""Kernel SVMs fit in between O(n^2) and O(n^3): impractical past a few tens of thousands of rows (sklearn docs)."""

KNN_MAX_ROWS = 50_000
"""k-NN predicts in O(n_train * n_val * d): on large data the validation pass alone is expensive."""

EVAL_TIME_LIMIT_FACTOR = 5.0
"""Per-trial walltime = 5x the slowest family's estimated evaluation (hyperparameters such as many trees or deep
nets cost several times the default configuration the probe measured)."""

PORTFOLIO_SMALL = (
    ModelFamily.random_forest,
    ModelFamily.lightgbm,
    ModelFamily.svm,
    ModelFamily.linear,
    ModelFamily.extra_trees,
    ModelFamily.hist_gradient_boosting,
    ModelFamily.k_nearest_neighbors,
    ModelFamily.mlp,
    ModelFamily.decision_tree,
)
"""Order in which families join the search on small data (< 2,000 training rows): random forests, kernel and
linear models do well there (Fernandez-Delgado et al. 2014). LightGBM comes second: on the peer benchmark's small
tables its default configuration was the best default or within 0.003 of it (house prices, loan approval,
election votes; `docs/advisor.md`), fitted in a fraction of a random forest's time (house prices: 0.27 s against
2.7 s); with it searched, house prices' test R² rose by 0.026 and 0.017 (two seeds) while loan approval and
election votes moved by at most 0.006 either way. scikit-learn's histogram gradient boosting, the same kind of
learner, would mostly duplicate it: it comes after the extra trees."""

PORTFOLIO_LARGE = (
    ModelFamily.lightgbm,
    ModelFamily.random_forest,
    ModelFamily.linear,
    ModelFamily.extra_trees,
    ModelFamily.hist_gradient_boosting,
    ModelFamily.svm,
    ModelFamily.k_nearest_neighbors,
    ModelFamily.mlp,
    ModelFamily.decision_tree,
)
"""Order on larger data: boosted and bagged tree ensembles lead on medium-sized tabular data (Grinsztajn et al.
2022); LightGBM first (it searches column and row sampling, L1 / L2 penalties and the number of trees with the
learning rate, and fits one-hot columns cheaply), histogram gradient boosting after the extra trees."""

INTERPRETABLE = (ModelFamily.linear, ModelFamily.decision_tree)


class BudgetTooSmallError(MetaconfError):
    """The budget does not allow even one evaluation after start-up."""


# ---------------------------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSummary:
    """The data facts the rules use (from :class:`metaconf.data.facts.DataFacts` or the full profile)."""

    n_rows: int
    n_features: int
    task_type: str
    class_counts: Mapping[str, int] = field(default_factory=dict)
    task_type_reason: str = ""
    """What decided the task type (:mod:`metaconf.data.task_type`); empty: only the type is known."""
    n_numeric: int = 0
    n_categorical: int = 0
    missing_ratio: float = 0.0
    memory_mb: float | None = None
    svm_scale: tuple[float, int, float] | None = None
    """scikit-learn's ``gamma="scale"`` on the encoded data: (gamma, encoded columns, their variance)
    (:func:`metaconf.targets.preprocess.scale_gamma`); None when not measured."""

    @property
    def n_classes(self) -> int:
        return len(self.class_counts)

    @property
    def imbalance(self) -> float:
        """Majority / minority class count (1.0 for balanced or regression data)."""
        if len(self.class_counts) < 2:
            return 1.0
        counts = sorted(self.class_counts.values())
        return counts[-1] / max(1, counts[0])

    @property
    def minority(self) -> str | None:
        if len(self.class_counts) < 2:
            return None
        return min(sorted(self.class_counts), key=lambda label: self.class_counts[label])


@dataclass(frozen=True)
class CostModel:
    """What one fit costs: seconds to fit and score a family's default configuration on ``rows`` rows, and how
    that scales (time ~ rows^exponent). From the probe (measured) or the documented cost model (``--no-probe``)."""

    fit_seconds: Mapping[str, float]
    rows: int
    exponent: Mapping[str, float] = field(default_factory=dict)
    source: str = "cost model"
    probe_seconds: float = 0.0
    """Seconds the probe itself took (its CPU time: its walltime on an idle machine); they count against the
    budget."""
    machine_factor: float = 1.0
    """How much slower this machine is than the reference machine of the cost model (and of SMAC's measured
    overhead), from the probe: SMAC's own per-trial time is scaled by it (R2)."""

    def seconds(self, family: ModelFamily | str, rows: float) -> float:
        name = family.value if isinstance(family, ModelFamily) else family
        base = self.fit_seconds.get(name)
        if base is None:
            base = max(self.fit_seconds.values()) if self.fit_seconds else 1.0
        b = self.exponent.get(name, 1.0)
        return float(base) * (max(rows, 1.0) / max(self.rows, 1)) ** b


@dataclass(frozen=True)
class DescriptionHints:
    """What the free-text description said, reduced to what the rules use (see ``metaconf.advise.describe``)."""

    cost_matrix: CostMatrix | None = None
    cost_matrix_evidence: str | None = None
    metric: Metric | None = None
    metric_evidence: str | None = None
    positive_label: str | None = None
    interpretable: bool = False
    interpretable_evidence: str | None = None
    time_limit_s: float | None = None
    time_limit_evidence: str | None = None
    imbalance: bool = False
    """The description says the classes are imbalanced."""


@dataclass(frozen=True)
class UserChoices:
    """What the user fixed on the command line: never overridden by a rule (origin ``user``)."""

    walltime_s: float
    cores: int = 1
    memory_mb: float | None = None
    tool: Tool = Tool.smac
    seed: int | None = None
    data_path: str | None = None
    demo: str | None = None
    target: str | None = None
    metric: Metric | None = None
    positive_label: str | None = None
    cost_matrix: CostMatrix | None = None
    models: Sequence[ModelFamily] | None = None
    test_size: float = 0.2
    walltime_evidence: str | None = None
    """Set when the walltime came from the description rather than ``--budget``: the words that gave it."""
    cores_given: bool = True
    """False when ``cores`` is the default (1) rather than the user's ``--cores``."""
    tool_given: bool = True
    """False when ``tool`` is the default (smac) rather than the user's ``--tool``."""
    task_type_given: bool = False
    """True when the user fixed the task type (``--task``)."""


@dataclass(frozen=True)
class AdvisorInputs:
    user: UserChoices
    data: DataSummary
    costs: CostModel
    description: DescriptionHints = field(default_factory=DescriptionHints)
    space_shape: Mapping[ModelFamily, tuple[int, int]] = field(default_factory=dict)
    """Per family: (hyperparameters, categorical hyperparameters) of its built-in space."""
    families: Sequence[ModelFamily] | None = None
    """The families valid for the task (``metaconf.space.builtin.families_for``); None means all."""
    extra_inputs: Mapping[str, Any] = field(default_factory=dict)
    """Recorded in ``provenance.inputs`` as they are (data fingerprint, probe details, description digest)."""
    reading_s: float = 0.0
    """Seconds a local LLM takes `suggest` to read the description (0: no LLM read it). An estimate from the
    model and the number of questions asked (:class:`metaconf.advise.llm.models.ReadingCost`), not a
    measurement, so the same inputs give the same config."""


# ---------------------------------------------------------------------------------------------------------------
# The envelope
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """The feasible region for this user; :func:`advise` (or an LLM) picks inside it."""

    total_walltime_s: float
    reserve_s: float
    reserve_parts: Mapping[str, float]
    search_walltime_s: float
    n_train: int
    """Rows the search sees (after the test split)."""
    workers: int
    eval_seconds: Mapping[ModelFamily, Mapping[str, float]]
    """Per family, per resampling ("holdout", "cv3", "cv5", "cv10"): seconds for one full-fidelity evaluation."""
    families: tuple[ModelFamily, ...]
    excluded_families: Mapping[ModelFamily, str]
    fidelity_types: Mapping[FidelityType, str]
    """Allowed fidelity types, each with why it is informative here."""
    metrics: tuple[Metric, ...]
    optimizers: tuple[OptimizerKind, ...]
    max_folds: int
    n_trials_min: int
    n_trials_max: int
    """Trials the search walltime allows with the cheapest allowed family on holdout."""
    overhead_factor: float = 1.0
    """SMAC's per-trial overhead on this machine relative to the reference machine (R2)."""

    def overhead(self, optimizer: OptimizerKind) -> float:
        """SMAC's own seconds per trial on this machine (R2)."""
        return SMAC_OVERHEAD_S[optimizer] * self.overhead_factor

    def n_trials_for(self, eval_s: float, optimizer: OptimizerKind) -> int:
        """How many trials of ``eval_s`` seconds fit into the search walltime, SMAC's overhead included."""
        per_trial = eval_s + self.overhead(optimizer)
        return max(0, int(self.search_walltime_s * self.workers / per_trial))

    def to_dict(self) -> dict[str, Any]:
        return {
            "search_walltime_s": round(self.search_walltime_s, 1),
            "reserve_s": {k: round(v, 1) for k, v in self.reserve_parts.items()},
            "n_train": self.n_train,
            "workers": self.workers,
            "families": [f.value for f in self.families],
            "excluded_families": {f.value: why for f, why in self.excluded_families.items()},
            "fidelity_types": {f.value: why for f, why in self.fidelity_types.items()},
            "metrics": [m.value for m in self.metrics],
            "optimizers": [o.value for o in self.optimizers],
            "max_folds": self.max_folds,
            "n_trials_range": [self.n_trials_min, self.n_trials_max],
            "eval_seconds": {
                f.value: {k: _round_s(v) for k, v in per.items()} for f, per in self.eval_seconds.items()
            },
        }


def _round_s(seconds: float) -> float:
    return float(f"{seconds:.3g}")


def _fmt_s(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2g} s"
    return f"{seconds:.0f} s"


def _resampling_fits(key: str) -> tuple[int, float]:
    """(fits per evaluation, fraction of the search rows each fit sees) for a resampling key."""
    if key == "holdout":
        return 1, 1.0 - Resampling.model_fields["holdout_fraction"].default
    k = int(key.removeprefix("cv"))
    return k, (k - 1) / k


def envelope(inputs: AdvisorInputs) -> Envelope:
    """The feasible ranges for this budget, data and tool (rules R1-R5 of docs/advisor.md)."""
    user, data, costs = inputs.user, inputs.data, inputs.costs
    n_train = max(1, round(data.n_rows * (1.0 - user.test_size)))
    workers = 1 if user.cores <= 2 else user.cores - 1
    if user.memory_mb is not None:
        # R12: every worker needs room for one trial (auto-sklearn's dummy model fails below 1GB).
        floor_mb = 1024.0 if user.tool == Tool.auto_sklearn else 512.0
        workers = max(1, min(workers, int((user.memory_mb * MEMORY_SHARE - MAIN_PROCESS_MB) // floor_mb)))

    # R2: evaluation cost per family and resampling, from the measured / modelled fit cost.
    candidates = list(inputs.families) if inputs.families is not None else list(ModelFamily)
    eval_seconds: dict[ModelFamily, dict[str, float]] = {}
    for family in candidates:
        per: dict[str, float] = {}
        for key in ("holdout", "cv3", "cv5", "cv10"):
            fits, fraction = _resampling_fits(key)
            per[key] = fits * costs.seconds(family, n_train * fraction)
        eval_seconds[family] = per

    # R1: walltime reserve: start-up, loading, the final refit of the incumbent, probe, the LLM's reading of the
    # description (the budget covers `suggest` and the run it writes), safety margin.
    # The incumbent's refit is one fit on all training rows; a probe outlier must not eat the budget, so at
    # most 10% of the walltime is reserved for it.
    slowest_fit = min(
        max((costs.seconds(f, n_train) for f in candidates), default=0.0), REFIT_SHARE * user.walltime_s
    )
    load_s = 0.5 + (data.memory_mb or data.n_rows * data.n_features * 8 / 1e6) / 50.0
    reserve_parts = {
        "start-up": STARTUP_S,
        "data loading": round(load_s, 1),
        "final refit": round(slowest_fit, 2),
        "probe": round(costs.probe_seconds, 2),
        "reading the description": round(inputs.reading_s, 1),
        "safety margin": max(2.0, SAFETY_FRACTION * user.walltime_s),
    }
    reserve = sum(reserve_parts.values())
    search = user.walltime_s - reserve

    cheapest = min((eval_seconds[f]["holdout"] for f in candidates), default=0.0)
    minimum_total = (
        reserve - reserve_parts["safety margin"] - reserve_parts["final refit"] + cheapest * 2 + 1.0
    )
    overhead_factor = min(MAX_OVERHEAD_FACTOR, max(1.0, costs.machine_factor))
    random_overhead = SMAC_OVERHEAD_S[OptimizerKind.random] * overhead_factor
    minimum_total += random_overhead
    if search <= cheapest + random_overhead:
        raise BudgetTooSmallError(
            f"a budget of {format_duration(user.walltime_s)} is too small: "
            + ", ".join(f"{name} {seconds:g} s" for name, seconds in reserve_parts.items() if seconds)
            + f" take {reserve:.0f} s, and one evaluation of the cheapest model takes "
            f"{_fmt_s(cheapest)} ({costs.source})",
            f"give at least {format_duration(math.ceil(max(minimum_total * 1.2, 20.0)))} "
            "(`--budget 1m` is a sensible minimum for a real search)",
        )
    if user.tool == Tool.auto_sklearn and search < AUTOSKLEARN_MIN_WALLTIME_S:
        raise BudgetTooSmallError(
            f"auto-sklearn needs at least {AUTOSKLEARN_MIN_WALLTIME_S:.0f} s of search, and a budget of "
            f"{format_duration(user.walltime_s)} leaves {search:.0f} s after {reserve:.0f} s of start-up and margin",
            f"give at least {format_duration(math.ceil(AUTOSKLEARN_MIN_WALLTIME_S + reserve + 1))}",
        )

    # R3: which families fit the data size and the budget.
    excluded: dict[ModelFamily, str] = {}
    allowed: list[ModelFamily] = []
    for family in candidates:
        holdout = eval_seconds[family]["holdout"]
        if family == ModelFamily.svm and n_train > SVM_MAX_ROWS:
            excluded[family] = (
                f"R3: {n_train:,} training rows > {SVM_MAX_ROWS:,}; kernel SVM fits scale as n^2-n^3"
            )
        elif family == ModelFamily.k_nearest_neighbors and n_train > KNN_MAX_ROWS:
            excluded[family] = (
                f"R3: {n_train:,} training rows > {KNN_MAX_ROWS:,}; k-NN validation costs n_train x n_val"
            )
        elif holdout * MIN_EVALS_PER_FAMILY > search:
            excluded[family] = (
                f"R3: one evaluation takes {_fmt_s(holdout)}, more than 1/{MIN_EVALS_PER_FAMILY} of the "
                f"{_fmt_s(search)} search"
            )
        else:
            allowed.append(family)
    if not allowed:
        fastest = min(candidates, key=lambda f: eval_seconds[f]["holdout"])
        allowed = [fastest]
        excluded.pop(fastest, None)

    # R4: fidelity types that carry information for this data and these families.
    fidelity_types: dict[FidelityType, str] = {FidelityType.none: "always allowed"}
    min_rows = _subsample_min_rows(data)
    if n_train * 0.67 >= 9 * min_rows:
        fidelity_types[FidelityType.subsample] = (
            f"{int(n_train * 0.67):,} fitting rows allow fractions down to {min_rows:,} rows "
            f"(>= 30 per class) over at least 3 halving rungs"
        )
    tree_families = {ModelFamily.random_forest, ModelFamily.extra_trees}
    if any(f in tree_families for f in allowed):
        fidelity_types[FidelityType.n_estimators] = (
            "random forests / extra trees grow more trees at higher budgets"
        )
    iter_families = {ModelFamily.hist_gradient_boosting, ModelFamily.mlp}
    if any(f in iter_families for f in allowed):
        fidelity_types[FidelityType.max_iter] = "boosting rounds / epochs grow at higher budgets"
    max_folds = 10
    if data.class_counts:
        max_folds = max(2, min(10, int(min(data.class_counts.values()) * (1.0 - user.test_size))))
    if max_folds >= 3:
        fidelity_types[FidelityType.cv_folds] = f"up to {max_folds} folds fit the smallest class"
    if user.tool == Tool.auto_sklearn:
        fidelity_types = {FidelityType.none: "auto-sklearn runs its own search at full fidelity"}

    metrics = tuple(
        m
        for m in Metric
        if (
            m in CLASSIFICATION_METRICS
            if data.task_type == TaskType.classification.value
            else m in REGRESSION_METRICS
        )
    )
    if user.tool == Tool.auto_sklearn:
        optimizers: tuple[OptimizerKind, ...] = (OptimizerKind.bo,)
    else:
        optimizers = tuple(OptimizerKind)

    per_trial_min = min(eval_seconds[f]["holdout"] for f in allowed) + random_overhead
    n_trials_max = max(1, int(search * workers / per_trial_min))
    return Envelope(
        total_walltime_s=user.walltime_s,
        reserve_s=reserve,
        reserve_parts=reserve_parts,
        search_walltime_s=search,
        n_train=n_train,
        workers=workers,
        eval_seconds=eval_seconds,
        families=tuple(allowed),
        excluded_families=excluded,
        fidelity_types=fidelity_types,
        metrics=metrics,
        optimizers=optimizers,
        max_folds=max_folds,
        n_trials_min=1,
        n_trials_max=n_trials_max,
        overhead_factor=overhead_factor,
    )


def _subsample_min_rows(data: DataSummary) -> int:
    """The smallest subsample that still says something: 30 rows per class and at least 300 rows."""
    return max(300, 30 * max(2, data.n_classes))


# ---------------------------------------------------------------------------------------------------------------
# Picking values
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Advice:
    """The advisor's result: the config (provenance included), and the envelope it was picked from."""

    config: Config
    envelope: Envelope
    expected_trials: int
    summary: list[tuple[str, str]]


class _Recorder:
    def __init__(self) -> None:
        self.values: dict[str, ValueProvenance] = {}

    def rule(self, path: str, reason: str) -> None:
        self.values[path] = ValueProvenance(origin=Origin.rule, reason=reason)

    def user(self, path: str, reason: str) -> None:
        self.values[path] = ValueProvenance(origin=Origin.user, reason=reason)

    def default(self, path: str, reason: str) -> None:
        self.values[path] = ValueProvenance(origin=Origin.default, reason=reason)


def _hyperband_mean_fraction(min_fraction: float, eta: float) -> tuple[float, int]:
    """Mean budget (as a fraction of the maximum) of a Hyperband trial, and the number of rungs.

    Follows Hyperband's bracket schedule (Li et al. 2018, Alg. 1) as SMAC3 implements it: s_max =
    floor(log_eta(max/min)); bracket s starts ceil((s_max+1)/(s+1) * eta^s) configs at max*eta^-s.
    """
    s_max = max(0, math.floor(math.log(1.0 / min_fraction, eta) + 1e-9))
    trials = 0.0
    cost = 0.0
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta**s)
        for i in range(s + 1):
            n_i = math.floor(n * eta ** (-i))
            r_i = eta ** (i - s)
            trials += n_i
            cost += n_i * r_i
    return cost / trials, s_max + 1


def expected_trials_of(env: Envelope, config: Config) -> tuple[int, float]:
    """R9's estimate for a finished config: trials that fit its search walltime, and the mean evaluation cost.

    The same arithmetic :func:`advise` uses, read back from the config, so a config another advisor (the LLM)
    changed gets an estimate for its own families, resampling and optimizer.
    """
    key = (
        f"cv{config.resampling.folds}" if config.resampling.strategy == ResamplingStrategy.cv else "holdout"
    )
    families = [f for f in (config.search_space.models or []) if f in env.eval_seconds]
    costs = [env.eval_seconds[f].get(key) for f in families]
    known = [c for c in costs if c is not None]
    if not known:
        return 0, 0.0
    mean_eval = sum(known) / len(known)
    kind = config.optimizer.kind
    fraction = 1.0
    if kind == OptimizerKind.hyperband and config.fidelity.type != FidelityType.none and config.fidelity.min:
        top = config.fidelity.max or 1.0
        fraction = _hyperband_mean_fraction(min(1.0, config.fidelity.min / top), config.fidelity.eta or 3.0)[0]
    walltime = float(config.stopping.walltime or env.search_walltime_s)
    per_trial = mean_eval * fraction + round(env.overhead(kind), 2)
    return max(1, int(walltime * config.execution.workers / per_trial)), mean_eval


def _pick_metric(inputs: AdvisorInputs, rec: _Recorder) -> tuple[Metric, CostMatrix | None, str | None]:
    """R6: the metric, from the user, the description, or the class balance."""
    user, data, desc = inputs.user, inputs.data, inputs.description
    classification = data.task_type == TaskType.classification.value
    classes = {str(c).lower(): str(c) for c in data.class_counts}

    if user.metric is not None:
        rec.user("task.metric", f"you chose `{user.metric.value}`")
        matrix = user.cost_matrix
        if matrix is not None:
            rec.user("task.cost_matrix", "you gave the cost of each kind of error")
        elif user.metric == Metric.expected_cost and classification and desc.cost_matrix is not None:
            matrix = _match_labels(desc.cost_matrix, classes)
            if matrix is not None:
                evidence = f" (\u201c{_clip(desc.cost_matrix_evidence)}\u201d)" if desc.cost_matrix_evidence else ""
                rec.rule(
                    "task.cost_matrix",
                    f"R6: from the description{evidence}; rows are the true class, columns the predicted class",
                )
        return user.metric, matrix, None
    if user.cost_matrix is not None and classification:
        rec.user(
            "task.metric", "R6: you gave a cost matrix, so the run minimises the expected cost per prediction"
        )
        rec.user("task.cost_matrix", "you gave the cost of each kind of error")
        return Metric.expected_cost, user.cost_matrix, None
    if classification and desc.cost_matrix is not None:
        matched = _match_labels(desc.cost_matrix, classes)
        if matched is not None:
            evidence = (
                f" (\u201c{_clip(desc.cost_matrix_evidence)}\u201d)" if desc.cost_matrix_evidence else ""
            )
            costs = matched.costs
            worst = max((c for row in costs for c in row), default=0)
            rec.rule(
                "task.metric",
                f"R6: the description gives a cost matrix{evidence}; minimising the expected cost per prediction "
                f"weighs errors as it says (worst error costs {worst:g})",
            )
            rec.rule(
                "task.cost_matrix",
                "R6: from the description; rows are the true class, columns the predicted class",
            )
            return Metric.expected_cost, matched, None
    if (
        desc.metric is not None
        and (desc.metric in CLASSIFICATION_METRICS if classification else desc.metric in REGRESSION_METRICS)
        and desc.metric != Metric.expected_cost
    ):
        evidence = f" (\u201c{_clip(desc.metric_evidence)}\u201d)" if desc.metric_evidence else ""
        rec.rule("task.metric", f"R6: the description asks for it{evidence}")
        positive = None
        if desc.metric in (Metric.f1, Metric.roc_auc) and data.n_classes == 2:
            positive = _positive_label(inputs, rec)
        return desc.metric, None, positive
    threshold = 2.0 if desc.imbalance else IMBALANCE_RATIO
    if classification and data.n_classes >= 2 and data.imbalance >= threshold:
        counts = sorted(data.class_counts.values())
        said = ", and the description says so" if desc.imbalance else ""
        if data.n_classes == 2:
            rec.rule(
                "task.metric",
                f"R6: classes are imbalanced {counts[-1]}:{counts[0]} (ratio {data.imbalance:.1f} >= "
                f"{threshold:g}{said}); ROC AUC ranks the minority class without rewarding always-majority",
            )
            return Metric.roc_auc, None, None
        rec.rule(
            "task.metric",
            f"R6: classes are imbalanced (largest / smallest {counts[-1]}:{counts[0]}, ratio "
            f"{data.imbalance:.1f} >= {threshold:g}{said}); balanced accuracy weighs every class equally",
        )
        return Metric.balanced_accuracy, None, None
    if classification:
        ratio = f"{data.imbalance:.1f}" if data.n_classes >= 2 else "n/a"
        rec.rule(
            "task.metric",
            f"R6: no metric in the description and classes are balanced enough (largest / smallest = {ratio} "
            f"< {IMBALANCE_RATIO:g}): accuracy",
        )
        return Metric.accuracy, None, None
    rec.rule(
        "task.metric", "R6: regression with no metric in the description: RMSE, in the target's own unit"
    )
    return Metric.rmse, None, None


def _positive_label(inputs: AdvisorInputs, rec: _Recorder) -> str | None:
    user, data, desc = inputs.user, inputs.data, inputs.description
    if user.positive_label is not None:
        rec.user("task.positive_label", f"you chose `{user.positive_label}`")
        return user.positive_label
    classes = {str(c).lower(): str(c) for c in data.class_counts}
    if desc.positive_label is not None and desc.positive_label.lower() in classes:
        rec.rule("task.positive_label", "R6: the description names it as the class of interest")
        return classes[desc.positive_label.lower()]
    minority = data.minority
    if minority is not None:
        rec.rule(
            "task.positive_label",
            f"R6: the minority class ({data.class_counts[minority]} rows) is the one to find",
        )
    return minority


def _match_labels(matrix: CostMatrix, classes: Mapping[str, str]) -> CostMatrix | None:
    """The matrix with its labels spelt as the data spells them, or None when they are not the data's classes."""
    if not classes:
        return None
    labels: list[str | int | bool] = []
    for label in matrix.labels:
        key = str(label).lower()
        if key not in classes:
            return None
        labels.append(classes[key])
    if len(set(labels)) != len(labels) or len(labels) != len(classes):
        return None
    return CostMatrix(labels=labels, costs=[list(row) for row in matrix.costs])


def _clip(text: str | None, width: int = 60) -> str:
    flat = " ".join((text or "").split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 3]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(",;:") + "..."


def _pick_resampling(
    inputs: AdvisorInputs, env: Envelope, rec: _Recorder
) -> tuple[list[ModelFamily], ResamplingStrategy, int, str]:
    """R7 with R5: the resampling and the model families, chosen together (Kohavi 1995; Cawley & Talbot 2010).

    How many families fit (R5) depends on how many evaluations fit, which depends on the resampling; so each
    resampling is tried in order of preference with the families its evaluation count allows, and the first whose
    count is enough wins.
    """
    n_train = env.n_train
    holdout_rows = int(n_train * Resampling.model_fields["holdout_fraction"].default)

    def trials_with(families: Sequence[ModelFamily], key: str) -> int:
        mean = sum(env.eval_seconds[f][key] for f in families) / len(families)
        return env.n_trials_for(mean, OptimizerKind.bo)

    if holdout_rows < STABLE_VALIDATION_ROWS and env.max_folds >= 3:
        for folds, enough in CV_MIN_TRIALS:
            if folds > env.max_folds:
                continue
            key = f"cv{folds}"
            families = _pick_families(inputs, env, rec, key)
            trials = trials_with(families, key)
            if trials >= enough:
                noise = ""
                if inputs.data.task_type == TaskType.classification.value:
                    noise = (
                        f" (an accuracy on {holdout_rows:,} rows has a standard error of up to "
                        f"{50 / math.sqrt(holdout_rows):.1f} points, on all {n_train:,} up to "
                        f"{50 / math.sqrt(n_train):.1f})"
                    )
                rec.rule(
                    "resampling.strategy",
                    f"R7: a holdout would validate on only {holdout_rows:,} rows{noise}; selecting the best of many "
                    "configurations on one noisy split overfits it (Kohavi 1995; Cawley & Talbot 2010). "
                    f"{folds}-fold CV validates on every training row and still leaves ~{trials} trials "
                    f"(>= {enough})",
                )
                rec.rule(
                    "resampling.folds",
                    f"R7: {folds} folds; the smallest class allows up to {env.max_folds}"
                    + ("; more folds would cut the number of trials" if folds < env.max_folds else ""),
                )
                return families, ResamplingStrategy.cv, folds, key
    elif n_train < LARGE_DATA_ROWS and env.max_folds >= 3:
        families = _pick_families(inputs, env, rec, "cv3")
        trials = trials_with(families, "cv3")
        if trials >= 100:
            rec.rule(
                "resampling.strategy",
                f"R7: {n_train:,} training rows and cheap trials: 3-fold CV (~{trials} trials) gives a steadier "
                "estimate than one holdout at little cost",
            )
            rec.rule("resampling.folds", f"R7: 3 folds keep ~{trials} trials in the budget")
            return families, ResamplingStrategy.cv, 3, "cv3"
    families = _pick_families(inputs, env, rec, "holdout")
    trials = trials_with(families, "holdout")
    if n_train >= LARGE_DATA_ROWS:
        why = f"R7: {n_train:,} training rows give a large enough validation split; CV would cost k fits per trial"
    elif holdout_rows < STABLE_VALIDATION_ROWS and env.max_folds < 3:
        why = f"R7: the smallest class allows only {env.max_folds} folds; holdout keeps ~{trials} trials"
    else:
        why = (
            f"R7: with {n_train:,} training rows CV would leave too few trials in the budget; holdout keeps "
            f"~{trials}"
        )
    rec.rule("resampling.strategy", why)
    return families, ResamplingStrategy.holdout, 5, "holdout"


def _pick_families(inputs: AdvisorInputs, env: Envelope, rec: _Recorder, key: str) -> list[ModelFamily]:
    """R5: the model families: the user's, the interpretable ones, or a portfolio sized to the evaluations that fit
    with resampling ``key``."""
    user, desc = inputs.user, inputs.description
    if user.models:
        chosen = [f for f in user.models]
        rec.user("search_space.models", "you chose these model families")
        return chosen
    allowed = list(env.families)
    excluded = "; ".join(
        f"{f.value}: {why.removeprefix('R3: ')}" for f, why in sorted(env.excluded_families.items())
    )
    excluded_note = f" Left out: {excluded}." if excluded else ""
    if desc.interpretable:
        chosen = [f for f in INTERPRETABLE if f in allowed] or allowed[:1]
        evidence = (
            f" (\u201c{_clip(desc.interpretable_evidence)}\u201d)" if desc.interpretable_evidence else ""
        )
        rec.rule(
            "search_space.models",
            f"R5: the description asks for an interpretable model{evidence}: linear models and decision trees only."
            + excluded_note,
        )
        return chosen
    order = PORTFOLIO_SMALL if env.n_train < 2000 else PORTFOLIO_LARGE
    ranked = [f for f in order if f in allowed]
    mean_eval = sum(env.eval_seconds[f][key] for f in ranked) / len(ranked)
    trials = env.n_trials_for(mean_eval, OptimizerKind.bo)
    evaluations = "holdout evaluations" if key == "holdout" else f"{key.removeprefix('cv')}-fold CV evaluations"
    if trials < 30:
        size, tier = (
            3,
            f"~{trials} {evaluations} fit the budget: the 3 strongest families keep the space small",
        )
    elif trials < 100:
        size, tier = 5, f"~{trials} {evaluations} fit the budget: 5 families"
    else:
        size, tier = (
            6,
            (f"~{trials} {evaluations} fit the budget: 6 families (decision trees are dominated by the ensembles)"),
        )
    chosen = ranked[:size]
    data_kind = "small data (< 2,000 training rows)" if env.n_train < 2000 else "larger data"
    rec.rule(
        "search_space.models",
        f"R5: {tier}, in the order that does best on {data_kind}." + excluded_note,
    )
    return chosen


def _warm_start_entry(family: ModelFamily, data: DataSummary) -> dict[str, Any]:
    """A family's default configuration; the SVM's with scikit-learn's own default kernel width (R10)."""
    if family == ModelFamily.svm and data.svm_scale is not None:
        return {"model": family.value, "gamma": _svm_gamma(data.svm_scale[0])}
    return {"model": family.value}


def _svm_gamma(gamma: float) -> float:
    """``gamma`` to 3 significant digits, inside the built-in SVM space's range."""
    from metaconf.space.builtin import model_spec

    [spec] = [h for h in model_spec(ModelFamily.svm, TaskType.classification.value).hyperparameters if h.name == "gamma"]
    assert spec.lower is not None and spec.upper is not None
    return float(f"{min(float(spec.upper), max(float(spec.lower), gamma)):.3g}")


def _gamma_note(warm_start: Sequence[Mapping[str, Any]], data: DataSummary) -> str:
    if data.svm_scale is None or not any("gamma" in entry for entry in warm_start):
        return ""
    gamma, columns, variance = data.svm_scale
    return (
        f"; the SVM's kernel width is scikit-learn's default (gamma=\"scale\") on the encoded data: "
        f"1 / ({columns} columns x variance {variance:.2f}) = {_svm_gamma(gamma):g}"
    )


def _space_size(inputs: AdvisorInputs, families: Sequence[ModelFamily]) -> tuple[int, int]:
    """(hyperparameters, categorical hyperparameters) of the combined space, counting the `model` choice."""
    n_hps = 1 if len(families) > 1 else 0
    n_cat = 1 if len(families) > 1 else 0
    for family in families:
        hps, cats = inputs.space_shape.get(family, (5, 1))
        n_hps += hps
        n_cat += cats
    return n_hps, n_cat


def advise(inputs: AdvisorInputs, env: Envelope | None = None) -> Advice:
    """Pick every value of the config inside the envelope, each with a reason (rules R1-R14, docs/advisor.md)."""
    env = env if env is not None else envelope(inputs)
    user, data = inputs.user, inputs.data
    rec = _Recorder()
    classification = data.task_type == TaskType.classification.value

    # --- what the user gave
    if user.walltime_evidence is not None:
        rec.user(
            "budget.walltime",
            f"the description's time limit (\u201c{_clip(user.walltime_evidence)}\u201d) for the whole job",
        )
    else:
        rec.user("budget.walltime", f"you gave --budget {format_duration(user.walltime_s)} for the whole job")
    if user.cores_given:
        rec.user("budget.cores", f"you gave --cores {user.cores}")
    else:
        rec.default("budget.cores", f"{user.cores} core (no --cores given)")
    if user.memory_mb is not None:
        rec.user("budget.memory", f"you gave --memory {format_memory(user.memory_mb)}")
    if user.tool_given:
        rec.user("tool", f"you gave --tool {user.tool.value}")
    else:
        rec.default("tool", f"`{user.tool.value}` runs the search (no --tool given)")
    if user.data_path is not None:
        rec.user("data.path", "the data file you gave (relative to this config)")
    if user.demo is not None:
        rec.user("data.demo", "the bundled demo dataset you chose")
    if user.target is not None:
        rec.user("task.target", "the target column you named")
    kind = "classification" if classification else "regression"
    if user.task_type_given:
        rec.user("task.type", f"you gave --task {kind}" + (f": {data.task_type_reason}" if data.task_type_reason else ""))
    elif data.task_type_reason:
        rec.rule("task.type", f"R6: {kind}: {data.task_type_reason}")
    else:
        rec.rule(
            "task.type",
            f"R6: {kind} from the target: "
            + (f"{data.n_classes} classes" if classification else "a numeric target with many values"),
        )

    metric, matrix, positive = _pick_metric(inputs, rec)
    families, strategy, folds, res_key = _pick_resampling(inputs, env, rec)

    mean_eval = sum(env.eval_seconds[f][res_key] for f in families) / len(families)
    slowest_eval = max(env.eval_seconds[f][res_key] for f in families)
    n_hps, n_cat = _space_size(inputs, families)

    # --- R8: optimizer and fidelity
    fidelity = Fidelity()
    optimizer_kind = OptimizerKind.bo
    trials_full = env.n_trials_for(mean_eval, OptimizerKind.bo)
    mean_fraction = 1.0
    if user.tool == Tool.auto_sklearn:
        rec.rule("optimizer.kind", "R8: auto-sklearn runs its own SMAC (random-forest BO) with meta-learning")
    elif trials_full < MIN_TRIALS_FOR_BO:
        optimizer_kind = OptimizerKind.random
        rec.rule(
            "optimizer.kind",
            f"R8: only ~{trials_full} evaluations of {_fmt_s(mean_eval)} fit the {_fmt_s(env.search_walltime_s)} "
            f"search (< {MIN_TRIALS_FOR_BO}): too few for a surrogate model; random search "
            "(Bergstra & Bengio 2012)",
        )
    elif (
        FidelityType.subsample in env.fidelity_types
        and mean_eval >= 1.0
        and trials_full < 200
        and 2.0 * env.overhead(OptimizerKind.hyperband) / mean_eval <= 1.0 / 9.0
    ):
        min_rows = _subsample_min_rows(data)
        fit_rows = env.n_train * _resampling_fits(res_key)[1]
        eta = 3.0
        # The smallest budget: enough rows to rank configurations, at most eta^3 below the full one (4 rungs, the
        # usual BOHB range), and a low-fidelity trial must cost at least twice SMAC's own time per trial.
        overhead_floor = 2.0 * env.overhead(OptimizerKind.hyperband) / mean_eval
        candidates = {
            f"{min_rows:,} of {int(fit_rows):,} fitting rows (>= 300 rows and 30 per class)": min_rows
            / fit_rows,
            f"1/{eta**3:g} of the rows (at most 4 rungs, the usual BOHB range)": 1.0 / eta**3,
            f"2x SMAC's overhead per trial ({_fmt_s(2.0 * env.overhead(OptimizerKind.hyperband))} of a "
            f"{_fmt_s(mean_eval)} evaluation)": overhead_floor,
        }
        why_min, min_fraction = max(candidates.items(), key=lambda item: item[1])
        min_fraction = math.ceil(min_fraction * 10_000) / 10_000
        mean_fraction, rungs = _hyperband_mean_fraction(min_fraction, eta)
        optimizer_kind = OptimizerKind.hyperband
        fidelity = Fidelity(type=FidelityType.subsample, min=min_fraction, max=1.0, eta=eta)
        rec.rule(
            "optimizer.kind",
            f"R8: a full evaluation costs {_fmt_s(mean_eval)} and only ~{trials_full} fit the budget; Hyperband "
            f"evaluates most candidates on subsamples first ({rungs} rungs, Li et al. 2018; BOHB-style proposals, "
            "Falkner et al. 2018)",
        )
        rec.rule("fidelity.type", f"R8: subsample: {env.fidelity_types[FidelityType.subsample]}")
        rec.rule(
            "fidelity.min",
            f"R8: the largest of three floors: {why_min}; below it low-fidelity rankings are noise or SMAC's "
            "overhead eats the savings",
        )
        rec.rule("fidelity.max", "R8: the full training rows")
        rec.rule(
            "fidelity.eta", "R8: eta = 3, the Hyperband / BOHB default: keep the best third at every rung"
        )
    elif len(families) == 1 and n_hps <= 8 and n_cat <= 1:
        optimizer_kind = OptimizerKind.bo_gp
        rec.rule(
            "optimizer.kind",
            f"R8: one model family with {n_hps} mostly continuous hyperparameters: a Gaussian-process surrogate "
            "models small continuous spaces best (SMAC's black-box facade)",
        )
    else:
        rec.rule(
            "optimizer.kind",
            f"R8: ~{trials_full} trials fit the budget over a conditional space of {n_hps} hyperparameters "
            f"({len(families)} families): random-forest BO handles conditional, mixed spaces (SMAC3 HPO facade)",
        )

    # --- R9: n_trials
    overhead = round(env.overhead(optimizer_kind), 2)
    per_trial = mean_eval * mean_fraction + overhead
    expected = max(1, int(env.search_walltime_s * env.workers / per_trial))
    # The most trials that could fit: every trial as cheap as SMAC's own overhead on the reference machine.
    fit_overhead = int(env.search_walltime_s * env.workers / SMAC_OVERHEAD_S[optimizer_kind])
    cap = MAX_TRIALS_GP if optimizer_kind == OptimizerKind.bo_gp else MAX_TRIALS_RF
    # The initial design is sized on the trials that plausibly run, not on the cap (which should never bind).
    headroom = math.ceil(expected * N_TRIALS_HEADROOM)
    design_trials = min(cap, max(expected + 1, headroom))
    n_trials = min(cap, max(design_trials, fit_overhead))
    factor_note = (
        f", {env.overhead_factor:.1f}x the reference machine's as the probe measured"
        if env.overhead_factor > 1.05
        else ""
    )
    fidelity_note = (
        f" at a mean budget of {mean_fraction:.2f} of full fidelity"
        if optimizer_kind in (OptimizerKind.hyperband,)
        else ""
    )
    n_trials_reason = (
        f"R9: {_fmt_s(env.search_walltime_s)} of search x {env.workers} worker(s) / ({_fmt_s(mean_eval)} per "
        f"evaluation{fidelity_note} + {overhead:g} s SMAC overhead{factor_note}) = ~{expected} trials"
    )
    if fit_overhead > headroom:
        n_trials_reason += (
            f"; the cap is the ~{fit_overhead} that fit if every trial took only SMAC's own "
            f"{SMAC_OVERHEAD_S[optimizer_kind]:g} s, because the search settles on cheap configurations and the "
            "probe times default ones, so the walltime is what stops the run"
        )
    else:
        n_trials_reason += (
            f"; the cap is {N_TRIALS_HEADROOM:g}x that because costs differ by configuration and a probe on a busy "
            "machine overestimates them, so the walltime is what stops the run"
        )
    if n_trials == cap:
        n_trials_reason += f" (capped at {cap})"
    cost_note = f"evaluation costs: {inputs.costs.source}"

    # --- R10: initial design and warm start
    initial = InitialDesign()
    warm_families = [f for f in families][: max(0, design_trials // 4)]
    warm_start = [_warm_start_entry(f, data) for f in warm_families] if len(families) > 1 else []
    if user.tool == Tool.auto_sklearn:
        initial = InitialDesign()
    elif optimizer_kind == OptimizerKind.random:
        initial = InitialDesign(kind=InitialDesignKind.default, warm_start=warm_start)
        rec.rule("initial_design.kind", "R10: random search starts from the default configuration")
        if warm_start:
            rec.rule(
                "initial_design.warm_start",
                "R10: each family's default configuration first, so every family is seen at its known-good setting",
            )
    else:
        per_hp = 8 if optimizer_kind == OptimizerKind.bo_gp else 10
        smac_default = per_hp * max(1, n_hps)
        size = max(min(5, design_trials // 4), min(round(0.1 * expected), design_trials // 4 - len(warm_start)))
        size = max(1 if not warm_start else 0, size)
        kind = (
            InitialDesignKind.random if optimizer_kind == OptimizerKind.hyperband else InitialDesignKind.sobol
        )
        initial = InitialDesign(kind=kind, size=size, warm_start=warm_start)
        if kind == InitialDesignKind.random:
            rec.rule("initial_design.kind", "R10: random, as SMAC's multi-fidelity facade does")
        else:
            rec.rule(
                "initial_design.kind", "R10: Sobol points cover the space evenly (SMAC3 HPO facade default)"
            )
        rec.rule(
            "initial_design.size",
            f"R10: ~10% of the ~{expected} expected trials; SMAC's default ({per_hp} per hyperparameter x {n_hps} = "
            f"{smac_default}, capped at 25% of n_trials) would spend the budget on space-filling points",
        )
        if warm_start:
            rec.rule(
                "initial_design.warm_start",
                f"R10: the default configuration of each of the {len(warm_start)} families first: a strong, cheap "
                "baseline per family that the surrogate learns from" + _gamma_note(warm_start, data),
            )

    # --- R11: stopping
    stopping_walltime = math.floor(env.search_walltime_s)
    parts = ", ".join(f"{k} {v:g} s" for k, v in env.reserve_parts.items() if v)
    rec.rule(
        "stopping.walltime",
        f"R1: {format_duration(user.walltime_s)} minus {parts} = {format_duration(stopping_walltime)} for the search",
    )
    rec.rule("stopping.n_trials", n_trials_reason + f"; {cost_note}")
    # The initial design must fit in the walltime even if every design point ran to the limit (lint MC305).
    design_points = max(1, (initial.size or 0) + len(initial.warm_start)) / env.workers
    floor_s = max(1.0, 2.0 * slowest_eval)
    ceiling_s = min(env.search_walltime_s / 4, env.search_walltime_s / max(1.0, design_points))
    trial_walltime = math.ceil(max(floor_s, min(max(EVAL_TIME_LIMIT_FACTOR * slowest_eval, 10.0), ceiling_s)))
    trial_walltime = max(1, min(trial_walltime, stopping_walltime))
    fits = max(1, int(stopping_walltime * env.workers // trial_walltime))
    if initial.size is not None and initial.size + len(initial.warm_start) > fits:
        shrunk = max(0 if initial.warm_start else 1, fits - len(initial.warm_start))
        initial = initial.model_copy(update={"size": shrunk})
        rec.rule(
            "initial_design.size",
            f"R10: {shrunk} {initial.kind.value} points, so that the initial design fits the walltime even if every "
            "point ran to "
            f"the per-trial limit of {trial_walltime} s",
        )
    wanted_s = max(EVAL_TIME_LIMIT_FACTOR * slowest_eval, 10.0)
    if trial_walltime >= math.ceil(wanted_s):
        why_limit = (
            f"{EVAL_TIME_LIMIT_FACTOR:g}x the slowest family's default evaluation ({_fmt_s(slowest_eval)}), "
            "at least 10 s"
        )
    else:
        why_limit = (
            f"{EVAL_TIME_LIMIT_FACTOR:g}x the slowest family's default evaluation ({_fmt_s(slowest_eval)}) would "
            f"be {_fmt_s(wanted_s)}, cut so that the initial design fits the {_fmt_s(stopping_walltime)} search "
            "even if every design point ran to the limit (at least 2x the slowest evaluation)"
        )
    if user.tool == Tool.auto_sklearn and trial_walltime < math.ceil(stopping_walltime / 10):
        # auto-sklearn's pipelines add feature preprocessors the probe did not time; a limit that every run hits
        # leaves only its dummy model (docs/tools.md), so never go below its own default of 1/10.
        trial_walltime = math.ceil(stopping_walltime / 10)
        why_limit = (
            f"auto-sklearn's own default, 1/10 of the search ({trial_walltime} s): its pipelines add preprocessing "
            f"the probe did not time (the slowest default evaluation took {_fmt_s(slowest_eval)})"
        )
    rec.rule(
        "stopping.trial_walltime",
        f"R11: {why_limit}; a runaway configuration becomes a TIMEOUT instead of eating the budget",
    )
    plateau: int | None = None
    initial_count = (initial.size or 0) + len(initial.warm_start)
    after_design = expected - initial_count
    if after_design >= PLATEAU_MIN_TRIALS and optimizer_kind != OptimizerKind.random and user.tool == Tool.smac:
        plateau = max(PLATEAU_FLOOR, round(PLATEAU_SHARE * after_design))
        if plateau >= n_trials - initial_count:
            plateau = None
        else:
            rec.rule(
                "stopping.plateau_patience",
                f"R11: stop after {plateau} trials ({PLATEAU_SHARE:.0%} of the ~{after_design} trials after the "
                "initial design) without improvement: by then the search has converged and the rest of the budget "
                "is better saved",
            )
    trial_memory: float | None = None
    if user.tool == Tool.auto_sklearn:
        if user.memory_mb is not None:
            trial_memory = max(
                1024.0, math.floor((user.memory_mb * MEMORY_SHARE - MAIN_PROCESS_MB) / env.workers)
            )
            rec.rule(
                "stopping.trial_memory",
                f"R11: (85% of {format_memory(user.memory_mb)} - 512MB) / {env.workers} job(s), at least 1GB "
                "(auto-sklearn's dummy model fails with MEMOUT below that)",
            )
        else:
            trial_memory = AUTOSKLEARN_DEFAULT_MEMORY_MB
            rec.rule(
                "stopping.trial_memory", "R11: auto-sklearn's own default of 3GB per job (no --memory given)"
            )
    elif user.memory_mb is not None:
        trial_memory = max(256.0, math.floor((user.memory_mb * MEMORY_SHARE - MAIN_PROCESS_MB) / env.workers))
        rec.rule(
            "stopping.trial_memory",
            f"R11: (85% of {format_memory(user.memory_mb)} - 512MB for SMAC's own process) / {env.workers} worker(s); "
            "an over-limit trial is recorded as CRASHED instead of taking the machine down",
        )
    stopping = Stopping(
        walltime=float(stopping_walltime),
        n_trials=n_trials if user.tool == Tool.smac else None,
        plateau_patience=plateau,
        trial_walltime=float(trial_walltime),
        trial_memory=trial_memory,
    )
    if user.tool == Tool.auto_sklearn:
        rec.values.pop("stopping.n_trials", None)

    # --- R12: execution
    rec.rule(
        "execution.workers",
        f"R12: {env.workers} worker(s) for {user.cores} core(s)"
        + (
            ": on 2 cores SMAC's own process competes with a second worker, so Dask brings no speed-up (docs/advisor.md, R12)"
            if user.cores <= 2
            else "; one core stays with SMAC's own process and the Dask scheduler"
        ),
    )
    seed = user.seed if user.seed is not None else 0
    if user.seed is not None:
        rec.user("execution.seed", f"you gave --seed {user.seed}")
    else:
        rec.rule(
            "execution.seed",
            "R12: a fixed seed makes the run repeatable (`metaconf run` also fixes PYTHONHASHSEED)",
        )
    execution = Execution(workers=env.workers, seed=seed)

    resampling = (
        Resampling(strategy=strategy, folds=folds)
        if strategy == ResamplingStrategy.cv
        else Resampling(strategy=strategy)
    )
    if strategy == ResamplingStrategy.holdout and env.n_train >= 30_000:
        fraction = round(max(0.1, 10_000 / env.n_train), 2)
        resampling = Resampling(strategy=strategy, holdout_fraction=fraction)
        rec.rule(
            "resampling.holdout_fraction",
            f"R7: ~10,000 validation rows are enough for a stable estimate; the rest of the {env.n_train:,} rows "
            "train the model",
        )

    auto_sklearn: AutoSklearnSettings | None = None
    if user.tool == Tool.auto_sklearn:
        if metric == Metric.expected_cost:
            auto_sklearn = AutoSklearnSettings(metalearning_configs=0)
            rec.rule(
                "auto_sklearn.metalearning_configs",
                "R13: a custom metric disables auto-sklearn's meta-learning anyway (docs/advisor.md, R13)",
            )
        else:
            auto_sklearn = AutoSklearnSettings()
        rec.rule(
            "auto_sklearn",
            "R13: auto-sklearn's own ensemble settings (the 50 best models); the shared sections above set its "
            "time, memory, resampling and seed",
        )

    task = Task(
        type=TaskType.classification if classification else TaskType.regression,
        target=user.target,
        metric=metric,
        cost_matrix=matrix,
        positive_label=positive,
    )
    data_section = Data(path=user.data_path, demo=user.demo, test_size=user.test_size)
    if user.test_size != Data.model_fields["test_size"].default:
        rec.user("data.test_size", f"you chose a test fraction of {user.test_size:g}")
    budget = Budget(walltime=user.walltime_s, cores=user.cores, memory=user.memory_mb)

    inputs_record: dict[str, Any] = {
        "budget": {
            "walltime": format_duration(user.walltime_s),
            "cores": user.cores,
            **({"memory": format_memory(user.memory_mb)} if user.memory_mb is not None else {}),
        },
        "data": {
            "rows": data.n_rows,
            "features": data.n_features,
            "numeric": data.n_numeric,
            "categorical": data.n_categorical,
            "task_type": data.task_type,
            **({"class_counts": dict(sorted(data.class_counts.items()))} if data.class_counts else {}),
            "missing_ratio": round(data.missing_ratio, 4),
        },
        "trial_cost": {
            "source": inputs.costs.source,
            "rows": inputs.costs.rows,
            "fit_seconds": {k: _round_s(v) for k, v in sorted(inputs.costs.fit_seconds.items())},
            "probe_seconds": round(inputs.costs.probe_seconds, 2),
        },
        "envelope": {k: v for k, v in env.to_dict().items() if k != "eval_seconds"},
        "expected_trials": expected,
        **dict(inputs.extra_inputs),
    }
    config = Config(
        tool=user.tool,
        task=task,
        data=data_section,
        budget=budget,
        search_space=SearchSpace(models=list(families)),
        optimizer=Optimizer(kind=optimizer_kind),
        fidelity=fidelity,
        initial_design=initial,
        stopping=stopping,
        resampling=resampling,
        execution=execution,
        auto_sklearn=auto_sklearn,
    )
    provenance = Provenance(
        advisor="rules",
        metaconf_version=__version__,
        values=dict(sorted(rec.values.items(), key=lambda item: _field_order(item[0]))),
        inputs=inputs_record,
        versions=_versions(),
    )
    config = config.model_copy(update={"provenance": provenance})
    summary = [
        ("metric", metric.value),
        ("models", ", ".join(f.value for f in families)),
        (
            "optimizer",
            optimizer_kind.value
            + (f" ({fidelity.type.value} fidelity)" if fidelity.type != FidelityType.none else ""),
        ),
        ("resampling", f"{folds}-fold cv" if strategy == ResamplingStrategy.cv else "holdout"),
        ("search walltime", format_duration(stopping_walltime)),
        ("expected trials", f"~{expected}" + (f" (cap {n_trials})" if user.tool == Tool.smac else "")),
        ("per-trial limit", format_duration(trial_walltime)),
        ("trial cost", f"{_fmt_s(mean_eval)} mean, {_fmt_s(slowest_eval)} slowest ({inputs.costs.source})"),
    ]
    return Advice(config=config, envelope=env, expected_trials=expected, summary=summary)


_SECTION_ORDER = list(Config.model_fields)


def _field_order(path: str) -> tuple[int, str]:
    head = path.split(".", 1)[0]
    return (_SECTION_ORDER.index(head) if head in _SECTION_ORDER else len(_SECTION_ORDER), path)


def _versions() -> dict[str, str]:
    """Versions of the libraries the config was made for (read from metadata: no heavy imports)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"metaconf": __version__}
    for name in ("smac", "ConfigSpace", "scikit-learn"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


# ---------------------------------------------------------------------------------------------------------------
# Adapters from the other modules' results to the advisor's inputs
# ---------------------------------------------------------------------------------------------------------------


def description_hints(facts: Any) -> DescriptionHints:
    """Reduce :class:`metaconf.advise.describe.DescriptionFacts` to what the rules use."""
    matrix: CostMatrix | None = None
    matrix_evidence: str | None = None
    if facts.cost_matrix is not None:
        cm = facts.cost_matrix
        matrix = CostMatrix(labels=list(cm.labels), costs=[list(row) for row in cm.costs])
        matrix_evidence = _quote(cm.evidence.text)
    metric: Metric | None = None
    metric_evidence: str | None = None
    for strength in ("explicit", "mention"):
        hint = next((h for h in facts.metric_hints if h.strength == strength), None)
        if hint is not None and metric is None:
            try:
                metric = Metric(hint.metric)
            except ValueError:
                continue
            metric_evidence = _quote(hint.evidence.text)
    positive = None if facts.positive_class is None else str(facts.positive_class.value)
    interpretable = bool(facts.wants_interpretability)
    return DescriptionHints(
        cost_matrix=matrix,
        cost_matrix_evidence=matrix_evidence,
        metric=metric,
        metric_evidence=metric_evidence,
        positive_label=positive,
        interpretable=interpretable,
        interpretable_evidence=_quote(facts.interpretability.evidence.text) if interpretable else None,
        time_limit_s=facts.time_limit_s,
        time_limit_evidence=next(
            (_quote(limit.evidence.text) for limit in facts.time_limits if limit.scope == "total"), None
        ),
        imbalance=bool(facts.mentions_imbalance),
    )


def _quote(text: str) -> str:
    """The most sentence-like part of an evidence block (a cost table's explanation rather than its digits)."""
    lines = [line.strip() for line in text.splitlines() if sum(c.isalpha() for c in line) >= 12]
    return _clip(" ".join(lines) if lines else text, 100)


def space_shape(families: Sequence[ModelFamily], task_type: str) -> dict[ModelFamily, tuple[int, int]]:
    """(hyperparameters, categorical ones) per built-in family, from the space specs (no ConfigSpace import)."""
    from metaconf.space.builtin import model_spec

    out: dict[ModelFamily, tuple[int, int]] = {}
    for family in families:
        hps = model_spec(family, task_type).hyperparameters
        searched = [h for h in hps if h.kind != "constant"]
        out[family] = (len(searched), sum(h.kind == "categorical" for h in searched))
    return out


def cost_model_from_probe(
    result: Any, *, n_rows: int, measured: bool, reference: Any | None = None
) -> CostModel:
    """A :class:`CostModel` from :class:`metaconf.profile.probe.ProbeResult` (measured or modelled).

    The probe reports seconds per full evaluation per family at ``resampling_folds=1`` (one fit on all rows
    and its scoring) and, when it fitted a power law, the exponent; the advisor scales those to the rows and
    folds of each resampling strategy itself.
    """
    per_family = getattr(result, "families", None) or getattr(result, "per_family", None) or {}
    seconds: dict[str, float] = {}
    exponents: dict[str, float] = {}
    for name, item in dict(per_family).items():
        key = getattr(name, "value", name)
        value = item if isinstance(item, (int, float)) else getattr(item, "seconds", None)
        if value is None:
            value = getattr(item, "full_seconds", None)
        if value is None:
            continue
        seconds[str(key)] = max(float(value), 1e-4)
        exponent = _one_fit_slope(item, getattr(result, "rows", 0)) or getattr(item, "exponent", None)
        if isinstance(exponent, (int, float)) and 0.3 <= exponent <= 3.0:
            exponents[str(key)] = float(exponent)
    factor = 1.0
    if measured and reference is not None:
        seconds, factor = _shrink_to_reference(result, reference, seconds)
    rows = int(getattr(result, "rows", 0) or getattr(result, "n_rows", 0) or n_rows)
    probe_seconds = float(getattr(result, "cpu_s", 0.0) or getattr(result, "walltime_s", 0.0) or 0.0)
    method = str(getattr(result, "method", "") or ("probe" if measured else "cost model"))
    return CostModel(
        fit_seconds=seconds,
        rows=rows,
        exponent=exponents,
        source=method,
        probe_seconds=probe_seconds if measured else 0.0,
        machine_factor=factor,
    )


def _one_fit_slope(item: Any, rows: int) -> float | None:
    """The row exponent of a family the probe fitted once: the slope from that fit to its extrapolation on all
    ``rows`` (along the cost model's curve, fixed part included). The probe reports the model's pure power-law
    ``b`` there, steeper than that curve on small data (SVM on breast cancer: 2.06 where the curve through a
    284-row fit rises at 0.92): scaled down to an evaluation's 64 % of the rows with it, the family cost 1.6x less
    when the probe's limit allowed one fit than when it allowed two. None for a family fitted more than once or not
    at all (its ``exponent`` stands)."""
    from metaconf.profile.probe import EXPONENT_RANGE

    measurements = list(getattr(item, "measurements", None) or [])
    fit_seconds = float(getattr(item, "fit_seconds", 0.0) or 0.0)
    if getattr(item, "source", "") == "cost model" or len(measurements) != 1 or fit_seconds <= 0:
        return None
    [(fitted_rows, fitted_seconds)] = measurements
    if fitted_rows >= rows or fitted_seconds <= 0:
        return None
    slope = math.log(fit_seconds / fitted_seconds) / math.log(rows / fitted_rows)
    return min(max(slope, EXPONENT_RANGE[0]), EXPONENT_RANGE[1])


def _shrink_to_reference(
    result: Any, reference: Any, seconds: Mapping[str, float]
) -> tuple[dict[str, float], float]:
    """R2: combine the probe with the cost model. The machine factor is the median ratio measured / modelled
    over the families the probe really measured; each family's cost is the model's x that factor, moved
    towards its own measurement by at most ``SHRINK_RANGE`` either way. A family the probe could not measure
    (time limit, failed fit) has no measurement to move towards: its cost is the model's x the factor (its raw
    model value would be the reference machine's seconds, up to 10x off on this one).

    The seconds the probe spent encoding categorical and datetime columns (``encoding_seconds``, measured on
    this machine, the same for every family) are taken out before the ratio and added back after the factor:
    the model was calibrated on numeric data, and on German credit the encoding made the cheap families look
    5x slower than the model and the factor 7-9x where the machine ran 2x."""
    from metaconf.profile.probe import without_encoding

    encoding = float(getattr(result, "encoding_seconds", 0.0) or 0.0)
    ratios: dict[str, float] = {}
    unmeasured = {
        str(name) for name, item in result.families.items() if getattr(item, "source", "") == "cost model"
    }
    for name, item in result.families.items():
        model = reference.families.get(name)
        if model is None or str(name) in unmeasured or model.seconds <= 0:
            continue
        ratios[str(name)] = without_encoding(float(item.seconds), encoding) / float(model.seconds)
    if not ratios:
        return dict(seconds), 1.0
    ordered = sorted(ratios.values())
    middle = len(ordered) // 2
    factor = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    factor = max(0.1, factor)
    out: dict[str, float] = {}
    for name, value in seconds.items():
        model = reference.families.get(name)
        if model is None:
            out[name] = value
            continue
        expected = float(model.seconds) * factor + encoding
        if name in unmeasured:
            out[name] = expected
            continue
        out[name] = min(max(value, expected / SHRINK_RANGE), expected * SHRINK_RANGE)
    return out, factor
