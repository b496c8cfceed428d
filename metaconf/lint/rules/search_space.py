"""MC110 (the ConfigSpace meta-space) and MC2xx (search space) rules.

MC110 maps the config to a Configuration of its tool's meta-space (:mod:`metaconf.space.meta`) and reports
ConfigSpace's verdict. The MC2xx rules build the search space the run would search
(:func:`metaconf.space.builtin.build_space`) once per document, shared through ``ctx.cache``, and each reports
its own kind of problem (:class:`~metaconf.space.errors.SpaceProblem`) at the config path it came from.
ConfigSpace is imported only inside the checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from metaconf.config.model import Config
from metaconf.lint.finding import Edit, Fix, Severity
from metaconf.lint.registry import RULES, LintContext, Violation, rule
from metaconf.space.errors import SpaceError, SpaceProblem

if TYPE_CHECKING:
    from pathlib import Path

    from ConfigSpace import ConfigurationSpace

_CACHE_KEY = "search_space.state"


@dataclass
class _SpaceState:
    """The search space of one document, built once: the space, or the problems that stopped it."""

    space: ConfigurationSpace | None = None
    errors: list[SpaceError] = field(default_factory=list)


def _config(ctx: LintContext) -> Config:
    assert ctx.config is not None
    return ctx.config


def _state(ctx: LintContext) -> _SpaceState:
    cached = ctx.cache.get(_CACHE_KEY)
    if isinstance(cached, _SpaceState):
        return cached
    state = _build_state(_config(ctx), ctx)
    ctx.cache[_CACHE_KEY] = state
    return state


def built_space(ctx: LintContext) -> ConfigurationSpace | None:
    """The document's search space, built once and shared by every rule family (None when it does not build:
    the MC2xx rules say why)."""
    if ctx.config is None:
        return None
    return _state(ctx).space


# A built-in space depends only on these fields (and the seed), and building one is most of the cost of
# linting a file: lint runs over many files (a directory, pre-commit) reuse it. Spaces are never mutated here.
_BUILTIN_SPACES: dict[str, ConfigurationSpace] = {}


def _builtin_space(config: Config, base_dir: Path) -> ConfigurationSpace:
    from metaconf.space.builtin import build_space

    key = json.dumps(
        [
            config.task.type.value,
            config.search_space.model_dump(mode="json"),
            config.execution.seed or 0,
        ],
        sort_keys=True,
    )
    space = _BUILTIN_SPACES.get(key)
    if space is None:
        space = build_space(config, base_dir)
        if len(_BUILTIN_SPACES) < 256:
            _BUILTIN_SPACES[key] = space
    return space


def _build_state(config: Config, ctx: LintContext) -> _SpaceState:
    from metaconf.space.builtin import is_user_space
    from metaconf.space.estimators import import_estimator
    from metaconf.space.user_code import check_estimator_path, config_directory_on_path

    state = _SpaceState()
    if not is_user_space(config):
        try:
            state.space = _builtin_space(config, ctx.document.base_dir)
        except SpaceError as exc:
            state.errors.append(exc)
        return state
    # A user space: check the space and its estimator separately, so that both problems are reported.
    from metaconf.space.user import read_space_source, space_from_data

    try:
        data, where, label = read_space_source(config, ctx.document.base_dir)
        state.space = space_from_data(data, label=label, where=where, inline=where[-1] == "inline")
        state.space.seed(config.execution.seed or 0)
    except SpaceError as exc:
        state.errors.append(exc)
    estimator = config.search_space.estimator
    if not estimator:
        state.errors.append(
            SpaceError(
                "a user search space needs `search_space.estimator`, the class its hyperparameters configure",
                kind=SpaceProblem.bad_estimator,
                path=("search_space", "file" if config.search_space.file is not None else "inline"),
            )
        )
        return state
    if not ctx.trust:  # configs are data: find the module, run none of its code
        try:
            check_estimator_path(estimator, ctx.document.base_dir)
        except SpaceError as exc:
            state.errors.append(exc)
        return state
    try:
        with config_directory_on_path(ctx.document.base_dir):
            cls = import_estimator(estimator)
    except SpaceError as exc:
        state.errors.append(exc)
        return state
    if state.space is not None:
        from metaconf.space.estimators import constructor_args

        args = constructor_args(cls)
        unknown = [name for name in state.space if args and name not in args]
        if unknown:
            state.errors.append(
                SpaceError(
                    f"`{estimator}` has no constructor argument "
                    + ", ".join(f"`{name}`" for name in unknown)
                    + "; the space's hyperparameter names must be its arguments",
                    kind=SpaceProblem.bad_estimator,
                    path=("search_space", "estimator"),
                )
            )
    return state


def _problems(ctx: LintContext, *kinds: SpaceProblem) -> Iterator[SpaceError]:
    for error in _state(ctx).errors:
        if error.kind in kinds:
            yield error


def _violation(error: SpaceError, *, fix_title: str | None = None, fix: Fix | None = None) -> Violation:
    message = error.message.rstrip(".")
    return Violation(
        error.path or ("search_space",), message, fix=fix, fix_title=fix_title or _hint_title(error)
    )


def _hint_title(error: SpaceError) -> str | None:
    return error.hint.rstrip(".") if error.hint else None


@rule(
    "MC110",
    "meta-space",
    severity=Severity.error,
    summary="A run setting outside the tool's meta-space: out of range, without effect, or a forbidden mix.",
)
def meta_space_check(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Maps the config's run settings to a Configuration of the target tool's *meta-space*: a ConfigSpace
    `ConfigurationSpace` of the legal settings (optimizer, resampling, stopping, workers, initial design,
    auto-sklearn's own settings). It reports a value outside its legal range or choices (at the value), a
    value written for a setting that has no effect under the others (at its key, as a warning: `folds` with
    holdout resampling, a holdout fraction with cross-validation), and a forbidden combination (auto-sklearn
    with `stopping.n_trials` not above `auto_sklearn.metalearning_configs`). Fidelity settings are in the
    meta-space too, but their findings are left to the more specific MC4xx rules for SMAC.

    ## Why is this bad?
    Neither SMAC's `Scenario` nor auto-sklearn checks most of these: an ignored setting silently does not do
    what its author meant, and an illegal one fails minutes into the run (auto-sklearn: `Initial budget 26
    cannot be higher than the run limit 5`; `time_left_for_this_task` below 30 s) or is silently capped.

    ## Example
    ```yaml
    resampling:
      strategy: holdout
      folds: 10
    ```

    ## Use instead
    ```yaml
    resampling:
      strategy: cv
      folds: 10
    ```

    ## Fix safety
    Removing a setting that has no effect is safe; the other findings have no automatic fix, because the
    intended value is not knowable.

    ## References
    - ConfigSpace: conditions and forbidden clauses, https://automl.github.io/ConfigSpace/
    - auto-sklearn 0.15 `AutoSklearnClassifier` arguments (`time_left_for_this_task`,
      `initial_configurations_via_metalearning`)
    """
    from metaconf.space.meta import check_config

    config = _config(ctx)
    owned_elsewhere = config.tool.value == "smac" and any(code.startswith("MC4") for code in RULES)
    for violation in check_config(ctx.document, config):
        if owned_elsewhere and violation.path[:1] == ("fidelity",):
            continue
        if violation.key:
            yield Violation(
                violation.path,
                violation.message,
                fix=Fix(
                    violation.fix_title or "Remove the setting",
                    (Edit(violation.path, delete=True),),
                    safe=True,
                ),
                key=True,
                severity=Severity.warning,
            )
        else:
            yield Violation(violation.path, violation.message, fix_title=violation.fix_title)


@rule(
    "MC201",
    "user-space-unusable",
    severity=Severity.error,
    summary="The user's search space is missing, unreadable, not a ConfigSpace space, or empty.",
)
def user_space_unusable(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a `search_space.file` that does not exist or does not parse, `file` and `inline` given together,
    and a `file` or `inline` space that is not a ConfigSpace space (serialized with `to_yaml` / `to_json`, or metaconf's shorthand
    `name: {lower, upper}`) or that has no hyperparameters.

    ## Why is this bad?
    `ConfigurationSpace.from_serialized_dict` accepts many malformed inputs and returns an EMPTY space; SMAC
    then has nothing to search and fails or evaluates the same configuration over and over.

    ## Example
    ```yaml
    search_space:
      file: spaces/does-not-exist.yaml
      estimator: sklearn.tree:DecisionTreeClassifier
    ```

    ## Use instead
    ```yaml
    search_space:
      inline:
        max_depth: {lower: 2, upper: 20}
      estimator: sklearn.tree:DecisionTreeClassifier
    ```

    ## Fix safety
    No automatic fix: the intended space is not knowable.

    ## References
    - ConfigSpace serialization, https://automl.github.io/ConfigSpace/latest/api/read_and_write/
    """
    for error in _problems(ctx, SpaceProblem.user_space_invalid):
        yield _violation(error)


@rule(
    "MC202",
    "list-as-range",
    severity=Severity.error,
    summary="A YAML list `[lo, hi]` in a search space: ConfigSpace reads it as two choices, not a range.",
)
def list_as_range(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a hyperparameter written as a list of two numbers, `lr: [0.001, 0.1]`.

    ## Why is this bad?
    In ConfigSpace's dict shorthand a tuple `(lo, hi)` is a range but a list is a set of choices, and YAML
    and JSON have no tuples: `[0.001, 0.1]` searches exactly two values. In a serialized space it is worse:
    `from_serialized_dict({"lr": [0.0, 1.0]})` silently returns an empty space.

    ## Example
    ```yaml
    search_space:
      inline:
        max_depth: [2, 20]
      estimator: sklearn.tree:DecisionTreeClassifier
    ```

    ## Use instead
    ```yaml
    search_space:
      inline:
        max_depth: {lower: 2, upper: 20}
      estimator: sklearn.tree:DecisionTreeClassifier
    ```

    ## Fix safety
    Rewriting the list as `{lower, upper}` is unsafe: the author may have meant exactly two choices
    (write `{choices: [a, b]}` then).

    ## References
    - ConfigSpace 1.2 `ConfigurationSpace(space=...)` dict shorthand, https://automl.github.io/ConfigSpace/
    """
    config = _config(ctx)
    for error in _problems(ctx, SpaceProblem.list_as_range):
        fix = None
        raw = ctx.raw(*error.path) if error.path[:2] == ("search_space", "inline") else None
        if isinstance(raw, list) and len(raw) == 2 and config.search_space.inline is not None:
            fix = Fix(
                "Write the range as `{lower, upper}`",
                (Edit(error.path, {"lower": raw[0], "upper": raw[1]}),),
                safe=False,
            )
        yield _violation(error, fix=fix)


@rule(
    "MC203",
    "default-out-of-range",
    severity=Severity.error,
    summary="A hyperparameter default outside its range or choices.",
)
def default_out_of_range(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a default value (a user space's `default_value` / `default`, or an override's `default`) that
    lies outside the hyperparameter's range or is not one of its choices.

    ## Why is this bad?
    ConfigSpace refuses to build such a space (with a message that prints the whole space), so the run
    fails before its first trial; SMAC evaluates the default configuration first.

    ## Example
    ```yaml
    search_space:
      models: [random_forest]
      overrides:
        random_forest:
          min_samples_leaf: {upper: 10, default: 15}
    ```

    ## Use instead
    ```yaml
    search_space:
      models: [random_forest]
      overrides:
        random_forest:
          min_samples_leaf: {upper: 10, default: 5}
    ```

    ## Fix safety
    No automatic fix: either the range or the default may be the mistake.

    ## References
    - ConfigSpace hyperparameters, https://automl.github.io/ConfigSpace/latest/api/hyperparameters/
    """
    for error in _problems(ctx, SpaceProblem.default_out_of_range):
        yield _violation(error)


@rule(
    "MC204",
    "condition-on-missing-hyperparameter",
    severity=Severity.error,
    summary="A condition or forbidden clause of a user space names a hyperparameter the space does not have.",
)
def condition_on_missing_hyperparameter(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a condition (`child`, `parent`) or forbidden clause (`name`) in a serialized user space that
    refers to a hyperparameter not declared under `hyperparameters`.

    ## Why is this bad?
    ConfigSpace fails with a bare `KeyError: 'name'` when it loads the space, which says neither which
    condition nor which file is at fault.

    ## Example
    ```yaml
    search_space:
      inline:
        hyperparameters:
          - {name: max_depth, type: uniform_int, lower: 2, upper: 20, default_value: 8}
        conditions:
          - {type: EQ, child: max_depth, parent: use_depth, value: true}
      estimator: sklearn.tree:DecisionTreeClassifier
    ```

    ## Use instead
    ```yaml
    search_space:
      inline:
        hyperparameters:
          - {name: max_depth, type: uniform_int, lower: 2, upper: 20, default_value: 8}
          - {name: splitter, type: categorical, choices: [best, random], default_value: best}
        conditions:
          - {type: EQ, child: max_depth, parent: splitter, value: best}
      estimator: sklearn.tree:DecisionTreeClassifier
    ```

    ## Fix safety
    No automatic fix: the missing hyperparameter's range is not knowable.

    ## References
    - ConfigSpace conditions, https://automl.github.io/ConfigSpace/latest/api/conditions/
    """
    for error in _problems(ctx, SpaceProblem.missing_parent):
        yield _violation(error)


@rule(
    "MC205",
    "unknown-override",
    severity=Severity.error,
    summary="`search_space.overrides` names a family or hyperparameter that is not searched, or is unusable.",
)
def unknown_override(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports an override of a model family that is not in `search_space.models`, of a hyperparameter the
    family's built-in space does not have, or with values of the wrong kind (`lower` on a categorical,
    a non-number for a numeric hyperparameter). Warns about overrides next to a user space, where they
    have no effect.

    ## Why is this bad?
    A misspelt override would otherwise be ignored and the search would run over the default range, which
    the author meant to change.

    ## Example
    ```yaml
    search_space:
      models: [svm]
      overrides:
        svm:
          degree: {value: 3}
    ```

    ## Use instead
    ```yaml
    search_space:
      models: [svm]
      overrides:
        svm:
          C: {lower: 0.1, upper: 100}
    ```

    ## Fix safety
    Removing overrides next to a user space is safe (they change nothing); otherwise no automatic fix, and
    the message lists the names that exist.

    ## References
    - `metaconf rule MC205`; the built-in spaces are listed in `metaconf/space/builtin.py`
    """
    from metaconf.space.builtin import is_user_space

    config = _config(ctx)
    if is_user_space(config) and config.search_space.overrides:
        yield Violation(
            ("search_space", "overrides"),
            "`search_space.overrides` has no effect with a user space (`file` / `inline`); edit that space instead",
            fix=Fix(
                "Remove `search_space.overrides`",
                (Edit(("search_space", "overrides"), delete=True),),
                safe=True,
            ),
            key=True,
            severity=Severity.warning,
        )
    for error in _problems(ctx, SpaceProblem.bad_override):
        yield _violation(error)


@rule(
    "MC206",
    "override-empty-range",
    severity=Severity.error,
    summary="An override whose `lower` is not below `upper`, or a log range that starts at or below 0.",
)
def override_empty_range(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports an override of a numeric hyperparameter whose lower bound is not below its upper bound, or
    whose log-scale range starts at or below zero.

    ## Why is this bad?
    ConfigSpace cannot build the range (`Upper bound ... must be larger than lower bound`, or a log of a
    non-positive number), so the run fails before its first trial. To fix a value, `value` says so directly.

    ## Example
    ```yaml
    search_space:
      models: [svm]
      overrides:
        svm:
          C: {lower: 10, upper: 1}
    ```

    ## Use instead
    ```yaml
    search_space:
      models: [svm]
      overrides:
        svm:
          C: {lower: 1, upper: 10}
    ```

    ## Fix safety
    No automatic fix: swapping the bounds is a guess.

    ## References
    - ConfigSpace `Float` / `Integer`, https://automl.github.io/ConfigSpace/latest/api/hyperparameters/
    """
    for error in _problems(ctx, SpaceProblem.override_bounds):
        yield _violation(error)


@rule(
    "MC207",
    "no-usable-model-family",
    severity=Severity.error,
    summary="An empty `search_space.models` list, or a family without a space for the task.",
)
def no_usable_model_family(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `search_space.models: []` and a model family that has no built-in space for the task type.
    Warns about `models` next to a user space (`file` / `inline`), where it has no effect.

    ## Why is this bad?
    An empty list leaves nothing to search: the run would fail at its first trial. Leaving `models` out
    searches every family that fits the task.

    ## Example
    ```yaml
    search_space:
      models: []
    ```

    ## Use instead
    ```yaml
    search_space:
      models: [random_forest, hist_gradient_boosting]
    ```

    ## Fix safety
    Removing an empty `models` list is unsafe: it widens the search to every family. Removing `models`
    next to a user space is safe: it changes nothing.

    ## References
    - Thornton et al. 2013, "Auto-WEKA: Combined Selection and Hyperparameter Optimization of
      Classification Algorithms", KDD (the combined algorithm selection and HPO space)
    """
    from metaconf.space.builtin import is_user_space

    config = _config(ctx)
    if is_user_space(config) and config.search_space.models is not None:
        yield Violation(
            ("search_space", "models"),
            "`search_space.models` has no effect with a user space (`file` / `inline`); its estimator is searched",
            fix=Fix(
                "Remove `search_space.models`", (Edit(("search_space", "models"), delete=True),), safe=True
            ),
            key=True,
            severity=Severity.warning,
        )
    for error in _problems(ctx, SpaceProblem.bad_models):
        fix = None
        if config.search_space.models == []:
            fix = Fix(
                "Remove `models` to search every family",
                (Edit(("search_space", "models"), delete=True),),
                safe=False,
            )
        yield _violation(error, fix=fix)


@rule(
    "MC208",
    "estimator-unusable",
    severity=Severity.error,
    summary="A user space without `estimator`, or one whose module is not found (with --trust: cannot be "
    "imported or does not take the space's names).",
)
def estimator_unusable(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    For a user space (`search_space.file` / `inline`), reports a missing `search_space.estimator`, one that
    is not `module:Class`, and one whose module cannot be found (next to the config, then on the Python
    path). Warns about an `estimator` given with built-in model families, where it has no effect.

    Configs are data: lint looks the module up without importing it, so none of its code runs. With
    `metaconf lint --trust` it imports the module (running its code, as `metaconf run` will) and also
    reports an import that fails, a class the module does not have, and hyperparameter names that are not
    constructor arguments of the estimator. `metaconf run` always checks these before it starts.

    ## Why is this bad?
    Every trial would crash (an import error, or `TypeError: __init__() got an unexpected keyword
    argument`), and SMAC would record every configuration at the crash cost.

    ## Example
    ```yaml
    search_space:
      inline:
        max_depth: {lower: 2, upper: 20}
    ```

    ## Use instead
    ```yaml
    search_space:
      inline:
        max_depth: {lower: 2, upper: 20}
      estimator: sklearn.tree:DecisionTreeClassifier
    ```

    ## Fix safety
    Removing an `estimator` that has no effect is safe; the other findings have no automatic fix.

    ## References
    - scikit-learn estimator API: constructor arguments are the hyperparameters,
      https://scikit-learn.org/stable/developers/develop.html
    - metaconf's trust model (what runs code a config names, and what never does): docs/trust.md
    """
    from metaconf.space.builtin import is_user_space

    config = _config(ctx)
    if not is_user_space(config) and config.search_space.estimator is not None:
        yield Violation(
            ("search_space", "estimator"),
            "`search_space.estimator` has no effect with built-in model families; it configures a user space "
            "(`file` / `inline`)",
            fix=Fix(
                "Remove `search_space.estimator`",
                (Edit(("search_space", "estimator"), delete=True),),
                safe=True,
            ),
            key=True,
            severity=Severity.warning,
        )
    for error in _problems(ctx, SpaceProblem.bad_estimator):
        yield _violation(error)


@rule(
    "MC209",
    "warm-start-invalid",
    severity=Severity.error,
    summary="A warm-start configuration that is not valid in the search space.",
)
def warm_start_invalid(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Checks every `initial_design.warm_start` entry against the search space: unknown names, values out of
    range or not among the choices, and hyperparameters that are inactive under the chosen model or parent
    value. The shorthand `{model: svm, C: 10}` (names without the `svm:` prefix) is accepted.

    ## Why is this bad?
    SMAC turns warm-start entries into `Configuration`s when the run starts; an invalid one raises there
    (`IllegalValueError`, `InactiveHyperparameterSetError`) and the run never begins.

    ## Example
    ```yaml
    search_space:
      models: [svm]
    initial_design:
      warm_start:
        - {kernel: linear, gamma: 0.1}
    ```

    ## Use instead
    ```yaml
    search_space:
      models: [svm]
    initial_design:
      warm_start:
        - {kernel: rbf, gamma: 0.1}
    ```

    ## Fix safety
    No automatic fix: the intended configuration is not knowable.

    ## References
    - SMAC3 initial design `additional_configs`, https://automl.github.io/SMAC3/
    """
    from metaconf.space.configurations import normalize_warm_start

    config = _config(ctx)
    space = _state(ctx).space
    if space is None:
        return
    for index, entry in enumerate(config.initial_design.warm_start):
        try:
            normalize_warm_start(space, entry)
        except SpaceError as error:
            path: tuple[Any, ...] = ("initial_design", "warm_start", index, *error.path)
            yield Violation(path, error.message.rstrip("."), fix_title=_hint_title(error))
