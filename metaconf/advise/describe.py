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
from typing import Any

from metaconf.advise.costs import (
    _arrow_matrix,
    _error_cost_matrix,
    _list_matrix,
    _map_to_classes,
    _money_matrix,
    _pairs_from_sentences,
    _positive_from_miss,
    _relative_matrix,
    _sentence_matrix,
    _table_matrices,
)
from metaconf.advise.facts import (
    CostMatrixFact,
    DescriptionFacts,
    Label,
    Mention,
    MetricHint,
    Scope,
    Strength,
    TimeLimit,
    ValueFact,
    label_meanings,
    match_label,
    plain_label,
)
from metaconf.advise.text import Text
from metaconf.config.units import MAX_SECONDS

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
                value = match_label(raw, classes)
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
    by_word = {str(plain_label(c)).lower(): plain_label(c) for c in classes}
    for code, meaning in label_meanings(doc.text, classes).items():
        label = match_label(code, classes)
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
    given = match_label(str(positive), classes) if positive is not None and classes is not None else None
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
