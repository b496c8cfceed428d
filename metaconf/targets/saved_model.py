"""A run's saved model and the schema of the data it learned from: written by ``metaconf run --save-model``,
read by ``metaconf predict``.

``model.json`` sits next to the model in the run directory::

    {"format": 1, "tool": "smac" | "auto-sklearn", "model_file": "model.joblib",
     "task_type": "classification", "target": "creditability",
     "columns": [{"name": "age", "dtype": "int64", "kind": "numeric"}, ...],
     "ignored_columns": ["customer_id"],
     "classes": ["bad", "good"], "label_type": "str",
     "cost_matrix": null | [[0, 1], [5, 0]],
     "versions": {"metaconf": "0.1.0", "scikit-learn": "1.6.1", ...}}

``columns`` are the feature columns in the training file's order, with their pandas dtype and what
preprocessing made of them (``numeric``, ``categorical``, ``high_cardinality``, ``datetime``, ``dropped``: see
:mod:`metaconf.targets.preprocess`). ``ignored_columns`` are the config's ``data.ignore_columns``. ``classes``
are the model's classes in the order of its probability columns, written as :func:`label_key` writes them;
``label_type`` (``int``, ``bool`` or ``str``) turns them back into the labels the model predicts.
``cost_matrix`` (auto-sklearn with ``expected_cost``) is how probabilities become decisions, rows and columns
in the order of ``classes``; a SMAC model carries its decision rule itself (a ``FixedThresholdClassifier``
or metaconf's ``CostSensitiveClassifier``).

:func:`predict` checks new data against the schema (missing columns refuse, extra ones are ignored and
named, a numeric column holding text refuses), predicts one row per input row in input order, and says
what decision rule the labels follow.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.errors import UsageError
from metaconf.report.results import MODEL_SCHEMA_FILE as SCHEMA_FILE

if TYPE_CHECKING:
    import pandas as pd

    from metaconf.config.model import Config
    from metaconf.data.load import Dataset
    from metaconf.targets.evaluate import Evaluator

SCHEMA_FORMAT = 1
PROBA_PREFIX = "proba_"
THRESHOLD_PREFIX = "threshold_"
MAX_NAMED = 10
"""Column lists in messages name at most this many columns."""


@dataclass(frozen=True)
class ColumnSchema:
    name: str
    dtype: str
    """The pandas dtype the training data had (``float64``, ``object``, ...)."""
    kind: str
    """What preprocessing made of it (:mod:`metaconf.targets.preprocess`); ``unknown`` for a model saved
    before metaconf recorded schemas."""


@dataclass
class ModelSchema:
    """What ``model.json`` holds (see the module docstring)."""

    tool: str
    model_file: str
    task_type: str
    target: str | None
    columns: list[ColumnSchema]
    ignored_columns: list[str] = field(default_factory=list)
    classes: list[str] | None = None
    label_type: str | None = None
    cost_matrix: list[list[float]] | None = None
    versions: dict[str, str] = field(default_factory=dict)
    recorded: bool = True
    """False for a model saved before metaconf recorded schemas (columns read from the model itself)."""

    @property
    def required(self) -> list[str]:
        """Columns the model reads (preprocessing dropped the others: ids, free text, constants)."""
        return [c.name for c in self.columns if c.kind != "dropped"]

    def labels(self) -> list[Any] | None:
        """The classes as the model predicts them (``1`` not ``"1"``, ``True`` not ``"True"``)."""
        if self.classes is None:
            return None
        if self.label_type == "int":
            return [int(c) for c in self.classes]
        if self.label_type == "bool":
            return [c == "True" for c in self.classes]
        return list(self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SCHEMA_FORMAT,
            "tool": self.tool,
            "model_file": self.model_file,
            "task_type": self.task_type,
            "target": self.target,
            "columns": [{"name": c.name, "dtype": c.dtype, "kind": c.kind} for c in self.columns],
            "ignored_columns": list(self.ignored_columns),
            "classes": self.classes,
            "label_type": self.label_type,
            "cost_matrix": self.cost_matrix,
            "versions": dict(self.versions),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSchema:
        return cls(
            tool=str(data["tool"]),
            model_file=str(data["model_file"]),
            task_type=str(data["task_type"]),
            target=None if data.get("target") is None else str(data["target"]),
            columns=[ColumnSchema(str(c["name"]), str(c["dtype"]), str(c["kind"])) for c in data["columns"]],
            ignored_columns=[str(c) for c in data.get("ignored_columns") or []],
            classes=None if data.get("classes") is None else [str(c) for c in data["classes"]],
            label_type=data.get("label_type"),
            cost_matrix=data.get("cost_matrix"),
            versions={str(k): str(v) for k, v in (data.get("versions") or {}).items()},
        )


# --------------------------------------------------------------------------------------------- writing
def training_schema(
    config: Config,
    dataset: Dataset,
    evaluator: Evaluator,
    *,
    tool: str,
    model_file: str,
    classes: Sequence[Any] | None = None,
    cost_matrix: list[list[float]] | None = None,
    versions: dict[str, str] | None = None,
) -> ModelSchema:
    """The schema of the data ``evaluator`` was built on (its column decisions, the dataset's dtypes).

    ``classes`` in the order of the model's probability columns (default: the evaluator's, sorted).
    """
    from metaconf.data.labels import label_key

    X = dataset.X
    dtypes = {str(name): str(dtype) for name, dtype in X.dtypes.items()}
    columns = [ColumnSchema(d.name, dtypes.get(d.name, "object"), d.kind) for d in evaluator.plan.columns]
    if classes is None:
        classes = evaluator.classes
    keys = label_type = None
    if classes is not None:
        keys = [label_key(c) for c in classes]
        label_type = _label_type(tuple(classes))
    return ModelSchema(
        tool=tool,
        model_file=model_file,
        task_type=evaluator.task_type,
        target=None if dataset.y.name is None else str(dataset.y.name),
        columns=columns,
        ignored_columns=[str(c) for c in config.data.ignore_columns],
        classes=keys,
        label_type=label_type,
        cost_matrix=cost_matrix,
        versions=dict(versions or {}),
    )


def _label_type(classes: tuple[Any, ...]) -> str:
    import numbers

    if all(isinstance(c, bool) or type(c).__name__ == "bool_" for c in classes):
        return "bool"
    if all(isinstance(c, numbers.Integral) for c in classes):
        return "int"
    return "str"


def write_schema(run_dir: Path, schema: ModelSchema) -> Path:
    """Write ``run_dir/model.json`` atomically (replacing the one of an earlier save)."""
    from metaconf.io import atomic_write_text

    return atomic_write_text(run_dir / SCHEMA_FILE, json.dumps(schema.to_dict(), indent=2) + "\n", force=True)


# --------------------------------------------------------------------------------------------- loading
@dataclass
class SavedModel:
    """A run's model, loaded, with its schema."""

    run_dir: Path
    schema: ModelSchema
    model: Any
    """The fitted scikit-learn estimator (SMAC), or the path of auto-sklearn's pickle (it loads only in
    auto-sklearn's environment)."""
    notes: list[str] = field(default_factory=list)


def read_schema(run_dir: Path) -> ModelSchema | None:
    """``run_dir/model.json``, or None when the run saved none; a damaged file raises :class:`UsageError`."""
    path = run_dir / SCHEMA_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != SCHEMA_FORMAT:
            raise ValueError(f"expected a JSON object with format {SCHEMA_FORMAT}")
        return ModelSchema.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(
            f"cannot read `{path}`: {error}",
            "the file is damaged; run the config again with `metaconf run CONFIG --save-model`",
        ) from None


def load_saved_model(run_dir: str | Path) -> SavedModel:
    """The model a run saved, with its schema. Raises :class:`UsageError` (one line, exit 2) when the run
    directory does not exist, holds no saved model, or the model file cannot be loaded."""
    from metaconf.report import results as rr

    directory = Path(run_dir)
    if not directory.exists():
        raise UsageError(
            f"the run directory `{directory}` does not exist", "pass a directory written by `metaconf run`"
        )
    if not directory.is_dir():
        raise UsageError(
            f"`{directory}` is not a directory", "pass a run directory written by `metaconf run`"
        )
    schema = read_schema(directory)
    if schema is None and (directory / rr.MODEL_FILE).exists():
        schema = _schema_of_unrecorded_model(directory)
    if schema is None:
        if not (directory / rr.RESULTS_FILE).exists():
            raise UsageError(
                f"`{directory}` holds no metaconf run (no {rr.RESULTS_FILE})",
                "pass a run directory written by `metaconf run CONFIG --save-model`",
            )
        again = "`metaconf run CONFIG --save-model`"
        try:
            if rr.read_results(directory).tool == "auto-sklearn":
                again = "`metaconf run CONFIG --save-model --overwrite` (auto-sklearn cannot resume a search)"
        except UsageError:
            pass
        raise UsageError(
            f"the run in `{directory}` saved no model", f"run its config with {again} to save one"
        )
    path = directory / schema.model_file
    if not path.is_file():
        raise UsageError(
            f"`{path}` does not exist (named by {SCHEMA_FILE})",
            "run the config again with `metaconf run CONFIG --save-model`",
        )
    if schema.tool == "auto-sklearn":
        return SavedModel(directory, schema, path)
    model, notes = _load_joblib(path, schema)
    return SavedModel(directory, schema, model, notes)


def _load_joblib(path: Path, schema: ModelSchema) -> tuple[Any, list[str]]:
    import joblib

    notes: list[str] = []
    saved_with = schema.versions.get("scikit-learn")
    installed = _installed("scikit-learn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = joblib.load(path)
        except Exception as error:
            versions = (
                f" (saved with scikit-learn {saved_with}, installed {installed})"
                if saved_with and saved_with != installed
                else ""
            )
            raise UsageError(
                f"cannot load the model `{path}`{versions}: {type(error).__name__}: {_first_line(error)}",
                "the file is damaged or was written by other library versions; run the config again with "
                "`metaconf run CONFIG --save-model`",
            ) from None
    if any(type(w.message).__name__ == "InconsistentVersionWarning" for w in caught):
        notes.append(
            f"the model was saved with scikit-learn {saved_with or 'another version'} and is loaded with "
            f"{installed}: predictions may differ; re-run with --save-model to be sure"
        )
    if not hasattr(model, "predict"):
        raise UsageError(
            f"`{path}` holds a {type(model).__name__}, not a model with `predict`",
            "run the config again with `metaconf run CONFIG --save-model`",
        )
    return model, notes


def _schema_of_unrecorded_model(run_dir: Path) -> ModelSchema:
    """A schema for a model saved before metaconf wrote ``model.json``: columns from the model itself."""
    from metaconf.report import results as rr

    model, _ = _load_joblib(run_dir / rr.MODEL_FILE, ModelSchema("smac", rr.MODEL_FILE, "unknown", None, []))
    names = [str(n) for n in getattr(model, "feature_names_in_", [])]
    if not names:
        raise UsageError(
            f"`{run_dir / rr.MODEL_FILE}` records no feature names and the run has no {SCHEMA_FILE}",
            "run the config again with `metaconf run CONFIG --save-model`",
        )
    target = None
    config_path = run_dir / rr.CONFIG_FILE
    if config_path.exists():
        from metaconf.config.loader import LoadError, load_file

        try:  # the same limits as every config metaconf reads: size, aliases, tags
            target = ((load_file(config_path).data or {}).get("task") or {}).get("target")
        except (LoadError, OSError, AttributeError):
            target = None
    return ModelSchema(
        tool="smac",
        model_file=rr.MODEL_FILE,
        task_type="classification" if hasattr(model, "classes_") else "regression",
        target=target,
        columns=[ColumnSchema(n, "unknown", "unknown") for n in names],
        recorded=False,
    )


def _installed(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else "(no message)"


# ------------------------------------------------------------------------------------------- the columns
def check_columns(frame: pd.DataFrame, schema: ModelSchema, source: str) -> tuple[pd.DataFrame, list[str]]:
    """The feature frame the model reads (training columns, training order; a column preprocessing dropped
    may be absent), and notes on ignored columns. Raises :class:`UsageError` for missing columns or a
    numeric column that holds text."""
    from metaconf.targets.preprocess import MISSING_MARKERS, PARSE_FRACTION

    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    known = {c.name for c in schema.columns}
    present = set(frame.columns)
    missing = [name for name in schema.required if name not in present]
    extra = [name for name in frame.columns if name not in known]
    if missing:
        message = (
            f"`{source}` lacks {len(missing)} of the {len(schema.required)} columns the model was trained on: "
            + _names(missing)
        )
        unexpected = [name for name in extra if name != schema.target and name not in schema.ignored_columns]
        if unexpected:
            message += "; columns it was not trained on: " + _names(unexpected)
        raise UsageError(message, "add the missing columns (an empty cell is imputed like a gap in training)")

    notes = []
    if extra:
        kinds = []
        for name in extra:
            if name == schema.target:
                kinds.append(f"`{name}` (the target)")
            elif name in schema.ignored_columns:
                kinds.append(f"`{name}` (data.ignore_columns)")
            else:
                kinds.append(f"`{name}`")
        shown = kinds[:MAX_NAMED] + ([f"and {len(kinds) - MAX_NAMED} more"] if len(kinds) > MAX_NAMED else [])
        notes.append(
            f"ignored {len(extra)} column{'s' if len(extra) > 1 else ''} the model was not trained on: "
            + ", ".join(shown)
        )

    import pandas as pd

    for column in schema.columns:
        if column.kind != "numeric" or column.name not in present:
            continue
        values = frame[column.name]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        text = values.dropna().astype(str).str.strip()
        informative = text[~text.str.lower().isin(MISSING_MARKERS)]
        parsed = pd.to_numeric(informative, errors="coerce")
        bad = informative[parsed.isna()]
        if len(bad) and len(bad) > (1 - PARSE_FRACTION) * len(informative):
            raise UsageError(
                f"column `{column.name}` of `{source}` holds text in {len(bad)} of {len(informative)} rows "
                f"(e.g. {bad.iloc[0]!r}); the model was trained on it as numbers ({column.dtype})",
                "fix those values, or leave them empty to have them imputed",
            )
    X = frame.reindex(columns=[c.name for c in schema.columns])  # a dropped column may be absent: NaN
    return X, notes


def _names(names: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:MAX_NAMED])
    return shown + (f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else "")


# ------------------------------------------------------------------------------------------- predicting
@dataclass
class Predictions:
    """What :func:`predict` returns: one row per input row, in input order."""

    frame: pd.DataFrame
    """The predicted label (or value) in a column named after the target; with ``proba`` one
    ``proba_<class>`` column per class, and for binary tasks ``threshold_<positive class>``."""
    notes: list[str] = field(default_factory=list)
    threshold: Threshold | None = None


@dataclass(frozen=True)
class Threshold:
    """The rule a binary model's labels follow: ``positive`` from P(positive) >= ``value`` on."""

    value: float
    positive: Any
    why: str

    def note(self) -> str:
        return (
            f"decision threshold: `{self.positive}` when P({self.positive}) >= {self.value:.4g} ({self.why})"
        )


def predict_sklearn(
    saved: SavedModel, X: pd.DataFrame, *, proba: bool
) -> tuple[Any, Any, list[Any] | None, Threshold | None]:
    import numpy as np

    model = saved.model
    classification = saved.schema.task_type == "classification" and hasattr(model, "classes_")
    classes = list(model.classes_) if classification else None
    has_proba = classification and _has_proba(model)
    if proba and not has_proba:
        raise UsageError(
            f"the saved model ({type(_final_step(model)).__name__}) gives no probabilities",
            "drop --proba (an SVM without calibration decides by its margin)",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            labels = np.asarray(model.predict(X))
            probabilities = np.asarray(model.predict_proba(X), dtype=float) if proba else None
        except UsageError:
            raise
        except Exception as error:
            raise UsageError(
                f"the model could not predict these rows: {type(error).__name__}: {_first_line(error)}",
                "check that the columns hold the same kind of values as the training data",
            ) from None
    threshold = (
        _sklearn_threshold(model, classes)
        if classes is not None and len(classes) == 2 and has_proba
        else None
    )
    return labels, probabilities, classes, threshold


def _final_step(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def _has_proba(model: Any) -> bool:
    if not hasattr(model, "predict_proba"):
        return False
    final = _final_step(model)
    inner = getattr(final, "estimator_", None)
    if type(final).__name__ == "CostSensitiveClassifier" and inner is not None:
        return hasattr(inner, "predict_proba")
    return True


def _sklearn_threshold(model: Any, classes: list[Any]) -> Threshold:
    final = _final_step(model)
    if type(final).__name__ == "FixedThresholdClassifier":
        return Threshold(
            float(final.threshold), final.pos_label, "chosen on the validation predictions; see results.json"
        )
    metric = getattr(final, "metric", None)
    if (
        type(final).__name__ == "CostSensitiveClassifier"
        and metric is not None
        and metric.cost_matrix is not None
    ):
        from metaconf.targets.threshold import natural_threshold

        return Threshold(
            natural_threshold(metric, classes[1]), classes[1], "the cost matrix's Bayes decision"
        )
    return Threshold(0.5, classes[1], "the most probable class")


def bayes_threshold(cost_matrix: list[list[float]], classes: list[Any]) -> Threshold:
    """The threshold on P(classes[1]) at which the cheaper expected decision switches (binary cost matrix)."""
    alarm = cost_matrix[0][1] - cost_matrix[0][0]  # predicting classes[1] for a classes[0] row
    miss = cost_matrix[1][0] - cost_matrix[1][1]
    value = 0.5 if miss + alarm <= 0 else float(alarm / (miss + alarm))
    return Threshold(value, classes[1], "the cost matrix's Bayes decision")


def assemble_predictions(
    schema: ModelSchema,
    labels: Any,
    probabilities: Any,
    classes: list[Any] | None,
    threshold: Threshold | None,
    notes: list[str],
) -> Predictions:
    import pandas as pd

    from metaconf.data.labels import label_key

    name = schema.target or "prediction"
    columns: dict[str, Any] = {name: labels}
    if probabilities is not None and classes is not None:
        for j, cls in enumerate(classes):
            columns[PROBA_PREFIX + label_key(cls)] = probabilities[:, j]
        if threshold is not None:
            columns[THRESHOLD_PREFIX + label_key(threshold.positive)] = threshold.value
    if threshold is not None:
        notes = [*notes, threshold.note()]
    return Predictions(pd.DataFrame(columns), notes, threshold)
