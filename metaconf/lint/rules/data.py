"""MC9xx: data-aware rules. They run with ``metaconf lint --data`` when the data the config names can be
loaded (``ctx.data`` is a :class:`~metaconf.data.facts.DataFacts`), and check the config against what is
really in it: class labels, task type, row counts. MC900 (``data_access.py``) reports data that cannot be
loaded at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from difflib import get_close_matches

from metaconf.config.model import TaskType
from metaconf.data.facts import DataFacts
from metaconf.errors import MetaconfError
from metaconf.lint.finding import Edit, Fix, Severity
from metaconf.lint.registry import LintContext, Violation, rule
from metaconf.lint.rules.budget import config_of


def _facts(ctx: LintContext) -> DataFacts:
    assert ctx.data is not None  # the rules below are registered with needs_data=True
    return ctx.data


def _classes(data: DataFacts) -> list[str]:
    return sorted(data.class_counts)


def _shown(classes: list[str], limit: int = 12) -> str:
    text = ", ".join(f"`{c}`" for c in classes[:limit])
    return text + (f" and {len(classes) - limit} more" if len(classes) > limit else "")


@rule(
    "MC901",
    "cost-matrix-labels-not-classes",
    severity=Severity.error,
    summary="The cost matrix labels do not match the classes in the data.",
    needs_data=True,
)
def cost_matrix_labels_not_classes(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, matches `task.cost_matrix.labels` with the target's classes (as strings, exactly,
    then ignoring case) and reports labels that are no class and classes that have no label.

    ## Why is this bad?
    A label that is no class (`Bad` for `bad`, `1` for `yes`) cannot be applied, and a class without a row
    and column has no cost: the expected cost is undefined and the run stops after the data is loaded.
    Getting the order wrong silently swaps the costs, so metaconf matches by name, never by position.

    ## Example
    ```yaml
    data:
      demo: breast_cancer
    task:
      metric: expected_cost
      cost_matrix:
        labels: [benign, cancer]
        costs: [[0, 1], [10, 0]]
    ```

    ## Use instead
    ```yaml
    data:
      demo: breast_cancer
    task:
      metric: expected_cost
      cost_matrix:
        labels: [benign, malignant]
        costs: [[0, 1], [10, 0]]
    ```

    ## Fix safety
    No automatic fix: which class a label meant is for the user to say.

    ## References
    - Elkan 2001, "The Foundations of Cost-Sensitive Learning", IJCAI
    """
    from metaconf.targets.metrics import label_key, match_labels

    config = config_of(ctx)
    matrix = config.task.cost_matrix
    data = _facts(ctx)
    if matrix is None or data.task_type != "classification" or not data.class_counts:
        return
    classes = _classes(data)
    matched: set[str] = set()
    for index, label in enumerate(matrix.labels):
        try:
            matched.update(match_labels([label], classes, what="`task.cost_matrix.labels`"))
        except MetaconfError:
            unmatched = [c for c in classes if c not in matched]
            close = get_close_matches(label_key(label), unmatched, n=1, cutoff=0.6)
            yield Violation(
                ("task", "cost_matrix", "labels", index),
                f"`{label_key(label)}` is not a class of the target; its classes are {_shown(classes)}",
                fix=Fix(
                    f"Rename `{label_key(label)}` to `{close[0]}`",
                    (Edit(("task", "cost_matrix", "labels", index), close[0]),),
                    safe=False,
                )
                if close
                else None,
            )
    missing = [c for c in classes if c not in matched]
    if missing and len(matched) == len(matrix.labels):
        yield Violation(
            ("task", "cost_matrix", "labels"),
            f"the cost matrix has no row and column for the class(es) {_shown(missing)}",
            fix_title="Add every class of the target to `task.cost_matrix.labels` and the matrix",
        )


@rule(
    "MC902",
    "positive-label-not-a-class",
    severity=Severity.error,
    summary="`task.positive_label` is not one of the classes in the data.",
    needs_data=True,
)
def positive_label_not_a_class(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, matches `task.positive_label` with the target's classes (as strings, exactly, then
    ignoring case).

    ## Why is this bad?
    F1 is computed for the positive class; a label that is no class (`1` when the classes are `yes` / `no`,
    `Malignant` when it is `malignant` and another class `MALIGNANT` exists) has no F1 and the run stops
    after the data is loaded; scikit-learn's own message is `pos_label=1 is not a valid label`.

    ## Example
    ```yaml
    data:
      demo: breast_cancer
    task:
      metric: f1
      positive_label: 1
    ```

    ## Use instead
    ```yaml
    data:
      demo: breast_cancer
    task:
      metric: f1
      positive_label: malignant
    ```

    ## Fix safety
    No automatic fix: which class is positive is for the user to say.

    ## References
    - scikit-learn `f1_score(pos_label=...)`: the label must be one of the classes
    """
    from metaconf.targets.metrics import label_key, match_labels

    config = config_of(ctx)
    data = _facts(ctx)
    label = config.task.positive_label
    if label is None or data.task_type != "classification" or not data.class_counts:
        return
    classes = _classes(data)
    try:
        match_labels([label], classes, what="`task.positive_label`")
    except MetaconfError:
        fix = (
            Fix(f"Set `task.positive_label` to `{classes[0]}`", (Edit(("task", "positive_label"), classes[0]),), safe=False)
            if len(classes) == 1
            else None
        )
        yield Violation(
            ("task", "positive_label"),
            f"`task.positive_label` `{label_key(label)}` is not a class of the target; its classes are {_shown(classes)}",
            fix=fix,
        )


@rule(
    "MC903",
    "task-type-mismatch",
    severity=Severity.error,
    summary="`task.type` does not fit the target column (classification of a continuous target, or the reverse).",
    needs_data=True,
)
def task_type_mismatch(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, compares `task.type` with the target: a demo dataset's own task, or for a file a
    float target with many distinct values (regression) versus few labels (classification).

    ## Why is this bad?
    Classification of a continuous target makes every distinct value a class: hundreds of classes with one
    row each, so stratified splits fail and the metric is meaningless (an error). Regression on a handful
    of labels predicts between them (1.5 for classes 1 and 2) and optimises the wrong loss (a warning).

    ## Example
    ```yaml
    data:
      demo: diabetes
    task:
      type: classification
    ```

    ## Use instead
    ```yaml
    data:
      demo: diabetes
    task:
      type: regression
    ```

    ## Fix safety
    Switching `task.type` is unsafe: it changes the metric, the models and the splits.

    ## References
    - scikit-learn `utils.multiclass.type_of_target`: continuous versus multiclass targets
    """
    config = config_of(ctx)
    data = _facts(ctx)
    wanted = config.task.type.value
    if data.task_type == wanted:
        return
    fix = Fix(f"Set `task.type` to `{data.task_type}`", (Edit(("task", "type"), data.task_type),), safe=False)
    where = ctx.where(("task", "type"), ("task",), ("data",))
    if config.task.type == TaskType.classification:
        why = f": {data.task_type_reason}" if data.task_type_reason else " (continuous)"
        yield Violation(
            where,
            f"`task.type` is classification, but the target `{data.target}` is a quantity{why}",
            fix=fix,
        )
    else:
        yield Violation(
            where,
            f"`task.type` is regression, but the target `{data.target}` looks like class labels",
            fix=fix,
            severity=Severity.warning,
        )


@rule(
    "MC904",
    "sample-rows-exceeds-data",
    severity=Severity.info,
    summary="`data.sample_rows` is larger than the data, so nothing is sampled.",
    needs_data=True,
)
def sample_rows_exceeds_data(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, reports `data.sample_rows` above the number of rows there are.

    ## Why is this bad?
    Nothing is sampled: a config meant for a quick experiment on a sample runs on all the data, with a budget
    that was probably sized for the sample.

    ## Example
    ```yaml
    data:
      demo: iris
      sample_rows: 1000
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
      sample_rows: 100
    ```

    ## Fix safety
    Removing `data.sample_rows` is safe: it has no effect on this data.

    ## References
    - Petrak 2000, "Fast Subsampling Performance Estimates for Classification Algorithm Selection" (sampling
      to make model selection affordable)
    """
    config = config_of(ctx)
    data = _facts(ctx)
    wanted = config.data.sample_rows
    if wanted is None or wanted <= data.n_rows:
        return
    yield Violation(
        ("data", "sample_rows"),
        f"`data.sample_rows` is {wanted}, but the data has only {data.n_rows} rows; nothing is sampled",
        fix=Fix("Remove `data.sample_rows`", (Edit(("data", "sample_rows"), delete=True),), safe=True),
    )


@rule(
    "MC905",
    "singleton-class",
    severity=Severity.warning,
    summary="A class with a single row, which no split can both learn and validate.",
    needs_data=True,
)
def singleton_class(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, reports classes of the target that occur in only one row.

    ## Why is this bad?
    A class with one row lands in one split only: either the model never sees it, or no test or validation
    row measures it. Stratified splitting refuses it (`The least populated class in y has only 1 member`),
    so metaconf's evaluator falls back to unstratified splits for the whole target. Such classes are usually
    typos in the labels, or an id column taken for the target.

    ## Example
    ```yaml
    data:
      demo: iris
      sample_rows: 4
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
      sample_rows: 30
    ```

    ## Fix safety
    No automatic fix: merge or drop the rare labels in the data, or pick another target column.

    ## References
    - scikit-learn `StratifiedShuffleSplit`: each class needs at least two members
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap", IJCAI: stratification
    """
    data = _facts(ctx)
    if data.task_type != "classification" or config_of(ctx).task.type != TaskType.classification:
        return
    single = sorted(label for label, count in data.class_counts.items() if count < 2)
    if not single:
        return
    yield Violation(
        ctx.where(("task", "target"), ("data", "sample_rows"), ("data", "path"), ("data", "demo"), ("data",)),
        f"{len(single)} class(es) of `{data.target}` have a single row ({_shown(single)}); splits cannot be "
        "stratified, and no split both learns and validates them",
        fix_title="Merge or drop the rare labels, or check the target column",
    )


@rule(
    "MC906",
    "too-few-rows-to-split",
    severity=Severity.error,
    summary="The data has too few rows for the test split, the holdout split or the folds asked for.",
    needs_data=True,
)
def too_few_rows_to_split(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, replays the splits metaconf's evaluator makes: the test split (`data.test_size`),
    then a holdout split (`resampling.holdout_fraction`) or k folds (`resampling.folds`, or `fidelity.max`
    for a `cv_folds` fidelity) of the rows left. Each part must keep at least one held-out row and two rows
    to fit on, and k must lie between 2 and the rows there are.

    ## Why is this bad?
    The evaluator refuses such a split (`5-fold cross-validation needs between 2 and 4 folds`) when the
    search starts, after the data has been loaded and the run directory prepared: no trial runs.

    ## Example
    ```yaml
    data:
      demo: iris
      sample_rows: 12
    resampling:
      strategy: cv
      folds: 20
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
      sample_rows: 12
    resampling:
      strategy: cv
      folds: 3
    ```

    ## Fix safety
    Lowering the folds to the rows there are is unsafe: leave-one-out validation is slow and noisy; more
    data (a larger `sample_rows`) is usually the better fix.

    ## References
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap", IJCAI: k-fold needs k <= n
    """
    import math

    config = config_of(ctx)
    data = _facts(ctx)
    rows = data.n_rows
    test_size = config.data.test_size
    if test_size > 0:
        held_out = math.ceil(test_size * rows)
        if held_out < 1 or rows - held_out < 2:
            yield Violation(
                ("data", "test_size"),
                f"a test split of {test_size:g} leaves {rows - held_out} of {rows} rows for the search",
                fix_title="Lower `data.test_size`, or use more rows",
            )
            return
        rows -= held_out
    cv_fidelity = config.fidelity.type.value == "cv_folds"
    if config.resampling.strategy.value == "holdout" and not cv_fidelity:
        held_out = math.ceil(config.resampling.holdout_fraction * rows)
        if held_out < 1 or rows - held_out < 2:
            yield Violation(
                ctx.where(("resampling", "holdout_fraction"), ("resampling",)),
                f"a holdout split of {config.resampling.holdout_fraction:g} leaves {rows - held_out} of {rows} "
                "search rows to fit on",
                fix_title="Lower `resampling.holdout_fraction`, or use more rows",
            )
        return
    folds = config.resampling.folds
    path: tuple[str, ...] = ("resampling", "folds")
    if cv_fidelity and config.fidelity.max is not None:
        folds, path = round(config.fidelity.max), ("fidelity", "max")
    if not 2 <= folds <= rows:
        fix = (
            Fix(f"Set `{'.'.join(path)}` to {rows}", (Edit(path, rows),), safe=False) if rows >= 2 else None
        )
        yield Violation(
            ctx.where(path, ("resampling",)),
            f"{folds}-fold cross-validation needs at least {folds} search rows; there are {rows}",
            fix=fix,
            fix_title=None if fix else "Use more rows",
        )


MIN_ROWS_PER_CLASS = 5
"""A class with fewer rows than this cannot be both learned and validated in any usual split."""


@rule(
    "MC907",
    "sparse-classes",
    severity=Severity.warning,
    summary="Most classes of the target have only a few rows each.",
    needs_data=True,
)
def sparse_classes(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With the data loaded, counts the rows of each class of a classification target and reports a target
    where more than half of its (three or more) classes have fewer than five rows.

    ## Why is this bad?
    A class with a handful of rows is either missing from the rows a model learns on or from the rows that
    validate it: the search optimises a score that most classes cannot move, stratified splits fall back to
    plain ones, and the test score measures a few classes. A target like that is usually a quantity read as
    labels (a count, a score, an amount: regression), an identifier, or a label column with typos.

    ## Example
    ```yaml
    data:
      demo: digits
      sample_rows: 30
    ```

    ## Use instead
    ```yaml
    data:
      demo: digits
      sample_rows: 300
    ```

    ## Fix safety
    No automatic fix: whether the target is a quantity (`task.type: regression`), needs more rows, or needs
    its rare labels merged is for the user to say.

    ## References
    - scikit-learn `StratifiedShuffleSplit`: each class needs members on both sides of a split
    - Kohavi 1995, "A Study of Cross-Validation and Bootstrap", IJCAI: stratification
    """
    data = _facts(ctx)
    if data.task_type != "classification" or config_of(ctx).task.type != TaskType.classification:
        return
    rare = sorted(label for label, count in data.class_counts.items() if count < MIN_ROWS_PER_CLASS)
    if data.n_classes < 3 or 2 * len(rare) <= data.n_classes:
        return
    yield Violation(
        ctx.where(("task", "type"), ("task", "target"), ("data", "sample_rows"), ("data", "path"), ("data", "demo"), ("data",)),
        f"{len(rare)} of the {data.n_classes} classes of `{data.target}` have fewer than {MIN_ROWS_PER_CLASS} rows "
        f"({_shown(rare, 6)}); the search cannot learn and validate most of them",
        fix_title="If the target is a count or an amount, set `task.type: regression`; else use more rows or "
        "merge the rare labels",
    )
