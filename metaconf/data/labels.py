"""Class labels, one way everywhere: how a classification target is normalised, matched and handed to
scikit-learn.

A target column arrives as whatever the file or the library made of it: ``0``/``1`` as integers, or as
floats ``0.0``/``1.0`` once a missing value made pandas widen the column; booleans; strings with stray
spaces (``" yes"``); a mix of ``1`` and ``"1"`` from a messy file. :func:`normalize_labels` turns each of these
into ONE label type, and every part of metaconf that touches labels (the loader, the evaluator, the metrics,
the cost matrix, the auto-sklearn worker's CSV files) works on the normalised labels:

============================================  ============================================
the column holds                              labels become
============================================  ============================================
booleans                                      ``bool``
whole numbers (ints, or floats like ``1.0``)  ``int`` (``0.0``/``1.0`` -> ``0``/``1``)
strings                                       ``str`` without leading / trailing spaces
a mix of types (``1`` and ``"1"``)            ``str`` as :func:`label_key` writes them
============================================  ============================================

Arrays of labels handed to scikit-learn go through :func:`label_array`: an ``object`` array of Python ints
is typed ``unknown`` by scikit-learn's ``type_of_target`` (``ValueError: unknown is not supported`` from
``accuracy_score``), so integer labels always travel as an integer array, strings as strings.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def label_key(label: Any) -> str:
    """A label as the string it is matched by: ``1``, ``1.0``, ``"1"``, ``" 1 "`` and ``np.int64(1)`` all
    give ``"1"``; ``True`` gives ``"True"``. Used to match config labels (YAML) with the data's classes and
    to write labels into files."""
    if hasattr(label, "item") and not isinstance(label, str | bytes):
        label = label.item()
    if isinstance(label, bool):
        return str(label)
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label).strip()


def _is_whole_number(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, numbers.Real) and float(value).is_integer()


def normalize_labels(y: pd.Series) -> pd.Series:
    """The classification target with one label type (see the module docstring); index and name kept.

    Missing values are left as they are (the loader drops rows without a target before this). Raises
    ``ValueError`` for non-integer numbers: a continuous target is not a set of classes.
    """
    import pandas as pd

    if pd.api.types.is_bool_dtype(y):
        return y.astype(bool)
    if pd.api.types.is_numeric_dtype(y):
        present = y.dropna().to_numpy(dtype=float)
        if not np.all(np.mod(present, 1) == 0):
            raise ValueError(f"the target `{y.name}` holds non-integer numbers; they are not class labels")
        if y.isna().any():
            return y.map(lambda v: v if pd.isna(v) else int(v)).astype(object)
        return y.astype(np.int64)
    values = [v for v in y.tolist() if not _missing(v)]
    if values and all(isinstance(v, bool | np.bool_) for v in values):
        return y.map(lambda v: v if _missing(v) else bool(v))
    if values and all(_is_whole_number(v) for v in values):
        out = y.map(lambda v: v if _missing(v) else int(v))
        return out.astype(np.int64) if len(values) == len(y) else out.astype(object)
    return y.map(lambda v: v if _missing(v) else label_key(v)).astype(object)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def label_array(values: Iterable[Any]) -> np.ndarray:
    """Labels as an array scikit-learn reads as classes: ints as ``int64``, bools as ``bool``, strings as
    strings (an ``object`` array of Python ints is ``unknown`` to scikit-learn's metrics)."""
    array = np.asarray(values if isinstance(values, np.ndarray) else list(values))
    if array.dtype == object and len(array):
        first = array[0]
        if isinstance(first, bool | np.bool_) and all(isinstance(v, bool | np.bool_) for v in array):
            return array.astype(bool)
        if all(_is_whole_number(v) for v in array):
            return array.astype(np.int64)
    return array
