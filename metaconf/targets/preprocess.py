"""The preprocessing every built-in model gets, derived from the columns' types.

:func:`plan_columns` decides once what each column is; :func:`build_preprocessor` turns that decision into an
unfitted scikit-learn ``ColumnTransformer`` that the Evaluator puts *inside* the model's ``Pipeline``, so
imputation medians, scaling and category lists are learned on each training fold only (no leakage from the
validation or test rows).

========================  =====================================================================================
column                    treatment
========================  =====================================================================================
numeric                   float; ``inf`` -> missing; magnitudes clipped at 1e100; median imputation (+ a
                          missing-indicator column when the training rows have gaps); ``StandardScaler`` when
                          the model needs scaling
numbers stored as text    as numeric (>= 95 % of the values parse as numbers, e.g. a CSV with ``?`` for missing)
categorical / bool /      values as strings; most-frequent imputation; one-hot with unseen categories encoded
object                    as all zeros. High cardinality (> 10 distinct values): categories seen fewer than 5
                          times and all beyond the 31 most frequent share one "infrequent" column, which is also
                          where unseen categories go
datetime (or ISO date     expanded to year, month, day, day of week (numeric pipeline). Other calendar parts
strings)                  (hour, ...) are not used: keep them as separate columns if they matter
id-like                   dropped: text columns with a distinct value in (almost) every row, and integer columns
                          with all values distinct that are sorted or named like an id (``id``, ``*_id``)
free text                 dropped: long strings (>= 30 characters and >= 4 words on average), mostly distinct;
                          metaconf has no text featurizer
constant / empty          dropped: one value and no gaps, or no values at all
========================  =====================================================================================

:func:`describe_preprocessor` says, per column, what was decided and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from metaconf.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.compose import ColumnTransformer

NUMERIC, CATEGORICAL, HIGH_CARDINALITY, DATETIME, DROPPED = (
    "numeric",
    "categorical",
    "high_cardinality",
    "datetime",
    "dropped",
)
LOW_CARDINALITY_MAX = 10
"""Categorical columns with more distinct values get infrequent-category grouping."""
MIN_CATEGORY_COUNT = 5
"""High-cardinality categories seen fewer times than this are grouped as infrequent."""
MAX_CATEGORIES = 32
"""At most this many one-hot columns per high-cardinality column (the last one: infrequent)."""
PARSE_FRACTION = 0.95
"""Text columns whose values parse as numbers / dates at least this often are numeric / datetime."""
FLOAT_LIMIT = 1e100
"""Numeric values are clipped to +-FLOAT_LIMIT (squares must stay finite for scaling and linear models)."""
MISSING_MARKERS = frozenset({"", "?", "-", "na", "n/a", "nan", "null", "none", "missing"})
"""Values in a numbers-as-text column that mean "missing" (they become NaN)."""
ID_UNIQUE_RATIO = 0.95
TEXT_MIN_CHARS = 30
TEXT_MIN_WORDS = 4
DATETIME_PARTS = ("year", "month", "day", "dayofweek")  # feature-name suffixes

_ISO_DATE = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key)$|^(id|uuid|guid)([_\s.-]|$)", re.IGNORECASE)
_SAMPLE = 2000


@dataclass(frozen=True)
class ColumnDecision:
    name: str
    kind: str
    """`numeric`, `categorical`, `high_cardinality`, `datetime` or `dropped`."""
    reason: str


@dataclass(frozen=True)
class PreprocessPlan:
    """What :func:`build_preprocessor` does with each column, in the frame's column order."""

    columns: tuple[ColumnDecision, ...]

    def of_kind(self, kind: str) -> list[str]:
        return [c.name for c in self.columns if c.kind == kind]

    @property
    def used(self) -> list[str]:
        return [c.name for c in self.columns if c.kind != DROPPED]

    @property
    def dropped(self) -> dict[str, str]:
        """Dropped column -> why."""
        return {c.name: c.reason for c in self.columns if c.kind == DROPPED}

    def describe(self) -> list[str]:
        """One line per column: ``name: kind (reason)``."""
        return [f"{c.name}: {c.kind} ({c.reason})" for c in self.columns]


def plan_columns(X: pd.DataFrame) -> PreprocessPlan:
    """Decide what each column of ``X`` is (see the module docstring). Deterministic; looks at most at a
    sample of 2,000 values per column for the text checks."""
    import pandas as pd

    _check_column_names(X)
    decisions = []
    for name in X.columns:
        kind, reason = _decide(str(name), X[name], pd)
        decisions.append(ColumnDecision(str(name), kind, reason))
    return PreprocessPlan(tuple(decisions))


def _decide(name: str, series: pd.Series, pd: Any) -> tuple[str, str]:
    types = pd.api.types
    non_null = series.dropna()
    n = len(non_null)
    if n == 0:
        return DROPPED, "all values missing"
    n_unique = int(non_null.nunique())
    has_missing = n < len(series)
    if n_unique == 1 and not has_missing:
        return DROPPED, f"constant: every row is `{_category(non_null.iloc[0])}`"
    if types.is_bool_dtype(series):
        return CATEGORICAL, "boolean"
    if types.is_datetime64_any_dtype(series):
        return DATETIME, "datetime values"
    if types.is_numeric_dtype(series):
        if types.is_integer_dtype(series) and n_unique == n and n >= 10:
            if _ID_NAME.search(name):
                return DROPPED, "id-like: distinct integers in a column named like an id"
            if non_null.is_monotonic_increasing or non_null.is_monotonic_decreasing:
                return DROPPED, "id-like: distinct, sorted integers (a row number)"
        return NUMERIC, f"numeric ({series.dtype})"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return _categorical(n_unique, "pandas category")

    sample = non_null.iloc[:_SAMPLE] if n > _SAMPLE else non_null
    as_text = sample.astype(str).str.strip()
    informative = as_text[~as_text.str.lower().isin(MISSING_MARKERS)]
    parsed = pd.to_numeric(informative, errors="coerce")
    if len(informative) and parsed.notna().mean() >= PARSE_FRACTION and parsed.nunique() > 2:
        return NUMERIC, f"numbers stored as text ({parsed.notna().mean():.0%} parse; `?`, `NA`, ... are gaps)"
    if as_text.str.match(_ISO_DATE).mean() >= PARSE_FRACTION:
        return DATETIME, "ISO date strings"
    ratio = n_unique / n
    lengths = as_text.str.len()
    words = as_text.map(lambda text: len(text.split()))
    if lengths.mean() >= TEXT_MIN_CHARS and words.mean() >= TEXT_MIN_WORDS and ratio > 0.5:
        return DROPPED, f"free text (on average {lengths.mean():.0f} characters, {words.mean():.0f} words)"
    if n >= 10 and (n_unique == n or (ratio >= ID_UNIQUE_RATIO and n_unique > 50)):
        return DROPPED, f"id-like: {n_unique} distinct values in {n} rows"
    return _categorical(n_unique, "text values")


def _categorical(n_unique: int, what: str) -> tuple[str, str]:
    if n_unique > LOW_CARDINALITY_MAX:
        return HIGH_CARDINALITY, f"{what}, {n_unique} categories: rare ones grouped"
    return CATEGORICAL, f"{what}, {n_unique} categories"


def _check_column_names(X: pd.DataFrame) -> None:
    names = list(X.columns)
    if not all(isinstance(c, str) for c in names):
        raise UsageError(
            "the feature columns must have string names; got " + ", ".join(repr(c) for c in names[:10]),
            "rename the columns (e.g. `X.columns = X.columns.astype(str)`)",
        )
    duplicates = sorted({c for c in names if names.count(c) > 1})
    if duplicates:
        raise UsageError(
            "the data has duplicate column names: " + ", ".join(f"`{c}`" for c in duplicates),
            "give every column a distinct name",
        )


def build_preprocessor(
    X: pd.DataFrame, *, scale: bool, plan: PreprocessPlan | None = None
) -> ColumnTransformer:
    """An unfitted ``ColumnTransformer`` for the columns of ``X`` (see the module docstring).

    ``plan`` reuses column decisions made once (the Evaluator decides on the search rows and reuses the plan
    for every trial, so decisions do not flip between folds). Raises :class:`UsageError` when no column is
    usable. Output is a dense float matrix (every built-in model accepts it).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    plan = plan if plan is not None else plan_columns(X)
    if not plan.used:
        raise UsageError(
            "no feature column is usable: " + "; ".join(f"`{k}` {v}" for k, v in plan.dropped.items()),
            "add feature columns, or remove the ones listed from `data.ignore_columns`",
        )

    def numeric_steps(first: Any) -> list[tuple[str, Any]]:
        steps: list[tuple[str, Any]] = [
            ("to_float", first),
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
        ]
        if scale:
            steps.append(("scale", StandardScaler()))
        return steps

    transformers: list[tuple[str, Any, list[str]]] = []
    if plan.of_kind(NUMERIC):
        to_float = FunctionTransformer(_to_float, feature_names_out="one-to-one")
        transformers.append(("numeric", Pipeline(numeric_steps(to_float)), plan.of_kind(NUMERIC)))
    if plan.of_kind(DATETIME):
        expand = FunctionTransformer(_expand_datetimes, feature_names_out=_datetime_names)
        transformers.append(("datetime", Pipeline(numeric_steps(expand)), plan.of_kind(DATETIME)))
    for kind, encoder in (
        (CATEGORICAL, OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        (
            HIGH_CARDINALITY,
            OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                min_frequency=MIN_CATEGORY_COUNT,
                max_categories=MAX_CATEGORIES,
                sparse_output=False,
            ),
        ),
    ):
        if plan.of_kind(kind):
            steps = [
                ("to_str", FunctionTransformer(_to_str, feature_names_out="one-to-one")),
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("encode", encoder),
            ]
            transformers.append((kind, Pipeline(steps), plan.of_kind(kind)))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def describe_preprocessor(X: pd.DataFrame | PreprocessPlan) -> list[str]:
    """Per column: what the preprocessor does with it and why (``name: kind (reason)``)."""
    plan = X if isinstance(X, PreprocessPlan) else plan_columns(X)
    return plan.describe()


# Module-level (not lambdas) so fitted pipelines pickle: Dask workers, saved models.
def _to_float(frame: pd.DataFrame) -> np.ndarray:
    import pandas as pd

    values = np.array(
        frame.apply(lambda col: pd.to_numeric(col, errors="coerce")).to_numpy(dtype=float, na_value=np.nan)
    )
    values[~np.isfinite(values)] = np.nan
    # beyond ~1e154 the scaler's variance overflows to inf; magnitudes this large carry order, not size
    np.clip(values, -FLOAT_LIMIT, FLOAT_LIMIT, out=values)
    return values


def _to_str(frame: pd.DataFrame) -> np.ndarray:
    """Categories as strings (one type per column, as OneHotEncoder needs), gaps as NaN for the imputer."""
    import pandas as pd

    out = np.empty(frame.shape, dtype=object)
    for j, name in enumerate(frame.columns):
        column = frame[name]
        missing = column.isna().to_numpy()
        present = column.to_numpy(dtype=object)[~missing]
        inferred = pd.api.types.infer_dtype(present, skipna=False)
        if inferred == "string":  # the common case, no per-value Python work
            out[~missing, j] = present
        elif inferred in ("integer", "boolean"):
            out[~missing, j] = present.astype(str)
        else:
            out[~missing, j] = [_category(v) for v in present]
        out[missing, j] = np.nan
    return out


def _category(value: Any) -> str:
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _expand_datetimes(frame: pd.DataFrame) -> np.ndarray:
    import pandas as pd

    columns = []
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            stamps = column.dt.tz_localize(None)  # the local calendar day, not UTC's
        elif pd.api.types.is_datetime64_any_dtype(column):
            stamps = column
        else:  # ISO strings; mixed UTC offsets need a common zone
            stamps = pd.to_datetime(column, errors="coerce", utc=True, format="ISO8601")
        columns.extend([stamps.dt.year, stamps.dt.month, stamps.dt.day, stamps.dt.day_of_week])
    return np.column_stack([c.to_numpy(dtype=float, na_value=np.nan) for c in columns])


def _datetime_names(transformer: Any, input_features: Any) -> np.ndarray:
    return np.asarray([f"{name}_{part}" for name in input_features for part in DATETIME_PARTS], dtype=object)


GAMMA_SAMPLE_ROWS = 5000
"""Rows :func:`scale_gamma` encodes at most (a seeded sample beyond that)."""


def scale_gamma(X: pd.DataFrame, *, seed: int = 0, max_rows: int = GAMMA_SAMPLE_ROWS) -> tuple[float, int, float] | None:
    """scikit-learn's ``gamma="scale"`` for an RBF kernel on the matrix the SVM really sees.

    ``1 / (n_columns * variance)`` of the encoded, scaled features (one-hot columns included: their variance is
    below 1, so the value is larger than ``1 / n_columns``). Returns ``(gamma, n_columns, variance)``, or None
    when no column is usable or the matrix is constant.
    """
    import warnings

    if len(X) > max_rows:
        X = X.sample(n=max_rows, random_state=seed)
    try:
        with warnings.catch_warnings():  # e.g. an all-missing column: the run says so, not this estimate
            warnings.simplefilter("ignore")
            encoded = build_preprocessor(X, scale=True).fit_transform(X)
    except UsageError:
        return None
    variance = float(np.var(encoded))
    if encoded.shape[1] == 0 or not np.isfinite(variance) or variance <= 0.0:
        return None
    return 1.0 / (encoded.shape[1] * variance), int(encoded.shape[1]), variance
