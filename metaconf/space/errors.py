"""The one error a search space raises: a :class:`~metaconf.errors.UsageError` that also knows where it came from.

``path`` is the JSON path into the config (``("search_space", "overrides", "svm", "C", "lower")``) so that a
lint rule can put the finding on the right YAML line, and ``kind`` says which check failed so that each
``MC2xx`` rule reports only its own problems.
"""

from __future__ import annotations

from enum import Enum

from metaconf.config.loader import JsonPath
from metaconf.errors import UsageError


class SpaceProblem(str, Enum):
    """What is wrong with a search space; each lint rule ``MC2xx`` reports one kind."""

    user_space_invalid = "user-space-invalid"
    """The user's space file is missing, unreadable, not a ConfigSpace space, or empty."""
    list_as_range = "list-as-range"
    """A YAML/JSON list ``[lo, hi]`` where a numeric range was meant."""
    default_out_of_range = "default-out-of-range"
    """A default value outside its hyperparameter's range or choices."""
    missing_parent = "missing-parent"
    """A condition or forbidden clause naming a hyperparameter that does not exist."""
    bad_override = "bad-override"
    """An override of an unknown family or hyperparameter, or with unusable values."""
    override_bounds = "override-bounds"
    """An override whose lower bound is not below its upper bound (or log scale with a bound <= 0)."""
    bad_models = "bad-models"
    """An empty ``models`` list or a family that does not fit the task."""
    bad_estimator = "bad-estimator"
    """A user space without ``estimator``, or one that cannot be imported."""
    bad_warm_start = "bad-warm-start"
    """A warm-start configuration that is not valid in the space."""


class SpaceError(UsageError):
    """A search space that cannot be built or a configuration that is not valid in it."""

    def __init__(self, message: str, hint: str | None = None, *, kind: SpaceProblem, path: JsonPath = ()):
        super().__init__(message, hint)
        self.kind = kind
        self.path = path
