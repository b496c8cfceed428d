"""The target function's core: evaluate one configuration on the search rows, at a fidelity; score the winner
on rows the search never saw.

:class:`Evaluator` is built once per process (SMAC's target function, a Dask worker, a benchmark, the trial-cost
probe) and then called once per trial. What it guarantees:

- **A test set out of the search.** ``data.test_size`` of the rows (stratified for classification) are split
  off once, from the evaluator's ``seed`` only. :meth:`Evaluator.cost` never touches them;
  :meth:`Evaluator.test_report` scores on them after a refit on all search rows.
- **Fixed, shared validation splits.** The holdout split / k folds are drawn once from the evaluator's seed,
  so every configuration is compared on the same rows (common random numbers: differences in cost are the
  configurations', not the splits'). The *trial* seed SMAC passes only seeds the estimator.
- **No leakage.** Preprocessing (:func:`~metaconf.targets.preprocess.build_preprocessor`) sits inside the
  ``Pipeline`` and is fitted on each training fold only. Column *kinds* are decided once on the search rows.
- **Real fidelities** (``fidelity.type``; ``budget=None`` is full fidelity):

  - ``subsample``: the model is fitted on a stratified fraction ``budget`` of each training fold, at least
    ``max(3 x n_classes, 10)`` rows and every class present; validation rows stay full-size and fixed. The
    subsample is drawn from the evaluator's seed, so all configurations at one budget see the same rows.
    ``budget=None`` means ``fidelity.max`` (all rows when that is unset or 1).
  - ``n_estimators`` / ``max_iter``: ``int(round(budget))`` trees / iterations, passed to
    :func:`metaconf.space.estimators.make_estimator` (families without that argument are fitted in full).
    ``budget=None`` means ``fidelity.max`` (or the family's own default when that is unset).
  - ``cv_folds``: k-fold with ``k = fidelity.max`` (else ``resampling.folds``); a budget evaluates the first
    ``round(budget)`` folds.

- **Deterministic.** The same values, seed and data give the same cost in any process: no set or hash order
  is involved, classes are sorted, columns keep the file's order.
- **Failures propagate.** An exception while fitting or predicting is raised to the caller (SMAC records the
  trial as CRASHED at the metric's finite ``worst_cost``). Convergence warnings, expected at low fidelity,
  are silenced.
- **One thread.** Fits and predictions run under ``threadpool_limits(1)``: OpenMP learners (histogram
  gradient boosting) are several times faster on 2 shared cores that way, and parallel workers do not
  oversubscribe the machine.

This module imports scikit-learn at import time (the estimator wrapper below must be a module-level class to
pickle); import it lazily from command modules.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline

from metaconf.data.labels import label_array, normalize_labels
from metaconf.errors import UsageError
from metaconf.targets.metrics import MetricSpec, aligned_proba, metric_for
from metaconf.targets.preprocess import PreprocessPlan, build_preprocessor, plan_columns
from metaconf.targets.threshold import (
    Threshold,
    choose,
    scores_of,
    tuned_during_search,
    tuned_for_the_saved_model,
    with_threshold,
)

if TYPE_CHECKING:
    from metaconf.config.model import Config
    from metaconf.data.load import Dataset

MIN_ROWS_PER_CLASS = 3
"""A subsample keeps at least this many rows per class (and every class)."""
MIN_SUBSAMPLE_ROWS = 10
"""A subsample keeps at least this many rows (regression, or very few classes)."""


@dataclass
class Evaluation:
    """One configuration evaluated at one fidelity: what :meth:`Evaluator.evaluate` returns."""

    cost: float
    """Mean validation cost over the folds evaluated (what SMAC minimises)."""
    fold_costs: list[float]
    n_fit_rows: list[int]
    """Training rows each model was fitted on (after subsampling)."""
    n_valid_rows: list[int]
    fit_seconds: float
    """Wall time of fitting and predicting, all folds."""
    fidelity: str
    budget: float | None
    models: list[Pipeline] = field(default_factory=list)
    """The fitted pipelines, with ``keep_models=True`` only."""
    threshold: Threshold | None = None
    """Binary tasks: the decision threshold chosen on the validation predictions (:mod:`metaconf.targets.threshold`):
    the one the costs above were scored at (f1, balanced accuracy, expected cost), or, with ``decide=True`` for a
    threshold-free metric, the one the saved model will use."""


DIVERGED_FACTOR = 2.0
"""A refit whose cost on its own training rows exceeds this x the validation cost has diverged."""
DIVERGED_FLOOR = 0.005
"""The validation cost the factor applies to at least (a perfect validation score leaves no room)."""
REFIT_ATTEMPTS = 4
DIVERGED_CHECK_ROWS = 5_000
"""At most this many training rows score the refit for the check (a fixed sample beyond)."""


def _divergence_bound(validation_cost: float | None) -> float | None:
    """The training-rows cost above which a refit has diverged (None: no usable validation cost to compare)."""
    if validation_cost is None or not math.isfinite(validation_cost) or validation_cost < 0:
        return None
    return DIVERGED_FACTOR * max(validation_cost, DIVERGED_FLOOR)


def _refit_seeds(first: int) -> list[int]:
    """The seeds a diverged refit is retried with: deterministic, distinct, valid for scikit-learn."""
    return [(first + 7919 * k) % (2**31 - 1) for k in range(REFIT_ATTEMPTS)]


@dataclass
class FinalModel:
    """The incumbent refitted on all search rows, the estimator seed it used, and why not the first one."""

    model: Pipeline
    seed: int
    note: str | None


class CostSensitiveClassifier(ClassifierMixin, BaseEstimator):
    """A classifier whose ``predict`` is the Bayes decision under the metric's cost matrix.

    ``expected_cost`` is evaluated with :meth:`MetricSpec.decide` on the model's probabilities; a refitted
    model is wrapped in this class so that it predicts the way it was evaluated (e.g. German credit's 5:1
    matrix: "bad" as soon as P(bad) > 1/6). ``predict_proba`` is the wrapped model's, one column per class.
    """

    def __init__(self, estimator: Any = None, metric: MetricSpec | None = None):
        self.estimator = estimator
        self.metric = metric

    def fit(self, X: Any, y: Any, **fit_params: Any) -> CostSensitiveClassifier:
        if self.metric is None or self.metric.classes is None:
            raise ValueError("CostSensitiveClassifier needs a metric with classes")
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = label_array(self.metric.classes)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        assert self.metric is not None and self.metric.classes is not None
        return aligned_proba(self.estimator_, X, self.metric.classes)

    def predict(self, X: Any) -> np.ndarray:
        assert self.metric is not None
        if not hasattr(self.estimator_, "predict_proba"):
            return np.asarray(self.estimator_.predict(X))
        return self.metric.decide(self.predict_proba(X))


class Evaluator:
    """Evaluates configurations of a config's search space on a dataset (see the module docstring).

    ``seed`` fixes the test split, the validation splits and the subsamples; the ``seed`` of :meth:`cost`
    seeds the estimator. Raises :class:`UsageError` when the data cannot be evaluated as configured (a
    non-numeric regression target, too few rows for the folds, no usable column, cost-matrix labels that
    are not the data's classes).
    """

    def __init__(self, config: Config, dataset: Dataset, *, seed: int):
        self.config = config
        self.seed = int(seed)
        self._task_type = config.task.type.value
        if "type" not in config.task.model_fields_set and dataset.task_type != self._task_type:
            raise UsageError(
                f"`task.type` is not set, so it is {self._task_type}, but the target `{dataset.y.name}` looks like "
                f"{dataset.task_type} ({dataset.y.nunique()} distinct values in {len(dataset.y)} rows)",
                f"set `task.type: {dataset.task_type}` (or `task.type: {self._task_type}` if that is what you mean)",
            )
        X = dataset.X
        if not all(isinstance(c, str) for c in X.columns):
            X = X.set_axis([str(c) for c in X.columns], axis=1)  # a new frame: the caller's stays as it was
        y = _clean_target(dataset.y.reset_index(drop=True), self._task_type)
        X = X.reset_index(drop=True)
        if len(X) != len(y):
            raise UsageError(f"the features have {len(X)} rows but the target has {len(y)}")

        self._classes: tuple[Any, ...] | None = None
        if self._task_type == "classification":
            self._classes = tuple(np.unique(y.to_numpy()).tolist())
            if len(self._classes) < 2:
                raise UsageError(
                    f"the target `{y.name}` has a single class; classification needs at least two",
                    "check the target column, or set `task.type: regression`",
                )

        rows = np.arange(len(y))
        test_size = config.data.test_size
        if test_size > 0:
            train_rows, test_rows = self._split(rows, y, test_size, stratify=True, what="test")
            # file order kept: column decisions (sorted row numbers are ids) see the data as it was written
            self._train_rows, self._test_rows = np.sort(train_rows), np.sort(test_rows)
        else:
            self._train_rows, self._test_rows = rows, rows[:0]
        # the search rows and the test rows, each copied once; the full frame is not kept (memory on big data)
        self._X_test = X.iloc[self._test_rows].reset_index(drop=True)
        self._y_test = y.iloc[self._test_rows].reset_index(drop=True)
        self._X_train = X.iloc[self._train_rows].reset_index(drop=True)
        self._y_train = y.iloc[self._train_rows].reset_index(drop=True)
        self._plan = plan_columns(self._X_train)
        build_preprocessor(self._X_train, scale=False, plan=self._plan)  # raises early if no column is usable
        self._metric = metric_for(config, self._classes, self._y_train)
        self._folds = self._make_folds()
        self._subsamples: dict[tuple[int, int], np.ndarray] = {}

    # ------------------------------------------------------------------------------------------ properties
    @property
    def task_type(self) -> str:
        """`classification` or `regression` (``task.type`` of the config)."""
        return self._task_type

    @property
    def classes(self) -> tuple[Any, ...] | None:
        """The sorted classes (the column order of every probability matrix), or None for regression."""
        return self._classes

    def _has_proba(self, params: Mapping[str, Any]) -> bool:
        """Does this configuration's model give probabilities (every built-in family but an uncalibrated SVM)?"""
        estimator = self._pipeline(dict(params), seed=0, estimator_budget=None, n_rows=len(self._y_train))[-1]
        return hasattr(estimator, "predict_proba")

    @property
    def _positive(self) -> Any:
        from metaconf.targets.threshold import positive_class

        return positive_class(self._metric)

    @property
    def metric(self) -> MetricSpec:
        return self._metric

    @property
    def plan(self) -> PreprocessPlan:
        """What preprocessing does with each column, and why."""
        return self._plan

    @property
    def train_rows(self) -> np.ndarray:
        """Positions (in the dataset) of the rows the search sees."""
        return self._train_rows.copy()

    @property
    def test_rows(self) -> np.ndarray:
        """Positions (in the dataset) of the held-out test rows."""
        return self._test_rows.copy()

    @property
    def folds(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(fit, validation) positions within the search rows: one pair for holdout, k for cv."""
        return [(a.copy(), b.copy()) for a, b in self._folds]

    @property
    def validation_rows(self) -> int:
        """How many validation predictions one full-fidelity evaluation scores (every search row once with cv)."""
        return sum(len(valid) for _, valid in self._folds)

    # ---------------------------------------------------------------------------------------- evaluation
    def cost(self, values: Mapping[str, Any], *, seed: int = 0, budget: float | None = None) -> float:
        """Mean validation cost of one configuration at ``budget`` (None: full fidelity). SMAC calls this."""
        return self.evaluate(values, seed=seed, budget=budget).cost

    def evaluate(
        self,
        values: Mapping[str, Any],
        *,
        seed: int = 0,
        budget: float | None = None,
        keep_models: bool = False,
        decide: bool = False,
    ) -> Evaluation:
        """:meth:`cost` with the details: per-fold costs, rows fitted, time, and optionally the models.

        On a binary task scored by f1, balanced accuracy or expected cost the folds' validation predictions are
        pooled, the threshold with the lowest cost is chosen on them, and every fold is scored at it (the
        search compares configurations at their best decision rule). With ``decide`` a threshold-free metric
        (ROC AUC, log loss) also gets a threshold, chosen for balanced accuracy, for the saved model.
        """
        params = _plain_values(values)
        fidelity = self.config.fidelity.type.value
        if budget is not None and not (math.isfinite(budget) and budget > 0):
            raise ValueError(f"the budget must be a positive number; got {budget}")
        folds = list(enumerate(self._folds))
        if fidelity == "cv_folds" and budget is not None:
            folds = folds[: min(len(folds), max(1, round(budget)))]
        fraction = None
        if fidelity == "subsample":
            fraction = budget if budget is not None else self.config.fidelity.max
            fraction = fraction if fraction is not None and fraction < 1 else None
        estimator_budget = self._estimator_budget(budget)

        evaluation = Evaluation(math.nan, [], [], [], 0.0, fidelity, budget)
        # a model without probabilities (an SVM) keeps its own decision: margins of different fits do not compare
        tuned = tuned_during_search(self._metric) and self._has_proba(params)
        thresholded = self.decides(params) if decide else tuned
        fold_scores: list[tuple[np.ndarray, np.ndarray]] = []
        started = time.perf_counter()
        for index, (fit_rows, valid_rows) in folds:
            if fraction is not None:
                fit_rows = self._subsample(index, fit_rows, fraction)
            X_fit, y_fit = self._X_train.iloc[fit_rows], self._y_train.iloc[fit_rows]
            X_valid, y_valid = self._X_train.iloc[valid_rows], self._y_train.iloc[valid_rows]
            model = self._pipeline(params, seed=seed, estimator_budget=estimator_budget, n_rows=len(fit_rows))
            with _quiet_single_thread():
                model.fit(X_fit, y_fit)
                if thresholded:
                    assert self._classes is not None
                    scores = scores_of(model, X_valid, self._positive, self._classes)
                    fold_scores.append((y_valid.to_numpy(), scores))
                if not tuned:
                    evaluation.fold_costs.append(self._cost_of(model, X_valid, y_valid))
            evaluation.n_fit_rows.append(len(fit_rows))
            evaluation.n_valid_rows.append(len(valid_rows))
            if keep_models:
                evaluation.models.append(model)
        if thresholded:
            pooled_y = np.concatenate([y for y, _ in fold_scores])
            pooled_scores = np.concatenate([v for _, v in fold_scores])
            serves = None if tuned else "balanced_accuracy"
            evaluation.threshold = choose(self._metric, pooled_y, pooled_scores, serves=serves)
        if tuned:
            assert evaluation.threshold is not None
            for y_valid_array, scores in fold_scores:
                decisions = _decisions(scores, evaluation.threshold)
                evaluation.fold_costs.append(self._metric.cost(y_valid_array, y_pred=decisions))
        evaluation.fit_seconds = time.perf_counter() - started
        evaluation.cost = float(np.mean(evaluation.fold_costs))
        return evaluation

    def decides(self, values: Mapping[str, Any]) -> bool:
        """Does :meth:`evaluate` with ``decide=True`` choose a decision threshold for this configuration? (Without
        ``decide`` it chooses one only when the search tunes it.)"""
        if not (tuned_during_search(self._metric) or tuned_for_the_saved_model(self._metric)):
            return False
        return self._has_proba(_plain_values(values))

    def refit(self, values: Mapping[str, Any], *, seed: int | None = None) -> Pipeline:
        """The configuration's pipeline fitted on all search rows at full fidelity.

        With ``expected_cost`` the model is wrapped in :class:`CostSensitiveClassifier`, so ``predict``
        makes the decisions the search scored.
        """
        threshold = None
        if tuned_during_search(self._metric) or tuned_for_the_saved_model(self._metric):
            threshold = self.evaluate(values, seed=self.seed if seed is None else seed, decide=True).threshold
        return self.final_model(values, seed=seed, threshold=threshold).model

    def final_model(
        self,
        values: Mapping[str, Any],
        *,
        seed: int | None = None,
        validation_cost: float | None = None,
        threshold: Threshold | None = None,
    ) -> FinalModel:
        """:meth:`refit`, checked against the search's validation cost when given.

        One refit can diverge where every fold fitted well: a histogram gradient boosting with learning rate
        0.55 scored 0.994 in 3-fold CV on kr-vs-kp and 0.614 on the test rows after its refit, whose accuracy
        on its own training rows was 0.62; the next seed's refit scored 0.998. A refit whose cost on the rows
        it was fitted on exceeds ``DIVERGED_FACTOR`` x the validation cost (of at least
        ``DIVERGED_FLOOR``) is refitted with the next of ``REFIT_ATTEMPTS`` derived seeds; the first that
        passes is kept, else the one with the lowest training cost, and ``note`` says so.
        """
        first = self.seed if seed is None else seed
        bound = _divergence_bound(validation_cost)
        if bound is None or validation_cost is None:
            return FinalModel(self._refit_once(values, seed=first, threshold=threshold), first, None)
        check_rows = self._refit_check_rows()
        tried: list[tuple[float, int, Pipeline]] = []
        for attempt in _refit_seeds(first):
            model = self._refit_once(values, seed=attempt, threshold=threshold)
            with _quiet_single_thread():
                train_cost = self._cost_of(model, *check_rows)
            if train_cost <= bound:
                note = None
                if tried:
                    note = (
                        f"the incumbent's refit with seed {first} diverged (cost {tried[0][0]:.4g} on its own "
                        f"training rows vs {validation_cost:.4g} in validation); refitted with seed {attempt}"
                    )
                return FinalModel(model, attempt, note)
            tried.append((train_cost, attempt, model))
        train_cost, attempt, model = min(tried, key=lambda item: item[0])
        note = (
            f"every refit of the incumbent ({len(tried)} seeds) scored worse on its own training rows (best "
            f"cost {train_cost:.4g}, seed {attempt}) than {bound:.4g} ({DIVERGED_FACTOR:g}x its validation cost "
            f"{validation_cost:.4g}, at least {DIVERGED_FACTOR * DIVERGED_FLOOR:g}): the test score may not "
            "reflect the search"
        )
        return FinalModel(model, attempt, note)

    def refit_all_rows(
        self,
        values: Mapping[str, Any],
        *,
        seed: int,
        validation_cost: float | None = None,
        threshold: Threshold | None = None,
    ) -> Pipeline | None:
        """The incumbent fitted on every row, search and test rows together: what ``--save-model`` saves.

        The test score is measured on the model fitted on the search rows (the test rows must stay unseen for
        it); once it is known, the rows it was measured on are more training data (FLAML's ``retrain_full``
        does the same). Same settings, same estimator seed, same
        decision threshold (chosen on validation predictions). None when there are no test rows, or when this
        fit diverges (its cost on the search rows it was fitted on above the bound :meth:`final_model` uses):
        the caller keeps the search-rows model then.
        """
        if not len(self._test_rows):
            return None
        X = pd.concat([self._X_train, self._X_test], ignore_index=True)
        y = pd.concat([self._y_train, self._y_test], ignore_index=True)
        model = self._refit_once(values, seed=seed, threshold=threshold, rows=(X, y))
        bound = _divergence_bound(validation_cost)
        if bound is not None:
            with _quiet_single_thread():
                train_cost = self._cost_of(model, *self._refit_check_rows())
            if train_cost > bound:
                return None
        return model

    def _refit_check_rows(self) -> tuple[pd.DataFrame, pd.Series]:
        """The training rows a refit is checked on: all, or a fixed sample of ``DIVERGED_CHECK_ROWS`` (scoring
        every training row would cost a k-NN model n_train x n_train distances)."""
        n = len(self._y_train)
        if n <= DIVERGED_CHECK_ROWS:
            return self._X_train, self._y_train
        rows = np.sort(np.random.default_rng(0).choice(n, DIVERGED_CHECK_ROWS, replace=False))
        return self._X_train.iloc[rows], self._y_train.iloc[rows]

    def _refit_once(
        self,
        values: Mapping[str, Any],
        *,
        seed: int,
        threshold: Threshold | None = None,
        rows: tuple[pd.DataFrame, pd.Series] | None = None,
    ) -> Pipeline:
        """The configuration's pipeline fitted at full fidelity on ``rows`` (default: the search rows)."""
        X, y = rows if rows is not None else (self._X_train, self._y_train)
        model = self._pipeline(
            _plain_values(values), seed=seed, estimator_budget=self._estimator_budget(None), n_rows=len(y)
        )
        if threshold is not None:
            model.steps[-1] = ("model", with_threshold(model.steps[-1][1], threshold))
        elif self._metric.cost_matrix is not None:
            model.steps[-1] = ("model", CostSensitiveClassifier(model.steps[-1][1], self._metric))
        with _quiet_single_thread():
            model.fit(X, y)
        return model

    def test_report(
        self,
        values: Mapping[str, Any],
        *,
        seed: int | None = None,
        keep_model: bool = False,
        searched_cost: float | None = None,
    ) -> dict[str, Any]:
        """Validation cost at full fidelity, then a refit on all search rows scored on the test rows.

        ``validation_cost`` is the (capped) cost the search minimises; ``test_cost`` is the metric's true
        value on the test rows (not capped). Both ``test_*`` are None when ``data.test_size`` is 0. With
        ``keep_model``, ``model`` is the refit that was scored (what ``--save-model`` saves, without fitting
        it again).

        ``searched_cost`` is the cost the search itself measured for ``values`` at full fidelity with ``seed``
        (:meth:`cost` there is this evaluation without ``decide``). Where no decision threshold comes out of
        the evaluation, evaluating again would fit every fold once more to compute that same number, in time
        the budget does not reserve (a large LightGBM's 3-fold CV took 8.8 of the 12.9 s of a 60 s run's test
        report, and the run ended 6.5 s over its budget), so it is taken as the validation cost.
        """
        seed = self.seed if seed is None else seed
        if searched_cost is not None and math.isfinite(searched_cost) and not self.decides(values):
            validation = Evaluation(searched_cost, [], [], [], 0.0, self.config.fidelity.type.value, None)
        else:
            validation = self.evaluate(values, seed=seed, budget=None, decide=True)
        started = time.perf_counter()
        final = self.final_model(values, seed=seed, validation_cost=validation.cost, threshold=validation.threshold)
        model = final.model
        fit_seconds = time.perf_counter() - started
        test_cost = self.test_cost(model)
        return {
            "validation_cost": validation.cost,
            "validation_score": self._metric.score(validation.cost),
            "test_cost": test_cost,
            "test_score": None if test_cost is None else self._metric.score(test_cost),
            "fit_seconds": fit_seconds,
            "estimator_seed": final.seed,
            "refit_note": final.note,
            "threshold": validation.threshold,
            "n_train": len(self._train_rows),
            "n_test": len(self._test_rows),
        } | ({"model": model} if keep_model else {})

    def test_cost(self, model: Any) -> float | None:
        """The metric's true cost (not capped) of a fitted ``model`` on the test rows; None without test rows."""
        if not len(self._test_rows):
            return None
        with _quiet_single_thread():
            return self._cost_of(model, self._X_test, self._y_test, clip=False)

    # ------------------------------------------------------------------------------------------- helpers
    def _pipeline(
        self, params: dict[str, Any], *, seed: int, estimator_budget: float | None, n_rows: int
    ) -> Pipeline:
        from metaconf.space.builtin import is_user_space, needs_scaling
        from metaconf.space.estimators import make_estimator

        fidelity = self.config.fidelity.type.value
        estimator = make_estimator(
            params,
            self._task_type,
            seed=int(seed),
            config=self.config,
            fidelity=fidelity if estimator_budget is not None else None,
            fidelity_value=estimator_budget,
            needs_proba=self._metric.needs_proba,
            n_samples=n_rows,
        )
        # A user space's estimator is unknown: scale, which never changes what a tree learns (trees split on
        # order) and is what every scale-sensitive learner (SVC, k-NN, linear, MLP) needs.
        scale = is_user_space(self.config) or needs_scaling(params)
        preprocessor = build_preprocessor(self._X_train, scale=scale, plan=self._plan)
        return Pipeline([("preprocess", preprocessor), ("model", estimator)])

    def _estimator_budget(self, budget: float | None) -> float | None:
        """The n_estimators / max_iter value for a budget (None: leave the estimator's own setting)."""
        if self.config.fidelity.type.value not in ("n_estimators", "max_iter"):
            return None
        return budget if budget is not None else self.config.fidelity.max

    def _cost_of(self, model: Any, X: pd.DataFrame, y: pd.Series, *, clip: bool = True) -> float:
        metric = self._metric
        y_true = y.to_numpy()
        if tuned_during_search(metric):  # the decision is the model's: a saved model carries its threshold
            return metric.cost(y_true, y_pred=model.predict(X), clip=clip)
        if self._classes is not None and metric.needs_proba:
            if hasattr(model, "predict_proba"):
                return metric.cost(y_true, y_proba=aligned_proba(model, X, self._classes), clip=clip)
            if metric.name == "roc_auc" and hasattr(model, "decision_function"):
                # AUC only ranks: decision scores serve as well as probabilities
                return metric.cost(y_true, y_proba=_aligned_scores(model, X, self._classes), clip=clip)
            if metric.name != "expected_cost":
                raise ValueError(
                    f"the metric `{metric.name}` needs probabilities, but `{type(model[-1]).__name__}` "
                    "has no predict_proba"
                )
        return metric.cost(y_true, y_pred=model.predict(X), clip=clip)

    def _stratify_by(self, y: pd.Series) -> pd.Series | None:
        wanted = self.config.resampling.stratify
        if self._task_type != "classification" or wanted is False:
            return None
        return y

    def _split(
        self, rows: np.ndarray, y: pd.Series, size: float, *, stratify: bool, what: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Split ``rows`` into (keep, held out) with ``size`` held out; stratified when possible."""
        from sklearn.model_selection import train_test_split

        n_out = math.ceil(size * len(rows))
        if n_out < 1 or len(rows) - n_out < 2:
            raise UsageError(
                f"a {what} split of {size:g} leaves {len(rows) - n_out} of {len(rows)} rows for fitting "
                f"and {n_out} for the {what} set",
                "use more data, or a smaller `data.test_size` / `resampling.holdout_fraction`",
            )
        labels = self._stratify_by(y.iloc[rows]) if stratify else None
        if labels is not None:
            try:
                keep, out = train_test_split(rows, test_size=size, stratify=labels, random_state=self.seed)
                return np.asarray(keep), np.asarray(out)
            except ValueError:
                pass  # a class with one row, or fewer held-out rows than classes: split without strata
        keep, out = train_test_split(rows, test_size=size, random_state=self.seed)
        return np.asarray(keep), np.asarray(out)

    def _make_folds(self) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import KFold, StratifiedKFold

        resampling = self.config.resampling
        fidelity = self.config.fidelity
        rows = np.arange(len(self._y_train))
        if resampling.strategy.value == "holdout" and fidelity.type.value != "cv_folds":
            return [
                self._split(
                    rows, self._y_train, resampling.holdout_fraction, stratify=True, what="validation"
                )
            ]
        k = resampling.folds
        if fidelity.type.value == "cv_folds" and fidelity.max is not None:
            k = round(fidelity.max)
        if not 2 <= k <= len(rows):
            raise UsageError(
                f"{k}-fold cross-validation needs between 2 and {len(rows)} folds (the search rows)",
                "set `resampling.folds` (or `fidelity.max` for the cv_folds fidelity) to a number in that range",
            )
        labels = self._stratify_by(self._y_train)
        if labels is not None and int(labels.value_counts().max()) >= k:
            splitter: Any = StratifiedKFold(n_splits=k, shuffle=True, random_state=self.seed)
            with warnings.catch_warnings():
                # "The least populated class has only n members": such a class lands in fewer folds, fine.
                warnings.simplefilter("ignore", UserWarning)
                return [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(rows, labels)]
        splitter = KFold(n_splits=k, shuffle=True, random_state=self.seed)
        return [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(rows)]

    def _subsample(self, fold: int, fit_rows: np.ndarray, fraction: float) -> np.ndarray:
        """A stratified ``fraction`` of ``fit_rows``, the same for every configuration (cached per fold/size)."""
        n_classes = len(self._classes) if self._classes is not None else 0
        n = max(math.ceil(fraction * len(fit_rows)), MIN_ROWS_PER_CLASS * n_classes, MIN_SUBSAMPLE_ROWS)
        if n >= len(fit_rows):
            return fit_rows
        key = (fold, n)
        if key not in self._subsamples:
            from sklearn.model_selection import train_test_split

            labels = self._y_train.iloc[fit_rows]
            try:
                chosen = train_test_split(
                    fit_rows, train_size=n, stratify=self._stratify_by(labels), random_state=self.seed
                )[0]
            except ValueError:
                chosen = train_test_split(fit_rows, train_size=n, random_state=self.seed)[0]
            chosen = np.asarray(chosen)
            if self._classes is not None:  # every class at least once: a one-class fit fails for most models
                present = set(self._y_train.iloc[chosen].tolist())
                label_array = labels.to_numpy()
                extra = [fit_rows[label_array == c][:1] for c in self._classes if c not in present]
                extra = [rows for rows in extra if len(rows)]
                chosen = np.concatenate([chosen, *extra]) if extra else chosen
            self._subsamples[key] = chosen
        return self._subsamples[key]


_THREADPOOLS: Any = None


@contextmanager
def _quiet_single_thread() -> Iterator[None]:
    """One thread for OpenMP / BLAS (histogram gradient boosting fits 6x faster on 2 busy cores than with
    its default of all cores, and trials never oversubscribe parallel workers), and no convergence
    warnings (expected at low max_iter fidelities)."""
    global _THREADPOOLS
    if _THREADPOOLS is None:
        from threadpoolctl import ThreadpoolController

        # Finding the loaded OpenMP / BLAS libraries takes ~10 ms: once per process, not per trial.
        # scikit-learn's (the ones that matter) are loaded by the imports at the top of this module.
        _THREADPOOLS = ThreadpoolController()
    with _THREADPOOLS.limit(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _decisions(scores: np.ndarray, threshold: Threshold) -> np.ndarray:
    """The classes ``threshold`` decides for ``scores`` (FixedThresholdClassifier's rule: positive from the
    threshold on)."""
    return label_array([threshold.positive if v >= threshold.value else threshold.negative for v in scores.tolist()])


def _aligned_scores(model: Any, X: pd.DataFrame, classes: tuple[Any, ...]) -> np.ndarray:
    """``decision_function`` as one score column per class (binary: ``[-s, s]``); unseen classes score lowest."""
    scores = np.asarray(model.decision_function(X), dtype=float)
    fitted = list(model.classes_)
    if scores.ndim == 1:
        scores = np.column_stack([-scores, scores])
    out = np.full((scores.shape[0], len(classes)), -np.inf if len(fitted) < len(classes) else 0.0)
    position = {cls: i for i, cls in enumerate(classes)}
    for column, cls in enumerate(fitted):
        out[:, position[cls]] = scores[:, column]
    return np.nan_to_num(out, neginf=np.finfo(float).min)


def _plain_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Configuration values as plain Python scalars (ConfigSpace hands back ``np.str_``, ``np.False_``)."""
    out = {}
    for key, value in dict(values).items():
        if hasattr(value, "item") and not isinstance(value, str | int | float | bool):
            value = value.item()
        out[str(key)] = value
    return out


def _clean_target(y: pd.Series, task_type: str) -> pd.Series:
    """The target as the Evaluator uses it: floats for regression; one label type for classification."""
    if task_type == "regression":
        numbers = pd.to_numeric(y, errors="coerce")
        bad = y[numbers.isna() & y.notna()]
        if len(bad):
            raise UsageError(
                f"`task.type` is regression but the target `{y.name}` holds non-numbers, e.g. {bad.iloc[0]!r}",
                "set `task.type: classification`, or pick a numeric target column",
            )
        return numbers.astype(float)
    if pd.api.types.is_float_dtype(y) and not np.all(np.mod(y.to_numpy(dtype=float), 1) == 0):
        raise UsageError(
            f"`task.type` is classification but the target `{y.name}` holds continuous values "
            f"({y.nunique()} distinct, e.g. {y.iloc[0]!r})",
            "set `task.type: regression` and a regression metric (`rmse`, `mae`, `r2`)",
        )
    return normalize_labels(y)
