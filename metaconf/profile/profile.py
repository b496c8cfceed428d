"""The data profile: what the advisor, the lint rules and the user need to know about a dataset.

Rows, columns and their kinds (numeric, categorical, boolean, text, datetime, id-like, constant: each with
the reason), per-column missing ratio and cardinality, the target (kind, classes, class balance), duplicate
rows, and the memory footprint.

Column kinds follow the decisions of the preprocessing (:func:`metaconf.targets.preprocess.plan_columns`), so
the profile says what a run will actually do with each column (``treatment``): a column the profile calls
``id-like``, ``text`` or ``constant`` is dropped by the preprocessor, for the reason shown.

Large data is profiled on a sample, and the profile says so (``sampled``, ``rows_profiled``):

* :func:`profile_path` reads a CSV/TSV file larger than ``LARGE_FILE_MB`` by sampling ``max_rows`` rows
  uniformly at random (every row is parsed, only the sampled rows are kept); ``n_rows`` is still the exact row
  count of the file, and the target's class counts are extrapolated from the sample;
* :func:`profile_dataset` computes cheap statistics (row count, missing ratios, class counts) on all rows, and
  the expensive ones (column kinds, cardinality, duplicates, memory) on a uniform random sample of ``max_rows``
  rows once the data has more.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from metaconf.data.load import DataError, Dataset, infer_task_type

if TYPE_CHECKING:
    import pandas as pd

ColumnKind = Literal["numeric", "categorical", "boolean", "text", "datetime", "id-like", "constant"]
COLUMN_KINDS: tuple[ColumnKind, ...] = ("numeric", "categorical", "boolean", "text", "datetime", "id-like", "constant")

MAX_ROWS = 100_000
"""Rows beyond this are sampled for the expensive statistics."""
LARGE_FILE_MB = 256.0
"""CSV/TSV files larger than this are read as a row sample by :func:`profile_path`."""

_BOOLEAN_PAIRS = (
    {"0", "1"}, {"true", "false"}, {"t", "f"}, {"yes", "no"}, {"y", "n"}, {"1.0", "0.0"}, {"-1", "1"},
)  # fmt: skip
_TOP_VALUES = 5
_FEW_NUMERIC_VALUES = 10
"""A numeric column with at most this many distinct values gets a hint that it may be a coded category."""


@dataclass(frozen=True)
class ColumnProfile:
    """One feature column."""

    name: str
    kind: ColumnKind
    reason: str
    """Why the column is of this kind (the preprocessing's own reason when it drops the column)."""
    treatment: str
    """What a run does with it: `numeric`, `categorical`, `high_cardinality`, `datetime` or `dropped`."""
    dtype: str
    missing_ratio: float
    n_unique: int
    """Distinct non-missing values (in the profiled rows)."""
    unique_ratio: float
    """``n_unique`` / non-missing values."""
    top_values: list[tuple[str, int]] = field(default_factory=list)
    """The most frequent values with their counts (categorical and boolean columns)."""
    stats: dict[str, float] = field(default_factory=dict)
    """``min``, ``max``, ``mean``, ``std`` of numeric columns."""


@dataclass(frozen=True)
class TargetProfile:
    """The target column."""

    name: str
    task_type: str
    """`classification` or `regression`."""
    kind: Literal["binary", "multiclass", "continuous", "single-class"]
    dtype: str
    missing: int
    """Rows whose target is missing (a run drops them)."""
    class_counts: dict[str, int] = field(default_factory=dict)
    """Class -> rows, most frequent first (classification only)."""
    stats: dict[str, float] = field(default_factory=dict)
    """``min``, ``max``, ``mean``, ``std``, ``skew`` (regression only)."""

    @property
    def n_classes(self) -> int:
        return len(self.class_counts)

    @property
    def imbalance_ratio(self) -> float:
        """Majority / minority class count; 1.0 when balanced or not a classification target."""
        if len(self.class_counts) < 2:
            return 1.0
        return max(self.class_counts.values()) / max(1, min(self.class_counts.values()))

    @property
    def minority_class(self) -> str | None:
        if len(self.class_counts) < 2:
            return None
        return min(self.class_counts, key=lambda label: (self.class_counts[label], label))

    @property
    def min_class_count(self) -> int:
        return min(self.class_counts.values()) if self.class_counts else 0


@dataclass(frozen=True)
class DataProfile:
    """Everything the profile found. ``to_dict()`` is JSON-serialisable (``metaconf profile --format json``)."""

    name: str
    source: str
    n_rows: int
    """Rows in the data (all of them, also when the statistics come from a sample)."""
    n_features: int
    columns: list[ColumnProfile]
    target: TargetProfile | None
    rows_profiled: int
    """Rows the column statistics were computed on."""
    sampled: bool
    """True when the column statistics come from a random sample of ``rows_profiled`` rows."""
    missing_ratio: float
    """Missing feature cells / all feature cells."""
    rows_with_missing_ratio: float
    duplicate_rows: int
    """Rows identical to an earlier one (features and target), in the profiled rows."""
    conflicting_duplicates: int
    """Rows whose features repeat an earlier row but whose target differs (label noise), in the profiled rows."""
    memory_mb: float
    """Memory the data takes in pandas (deep), extrapolated from the sample when sampled."""
    seconds: float
    """Walltime of profiling (and reading, for :func:`profile_path`)."""
    notes: list[str] = field(default_factory=list)
    """What was sampled or estimated, and other things worth knowing."""

    @property
    def task_type(self) -> str | None:
        return self.target.task_type if self.target else None

    def kind_counts(self) -> dict[str, int]:
        """Column kind -> number of feature columns of that kind (every kind present, zeros included)."""
        counts: dict[str, int] = dict.fromkeys(COLUMN_KINDS, 0)
        for column in self.columns:
            counts[column.kind] += 1
        return counts

    def columns_of(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    @property
    def n_used_features(self) -> int:
        """Feature columns the preprocessing keeps."""
        return sum(c.treatment != "dropped" for c in self.columns)

    @property
    def n_encoded_features(self) -> int:
        """Width of the preprocessed matrix: one column per numeric, 4 per datetime, one per category (at most
        32 for high-cardinality columns), plus missing indicators; what a model actually fits on."""
        from metaconf.targets.preprocess import DATETIME_PARTS, MAX_CATEGORIES

        width = 0
        for c in self.columns:
            indicator = 1 if c.missing_ratio > 0 else 0
            if c.treatment == "numeric":
                width += 1 + indicator
            elif c.treatment == "datetime":
                width += len(DATETIME_PARTS) * (1 + indicator)
            elif c.treatment == "categorical":
                width += max(1, c.n_unique)
            elif c.treatment == "high_cardinality":
                width += min(c.n_unique, MAX_CATEGORIES)
        return width

    @property
    def n_onehot_features(self) -> int:
        """How many of the :attr:`n_encoded_features` columns are one-hot indicators of a category: they cost a
        tree far less than a continuous column (the cost model weighs them apart)."""
        from metaconf.targets.preprocess import MAX_CATEGORIES

        width = 0
        for c in self.columns:
            if c.treatment == "categorical":
                width += max(1, c.n_unique)
            elif c.treatment == "high_cardinality":
                width += min(c.n_unique, MAX_CATEGORIES)
        return width

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind_counts"] = self.kind_counts()
        data["n_encoded_features"] = self.n_encoded_features
        data["n_onehot_features"] = self.n_onehot_features
        if self.target is not None:
            data["target"]["n_classes"] = self.target.n_classes
            data["target"]["imbalance_ratio"] = round(self.target.imbalance_ratio, 4)
            data["target"]["minority_class"] = self.target.minority_class
        for column in data["columns"]:
            column["top_values"] = [list(pair) for pair in column["top_values"]]
        return data


def profile_dataset(dataset: Dataset, *, max_rows: int = MAX_ROWS, seed: int = 0) -> DataProfile:
    """Profile a loaded :class:`~metaconf.data.load.Dataset` (features ``X`` and target ``y``)."""
    started = time.perf_counter()
    frame = dataset.X.copy(deep=False)
    target = str(dataset.y.name) if dataset.y.name is not None else "target"
    if target in frame.columns:
        target = f"{target} (target)"
    frame[target] = dataset.y.to_numpy()
    return _profile_frame(
        frame,
        target,
        name=dataset.name,
        source=dataset.source,
        task_type=dataset.task_type,
        n_rows_total=None,
        max_rows=max_rows,
        seed=seed,
        started=started,
        notes=[],
    )


def profile_path(
    path: str | Path,
    target: str | None = None,
    *,
    max_rows: int = MAX_ROWS,
    seed: int = 0,
    large_file_mb: float = LARGE_FILE_MB,
) -> DataProfile:
    """Read and profile a data file (CSV, TSV, Parquet, ARFF). ``target`` None profiles the features only,
    unless a column is named like a target (``target``, ``class``, ``label``, ``y``): then that one is used and
    a note says so. Raises :class:`DataError` for a missing / unreadable file or an unknown target column."""
    from metaconf.data.load import _read_table

    started = time.perf_counter()
    file = Path(path).expanduser()
    if not file.exists():
        raise DataError(f"the data file `{file}` does not exist", "check the path")
    if file.is_dir():
        raise DataError(f"the data path `{file}` is a directory", "point at a CSV, Parquet or ARFF file")
    notes: list[str] = []
    size_mb = file.stat().st_size / 2**20
    n_rows_total: int | None = None
    if size_mb > large_file_mb and _is_delimited(file):
        frame, n_rows_total = _read_csv_sample(file, max_rows, seed)
        notes.append(
            f"the file is {size_mb:,.0f} MB: {len(frame):,} of its {n_rows_total:,} rows were sampled at random "
            f"(seed {seed}); class counts and memory are extrapolated"
        )
    else:
        frame = _read_table(file)
    if frame.shape[0] == 0:
        raise DataError(f"`{file}` has no rows", "check the file; it holds only a header or nothing")
    if target is None:
        target = _guess_target(frame)
        if target is not None:
            notes.append(f"no target given: profiled `{target}` as the target (named like one); pass --target to choose")
    elif target not in frame.columns:
        from difflib import get_close_matches

        close = get_close_matches(target, [str(c) for c in frame.columns], n=1)
        raise DataError(
            f"`{file}` has no column `{target}`",
            ("did you mean `" + close[0] + "`? " if close else "")
            + "columns: "
            + ", ".join(f"`{c}`" for c in frame.columns[:50]),
        )
    return _profile_frame(
        frame,
        target,
        name=file.name,
        source=str(file),
        task_type=None,
        n_rows_total=n_rows_total,
        max_rows=max_rows,
        seed=seed,
        started=started,
        notes=notes,
    )


def _guess_target(frame: pd.DataFrame) -> str | None:
    by_lower = {str(c).lower(): str(c) for c in frame.columns}
    for name in ("target", "class", "label", "y", "outcome"):
        if name in by_lower:
            return by_lower[name]
    return None


def _is_delimited(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz"))


def _read_csv_sample(path: Path, max_rows: int, seed: int) -> tuple[pd.DataFrame, int]:
    """A uniform random sample of ``max_rows`` data rows and the file's row count. Rows are counted by line
    breaks (a quoted field with a line break makes the count slightly high; the sample stays uniform)."""
    import gzip

    import numpy as np
    import pandas as pd

    from metaconf.data.load import sniff_delimiter

    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    lines, last = 0, b"\n"
    with opener(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 24), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1  # a last line without a line break
    n_rows = max(0, lines - 1)
    if n_rows <= max_rows:
        return pd.read_csv(path, sep=sniff_delimiter(path)), n_rows
    rng = np.random.default_rng(seed)
    keep = np.zeros(n_rows + 2, dtype=bool)
    keep[0] = True
    keep[rng.choice(np.arange(1, n_rows + 1), size=max_rows, replace=False)] = True
    frame = pd.read_csv(path, sep=sniff_delimiter(path), skiprows=lambda i: not keep[i] if i < len(keep) else True)
    return frame, n_rows


def _profile_frame(
    frame: pd.DataFrame,
    target: str | None,
    *,
    name: str,
    source: str,
    task_type: str | None,
    n_rows_total: int | None,
    max_rows: int,
    seed: int,
    started: float,
    notes: list[str],
) -> DataProfile:
    import pandas as pd

    from metaconf.targets.preprocess import plan_columns

    n_rows = int(frame.shape[0])
    total_rows = n_rows_total if n_rows_total is not None else n_rows
    file_sampled = n_rows_total is not None and n_rows_total > n_rows
    frame.columns = [str(c) for c in frame.columns]
    features = frame.drop(columns=[target]) if target is not None else frame

    sample = frame
    if n_rows > max_rows:
        sample = frame.sample(n=max_rows, random_state=seed)
        notes.append(
            f"column kinds, cardinality, duplicates and memory come from a random sample of {max_rows:,} of "
            f"{n_rows:,} rows (seed {seed}); row counts, missing ratios and class counts use every row read"
        )
    sampled = file_sampled or len(sample) < n_rows
    sample_features = sample.drop(columns=[target]) if target is not None else sample

    try:
        plan = plan_columns(sample_features)
    except Exception as error:  # UsageError for duplicate / non-string names
        raise DataError(str(getattr(error, "message", error)), getattr(error, "hint", None)) from None
    missing_per_column = features.isna().mean() if n_rows else pd.Series(0.0, index=features.columns)
    columns = [
        _column_profile(sample_features[d.name], d.kind, d.reason, float(missing_per_column[d.name]))
        for d in plan.columns
    ]

    cells = features.shape[0] * features.shape[1]
    missing_ratio = float(features.isna().to_numpy().sum() / cells) if cells else 0.0
    rows_with_missing = float(features.isna().any(axis=1).mean()) if n_rows and features.shape[1] else 0.0

    hashed_rows = pd.util.hash_pandas_object(sample, index=False)
    hashed_features = pd.util.hash_pandas_object(sample_features, index=False) if sample_features.shape[1] else None
    duplicate_rows = int(hashed_rows.duplicated().sum())
    conflicting = 0
    if target is not None and hashed_features is not None:
        conflicting = int(hashed_features.duplicated().sum()) - duplicate_rows

    memory_mb = float(sample.memory_usage(deep=True).sum()) / 2**20 * (total_rows / max(1, len(sample)))

    target_profile = None
    if target is not None:
        target_profile = _target_profile(frame[target], task_type, scale=total_rows / max(1, n_rows))
        if target_profile.missing:
            notes.append(f"{target_profile.missing:,} rows have no target value; a run drops them")
        if target_profile.kind == "single-class":
            notes.append(f"the target `{target}` has a single class: classification needs at least two")
        if target_profile.imbalance_ratio >= 10:
            notes.append(
                f"the classes are imbalanced ({target_profile.imbalance_ratio:.0f}:1); consider balanced_accuracy, "
                "f1 or a cost matrix instead of accuracy"
            )
    if duplicate_rows:
        notes.append(f"{duplicate_rows:,} duplicate rows: they can leak between training and validation splits")
    if conflicting > 0:
        notes.append(f"{conflicting:,} rows repeat another row's features with a different target (label noise)")
    dropped = [c for c in columns if c.treatment == "dropped"]
    if dropped:
        notes.append("dropped by the preprocessing: " + ", ".join(f"`{c.name}` ({c.kind})" for c in dropped))

    return DataProfile(
        name=name,
        source=source,
        n_rows=int(total_rows),
        n_features=int(features.shape[1]),
        columns=columns,
        target=target_profile,
        rows_profiled=len(sample),
        sampled=sampled,
        missing_ratio=missing_ratio,
        rows_with_missing_ratio=rows_with_missing,
        duplicate_rows=duplicate_rows,
        conflicting_duplicates=max(0, conflicting),
        memory_mb=round(memory_mb, 3),
        seconds=round(time.perf_counter() - started, 3),
        notes=notes,
    )


def _column_profile(series: pd.Series, treatment: str, reason: str, missing_ratio: float) -> ColumnProfile:
    import pandas as pd

    non_null = series.dropna()
    n_unique = int(non_null.nunique())
    unique_ratio = n_unique / len(non_null) if len(non_null) else 0.0
    kind: ColumnKind
    if treatment == "dropped":
        lowered = reason.lower()
        if lowered.startswith("id-like"):
            kind = "id-like"
        elif lowered.startswith("free text"):
            kind = "text"
        else:
            kind = "constant"
    elif treatment == "datetime":
        kind = "datetime"
    elif n_unique == 2 and (pd.api.types.is_bool_dtype(series) or _looks_boolean(non_null)):
        kind = "boolean"
        values = sorted(str(v) for v in non_null.unique())
        reason = f"two values: {values[0]} / {values[1]}"
    elif treatment == "numeric":
        kind = "numeric"
        if 2 < n_unique <= _FEW_NUMERIC_VALUES and len(non_null) >= 10 * n_unique:
            reason += f"; only {n_unique} distinct values: an ordinal or a category coded as numbers?"
    else:
        kind = "categorical"

    top: list[tuple[str, int]] = []
    stats: dict[str, float] = {}
    if kind in ("categorical", "boolean", "constant") and len(non_null):
        top = [(_label(k), int(v)) for k, v in non_null.value_counts().head(_TOP_VALUES).items()]
    if kind == "numeric" and len(non_null):
        numbers = pd.to_numeric(non_null, errors="coerce").astype(float)
        numbers = numbers[numbers.abs() != float("inf")]
        if len(numbers):
            stats = {
                "min": float(numbers.min()),
                "max": float(numbers.max()),
                "mean": float(numbers.mean()),
                "std": float(numbers.std(ddof=0)),
            }
    return ColumnProfile(
        name=str(series.name),
        kind=kind,
        reason=reason,
        treatment=treatment,
        dtype=str(series.dtype),
        missing_ratio=round(missing_ratio, 6),
        n_unique=n_unique,
        unique_ratio=round(unique_ratio, 6),
        top_values=top,
        stats=stats,
    )


def _looks_boolean(values: pd.Series) -> bool:
    seen = {_label(v).lower() for v in values.unique()}
    return any(seen == pair for pair in _BOOLEAN_PAIRS)


def _label(value: Any) -> str:
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _target_profile(y: pd.Series, task_type: str | None, *, scale: float) -> TargetProfile:
    import pandas as pd

    missing = int(y.isna().sum())
    present = y.dropna()
    task = task_type or (infer_task_type(present) if len(present) else "classification")
    name = str(y.name)
    if task == "regression":
        numbers = pd.to_numeric(present, errors="coerce").astype(float)
        # pandas' stubs type skew() as a scalar in some releases and a Series-or-scalar in others
        skew: Any = numbers.skew() if len(numbers) > 2 else 0.0
        return TargetProfile(
            name=name,
            task_type=task,
            kind="continuous",
            dtype=str(y.dtype),
            missing=round(missing * scale),
            stats={
                "min": float(numbers.min()),
                "max": float(numbers.max()),
                "mean": float(numbers.mean()),
                "std": float(numbers.std(ddof=0)),
                "skew": float(skew),
            },
        )
    counts = {_label(k): round(int(v) * scale) for k, v in present.value_counts().items()}
    kind: Literal["binary", "multiclass", "single-class"] = (
        "binary" if len(counts) == 2 else "multiclass" if len(counts) > 2 else "single-class"
    )
    return TargetProfile(
        name=name,
        task_type=task,
        kind=kind,
        dtype=str(y.dtype),
        missing=round(missing * scale),
        class_counts=counts,
    )
