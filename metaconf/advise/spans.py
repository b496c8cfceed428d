"""The parts of a description the LLM's questions are about, found by code: sentences, cost figures and the
clause each belongs to, "N times worse" multipliers and durations (what coded class labels mean is
:func:`metaconf.advise.describe.label_meanings`).

Code finds *where* numbers are and copies them exactly; the model is only asked what a part means (which
mistake a clause describes, whether a duration is a limit). Every span keeps its character offsets in the
original text, so any fact built from it can quote the user's own words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metaconf.advise.text import Text

MAX_SENTENCES = 40
"""Sentences offered to the model (the prompt must fit the context window; descriptions are rarely longer)."""
MAX_SENTENCE_CHARS = 300


@dataclass(frozen=True)
class Span:
    """A piece of the user's text: its words (whitespace collapsed) and its offsets."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Figure:
    """A number the text gives as the cost of something, and the clause around it."""

    value: float
    written: str
    """The number as written (``€300``, ``12k dollars``, ``25``)."""
    clause: Span
    sentence: Span


@dataclass(frozen=True)
class Multiplier:
    """A "ten times worse" / "twice as costly" comparison and its sentence."""

    value: float
    written: str
    sentence: Span


@dataclass(frozen=True)
class Duration:
    seconds: float
    written: str
    sentence: Span


def _span(text: str, start: int, end: int) -> Span:
    return Span(" ".join(text[start:end].split()), start, end)


def sentences(text: str) -> list[Span]:
    """The description's sentences (also split at blank lines, list items and table rows), as the model sees them."""
    doc = Text(text)
    out = []
    for begin, end in doc.spans[:MAX_SENTENCES]:
        span = _span(text, begin, end)
        if any(c.isalnum() for c in span.text):
            out.append(span if len(span.text) <= MAX_SENTENCE_CHARS else Span(span.text[:MAX_SENTENCE_CHARS], begin, end))
    return out


# ------------------------------------------------------------------------------------------------- numbers

NUMBER_WORDS = {
    "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0, "seven": 7.0, "eight": 8.0,
    "nine": 9.0, "ten": 10.0, "eleven": 11.0, "twelve": 12.0, "fifteen": 15.0, "twenty": 20.0, "thirty": 30.0,
    "forty": 40.0, "fifty": 50.0, "hundred": 100.0, "a hundred": 100.0, "one hundred": 100.0,
    "a thousand": 1000.0, "thousand": 1000.0,
}  # fmt: skip
_WORD_NUMBER = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
_CURRENCY_BEFORE = r"(?:[€$£¥]|\b(?:EUR|USD|GBP|CHF)\s?)"
_CURRENCY_AFTER = r"(?:\s?(?:€|\$|£|EUR\b|USD\b|GBP\b|CHF\b|dollars?\b|euros?\b|pounds?\b|bucks\b))"
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"(?:\s?(?P<{}>[kK]\b|[mM]\b|thousand\b|million\b))?"
_MONEY = re.compile(
    rf"(?P<before>{_CURRENCY_BEFORE})(?P<a1>{_AMOUNT})" + _SCALE.format("s1")
    + rf"|(?P<a2>{_AMOUNT})" + _SCALE.format("s2") + rf"(?P<after>{_CURRENCY_AFTER})"
    rf"|(?P<a3>{_AMOUNT})(?P<k>[kK])\b",
    re.IGNORECASE,
)
_COST_WORDS = re.compile(
    r"\bcost\w*|\bpenalt\w*|\blos(?:e|es|t|ing|s)\b|\bwast\w*|\bexpens\w*|\bprice\b|\bpay\b|\bfine\b|\bdamage\w*|"
    r"\bmistakes?\b|\berrors?\b|\bmisclassif\w*",
    re.IGNORECASE,
)
_PLAIN_COST = re.compile(
    rf"(?:\bcosts?|\bcosting|\bloses?|\bwastes?|=|:|->|→)\s*(?:us\s+|the \w+\s+|about\s+|around\s+|roughly\s+|approximately\s+|~\s*)*(?P<a>{_AMOUNT})\b(?!\s*(?:%|percent|times|x\b|×|-fold|minutes?|hours?|seconds?|days?|weeks?|months?|years?))",
    re.IGNORECASE,
)
_BOUNDARY = re.compile(
    r";|,\s*(?:while|whereas|whilst|and|but|yet)\b|\s(?:while|whereas|whilst)\s|,\s*(?=(?:a|an|the|each|every|any|our|one)\b)|,"
    r"|\s(?:and|but)\s",
    re.IGNORECASE,
)
_TABLE_ROW = re.compile(r"^\s*\|?\s*[\w\-\\/ ]{0,30}(?:[|\s]+\$?\d+(?:\.\d+)?){2,}\s*\|?\s*$")


def _value(number: str, scale: str | None) -> float:
    value = float(number.replace(",", ""))
    if scale:
        value *= 1000.0 if scale.lower() in ("k", "thousand") else 1_000_000.0
    return value


def cost_figures(text: str) -> list[Figure]:
    """Cost figures: money amounts anywhere, and plain numbers right after a cost verb, "=" or ":" in a
    sentence about costs (or under a heading about them). Table rows are left to the parser's table reader."""
    doc = Text(text)
    spans = doc.spans
    found: list[tuple[int, int, float, int]] = []  # start, end, value, sentence index
    for index, (begin, end) in enumerate(spans):
        sentence = text[begin:end]
        if _TABLE_ROW.match(sentence):
            continue
        taken: list[tuple[int, int]] = []
        for match in _MONEY.finditer(sentence):
            number = match.group("a1") or match.group("a2") or match.group("a3")
            scale = match.group("s1") or match.group("s2") or match.group("k")
            found.append((begin + match.start(), begin + match.end(), _value(number, scale), index))
            taken.append((match.start(), match.end()))
        context = " ".join(text[b:e] for b, e in spans[max(0, index - 2) : index + 1])
        if not _COST_WORDS.search(context):
            continue
        for match in _PLAIN_COST.finditer(sentence):
            s, e = match.start("a"), match.end("a")
            if any(s < stop and start < e for start, stop in taken):
                continue
            found.append((begin + s, begin + e, _value(match.group("a"), None), index))
    found.sort()
    figures: list[Figure] = []
    for position, (start, end, value, index) in enumerate(found):
        s_begin, s_end = spans[index]
        previous = found[position - 1] if position > 0 and found[position - 1][3] == index else None
        following = found[position + 1] if position + 1 < len(found) and found[position + 1][3] == index else None
        clause_start = s_begin if previous is None else _split_between(text, previous[1], start)
        clause_end = s_end if following is None else _split_between(text, end, following[0], before=True)
        figures.append(
            Figure(
                value=value,
                written=" ".join(text[start:end].split()),
                clause=_span(text, clause_start, clause_end),
                sentence=_span(text, s_begin, s_end),
            )
        )
    return figures


def _split_between(text: str, left: int, right: int, *, before: bool = False) -> int:
    """Where the clause of the figure ending at ``left`` ends and the next one's (starting at ``right``) begins:
    the strongest boundary between them (a semicolon, ", while", ", and", a comma); with ``before`` the end of
    the first clause, else the start of the second."""
    between = text[left:right]
    best: tuple[int, int, int] | None = None  # rank, start, end
    for match in _BOUNDARY.finditer(between):
        word = match.group(0).strip(" ,").lower()
        rank = 0 if match.group(0) == ";" else 3 if "," not in match.group(0) else 1 if word else 2
        if best is None or rank < best[0]:
            best = (rank, match.start(), match.end())
    if best is None:
        return right if not before else left
    return left + (best[1] if before else best[2])


# -------------------------------------------------------------------------------------------- multipliers

_TIMES = re.compile(
    rf"(?P<n>\d+(?:\.\d+)?|{_WORD_NUMBER})\s*(?:-\s*)?(?:times|x\b|×|-?fold)|\b(?P<twice>twice|double)\b",
    re.IGNORECASE,
)
_COMPARATIVE = re.compile(  # a multiplier must compare: "ten times worse", "twice as costly"
    r"\b(?:worse|more|less|costlier|cheaper|bad|costly|expensive|serious|harmful|as much|what it costs|the cost)\b",
    re.IGNORECASE,
)


COMPARED = re.compile(
    # where a comparison of two mistakes turns from the costlier one to the cheaper one
    r"\bthan\b|\bas (?:costly|expensive|bad|much|harmful|damaging) as\b|\bthe cost of\b",
    re.IGNORECASE,
)


def multipliers(text: str) -> list[Multiplier]:
    """"N times worse / as costly" comparisons, one per sentence (the first)."""
    out = []
    for begin, end, sentence in Text(text).sentences():
        for match in _TIMES.finditer(sentence):
            if not _COMPARATIVE.search(sentence) or not ERROR_WORDS.search(sentence):
                continue  # "10 times more customers stay than leave" compares no mistakes
            if match.group("twice"):
                value = 2.0
            else:
                raw = match.group("n").lower()
                value = NUMBER_WORDS.get(raw) or float(raw)
            if value <= 1:
                continue
            out.append(Multiplier(value=value, written=" ".join(match.group(0).split()), sentence=_span(text, begin, end)))
            break
    return out


# ----------------------------------------------------------------------------------------------- durations

_DURATION_WORDS = {
    "a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "ten": 10.0,
    "fifteen": 15.0, "twenty": 20.0, "thirty": 30.0, "forty-five": 45.0, "sixty": 60.0, "ninety": 90.0,
    "half an": 0.5, "half a": 0.5,
}  # fmt: skip
_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hr": 3600.0,
          "hour": 3600.0, "d": 86400.0, "day": 86400.0, "week": 604800.0}  # fmt: skip
_DURATION = re.compile(
    r"(?<![\w.])(?P<n>\d+(?:\.\d+)?|half an?|forty-five|an?|one|two|three|four|five|ten|fifteen|twenty|thirty|"
    r"sixty|ninety)(?:\s*|-)(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|[smh])(?![a-zA-Z])",
    re.IGNORECASE,
)


def durations(text: str) -> list[Duration]:
    """Every "N unit" duration in the text (the model decides which are limits and on what)."""
    out = []
    for begin, end, sentence in Text(text).sentences():
        for match in _DURATION.finditer(sentence):
            raw, unit = match.group("n").lower(), match.group("unit").lower()
            if len(unit) == 1 and (raw in _DURATION_WORDS or " " in match.group(0)):
                continue  # "a m", "5 m": metres more likely than minutes
            amount = _DURATION_WORDS.get(raw)
            singular = unit[:-1] if len(unit) > 1 and unit.endswith("s") else unit
            seconds = (amount if amount is not None else float(raw)) * _UNITS.get(unit, _UNITS.get(singular, 0.0))
            if seconds > 0:
                out.append(Duration(seconds, " ".join(match.group(0).split()), _span(text, begin, end)))
    return out



# ------------------------------------------------------------------------------------- what a question is about

MEASURES: tuple[tuple[str, str, str, str], ...] = (
    # (task, metric, name shown, words): longer phrases first, so "balanced accuracy" is not also "accuracy"
    ("classification", "balanced_accuracy", "balanced accuracy",
     r"balanced[ _-]accuracy|(?:all|both|each|every) class(?:es)?[^.;]{0,30}equal\w*|\bequal\w*[^.;]{0,20}(?:all|both|each|every) class|per[- ]class"),
    ("classification", "roc_auc", "ROC AUC", r"\bROC[ _-]?AUC\b|\bAUC\b|\bAUROC\b|\bROC\b|area under|\brank\w*"),
    ("classification", "log_loss", "log loss", r"log[ _-]?loss|cross[ -]?entropy|calibrat\w*|probabilit\w*|\bbrier\b"),
    ("classification", "f1", "F1", r"\bF[ _-]?1\b|\bF[ -]?score|\bF[ -]?measure"),
    ("classification", "f1", "recall", r"\brecall\b|\bsensitivity\b|true positive rate|catch\w* as many"),
    ("classification", "f1", "precision", r"\bprecision\b|positive predictive value|few(?:er)? false alarms"),
    ("classification", "accuracy", "accuracy", r"\baccura\w*|\berror rate\b|correctly classified|percent correct"),
    ("regression", "rmse", "RMSE", r"\bRMSE\b|\bMSE\b|squared error|root[ -]mean"),
    ("regression", "mae", "MAE", r"\bMAE\b|absolute (?:error|deviation|terms)|in absolute"),
    ("regression", "r2", "R²", r"\bR²|\bR\^?2\b|R[- ]squared|\bvariance\b|coefficient of determination"),
)  # fmt: skip
TASK_WORDS = re.compile(
    r"\bpredict(?:s|ed|ing)?\b|\bclassif(?:y|ies|ied|ying)\b|\bwhether\b|how (?:many|much|long)|number of|\bestimat\w*|\bforecast\w*|\bprices?\b|"
    r"\bamounts?\b|\bcounts?\b|\bregression\b|\bcategor\w*",
    re.IGNORECASE,
)
UNDERSTAND_WORDS = re.compile(
    r"\binterpret\w*|\bexplainab\w*|\bexplain\w*\s+(?:the\s+|its\s+|each\s+|every\s+|their\s+)?"
    r"(?:decision|prediction|model|result|outcome|score)|\bexplanation|\bunderstand\w*|\btransparen\w*|\bwhy\b|"
    r"\breadable|\bsimple (?:model|rule)|\bregulat\w*|\baudit\w*|black[- ]box|glass[- ]box|white[- ]box|"
    r"which features|see (?:how|what)",
    re.IGNORECASE,
)
FIND_WORDS = re.compile(
    # the words that single out the class to find: the parser's and the gold's notion of a stated positive class
    r"\bdetect(?:s|ed|ing)?\b|\bflag\w*|\bcatch\w*|\bfind\b|\bspot\b|\bidentify\b|\bmiss\w*|\bfail\w* to\b|"
    r"\bdon'?t catch|\bundetected\b|\balert\b|\bpositive (?:class|label|outcome|category)|\bas (?:the )?positive\b|"
    r"\b(?:class|label|case)s? of interest\b|\bpredict\w* (?:which|who)\b|"
    r"\bscreen\w* for\b|\b(?:F[ -]?1|F[ -]?score|recall|precision|sensitivity)\b",
    re.IGNORECASE,
)
ERROR_WORDS = re.compile(
    r"worse|cost|expensive|costly|\bbad\b|serious|harm|mistake|error|\bmiss|false|alarm|penalt|\blos[et]|wast|damage",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Mention:
    """A measure named in a sentence: the metric it maps to and the words as written."""

    metric: str
    name: str
    written: str
    sentence: Span


def measure_mentions(text: str, task: str, *, limit: int = 6) -> list[Mention]:
    """Measures of success the text names (one per measure and sentence), for the task's metrics."""
    out: list[Mention] = []
    for begin, end, sentence in Text(text).sentences():
        taken: list[tuple[int, int]] = []
        seen: set[str] = set()
        for measure_task, metric, name, words in MEASURES:
            if measure_task != task:
                continue
            for match in re.finditer(words, sentence, re.IGNORECASE):
                if any(match.start() < stop and start < match.end() for start, stop in taken):
                    continue
                taken.append((match.start(), match.end()))
                if name not in seen:
                    seen.add(name)
                    out.append(Mention(metric, name, " ".join(match.group(0).split()), _span(text, begin, end)))
    return out[:limit]


def sentences_with(text: str, words: re.Pattern[str], *, limit: int = 4) -> list[Span]:
    """The sentences (as the model sees them) that contain ``words``."""
    return [span for span in sentences(text) if words.search(span.text)][:limit]


def class_sentences(text: str, classes: Sequence[Any], meanings: dict[str, str], *, limit: int = 4) -> list[Span]:
    """Sentences that name a class (by its label, or for a coded label by what the legend says it means) or
    the positive class, and say to find it (:data:`FIND_WORDS`: detect, flag, miss, fail to, F1 on ...)."""
    names: list[str] = []
    for cls in classes:
        label = str(cls)
        meaning = meanings.get(label)
        if meaning:
            names.extend(word for word in re.findall(r"[A-Za-z][\w\-]{2,}", meaning) if word.lower() not in _STOP)
        if not (label.isdigit() or len(label) <= 2):
            names.append(label)
    # "fraud" also finds "fraudulent"; short labels ("no", "ok") only as whole words
    patterns = [rf"\b{re.escape(name)}\w*" if len(name) >= 4 else rf"\b{re.escape(name)}(?:e?s)?\b" for name in names]
    patterns.append(r"\bpositive\b")
    regex = re.compile("|".join(patterns), re.IGNORECASE)
    return [span for span in sentences_with(text, regex, limit=limit) if FIND_WORDS.search(span.text)]


_STOP = frozenset({"the", "and", "for", "was", "were", "within", "days", "not", "otherwise", "means", "case", "cases"})
