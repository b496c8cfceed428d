"""The metaconf config: a tool-agnostic, complete description of one AutoML run.

This pydantic model is the single contract: `suggest` writes it, `run` compiles it, `lint` checks it, and the
JSON Schema in ``schemas/`` is generated from it (``metaconf schema --write``). Every field carries a
docstring; it becomes the schema's ``description`` and what editors show on hover.

Cross-field rules (min budget below max budget, initial design within n_trials, ...) are *not* validators
here: they are lint rules with codes, positions and fixes, so that a config with a mistake still loads and
the user sees every finding at once instead of the first exception.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from metaconf.config.units import format_duration, format_memory, parse_duration, parse_memory

SCHEMA_VERSION = 1
SCHEMA_ID = f"urn:metaconf:schema:config:{SCHEMA_VERSION}"
"""A name, not an address: no public site hosts the schema. Editors find it through the modeline, which points at
the file installed with metaconf (:func:`metaconf.config.schema.modeline`)."""

_DURATION_PATTERN = r"^\s*((\d+(\.\d+)?|\.\d+)\s*[a-zA-Z]*\s*)+$"
_MEMORY_PATTERN = r"^\s*(\d+(\.\d+)?|\.\d+)\s*[a-zA-Z]*\s*$"

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _DURATION_PATTERN},
            ],
            "description": "Seconds, or a number with a unit: `90s`, `15m`, `2h`, `1h30m`.",
        }
    ),
]
"""Seconds; written as ``90s``, ``15m``, ``2h`` or a bare number of seconds."""

Memory = Annotated[
    float,
    BeforeValidator(parse_memory),
    PlainSerializer(format_memory, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _MEMORY_PATTERN},
            ],
            "description": "Megabytes, or a number with a unit: `512MB`, `4GB`.",
        }
    ),
]
"""Megabytes; written as ``512MB``, ``4GB`` or a bare number of megabytes."""


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        validate_default=True,
        populate_by_name=True,
    )


class TaskType(str, Enum):
    classification = "classification"
    regression = "regression"


class DecisionThreshold(str, Enum):
    """How a binary classifier turns P(positive) into a class."""

    auto = "auto"
    natural = "natural"


class Metric(str, Enum):
    """What the run optimises. Scores are turned into costs that are minimised (e.g. ``1 - accuracy``)."""

    accuracy = "accuracy"
    balanced_accuracy = "balanced_accuracy"
    roc_auc = "roc_auc"
    log_loss = "log_loss"
    f1 = "f1"
    expected_cost = "expected_cost"
    rmse = "rmse"
    mae = "mae"
    r2 = "r2"


CLASSIFICATION_METRICS = frozenset(
    {Metric.accuracy, Metric.balanced_accuracy, Metric.roc_auc, Metric.log_loss, Metric.f1, Metric.expected_cost}
)
REGRESSION_METRICS = frozenset({Metric.rmse, Metric.mae, Metric.r2})


class Tool(str, Enum):
    smac = "smac"
    auto_sklearn = "auto-sklearn"


class ModelFamily(str, Enum):
    """Built-in model families; each has a classification and a regression search space."""

    linear = "linear"
    svm = "svm"
    random_forest = "random_forest"
    extra_trees = "extra_trees"
    hist_gradient_boosting = "hist_gradient_boosting"
    k_nearest_neighbors = "k_nearest_neighbors"
    mlp = "mlp"
    decision_tree = "decision_tree"
    lightgbm = "lightgbm"


class OptimizerKind(str, Enum):
    """How configurations are proposed and evaluated.

    ``bo``: Bayesian optimisation with a random-forest surrogate (SMAC's HPO facade).
    ``bo_gp``: Bayesian optimisation with a Gaussian-process surrogate (SMAC's black-box facade), for small,
    mostly continuous spaces. ``random``: random search. ``hyperband`` / ``successive_halving``:
    multi-fidelity (BOHB-style: random-forest proposals, cheap low-fidelity evaluations first).
    """

    bo = "bo"
    bo_gp = "bo_gp"
    random = "random"
    hyperband = "hyperband"
    successive_halving = "successive_halving"


MULTI_FIDELITY_OPTIMIZERS = frozenset({OptimizerKind.hyperband, OptimizerKind.successive_halving})


class FidelityType(str, Enum):
    """What a low-budget evaluation saves on.

    ``subsample``: a stratified fraction of the training rows (min/max in (0, 1]). ``n_estimators``: trees in
    an ensemble. ``max_iter``: iterations / epochs of an iterative learner. ``cv_folds``: cross-validation
    folds evaluated.
    """

    none = "none"
    subsample = "subsample"
    n_estimators = "n_estimators"
    max_iter = "max_iter"
    cv_folds = "cv_folds"


class InitialDesignKind(str, Enum):
    sobol = "sobol"
    random = "random"
    latin_hypercube = "latin_hypercube"
    factorial = "factorial"
    default = "default"


class ResamplingStrategy(str, Enum):
    holdout = "holdout"
    cv = "cv"


class ExistingOutput(str, Enum):
    """What `metaconf run` does when the run directory already holds a run."""

    resume = "resume"
    overwrite = "overwrite"
    error = "error"


class Origin(str, Enum):
    """Who chose a value."""

    user = "user"
    rule = "rule"
    llm = "llm"
    llm_repaired = "llm-repaired"
    default = "default"


class CostMatrix(_Strict):
    """Misclassification costs. ``costs[i][j]`` is the cost of predicting ``labels[j]`` when the truth is
    ``labels[i]`` (rows: true class, columns: predicted class), as in OpenML's German credit description."""

    labels: list[str | int | bool] = Field(min_length=2)
    """Class labels, in the order of the matrix rows and columns."""
    costs: list[list[float]]
    """Square matrix of non-negative costs; the diagonal is usually 0."""


class Task(_Strict):
    type: TaskType = TaskType.classification
    """`classification` or `regression`."""
    target: str | None = None
    """Name of the target column. Not needed for a bundled demo dataset."""
    metric: Metric | None = None
    """Metric to optimise. Defaults to `accuracy` (classification) or `rmse` (regression)."""
    positive_label: str | int | bool | None = None
    """The positive class for `f1` and `roc_auc` on binary tasks."""
    cost_matrix: CostMatrix | None = None
    """Misclassification costs for the `expected_cost` metric."""
    decision_threshold: DecisionThreshold = DecisionThreshold.auto
    """Binary tasks. `auto`: the threshold on P(positive) that serves the metric, chosen on validation
    predictions (`f1`, `balanced_accuracy`, `expected_cost`: in every evaluation of the search; `roc_auc`,
    `log_loss`: for the saved model, serving balanced accuracy). `natural`: the model's own decision (0.5, or
    the cost matrix's Bayes rule), e.g. when you threshold the probabilities yourself."""


class Data(_Strict):
    path: str | None = None
    """A CSV, Parquet or ARFF file, relative to the config file."""
    demo: str | None = None
    """A dataset that ships with metaconf's dependencies (e.g. `breast_cancer`, `iris`, `wine`, `digits`,
    `diabetes`); `metaconf profile --list-demos` lists them."""
    test_size: float = Field(default=0.2, ge=0.0, lt=1.0)
    """Fraction of rows held out as a test set, never seen by the search."""
    ignore_columns: list[str] = Field(default_factory=list)
    """Columns that are not features (ids, leaks)."""
    sample_rows: int | None = Field(default=None, ge=1)
    """Use at most this many rows (a stratified sample), for quick experiments."""


class Budget(_Strict):
    walltime: Duration | None = None
    """Total wall-clock time for the whole job, including data loading and the final refit."""
    cores: int = Field(default=1, ge=1, le=4096)
    """CPU cores the run may use."""
    memory: Memory | None = None
    """Memory the run may use in total."""


class HyperparameterOverride(_Strict):
    """Narrow or fix one hyperparameter of a built-in model family."""

    lower: float | None = None
    """New lower bound (numeric hyperparameters)."""
    upper: float | None = None
    """New upper bound (numeric hyperparameters)."""
    log: bool | None = None
    """Sample on a log scale."""
    choices: list[str | int | float | bool] | None = None
    """New set of choices (categorical hyperparameters)."""
    default: str | int | float | bool | None = None
    """New default value."""
    value: str | int | float | bool | None = None
    """Fix the hyperparameter to this value (it leaves the search)."""


class SearchSpace(_Strict):
    models: list[ModelFamily] | None = None
    """Built-in model families to search over. Several families become one conditional space with a `model`
    choice (algorithm selection and hyperparameter optimisation at once). Default: all that fit the task."""
    overrides: dict[str, dict[str, HyperparameterOverride]] = Field(default_factory=dict)
    """Per model family, per hyperparameter: a narrower range, other choices or a fixed value."""
    file: str | None = None
    """A ConfigSpace space serialized as YAML or JSON (`ConfigurationSpace.to_yaml`), relative to the config."""
    inline: dict[str, Any] | None = None
    """A ConfigSpace space in its serialized dict form, written inline."""
    estimator: str | None = None
    """For a user space (`file` / `inline`): the scikit-learn estimator it configures, as `module:Class`
    (e.g. `sklearn.ensemble:RandomForestClassifier`); hyperparameter names are its constructor arguments."""


class Optimizer(_Strict):
    kind: OptimizerKind = OptimizerKind.bo
    """`bo` (random-forest BO), `bo_gp` (Gaussian-process BO), `random`, `hyperband`, `successive_halving`."""


class Fidelity(_Strict):
    type: FidelityType = FidelityType.none
    """What a cheap evaluation saves on: `none`, `subsample`, `n_estimators`, `max_iter`, `cv_folds`."""
    min: float | None = None
    """Smallest budget (a fraction for `subsample`; trees, iterations or folds otherwise)."""
    max: float | None = None
    """Largest budget: the full-fidelity evaluation."""
    eta: float | None = 3.0
    """Reduction factor between successive-halving rungs (keep the best 1/eta)."""


class InitialDesign(_Strict):
    kind: InitialDesignKind = InitialDesignKind.sobol
    """How the first configurations are chosen before the surrogate model takes over."""
    size: int | None = Field(default=None, ge=0)
    """Number of initial configurations. Overrides `per_hyperparameter`."""
    per_hyperparameter: int | None = Field(default=None, ge=0)
    """Initial configurations per hyperparameter of the search space (SMAC's default: 10)."""
    max_ratio: float = Field(default=0.25, gt=0.0, le=1.0)
    """At most this fraction of `stopping.n_trials` goes to the initial design."""
    warm_start: list[dict[str, Any]] = Field(default_factory=list)
    """Configurations to evaluate first, as hyperparameter name -> value."""


class Stopping(_Strict):
    walltime: Duration | None = None
    """Stop the search after this wall-clock time (the optimiser's own limit, inside `budget.walltime`)."""
    n_trials: int | None = None
    """Stop after this many evaluated configurations (counting each fidelity level)."""
    plateau_patience: int | None = Field(default=None, ge=1)
    """Stop after this many trials past the initial design without improving the best cost."""
    plateau_min_delta: float = Field(default=0.0, ge=0.0)
    """An improvement smaller than this does not reset the plateau count."""
    cost_threshold: float | None = None
    """Stop as soon as a configuration reaches this cost."""
    cputime: Duration | None = None
    """Stop after this much CPU time of the main process."""
    trial_walltime: Duration | None = None
    """Wall-clock limit for one trial; a trial over it is recorded as TIMEOUT at the crash cost."""
    trial_memory: Memory | None = None
    """Memory one trial may allocate; a trial over it is recorded as CRASHED at the crash cost."""
    crash_cost: float | None = None
    """Cost recorded for a crashed or timed-out trial. Default: the metric's worst value."""


class Resampling(_Strict):
    strategy: ResamplingStrategy = ResamplingStrategy.holdout
    """`holdout` (one validation split) or `cv` (k-fold cross-validation)."""
    holdout_fraction: float = Field(default=0.33, gt=0.0, lt=1.0)
    """Fraction of the training rows used for validation with `holdout`."""
    folds: int = Field(default=5, ge=2, le=100)
    """Number of folds with `cv`."""
    stratify: bool | None = None
    """Keep class proportions in every split (default: yes for classification)."""
    selection_margin: float = Field(default=0.5, ge=0.0, le=10.0)
    """Which evaluated configuration the run keeps: walking them in the order they were evaluated, a configuration
    replaces the one kept only when its validation cost is lower by more than this many standard errors of the
    kept one's estimate. 0 keeps the lowest validation cost. SMAC runs only (docs/run.md, "How the final
    configuration is chosen")."""


class Execution(_Strict):
    workers: int = Field(default=1, ge=1, le=4096)
    """Trials evaluated in parallel. More than one uses a Dask `LocalCluster` unless `dask_scheduler` is set."""
    dask_scheduler: str | None = None
    """Address of an existing Dask scheduler, e.g. `tcp://127.0.0.1:8786`."""
    output_dir: str = "runs"
    """Directory that holds run directories, relative to the config file."""
    name: str | None = None
    """Run name; the run directory is `output_dir/name`. Default: the config file's stem."""
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    """Random seed of the whole run. Same config and seed give the same trajectory."""
    on_existing: ExistingOutput = ExistingOutput.resume
    """When the run directory holds a run: `resume` it (same config only), `overwrite` it, or `error`."""


class AutoSklearnSettings(_Strict):
    """Settings only auto-sklearn has. The shared ones (time, memory, resampling, seed) come from the
    tool-agnostic sections."""

    ensemble_size: int | None = Field(default=None, ge=0)
    """Deprecated in auto-sklearn 0.15; use `ensemble_nbest`."""
    ensemble_nbest: int = Field(default=50, ge=1)
    """Best models considered for the ensemble."""
    max_models_on_disc: int | None = Field(default=50, ge=1)
    """Models kept on disk."""
    metalearning_configs: int = Field(default=25, ge=0)
    """Initial configurations from meta-learning (`initial_configurations_via_metalearning`)."""
    include: dict[str, list[str]] | None = None
    """auto-sklearn component names to use, per pipeline step (`classifier`, `regressor`,
    `feature_preprocessor`, `data_preprocessor`, ...). Derived from `search_space.models` when unset."""
    exclude: dict[str, list[str]] | None = None
    """auto-sklearn component names to leave out, per pipeline step."""
    smac_scenario_args: dict[str, Any] | None = None
    """Extra arguments for auto-sklearn's SMAC 1.2 scenario (e.g. `runcount_limit`)."""
    dataset_compression: bool = True
    """Let auto-sklearn subsample or shrink data that does not fit `trial_memory`."""


class ValueProvenance(_Strict):
    origin: Origin
    """Who chose the value: `user`, `rule`, `llm`, `llm-repaired` or `default`."""
    reason: str
    """One line: why this value, with the numbers behind it."""


class Provenance(_Strict):
    advisor: str | None = None
    """The advisor that wrote the config (`rules`, `llm`), or absent for a hand-written one."""
    metaconf_version: str | None = None
    """metaconf version that wrote the config."""
    values: dict[str, ValueProvenance] = Field(default_factory=dict)
    """Per dotted field path (`stopping.n_trials`): origin and reason."""
    model: dict[str, str] | None = None
    """For the LLM advisor: model file, sha256, backend, decoding parameters."""
    inputs: dict[str, Any] = Field(default_factory=dict)
    """What the advisor was given: budget, data fingerprint, description digest, profile and probe figures."""
    versions: dict[str, str] = Field(default_factory=dict)
    """Library versions used to make the config."""


class Config(_Strict):
    """A complete, tool-agnostic description of one AutoML run."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        validate_default=True,
        populate_by_name=True,
        json_schema_extra={"$id": SCHEMA_ID, "$schema": "https://json-schema.org/draft/2020-12/schema"},
        title="metaconf config",
    )

    version: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    """Config format version."""
    tool: Tool = Tool.smac
    """The AutoML tool that runs the search: `smac` or `auto-sklearn`."""
    task: Task = Field(default_factory=Task)
    """What to learn and how to score it."""
    data: Data = Field(default_factory=Data)
    """Where the data comes from and how much is held out."""
    budget: Budget = Field(default_factory=Budget)
    """Compute the whole job may use."""
    search_space: SearchSpace = Field(default_factory=SearchSpace)
    """The models and hyperparameters searched."""
    optimizer: Optimizer = Field(default_factory=Optimizer)
    """How configurations are proposed."""
    fidelity: Fidelity = Field(default_factory=Fidelity)
    """Cheap low-fidelity evaluations for multi-fidelity optimisers."""
    initial_design: InitialDesign = Field(default_factory=InitialDesign)
    """Configurations evaluated before the surrogate model is used."""
    stopping: Stopping = Field(default_factory=Stopping)
    """When the search stops, and limits per trial."""
    resampling: Resampling = Field(default_factory=Resampling)
    """How a configuration is validated."""
    execution: Execution = Field(default_factory=Execution)
    """Where and how trials run, and where results go."""
    auto_sklearn: AutoSklearnSettings | None = None
    """auto-sklearn-only settings (with `tool: auto-sklearn`)."""
    provenance: Provenance | None = None
    """Who chose each value and why (written by `metaconf suggest`)."""

    def effective_metric(self) -> Metric:
        """The metric in force: the configured one or the task type's default."""
        if self.task.metric is not None:
            return self.task.metric
        return Metric.accuracy if self.task.type == TaskType.classification else Metric.rmse

    def is_multi_fidelity(self) -> bool:
        return self.optimizer.kind in MULTI_FIDELITY_OPTIMIZERS
