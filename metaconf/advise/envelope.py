"""What is feasible for this user, before any value is picked (step 1 of the rule advisor,
:mod:`metaconf.advise.rules`): the advisor's constants, each with where it comes from, its inputs (data facts,
measured trial costs, what the description says, the user's choices), and :func:`envelope` — the walltime left
for the search after start-up, probe, final refit and a safety margin; the cost of one evaluation per model
family and resampling strategy; the range of n_trials that budget allows; the families that fit; the fidelity
types that carry information; the metrics and optimizers allowed. Rules R1 ... R14: ``docs/advisor.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from metaconf.config.model import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    CostMatrix,
    FidelityType,
    Metric,
    ModelFamily,
    OptimizerKind,
    Resampling,
    TaskType,
    Tool,
)
from metaconf.config.units import format_duration
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
