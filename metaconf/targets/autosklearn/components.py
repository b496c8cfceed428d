"""What auto-sklearn 0.15.0 accepts, as data: component names per pipeline step, SMAC 1.2 scenario keys, limits.

auto-sklearn checks most of these only about five seconds into ``fit`` (docs/tools.md), or never (a
misspelled ``smac_scenario_args`` key is silently ignored). metaconf checks them before it starts the
environment, from the lists below. The lists were read from auto-sklearn 0.15.0 itself
(``SimpleClassificationPipeline(...).steps[i].get_available_components`` for dense data) and from SMAC 1.2's
``CMDReader``; auto-sklearn 0.15.0 is its last release, so they do not move.

This module is plain data with no imports beyond the standard library: the compiler, the lint rules (MC8xx)
and the docs read it.
"""

from __future__ import annotations

MIN_TIME_LEFT_S = 30
"""auto-sklearn refuses ``time_left_for_this_task`` below this: `Time left for this task must be at least 30
seconds.`"""

DEFAULT_MEMORY_LIMIT_MB = 3072
"""auto-sklearn's own default ``memory_limit`` (MB, per job)."""

PER_RUN_FRACTION = 10
"""Without ``per_run_time_limit`` auto-sklearn gives each run a tenth of the total time; metaconf compiles
that value explicitly so the plan shows it."""

CLASSIFIERS: tuple[str, ...] = (
    "adaboost",
    "bernoulli_nb",
    "decision_tree",
    "extra_trees",
    "gaussian_nb",
    "gradient_boosting",
    "k_nearest_neighbors",
    "lda",
    "liblinear_svc",
    "libsvm_svc",
    "mlp",
    "multinomial_nb",
    "passive_aggressive",
    "qda",
    "random_forest",
    "sgd",
)
REGRESSORS: tuple[str, ...] = (
    "adaboost",
    "ard_regression",
    "decision_tree",
    "extra_trees",
    "gaussian_process",
    "gradient_boosting",
    "k_nearest_neighbors",
    "liblinear_svr",
    "libsvm_svr",
    "mlp",
    "random_forest",
    "sgd",
)
_FEATURE_PREPROCESSORS_COMMON: tuple[str, ...] = (
    "densifier",
    "fast_ica",
    "feature_agglomeration",
    "kernel_pca",
    "kitchen_sinks",
    "no_preprocessing",
    "nystroem_sampler",
    "pca",
    "polynomial",
    "random_trees_embedding",
    "truncatedSVD",
)
FEATURE_PREPROCESSORS_CLASSIFICATION: tuple[str, ...] = tuple(
    sorted(
        _FEATURE_PREPROCESSORS_COMMON
        + (
            "extra_trees_preproc_for_classification",
            "liblinear_svc_preprocessor",
            "select_percentile_classification",
            "select_rates_classification",
        )
    )
)
FEATURE_PREPROCESSORS_REGRESSION: tuple[str, ...] = tuple(
    sorted(
        _FEATURE_PREPROCESSORS_COMMON
        + ("extra_trees_preproc_for_regression", "select_percentile_regression", "select_rates_regression")
    )
)
DATA_PREPROCESSORS: tuple[str, ...] = ("feature_type",)


def components_by_step(task_type: str) -> dict[str, tuple[str, ...]]:
    """The steps ``include`` / ``exclude`` accept for a task type, with their component names.

    ``balancing`` is a pipeline step but not a choice: auto-sklearn rejects it as an include/exclude key.
    """
    if task_type == "regression":
        return {
            "regressor": REGRESSORS,
            "feature_preprocessor": FEATURE_PREPROCESSORS_REGRESSION,
            "data_preprocessor": DATA_PREPROCESSORS,
        }
    return {
        "classifier": CLASSIFIERS,
        "feature_preprocessor": FEATURE_PREPROCESSORS_CLASSIFICATION,
        "data_preprocessor": DATA_PREPROCESSORS,
    }


FAMILY_COMPONENTS: dict[str, dict[str, tuple[str, ...]]] = {
    # auto-sklearn has no plain logistic / ridge regression: its linear models are these. `lda` is a linear
    # classifier (shared covariance), so it belongs here rather than nowhere; `ard_regression` is auto-sklearn's
    # Bayesian linear regressor.
    "linear": {
        "classification": ("liblinear_svc", "sgd", "passive_aggressive", "lda"),
        "regression": ("ard_regression", "sgd", "liblinear_svr"),
    },
    # Kernel SVMs (libsvm); the linear-kernel liblinear ones are under `linear`.
    "svm": {"classification": ("libsvm_svc",), "regression": ("libsvm_svr",)},
    "random_forest": {"classification": ("random_forest",), "regression": ("random_forest",)},
    "extra_trees": {"classification": ("extra_trees",), "regression": ("extra_trees",)},
    # auto-sklearn 0.15's `gradient_boosting` *is* scikit-learn's HistGradientBoosting{Classifier,Regressor}.
    "hist_gradient_boosting": {"classification": ("gradient_boosting",), "regression": ("gradient_boosting",)},
    "k_nearest_neighbors": {"classification": ("k_nearest_neighbors",), "regression": ("k_nearest_neighbors",)},
    "mlp": {"classification": ("mlp",), "regression": ("mlp",)},
    "decision_tree": {"classification": ("decision_tree",), "regression": ("decision_tree",)},
    # auto-sklearn has no LightGBM; its histogram gradient boosting (scikit-learn's, modelled on LightGBM) is the
    # same kind of learner.
    "lightgbm": {"classification": ("gradient_boosting",), "regression": ("gradient_boosting",)},
}
"""metaconf model family -> auto-sklearn component names, per task type."""


SCENARIO_KEYS: frozenset[str] = frozenset(
    {
        "acq_opt_challengers",
        "algo_runs_timelimit",
        "always_race_default",
        "initial_incumbent",
        "intens_adaptive_capping_slackfactor",
        "intens_min_chall",
        "intensification_percentage",
        "limit_resources",
        "maxR",
        "minR",
        "rand_prob",
        "random_configuration_chooser",
        "rf_do_bootstrapping",
        "rf_max_depth",
        "rf_min_samples_leaf",
        "rf_min_samples_split",
        "rf_num_trees",
        "rf_ratio_features",
        "runcount_limit",
        "save_instantly",
        "save_results_instantly",
        "sls_max_steps",
        "sls_n_steps_plateau_walk",
        "ta_run_limit",
        "transform_y",
    }
)
"""SMAC 1.2 scenario keys a user may pass through ``auto_sklearn.smac_scenario_args``."""

SCENARIO_KEYS_FIXED_BY_AUTOSKLEARN: frozenset[str] = frozenset(
    {"abort_on_first_run_crash", "cs", "deterministic", "instances", "output_dir", "output-dir", "run_obj",
     "shared_model", "shared-model", "cost_for_crash"}
)
"""Keys auto-sklearn drops with a log warning (`Cannot override scenario argument`)."""

SCENARIO_KEYS_FROM_METACONF: dict[str, str] = {
    "cutoff_time": "stopping.trial_walltime",
    "cutoff": "stopping.trial_walltime",
    "wallclock_limit": "stopping.walltime",
    "memory_limit": "stopping.trial_memory",
}
"""Scenario keys metaconf sets from its own fields: set the field instead, so the plan stays consistent."""

SAFE_INITIAL_INCUMBENTS: frozenset[str] = frozenset({"DEFAULT", "RANDOM"})
"""SMAC 1.2 under auto-sklearn: `SOBOL` / `LHD` initial incumbents raise an IndexError."""
