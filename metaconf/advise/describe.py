"""Read a free-text task description (an OpenML-style dataset description, a user's paragraph) into facts.

The parser is deterministic: regular expressions and a small table reader, no model. It extracts only what
the text states, and every fact carries the sentence (or table lines) it came from, so the advisor can quote
its evidence and a user can see why a value was chosen. What it extracts:

* a misclassification **cost matrix**: a plain-text table (the OpenML / UCI German credit layouts: rows such
  as ``Good  0  1`` / ``Bad  5  0``, or numeric codes with a legend ``(1 = Good, 2 = Bad)``), a markdown
  table, sentences such as "it is worse to class a customer as good when they are bad (5) than ... bad when
  they are good (1)", or "false negatives cost 10 times as much as false positives" (needs the classes and
  the positive class). Rows are the true class and columns the predicted class, as in
  :class:`metaconf.config.model.CostMatrix`; a table whose header says otherwise is transposed, and the
  matrix is cross-checked against "as X when they are Y (c)" sentences when both are present;
* **metric hints** ("recall", "precision", "F1", "AUC", "calibrated probabilities" -> ``log_loss``,
  "balanced accuracy", "RMSE", ...), each mapped to the closest :class:`~metaconf.config.model.Metric`,
  marked ``explicit`` (an intent word such as *optimise*, *evaluate by*, *care about* is in the sentence),
  ``mention``, ``reported`` (a past result such as "85% accuracy", or a paper title in a citation: not a
  wish) or ``negated`` ("accuracy is misleading", "rather than accuracy");
* the **positive class** and a **target column** mention (checked against ``classes`` / ``columns`` when
  given);
* **time limits** ("in 20 minutes", "a 1 hour budget", "each model must train in under 30 s" -> per trial);
* an **interpretability** wish and **class-imbalance** words (either may be negated).

Nothing here raises on odd text: text that states nothing yields empty :class:`DescriptionFacts`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from metaconf.advise.text import Evidence, Text
from metaconf.config.units import MAX_SECONDS

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


# --------------------------------------------------------------------------------------------- sentences

# ---------------------------------------------------------------------------------------------- negation

_NEGATION_BEFORE = re.compile(
    r"(?:\b(?:not|no|never|nor|without|avoid|ignore|ignoring|instead of|rather than|other than|beyond|over|"
    r"unlike|less about)|n't)\s+(?:[\w\-]+\s+){0,3}$",
    re.IGNORECASE,
)
_NEGATION_AFTER = re.compile(
    r"^[\w\s\-]{0,20}?\b(?:is|are|would be|will be|was|gets?)\s+(?:\w+\s+)?"
    r"(?:misleading|meaningless|useless|not|a poor|a bad|inappropriate|uninformative|irrelevant|"
    r"not needed|unnecessary|not required|not important)\b",
    re.IGNORECASE,
)
_NOT_NEEDED_AFTER = re.compile(
    r"^[\w\s\-]{0,10}?\b(?:is|are)\s+(?:not|n't)\s+(?:needed|required|necessary|important|a concern|an issue)",
    re.IGNORECASE,
)


def _negated(sentence: str, begin: int, end: int) -> bool:
    """Whether the words at ``sentence[begin:end]`` are negated in their sentence."""
    before = sentence[max(0, begin - 40) : begin]
    after = sentence[end : end + 60]
    return bool(
        _NEGATION_BEFORE.search(before) or _NEGATION_AFTER.search(after) or _NOT_NEEDED_AFTER.search(after)
    )


# ------------------------------------------------------------------------------------------------ metrics

# (metric, pattern, reason): longer phrases first so that "balanced accuracy" is not also "accuracy".
_METRIC_PATTERNS: tuple[tuple[str, str, str], ...] = (
    (
        "balanced_accuracy",
        r"balanced[ _-]accuracy|balanced error rate|macro[- ]averaged recall|mean per[- ]class (?:recall|accuracy)"
        r"|per[- ]class accuracy|(?:treat|weight|count)s? (?:all|both|each|every) class(?:es)? equally"
        r"|(?:all|both|each|every) class(?:es)? (?:matters?|counts?|weighs?) equally"
        r"|balanced (?:metric|score|evaluation)",
        "",
    ),
    ("roc_auc", r"\bROC[ _-]?AUC\b|\bAUC(?:[ _-]?ROC)?\b|\bAUROC\b|area under (?:the )?(?:ROC )?curve|\bROC\b", ""),
    (
        "log_loss",
        r"log[ _-]?loss|logarithmic loss|cross[ -]?entropy|(?:well[ -])?calibrated(?: class)? probabilit(?:y|ies)"
        r"|well[ -]calibrated|probability calibration|brier score|probability estimates|reliable probabilities",
        "log loss rewards calibrated probabilities (a proper scoring rule)",
    ),
    ("f1", r"\bF[ _-]?1(?:[ _-]?score)?\b|\bF[ -]?score\b|\bF[ -]?measure\b", ""),
    (
        "f1",
        r"\brecall\b|\bsensitivity\b|true positive rate|\bTPR\b|detection rate|miss(?:ing)? as few|false negatives?",
        "the config metrics have no recall; F1 keeps recall in the objective without the predict-all-positive optimum",
    ),
    (
        "f1",
        r"\bprecision\b|positive predictive value|\bPPV\b|false alarms?|false positives?",
        "the config metrics have no precision; F1 keeps precision in the objective without the trivial optimum",
    ),
    ("expected_cost", r"misclassification costs?|cost[- ]sensitive|expected (?:misclassification )?cost", ""),
    ("rmse", r"\bRMSE\b|root[ -]mean[ -]squared?[ -]error|\bMSE\b|mean[ -]squared?[ -]error", ""),
    ("mae", r"\bMAE\b|mean[ -]absolute[ -]error|\babsolute errors?\b", ""),
    (
        "r2",
        r"\bR\^?2\b|\bR²|R[- ]squared|coefficient of determination|explained variance"
        r"|(?:share|fraction|proportion|much) of (?:the )?variance (?:\w+ ){0,2}explain\w*|explains? (?:the |more |most )?variance",
        "",
    ),
    ("accuracy", r"\baccuracy\b|\berror rate\b|\b(?:mis)?classification error|correctly classified|\bpercent correct\b", ""),
)
_METRIC_RES = tuple((metric, re.compile(pattern, re.IGNORECASE), reason) for metric, pattern, reason in _METRIC_PATTERNS)

_INTENT = re.compile(
    r"\b(?:optimi[sz]\w*|maximi[sz]\w*|minimi[sz]\w*|evaluat\w*|measured? (?:by|with|in|using)|metric|"
    r"scored?|judged?|care (?:most )?about|we want|want to|should|must|important|priority|prioriti[sz]\w*|"
    r"focus(?:ed)? on|goal|objective|aim|need|in terms of|matters?)\b",
    re.IGNORECASE,
)
_REPORTED = re.compile(r"\d+(?:\.\d+)?\s*%|\b0?\.\d+\b|\b\d{2}(?:\.\d+)?\s*percent\b", re.IGNORECASE)
_CITATION = re.compile(
    r"\bplease cite\b|\bcit(?:e|ation)\b|\bproceedings\b|\bjournal\b|\bconference\b|\bet al\b|\bdoi\b|"
    r"\bisbn\b|\bvol\.|\bpp\.|\bin proc\b|\bpublished\b|\btechnical report\b|\bpast usage\b",
    re.IGNORECASE,
)


def _metric_hints(doc: Text) -> list[MetricHint]:
    hints: list[MetricHint] = []
    for begin, _end, sentence in doc.sentences():
        taken: list[tuple[int, int]] = []
        found: list[tuple[int, MetricHint]] = []
        for metric, regex, reason in _METRIC_RES:
            for match in regex.finditer(sentence):
                if any(match.start() < stop and start < match.end() for start, stop in taken):
                    continue
                taken.append((match.start(), match.end()))
                window = sentence[max(0, match.start() - 25) : match.end() + 25]
                strength: Strength
                if _negated(sentence, match.start(), match.end()):
                    strength = "negated"
                elif _CITATION.search(sentence) or (
                    # a figure next to the metric, or anywhere in a sentence that states no wish: a result
                    (_REPORTED.search(window) and not _INTENT.search(sentence[: match.start()]))
                    or (_REPORTED.search(sentence) and not _INTENT.search(sentence))
                ):
                    strength = "reported"
                elif _INTENT.search(sentence):
                    strength = "explicit"
                else:
                    strength = "mention"
                hint = MetricHint(
                    metric=metric,
                    word=" ".join(match.group(0).split()),
                    strength=strength,
                    evidence=doc.evidence(begin + match.start()),
                    reason=reason,
                )
                found.append((match.start(), hint))
        hints.extend(hint for _, hint in sorted(found, key=lambda item: item[0]))
    return hints


# ---------------------------------------------------------------------------------------------- time limits

_NUMBER_WORDS = {
    "a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
    "seven": 7.0, "eight": 8.0, "nine": 9.0, "ten": 10.0, "fifteen": 15.0, "twenty": 20.0, "thirty": 30.0,
    "forty": 40.0, "forty-five": 45.0, "fifty": 50.0, "sixty": 60.0, "ninety": 90.0, "half an": 0.5, "half a": 0.5,
}  # fmt: skip
_UNIT_SECONDS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0,
                 "hr": 3600.0, "hour": 3600.0, "d": 86400.0, "day": 86400.0}  # fmt: skip
_DURATION = re.compile(
    r"(?P<amount>\d+(?:\.\d+)?|half an?|forty-five|an?|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"fifteen|twenty|thirty|forty|fifty|sixty|ninety)"
    r"(?:\s*|-)(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|[smhd])(?![a-zA-Z])"
    r"(?:\s*(?:and\s+)?(?P<amount2>\d+(?:\.\d+)?)\s*(?P<unit2>minutes?|mins?|m|seconds?|secs?|s)\b)?",
    re.IGNORECASE,
)
_TIME_CUE_BEFORE = re.compile(
    r"(?:\b(?:in|within|under|budget|limit|at most|no more than|max(?:imum)?|for|spend|only|about|around|"
    r"roughly|deadline|walltime|wall-clock|allow(?:ed)?|have|has|got|takes?|less than|up to|of|than|"
    r"timeout|time ?box(?:ed)?|give it|give the \w+|run it|say)|~|<=?|≤)\s*:?\s*$",
    re.IGNORECASE,
)
_TIME_CUE_AFTER = re.compile(
    r"^\s*(?:-\s*)?(?:of\s+)?(?:\w+\s+)?(?:budget|limit|deadline|time ?box|timeout|search|run|tuning|"
    r"compute|walltime|wall[- ]?clock|(?:time )?cap|max(?:imum)?|in total|total|overall)\b",
    re.IGNORECASE,
)
_NOT_A_BUDGET_AFTER = re.compile(
    r"^\s*(?:-\s*)?(?:intervals?|resolution|windows?|apart|later|earlier|before|after|ago|old|long|each|"
    r"sampling|granularity|average|of (?:data|recording|measurements?|observations?|footage|audio|video))\b",
    re.IGNORECASE,
)
_NOT_A_BUDGET_BEFORE = re.compile(
    # "failed within 7 days", "readmitted within 30 days": when an event happened, not how long to search
    r"\b(?:every|each|per|last|past|previous|first|over the|\w+ed within)\s*$",
    re.IGNORECASE,
)
_PER_TRIAL = re.compile(
    r"\b(?:per|each|every|one|a single|any|no single|no one)\s+(?:single\s+)?(?:trial|model|fit|evaluation|run|configuration|"
    r"config|candidate|training run)\b",
    re.IGNORECASE,
)
_PER_TRIAL_AFTER = re.compile(
    r"^\s*(?:per|for each|for every|for one|for a single)\s+(?:trial|model|fit|evaluation|run|configuration|"
    r"config|candidate)\b",
    re.IGNORECASE,
)


def _unit_seconds(unit: str) -> float:
    unit = unit.lower()
    singular = unit[:-1] if len(unit) > 1 and unit.endswith("s") else unit
    return _UNIT_SECONDS.get(unit, _UNIT_SECONDS.get(singular, 0.0))


def _time_limits(doc: Text) -> list[TimeLimit]:
    limits: list[TimeLimit] = []
    for begin, _end, sentence in doc.sentences():
        for match in _DURATION.finditer(sentence):
            amount_text = match.group("amount").lower()
            unit = match.group("unit")
            spaced = " " in sentence[match.start("amount") : match.start("unit")]
            if len(unit) == 1 and (amount_text in _NUMBER_WORDS or (spaced and unit.lower() in "md")):
                continue  # "a m", "5 m" (metres?), "3 d": m and d only right after digits, as in `20m`
            if amount_text in ("a", "an") and match.start() > 0 and sentence[match.start() - 1].isalnum():
                continue
            before = sentence[max(0, match.start() - 30) : match.start()]
            after = sentence[match.end() : match.end() + 40]
            if _NOT_A_BUDGET_AFTER.search(after) or _NOT_A_BUDGET_BEFORE.search(before):
                continue
            if not (_TIME_CUE_BEFORE.search(before) or _TIME_CUE_AFTER.search(after)):
                continue
            amount = _NUMBER_WORDS.get(amount_text)
            seconds = (amount if amount is not None else float(amount_text)) * _unit_seconds(unit)
            if match.group("amount2"):
                seconds += float(match.group("amount2")) * _unit_seconds(match.group("unit2"))
            if not 0 < seconds <= MAX_SECONDS:
                continue
            scope: Scope = "total"
            if _PER_TRIAL_AFTER.search(after) or _PER_TRIAL.search(sentence[: match.start()]):
                scope = "per_trial"
            limits.append(
                TimeLimit(
                    seconds=seconds,
                    text=" ".join(match.group(0).split()),
                    scope=scope,
                    evidence=doc.evidence(begin + match.start()),
                )
            )
    return limits


# ------------------------------------------------------------------------------- interpretability, imbalance

_INTERPRETABILITY = re.compile(
    r"\binterpretab\w*|\bexplainab\w*|\bexplain(?:s|ing)?\s+(?:the\s+|its\s+|each\s+|every\s+|individual\s+|"
    r"their\s+)?(?:decisions?|predictions?|models?|outcomes?|results?)\b|\btransparen(?:t|cy)\b|"
    r"\bwhite[- ]box\b|\bglass[- ]box\b|\bauditab\w*|\bregulators?\b|\bregulatory\b|right to (?:an )?explanation|"
    r"\bsimple (?:models?|rules)\b|\bhuman[- ]readable\b|\bunderstandable\b|\bblack[- ]box\b",
    re.IGNORECASE,
)
_IMBALANCE = re.compile(
    r"\b(?:highly\s+|heavily\s+|very\s+|severely\s+)?(?:im|un)balanced\b|\bclass imbalance\b|\bimbalance\b|"
    r"\bskewed\b|\brare (?:class|event|positive|case|outcome|label)s?\b|\bminority class(?:es)?\b|"
    r"\bfew positives?\b|\bonly (?:about |around |roughly |some )?\d+(?:\.\d+)?\s*%|\b1 in \d{2,}\b|"
    r"\bneedle in a haystack\b",
    re.IGNORECASE,
)
_BLACK_BOX_OK = re.compile(r"black[- ]box (?:is|are|models? (?:is|are)) (?:fine|ok|okay|acceptable)", re.IGNORECASE)


def _first_mention(doc: Text, regex: re.Pattern[str]) -> Mention | None:
    """The first non-negated mention, else the first negated one."""
    negated_mention: Mention | None = None
    for begin, _end, sentence in doc.sentences():
        for match in regex.finditer(sentence):
            word = " ".join(match.group(0).split())
            negated = _negated(sentence, match.start(), match.end())
            if word.lower().startswith("black"):
                # "black box" is a wish for interpretability only when the text rejects black boxes.
                if _BLACK_BOX_OK.search(sentence):
                    negated = True
                elif not negated:
                    continue
                else:
                    negated = False
            mention = Mention(word=word, negated=negated, evidence=doc.evidence(begin + match.start()))
            if not negated:
                return mention
            negated_mention = negated_mention or mention
    return negated_mention


# ------------------------------------------------------------------------------- labels, classes, columns


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



def _plain(value: Any) -> Label:
    """A numpy scalar or other label as a plain str / int / bool."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return str(value)


def _match_label(name: str, classes: Sequence[Any] | None) -> Label | None:
    """The class (from ``classes``) that ``name`` denotes, case-insensitively; None when none does."""
    if classes is None:
        return name
    wanted = name.strip().strip("'\"`").lower()
    for cls in classes:
        if str(_plain(cls)).lower() == wanted:
            return _plain(cls)
    return None


def _match_column(name: str, columns: Sequence[Any] | None) -> str | None:
    wanted = name.strip().strip("'\"`").lower()
    if columns is None:
        return name.strip().strip("'\"`")
    for column in columns:
        if str(column).lower() == wanted:
            return str(column)
    return None


_QUOTED = r"[`'\"]"
_NAME = r"[`'\"]?(?P<v>[A-Za-z0-9_][\w.\-]*)[`'\"]?"
_POSITIVE_PATTERNS = (
    re.compile(r"\bpositive (?:class|label|outcome|category)\s*(?:is|=|:|being|should be|will be)\s*(?:the\s+)?(?:class\s+|label\s+)?" + _NAME, re.IGNORECASE),
    re.compile(_NAME + r"\s+(?:is|as|=|should be|will be)\s+(?:the\s+|our\s+)?positive (?:class|label|outcome)", re.IGNORECASE),
    re.compile(r"\bclass of interest\s*(?:is|=|:)\s*(?:the\s+)?(?:class\s+)?" + _NAME, re.IGNORECASE),
    re.compile(r"\b(?:treat|consider|use|take)\s+(?:class\s+|label\s+)?" + _NAME + r"\s+as\s+(?:the\s+)?positive\b", re.IGNORECASE),
    # "is 1 for fraud, the positive class"
    re.compile(_NAME + r"\s+(?:for|=|means)\s+[\w\-]+(?:\s+[\w\-]+)?,\s*(?:the|our)\s+positive (?:class|label)", re.IGNORECASE),
)  # fmt: skip
_DETECT_VERBS = r"(?:detect|identify|catch|flag|find|spot|miss|recogni[sz]e|screen for|predict which|predict who)\w*"

_TARGET_PATTERNS = (
    re.compile(r"\b(?:target|label|response|outcome|dependent|class)\s+(?:column|variable|attribute|feature|field)\s*(?:is|=|:|called|named)?\s*(?:the\s+)?(?:column\s+)?" + _NAME, re.IGNORECASE),
    re.compile(r"\bthe target\s*(?:is|=|:)\s*(?:the\s+)?(?:column\s+)?" + _NAME, re.IGNORECASE),
    re.compile(r"(?:column|variable|attribute)\s+" + _NAME + r"\s+is\s+(?:the\s+)?(?:target|label|class|outcome)\b", re.IGNORECASE),
    re.compile(_QUOTED + r"(?P<v>[^`'\"\n]{1,60})" + _QUOTED + r"\s+is\s+(?:the\s+)?(?:target|label|class|outcome)\b", re.IGNORECASE),
)  # fmt: skip
_PREDICT_COLUMN = re.compile(r"\b(?:predict|predicting|forecast|forecasting|estimate|estimating)\s+(?:the\s+)?(?:value of\s+)?(?:column\s+)?" + _NAME, re.IGNORECASE)
_STOP_WORDS = frozenset({"the", "a", "an", "whether", "which", "who", "if", "how", "what", "is", "as", "class", "this", "that"})


def _positive_class(doc: Text, classes: Sequence[Any] | None, notes: list[str]) -> ValueFact | None:
    for begin, _end, sentence in doc.sentences():
        for regex in _POSITIVE_PATTERNS:
            for match in regex.finditer(sentence):
                raw = match.group("v")
                if raw.lower() in _STOP_WORDS:
                    continue
                value = _match_label(raw, classes)
                if value is None:
                    notes.append(
                        f"the description names `{raw}` as the positive class, but the target's classes are "
                        + ", ".join(f"`{c}`" for c in classes or ())
                    )
                    continue
                return ValueFact(value=value, evidence=doc.evidence(begin + match.start()))
    if classes is None or len(classes) != 2:
        return None
    # a class by its name, or by what a legend says a coded class means ("0 = malignant")
    by_word = {str(_plain(c)).lower(): _plain(c) for c in classes}
    for code, meaning in label_meanings(doc.text, classes).items():
        label = _match_label(code, classes)
        if len(meaning.split()) == 1 and label is not None:
            by_word.setdefault(meaning.lower(), label)
    names = list(by_word)
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    detect = re.compile(
        rf"\b{_DETECT_VERBS}\s+(?:the\s+|all\s+|any\s+|as many\s+|which\s+|those\s+)?(?:[\w\-]+\s+){{0,3}}?(?P<v>{alternation})(?:e?s)?\b"
        # "F1 on the churners", "recall for fraud"
        rf"|\b(?:F[ -]?1|F[ -]?score|recall|precision|sensitivity)\s+(?:score\s+)?(?:on|for|of)\s+(?:the\s+)?(?P<w>{alternation})(?:e?s)?\b",
        re.IGNORECASE,
    )
    for begin, _end, sentence in doc.sentences():
        hits = {
            m.group(1).lower() for m in re.finditer(rf"\b({alternation})(?:e?s)?\b", sentence, re.IGNORECASE)
        }
        found = detect.search(sentence)
        if found and len(hits) == 1:
            value = by_word.get((found.group("v") or found.group("w")).lower())
            if value is not None:
                return ValueFact(value=value, evidence=doc.evidence(begin + found.start()))
    return None


_CLASSIFICATION_TASK = re.compile(
    r"\b(?:predict|predicting|predicts|forecast\w*|determine|decide|tell|know|estimate\w*)\s+(?:whether|if)\b"
    r"|\bpredict\w*\s+(?:which|who)\b"
    r"|\bclassif(?:y|ies|ied|ying)\b|\bclassification (?:task|problem)\b"
    r"|\b(?:we|must|should|need to|want to|have to)\s+(?:detect|identify|flag|spot)\b",
    re.IGNORECASE,
)
_QUANTITY = r"(?:number|count|amount|price|cost|value|revenue|sales|demand|duration|quantity|volume|yield|income|salary)s?"
_REGRESSION_TASK = re.compile(
    r"\b(?:predict|predicting|forecast|forecasting|estimate|estimating)\w*\s+how\s+(?:many|much|long)\b"
    r"|^\W*how\s+(?:many|much|long)\b[^.?!]*\b(?:will|would|does|do|is|are|did)\b"
    r"|\b(?:predict|predicts|predicting|forecast|forecasts|forecasting|estimate|estimates|estimating)\s+"
    r"(?:the\s+|a\s+|an\s+|each\s+|its\s+|their\s+|our\s+)?"
    rf"(?:(?!whether\b|if\b|which\b|who\b)[\w\-]+\s+){{0,2}}?{_QUANTITY}\b(?!\s+(?:class|category|band|bracket|range|tier|group))"
    r"|\b(?:predict|estimate|forecast)\w*\b[^.;]{0,60}\b(?:its|the|a)\s+price\b"
    r"|\bregression (?:task|problem)\b",
    re.IGNORECASE,
)


def _task_type(doc: Text) -> ValueFact | None:
    """What the words say is predicted: a class ("predict whether", "classify", "we must detect") or a quantity
    ("how many", "the number of", "estimate the price"). The first sentence that says either decides."""
    for begin, _end, sentence in doc.sentences():
        classification = _CLASSIFICATION_TASK.search(sentence)
        if classification:
            return ValueFact(value="classification", evidence=doc.evidence(begin + classification.start()))
        regression = _REGRESSION_TASK.search(sentence)
        if regression:
            return ValueFact(value="regression", evidence=doc.evidence(begin + regression.start()))
    return None


def _target_column(doc: Text, columns: Sequence[Any] | None, notes: list[str]) -> ValueFact | None:
    for begin, _end, sentence in doc.sentences():
        for regex in _TARGET_PATTERNS:
            for match in regex.finditer(sentence):
                raw = match.group("v").strip()
                if raw.lower() in _STOP_WORDS:
                    continue
                name = _match_column(raw, columns)
                if name is None:
                    notes.append(f"the description names `{raw}` as the target, but the data has no such column")
                    continue
                return ValueFact(value=name, evidence=doc.evidence(begin + match.start()))
    if columns is None:
        return None
    for begin, _end, sentence in doc.sentences():
        for match in _PREDICT_COLUMN.finditer(sentence):
            name = _match_column(match.group("v"), columns)
            if name is not None and match.group("v").lower() not in _STOP_WORDS:
                return ValueFact(value=name, evidence=doc.evidence(begin + match.start()))
    return None


# ------------------------------------------------------------------------------------------ cost matrices

_NUMBER = re.compile(r"^\$?-?\d+(?:,\d{3})*(?:\.\d+)?$")
_AXIS_WORDS = frozenset(
    {"actual", "true", "truth", "real", "observed", "predicted", "prediction", "pred", "predict", "class",
     "classes", "label", "labels", "is", "=", "\\", "/", "->", "→", "x", "vs", "vs.", "cost", "costs", ":"}
)  # fmt: skip
_ANNOTATION = re.compile(r"\((?:actual|true|truth|predicted|prediction|real|observed|rows?|columns?)[^)]*\)", re.IGNORECASE)
_SEPARATOR = re.compile(r"^[\s\-=_+|:]*[-=_][\s\-=_+|:]*$")
_LEGEND_ITEM = re.compile(r"(?<![\w.])(?P<code>\d+)\s*=\s*['\"]?(?P<name>[A-Za-z][\w\-]*)")
_COST_CONTEXT = re.compile(r"cost|penalt|misclassif|loss matrix|payoff|utility", re.IGNORECASE)
_COLUMNS_ACTUAL = re.compile(
    r"\b(?:rows?)\s+(?:represent|are|show|give|correspond to|=|:|is|indicate)\s+(?:the\s+)?(?:predict|prediction|predicted)\w*"
    r"|\brows?\s+(?:represent|are|show|give|correspond to|is|indicate)\s+what\s+(?:the\s+model|we|it|the\s+classifier)\s+predicts?"
    r"|\bcolumns?\s+(?:represent|are|show|give|correspond to|=|:|is|indicate)\s+(?:the\s+)?(?:actual|true|real|observed)",
    re.IGNORECASE,
)


def _number(cell: str) -> float | None:
    cell = cell.strip()
    if not _NUMBER.match(cell):
        return None
    return float(cell.lstrip("$").replace(",", ""))


def _strip_axis(tokens: list[str]) -> list[str]:
    """Drop axis words ("actual", "predicted", "\\") from label tokens, unless nothing else is left."""
    kept = []
    for token in tokens:
        parts = [p for p in re.split(r"[\\/]", token) if p]
        if parts and all(p.lower().strip(":") in _AXIS_WORDS for p in parts):
            continue
        if token.lower().strip(":") in _AXIS_WORDS:
            continue
        kept.append(token)
    return kept or tokens


@dataclass
class _Row:
    line: int
    label: str | None
    numbers: list[float]


def _cells(line: str) -> tuple[list[str], bool]:
    cleaned = _ANNOTATION.sub(" ", line)
    if "|" in cleaned:
        return [c.strip() for c in cleaned.strip().strip("|").split("|")], True
    return cleaned.split(), False


def _parse_row(line_no: int, line: str) -> _Row | None:
    cells, _markdown = _cells(line)
    cells = [c for c in cells if c]
    numbers: list[float] = []
    while cells and (value := _number(cells[-1])) is not None:
        numbers.insert(0, value)
        cells.pop()
    if len(numbers) < 2:
        return None
    label_tokens = _strip_axis(" ".join(cells).replace(":", " ").split()) if cells else []
    label = " ".join(label_tokens).strip("'\"`*") or None
    if label is not None and (len(label) > 30 or len(label_tokens) > 3 or (_number(label) is not None and "." in label)):
        return None
    return _Row(line=line_no, label=label, numbers=numbers)


def _header_labels(line: str, k: int) -> list[str] | None:
    cells, markdown = _cells(line)
    tokens = [c for c in cells if c] if markdown else cells
    candidates = [tokens, _strip_axis(tokens), tokens[1:]]
    for candidate in candidates:
        labels = [c.strip("'\"`*") for c in candidate if c.strip("'\"`*")]
        labels = [" ".join(_strip_axis(label.split())) for label in labels]
        if len(labels) == k and all(len(label) <= 30 for label in labels):
            return labels
    return None


def _legend(lines: list[str], first: int, last: int) -> dict[str, str]:
    """Code -> name from a legend such as ``(1 = Good, 2 = Bad)`` near lines ``first..last``."""
    for index in [*range(last + 1, min(len(lines), last + 8)), *range(first - 1, max(-1, first - 8), -1)]:
        items = _LEGEND_ITEM.findall(lines[index])
        if len(items) >= 2:
            return {code: name for code, name in items}
    return {}


def _pairs_from_sentences(doc: Text) -> list[tuple[str, str, float, int, int]]:
    """(predicted, true, cost, start, end) from "class X as P when they are T (c)"-style sentences."""
    patterns = (
        re.compile(
            r"(?:class(?:ify|ified|ifies|ifying)?|predict(?:s|ed|ing)?|label(?:s|led|ling|ed|ing)?|rat(?:e|es|ed|ing)|"
            r"call(?:s|ed|ing)?|treat(?:s|ed|ing)?)\s+(?:(?:a|an|the)\s+)?(?:[\w\-]+\s+)?as\s+(?:being\s+)?['\"]?(?P<pred>[\w\-]+)['\"]?\s+"
            r"(?:when|if|while|whereas|but|although)\s+(?:(?:they|it|he|she|the\s+[\w\-]+|[\w\-]+)\s+)?(?:are|is|was|were|actually is|really is)\s+"
            r"(?:actually\s+|really\s+|in fact\s+|truly\s+)?['\"]?(?P<true>[\w\-]+)['\"]?\s*"
            r"(?:\(\s*(?:cost\s*(?:=|:)?\s*)?\$?(?P<c1>\d+(?:\.\d+)?)\s*\)|,?\s*(?:which\s+)?(?:costs?|at a cost of)\s+\$?(?P<c2>\d+(?:\.\d+)?))",
            re.IGNORECASE,
        ),
        re.compile(
            r"predict(?:s|ed|ing)?\s+['\"]?(?P<pred>[\w\-]+)['\"]?\s+for\s+(?:an?\s+|the\s+)?(?:actual(?:ly)?\s+|true\s+|truly\s+)?"
            r"['\"]?(?P<true>[\w\-]+)['\"]?\s+(?:[\w\-]+\s+)?(?:costs?|has a cost of)\s+\$?(?P<c1>\d+(?:\.\d+)?)",
            re.IGNORECASE,
        ),
        # "saying a customer will pay when they default: 500 EUR"
        re.compile(
            r"(?:say(?:s|ing)?|predict(?:s|ed|ing)?|claim(?:s|ing)?)\s+(?:that\s+)?(?:an?\s+|the\s+)?[\w\-]+\s+will\s+"
            r"(?P<pred>[\w\-]+)\s+(?:when|if|while|but)\s+(?:they|it|he|she)\s+(?:actually\s+|really\s+)?(?P<true>[\w\-]+)"
            r"\s*[:=,]\s*(?:costs?\s+)?[$€£]?\s*(?P<c1>\d+(?:\.\d+)?)",
            re.IGNORECASE,
        ),
    )
    pairs = []
    for begin, _end, sentence in doc.sentences():
        for regex in patterns:
            for match in regex.finditer(sentence):
                cost = match.group("c1") or (match.groupdict().get("c2"))
                if cost is None:
                    continue
                pairs.append((match.group("pred"), match.group("true"), float(cost), begin + match.start(), begin + match.end()))
    return pairs


def _consistent(labels: Sequence[str], costs: list[list[float]], pairs: Sequence[tuple[str, str, float, int, int]]) -> bool | None:
    """Whether the "as P when T (c)" sentences agree with the matrix; None when they name other labels."""
    index = {str(label).lower(): i for i, label in enumerate(labels)}
    checked = False
    for pred, true, cost, _, _ in pairs:
        if pred.lower() not in index or true.lower() not in index:
            continue
        checked = True
        if costs[index[true.lower()]][index[pred.lower()]] != cost:
            return False
    return True if checked else None


def _transpose(costs: list[list[float]]) -> list[list[float]]:
    return [list(column) for column in zip(*costs, strict=True)]


def _table_matrices(doc: Text, pairs: Sequence[tuple[str, str, float, int, int]]) -> list[CostMatrixFact]:
    text = doc.text
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    rows: list[_Row | None] = [_parse_row(i, line) for i, line in enumerate(lines)]
    separator = [bool(_SEPARATOR.match(line)) and bool(line.strip()) for line in lines]

    found: list[CostMatrixFact] = []
    i = 0
    while i < len(lines):
        row = rows[i]
        if row is None:
            i += 1
            continue
        block = [row]
        j = i + 1
        while j < len(lines):
            if separator[j]:
                j += 1
                continue
            nxt = rows[j]
            if nxt is None or len(nxt.numbers) != len(row.numbers) or (nxt.label is None) != (row.label is None):
                break
            block.append(nxt)
            j += 1
        i = max(j, i + 1)
        fact = _block_matrix(doc, lines, offsets, rows, separator, block, pairs)
        if fact is not None:
            found.append(fact)
    return found


def _block_matrix(
    doc: Text,
    lines: list[str],
    offsets: list[int],
    rows: list[_Row | None],
    separator: list[bool],
    block: list[_Row],
    pairs: Sequence[tuple[str, str, float, int, int]],
) -> CostMatrixFact | None:
    k = len(block)
    m = len(block[0].numbers)
    notes: list[str] = []
    markdown = "|" in lines[block[0].line]
    if k < 2:
        return None
    if block[0].label is not None:
        if m != k:
            return None
        labels: list[str] | None = [r.label or "" for r in block]
        costs = [list(r.numbers) for r in block]
    elif m == k + 1:
        labels = [_format_code(r.numbers[0]) for r in block]
        costs = [list(r.numbers[1:]) for r in block]
    elif m == k:
        labels = None
        costs = [list(r.numbers) for r in block]
    else:
        return None

    first, last = block[0].line, block[-1].line
    header_index = first - 1
    while header_index >= 0 and separator[header_index]:
        header_index -= 1
    header: list[str] | None = None
    header_line = ""
    if header_index >= 0 and lines[header_index].strip():
        header_line = lines[header_index]
        header_row = rows[header_index]
        if header_row is not None and header_row.label is None and len(header_row.numbers) == k:
            header = [_format_code(n) for n in header_row.numbers]
        elif header_row is None:
            header = _header_labels(header_line, k)
        if header is not None:
            first = header_index

    window = "".join(lines[max(0, first - 10) : min(len(lines), last + 4)])
    if not _COST_CONTEXT.search(window):
        return None
    if any(c < 0 for row in costs for c in row) or not any(c > 0 for row in costs for c in row):
        return None

    if labels is None:
        if header is None:
            legend = _legend(lines, first, last)
            if len(legend) != k:
                return None
            labels = list(legend.values())
            notes.append("labels taken from the legend " + ", ".join(f"{c} = {n}" for c, n in legend.items()))
        else:
            labels = list(header)
    elif header is not None:
        lowered = [h.lower() for h in header]
        if sorted(lowered) == sorted(label.lower() for label in labels) and lowered != [label.lower() for label in labels]:
            order = [lowered.index(label.lower()) for label in labels]
            costs = [[row[o] for o in order] for row in costs]
            notes.append("columns reordered to the row order of the labels")

    if len({label.lower() for label in labels}) != len(labels):
        return None  # repeated row names: not a matrix over distinct classes
    legend = _legend(lines, first, last)
    if legend and all(label in legend for label in labels):
        notes.append("codes mapped with the legend " + ", ".join(f"{c} = {n}" for c, n in legend.items()))
        labels = [legend[label] for label in labels]

    start, end = offsets[first], offsets[last + 1]
    paragraph = doc.text[max(0, start - 400) : min(len(doc.text), end + 600)]
    header_says_actual = bool(re.search(r"\b(?:actual|true|truth)\b", _cells(header_line)[0][-1] if header_line.split() else "", re.IGNORECASE)) or bool(
        re.search(r"\((?:actual|true|truth)[^)]*\)", header_line, re.IGNORECASE)
    )
    corner = header_line.strip().strip("|").split("|")[0] if markdown else ""
    corner_says_rows_predicted = bool(re.search(r"predict\w*\s*[\\/]\s*(?:actual|true)", corner, re.IGNORECASE))
    if header_says_actual or corner_says_rows_predicted or _COLUMNS_ACTUAL.search(paragraph):
        costs = _transpose(costs)
        notes.append("transposed: the text puts the predicted class in the rows")

    pairs = [pair for pair in pairs if start - 800 <= pair[3] <= end + 800]  # sentences about this table
    agreement = _consistent(labels, costs, pairs)
    if agreement is False and _consistent(labels, _transpose(costs), pairs):
        costs = _transpose(costs)
        notes.append("transposed to agree with the sentence that names each error's cost")
    elif agreement is False:
        notes.append("the sentences that name each error's cost disagree with the table; the table is used")

    evidence_end = end
    for _, _, _, _pair_start, pair_end in pairs:
        if end <= _pair_start <= end + 800:
            evidence_end = max(evidence_end, doc.sentence_span(pair_end - 1)[1])
    evidence = Evidence(text=doc.text[start:evidence_end].strip("\n"), start=start, end=evidence_end)
    return CostMatrixFact(
        labels=tuple(labels),
        costs=tuple(tuple(float(c) for c in row) for row in costs),
        evidence=evidence,
        layout="markdown" if markdown else "table",
        notes=tuple(notes),
    )


def _format_code(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _sentence_matrix(doc: Text, pairs: Sequence[tuple[str, str, float, int, int]]) -> CostMatrixFact | None:
    """A 2x2 matrix from two "as P when T (c)" sentences that name both errors."""
    costs: dict[tuple[str, str], float] = {}
    names: dict[str, str] = {}
    start, end = len(doc.text), 0
    for pred, true, cost, s, e in pairs:
        costs[(true.lower(), pred.lower())] = cost
        names.setdefault(true.lower(), true)
        names.setdefault(pred.lower(), pred)
        start, end = min(start, s), max(end, e)
    labels = list(names)
    if len(labels) != 2 or len(costs) != 2 or any(t == p for t, p in costs):
        return None
    a, b = labels
    matrix = [[0.0, costs.get((a, b), 0.0)], [costs.get((b, a), 0.0), 0.0]]
    begin, _ = doc.sentence_span(start)
    _, stop = doc.sentence_span(end - 1)
    return CostMatrixFact(
        labels=(names[a], names[b]),
        costs=tuple(tuple(row) for row in matrix),
        evidence=Evidence(text=" ".join(doc.text[begin:stop].split()), start=begin, end=stop),
        layout="sentences",
        notes=("correct predictions cost 0 (the text names only the two errors)",),
    )


_TIMES = {"twice": 2.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "ten": 10.0, "hundred": 100.0}
_RELATIVE = re.compile(
    r"\b(?P<first>false negatives?|false positives?|miss(?:ed|ing)\s+(?:an?\s+|the\s+)?[\w\-]+(?:\s+[\w\-]+)?|false alarms?)\s*"
    r"(?:\([^)]{0,80}\)\s*)?"  # "a false negative (approving someone who defaults) is five times ..."
    r"(?:are|is|cost|costs|is considered|are considered)?\s*"
    r"(?:about\s+|roughly\s+|around\s+)?(?P<k>\d+(?:\.\d+)?|twice|two|three|four|five|ten|a hundred)\s*(?:times|x|×)?\s*"
    r"(?:as\s+(?:costly|expensive|bad|harmful|serious|much)\s+as|(?:more\s+(?:costly|expensive|harmful|serious)\s+|"
    r"worse\s+|costlier\s+|more\s+)than)\s+"
    r"(?:an?\s+|the\s+)?(?P<second>false negatives?|false positives?|false alarms?)",
    re.IGNORECASE,
)
_NESTED_LIST = re.compile(
    r"\[\s*(?P<rows>\[\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)+\s*\]"
    r"(?:\s*,\s*\[\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)+\s*\])+)\s*,?\s*\]"
)
_LABEL_LIST = re.compile(
    r"(?:labels?|classes|order(?:ed)?|rows? and columns?|rows?/columns?)\s*(?:are|is|:|=|in the order)?\s*"
    r"[\[(]\s*(?P<labels>['\"`]?[\w\-]+['\"`]?(?:\s*,\s*['\"`]?[\w\-]+['\"`]?)+)\s*[\])]",
    re.IGNORECASE,
)


def _list_matrix(doc: Text, classes: Sequence[Any] | None, notes: list[str]) -> CostMatrixFact | None:
    """A matrix written as a nested list, ``[[0, 1], [5, 0]]``, next to the word cost. Labels come from a
    label list (``labels: [good, bad]``), a legend (``1 = good``) or, with ``classes``, the order in which the
    sentence names the classes."""
    for match in _NESTED_LIST.finditer(doc.text):
        begin, end = doc.sentence_span(match.start())
        context = doc.text[max(0, begin - 200) : min(len(doc.text), end + 200)]
        if not _COST_CONTEXT.search(context):
            continue
        rows = [[float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", row)] for row in re.findall(r"\[([^\[\]]*)\]", match.group("rows"))]
        k = len(rows)
        if any(len(row) != k for row in rows) or any(c < 0 for row in rows for c in row) or not any(c > 0 for row in rows for c in row):
            continue
        labels: list[str] | None = None
        found = _LABEL_LIST.search(context)
        if found:
            candidate = [v.strip().strip("'\"`") for v in found.group("labels").split(",")]
            labels = candidate if len(candidate) == k else None
        if labels is None:
            legend = {code: name for code, name in _LEGEND_ITEM.findall(context)}
            if len(legend) == k:
                labels = list(legend.values())
        if labels is None and classes is not None and len(classes) == k:
            sentence = doc.text[begin:end].lower()
            positions = {str(_plain(c)): sentence.find(str(_plain(c)).lower()) for c in classes}
            if all(p >= 0 for p in positions.values()):
                labels = sorted(positions, key=lambda name: positions[name])
        if labels is None:
            notes.append(f"a {k}x{k} cost matrix was found without class labels; name them, e.g. `labels: [a, b]`")
            continue
        return CostMatrixFact(
            labels=tuple(labels),
            costs=tuple(tuple(row) for row in rows),
            evidence=Evidence(text=" ".join(doc.text[begin:end].split()), start=begin, end=end),
            layout="list",
            notes=("rows are the true class and columns the predicted class (the OpenML convention)",),
        )
    return None


def _relative_matrix(
    doc: Text, classes: Sequence[Any] | None, positive: Label | None, notes: list[str]
) -> CostMatrixFact | None:
    """A 2x2 matrix from "false negatives cost 10 times as much as false positives" (needs the classes)."""
    for begin, _end, sentence in doc.sentences():
        match = _RELATIVE.search(sentence)
        if not match:
            continue
        first = "fn" if "negative" in match.group("first").lower() or "miss" in match.group("first").lower() else "fp"
        second = "fn" if "negative" in match.group("second").lower() else "fp"
        if first == second:
            continue
        raw = match.group("k").lower().replace("a hundred", "hundred")
        ratio = _TIMES.get(raw) or float(raw)
        if positive is None and classes is not None and len(classes) == 2 and first == "fn":
            positive = _missed_class(match.group("first"), sentence, doc.text, classes)
        if classes is None or len(classes) != 2 or positive is None:
            notes.append(
                f"the text weighs the two errors (\"{' '.join(match.group(0).split())}\"); turning that into a cost "
                "matrix needs the two classes and the positive class"
            )
            return None
        negative = next(_plain(c) for c in classes if _plain(c) != positive)
        fn_cost, fp_cost = (ratio, 1.0) if first == "fn" else (1.0, ratio)
        return CostMatrixFact(
            labels=(negative, positive),
            costs=((0.0, fp_cost), (fn_cost, 0.0)),
            evidence=doc.evidence(begin + match.start()),
            layout="relative",
            notes=(f"positive class `{positive}`; correct predictions cost 0; the cheaper error costs 1",),
        )
    return None


def _missed_class(phrase: str, sentence: str, text: str, classes: Sequence[Any]) -> Label | None:
    """The class a "missing a malignant tumour" phrase names: a class itself, or what a legend says a coded
    class means (``0 = malignant``)."""
    words = [w.lower() for w in re.findall(r"[\w\-]+", phrase)[1:] if w.lower() not in ("a", "an", "the")]
    meanings = label_meanings(text, classes)
    for cls in classes:
        name = str(_plain(cls)).lower()
        meaning = meanings.get(str(_plain(cls)), "").lower().split()
        for word in words:
            if word.rstrip("s") == name.rstrip("s") or (meaning and word.rstrip("s") in (m.rstrip("s") for m in meaning)):
                return _plain(cls)
    return None


_ERROR_PHRASE = (
    r"(?P<{g}>false negatives?|\bFN\b|miss(?:ed|ing)?\s+(?:an?\s+|the\s+)?[\w\-]+|false positives?|\bFP\b|false alarms?)"
)
_ERROR_COST = re.compile(
    r"(?:\bcost\s*\(\s*)?" + _ERROR_PHRASE.format(g="error") + r"\s*\)?\s*(?:=|:|costs?(?:\s+us)?)\s*(?:about\s+|around\s+|~\s*)?"
    r"(?P<currency>[$€£])?\s*(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<k>[kK]\b)?",
    re.IGNORECASE,
)


def _error_cost_matrix(
    doc: Text, classes: Sequence[Any] | None, positive: Label | None
) -> CostMatrixFact | None:
    """A 2x2 matrix from per-error costs in one sentence: "missed fraud = $200, false alarm = $10",
    "cost(FN) = 25, cost(FP) = 1" (needs the classes, and the positive class unless a "missed X" names it)."""
    if classes is None or len(classes) != 2:
        return None
    for begin, _end, sentence in doc.sentences():
        costs: dict[str, float] = {}
        named: Label | None = None
        for match in _ERROR_COST.finditer(sentence):
            phrase = match.group("error").lower()
            kind = "fn" if "negative" in phrase or phrase == "fn" or phrase.startswith("miss") else "fp"
            value = float(match.group("amount").replace(",", "")) * (1000.0 if match.group("k") else 1.0)
            if kind in costs and costs[kind] != value:
                costs = {}
                break
            costs[kind] = value
            if phrase.startswith("miss"):
                named = _missed_class(match.group("error"), sentence, doc.text, classes)
        if set(costs) != {"fn", "fp"}:
            continue
        chosen = positive if positive is not None else named
        if chosen is None:
            continue
        negative = next(_plain(c) for c in classes if _plain(c) != chosen)
        return CostMatrixFact(
            labels=(negative, chosen),
            costs=((0.0, costs["fp"]), (costs["fn"], 0.0)),
            evidence=doc.evidence(begin),
            layout="list",
            notes=(f"positive class `{chosen}`; correct predictions cost 0",),
        )
    return None


_ARROW_ITEM = re.compile(
    r"^\s*(?:[-*+]|\d+[.)])?\s*['\"`]?(?P<a>[\w\-]+)['\"`]?\s*(?:->|→|=>|predicted as|as)\s*['\"`]?(?P<b>[\w\-]+)['\"`]?\s*[:=]\s*"
    r"[$€£]?\s*(?P<c>\d+(?:\.\d+)?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_OTHER_ITEM = re.compile(
    r"^\s*(?:[-*+]|\d+[.)])?\s*(?:every|any|all)\s+other\s+(?:errors?|mistakes?|misclassifications?)\s*[:=]\s*[$€£]?\s*"
    r"(?P<c>\d+(?:\.\d+)?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_PREDICTED_FIRST = re.compile(r"\(\s*predicted\s*(?:->|→|=>)\s*(?:true|actual)\s*\)", re.IGNORECASE)


def _arrow_matrix(doc: Text, classes: Sequence[Any] | None) -> CostMatrixFact | None:
    """A matrix from a list of "true -> predicted: cost" items under a heading about costs (with "every other
    error: c" for the rest): needs the classes, and every mistake covered."""
    if classes is None or len(classes) < 2:
        return None
    items = list(_ARROW_ITEM.finditer(doc.text))
    if len(items) < 2:
        return None
    start, end = items[0].start(), items[-1].end()
    heading = doc.text[max(0, start - 200) : start]
    if not _COST_CONTEXT.search(heading):
        return None
    flip = bool(_PREDICTED_FIRST.search(heading))
    index = {str(_plain(c)).lower(): i for i, c in enumerate(classes)}
    k = len(classes)
    other = _OTHER_ITEM.search(doc.text, end)
    default = float(other.group("c")) if other and other.start() - end < 200 else None
    costs: list[list[float | None]] = [[0.0 if i == j else default for j in range(k)] for i in range(k)]
    for item in items:
        a, b = item.group("a").lower(), item.group("b").lower()
        if a not in index or b not in index or a == b:
            return None
        truth, predicted = (b, a) if flip else (a, b)
        costs[index[truth]][index[predicted]] = float(item.group("c"))
    if any(c is None for row in costs for c in row):
        return None
    if other is not None and default is not None:
        end = other.end()
    begin, _ = doc.sentence_span(start)
    evidence_start = max(0, doc.text.rfind("\n", 0, begin - 1) + 1) if heading.strip() else begin
    return CostMatrixFact(
        labels=tuple(_plain(c) for c in classes),
        costs=tuple(tuple(float(c or 0.0) for c in row) for row in costs),
        evidence=Evidence(text=doc.text[evidence_start:end].strip(), start=evidence_start, end=end),
        layout="list",
        notes=("predicted first, then true: transposed" if flip else "each item: true class -> predicted class",),
    )


_MISS_CUES = re.compile(
    r"\bfail\w* to\b|\bmiss\w*|\bundetected\b|\bunnoticed\b|\b(?:don'?t|do not|didn'?t|did not) (?:catch|flag|spot|detect)|"
    r"\blet\w*\b[^,;.]{0,40}\bthrough\b|\bslip\w* through\b|\breach\w* (?:a|the|our) customer|\bwe ship\b|"
    r"\baccept\w* a bad\b|\bapprov\w* (?:someone|a customer|an applicant) who\b|\bfalse negatives?\b|\bstays? silent\b",
    re.IGNORECASE,
)
_ALARM_CUES = re.compile(
    r"\bfalse (?:alarm|positive)s?\b|\bunnecessar\w*|\bneedless\w*|\bwast\w*|\bin vain\b|\bloyal\b|\bhonest\b|"
    r"\bgenuine\b|\blegitimate\b|\binnocent\b|\bturn\w* away\b|\breject\w* a good\b|\bscrap\w*|\bblock\w*|"
    r"\bcancel\w*|\binvestigat\w*|\bwon'?t\b|\bwouldn'?t\b|\bdid(?:n'?t| not) need\b|\bnuisance\b|"
    r"\bthat was fine\b|\bwho (?:was|were) fine\b",
    re.IGNORECASE,
)


def _money_matrix(doc: Text, classes: Sequence[Any] | None, positive: Label | None) -> CostMatrixFact | None:
    """A 2x2 matrix from two cost figures whose clauses say which is a miss and which a false alarm ("a
    customer we fail to flag costs us €300, a retention offer sent to a loyal customer costs €20"). The class
    to find is the positive class, else the class the miss clause names (or the other one than the false
    alarm's), by name, stem or legend meaning, else the `yes` of a yes / no pair of classes; without one the
    costs stay unread here (the LLM's answer to "which class is to be found" can complete them:
    :func:`metaconf.advise.reading.read_description`)."""
    from metaconf.advise.spans import cost_figures  # plain regular expressions; no model is involved

    if classes is None or len(classes) != 2:
        return None
    figures = cost_figures(doc.text)
    if len(figures) != 2 or figures[0].value == figures[1].value:
        return None
    kinds = []
    for figure in figures:
        says_miss = bool(_MISS_CUES.search(figure.clause.text))
        says_alarm = bool(_ALARM_CUES.search(figure.clause.text))
        kinds.append("miss" if says_miss and not says_alarm else "alarm" if says_alarm and not says_miss else None)
    if kinds.count(None) == 1:  # one clause says which mistake it is: the other is the other mistake
        known = next(k for k in kinds if k is not None)
        kinds = [k or ("alarm" if known == "miss" else "miss") for k in kinds]
    if sorted(k or "" for k in kinds) != ["alarm", "miss"]:
        return None
    miss = figures[kinds.index("miss")]
    alarm = figures[kinds.index("alarm")]
    chosen = positive
    named_by = ""
    by_name = False
    if chosen is None:
        named = _named_class(miss.clause.text, doc.text, classes)
        other = _named_class(alarm.clause.text, doc.text, classes)
        if named is not None and named != other:
            chosen, named_by = named, miss.clause.text
        elif other is not None and named is None:
            chosen = next(_plain(c) for c in classes if _plain(c) != other)
        elif named is None and other is None:
            # a yes/no target names the event it records (`churn`: yes / no): flagging a case is predicting yes
            chosen = _yes_class(classes)
            by_name = chosen is not None
    if chosen is None:
        return None
    negative = next(_plain(c) for c in classes if _plain(c) != chosen)
    start, end = miss.clause.start, max(miss.clause.end, alarm.clause.end)
    start = min(start, alarm.clause.start)
    return CostMatrixFact(
        labels=(negative, chosen),
        costs=((0.0, alarm.value), (miss.value, 0.0)),
        evidence=Evidence(" ".join(doc.text[start:end].split()), start, end),
        layout="sentences",
        notes=(
            f"a missed `{chosen}` costs {miss.written} (\u201c{miss.clause.text}\u201d), a false alarm "
            f"{alarm.written} (\u201c{alarm.clause.text}\u201d); correct predictions cost 0",
            *([f"the miss clause names the class to find: \u201c{named_by}\u201d"] if named_by else []),
            *([f"the classes are a yes / no pair: the class to find is `{chosen}`"] if by_name else []),
        ),
    )


_YES_NO = (("yes", "no"), ("true", "false"), ("y", "n"), ("1", "0"), ("1.0", "0.0"))


def _yes_class(classes: Sequence[Any]) -> Label | None:
    """The `yes` of a yes / no (true / false, y / n, 1 / 0) pair of classes, in the data's spelling; else None."""
    spelled = {str(_plain(c)).strip().lower(): _plain(c) for c in classes}
    for yes, no in _YES_NO:
        if set(spelled) == {yes, no}:
            return spelled[yes]
    if all(isinstance(_plain(c), bool) for c in classes) and len(spelled) == 2:
        return next(_plain(c) for c in classes if _plain(c) is True)
    return None


_FIND_IN_MISS = re.compile(
    r"\bfail\w* to (?:flag|catch|detect|spot|anticipate|alert|identify|notice)|\bmiss\w*|\bundetected\b|"
    r"\b(?:don'?t|do not|didn'?t|did not) (?:catch|flag|spot|detect)",
    re.IGNORECASE,
)


def _positive_from_miss(doc: Text, matrix: CostMatrixFact) -> ValueFact | None:
    """The class to find, when the clause that prices a miss names it in words that say so ("a missed fraud",
    "each readmission we fail to anticipate"); "fraudulent orders we ship" weighs the error without saying so."""
    for note in matrix.notes:
        if note.startswith("the miss clause names the class to find: "):
            clause = note.removeprefix("the miss clause names the class to find: ").strip("\u201c\u201d")
            if _FIND_IN_MISS.search(clause):
                start = doc.text.find(clause)
                return ValueFact(value=matrix.labels[1], evidence=doc.evidence(max(start, 0)))
    return None


def _named_class(clause: str, text: str, classes: Sequence[Any]) -> Label | None:
    """The one class a clause names: its label or a word sharing a stem of 4+ letters with it ("churner" for
    `churned`, "fraudulent" for `fraud`), or for a coded label a word of its legend meaning."""
    words = [w.lower() for w in re.findall(r"[A-Za-z][\w\-]*", clause)]
    meanings = label_meanings(text, classes)
    found = set()
    for cls in classes:
        label = str(_plain(cls))
        names = [label.lower()] if not (label.isdigit() or len(label) <= 2) else []
        names += [m.lower() for m in re.findall(r"[A-Za-z]{4,}", meanings.get(label, "")) if m.lower() not in _STEM_STOP]
        for name in names:
            for word in words:
                common = next((i for i, (a, b) in enumerate(zip(name, word, strict=False)) if a != b), min(len(name), len(word)))
                if word == name or (common >= 4 and common >= min(len(name), len(word)) - 3):
                    found.add(_plain(cls))
    return next(iter(found)) if len(found) == 1 else None


_STEM_STOP = frozenset({"within", "days", "hours", "case", "cases", "means", "with", "that", "this", "they", "kept", "running", "patient", "customer", "otherwise"})


def _map_to_classes(fact: CostMatrixFact, classes: Sequence[Any] | None, notes: list[str]) -> CostMatrixFact:
    """Use the data's own class values (and spelling) for the matrix labels when they match."""
    if classes is None:
        return fact
    mapped = [_match_label(str(label), classes) for label in fact.labels]
    if all(m is not None for m in mapped) and len(set(map(str, mapped))) == len(mapped):
        return CostMatrixFact(
            labels=tuple(m for m in mapped if m is not None),
            costs=fact.costs,
            evidence=fact.evidence,
            layout=fact.layout,
            notes=fact.notes,
        )
    notes.append(
        "the cost matrix labels "
        + ", ".join(f"`{label}`" for label in fact.labels)
        + " do not match the target's classes "
        + ", ".join(f"`{_plain(c)}`" for c in classes)
    )
    return CostMatrixFact(
        labels=fact.labels,
        costs=fact.costs,
        evidence=fact.evidence,
        layout=fact.layout,
        notes=(*fact.notes, "labels do not match the target's classes"),
    )


# ----------------------------------------------------------------------------------------------- the API


def parse_description(
    text: str,
    *,
    columns: Sequence[Any] | None = None,
    classes: Sequence[Any] | None = None,
    positive: Label | None = None,
) -> DescriptionFacts:
    """Extract what a free-text description states about the task.

    ``columns`` (the data's column names) and ``classes`` (the target's classes) make the parser stricter and
    more useful: a target or positive class must be one of them, cost-matrix labels are matched to the class
    values, and "detect fraud"-style phrases can name the positive class. ``positive``: the class to find when
    another reader found it (the LLM): it completes costs the text weighs by miss and false alarm alone; the
    parser's own positive class comes first.
    """
    doc = Text(text.replace("\r\n", "\n").replace("\r", "\n"))
    notes: list[str] = []

    found_positive = _positive_class(doc, classes, notes)
    given = _match_label(str(positive), classes) if positive is not None and classes is not None else None
    framing = found_positive.value if found_positive else given
    pairs = _pairs_from_sentences(doc)
    matrices = _table_matrices(doc, pairs)
    cost_matrix: CostMatrixFact | None = matrices[0] if matrices else None
    if cost_matrix is None:
        cost_matrix = _list_matrix(doc, classes, notes)
    if cost_matrix is None and pairs:
        cost_matrix = _sentence_matrix(doc, pairs)
    if cost_matrix is None:
        cost_matrix = _arrow_matrix(doc, classes)
    if cost_matrix is None:
        cost_matrix = _error_cost_matrix(doc, classes, framing)
    if cost_matrix is None:
        cost_matrix = _money_matrix(doc, classes, framing)
    if cost_matrix is None:
        cost_matrix = _relative_matrix(doc, classes, framing, notes)
    if found_positive is None and cost_matrix is not None and cost_matrix.layout == "sentences":
        found_positive = _positive_from_miss(doc, cost_matrix)
    if cost_matrix is not None:
        cost_matrix = _map_to_classes(cost_matrix, classes, notes)
        if classes is not None and len(cost_matrix.labels) != len(classes):
            notes.append(
                f"the cost matrix is {len(cost_matrix.labels)}x{len(cost_matrix.labels)} but the target has "
                f"{len(classes)} classes"
            )

    return DescriptionFacts(
        cost_matrix=cost_matrix,
        metric_hints=tuple(_metric_hints(doc)),
        positive_class=found_positive,
        target_column=_target_column(doc, columns, notes),
        time_limits=tuple(_time_limits(doc)),
        interpretability=_first_mention(doc, _INTERPRETABILITY),
        imbalance=_first_mention(doc, _IMBALANCE),
        task_type=_task_type(doc),
        notes=tuple(dict.fromkeys(notes)),
    )
