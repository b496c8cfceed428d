"""MC4xx: multi-fidelity. Hyperband and successive halving only save time when the fidelity, its range and
eta describe real, cheaper evaluations; SMAC validates almost none of it, and ignores it all silently with a
single-fidelity optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from metaconf.config.model import Config, FidelityType, ResamplingStrategy
from metaconf.lint.finding import Edit, Fix, Severity
from metaconf.lint.registry import LintContext, Violation, rule
from metaconf.lint.rules.budget import config_of

COUNT_FIDELITIES = (FidelityType.n_estimators, FidelityType.max_iter, FidelityType.cv_folds)
DEFAULT_ETA = 3.0


def fidelity_bounds(config: Config) -> tuple[FidelityType, float, float]:
    """(type, min, max) as the SMAC compiler will use them: metaconf's defaults fill unset ends, and a
    multi-fidelity run without a fidelity type subsamples rows."""
    from metaconf.targets.smac.compile import SUBSAMPLE_RANGE

    kind = config.fidelity.type
    if kind == FidelityType.none:
        kind = FidelityType.subsample
    if kind == FidelityType.subsample:
        default_min, default_max = SUBSAMPLE_RANGE
    elif kind == FidelityType.cv_folds:
        default_min, default_max = 1.0, float(config.resampling.folds)
    else:
        from metaconf.space.builtin import fidelity_range

        default_min, default_max = fidelity_range(kind.value)
    low = config.fidelity.min if config.fidelity.min is not None else default_min
    high = config.fidelity.max if config.fidelity.max is not None else default_max
    return kind, low, high


def _bounds_valid(config: Config) -> bool:
    kind, low, high = fidelity_bounds(config)
    if low <= 0 or low >= high:
        return False
    if kind == FidelityType.subsample and high > 1:
        return False
    return not (kind in COUNT_FIDELITIES and low < 1)


def _min_path(ctx: LintContext) -> tuple[str, ...]:
    return ("fidelity", "min") if ctx.has("fidelity", "min") else ("fidelity", "max")


@rule(
    "MC401",
    "multi-fidelity-without-fidelity",
    severity=Severity.warning,
    summary="A multi-fidelity optimizer with `fidelity.type: none`.",
    tools=["smac"],
)
def multi_fidelity_without_fidelity(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `optimizer.kind: hyperband` or `successive_halving` without a `fidelity.type`.

    ## Why is this bad?
    Successive halving saves time by evaluating many configurations cheaply (few rows, few trees, few
    epochs) and only the best at full cost. Without a fidelity there is nothing to make cheap; metaconf
    falls back to subsampling rows (10% to 100%), which may not be what was meant and is a poor fidelity
    for models that need many rows (k-NN, MLPs).

    ## Example
    ```yaml
    optimizer:
      kind: hyperband
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: subsample
      min: 0.1
      max: 1.0
    ```

    ## Fix safety
    Setting `fidelity.type: subsample` is safe: it is what the compiler does anyway.

    ## References
    - Li et al. 2018, "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization", JMLR 18(185)
    - Falkner et al. 2018, "BOHB: Robust and Efficient Hyperparameter Optimization at Scale", ICML
    """
    config = config_of(ctx)
    if not config.is_multi_fidelity() or config.fidelity.type != FidelityType.none:
        return
    yield Violation(
        ctx.where(("fidelity", "type"), ("optimizer", "kind")),
        f"`optimizer.kind: {config.optimizer.kind.value}` needs a fidelity; none is set, so rows are subsampled",
        fix=Fix("Set `fidelity.type` to `subsample`", (Edit(("fidelity", "type"), "subsample"),), safe=True),
    )


@rule(
    "MC402",
    "fidelity-min-not-below-max",
    severity=Severity.error,
    summary="`fidelity.min` is not below `fidelity.max`.",
    tools=["smac"],
)
def fidelity_min_not_below_max(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Compares the fidelity's smallest and largest budget (with metaconf's defaults for an unset end: 0.1 to
    1 for `subsample`, 10 to 300 for `n_estimators` and `max_iter`, 1 to `resampling.folds` for
    `cv_folds`).

    ## Why is this bad?
    With min above max SMAC stops with `Max budget has to be larger than min budget.`; with min equal to max
    it runs without complaint, but every rung has the same budget: successive halving then only throws
    configurations away without saving any time.

    ## Example
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: n_estimators
      min: 300
      max: 100
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: n_estimators
      min: 10
      max: 300
    ```

    ## Fix safety
    No automatic fix: which bound is wrong is for the user to say.

    ## References
    - docs/tools.md, "Multi-fidelity" (measured with SMAC3 2.4.1): min > max raises, min == max is accepted silently
    - Li et al. 2018, "Hyperband", JMLR 18(185): the budget ratio R = max / min sets the brackets
    """
    config = config_of(ctx)
    if not config.is_multi_fidelity():
        return
    _, low, high = fidelity_bounds(config)
    if low < high:
        return
    relation = "equals" if low == high else "is above"
    yield Violation(
        _min_path(ctx),
        f"`fidelity.min` ({low:g}) {relation} `fidelity.max` ({high:g})"
        + ("; every rung runs at the same budget" if low == high else ""),
        fix_title="Make `fidelity.min` smaller than `fidelity.max`",
    )


@rule(
    "MC403",
    "eta-not-above-one",
    severity=Severity.error,
    summary="`fidelity.eta` is 1 or less; successive halving needs a reduction factor above 1.",
    tools=["smac"],
)
def eta_not_above_one(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `fidelity.eta` of 1 or less with a multi-fidelity optimizer.

    ## Why is this bad?
    Successive halving keeps the best `1/eta` of the configurations at each rung and multiplies their budget
    by `eta`. SMAC 2.4.1 does not check it: `eta: 1` fails with `OverflowError: cannot convert float infinity
    to integer`, a negative eta with `cannot convert float NaN to integer`, and `eta: 0` runs without error
    but evaluates every trial at the maximum budget: no multi-fidelity at all.

    ## Example
    ```yaml
    optimizer:
      kind: successive_halving
    fidelity:
      type: subsample
      eta: 1
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: successive_halving
    fidelity:
      type: subsample
      eta: 3
    ```

    ## Fix safety
    Setting `eta: 3` (SMAC's and Hyperband's default) is unsafe: it fixes the run but picks a value.

    ## References
    - docs/tools.md, "Multi-fidelity" (measured with SMAC3 2.4.1): eta = 1, eta < 0 and eta = 0
    - Li et al. 2018, "Hyperband", JMLR 18(185): eta = 3 as the default
    """
    config = config_of(ctx)
    eta = config.fidelity.eta
    if not config.is_multi_fidelity() or eta is None or eta > 1:
        return
    if eta == 0:
        consequence = "SMAC then runs every trial at the maximum budget"
    elif eta < 0:
        consequence = "SMAC fails with `cannot convert float NaN to integer`"
    elif eta == 1:
        consequence = "SMAC fails with `OverflowError: cannot convert float infinity to integer`"
    else:
        consequence = "each rung would keep more configurations than it was given"
    yield Violation(
        ("fidelity", "eta"),
        f"`fidelity.eta` is {eta:g}; it must be above 1 ({consequence})",
        fix=Fix("Set `fidelity.eta` to 3", (Edit(("fidelity", "eta"), 3),), safe=False),
    )


@rule(
    "MC404",
    "fidelity-bound-out-of-range",
    severity=Severity.error,
    summary="A fidelity bound outside what its type allows (a fraction above 1, fewer than one tree, ...).",
    tools=["smac"],
)
def fidelity_bound_out_of_range(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Checks each fidelity bound against its type: every minimum above 0; `subsample` bounds at most 1 (a
    fraction of the rows); `n_estimators`, `max_iter` and `cv_folds` at least 1 (they count); `cv_folds` at
    most `resampling.folds`.

    ## Why is this bad?
    SMAC stops with `Min budget has to be larger than 0.` for a non-positive minimum, and passes any other
    number on to the trial: a subsample of 1.5 times the rows or 0.3 trees fails inside every trial, so
    every trial crashes at the crash cost.

    ## Example
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: subsample
      min: 10
      max: 100
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: subsample
      min: 0.1
      max: 1.0
    ```

    ## Fix safety
    No automatic fix: the intended unit (fraction or percent, trees or iterations) is not knowable.

    ## References
    - docs/tools.md, "Multi-fidelity" (measured with SMAC3 2.4.1): min <= 0 raises
    - Falkner et al. 2018, "BOHB", ICML: dataset subsets as budgets are fractions of the training data
    """
    config = config_of(ctx)
    if not config.is_multi_fidelity():
        return
    kind, low, high = fidelity_bounds(config)
    if low <= 0:
        yield Violation(_min_path(ctx), f"`fidelity.min` is {low:g}; the smallest budget must be above 0")
    if kind == FidelityType.subsample:
        for end, value in (("min", low), ("max", high)):
            if value > 1:
                yield Violation(
                    ("fidelity", end),
                    f"`fidelity.{end}` is {value:g}, but `subsample` budgets are fractions of the rows (at most 1)",
                    fix_title=f"Write `fidelity.{end}` as a fraction, e.g. {min(1.0, value / 100):g}",
                )
    if kind in COUNT_FIDELITIES and 0 < low < 1:
        yield Violation(
            _min_path(ctx),
            f"`fidelity.min` is {low:g}, but `{kind.value}` counts {_unit(kind)} (at least 1)",
            fix_title="Set `fidelity.min` to at least 1",
        )
    if kind == FidelityType.cv_folds and high > config.resampling.folds:
        yield Violation(
            ctx.where(("fidelity", "max"), ("resampling", "folds")),
            f"`fidelity.max` is {high:g} folds, but `resampling.folds` is {config.resampling.folds}",
            fix_title="Lower `fidelity.max` to `resampling.folds`, or raise the folds",
        )


def _unit(kind: FidelityType) -> str:
    return {"n_estimators": "trees", "max_iter": "iterations", "cv_folds": "folds"}.get(kind.value, "units")


@rule(
    "MC405",
    "fidelity-ignored-by-optimizer",
    severity=Severity.warning,
    summary="Fidelity settings given to an optimizer that evaluates every trial at full fidelity.",
    tools=["smac"],
)
def fidelity_ignored_by_optimizer(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `fidelity.type`, `min`, `max` or `eta` with `optimizer.kind` `bo`, `bo_gp` or `random`.

    ## Why is this bad?
    SMAC's HPO and black-box facades silently ignore `min_budget` / `max_budget`: every trial runs at full
    cost. A config that mentions a fidelity reads as if it were cheap, and its walltime was probably sized
    for cheap trials.

    ## Example
    ```yaml
    optimizer:
      kind: bo
    fidelity:
      type: subsample
      min: 0.1
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: subsample
      min: 0.1
    ```

    ## Fix safety
    No automatic fix: either switch to `hyperband` / `successive_halving` or remove the `fidelity` section.

    ## References
    - docs/tools.md, "Multi-fidelity" (measured with SMAC3 2.4.1): `HyperparameterOptimizationFacade` silently ignores min/max budget
    """
    config = config_of(ctx)
    if config.is_multi_fidelity():
        return
    written = [k for k in ("type", "min", "max", "eta") if ctx.has("fidelity", k)]
    if config.fidelity.type == FidelityType.none:
        written = [k for k in written if k != "type"]
    if not written:
        return
    yield Violation(
        ("fidelity", written[0]),
        f"`optimizer.kind: {config.optimizer.kind.value}` runs every trial at full fidelity; "
        + ", ".join(f"`fidelity.{k}`" for k in written)
        + " has no effect",
        fix_title="Use `optimizer.kind: hyperband`, or remove the `fidelity` settings",
        key=True,
    )


@rule(
    "MC406",
    "fidelity-range-below-eta",
    severity=Severity.warning,
    summary="`fidelity.max / fidelity.min` is below eta: successive halving has a single rung.",
    tools=["smac"],
)
def fidelity_range_below_eta(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a multi-fidelity run whose budget ratio `max / min` is smaller than `eta`.

    ## Why is this bad?
    Hyperband runs `floor(log_eta(max / min)) + 1` rungs. With a ratio below eta there is one: every
    configuration is evaluated at the full budget, and the multi-fidelity optimizer is an expensive random
    search.

    ## Example
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: n_estimators
      min: 100
      max: 200
      eta: 3
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: n_estimators
      min: 10
      max: 270
      eta: 3
    ```

    ## Fix safety
    No automatic fix: lower `fidelity.min`, raise `fidelity.max`, or lower `eta`.

    ## References
    - Li et al. 2018, "Hyperband", JMLR 18(185): s_max = floor(log_eta(R))
    """
    config = config_of(ctx)
    eta = config.fidelity.eta if config.fidelity.eta is not None else DEFAULT_ETA
    if not config.is_multi_fidelity() or eta <= 1 or not _bounds_valid(config):
        return
    _, low, high = fidelity_bounds(config)
    if high / low >= eta:
        return
    yield Violation(
        _min_path(ctx),
        f"the budget ratio `max / min` = {high / low:.3g} is below `eta` ({eta:g}): a single rung, so every "
        "trial runs at the full budget",
        fix_title=f"Lower `fidelity.min` to {high / eta**2:.3g} or below for three rungs",
    )


@rule(
    "MC407",
    "cv-folds-fidelity-with-holdout",
    severity=Severity.warning,
    summary="A `cv_folds` fidelity with holdout resampling, which it silently replaces by cross-validation.",
    tools=["smac"],
)
def cv_folds_fidelity_with_holdout(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `fidelity.type: cv_folds` with `resampling.strategy: holdout`.

    ## Why is this bad?
    A `cv_folds` budget evaluates a configuration on the first k folds of a cross-validation, so metaconf's
    evaluator cross-validates (k = `fidelity.max`, else `resampling.folds`) whatever the resampling says:
    `holdout` and its `holdout_fraction` are silently ignored, and a full-budget trial costs k fits instead of
    the one the config suggests.

    ## Example
    ```yaml
    optimizer:
      kind: successive_halving
    fidelity:
      type: cv_folds
    resampling:
      strategy: holdout
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: successive_halving
    fidelity:
      type: cv_folds
    resampling:
      strategy: cv
      folds: 9
    ```

    ## Fix safety
    Setting `resampling.strategy: cv` is safe: it is what the evaluator does anyway.

    ## References
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap for Accuracy Estimation and Model Selection",
      IJCAI
    - Falkner et al. 2018, "BOHB", ICML: budgets must make evaluations cheaper and less exact
    """
    config = config_of(ctx)
    if config.fidelity.type != FidelityType.cv_folds or config.resampling.strategy != ResamplingStrategy.holdout:
        return
    yield Violation(
        ctx.where(("resampling", "strategy"), ("fidelity", "type")),
        "`fidelity.type: cv_folds` cross-validates; `resampling.strategy: holdout` is ignored",
        fix=Fix("Set `resampling.strategy` to `cv`", (Edit(("resampling", "strategy"), "cv"),), safe=True),
    )


@rule(
    "MC408",
    "fidelity-unsupported-by-model",
    severity=Severity.warning,
    summary="An `n_estimators` / `max_iter` fidelity with model families that have no such argument.",
    tools=["smac"],
)
def fidelity_unsupported_by_model(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Checks that the model families searched have the constructor argument the fidelity sets: `n_estimators`
    (random forest, extra trees) or `max_iter` (histogram gradient boosting, MLP; the linear model for
    classification). An error when no family has it, a warning when some do not.

    ## Why is this bad?
    A family without the argument cannot be evaluated cheaply: k-NN or an SVM runs at full cost on every
    rung, so the low rungs compare cheap forests with expensive SVMs and successive halving discards
    configurations on an unequal footing.

    ## Example
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: n_estimators
    search_space:
      models: [svm, k_nearest_neighbors]
    ```

    ## Use instead
    ```yaml
    optimizer:
      kind: hyperband
    fidelity:
      type: n_estimators
    search_space:
      models: [random_forest, extra_trees]
    ```

    ## Fix safety
    No automatic fix: use `fidelity.type: subsample`, which works for every model, or restrict the models.

    ## References
    - Falkner et al. 2018, "BOHB", ICML: budgets such as iterations or trees must apply to every configuration
    - Li et al. 2018, "Hyperband", JMLR 18(185)
    """
    config = config_of(ctx)
    kind = config.fidelity.type
    if not config.is_multi_fidelity() or kind not in (FidelityType.n_estimators, FidelityType.max_iter):
        return
    try:
        from metaconf.space.builtin import fidelity_families, is_user_space, selected_families

        if is_user_space(config):
            return
        families = selected_families(config)
        supported = fidelity_families(kind.value, config.task.type)
    except Exception:  # the search-space rules (MC2xx) report an unusable model list
        return
    without = [f.value for f in families if f not in supported]
    if not without:
        return
    names = ", ".join(f"`{f}`" for f in without)
    where = ctx.where(("search_space", "models"), ("fidelity", "type"))
    if len(without) == len(families):
        yield Violation(
            where,
            f"`fidelity.type: {kind.value}` applies to none of the models searched ({names})",
            fix=Fix("Set `fidelity.type` to `subsample`", (Edit(("fidelity", "type"), "subsample"),), safe=False),
            severity=Severity.error,
        )
    else:
        yield Violation(
            where,
            f"`fidelity.type: {kind.value}` does not apply to {names}; they run at full cost on every rung",
            fix=Fix("Set `fidelity.type` to `subsample`", (Edit(("fidelity", "type"), "subsample"),), safe=False),
        )


@rule(
    "MC409",
    "subsample-min-too-few-rows",
    severity=Severity.warning,
    summary="The smallest subsample is below the rows a fit needs, so it is silently raised.",
    needs_data=True,
    tools=["smac"],
)
def subsample_min_too_few_rows(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, computes the rows a trial fits on at the smallest `subsample` budget (the
    training rows of one fold, times `fidelity.min`) and compares them with the floor metaconf's evaluator
    keeps: 3 rows per class and 10 in all, every class present.

    ## Why is this bad?
    Below the floor some class would be missing or represented by a row or two, and most models fail or
    score at chance. The evaluator therefore fits on the floor instead: every budget up to it uses the same
    rows, so the lowest rungs are dearer and less distinct than the configured range says, and successive
    halving compares configurations on fewer real budget levels.

    ## Example
    ```yaml
    data:
      demo: iris
    optimizer:
      kind: hyperband
    fidelity:
      type: subsample
      min: 0.05
    resampling:
      strategy: cv
      folds: 5
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
    optimizer:
      kind: hyperband
    fidelity:
      type: subsample
      min: 0.25
    resampling:
      strategy: cv
      folds: 5
    ```

    ## Fix safety
    Raising `fidelity.min` to the floor's fraction is safe: it is the budget the evaluator uses anyway.

    ## References
    - Falkner et al. 2018, "BOHB", ICML: too small a minimum budget makes low-fidelity results uninformative
    - Li et al. 2018, "Hyperband", JMLR 18(185): the minimum resource must allow a meaningful evaluation
    """
    from metaconf.targets.evaluate import MIN_ROWS_PER_CLASS, MIN_SUBSAMPLE_ROWS

    config = config_of(ctx)
    data = ctx.data
    assert data is not None
    if not config.is_multi_fidelity():
        return
    kind, low, _ = fidelity_bounds(config)
    if kind != FidelityType.subsample or low <= 0:
        return
    test_size = config.data.test_size
    train = data.n_rows - math.ceil(data.n_rows * test_size) if test_size > 0 else data.n_rows
    if config.resampling.strategy == ResamplingStrategy.cv:
        fit_rows = train - math.ceil(train / config.resampling.folds)
    else:
        fit_rows = train - math.ceil(train * config.resampling.holdout_fraction)
    n_classes = data.n_classes if data.task_type == "classification" else 0
    floor = max(MIN_ROWS_PER_CLASS * n_classes, MIN_SUBSAMPLE_ROWS)
    rows = math.ceil(low * fit_rows)
    if fit_rows <= 0 or rows >= floor:
        return
    where = "3 per class, 10 in all" if n_classes else "10 in all"
    if floor >= fit_rows:
        yield Violation(
            _min_path(ctx),
            f"a fold has only {fit_rows} rows to fit on, no more than the {floor} a subsample keeps ({where}): "
            "every budget fits on all of them",
            fix_title="Use `fidelity.type: n_estimators` or `max_iter`; the data is too small to subsample",
        )
        return
    fraction = math.ceil(floor / fit_rows * 100) / 100
    yield Violation(
        _min_path(ctx),
        f"at `fidelity.min` {low:g} a trial would fit on {rows} of {fit_rows} rows; the evaluator keeps at least "
        f"{floor} ({where}), so budgets up to {fraction:g} all fit on the same rows",
        fix=Fix(f"Set `fidelity.min` to {fraction:g}", (Edit(("fidelity", "min"), fraction),), safe=True),
    )
