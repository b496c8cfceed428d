"""One configuration of a search space (built-in or the user's) as a scikit-learn estimator: the family's
class with the configuration's values, seeded, fixed arguments added; a user's estimator imported by its
``module:Class`` path (only when the user trusts the config's code)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from metaconf.config.model import Config, ModelFamily, TaskType
from metaconf.space.builtin import (
    _CLS,
    _REG,
    MODEL,
    SEPARATOR,
    _task,
    fidelity_families,
    is_user_space,
    model_spec,
    plain_values,
)
from metaconf.space.errors import SpaceError, SpaceProblem

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator


def import_estimator(path: str, *, field_path: tuple[str, ...] = ("search_space", "estimator")) -> type:
    """The class named by ``module:Class`` (``module.Class`` is accepted too). Importing runs the module's
    code: only for a run, or a lint the user trusts (:mod:`metaconf.space.user_code`)."""
    from metaconf.space.user_code import estimator_parts

    module_name, class_name = estimator_parts(path, field_path=field_path)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpaceError(
            f"Cannot import module `{module_name}` for estimator `{path}`: {exc}.",
            "Check the spelling, or install the package that provides it.",
            kind=SpaceProblem.bad_estimator,
            path=field_path,
        ) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise SpaceError(
            f"Module `{module_name}` has no class `{class_name}`.",
            "Check the class name (it is case-sensitive).",
            kind=SpaceProblem.bad_estimator,
            path=field_path,
        )
    return cls


def constructor_args(cls: type) -> set[str]:
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return set()
    return {name for name, p in parameters.items() if name != "self" and p.kind is not p.VAR_KEYWORD}


def make_estimator(
    values: Mapping[str, Any],
    task_type: str | TaskType,
    *,
    seed: int,
    config: Config | None = None,
    fidelity: str | None = None,
    fidelity_value: float | None = None,
    needs_proba: bool = False,
    n_samples: int | None = None,
) -> BaseEstimator:
    """The unfitted estimator one configuration describes (no preprocessing).

    Built-in spaces: ``values["model"]`` picks the family, its ``<family>:<param>`` values become constructor
    arguments. User spaces (``config`` with ``search_space.file``/``inline``): ``search_space.estimator`` is
    instantiated with the values as keyword arguments. ``fidelity`` ``n_estimators`` / ``max_iter`` with
    ``fidelity_value`` sets that argument (as an int) where the estimator has it as a budget.
    ``needs_proba`` wraps the SVC in ``CalibratedClassifierCV(..., ensemble=False)`` so that it has
    ``predict_proba`` (about 4x the fit cost, so only when the metric needs probabilities). ``n_samples`` (training rows, when known) caps ``n_neighbors`` so that k-NN never asks for
    more neighbours than there are rows. Regression SVMs and MLPs are fitted to the standardised target
    (``TransformedTargetRegressor``; predictions come back in the target's units). Always ``n_jobs=1`` and
    ``random_state=seed`` where they exist.
    """
    task = _task(task_type)
    params = plain_values(values)
    if config is not None and is_user_space(config):
        return _make_user_estimator(
            params, config, seed=seed, fidelity=fidelity, fidelity_value=fidelity_value
        )
    if MODEL not in params:
        raise SpaceError(
            "The configuration has no `model` value, so its built-in model family is unknown.",
            "Pass a configuration of a built-in space, or the config of a user space (with `search_space.estimator`).",
            kind=SpaceProblem.bad_warm_start,
        )
    family = ModelFamily(params.pop(MODEL))
    spec = model_spec(family, task)
    prefix = family.value + SEPARATOR
    kwargs: dict[str, Any] = dict(spec.fixed)
    kwargs.update({key[len(prefix) :]: value for key, value in params.items() if key.startswith(prefix)})
    if family == ModelFamily.mlp:
        n_layers = int(kwargs.pop("n_layers", 1))
        n_units = int(kwargs.pop("n_units", 64))
        kwargs["hidden_layer_sizes"] = (n_units,) * n_layers
    if family == ModelFamily.k_nearest_neighbors and n_samples is not None and "n_neighbors" in kwargs:
        kwargs["n_neighbors"] = max(1, min(int(kwargs["n_neighbors"]), n_samples))
    if fidelity is not None and fidelity_value is not None and family in fidelity_families(fidelity, task):
        kwargs[fidelity] = max(1, round(fidelity_value))
    estimator = _finish(import_estimator(spec.estimator), kwargs, seed)
    if family == ModelFamily.svm and task == _CLS and needs_proba:
        # SVC(probability=True) is deprecated since scikit-learn 1.9; this is its documented replacement (Platt
        # scaling fitted on out-of-fold decisions, one final SVC). 3 folds instead of libsvm's 5 to save time.
        from sklearn.calibration import CalibratedClassifierCV

        estimator = CalibratedClassifierCV(estimator, method="sigmoid", cv=3, ensemble=False, n_jobs=1)
    if family in TARGET_SCALED_FAMILIES and task == _REG:
        # SVR's epsilon and C, and an MLP's output layer, assume a target of unit scale: on house prices (a
        # target in the 100,000s) every SVR of the space predicted a constant (R^2 0). Trees, k-NN and linear
        # models do not care, and are left as they are.
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        estimator = TransformedTargetRegressor(regressor=estimator, transformer=StandardScaler())
    return estimator


TARGET_SCALED_FAMILIES = frozenset({ModelFamily.svm, ModelFamily.mlp})
"""Regression families fitted to the standardised target (:func:`make_estimator`)."""


def _finish(cls: type, kwargs: dict[str, Any], seed: int) -> BaseEstimator:
    args = constructor_args(cls)
    # LogisticRegression ignores n_jobs since scikit-learn 1.8 and warns when it is passed.
    if "n_jobs" in args and not cls.__module__.startswith("sklearn.linear_model._logistic"):
        kwargs["n_jobs"] = 1
    if "random_state" in args:
        kwargs.setdefault("random_state", seed)
    estimator: BaseEstimator = cls(**kwargs)
    return estimator


def _make_user_estimator(
    params: dict[str, Any], config: Config, *, seed: int, fidelity: str | None, fidelity_value: float | None
) -> BaseEstimator:
    path = config.search_space.estimator
    if not path:
        raise SpaceError(
            "A user search space needs `search_space.estimator`: the class its hyperparameters configure.",
            "Add e.g. `estimator: sklearn.ensemble:RandomForestClassifier`.",
            kind=SpaceProblem.bad_estimator,
            path=("search_space",),
        )
    cls = import_estimator(path)
    args = constructor_args(cls)
    unknown = sorted(set(params) - args) if args else []
    if unknown:
        raise SpaceError(
            f"Estimator `{path}` has no constructor argument{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(f'`{u}`' for u in unknown)}.",
            "Name the space's hyperparameters after the estimator's constructor arguments.",
            kind=SpaceProblem.bad_estimator,
            path=("search_space", "estimator"),
        )
    if fidelity in ("n_estimators", "max_iter") and fidelity_value is not None and fidelity in args:
        params[fidelity] = max(1, round(fidelity_value))
    return _finish(cls, params, seed)
