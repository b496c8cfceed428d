"""MC6xx: resampling and scoring. How a configuration is validated (holdout or cross-validation, the test
split) and what its score means (the metric, its cost matrix, its positive class). A search is only as good
as the estimate it optimises.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from metaconf.config.model import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    Metric,
    ResamplingStrategy,
    TaskType,
    Tool,
)
from metaconf.lint.finding import Edit, Fix, Severity
from metaconf.lint.registry import LintContext, Violation, rule
from metaconf.lint.rules.budget import config_of

MIN_VALIDATION_ROWS = 100
"""Below this many validation rows a holdout estimate of accuracy has a standard error of 5 points or more."""
MAX_TEST_SIZE = 0.5


def _train_rows(n_rows: int, test_size: float) -> int:
    """Rows left for the search after the test split (scikit-learn rounds the test part up)."""
    return n_rows - math.ceil(n_rows * test_size) if test_size > 0 else n_rows


@rule(
    "MC601",
    "holdout-on-tiny-data",
    severity=Severity.warning,
    summary="Holdout validation on so few rows that the estimate is mostly noise.",
    needs_data=True,
)
def holdout_on_tiny_data(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, computes the validation rows of a holdout split (rows after the test split, times
    `resampling.holdout_fraction`) and reports fewer than 100.

    ## Why is this bad?
    A holdout estimate from n rows has a standard error of about sqrt(p(1-p)/n): 5 accuracy points at 100
    rows, 8 at 40. The optimiser then chases noise and the incumbent is the luckiest split, not the best
    configuration. On small data, cross-validation costs little and gives a far steadier estimate.

    ## Example
    ```yaml
    data:
      demo: iris
    resampling:
      strategy: holdout
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
    resampling:
      strategy: cv
      folds: 5
    ```

    ## Fix safety
    Switching to 5-fold cross-validation is unsafe: every trial costs five fits.

    ## References
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap for Accuracy Estimation and Model Selection",
      IJCAI: holdout is pessimistic and high-variance; 10-fold stratified CV recommended
    """
    config = config_of(ctx)
    data = ctx.data
    assert data is not None
    if config.resampling.strategy != ResamplingStrategy.holdout:
        return
    train = _train_rows(data.n_rows, config.data.test_size)
    validation = math.ceil(train * config.resampling.holdout_fraction)
    if validation >= MIN_VALIDATION_ROWS:
        return
    yield Violation(
        ctx.where(("resampling", "strategy"), ("resampling", "holdout_fraction"), ("resampling",), ("data",)),
        f"holdout validation on {validation} rows ({train} training rows x {config.resampling.holdout_fraction:g}); "
        "its score is mostly noise",
        fix=Fix(
            "Use 5-fold cross-validation",
            (Edit(("resampling", "strategy"), "cv"), Edit(("resampling", "folds"), 5)),
            safe=False,
        ),
    )


@rule(
    "MC602",
    "folds-exceed-smallest-class",
    severity=Severity.warning,
    summary="More cross-validation folds than rows in the smallest class.",
    needs_data=True,
)
def folds_exceed_smallest_class(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, compares `resampling.folds` with the training rows of the smallest class (after
    the test split).

    ## Why is this bad?
    Stratified k-fold can put a class into every validation fold only if it has at least k rows. With
    fewer, some folds validate without a single example of it, so how well the class is predicted hardly
    enters the score; when every class is smaller than k, stratification is impossible and metaconf's
    evaluator falls back to plain k-fold, whose folds may miss classes at random. The search then optimises
    a noisy estimate that undervalues the rare class, usually the one that matters.

    ## Example
    ```yaml
    data:
      demo: iris
      sample_rows: 30
    resampling:
      strategy: cv
      folds: 10
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
      sample_rows: 30
    resampling:
      strategy: cv
      folds: 5
    ```

    ## Fix safety
    Lowering the folds to the smallest class size is unsafe: it changes the validation.

    ## References
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap", IJCAI: stratification
    - scikit-learn `StratifiedKFold`: `n_splits` versus members of each class
    """
    config = config_of(ctx)
    data = ctx.data
    assert data is not None
    if config.resampling.strategy != ResamplingStrategy.cv or data.task_type != "classification":
        return
    if not data.class_counts:
        return
    folds = config.resampling.folds
    keep = 1 - config.data.test_size
    train_counts = {label: math.floor(count * keep) for label, count in data.class_counts.items()}
    small = sorted((count, label) for label, count in train_counts.items() if count < folds)
    if not small:
        return
    smallest, label = small[0]
    all_small = len(small) == len(train_counts)
    fix = (
        Fix(f"Set `resampling.folds` to {smallest}", (Edit(("resampling", "folds"), smallest),), safe=False)
        if smallest >= 2
        else None
    )
    yield Violation(
        ctx.where(("resampling", "folds"), ("resampling", "strategy")),
        f"{folds} folds, but the class `{label}` has only {smallest} training rows; some validation folds miss it"
        + (" (every class is smaller than the folds: the folds cannot be stratified)" if all_small else ""),
        fix=fix,
        fix_title=None if fix else "Use holdout, or gather more rows of the smallest class",
    )


@rule(
    "MC603",
    "folds-ignored-with-holdout",
    severity=Severity.warning,
    summary="`resampling.folds` with holdout resampling, which ignores it.",
)
def folds_ignored_with_holdout(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `resampling.folds` written while `resampling.strategy` is `holdout` (the default).

    ## Why is this bad?
    Holdout validates on one split and ignores the fold count; auto-sklearn does the same without a word.
    The config reads as cross-validated and its scores are not.

    ## Example
    ```yaml
    resampling:
      folds: 10
    ```

    ## Use instead
    ```yaml
    resampling:
      strategy: cv
      folds: 10
    ```

    ## Fix safety
    Setting `resampling.strategy: cv` is unsafe: each trial then costs `folds` fits.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): holdout with `folds` is ignored
    """
    config = config_of(ctx)
    if config.resampling.strategy != ResamplingStrategy.holdout or not ctx.has("resampling", "folds"):
        return
    yield Violation(
        ("resampling", "folds"),
        "`resampling.folds` has no effect with `strategy: holdout`",
        fix=Fix("Set `resampling.strategy` to `cv`", (Edit(("resampling", "strategy"), "cv"),), safe=False),
        key=True,
    )


@rule(
    "MC604",
    "holdout-fraction-ignored-with-cv",
    severity=Severity.warning,
    summary="`resampling.holdout_fraction` with cross-validation, which ignores it.",
)
def holdout_fraction_ignored_with_cv(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `resampling.holdout_fraction` written while `resampling.strategy` is `cv`.

    ## Why is this bad?
    With k folds each validation part is 1/k of the rows; the holdout fraction is ignored. Either the
    fraction or the strategy is not what the user thinks is in force.

    ## Example
    ```yaml
    resampling:
      strategy: cv
      holdout_fraction: 0.2
    ```

    ## Use instead
    ```yaml
    resampling:
      strategy: cv
      folds: 5
    ```

    ## Fix safety
    Removing `holdout_fraction` is safe: cross-validation ignores it.

    ## References
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap", IJCAI
    """
    config = config_of(ctx)
    if config.resampling.strategy != ResamplingStrategy.cv or not ctx.has("resampling", "holdout_fraction"):
        return
    yield Violation(
        ("resampling", "holdout_fraction"),
        "`resampling.holdout_fraction` has no effect with `strategy: cv`",
        fix=Fix("Remove `resampling.holdout_fraction`", (Edit(("resampling", "holdout_fraction"), delete=True),)),
        key=True,
    )


@rule(
    "MC605",
    "test-size-too-large",
    severity=Severity.warning,
    summary="The held-out test set takes more than half of the rows.",
)
def test_size_too_large(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `data.test_size` above 0.5.

    ## Why is this bad?
    The test set is never seen by the search. Above half the rows, the search trains and validates on the
    smaller part: models are fitted on less data than they could be, hyperparameters tuned for a small
    sample (regularisation, tree depth) do not carry over, and the test score mostly measures the split.

    ## Example
    ```yaml
    data:
      demo: breast_cancer
      test_size: 0.7
    ```

    ## Use instead
    ```yaml
    data:
      demo: breast_cancer
      test_size: 0.2
    ```

    ## Fix safety
    Setting `test_size: 0.2` is unsafe: it changes which rows are tested.

    ## References
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap", IJCAI: holdout estimates are pessimistic when
      little data is used for training
    """
    test_size = config_of(ctx).data.test_size
    if test_size <= MAX_TEST_SIZE:
        return
    yield Violation(
        ("data", "test_size"),
        f"`data.test_size` is {test_size:g}: the search sees only {1 - test_size:.0%} of the rows",
        fix=Fix("Set `data.test_size` to 0.2", (Edit(("data", "test_size"), 0.2),), safe=False),
    )


@rule(
    "MC606",
    "metric-task-mismatch",
    severity=Severity.error,
    summary="A classification metric on a regression task, or the other way round.",
)
def metric_task_mismatch(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `task.metric` that does not belong to `task.type`: `accuracy`, `balanced_accuracy`, `roc_auc`,
    `log_loss`, `f1` and `expected_cost` need classes; `rmse`, `mae` and `r2` need numbers.

    ## Why is this bad?
    The metric cannot be computed on the task's predictions: every trial fails at the crash cost, or (rmse on
    class labels that happen to be numbers) it optimises something meaningless.

    ## Example
    ```yaml
    task:
      type: regression
      metric: roc_auc
    ```

    ## Use instead
    ```yaml
    task:
      type: regression
      metric: rmse
    ```

    ## Fix safety
    Switching to the task's default metric (accuracy / rmse) is unsafe: it changes what is optimised.

    ## References
    - scikit-learn, "Metrics and scoring: quantifying the quality of predictions" (classification versus
      regression metrics)
    """
    config = config_of(ctx)
    metric = config.task.metric
    if metric is None:
        return
    regression = config.task.type == TaskType.regression
    allowed = REGRESSION_METRICS if regression else CLASSIFICATION_METRICS
    if metric in allowed:
        return
    default = Metric.rmse if regression else Metric.accuracy
    yield Violation(
        ("task", "metric"),
        f"`{metric.value}` is a {'classification' if regression else 'regression'} metric, but `task.type` is "
        f"`{config.task.type.value}`; use one of " + ", ".join(f"`{m.value}`" for m in Metric if m in allowed),
        fix=Fix(f"Set `task.metric` to `{default.value}`", (Edit(("task", "metric"), default.value),), safe=False),
    )


@rule(
    "MC607",
    "stratify-on-regression",
    severity=Severity.warning,
    summary="Stratified splits asked for on a regression target, where they are silently not used.",
)
def stratify_on_regression(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `resampling.stratify: true` with `task.type: regression`.

    ## Why is this bad?
    Stratification keeps class proportions in every split; a continuous target has (almost) one "class" per
    row, so scikit-learn's stratified splitters refuse it and metaconf's evaluator splits a regression
    target without strata, whatever the config says. The setting promises a balance the splits do not have
    (to balance a skewed target, bin it into a classification task instead).

    ## Example
    ```yaml
    task:
      type: regression
    resampling:
      stratify: true
    ```

    ## Use instead
    ```yaml
    task:
      type: regression
    resampling:
      stratify: false
    ```

    ## Fix safety
    Setting `stratify: false` is safe: it is what the evaluator does for a regression target.

    ## References
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap", IJCAI: stratification is defined for classes
    """
    config = config_of(ctx)
    if config.task.type != TaskType.regression or config.resampling.stratify is not True:
        return
    yield Violation(
        ("resampling", "stratify"),
        "`resampling.stratify` needs classes; a regression target is split without strata",
        fix=Fix("Set `resampling.stratify` to false", (Edit(("resampling", "stratify"), False),), safe=True),
    )


@rule(
    "MC608",
    "expected-cost-without-matrix",
    severity=Severity.error,
    summary="`metric: expected_cost` without a `task.cost_matrix`.",
)
def expected_cost_without_matrix(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `task.metric: expected_cost` when `task.cost_matrix` is missing.

    ## Why is this bad?
    The expected misclassification cost is defined by the matrix; without one there is nothing to compute,
    and `metaconf run` stops before the search.

    ## Example
    ```yaml
    task:
      metric: expected_cost
    ```

    ## Use instead
    ```yaml
    task:
      metric: expected_cost
      cost_matrix:
        labels: [good, bad]
        costs: [[0, 1], [5, 0]]
    ```

    ## Fix safety
    No automatic fix: the costs are the user's.

    ## References
    - Elkan 2001, "The Foundations of Cost-Sensitive Learning", IJCAI
    """
    config = config_of(ctx)
    if config.effective_metric() != Metric.expected_cost or config.task.cost_matrix is not None:
        return
    yield Violation(
        ("task", "metric"),
        "`expected_cost` needs `task.cost_matrix` (labels and a square matrix of costs)",
        fix_title="Add `task.cost_matrix: {labels: [...], costs: [[...], ...]}`",
    )


@rule(
    "MC609",
    "invalid-cost-matrix",
    severity=Severity.error,
    summary="A cost matrix that is not square over its labels, has negative or non-finite costs, or repeats a label.",
)
def invalid_cost_matrix(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Checks `task.cost_matrix`: one row and one column per label (rows are the true class, columns the
    prediction), finite non-negative costs, each label once, and some non-zero cost.

    ## Why is this bad?
    A ragged or mislabelled matrix cannot be applied; negative costs reward mistakes, so the Bayes decision
    predicts the wrong class on purpose; an all-zero matrix makes every model perfect and the search
    meaningless.

    ## Example
    ```yaml
    task:
      metric: expected_cost
      cost_matrix:
        labels: [good, bad]
        costs: [[0, 1, 2], [5, 0, 1]]
    ```

    ## Use instead
    ```yaml
    task:
      metric: expected_cost
      cost_matrix:
        labels: [good, bad]
        costs: [[0, 1], [5, 0]]
    ```

    ## Fix safety
    No automatic fix: the costs are the user's.

    ## References
    - Elkan 2001, "The Foundations of Cost-Sensitive Learning", IJCAI: rows true class, columns prediction
    """
    from metaconf.targets.metrics import label_key

    matrix = config_of(ctx).task.cost_matrix
    if matrix is None:
        return
    n = len(matrix.labels)
    base = ("task", "cost_matrix")
    keys = [label_key(label) for label in matrix.labels]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        yield Violation(
            base + ("labels",),
            "`task.cost_matrix.labels` names " + ", ".join(f"`{k}`" for k in repeated) + " more than once",
        )
    if len(matrix.costs) != n or any(len(row) != n for row in matrix.costs):
        shape = f"{len(matrix.costs)} rows of " + "/".join(sorted({str(len(r)) for r in matrix.costs}) or ["0"])
        yield Violation(
            base + ("costs",),
            f"`task.cost_matrix.costs` must be {n} x {n} (one row and column per label); got {shape} columns",
            fix_title="Write one row per true class and one column per predicted class, in the order of `labels`",
        )
        return
    for i, row in enumerate(matrix.costs):
        for j, value in enumerate(row):
            if not math.isfinite(value) or value < 0:
                yield Violation(
                    base + ("costs", i, j),
                    f"`task.cost_matrix.costs[{i}][{j}]` is {value:g}; costs must be finite and non-negative",
                )
    if all(value == 0 for row in matrix.costs for value in row):
        yield Violation(base + ("costs",), "every cost in `task.cost_matrix.costs` is 0: every model is perfect")


@rule(
    "MC610",
    "cost-matrix-ignored",
    severity=Severity.warning,
    summary="A `task.cost_matrix` with a metric other than `expected_cost`, which ignores it.",
)
def cost_matrix_ignored(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `task.cost_matrix` when the metric in force is not `expected_cost`.

    ## Why is this bad?
    Only `expected_cost` reads the matrix. With accuracy (the default), a 5:1 cost of a missed "bad" credit is
    silently treated as 1:1, and the chosen model can be far from the cheapest one.

    ## Example
    ```yaml
    task:
      cost_matrix:
        labels: [good, bad]
        costs: [[0, 1], [5, 0]]
    ```

    ## Use instead
    ```yaml
    task:
      metric: expected_cost
      cost_matrix:
        labels: [good, bad]
        costs: [[0, 1], [5, 0]]
    ```

    ## Fix safety
    Setting `task.metric: expected_cost` is unsafe: it changes what is optimised (usually as intended).

    ## References
    - Elkan 2001, "The Foundations of Cost-Sensitive Learning", IJCAI
    """
    config = config_of(ctx)
    if config.task.cost_matrix is None or config.effective_metric() == Metric.expected_cost:
        return
    yield Violation(
        ("task", "cost_matrix"),
        f"`task.cost_matrix` is ignored by the metric `{config.effective_metric().value}`",
        fix=Fix("Set `task.metric` to `expected_cost`", (Edit(("task", "metric"), "expected_cost"),), safe=False),
        key=True,
    )


@rule(
    "MC611",
    "split-smaller-than-classes",
    severity=Severity.warning,
    summary="The test or holdout split has fewer rows than there are classes.",
    needs_data=True,
)
def split_smaller_than_classes(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, computes the rows of the test split (`data.test_size`) and of the holdout
    validation split, and compares each with the number of classes.

    ## Why is this bad?
    A split with fewer rows than classes cannot hold every class: scikit-learn refuses to stratify it (`The
    test_size = 2 should be greater or equal to the number of classes = 3`), metaconf's evaluator falls back
    to an unstratified split, and the test score (or every validation score) silently ignores the classes
    that are missing. With a handful of rows the score is mostly noise anyway.

    ## Example
    ```yaml
    data:
      demo: iris
      test_size: 0.01
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
      test_size: 0.2
    ```

    ## Fix safety
    No automatic fix: raise `data.test_size` / `resampling.holdout_fraction`, or set `test_size: 0` to skip
    the test set.

    ## References
    - scikit-learn `train_test_split(stratify=...)`: each class must appear in both parts
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap", IJCAI: stratification
    """
    config = config_of(ctx)
    data = ctx.data
    assert data is not None
    if data.task_type != "classification" or data.n_classes < 2:
        return
    test_size = config.data.test_size
    if test_size > 0:
        test_rows = math.ceil(data.n_rows * test_size)
        if test_rows < data.n_classes:
            yield Violation(
                ("data", "test_size"),
                f"the test split has {test_rows} rows ({data.n_rows} x {test_size:g}) for {data.n_classes} classes",
                fix_title=f"Raise `data.test_size` to at least {math.ceil(data.n_classes / data.n_rows * 100) / 100:g}",
            )
    if config.resampling.strategy == ResamplingStrategy.holdout:
        train = _train_rows(data.n_rows, test_size)
        validation = math.ceil(train * config.resampling.holdout_fraction)
        if validation < data.n_classes:
            yield Violation(
                ctx.where(("resampling", "holdout_fraction"), ("resampling",)),
                f"the holdout split has {validation} rows for {data.n_classes} classes",
                fix_title="Raise `resampling.holdout_fraction`, or use `strategy: cv`",
            )


@rule(
    "MC612",
    "positive-label-ignored",
    severity=Severity.warning,
    summary="`task.positive_label` with a metric that does not use it.",
)
def positive_label_ignored(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `task.positive_label` when the metric in force is not `f1` (the one metric whose value depends on
    which class is positive; ROC AUC is symmetric).

    ## Why is this bad?
    The label suggests that the search favours the positive class (catching fraud, malignant tumours), but
    accuracy, balanced accuracy, ROC AUC and log loss treat the classes alike: the setting does nothing.

    ## Example
    ```yaml
    task:
      metric: accuracy
      positive_label: malignant
    ```

    ## Use instead
    ```yaml
    task:
      metric: f1
      positive_label: malignant
    ```

    ## Fix safety
    Setting `task.metric: f1` is unsafe: it changes what is optimised.

    ## References
    - Fawcett 2006, "An introduction to ROC analysis", Pattern Recognition Letters 27 (AUC does not depend on
      which class is called positive)
    """
    config = config_of(ctx)
    if config.task.positive_label is None or config.effective_metric() == Metric.f1:
        return
    fix = (
        Fix("Set `task.metric` to `f1`", (Edit(("task", "metric"), "f1"),), safe=False)
        if config.task.type == TaskType.classification
        else None
    )
    yield Violation(
        ("task", "positive_label"),
        f"`task.positive_label` has no effect on `{config.effective_metric().value}`; only `f1` uses it",
        fix=fix,
        fix_title=None if fix else "Remove `task.positive_label`",
        key=True,
    )


@rule(
    "MC613",
    "decision-threshold-ignored",
    severity=Severity.warning,
    summary="`task.decision_threshold` where no threshold is chosen.",
)
def decision_threshold_ignored(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `task.decision_threshold` written for a run that chooses no decision threshold: a regression task,
    the `accuracy` metric (whose threshold is 0.5 either way) or `tool: auto-sklearn` (whose models keep their
    own decision).

    ## Why is this bad?
    `natural` reads as a promise that the run would otherwise move the threshold, and `auto` as one that it
    will; here neither happens, so the setting says something the run does not do.

    ## Example
    ```yaml
    task:
      metric: accuracy
      decision_threshold: natural
    ```

    ## Use instead
    ```yaml
    task:
      metric: balanced_accuracy
      decision_threshold: natural
    ```

    ## Fix safety
    Removing `task.decision_threshold` is safe: it changes nothing in this run.

    ## References
    - metaconf's docs/run.md, "A decision rule that serves the metric"
    - scikit-learn user guide, "Tuning the decision threshold for class prediction" (`TunedThresholdClassifierCV`,
      `FixedThresholdClassifier`)
    """
    config = config_of(ctx)
    if "decision_threshold" not in config.task.model_fields_set:
        return
    why = None
    if config.tool == Tool.auto_sklearn:
        why = "auto-sklearn's models keep their own decision"
    elif config.task.type == TaskType.regression:
        why = "a regression task has no decision threshold"
    elif config.effective_metric() == Metric.accuracy:
        why = "`accuracy` is served by 0.5 either way"
    if why is None:
        return
    yield Violation(
        ("task", "decision_threshold"),
        f"`task.decision_threshold` has no effect here: {why}",
        fix=Fix("Remove `task.decision_threshold`", (Edit(("task", "decision_threshold"), None, delete=True),), safe=True),
        key=True,
    )


@rule(
    "MC614",
    "selection-margin-ignored",
    severity=Severity.warning,
    summary="`resampling.selection_margin` for auto-sklearn, which builds an ensemble instead.",
)
def selection_margin_ignored(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `resampling.selection_margin` written for `tool: auto-sklearn`.

    ## Why is this bad?
    The margin decides which configuration a SMAC run keeps after its search. auto-sklearn keeps no single
    configuration: it builds an ensemble of the models it trained, so the setting changes nothing there.

    ## Example
    ```yaml
    tool: auto-sklearn
    resampling:
      selection_margin: 1
    ```

    ## Use instead
    ```yaml
    tool: smac
    resampling:
      selection_margin: 1
    ```

    ## Fix safety
    Removing `resampling.selection_margin` is safe: it changes nothing in this run.

    ## References
    - metaconf's docs/run.md, "How the final configuration is chosen"
    """
    config = config_of(ctx)
    if config.tool != Tool.auto_sklearn or "selection_margin" not in config.resampling.model_fields_set:
        return
    yield Violation(
        ("resampling", "selection_margin"),
        "`resampling.selection_margin` has no effect with auto-sklearn, which builds an ensemble of its models",
        fix=Fix(
            "Remove `resampling.selection_margin`",
            (Edit(("resampling", "selection_margin"), None, delete=True),),
            safe=True,
        ),
        key=True,
    )
