"""The built-in rule advisor: budget + data facts + measured trial cost + description -> a complete config.

It works in two steps, so that the LLM advisor (a later issue) can reuse the first one unchanged:

1. :func:`metaconf.advise.envelope.envelope` computes what is *feasible* for this user: the walltime left for the search after start-up,
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
from dataclasses import dataclass
from typing import Any

from metaconf import __version__
from metaconf.advise.envelope import (
    AUTOSKLEARN_DEFAULT_MEMORY_MB,
    CV_MIN_TRIALS,
    EVAL_TIME_LIMIT_FACTOR,
    IMBALANCE_RATIO,
    INTERPRETABLE,
    LARGE_DATA_ROWS,
    MAIN_PROCESS_MB,
    MAX_TRIALS_GP,
    MAX_TRIALS_RF,
    MEMORY_SHARE,
    MIN_TRIALS_FOR_BO,
    N_TRIALS_HEADROOM,
    PLATEAU_FLOOR,
    PLATEAU_MIN_TRIALS,
    PLATEAU_SHARE,
    PORTFOLIO_LARGE,
    PORTFOLIO_SMALL,
    SMAC_OVERHEAD_S,
    STABLE_VALIDATION_ROWS,
    AdvisorInputs,
    DataSummary,
    Envelope,
    _fmt_s,
    _resampling_fits,
    _round_s,
    _subsample_min_rows,
    envelope,
)
from metaconf.advise.inputs import clip_text
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
                evidence = f" (\u201c{clip_text(desc.cost_matrix_evidence)}\u201d)" if desc.cost_matrix_evidence else ""
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
                f" (\u201c{clip_text(desc.cost_matrix_evidence)}\u201d)" if desc.cost_matrix_evidence else ""
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
        evidence = f" (\u201c{clip_text(desc.metric_evidence)}\u201d)" if desc.metric_evidence else ""
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
            f" (\u201c{clip_text(desc.interpretable_evidence)}\u201d)" if desc.interpretable_evidence else ""
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
            f"the description's time limit (\u201c{clip_text(user.walltime_evidence)}\u201d) for the whole job",
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


