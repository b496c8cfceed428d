"""What the description parser (:mod:`metaconf.advise.describe`) finds: the facts, each with its evidence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from metaconf.advise.text import Evidence

Label = str | int | bool

Strength = Literal["explicit", "mention", "reported", "negated"]
Scope = Literal["total", "per_trial"]


@dataclass(frozen=True)
class CostMatrixFact:
    """Misclassification costs: ``costs[i][j]`` is the cost of predicting ``labels[j]`` when the truth is
    ``labels[i]`` (the layout of :class:`metaconf.config.model.CostMatrix`)."""

    labels: tuple[Label, ...]
    costs: tuple[tuple[float, ...], ...]
    evidence: Evidence
    layout: Literal["table", "markdown", "list", "sentences", "relative"]
    """How the matrix was written: a plain-text or markdown table, a nested list ``[[0, 1], [5, 0]]``,
    per-error sentences, or a ratio of the two errors."""
    notes: tuple[str, ...] = ()
    """What the parser assumed or corrected (legend used, transposed, labels not matched to the classes)."""

    def as_config(self) -> dict[str, Any]:
        """The ``task.cost_matrix`` mapping of a config."""
        return {"labels": list(self.labels), "costs": [list(row) for row in self.costs]}


@dataclass(frozen=True)
class MetricHint:
    """A metric word in the text and the config metric closest to it."""

    metric: str
    """A :class:`metaconf.config.model.Metric` value."""
    word: str
    """The words as written (e.g. ``recall``, ``calibrated probabilities``)."""
    strength: Strength
    evidence: Evidence
    reason: str = ""
    """Why ``word`` maps to ``metric`` when it is not the metric's own name."""


@dataclass(frozen=True)
class ValueFact:
    """A named value (a class, a column) and where the text names it."""

    value: Label
    evidence: Evidence


@dataclass(frozen=True)
class TimeLimit:
    """A time budget the text states, in seconds."""

    seconds: float
    text: str
    scope: Scope
    """``total`` for the whole search, ``per_trial`` for one model fit / evaluation."""
    evidence: Evidence


@dataclass(frozen=True)
class Mention:
    """A wish or a property stated in the text (interpretability, class imbalance), possibly negated."""

    word: str
    negated: bool
    evidence: Evidence


@dataclass(frozen=True)
class DescriptionFacts:
    """Everything :func:`parse_description` found. Empty fields mean the text does not say."""

    cost_matrix: CostMatrixFact | None = None
    metric_hints: tuple[MetricHint, ...] = ()
    positive_class: ValueFact | None = None
    target_column: ValueFact | None = None
    time_limits: tuple[TimeLimit, ...] = ()
    interpretability: Mention | None = None
    imbalance: Mention | None = None
    task_type: ValueFact | None = None
    """``classification`` or ``regression`` when the words say what is predicted ("predict whether ...",
    "how many ...", "the number of ...", "the price ..."), with the sentence that says it."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Things found but not usable (e.g. a positive class that is not one of the classes)."""

    @property
    def is_empty(self) -> bool:
        """True when the text states nothing the advisor can use."""
        return (
            self.cost_matrix is None
            and not self.metric_hints
            and self.positive_class is None
            and self.target_column is None
            and not self.time_limits
            and self.interpretability is None
            and self.imbalance is None
            and self.task_type is None
        )

    @property
    def suggested_metric(self) -> MetricHint | None:
        """The metric the text asks for: ``expected_cost`` when there is a cost matrix, else the first
        explicit hint, else the first plain mention. Reported results and negated words never count."""
        if self.cost_matrix is not None:
            return MetricHint(
                metric="expected_cost",
                word="cost matrix",
                strength="explicit",
                evidence=self.cost_matrix.evidence,
                reason="the description gives misclassification costs",
            )
        for strength in ("explicit", "mention"):
            for hint in self.metric_hints:
                if hint.strength == strength:
                    return hint
        return None

    @property
    def time_limit_s(self) -> float | None:
        """The total time budget the text states (the first one), in seconds."""
        totals = [limit.seconds for limit in self.time_limits if limit.scope == "total"]
        return totals[0] if totals else None

    @property
    def trial_time_limit_s(self) -> float | None:
        """A per-trial (one fit / evaluation) time limit the text states, in seconds."""
        per_trial = [limit.seconds for limit in self.time_limits if limit.scope == "per_trial"]
        return per_trial[0] if per_trial else None

    @property
    def wants_interpretability(self) -> bool:
        return self.interpretability is not None and not self.interpretability.negated

    @property
    def mentions_imbalance(self) -> bool:
        return self.imbalance is not None and not self.imbalance.negated

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for ``--format json`` and the LLM prompt)."""
        data = asdict(self)
        hint = self.suggested_metric
        data["suggested_metric"] = None if hint is None else hint.metric
        data["time_limit_s"] = self.time_limit_s
        data["trial_time_limit_s"] = self.trial_time_limit_s
        return data


# ------------------------------------------------------------------------------------------------ labels


def label_meanings(text: str, classes: Sequence[Any]) -> dict[str, str]:
    """What coded class labels (``0`` / ``1``, ``M`` / ``B``) mean, from a legend in the text: ``1 = fraud``,
    ``1 is benign, 0 malignant``, ``1 for fraud``, ``1 means ...``, ``M (malignant)``. Labels that are words
    already say what they mean and are not looked up."""
    out: dict[str, str] = {}
    for cls in classes:
        label = str(cls)
        if not (label.isdigit() or len(label) <= 2 or label.lower() in ("yes", "no", "true", "false")):
            continue  # a word label says what it means
        code = re.escape(label)
        patterns = (
            rf"(?<![\w.]){code}\s*(?:=|:|->|→)\s*['\"]?(?P<m>[A-Za-z][^,;.)\n]{{0,40}}?)(?=\s*(?:[,;.)\n]|\band\b|\bor\b|$))",
            rf"(?<![\w.]){code}\s+(?:is|means|stands for|for|if|when|indicates)\s+(?:a\s+|an\s+)?(?P<m>[A-Za-z][^,;.)\n]{{0,50}}?)(?=\s*(?:[,;.)\n]|\band\b|$))",
            rf"(?<![\w.]){code}\s*\((?P<m>[A-Za-z][^)]{{0,30}})\)",
            rf"[,;]\s*(?:and\s+)?{code}\s+(?P<m>[A-Za-z][\w\-]*)\s*(?:[.,;)]|$)",
        )
        for pattern in patterns:
            match = re.search(pattern, text, re.IGNORECASE if not label.isalpha() or len(label) > 1 else 0)
            if match:
                meaning = " ".join(match.group("m").split()).strip(" '\"")
                if meaning and meaning.lower() not in ("the", "a", "an", "positive", "negative", "class"):
                    out[label] = meaning
                    break
    return out


def plain_label(value: Any) -> Label:
    """A numpy scalar or other label as a plain str / int / bool."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return str(value)


def match_label(name: str, classes: Sequence[Any] | None) -> Label | None:
    """The class (from ``classes``) that ``name`` denotes, case-insensitively; None when none does."""
    if classes is None:
        return name
    wanted = name.strip().strip("'\"`").lower()
    for cls in classes:
        if str(plain_label(cls)).lower() == wanted:
            return plain_label(cls)
    return None
