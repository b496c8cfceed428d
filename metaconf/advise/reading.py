"""Read a description with the rule parser and, when a capable model is installed, the LLM; cross-check them.

Both readers give :class:`~metaconf.advise.describe.DescriptionFacts`; :func:`combine` merges them fact by fact
into the same type (so the rule advisor consumes it unchanged) plus one :class:`Source` per fact: which reader
supplied it (``rules``, ``llm`` or ``both``), the quote it rests on, and what the other reader said when they
disagree. The policy, in the order it is applied (docs/llm.md, "How descriptions are read"):

- **agreement**: both readers found the same value: taken, ``both``;
- **one reader only**: the parser's value is taken as it is (it matched words written for that fact). The LLM's
  is taken only when its quote backs it: a cost matrix from figures code copied out of the quoted clauses (the
  model only said which mistake each figure is), or from an "N times" the quoted sentence contains; a metric,
  task type or interpretability wish whose quote contains a word of that kind (a metric's own vocabulary, a
  task word such as "predict whether" / "how many", an understanding word such as "explain" / "why"); a
  positive class whose quote says to find it (the question offers only sentences with words such as detect,
  flag, miss, fail to, F1 on); a time limit whose sentence names a budget, the search or a model fit;
- **disagreement**: the parser's value is kept and the reason shows both, with one exception each where the
  LLM read what regular expressions cannot: a metric the LLM says the user *rejects* in the very sentence the
  parser took as the wish is dropped. ``--interactive`` asks the user instead of applying the policy.

The LLM never overrides a value silently: every override and every disagreement is in the notes and in the
fact's :class:`Source`, which `suggest` writes into the config's provenance and the reasons `explain` shows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from metaconf.advise.describe import parse_description
from metaconf.advise.facts import CostMatrixFact, DescriptionFacts, MetricHint, TimeLimit, ValueFact
from metaconf.advise.spans import COMPARED

ReaderName = Literal["rules", "llm", "both"]
Ask = Callable[[str, Sequence[str]], int]
"""``ask(question, options) -> index of the chosen option`` (``--interactive``)."""

READER_TEXT = {"rules": "the rule parser", "llm": "the LLM", "both": "the rule parser and the LLM"}


@dataclass(frozen=True)
class Source:
    """Which reader supplied one fact, the words it rests on, and what the other reader said."""

    fact: str
    reader: ReaderName
    value: str
    quote: str
    note: str = ""
    """Set when the readers disagreed (both readings and the choice) or a reading was not used."""

    def describe(self) -> str:
        text = f"read by {READER_TEXT[self.reader]}"
        if self.note:
            text += f"; {self.note}"
        return text

    def as_record(self) -> dict[str, str]:
        record = {"reader": self.reader, "value": self.value, "quote": self.quote}
        if self.note:
            record["note"] = self.note
        return record


@dataclass
class Reading:
    """The description as both readers read it, combined."""

    facts: DescriptionFacts
    sources: dict[str, Source] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rules: DescriptionFacts | None = None
    llm: Any = None
    """The LLM's :class:`~metaconf.advise.llm.extract.Extraction`, when it ran."""
    seconds: float = 0.0

    @property
    def answers(self) -> list[Any]:
        return list(self.llm.answers) if self.llm is not None else []

    def llm_label(self, identity: dict[str, str]) -> str:
        """The summary line: who read the description, how long the LLM took, what it added or disputed."""
        if self.llm is None:
            return "description: read by the rule parser"
        by = {"rules": 0, "llm": 0, "both": 0}
        for source in self.sources.values():
            by[source.reader] += 1
        disputed = sum(1 for source in self.sources.values() if "kept" in source.note or "you chose" in source.note)
        line = (
            f"description: read by the rule parser and the LLM ({identity.get('name', 'model')}, "
            f"{len(self.llm.answers)} questions, {self.llm.seconds:.1f} s): {by['both']} facts agreed, "
            f"{by['llm']} from the LLM only, {by['rules']} from the parser only"
        )
        if disputed:
            line += f", {disputed} read differently (see `metaconf explain`)"
        return line


# ------------------------------------------------------------------------------------------- evidence checks

_METRIC_WORDS = {
    "accuracy": r"accura|correct|error rate",
    "balanced_accuracy": r"balanced|equal|each class|every class|per[- ]class|both classes|all classes",
    "roc_auc": r"\bAUC\b|\bROC\b|rank",
    "log_loss": r"probabilit|calibrat|log[ -]?loss|cross[ -]?entropy|brier",
    "f1": r"\bF[ -]?1\b|F[ -]?score|F[ -]?measure|recall|precision|sensitivity|catch|miss|false (?:alarm|positive|negative)",
    "expected_cost": r"cost",
    "rmse": r"RMSE|squared|root",
    "mae": r"MAE|absolute",
    "r2": r"R²|R\^?2|R[- ]squared|variance|determination",
}
_TASK_WORDS = {
    "classification": r"predict\w*\s+(?:whether|if|which|who)|classif(?:y|ies|ied|ying)\b|\bdetect|\bwhether\b|"
    r"\bidentify\b|\bcategor|yes/no|\bwhich\b",
    "regression": r"how (?:many|much|long)|number of|\bamount|\bprice|\bcount|quantit|\bvalue of|revenue|\bsales\b|"
    r"demand|sell for|\bestimate|\bforecast|\byield\b|duration",
}
_UNDERSTAND_WORDS = (
    r"interpret|explain|explanation|understand|transparen|\bwhy\b|readable|\bsimple\b|\brules\b|regulat|audit|"
    r"which features|\bdrive\b|black[- ]box|glass[- ]box|white[- ]box|\btrust\b|\bread the model"
)
_BUDGET_WORDS = re.compile(
    r"\b(?:budget|limit|deadline|finish|search|tune|tuning|train|fit|run|compute|spend|give|allow|at most|"
    r"no more than|under|wait|take|lunch|model|trial|candidate)\b",
    re.IGNORECASE,
)


def _backs(pattern: str, quote: str) -> bool:
    return bool(re.search(pattern, quote, re.IGNORECASE))


# ---------------------------------------------------------------------------------------------- comparisons


def _matrix_key(matrix: CostMatrixFact) -> tuple[tuple[str, ...], tuple[tuple[float, ...], ...]]:
    """Labels sorted, costs reordered to them and divided by the largest (15:1 equals 300:20)."""
    labels = [str(label).lower() for label in matrix.labels]
    order = sorted(range(len(labels)), key=lambda i: labels[i])
    top = max((c for row in matrix.costs for c in row), default=0.0) or 1.0
    costs = tuple(tuple(round(matrix.costs[i][j] / top, 6) for j in order) for i in order)
    return tuple(labels[i] for i in order), costs


def _show_matrix(matrix: CostMatrixFact) -> str:
    rows = "; ".join(
        f"true {label}: " + ", ".join(f"{c:g}" for c in row) for label, row in zip(matrix.labels, matrix.costs, strict=True)
    )
    return f"[{rows}] (columns: predicted {', '.join(str(label) for label in matrix.labels)})"


def _wish(facts: DescriptionFacts) -> MetricHint | None:
    """The metric the text wishes for, ignoring the cost matrix (which the combination decides apart)."""
    for strength in ("explicit", "mention"):
        for hint in facts.metric_hints:
            if hint.strength == strength:
                return hint
    return None


def _rejected(facts: DescriptionFacts) -> list[MetricHint]:
    return [hint for hint in facts.metric_hints if hint.strength == "negated"]


def _limit(facts: DescriptionFacts, scope: str) -> TimeLimit | None:
    return next((limit for limit in facts.time_limits if limit.scope == scope), None)


# ------------------------------------------------------------------------------------------------ combine


class _Combiner:
    def __init__(self, rules: DescriptionFacts, llm: DescriptionFacts, ask: Ask | None):
        self.rules = rules
        self.llm = llm
        self.ask = ask
        self.sources: dict[str, Source] = {}
        self.notes: list[str] = []

    def source(self, fact: str, reader: ReaderName, value: str, quote: str, note: str = "") -> None:
        self.sources[fact] = Source(fact=fact, reader=reader, value=value, quote=quote, note=note)
        if note:
            self.notes.append(f"{fact}: {note}")

    def choose(self, fact: str, rules_value: str, rules_quote: str, llm_value: str, llm_quote: str) -> str | None:
        """``rules`` / ``llm`` as the user answers, or None without ``--interactive``."""
        if self.ask is None:
            return None
        index = self.ask(
            f"The description's {fact} was read two ways:",
            [
                f"{rules_value}, as the rule parser read \u201c{rules_quote}\u201d",
                f"{llm_value}, as the LLM read \u201c{llm_quote}\u201d",
            ],
        )
        return "rules" if index == 0 else "llm"

    # --- each fact

    def cost_matrix(self) -> CostMatrixFact | None:
        ours, theirs = self.rules.cost_matrix, self.llm.cost_matrix
        if ours is not None and theirs is not None:
            if _matrix_key(ours) == _matrix_key(theirs):
                self.source("cost_matrix", "both", _show_matrix(ours), ours.evidence.text)
                return ours
            picked = self.choose("cost matrix", _show_matrix(ours), ours.evidence.text, _show_matrix(theirs), theirs.evidence.text)
            if picked == "llm":
                self.source("cost_matrix", "llm", _show_matrix(theirs), theirs.evidence.text, "you chose the LLM's reading")
                return theirs
            self.source(
                "cost_matrix",
                "rules",
                _show_matrix(ours),
                ours.evidence.text,
                "you chose the rule parser's reading"
                if picked
                else f"the LLM read {_show_matrix(theirs)} from \u201c{theirs.evidence.text}\u201d; the parser's "
                "reading is kept (it copies a table or sentence written for the costs)",
            )
            return ours
        if ours is not None:
            self.source("cost_matrix", "rules", _show_matrix(ours), ours.evidence.text)
            return ours
        if theirs is not None:
            self.source("cost_matrix", "llm", _show_matrix(theirs), theirs.evidence.text)
            return theirs
        return None

    def metric(self) -> tuple[MetricHint | None, list[MetricHint]]:
        """The wished metric and the rejected ones."""
        rejected: dict[str, MetricHint] = {h.metric: h for h in _rejected(self.rules)}
        for hint in _rejected(self.llm):
            if hint.metric in rejected:
                continue
            if _backs(_METRIC_WORDS[hint.metric], hint.evidence.text):
                rejected[hint.metric] = hint
            else:
                self.notes.append(
                    f"excluded metrics: the LLM read `{hint.metric}` as ruled out in \u201c{hint.evidence.text}\u201d, "
                    "which names no such measure; not used"
                )
        if rejected:
            both = {h.metric for h in _rejected(self.rules)} & {h.metric for h in _rejected(self.llm)}
            reader: ReaderName = "both" if both == set(rejected) else "rules" if not _rejected(self.llm) else "llm"
            if _rejected(self.rules) and _rejected(self.llm) and both != set(rejected):
                reader = "both"
            first = next(iter(rejected.values()))
            self.source("excluded_metrics", reader, ", ".join(sorted(rejected)), first.evidence.text)

        ours, theirs = _wish(self.rules), _wish(self.llm)
        if theirs is not None and not _backs(_METRIC_WORDS[theirs.metric], theirs.evidence.text):
            self.notes.append(
                f"metric: the LLM read `{theirs.metric}` from \u201c{theirs.evidence.text}\u201d, which names no "
                "such measure; not used"
            )
            theirs = None
        if ours is not None and ours.metric in rejected:
            denial = rejected[ours.metric]
            if denial.evidence.text == ours.evidence.text or denial in _rejected(self.llm):
                self.notes.append(
                    f"metric: the rule parser read `{ours.metric}` as the wish in \u201c{ours.evidence.text}\u201d; "
                    f"the LLM read it as ruled out there, so it is not used"
                )
                ours = None
        if ours is not None and theirs is not None:
            if ours.metric == theirs.metric:
                self.source("metric", "both", ours.metric, ours.evidence.text)
                return ours, list(rejected.values())
            picked = self.choose("metric", ours.metric, ours.evidence.text, theirs.metric, theirs.evidence.text)
            if picked == "llm":
                self.source("metric", "llm", theirs.metric, theirs.evidence.text, "you chose the LLM's reading")
                return theirs, list(rejected.values())
            self.source(
                "metric",
                "rules",
                ours.metric,
                ours.evidence.text,
                "you chose the rule parser's reading"
                if picked
                else f"the LLM read `{theirs.metric}` from \u201c{theirs.evidence.text}\u201d; the parser's metric "
                "word is kept",
            )
            return ours, list(rejected.values())
        chosen = ours or theirs
        if chosen is not None:
            self.source("metric", "rules" if ours else "llm", chosen.metric, chosen.evidence.text)
        return chosen, list(rejected.values())

    def value(self, fact: str, ours: ValueFact | None, theirs: ValueFact | None, check: str | None) -> ValueFact | None:
        """A labelled value (positive class, task type): agreement, one reader, or the parser's."""
        if theirs is not None and check is not None and not _backs(check.format(value=re.escape(str(theirs.value))), theirs.evidence.text):
            self.notes.append(
                f"{fact}: the LLM read `{theirs.value}` from \u201c{theirs.evidence.text}\u201d, which does not say "
                "so in words metaconf recognises; not used"
            )
            theirs = None
        if ours is not None and theirs is not None:
            if str(ours.value).lower() == str(theirs.value).lower():
                self.source(fact, "both", str(ours.value), ours.evidence.text)
                return ours
            picked = self.choose(fact.replace("_", " "), str(ours.value), ours.evidence.text, str(theirs.value), theirs.evidence.text)
            if picked == "llm":
                self.source(fact, "llm", str(theirs.value), theirs.evidence.text, "you chose the LLM's reading")
                return theirs
            self.source(
                fact,
                "rules",
                str(ours.value),
                ours.evidence.text,
                "you chose the rule parser's reading"
                if picked
                else f"the LLM read `{theirs.value}` from \u201c{theirs.evidence.text}\u201d; the parser's reading is kept",
            )
            return ours
        chosen = ours or theirs
        if chosen is not None:
            self.source(fact, "rules" if ours else "llm", str(chosen.value), chosen.evidence.text)
        return chosen

    def time_limit(self, scope: str) -> TimeLimit | None:
        fact = "time_limit" if scope == "total" else "trial_time_limit"
        ours, theirs = _limit(self.rules, scope), _limit(self.llm, scope)
        if ours is None and theirs is not None and not _BUDGET_WORDS.search(theirs.evidence.text):
            self.notes.append(
                f"{fact}: the LLM read \u201c{theirs.text}\u201d as a limit in \u201c{theirs.evidence.text}\u201d, "
                "which names no budget, search or model; not used"
            )
            theirs = None
        if ours is not None and theirs is not None:
            if abs(ours.seconds - theirs.seconds) <= 1e-6 * max(ours.seconds, 1.0):
                self.source(fact, "both", f"{ours.seconds:g} s", ours.evidence.text)
                return ours
            picked = self.choose(fact.replace("_", " "), f"{ours.seconds:g} s", ours.evidence.text, f"{theirs.seconds:g} s", theirs.evidence.text)
            if picked == "llm":
                self.source(fact, "llm", f"{theirs.seconds:g} s", theirs.evidence.text, "you chose the LLM's reading")
                return theirs
            self.source(
                fact,
                "rules",
                f"{ours.seconds:g} s",
                ours.evidence.text,
                "you chose the rule parser's reading"
                if picked
                else f"the LLM read {theirs.seconds:g} s from \u201c{theirs.evidence.text}\u201d; the parser's is kept",
            )
            return ours
        chosen = ours or theirs
        if chosen is not None:
            self.source(fact, "rules" if ours else "llm", f"{chosen.seconds:g} s", chosen.evidence.text)
        return chosen

    def interpretability(self) -> Any:
        ours, theirs = self.rules.interpretability, self.llm.interpretability
        if theirs is not None and not _backs(_UNDERSTAND_WORDS, theirs.evidence.text):
            self.notes.append(
                f"interpretability: the LLM read a wish from \u201c{theirs.evidence.text}\u201d, which says nothing "
                "about understanding the model; not used"
            )
            theirs = None
        if ours is not None and theirs is not None and ours.negated != theirs.negated:
            picked = self.choose(
                "interpretability wish",
                "not needed" if ours.negated else "needed",
                ours.evidence.text,
                "not needed" if theirs.negated else "needed",
                theirs.evidence.text,
            )
            if picked == "llm":
                self.source(
                    "interpretability", "llm", "not needed" if theirs.negated else "needed", theirs.evidence.text,
                    "you chose the LLM's reading",
                )  # fmt: skip
                return theirs
            self.source(
                "interpretability",
                "rules",
                "not needed" if ours.negated else "needed",
                ours.evidence.text,
                "you chose the rule parser's reading"
                if picked
                else f"the LLM read the opposite from \u201c{theirs.evidence.text}\u201d; the parser's is kept",
            )
            return ours
        chosen = ours or theirs
        if chosen is not None:
            reader: ReaderName = "both" if ours is not None and theirs is not None else "rules" if ours else "llm"
            self.source("interpretability", reader, "not needed" if chosen.negated else "needed", chosen.evidence.text)
        return chosen


def combine(rules: DescriptionFacts, llm: DescriptionFacts | None, *, ask: Ask | None = None) -> tuple[DescriptionFacts, dict[str, Source], list[str]]:
    """The two readings merged (see the module docstring for the policy)."""
    llm = llm or DescriptionFacts()
    combiner = _Combiner(rules, llm, ask)
    matrix = combiner.cost_matrix()
    wish, rejected = combiner.metric()
    positive = combiner.value("positive_class", rules.positive_class, llm.positive_class, None)
    if positive is None and matrix is not None:
        positive = _positive_from_matrix(matrix)
        if positive is not None:
            reader = combiner.sources["cost_matrix"].reader if "cost_matrix" in combiner.sources else "rules"
            combiner.sources["positive_class"] = Source(
                "positive_class",
                reader,
                str(positive.value),
                positive.evidence.text,
                "the class whose miss the cost sentence prices (a false negative is a missed positive)",
            )
    task = combiner.value(
        "task_type",
        rules.task_type,
        llm.task_type,
        None,
    )
    if llm.task_type is not None and task is llm.task_type and not _backs(_TASK_WORDS[str(task.value)], task.evidence.text):
        combiner.notes.append(
            f"task_type: the LLM read `{task.value}` from \u201c{task.evidence.text}\u201d, which names no task word; not used"
        )
        combiner.sources.pop("task_type", None)
        task = None
    limits = [limit for limit in (combiner.time_limit("total"), combiner.time_limit("per_trial")) if limit is not None]
    interpretability = combiner.interpretability()
    hints = tuple(([wish] if wish is not None else []) + rejected)
    facts = replace(
        rules,
        cost_matrix=matrix,
        metric_hints=hints,
        positive_class=positive,
        time_limits=tuple(limits),
        interpretability=interpretability,
        task_type=task,
        notes=tuple(dict.fromkeys([*rules.notes, *combiner.notes])),
    )
    return facts, combiner.sources, combiner.notes


_MISS_SIDE = re.compile(
    r"\bfalse negatives?\b|\bfail\w* to (?:flag|catch|detect|spot|alert|identify|notice)|\bmiss(?:es|ed|ing)?\b|"
    r"\bundetected\b|\b(?:don'?t|do not|didn'?t|did not) (?:catch|flag|spot|detect)",
    re.IGNORECASE,
)
_ALARM_SIDE = re.compile(r"\bfalse (?:positive|alarm)s?\b|\bunnecessar\w*|\bneedless\w*", re.IGNORECASE)
def _positive_from_matrix(matrix: CostMatrixFact) -> ValueFact | None:
    """The class to find, when the one sentence that weighs a binary matrix's two errors calls the costlier one a
    miss ("every septic patient we fail to alert on is 30 times as costly as an unnecessary alert", "a false
    negative is five times as costly as a false positive"): a miss is a positive case predicted negative, so the
    positive class is the true class of the costlier error. Only when the other side reads as a false alarm or
    names no miss; nothing else is guessed."""
    if len(matrix.labels) != 2:
        return None
    quote = matrix.evidence.text
    sides = COMPARED.split(quote, maxsplit=1)
    if len(sides) != 2:
        return None
    costlier, cheaper = sides
    if not _MISS_SIDE.search(costlier) or _MISS_SIDE.search(cheaper):
        return None
    if _ALARM_SIDE.search(costlier):
        return None
    (_, first_wrong), (second_wrong, _) = matrix.costs  # true labels[0] predicted labels[1], and the reverse
    if first_wrong == second_wrong:
        return None
    truth = matrix.labels[1] if second_wrong > first_wrong else matrix.labels[0]
    return ValueFact(value=truth, evidence=matrix.evidence)


def rules_sources(facts: DescriptionFacts) -> dict[str, Source]:
    """The sources of a reading by the parser alone (every fact ``rules``)."""
    return combine(facts, None)[1]


def read_description(
    text: str,
    *,
    classes: Sequence[Any] | None,
    columns: Sequence[Any] | None = None,
    task: str | None = None,
    target: str | None = None,
    extractor: Any = None,
    ask: Ask | None = None,
) -> Reading:
    """The parser's reading, cross-checked with the LLM's when ``extractor`` (an opened
    :class:`~metaconf.advise.llm.extract.Extractor`) is given."""
    started = time.perf_counter()
    rules = parse_description(text, columns=columns, classes=classes)
    if extractor is None:
        facts, sources, notes = combine(rules, None)
        return Reading(facts=facts, sources=sources, notes=notes, rules=rules, seconds=time.perf_counter() - started)
    # Without --interactive the LLM is not asked what the parser already read and the policy would keep anyway
    # (a cost matrix, a task type, a positive class, an interpretability wish): that halves a typical reading.
    extraction = extractor.extract(
        text, classes=classes, task=task, target=target, known=None if ask is not None else rules
    )
    completed = ""
    positive = extraction.facts.positive_class
    if rules.cost_matrix is None and positive is not None:
        # the parser read which cost is a miss and which a false alarm but not which class is to be found
        with_positive = parse_description(text, columns=columns, classes=classes, positive=positive.value)
        own = extraction.facts.cost_matrix
        if with_positive.cost_matrix is not None and (own is None or _matrix_key(own) == _matrix_key(with_positive.cost_matrix)):
            # the LLM's own reading of the costs outranks a completion that rests on its positive class alone
            rules = replace(with_positive, positive_class=None)
            completed = (
                f"the rule parser read the costs of a miss and of a false alarm; the LLM said `{positive.value}` "
                f"is the class to find (\u201c{positive.evidence.text}\u201d)"
            )
    facts, sources, notes = combine(rules, extraction.facts, ask=ask)
    if completed and "cost_matrix" in sources:
        source = sources["cost_matrix"]
        sources["cost_matrix"] = replace(source, reader="both", note="; ".join(n for n in (completed, source.note) if n))
    return Reading(
        facts=facts,
        sources=sources,
        notes=[*extraction.notes, *notes],
        rules=rules,
        llm=extraction,
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------------------------- provenance

_PATHS = (
    # (config path, fact): the values the rule advisor takes from the description
    ("task.cost_matrix", "cost_matrix"),
    ("task.metric", "metric"),
    ("task.positive_label", "positive_class"),
    ("search_space.models", "interpretability"),
    ("budget.walltime", "time_limit"),
    ("task.type", "task_type"),
)


def annotate_provenance(advice: Any, reading: Reading, identity: dict[str, str]) -> Any:
    """The advice with each value the description supplied naming its reader (``explain`` shows it): the reason
    says which reader read it (and what the other read, when they differ); a value only the LLM read has the
    origin ``llm``. ``provenance.model`` records the model, as for the LLM advisor."""
    from metaconf.config.model import Origin, ValueProvenance

    config = advice.config
    prov = config.provenance
    if prov is None or reading.llm is None:
        return advice
    values = dict(prov.values)
    model = identity.get("name", "the LLM")
    for path, fact in _PATHS:
        entry = values.get(path)
        if fact == "metric" and config.task.metric is not None and config.task.metric.value == "expected_cost":
            fact = "cost_matrix"
        source = reading.sources.get(fact)
        if entry is None or source is None or entry.origin != Origin.rule or "description" not in entry.reason:
            continue
        who = {"rules": "the rule parser", "llm": f"the LLM ({model})", "both": f"the rule parser and the LLM ({model})"}
        reason = f"{entry.reason}; read by {who[source.reader]}"
        if source.note:
            reason += f" ({source.note})"
        values[path] = ValueProvenance(origin=Origin.llm if source.reader == "llm" else Origin.rule, reason=reason)
    record = {k: str(v) for k, v in identity.items() if v != ""}
    record["role"] = "read the description (the rule advisor chose the values)"
    new = prov.model_copy(update={"values": values, "model": {**(prov.model or {}), **record}})
    return replace(advice, config=config.model_copy(update={"provenance": new}))
