"""Built-in model search spaces: the families' specs, overrides, and one ConfigurationSpace for a config.

Each :class:`~metaconf.config.model.ModelFamily` has a moderate space per task (1-8 hyperparameters, plus
conditional ones that only count under their parent), with the ranges the field uses (auto-sklearn's components,
HEBO's sklearn spaces, FLAML's LightGBM space, the scikit-learn docs): log scale for
``C``, ``gamma``, ``alpha`` and learning rates, integers for depths, leaves and neighbours. The spaces are kept
as plain data (:data:`FAMILY_SPECS`) so that ranges can be shown, narrowed by ``search_space.overrides`` and
exported without importing ConfigSpace; :func:`build_space` turns them into one conditional
``ConfigurationSpace``:

- a categorical ``model`` (a ``Constant`` when only one family is searched): algorithm selection;
- hyperparameters named ``<family>:<param>``, active only when ``model == <family>``. ``param`` is the
  estimator's constructor argument, with one exception: the MLP's ``n_layers`` and ``n_units`` together make
  ``hidden_layer_sizes`` (a tuple is not a hyperparameter).

Every configuration of every built-in space fits without an exception on small data (``tests/
test_space_builtin.py`` samples and fits them); iterative learners may warn that they did not converge, which
is expected at low fidelity.

A user's own space (``search_space.file`` / ``search_space.inline``) is loaded by :mod:`metaconf.space.user`;
:func:`build_space` handles both kinds, and :func:`metaconf.space.estimators.make_estimator` turns a configuration of
either into an estimator; :mod:`metaconf.space.configurations` checks values against a space.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from metaconf.config.model import Config, HyperparameterOverride, ModelFamily, TaskType
from metaconf.space.errors import SpaceError, SpaceProblem

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace
    from ConfigSpace.hyperparameters import Hyperparameter

MODEL = "model"
"""Name of the categorical hyperparameter that selects the model family."""
SEPARATOR = ":"

Scalar = str | int | float | bool
Kind = Literal["float", "int", "categorical", "constant"]


@dataclass(frozen=True)
class HyperparameterSpec:
    """One hyperparameter of a family, as data. ``active_if`` = (sibling parameter, values that activate it)."""

    name: str
    kind: Kind
    default: Scalar
    lower: float | None = None
    upper: float | None = None
    log: bool = False
    choices: tuple[Scalar, ...] = ()
    active_if: tuple[str, tuple[Scalar, ...]] | None = None

    def legal_values(self) -> tuple[Scalar, ...] | None:
        """The finite set of values this hyperparameter can take, or None for a numeric range."""
        if self.kind == "categorical":
            return self.choices
        if self.kind == "constant":
            return (self.default,)
        return None

    def as_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data (for schema narrowing and ``metaconf`` explanations)."""
        out: dict[str, Any] = {"type": self.kind, "default": self.default}
        if self.kind in ("float", "int"):
            out.update(lower=self.lower, upper=self.upper, log=self.log)
        if self.kind == "categorical":
            out["choices"] = list(self.choices)
        if self.active_if is not None:
            out["active_if"] = {self.active_if[0]: list(self.active_if[1])}
        return out


@dataclass(frozen=True)
class ModelSpec:
    """A family's space for one task: the estimator class, its hyperparameters and the arguments it is fixed at."""

    estimator: str
    """``module:Class``."""
    hyperparameters: tuple[HyperparameterSpec, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    """Constructor arguments that are not searched (``max_iter`` / ``n_estimators`` unless they are the fidelity)."""


def _f(
    name: str, lower: float, upper: float, default: float, *, log: bool = False, **kw: Any
) -> HyperparameterSpec:
    return HyperparameterSpec(name, "float", default, lower, upper, log, **kw)


def _i(
    name: str, lower: int, upper: int, default: int, *, log: bool = False, **kw: Any
) -> HyperparameterSpec:
    return HyperparameterSpec(name, "int", default, lower, upper, log, **kw)


def _c(name: str, choices: Sequence[Scalar], default: Scalar, **kw: Any) -> HyperparameterSpec:
    return HyperparameterSpec(name, "categorical", default, choices=tuple(choices), **kw)


_CLS, _REG = TaskType.classification.value, TaskType.regression.value

_FOREST_CLS = (
    _c("criterion", ["gini", "entropy"], "gini"),
    _f("max_features", 0.05, 1.0, 0.5),
    _i("min_samples_split", 2, 20, 2),
    _i("min_samples_leaf", 1, 20, 1),
    _c("bootstrap", [True, False], True),
)
# Regression keeps scikit-learn's squared_error criterion: friedman_mse is deprecated in 1.9 (an alias), and
# absolute_error is orders of magnitude slower.
_FOREST_REG = (
    _f("max_features", 0.05, 1.0, 1.0),
    _i("min_samples_split", 2, 20, 2),
    _i("min_samples_leaf", 1, 20, 1),
    _c("bootstrap", [True, False], True),
)
_HGB = (
    _f("learning_rate", 0.01, 1.0, 0.1, log=True),
    _i("max_leaf_nodes", 3, 2047, 31, log=True),
    _i("min_samples_leaf", 1, 200, 20, log=True),
    _f("l2_regularization", 1e-10, 1.0, 1e-10, log=True),
    _f("max_features", 0.1, 1.0, 1.0),
)
_KNN = (
    _i("n_neighbors", 1, 100, 5, log=True),
    _c("weights", ["uniform", "distance"], "uniform"),
    _c("p", [1, 2], 2),
)
_MLP = (
    _i("n_layers", 1, 3, 1),
    _i("n_units", 16, 256, 64, log=True),
    _c("activation", ["relu", "tanh"], "relu"),
    _f("alpha", 1e-7, 1e-1, 1e-4, log=True),
    _f("learning_rate_init", 1e-4, 1e-1, 1e-3, log=True),
)
_TREE_CLS = (
    _c("criterion", ["gini", "entropy"], "gini"),
    _i("max_depth", 1, 30, 10),
    _i("min_samples_split", 2, 20, 2),
    _i("min_samples_leaf", 1, 20, 1),
    _f("max_features", 0.1, 1.0, 1.0),
)
_TREE_REG = _TREE_CLS[1:]
# LightGBM, after FLAML's LGBMEstimator space (log scales for sizes, rates and penalties) with ranges cut to what a
# single-core search of minutes can use: FLAML lets n_estimators and num_leaves grow to the row count. Defaults
# are LightGBM's own, except the two penalties (a log scale has no 0: FLAML's lower bound for L1, its 1.0 for L2).
# Bagging (subsample < 1) is off unless subsample_freq turns it on: LightGBM ignores subsample at frequency 0.
_LGBM = (
    _i("n_estimators", 16, 1024, 100, log=True),
    _i("num_leaves", 4, 512, 31, log=True),
    _f("learning_rate", 0.005, 0.5, 0.1, log=True),
    _i("min_child_samples", 2, 128, 20, log=True),
    _f("colsample_bytree", 0.1, 1.0, 1.0),
    _f("reg_alpha", 1e-3, 10.0, 1e-3, log=True),
    _f("reg_lambda", 1e-3, 10.0, 1.0, log=True),
    _c("subsample_freq", [0, 1], 0),
    _f("subsample", 0.5, 1.0, 0.8, active_if=("subsample_freq", (1,))),
)
# One thread (a trial has one core), no log lines, column-wise histograms forced so that LightGBM does not time
# both layouts and pick one per fit (its choice would make runs differ), deterministic tree building.
_LGBM_FIXED = {"verbose": -1, "force_col_wise": True, "deterministic": True}
_SVM_CLS = (
    _f("C", 0.01, 1000.0, 1.0, log=True),
    _c("kernel", ["rbf", "linear"], "rbf"),
    _f("gamma", 1e-4, 8.0, 0.1, log=True, active_if=("kernel", ("rbf",))),
)

FAMILY_SPECS: dict[ModelFamily, dict[str, ModelSpec]] = {
    ModelFamily.linear: {
        # penalty= is deprecated in scikit-learn 1.8+: l1_ratio 0 is L2, 1 is L1, in between elastic net; saga
        # is the one solver that takes all of them.
        _CLS: ModelSpec(
            "sklearn.linear_model:LogisticRegression",
            (_f("C", 1e-3, 1e3, 1.0, log=True), _f("l1_ratio", 0.0, 1.0, 0.0)),
            {"solver": "saga", "max_iter": 200},
        ),
        _REG: ModelSpec("sklearn.linear_model:Ridge", (_f("alpha", 1e-4, 1e3, 1.0, log=True),)),
    },
    # libsvm has no iteration limit by default, and a linear kernel with a large C barely converges on noisy
    # data (measured: 3,750 rows x 20 features, C=100: 77 s, versus 1.4 s at C=1 for the same test accuracy).
    # The cap bounds such a trial to seconds; it only binds where a smaller C does as well.
    ModelFamily.svm: {
        _CLS: ModelSpec("sklearn.svm:SVC", _SVM_CLS, {"cache_size": 500, "max_iter": 200_000}),
        _REG: ModelSpec(
            "sklearn.svm:SVR",
            (*_SVM_CLS, _f("epsilon", 1e-3, 1.0, 0.1, log=True)),
            {"cache_size": 500, "max_iter": 200_000},
        ),
    },
    ModelFamily.random_forest: {
        _CLS: ModelSpec("sklearn.ensemble:RandomForestClassifier", _FOREST_CLS, {"n_estimators": 100}),
        _REG: ModelSpec("sklearn.ensemble:RandomForestRegressor", _FOREST_REG, {"n_estimators": 100}),
    },
    ModelFamily.extra_trees: {
        _CLS: ModelSpec(
            "sklearn.ensemble:ExtraTreesClassifier",
            tuple(replace(h, default=False) if h.name == "bootstrap" else h for h in _FOREST_CLS),
            {"n_estimators": 100},
        ),
        _REG: ModelSpec(
            "sklearn.ensemble:ExtraTreesRegressor",
            tuple(replace(h, default=False) if h.name == "bootstrap" else h for h in _FOREST_REG),
            {"n_estimators": 100},
        ),
    },
    ModelFamily.hist_gradient_boosting: {
        # early_stopping off: with it, max_iter (the fidelity) would not be the number of iterations run.
        _CLS: ModelSpec(
            "sklearn.ensemble:HistGradientBoostingClassifier",
            _HGB,
            {"max_iter": 100, "early_stopping": False},
        ),
        _REG: ModelSpec(
            "sklearn.ensemble:HistGradientBoostingRegressor", _HGB, {"max_iter": 100, "early_stopping": False}
        ),
    },
    ModelFamily.k_nearest_neighbors: {
        _CLS: ModelSpec("sklearn.neighbors:KNeighborsClassifier", _KNN),
        _REG: ModelSpec("sklearn.neighbors:KNeighborsRegressor", _KNN),
    },
    ModelFamily.mlp: {
        _CLS: ModelSpec("sklearn.neural_network:MLPClassifier", _MLP, {"max_iter": 200, "solver": "adam"}),
        _REG: ModelSpec("sklearn.neural_network:MLPRegressor", _MLP, {"max_iter": 200, "solver": "adam"}),
    },
    ModelFamily.decision_tree: {
        _CLS: ModelSpec("sklearn.tree:DecisionTreeClassifier", _TREE_CLS),
        _REG: ModelSpec("sklearn.tree:DecisionTreeRegressor", _TREE_REG),
    },
    # n_estimators is searched with the learning rate (they trade off), so it is not a fidelity here.
    ModelFamily.lightgbm: {
        _CLS: ModelSpec("lightgbm:LGBMClassifier", _LGBM, _LGBM_FIXED),
        _REG: ModelSpec("lightgbm:LGBMRegressor", _LGBM, _LGBM_FIXED),
    },
}
"""Per family and task type (``classification`` / ``regression``): the estimator and its space."""

_SCALING = frozenset({ModelFamily.linear, ModelFamily.svm, ModelFamily.k_nearest_neighbors, ModelFamily.mlp})
_FIDELITY_FAMILIES: dict[str, dict[str, frozenset[ModelFamily]]] = {
    "n_estimators": {
        _CLS: frozenset({ModelFamily.random_forest, ModelFamily.extra_trees}),
        _REG: frozenset({ModelFamily.random_forest, ModelFamily.extra_trees}),
    },
    # Ridge has max_iter but its default solver ignores it, so linear counts for classification only.
    "max_iter": {
        _CLS: frozenset({ModelFamily.hist_gradient_boosting, ModelFamily.mlp, ModelFamily.linear}),
        _REG: frozenset({ModelFamily.hist_gradient_boosting, ModelFamily.mlp}),
    },
}
_FIDELITY_RANGES: dict[str, tuple[float, float]] = {
    # 10 trees already rank forests usefully; 300 is past where more trees stop paying on most tabular data.
    "n_estimators": (10.0, 300.0),
    # 10 epochs/boosting rounds separate good from bad learning rates; 300 lets slow learners converge.
    "max_iter": (10.0, 300.0),
}


def _task(task_type: str | TaskType) -> str:
    value = task_type.value if isinstance(task_type, TaskType) else str(task_type)
    if value not in (_CLS, _REG):
        raise SpaceError(
            f"Unknown task type `{value}`.",
            "Use `classification` or `regression`.",
            kind=SpaceProblem.bad_models,
            path=("task", "type"),
        )
    return value


def families_for(task_type: str | TaskType) -> list[ModelFamily]:
    """All built-in families that have a space for ``task_type``, in :class:`ModelFamily` order."""
    task = _task(task_type)
    return [family for family in ModelFamily if task in FAMILY_SPECS.get(family, {})]


def model_spec(family: ModelFamily | str, task_type: str | TaskType) -> ModelSpec:
    """The estimator and space of ``family`` for ``task_type``; :class:`SpaceError` if there is none."""
    task = _task(task_type)
    try:
        return FAMILY_SPECS[ModelFamily(family)][task]
    except (ValueError, KeyError):
        raise SpaceError(
            f"`{getattr(family, 'value', family)}` is not a built-in model family for {task}.",
            f"Use one of: {', '.join(f.value for f in families_for(task))}.",
            kind=SpaceProblem.bad_models,
        ) from None


def builtin_space_bounds(task_type: str | TaskType) -> dict[str, dict[str, dict[str, Any]]]:
    """The built-in spaces as JSON-ready data: per family, per parameter, its type, range or choices, default
    and condition. The counterpart of :func:`metaconf.space.meta.meta_space_bounds` for model spaces (schema
    narrowing, explanations)."""
    task = _task(task_type)
    return {
        family.value: {spec.name: spec.as_dict() for spec in model_spec(family, task).hyperparameters}
        for family in families_for(task)
    }


def needs_scaling(values: Mapping[str, Any]) -> bool:
    """Whether the configured model needs standardised features (linear, SVM, k-NN, MLP: distances and
    gradient steps depend on feature scale; trees do not). False for a user space without ``model``."""
    model = plain_value(values.get(MODEL))
    try:
        return ModelFamily(model) in _SCALING
    except ValueError:
        return False


def fidelity_families(fidelity: str, task_type: str | TaskType | None = None) -> set[ModelFamily]:
    """Families whose constructor argument ``fidelity`` (``n_estimators`` / ``max_iter``) is a budget.

    Without ``task_type``, the families for which it is a budget in any task.
    """
    per_task = _FIDELITY_FAMILIES.get(fidelity, {})
    if task_type is None:
        return set().union(*per_task.values()) if per_task else set()
    return set(per_task.get(_task(task_type), frozenset()))


def fidelity_range(fidelity: str) -> tuple[float, float]:
    """A sensible (min, max) budget for an estimator-argument fidelity (``n_estimators``, ``max_iter``)."""
    try:
        return _FIDELITY_RANGES[fidelity]
    except KeyError:
        raise SpaceError(
            f"`{fidelity}` is not an estimator-argument fidelity.",
            f"Use one of: {', '.join(_FIDELITY_RANGES)}.",
            kind=SpaceProblem.bad_override,
            path=("fidelity", "type"),
        ) from None


def hp_name(family: ModelFamily | str, param: str) -> str:
    """The space name of ``family``'s ``param``: ``svm:C``."""
    return f"{ModelFamily(family).value}{SEPARATOR}{param}"


def is_user_space(config: Config) -> bool:
    """True when the config brings its own ConfigSpace space instead of built-in families."""
    return config.search_space.file is not None or config.search_space.inline is not None


def selected_families(config: Config, task_type: str | TaskType | None = None) -> list[ModelFamily]:
    """The families a built-in space searches: ``search_space.models`` or all that fit the task."""
    task = _task(task_type if task_type is not None else config.task.type)
    models = config.search_space.models
    if models is None:
        return families_for(task)
    if not models:
        raise SpaceError(
            "`search_space.models` is empty: there is nothing to search.",
            "List at least one model family, or remove `models` to search all that fit the task.",
            kind=SpaceProblem.bad_models,
            path=("search_space", "models"),
        )
    valid = families_for(task)
    out: list[ModelFamily] = []
    for index, family in enumerate(models):
        if family not in valid:
            raise SpaceError(
                f"Model family `{family.value}` has no {task} space.",
                f"Use one of: {', '.join(f.value for f in valid)}.",
                kind=SpaceProblem.bad_models,
                path=("search_space", "models", index),
            )
        if family not in out:
            out.append(family)
    return out


def family_hyperparameters(
    config: Config, task_type: str | TaskType | None = None
) -> dict[ModelFamily, list[HyperparameterSpec]]:
    """Per selected family, its hyperparameters with ``search_space.overrides`` applied (as data)."""
    task = _task(task_type if task_type is not None else config.task.type)
    families = selected_families(config, task)
    overrides = config.search_space.overrides
    for family_key in overrides:
        try:
            family = ModelFamily(family_key)
        except ValueError:
            raise SpaceError(
                f"`search_space.overrides` names `{family_key}`, which is not a model family.",
                f"Use one of: {', '.join(f.value for f in families)}.",
                kind=SpaceProblem.bad_override,
                path=("search_space", "overrides", family_key),
            ) from None
        if family not in families:
            raise SpaceError(
                f"`search_space.overrides.{family_key}` overrides a family that is not searched.",
                f"Add `{family_key}` to `search_space.models`, or remove the override.",
                kind=SpaceProblem.bad_override,
                path=("search_space", "overrides", family_key),
            )
    out: dict[ModelFamily, list[HyperparameterSpec]] = {}
    for family in families:
        specs = {spec.name: spec for spec in model_spec(family, task).hyperparameters}
        for param_key, override in overrides.get(family.value, {}).items():
            param = (
                param_key.split(SEPARATOR, 1)[1]
                if param_key.startswith(family.value + SEPARATOR)
                else param_key
            )
            path = ("search_space", "overrides", family.value, param_key)
            if param not in specs:
                raise SpaceError(
                    f"`{family.value}` has no hyperparameter `{param}` to override.",
                    f"Use one of: {', '.join(specs)}.",
                    kind=SpaceProblem.bad_override,
                    path=path,
                )
            specs[param] = apply_override(specs[param], override, path)
        out[family] = list(specs.values())
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def apply_override(
    spec: HyperparameterSpec, override: HyperparameterOverride, path: tuple[str, ...]
) -> HyperparameterSpec:
    """``spec`` narrowed, re-scaled, re-defaulted or fixed as ``override`` says; :class:`SpaceError` naming the
    field at fault when the result is not a usable hyperparameter."""
    name = f"{path[2]}:{spec.name}"

    def fail(
        message: str, hint: str, field_name: str, kind: SpaceProblem = SpaceProblem.bad_override
    ) -> SpaceError:
        return SpaceError(message, hint, kind=kind, path=(*path, field_name))

    if override.value is not None:
        if spec.kind in ("float", "int") and not _is_number(override.value):
            raise fail(
                f"`{name}` is numeric; `value: {override.value!r}` is not a number.",
                "Give a number.",
                "value",
            )
        value: Scalar = override.value
        if spec.kind == "int" and isinstance(value, float):
            if not value.is_integer():
                raise fail(f"`{name}` is an integer; got `value: {value}`.", "Give a whole number.", "value")
            value = int(value)
        return replace(spec, kind="constant", default=value, lower=None, upper=None, log=False, choices=())

    default: Scalar
    if override.choices is not None:
        if not override.choices:
            raise fail(
                f"`{name}` override has an empty `choices` list.", "Give at least one choice.", "choices"
            )
        if spec.kind == "int" and not all(_is_number(c) and float(c).is_integer() for c in override.choices):
            raise fail(
                f"`{name}` is an integer; `choices` must be whole numbers.", "Give whole numbers.", "choices"
            )
        if spec.kind == "float" and not all(_is_number(c) for c in override.choices):
            raise fail(f"`{name}` is numeric; `choices` must be numbers.", "Give numbers.", "choices")
        choices = tuple(dict.fromkeys(int(c) if spec.kind == "int" else c for c in override.choices))
        if override.default is not None:
            default = override.default
            if default not in choices:
                raise fail(
                    f"Default `{default}` of `{name}` is not one of its choices {list(choices)}.",
                    "Pick a default from `choices`.",
                    "default",
                    SpaceProblem.default_out_of_range,
                )
        else:
            default = spec.default if spec.default in choices else choices[0]
        return replace(
            spec, kind="categorical", choices=choices, default=default, lower=None, upper=None, log=False
        )

    if spec.kind == "categorical":
        for attr in ("lower", "upper", "log"):
            if getattr(override, attr) is not None:
                raise fail(
                    f"`{name}` is categorical; `{attr}` applies to numeric hyperparameters only.",
                    f"Use `choices` (from {list(spec.choices)}) or `value`.",
                    attr,
                )
        if override.default is not None:
            if override.default not in spec.choices:
                raise fail(
                    f"Default `{override.default}` of `{name}` is not one of {list(spec.choices)}.",
                    "Pick a default from the choices.",
                    "default",
                    SpaceProblem.default_out_of_range,
                )
            return replace(spec, default=override.default)
        return spec

    assert spec.lower is not None and spec.upper is not None
    lower = spec.lower if override.lower is None else override.lower
    upper = spec.upper if override.upper is None else override.upper
    log = spec.log if override.log is None else override.log
    if spec.kind == "int":
        for attr, bound in (("lower", override.lower), ("upper", override.upper)):
            if bound is not None and not float(bound).is_integer():
                raise fail(
                    f"`{name}` is an integer; `{attr}: {bound}` is not a whole number.",
                    "Give a whole number.",
                    attr,
                )
        lower, upper = int(lower), int(upper)
    if lower >= upper:
        raise fail(
            f"`{name}` override has lower {lower} >= upper {upper}.",
            "Make `lower` smaller than `upper`, or use `value` to fix the hyperparameter.",
            "lower" if override.lower is not None else "upper",
            SpaceProblem.override_bounds,
        )
    if log and lower <= 0:
        raise fail(
            f"`{name}` is on a log scale, so its lower bound must be > 0; got {lower}.",
            "Raise `lower` above 0, or set `log: false`.",
            "lower" if override.lower is not None else "log",
            SpaceProblem.override_bounds,
        )
    if override.default is not None:
        default = override.default
        if not _is_number(default) or not lower <= float(default) <= upper:
            raise fail(
                f"Default `{default}` of `{name}` is outside its range [{lower}, {upper}].",
                f"Pick a default between {lower} and {upper}.",
                "default",
                SpaceProblem.default_out_of_range,
            )
        if spec.kind == "int":
            if not float(default).is_integer():
                raise fail(
                    f"`{name}` is an integer; `default: {default}` is not.", "Give a whole number.", "default"
                )
            default = int(default)
    else:
        default = _clip_default(float(spec.default), lower, upper, log)
        if spec.kind == "int":
            default = round(default)
    return replace(spec, lower=lower, upper=upper, log=log, default=default)


def _clip_default(default: float, lower: float, upper: float, log: bool) -> float:
    """Keep the built-in default when it is still in range, else the range's (geometric) middle."""
    if lower <= default <= upper:
        return default
    return math.sqrt(lower * upper) if log else (lower + upper) / 2


def _to_hyperparameter(name: str, spec: HyperparameterSpec) -> Hyperparameter:
    from ConfigSpace import Categorical, Constant, Float, Integer

    if spec.kind == "float":
        assert spec.lower is not None and spec.upper is not None
        return Float(name, (float(spec.lower), float(spec.upper)), default=float(spec.default), log=spec.log)
    if spec.kind == "int":
        assert spec.lower is not None and spec.upper is not None
        return Integer(name, (int(spec.lower), int(spec.upper)), default=int(spec.default), log=spec.log)
    if spec.kind == "categorical":
        return Categorical(name, list(spec.choices), default=spec.default)
    return Constant(name, spec.default)


def _default_model(families: Sequence[ModelFamily]) -> ModelFamily:
    """The family of the default configuration: a robust, tuning-insensitive learner when one is searched."""
    for preferred in (ModelFamily.random_forest, ModelFamily.hist_gradient_boosting, ModelFamily.extra_trees):
        if preferred in families:
            return preferred
    return families[0]


def build_space(
    config: Config, base_dir: Path = Path("."), *, task_type: str | TaskType | None = None
) -> ConfigurationSpace:
    """The ConfigSpace space the config searches, seeded with ``execution.seed`` (or 0).

    Built-in: a ``model`` choice over the selected families and their ``<family>:<param>`` hyperparameters,
    each conditional on its family, with overrides applied. User space: ``search_space.file`` (relative to
    ``base_dir``) or ``search_space.inline``, names as they are. Raises :class:`SpaceError` (a
    :class:`~metaconf.errors.UsageError`) with a hint and the config path at fault.
    """
    seed = config.execution.seed or 0
    if is_user_space(config):
        from metaconf.space.user import load_user_space

        return load_user_space(config, base_dir, seed=seed)

    from ConfigSpace import Categorical, ConfigurationSpace, Constant, EqualsCondition, InCondition

    per_family = family_hyperparameters(config, task_type)
    families = list(per_family)
    space = ConfigurationSpace(seed=seed)
    model: Hyperparameter
    if len(families) == 1:
        model = Constant(MODEL, families[0].value)
    else:
        model = Categorical(MODEL, [f.value for f in families], default=_default_model(families).value)
    space.add(model)
    for family, specs in per_family.items():
        by_name = {spec.name: spec for spec in specs}
        added: dict[str, Hyperparameter] = {}
        conditions: list[Any] = []
        for spec in specs:
            parent_condition = None
            if spec.active_if is not None:
                parent_name, activating = spec.active_if
                legal = by_name[parent_name].legal_values()
                kept = tuple(v for v in activating if legal is None or v in legal)
                if not kept:
                    continue  # the parent was narrowed so that this hyperparameter can never be active
                if legal is None or set(legal) - set(kept):
                    parent_condition = (parent_name, kept)
            hyperparameter = _to_hyperparameter(hp_name(family, spec.name), spec)
            added[spec.name] = hyperparameter
            if parent_condition is not None:
                parent = added[parent_condition[0]]
                values = parent_condition[1]
                conditions.append(
                    EqualsCondition(hyperparameter, parent, values[0])
                    if len(values) == 1
                    else InCondition(hyperparameter, parent, list(values))
                )
            elif len(families) > 1:
                conditions.append(EqualsCondition(hyperparameter, model, family.value))
        space.add(*added.values())
        space.add(*conditions)
    return space


def plain_value(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (SMAC hands back ``np.str_``, ``np.False_``)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def plain_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration's values as plain Python scalars (YAML/JSON-safe)."""
    return {str(key): plain_value(value) for key, value in dict(values).items()}
