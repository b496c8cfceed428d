"""Is the target a set of classes or a quantity? Decided from the data, with the user's words where the data
leaves it open, and a reason that names what decided.

What the data says:

- text, booleans, categories: **classification** (a model cannot regress on names);
- numbers that are not all whole: **regression**;
- whole numbers (integers, or floats such as ``3.0``), with ``k`` distinct values:

  - ``k == 2``: classification (two codes);
  - ``k <= 10``: classification, but open (ratings 1-5 or a quality score 3-9 may be meant as quantities);
  - ``k > 30``: regression: a count or an amount (rentals per hour, a price in whole units); a target with
    that many classes leaves most of them a few rows each;
  - in between: open; classification when the values are class codes (``0..k-1`` or ``1..k``) with at least
    :data:`MIN_ROWS_PER_CODE` rows each, regression otherwise.

Where the data leaves the type open, the description decides when it states one ("predict the number of ...",
"how many", "price" -> regression; "classify", "predict whether" -> classification). Where the data is clear,
it wins and the reason says that the words disagreed. A type the user gave (``--task``, ``task.type``) wins
over both, except that text labels can never be regression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

CLASSIFICATION = "classification"
REGRESSION = "regression"

FEW_CODES = 10
"""Up to this many distinct whole numbers are class codes unless the words say otherwise."""
MANY_VALUES = 30
"""More distinct whole numbers than this are a quantity (a count, an amount) unless the user says otherwise."""
MIN_ROWS_PER_CODE = 20
"""Between :data:`FEW_CODES` and :data:`MANY_VALUES` values, contiguous codes are classes only with this many
rows per code on average."""


@dataclass(frozen=True)
class TaskTypeDecision:
    """The task type, why, and whether the data alone left it open."""

    task_type: str
    reason: str
    open: bool = False
    """The data alone does not settle it (a handful of whole numbers): words or the user decide."""
    labels_are_text: bool = False
    """The target holds text / booleans / categories: it can only be classification."""


def from_data(y: pd.Series) -> TaskTypeDecision:
    """What the target column alone says (see the module docstring)."""
    import pandas as pd

    present = y.dropna()
    if len(present) == 0:
        return TaskTypeDecision(CLASSIFICATION, "the target is empty", open=True)
    k = int(present.nunique())
    if pd.api.types.is_bool_dtype(present) or not _is_numeric(present):
        return TaskTypeDecision(CLASSIFICATION, f"the target holds {k} labels", labels_are_text=True)
    values = pd.to_numeric(present, errors="coerce").to_numpy(dtype=float)
    if not np.all(np.mod(values, 1) == 0):
        return TaskTypeDecision(REGRESSION, f"the target is numeric with non-whole values ({k} distinct)")
    if k <= 2:
        return TaskTypeDecision(CLASSIFICATION, f"the target holds {k} codes")
    if k <= FEW_CODES:
        return TaskTypeDecision(CLASSIFICATION, f"the target holds {k} whole-number codes", open=True)
    if k > MANY_VALUES:
        return TaskTypeDecision(
            REGRESSION, f"the target holds {k} distinct whole numbers: a count or an amount, not classes"
        )
    codes = np.unique(values)
    contiguous = bool(codes[0] in (0.0, 1.0) and codes[-1] - codes[0] == k - 1)
    if contiguous and len(values) / k >= MIN_ROWS_PER_CODE:
        return TaskTypeDecision(
            CLASSIFICATION, f"the target holds {k} contiguous codes ({codes[0]:.0f}..{codes[-1]:.0f})", open=True
        )
    return TaskTypeDecision(REGRESSION, f"the target holds {k} distinct whole numbers", open=True)


def _is_numeric(values: pd.Series) -> bool:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values):
        return True
    if values.dtype == object:  # Python ints / floats in an object column, not strings
        return all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values)
    return False


def decide(
    y: pd.Series, *, words: tuple[str, str] | None = None, given: str | None = None
) -> TaskTypeDecision:
    """The task type from the data, the description's words ``(task_type, quote)`` and the user's choice."""
    data = from_data(y)
    if given is not None:
        if given == REGRESSION and data.labels_are_text:
            return TaskTypeDecision(
                CLASSIFICATION,
                f"{data.reason}: text labels cannot be regressed, whatever was asked",
                labels_are_text=True,
            )
        agrees = "" if given == data.task_type else f" (the data alone says {data.task_type}: {data.reason})"
        return TaskTypeDecision(given, f"you chose {given}{agrees}", labels_are_text=data.labels_are_text)
    if words is None:
        return data
    said, quote = words
    if said == data.task_type:
        return TaskTypeDecision(said, f"{data.reason}, and the description says so (\u201c{quote}\u201d)")
    if data.open and not data.labels_are_text:
        return TaskTypeDecision(said, f"the description says so (\u201c{quote}\u201d); {data.reason}")
    return TaskTypeDecision(
        data.task_type,
        f"{data.reason}; the description reads like {said} (\u201c{quote}\u201d), but the data decides",
        labels_are_text=data.labels_are_text,
    )
