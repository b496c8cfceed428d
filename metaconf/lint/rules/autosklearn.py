"""MC8xx: auto-sklearn 0.15. auto-sklearn checks most of its arguments only seconds into ``fit`` (after its
environment has started) or never; these rules check them in the config, with positions, from the same data
the auto-sklearn compiler uses (:mod:`metaconf.targets.autosklearn.components`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from difflib import get_close_matches

from metaconf.config.model import Config, Metric, TaskType
from metaconf.lint.finding import Edit, Fix, Severity
from metaconf.lint.registry import LintContext, Violation, rule
from metaconf.lint.rules.budget import config_of
from metaconf.targets.autosklearn import components as comp

TOOLS = ["auto-sklearn"]
MIN_USEFUL_PER_RUN_S = 10
"""Each auto-sklearn run starts a process, loads the data from its backend, fits, predicts the validation
rows and writes them to disk; below ~10 s most runs time out before the fit itself."""
MIN_MEMORY_LIMIT_MB = 1024
"""Below 1 GB auto-sklearn's dummy baseline already fails with MEMOUT."""
DEFAULT_METALEARNING = 25


def _time_left(config: Config) -> tuple[float, tuple[str, str]] | None:
    """auto-sklearn's `time_left_for_this_task` as the compiler derives it, and the key it comes from."""
    from metaconf.targets.autosklearn.compile import STARTUP_RESERVE_S

    if config.stopping.walltime is not None:
        return config.stopping.walltime, ("stopping", "walltime")
    if config.budget.walltime is not None:
        return config.budget.walltime - STARTUP_RESERVE_S, ("budget", "walltime")
    return None


def _metalearning(config: Config) -> tuple[int, bool]:
    """(meta-learning configurations, whether the user wrote the number)."""
    settings = config.auto_sklearn
    if settings is None:
        return DEFAULT_METALEARNING, False
    return settings.metalearning_configs, "metalearning_configs" in settings.model_fields_set


@rule(
    "MC801",
    "autosklearn-walltime-below-minimum",
    severity=Severity.error,
    summary="The total time given to auto-sklearn is below its 30-second minimum.",
    tools=TOOLS,
)
def autosklearn_walltime_below_minimum(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Computes auto-sklearn's `time_left_for_this_task` (`stopping.walltime`, else `budget.walltime` minus 5 s
    for the worker's start-up and the test predictions) and reports less than 30 seconds.

    ## Why is this bad?
    auto-sklearn 0.15 raises `Time left for this task must be at least 30 seconds.` at construction: the run
    fails after its environment has started.

    ## Example
    ```yaml
    tool: auto-sklearn
    budget:
      walltime: 20s
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    budget:
      walltime: 2m
    ```

    ## Fix safety
    Raising the walltime to the minimum is unsafe: it spends more than the budget said.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): `time_left_for_this_task < 30`
    """
    config = config_of(ctx)
    found = _time_left(config)
    if found is None or found[0] >= comp.MIN_TIME_LEFT_S:
        return
    from metaconf.targets.autosklearn.compile import STARTUP_RESERVE_S

    seconds, path = found
    needed = comp.MIN_TIME_LEFT_S + (0 if path[0] == "stopping" else STARTUP_RESERVE_S)
    yield Violation(
        path,
        f"auto-sklearn gets {max(seconds, 0):g}s to search (`{'.'.join(path)}`); it needs at least "
        f"{comp.MIN_TIME_LEFT_S}s",
        fix=Fix(f"Set `{'.'.join(path)}` to {needed}s", (Edit(path, f"{needed}s"),), safe=False),
    )


@rule(
    "MC802",
    "autosklearn-per-run-limit-exceeds-total",
    severity=Severity.warning,
    summary="The per-run limit is above auto-sklearn's total time; it is capped silently.",
    tools=TOOLS,
)
def autosklearn_per_run_limit_exceeds_total(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Compares `stopping.trial_walltime` (auto-sklearn's `per_run_time_limit`) with its total time.

    ## Why is this bad?
    auto-sklearn caps a per-run limit above the total with only a log warning, so one run may take the whole
    budget and leave nothing for the ensemble: the config says something it does not do.

    ## Example
    ```yaml
    tool: auto-sklearn
    stopping:
      walltime: 5m
      trial_walltime: 10m
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    stopping:
      walltime: 5m
      trial_walltime: 30s
    ```

    ## Fix safety
    Setting the per-run limit to a tenth of the total (auto-sklearn's default) is unsafe: slow runs will now
    time out.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): `per_run_time_limit` > total is capped silently
    """
    config = config_of(ctx)
    found = _time_left(config)
    per_run = config.stopping.trial_walltime
    if found is None or per_run is None or per_run <= found[0] or found[0] < comp.MIN_TIME_LEFT_S:
        return
    tenth = max(1, math.floor(found[0] / comp.PER_RUN_FRACTION))
    yield Violation(
        ("stopping", "trial_walltime"),
        f"`stopping.trial_walltime` ({per_run:g}s) is above auto-sklearn's total time ({found[0]:g}s); "
        "auto-sklearn caps it silently",
        fix=Fix(f"Set `stopping.trial_walltime` to {tenth}s", (Edit(("stopping", "trial_walltime"), f"{tenth}s"),), safe=False),
    )


@rule(
    "MC803",
    "autosklearn-per-run-limit-too-small",
    severity=Severity.warning,
    summary="A per-run limit so short that auto-sklearn's runs time out and it returns a dummy model.",
    tools=TOOLS,
)
def autosklearn_per_run_limit_too_small(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports `stopping.trial_walltime` below 10 seconds with `tool: auto-sklearn`.

    ## Why is this bad?
    Each auto-sklearn run starts a process, loads the data from its backend, fits the pipeline and writes
    its validation predictions. When every run times out, `fit` still succeeds and returns a constant
    DUMMY model, without an error: the "AutoML result" predicts the majority class.

    ## Example
    ```yaml
    tool: auto-sklearn
    stopping:
      walltime: 2m
      trial_walltime: 2s
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    stopping:
      walltime: 2m
      trial_walltime: 30s
    ```

    ## Fix safety
    Raising the limit to 10 s is unsafe: fewer runs fit into the total time.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): every run times out -> a DUMMY model without error
    """
    per_run = config_of(ctx).stopping.trial_walltime
    if per_run is None or per_run >= MIN_USEFUL_PER_RUN_S:
        return
    yield Violation(
        ("stopping", "trial_walltime"),
        f"`stopping.trial_walltime` is {per_run:g}s; auto-sklearn runs this short mostly time out, and `fit` "
        "then returns a dummy model",
        fix=Fix(
            f"Set `stopping.trial_walltime` to {MIN_USEFUL_PER_RUN_S}s",
            (Edit(("stopping", "trial_walltime"), f"{MIN_USEFUL_PER_RUN_S}s"),),
            safe=False,
        ),
    )


@rule(
    "MC804",
    "autosklearn-memory-limit-too-small",
    severity=Severity.error,
    summary="The per-job memory limit of auto-sklearn is below 1 GB, where even its dummy model fails.",
    tools=TOOLS,
)
def autosklearn_memory_limit_too_small(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Computes auto-sklearn's `memory_limit` per job (`stopping.trial_memory`, else `budget.memory` divided by
    the workers) and reports less than 1 GB.

    ## Why is this bad?
    auto-sklearn first fits a dummy baseline under the same limit. Below about 1 GB it fails with `Dummy
    prediction failed ... MEMOUT`, seconds into `fit`, and the run stops.

    ## Example
    ```yaml
    tool: auto-sklearn
    stopping:
      trial_memory: 512MB
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    stopping:
      trial_memory: 3GB
    ```

    ## Fix safety
    Raising the limit to 1 GB is unsafe: it may exceed the machine's memory with several workers.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): `memory_limit` too small -> MEMOUT of the dummy
    """
    config = config_of(ctx)
    if config.stopping.trial_memory is not None:
        limit, path = config.stopping.trial_memory, ("stopping", "trial_memory")
    elif config.budget.memory is not None:
        limit, path = config.budget.memory / config.execution.workers, ("budget", "memory")
    else:
        return
    if limit >= MIN_MEMORY_LIMIT_MB:
        return
    yield Violation(
        path,
        f"auto-sklearn's memory limit would be {limit:g} MB per job; below {MIN_MEMORY_LIMIT_MB} MB its dummy "
        "model already fails with MEMOUT",
        fix_title="Give each auto-sklearn job at least 1GB (`stopping.trial_memory`)",
    )


@rule(
    "MC805",
    "autosklearn-runcount-below-metalearning",
    severity=Severity.error,
    summary="`stopping.n_trials` is smaller than auto-sklearn's initial design (1 + meta-learning configs).",
    tools=TOOLS,
)
def autosklearn_runcount_below_metalearning(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Compares `stopping.n_trials` (auto-sklearn's `runcount_limit`) with its initial design: the default
    configuration plus `auto_sklearn.metalearning_configs` (25 unless set) meta-learned ones.

    ## Why is this bad?
    SMAC 1.2 inside auto-sklearn refuses an initial design larger than the run limit: `Initial budget 26
    cannot be higher than the run limit 5.`, about five seconds into `fit`. With an explicit
    `metalearning_configs` this is an error; without one metaconf lowers meta-learning to fit (a warning,
    since meta-learning is then mostly off).

    ## Example
    ```yaml
    tool: auto-sklearn
    stopping:
      n_trials: 10
    auto_sklearn:
      metalearning_configs: 25
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    stopping:
      n_trials: 10
    auto_sklearn:
      metalearning_configs: 5
    ```

    ## Fix safety
    Lowering `metalearning_configs` to `n_trials - 1` is unsafe: fewer meta-learned starting points.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): `runcount_limit < 1 + initial_configurations_via_metalearning`
    - Feurer et al. 2015, "Efficient and Robust Automated Machine Learning", NeurIPS (meta-learning warm start)
    """
    config = config_of(ctx)
    n_trials = config.stopping.n_trials
    if n_trials is None or n_trials < 1 or config.effective_metric() == Metric.expected_cost:
        return  # expected_cost is a custom metric: meta-learning is switched off (MC810)
    metalearning, explicit = _metalearning(config)
    if n_trials >= 1 + metalearning:
        return
    fix = Fix(
        f"Set `auto_sklearn.metalearning_configs` to {n_trials - 1}",
        (Edit(("auto_sklearn", "metalearning_configs"), n_trials - 1),),
        safe=False,
    )
    if explicit:
        yield Violation(
            ("auto_sklearn", "metalearning_configs"),
            f"`stopping.n_trials` ({n_trials}) is below auto-sklearn's initial design of 1 + {metalearning} "
            "meta-learning configurations; SMAC 1.2 refuses to start",
            fix=fix,
        )
    else:
        yield Violation(
            ("stopping", "n_trials"),
            f"`stopping.n_trials` ({n_trials}) is below 1 + {metalearning} default meta-learning configurations; "
            f"metaconf lowers meta-learning to {n_trials - 1}",
            fix=fix,
            severity=Severity.warning,
        )


@rule(
    "MC806",
    "autosklearn-include-and-exclude",
    severity=Severity.error,
    summary="One pipeline step is both included and excluded (or chosen twice).",
    tools=TOOLS,
)
def autosklearn_include_and_exclude(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a pipeline step named in both `auto_sklearn.include` and `auto_sklearn.exclude`, and an
    `exclude` of the model step next to `search_space.models` (which metaconf turns into an `include`).

    ## Why is this bad?
    auto-sklearn rejects include and exclude on the same step, but only after about five seconds inside
    `fit`. Two lists for one choice also leave the reader guessing which one wins.

    ## Example
    ```yaml
    tool: auto-sklearn
    auto_sklearn:
      include:
        classifier: [random_forest, extra_trees]
      exclude:
        classifier: [mlp]
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    auto_sklearn:
      include:
        classifier: [random_forest, extra_trees]
    ```

    ## Fix safety
    No automatic fix: keep the list that says what you mean.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): include and exclude on one step
    """
    config = config_of(ctx)
    settings = config.auto_sklearn
    include = settings.include or {} if settings else {}
    exclude = settings.exclude or {} if settings else {}
    for step in sorted(set(include) & set(exclude)):
        yield Violation(
            ("auto_sklearn", "exclude", step),
            f"the step `{step}` is in both `auto_sklearn.include` and `auto_sklearn.exclude`",
            fix_title=f"Keep `{step}` in one of `include` / `exclude`",
            key=True,
        )
    model_step = "regressor" if config.task.type == TaskType.regression else "classifier"
    if config.search_space.models and model_step in exclude and model_step not in include:
        yield Violation(
            ("auto_sklearn", "exclude", model_step),
            f"`search_space.models` and `auto_sklearn.exclude.{model_step}` both choose the models",
            fix_title=f"Remove `auto_sklearn.exclude.{model_step}` or `search_space.models`",
            key=True,
        )


@rule(
    "MC807",
    "autosklearn-unknown-component",
    severity=Severity.error,
    summary="An auto-sklearn include/exclude step or component name that does not exist, or an empty list.",
    tools=TOOLS,
)
def autosklearn_unknown_component(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Checks every step and component name in `auto_sklearn.include` / `exclude` against auto-sklearn 0.15's
    own lists for the task type (`classifier` or `regressor`, `feature_preprocessor`, `data_preprocessor`),
    with the closest known name; an empty list is reported too.

    ## Why is this bad?
    auto-sklearn accepts any name at construction and fails about five seconds into `fit`; a classifier name
    under a regression task, or `randomforest` for `random_forest`, ends the run.

    ## Example
    ```yaml
    tool: auto-sklearn
    auto_sklearn:
      include:
        classifier: [randomforest, xgboost]
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    auto_sklearn:
      include:
        classifier: [random_forest, gradient_boosting]
    ```

    ## Fix safety
    Renaming to the closest known component is unsafe: the closest name may not be the intended model.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): the classifier and regressor lists
    """
    config = config_of(ctx)
    settings = config.auto_sklearn
    if settings is None:
        return
    task = config.task.type.value
    steps = comp.components_by_step(task)
    for what, mapping in (("include", settings.include), ("exclude", settings.exclude)):
        for step, names in (mapping or {}).items():
            base = ("auto_sklearn", what, step)
            if step not in steps:
                close = get_close_matches(step, list(steps), n=1)
                yield Violation(
                    base,
                    f"`auto_sklearn.{what}` has the step `{step}`, which auto-sklearn does not have for {task}"
                    + (f"; did you mean `{close[0]}`?" if close else "; steps: " + ", ".join(f"`{s}`" for s in steps)),
                    key=True,
                )
                continue
            if not names:
                yield Violation(base, f"`auto_sklearn.{what}.{step}` is empty; name at least one component")
            for index, name in enumerate(names):
                if name in steps[step]:
                    continue
                close = get_close_matches(name, list(steps[step]), n=1)
                fix = (
                    Fix(f"Rename `{name}` to `{close[0]}`", (Edit(base + (index,), close[0]),), safe=False)
                    if close
                    else None
                )
                yield Violation(
                    base + (index,),
                    f"`{name}` is not an auto-sklearn {step} for {task}"
                    + (f"; did you mean `{close[0]}`?" if close else "; choices: " + ", ".join(steps[step])),
                    fix=fix,
                )


@rule(
    "MC808",
    "autosklearn-unknown-scenario-arg",
    severity=Severity.error,
    summary="A `smac_scenario_args` key SMAC 1.2 ignores, auto-sklearn overrides, or metaconf sets itself.",
    tools=TOOLS,
)
def autosklearn_unknown_scenario_arg(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Checks each key of `auto_sklearn.smac_scenario_args` against SMAC 1.2's scenario options, the keys
    auto-sklearn fixes itself, and the keys metaconf derives from its own fields (e.g. `wallclock_limit` from
    `stopping.walltime`). Also reports `initial_incumbent: SOBOL` / `LHD`, which crash SMAC 1.2 inside
    auto-sklearn.

    ## Why is this bad?
    SMAC 1.2 ignores unknown scenario keys: `runcount_limt: 50` runs with no run limit at all, without a
    word. Keys auto-sklearn fixes are dropped with a log warning; keys metaconf sets would disagree with the
    config's own fields.

    ## Example
    ```yaml
    tool: auto-sklearn
    auto_sklearn:
      smac_scenario_args:
        runcount_limt: 50
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    stopping:
      n_trials: 50
    ```

    ## Fix safety
    Renaming to the closest known key is unsafe: the closest key may not be the intended one.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): misspelled `smac_scenario_args` keys are ignored
    - SMAC 1.2 `smac/utils/io/cmd_reader.py`: the scenario options
    """
    config = config_of(ctx)
    args = config.auto_sklearn.smac_scenario_args if config.auto_sklearn else None
    for key, value in (args or {}).items():
        path = ("auto_sklearn", "smac_scenario_args", key)
        if key in comp.SCENARIO_KEYS_FIXED_BY_AUTOSKLEARN:
            yield Violation(path, f"`{key}` is fixed by auto-sklearn, which drops it", key=True)
        elif key in comp.SCENARIO_KEYS_FROM_METACONF:
            field = comp.SCENARIO_KEYS_FROM_METACONF[key]
            yield Violation(path, f"`{key}` is set by metaconf from `{field}`; set that instead", key=True)
        elif key not in comp.SCENARIO_KEYS:
            close = get_close_matches(key, sorted(comp.SCENARIO_KEYS), n=1)
            fix = (
                Fix(f"Rename `{key}` to `{close[0]}`", (Edit(path[:-1] + (close[0],), value), Edit(path, delete=True)), safe=False)
                if close
                else None
            )
            yield Violation(
                path,
                f"`{key}` is not a SMAC 1.2 scenario option; SMAC would ignore it"
                + (f"; did you mean `{close[0]}`?" if close else ""),
                fix=fix,
                key=True,
            )
        elif key == "initial_incumbent" and str(value).upper() not in comp.SAFE_INITIAL_INCUMBENTS:
            yield Violation(
                path,
                f"`initial_incumbent: {value}` crashes SMAC 1.2 inside auto-sklearn (IndexError); use DEFAULT or RANDOM",
            )


@rule(
    "MC809",
    "autosklearn-ensemble-size-deprecated",
    severity=Severity.info,
    summary="`auto_sklearn.ensemble_size` is deprecated in auto-sklearn 0.15.",
    tools=TOOLS,
)
def autosklearn_ensemble_size_deprecated(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Notes `auto_sklearn.ensemble_size`.

    ## Why is this bad?
    auto-sklearn 0.15 deprecates the constructor's `ensemble_size`, and when `ensemble_kwargs` is also given
    the kwargs win silently. metaconf passes the value as `ensemble_kwargs={"ensemble_size": N}` (0 turns
    the ensemble off); the key may go in a later format version.

    ## Example
    ```yaml
    tool: auto-sklearn
    auto_sklearn:
      ensemble_size: 10
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    auto_sklearn:
      ensemble_nbest: 10
    ```

    ## Fix safety
    No automatic fix: `ensemble_nbest` (models considered) is not the same as `ensemble_size` (selection
    rounds).

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0): `ensemble_size=None (deprecated)`
    - Caruana et al. 2004, "Ensemble Selection from Libraries of Models", ICML
    """
    config = config_of(ctx)
    if config.auto_sklearn is None or config.auto_sklearn.ensemble_size is None:
        return
    yield Violation(
        ("auto_sklearn", "ensemble_size"),
        "`auto_sklearn.ensemble_size` is deprecated in auto-sklearn 0.15; metaconf passes it as `ensemble_kwargs`",
        key=True,
    )


@rule(
    "MC810",
    "autosklearn-custom-metric-no-metalearning",
    severity=Severity.info,
    summary="A custom metric (`expected_cost`) switches auto-sklearn's meta-learning off.",
    tools=TOOLS,
)
def autosklearn_custom_metric_no_metalearning(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Notes `task.metric: expected_cost` with `tool: auto-sklearn` and meta-learning configurations asked for.

    ## Why is this bad?
    auto-sklearn's meta-learning warm start looks up configurations that did well on similar datasets *for
    the same metric*; it has no meta-data for a custom scorer and silently skips it. metaconf compiles
    `initial_configurations_via_metalearning=0` so the plan says so; the search starts cold.

    ## Example
    ```yaml
    tool: auto-sklearn
    task:
      metric: expected_cost
      cost_matrix:
        labels: [good, bad]
        costs: [[0, 1], [5, 0]]
    ```

    ## Use instead
    ```yaml
    tool: auto-sklearn
    task:
      metric: expected_cost
      cost_matrix:
        labels: [good, bad]
        costs: [[0, 1], [5, 0]]
    auto_sklearn:
      metalearning_configs: 0
    ```

    ## Fix safety
    Setting `metalearning_configs: 0` is safe: it is what happens anyway.

    ## References
    - docs/tools.md, "Custom metrics" (measured with auto-sklearn 0.15.0): custom metrics silently disable meta-learning
    - Feurer et al. 2015, "Efficient and Robust Automated Machine Learning", NeurIPS
    """
    config = config_of(ctx)
    metalearning, _ = _metalearning(config)
    if config.effective_metric() != Metric.expected_cost or metalearning == 0:
        return
    yield Violation(
        ctx.where(("auto_sklearn", "metalearning_configs"), ("task", "metric")),
        f"auto-sklearn has no meta-data for the custom metric `expected_cost`: its {metalearning} meta-learning "
        "configurations are skipped",
        fix=Fix("Set `auto_sklearn.metalearning_configs` to 0", (Edit(("auto_sklearn", "metalearning_configs"), 0),)),
    )


@rule(
    "MC811",
    "autosklearn-unsupported-setting",
    severity=Severity.error,
    summary="A setting auto-sklearn cannot honour: a custom space, another optimizer, a fidelity, warm starts.",
    tools=TOOLS,
)
def autosklearn_unsupported_setting(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports settings of the tool-agnostic format that auto-sklearn 0.15 has no way to run: a search space from
    `search_space.file` / `inline` / `estimator` / `overrides`, an `optimizer.kind` other than `bo`, a
    `fidelity.type`, `initial_design.warm_start`, and `stopping.cputime`.

    ## Why is this bad?
    auto-sklearn searches its own pipeline space with SMAC's random-forest BO and meta-learned starting
    points; passed on, these settings would be dropped without a word, so metaconf refuses them at compile
    time. Pick models with `search_space.models` or `auto_sklearn.include`, or use `tool: smac`.

    ## Example
    ```yaml
    tool: auto-sklearn
    optimizer:
      kind: hyperband
    ```

    ## Use instead
    ```yaml
    tool: smac
    optimizer:
      kind: hyperband
    ```

    ## Fix safety
    No automatic fix: either the setting or the tool has to change.

    ## References
    - docs/tools.md, "Checks it makes late or never" (measured with auto-sklearn 0.15.0) (no search-space, optimizer or warm-start arguments)
    - Feurer et al. 2015, "Efficient and Robust Automated Machine Learning", NeurIPS
    """
    config = config_of(ctx)
    space = config.search_space
    for name in ("file", "inline", "estimator"):
        if getattr(space, name) is not None:
            yield Violation(
                ("search_space", name),
                f"`search_space.{name}` cannot be used with auto-sklearn, which searches its own pipeline space",
                key=True,
            )
    if space.overrides:
        yield Violation(
            ("search_space", "overrides"),
            "`search_space.overrides` cannot be used with auto-sklearn: its hyperparameter ranges are fixed",
            key=True,
        )
    if config.optimizer.kind.value != "bo":
        yield Violation(
            ("optimizer", "kind"),
            f"`optimizer.kind: {config.optimizer.kind.value}` is not available with auto-sklearn (always `bo`)",
            fix=Fix("Set `optimizer.kind` to `bo`", (Edit(("optimizer", "kind"), "bo"),), safe=False),
        )
    if config.fidelity.type.value != "none":
        yield Violation(
            ("fidelity", "type"),
            f"`fidelity.type: {config.fidelity.type.value}` is not available with auto-sklearn",
        )
    if config.initial_design.warm_start:
        yield Violation(
            ("initial_design", "warm_start"),
            "`initial_design.warm_start` is not available with auto-sklearn; its starting points come from "
            "meta-learning (`auto_sklearn.metalearning_configs`)",
            key=True,
        )
    if config.stopping.cputime is not None:
        yield Violation(
            ("stopping", "cputime"),
            "`stopping.cputime` is not available with auto-sklearn; use `stopping.walltime`",
            key=True,
        )
