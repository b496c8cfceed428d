"""The LLM reads a description as a short sequence of small, JSON-schema-constrained questions; code decides.

Each question is one a small model answers well: an enum to choose from, never free text and never arithmetic.

- **task**: a class, a quantity, or not stated;
- **metric**: the measure wished for and the one ruled out, each an enum of metaconf's metrics (plus recall /
  precision, mapped to F1 as the parser does) or "not stated";
- **positive**: which of the data's own labels the user wants to find (binary tasks);
- **errors**: for each cost figure code found (``€300``, ``12k dollars``, ``= 25``), which mistake its clause
  describes: an enum of "a `Yes` case predicted as `No`"-style options built from the data's labels (with
  what a coded label means, when the text has a legend), or "not a mistake";
- **worse**: for a "ten times worse" sentence, which mistake it says costs more;
- **time**: for each duration code found, a limit on the whole search, on one model fit, or not a limit;
- **interpretability**: yes, no (a black box is fine), or not stated.

Questions that cannot apply are not asked: no cost questions for a regression or without a figure or a
multiplier in the text, no time question without a duration, nothing at all for an empty description. Every
answer that names a fact carries a quote: a sentence of the user's text chosen from an enum of its sentences,
or the clause / sentence around the figure code found, so the quote is always the user's own words. The cost
matrix is built in code from the copied numbers (the ratio is never the model's arithmetic).

The questions share one prompt prefix (instructions, the description, the classes), so llama.cpp evaluates it
once and each question only adds its own lines (guidance's engine keeps the KV cache of the longest common
prefix). Decoding is greedy with a fixed seed and a fresh cache per description, so one description always
gives the same answers.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from metaconf.advise.facts import (
    CostMatrixFact,
    DescriptionFacts,
    Mention,
    MetricHint,
    TimeLimit,
    ValueFact,
    label_meanings,
)
from metaconf.advise.llm.errors import LLMError
from metaconf.advise.spans import (
    TASK_WORDS,
    UNDERSTAND_WORDS,
    Figure,
    Span,
    class_sentences,
    cost_figures,
    durations,
    measure_mentions,
    multipliers,
    sentences,
    sentences_with,
)
from metaconf.advise.text import Evidence
from metaconf.resources import data_dir

NOT_STATED = "not stated"
NOT_ABOUT_MISTAKES = "not about mistakes"
NOT_A_MISTAKE = "not a mistake"
ANY = "any"
NO_QUOTE = "none"

MEASURE_USES = {"wish": "explicit", "rejected": "negated", "reported": None, "other": None}
"""The model's answer about a measure the text names -> the parser's :data:`~metaconf.advise.describe.Strength`."""
MEASURE_REASONS = {
    "recall": "the config metrics have no recall; F1 keeps recall in the objective without the predict-all-positive "
    "optimum",
    "precision": "the config metrics have no precision; F1 keeps precision in the objective without the trivial "
    "optimum",
    "log loss": "log loss rewards calibrated probabilities (a proper scoring rule)",
}
UNDERSTANDING = {"must be understandable": False, "black box is fine": True}
"""The model's answer -> :attr:`Mention.negated` of an interpretability wish."""
SCOPES = {"the whole search": "total", "one model fit": "per_trial", "not a time limit": None}
TASKS = {"a category": "classification", "a number": "regression"}
ANSWER_TOKENS = 160
"""Most tokens one answer may take (the longest is the truth-framed errors question over a list of figures)."""


@cache
def templates() -> dict[str, str]:
    """The prompt pieces of ``templates/prompts/extract.txt`` by section name."""
    text = data_dir("templates.prompts").joinpath("extract.txt").read_text(encoding="utf-8")
    sections: dict[str, str] = {}
    name = None
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            name = line[3:].strip()
            sections[name] = ""
        elif name is not None:
            sections[name] += line
    return {k: v.strip("\n") + "\n" for k, v in sections.items()}


def template_hash() -> str:
    import hashlib

    return hashlib.sha256(json.dumps(templates(), sort_keys=True).encode()).hexdigest()


# ----------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Answer:
    """One question and the model's answer."""

    key: str
    question: str
    answer: dict[str, Any]
    seconds: float


@dataclass
class Extraction:
    """What the LLM read: the facts (the parser's types, so the rules consume them alike) and the answers."""

    facts: DescriptionFacts
    answers: list[Answer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        "x-guidance": {"whitespace_flexible": False},
    }


def _enum(values: Sequence[str]) -> dict[str, Any]:
    return {"enum": list(dict.fromkeys(values))}


# ------------------------------------------------------------------------------------------------ labels


class _Labels:
    """The data's classes as the questions show them: the label, and for a coded label what a legend in the
    text says it means (``1 (the pump failed within 7 days)``)."""

    def __init__(self, classes: Sequence[Any], text: str, target: str | None = None):
        self.classes = list(classes)
        self.meanings = label_meanings(text, self.classes)
        yes_no = {str(c).lower(): c for c in self.classes}
        if target and not self.meanings and len(yes_no) == 2:
            # `Yes` / `No` say nothing on their own; the target column's name says what they answer
            for yes, no in (("yes", "no"), ("true", "false"), ("1", "0"), ("y", "n")):
                if set(yes_no) == {yes, no}:
                    self.meanings = {str(yes_no[yes]): str(target), str(yes_no[no]): f"not {target}"}

    def show(self, label: Any) -> str:
        meaning = self.meanings.get(str(label))
        return f"{label} ({meaning})" if meaning else str(label)

    def line(self) -> str:
        return "The target's classes: " + ", ".join(f"`{self.show(c)}`" for c in self.classes) + ".\n"

    def options(self) -> dict[str, Any]:
        """Option text -> label."""
        return {self.show(c): c for c in self.classes}

    def other(self, label: Any) -> Any:
        """The other class of a binary target."""
        return next(c for c in self.classes if c != label)


# ------------------------------------------------------------------------------------------------ session


class _Session:
    """One description's questions over one loaded model: a fresh KV cache, the shared prefix kept."""

    def __init__(self, extractor: Extractor):
        self.extractor = extractor
        self.base: Any = None

    def ask(self, prefix: str, question: str, schema: dict[str, Any]) -> dict[str, Any]:
        from metaconf.advise.llm.prompt import Prompt

        extractor = self.extractor
        prompt = Prompt(system=templates()["system"].strip(), user=prefix + "\n" + question.strip())
        if extractor.llm is None:  # a server, or the outlines backend: one request per question
            text = extractor.backend.generate(prompt, schema, extractor.params(ANSWER_TOKENS))
        else:
            import guidance

            from metaconf.advise.llm.backends import quiet_native_stderr
            from metaconf.advise.llm.guidance_backend import guidance_model

            rendered = extractor.backend.render(prompt)
            params = extractor.params(ANSWER_TOKENS)
            with extractor.backend.deadline(extractor.llm, params), warnings.catch_warnings(), quiet_native_stderr():
                warnings.simplefilter("ignore")  # "chat template could not be loaded": it is rendered above
                if self.base is None:
                    self.base = guidance_model(extractor.llm)
                lm = self.base + rendered + guidance.json(
                    name="answer", schema=schema, max_tokens=ANSWER_TOKENS, temperature=0.0
                )
            text = str(lm["answer"])
        try:
            answer = json.loads(text)
        except ValueError:
            raise LLMError(
                f"the model's answer is not valid JSON: {text[:200]!r}",
                "the answer may have been cut off, or the server ignores the JSON-schema response format",
            ) from None
        if not isinstance(answer, dict):
            raise LLMError(f"the model's answer is not a JSON object: {text[:200]!r}")
        return answer


# ---------------------------------------------------------------------------------------------- extractor


class Extractor:
    """A loaded model that answers the description questions. Open once, then :meth:`extract` per text."""

    def __init__(self, backend: Any, llm: Any, *, seed: int = 0, timeout_s: float = 60.0):
        self.backend = backend
        self.llm = llm
        """The loaded ``llama_cpp.Llama`` for the guidance backend (shared across questions), else None."""
        self.seed = seed
        self.timeout_s = timeout_s

    @classmethod
    def open(
        cls,
        model: str | Path | None = None,
        *,
        server: str | None = None,
        backend: str | None = None,
        threads: int | None = None,
        seed: int = 0,
        timeout_s: float = 60.0,
    ) -> Extractor:
        """Load ``model`` (a registry name, a GGUF path, None for the best installed) or connect to ``server``."""
        from metaconf.advise.llm.models import resolve_model

        ref = resolve_model(model, server)
        return cls.from_ref(ref, backend=backend, threads=threads, seed=seed, timeout_s=timeout_s)

    @classmethod
    def from_ref(
        cls,
        ref: Any,
        *,
        backend: str | None = None,
        threads: int | None = None,
        seed: int = 0,
        timeout_s: float = 60.0,
    ) -> Extractor:
        """An extractor over a resolved :class:`~metaconf.advise.llm.models.ModelRef` (the model is loaded once
        here; a server is only connected to)."""
        from metaconf.advise.llm.backends import LlamaCppBackend
        from metaconf.advise.llm.factory import make_backend

        name = backend or ("openai" if ref.source == "server" else "guidance")
        made = make_backend(name, ref) if ref.source == "server" else make_backend(name, ref, threads=threads)
        llm = made._load(seed=seed) if isinstance(made, LlamaCppBackend) and name == "guidance" else None
        return cls(made, llm, seed=seed, timeout_s=timeout_s)

    def params(self, max_tokens: int) -> Any:
        from metaconf.advise.llm.backends import DecodingParams

        return DecodingParams(max_tokens=max_tokens, seed=self.seed, timeout_s=self.timeout_s)

    def identity(self) -> dict[str, str]:
        return {**self.backend.identity(), "extract_prompts_sha256": template_hash()}

    # ------------------------------------------------------------------------------------------ the questions

    def extract(
        self,
        text: str,
        *,
        classes: Sequence[Any] | None,
        task: str | None = None,
        known: DescriptionFacts | None = None,
        target: str | None = None,
    ) -> Extraction:
        """Ask the questions that apply to ``text`` and turn the answers into facts.

        ``classes``: the target's classes as the data spells them (None for a regression target); ``task``: the
        data's task type (``classification`` / ``regression``; from ``classes`` when None), which picks the
        measures asked about; ``target``: the target column's name (it says what `Yes` / `No` labels answer).
        ``known``: what the rule parser already read; questions whose answer could not
        change the combined reading (:mod:`metaconf.advise.reading`) are then not asked (a cost matrix, a task
        type, a positive class, a time limit or an interpretability wish the parser found), and the parser's
        positive class frames the cost questions.
        """
        started = time.perf_counter()
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        spans = sentences(text)
        if not spans:
            return Extraction(facts=DescriptionFacts())
        task = task or ("regression" if classes is None else "classification")
        labels = _Labels(classes, text, target) if classes else None
        parts = templates()
        prefix = Template(parts["head"]).substitute(
            sentences="\n".join(span.text for span in spans), classes=labels.line() if labels else ""
        )
        run = _Run(self, prefix)
        known = known or DescriptionFacts()

        task_fact = None if known.task_type is not None else self._task(text, parts, run)
        hints = self._metric(text, task, parts, run)
        positive: ValueFact | None = None
        if labels is not None and len(labels.classes) == 2 and known.positive_class is None:
            positive = self._positive(text, labels, parts, run)
        cost_matrix = None
        if labels is not None and known.cost_matrix is None:
            frame = known.positive_class or positive
            cost_matrix = self._costs(text, labels, frame.value if frame else None, parts, run)
        limits = self._time(text, parts, run) if not known.time_limits else []
        interpretability = None if known.interpretability is not None else self._interpretability(text, parts, run)
        facts = DescriptionFacts(
            cost_matrix=cost_matrix,
            metric_hints=tuple(hints),
            positive_class=positive,
            time_limits=tuple(limits),
            interpretability=interpretability,
            task_type=task_fact,
        )
        return Extraction(facts=facts, answers=run.answers, notes=run.notes, seconds=time.perf_counter() - started)

    def _task(self, text: str, parts: dict[str, str], run: _Run) -> ValueFact | None:
        found = sentences_with(text, TASK_WORDS)
        if not found:
            return None
        answer = run.ask("task", Template(parts["task"]).substitute(items=_items(found)), _each(found, [*TASKS, "no"]))
        for i, span in enumerate(found, 1):
            value = TASKS.get(answer.get(str(i), ""))
            if value is not None:
                return ValueFact(value=value, evidence=_evidence(span))
        return None

    def _metric(self, text: str, task: str, parts: dict[str, str], run: _Run) -> list[MetricHint]:
        mentions = measure_mentions(text, task)
        if not mentions:
            return []
        items = "\n".join(f'{i}. "{m.written}" in: "{m.sentence.text}"' for i, m in enumerate(mentions, 1))
        answer = run.ask(
            "metric", Template(parts["metric"]).substitute(items=items), _each(mentions, list(MEASURE_USES))
        )
        hints: list[MetricHint] = []
        for i, mention in enumerate(mentions, 1):
            strength = MEASURE_USES.get(answer.get(str(i), ""))
            if strength is None:
                continue
            if strength == "explicit" and any(h.strength == "explicit" for h in hints):
                continue  # the first wish decides, as the parser's first explicit hint does
            hints.append(
                MetricHint(
                    metric=mention.metric,
                    word=mention.written,
                    strength=strength,  # type: ignore[arg-type]
                    evidence=_evidence(mention.sentence),
                    reason=MEASURE_REASONS.get(mention.name, ""),
                )
            )
        wished = {h.metric for h in hints if h.strength == "explicit"}
        rejected = {h.metric for h in hints if h.strength == "negated"}
        for metric in wished & rejected:
            run.notes.append(f"the LLM read `{metric}` as both wished for and ruled out; neither is used")
        return [h for h in hints if h.metric not in wished & rejected]

    def _positive(self, text: str, labels: _Labels, parts: dict[str, str], run: _Run) -> ValueFact | None:
        found = class_sentences(text, labels.classes, labels.meanings)
        if not found:
            return None
        options = labels.options()
        answer = run.ask(
            "positive",
            parts["positive"],
            _object(
                {
                    "answer": _enum([*options, NOT_STATED]),
                    "quote": _enum([*(span.text for span in found), NO_QUOTE]),
                }
            ),
        )
        quoted = next((span for span in found if span.text == answer.get("quote")), None)
        if answer.get("answer") in options and quoted is not None:
            return ValueFact(value=_plain(options[answer["answer"]]), evidence=_evidence(quoted))
        return None

    def _costs(
        self, text: str, labels: _Labels, positive: Any, parts: dict[str, str], run: _Run
    ) -> CostMatrixFact | None:
        """The cost matrix from the figures' clauses (which mistake each is the cost of) or from a multiplier
        sentence (which mistake is worse): the model classifies, code copies the numbers and divides."""
        binary = len(labels.classes) == 2
        options = labels.options()
        framed = binary and positive is not None and any(str(c) == str(positive) for c in labels.classes)
        if framed:
            positive = next(c for c in labels.classes if str(c) == str(positive))
            negative = labels.other(positive)
            missed, alarm = f"a missed {labels.show(positive)}", "a false alarm"
            mistakes = {missed: (positive, negative), alarm: (negative, positive)}
            frame = {"positive": labels.show(positive), "negative": labels.show(negative)}
        figures = cost_figures(text)
        if len(figures) >= 2:
            items = _items([f.clause for f in figures])
            assigned: list[tuple[Figure, Any, Any]] = []
            if framed:
                answer = run.ask(
                    "errors",
                    Template(parts["errors"]).substitute(items=items, **frame),
                    _each(figures, [missed, alarm, "neither"]),
                )
                for i, figure in enumerate(figures, 1):
                    pair = mistakes.get(answer.get(str(i), ""))
                    if pair is not None:
                        assigned.append((figure, *pair))
            else:
                truth_options = [*options, ANY, NOT_A_MISTAKE]
                answer = run.ask(
                    "errors",
                    Template(parts["errors_truth"]).substitute(items=items),
                    _object(
                        {
                            str(i): _object({"truly": _enum(truth_options), "predicted": _enum([*options, ANY])})
                            for i in range(1, len(figures) + 1)
                        }
                    ),
                )
                for i, figure in enumerate(figures, 1):
                    item = answer.get(str(i)) or {}
                    truly, predicted = item.get("truly"), item.get("predicted")
                    if truly == ANY or (predicted == ANY and truly in options and not binary):
                        assigned.append((figure, ANY, ANY))
                    elif truly in options and predicted in options and truly != predicted:
                        assigned.append((figure, options[truly], options[predicted]))
                    elif truly in options and binary:
                        assigned.append((figure, options[truly], labels.other(options[truly])))
            matrix = _matrix_from_figures(labels, assigned, run.notes)
            if matrix is not None:
                return matrix
        for multiplier in multipliers(text):
            worse: tuple[Any, Any] | None = None
            if framed:
                answer = run.ask(
                    "worse",
                    Template(parts["worse"]).substitute(sentence=multiplier.sentence.text, **frame),
                    _object({"answer": _enum([missed, alarm, NOT_ABOUT_MISTAKES])}),
                )
                worse = mistakes.get(answer.get("answer", ""))
            else:
                answer = run.ask(
                    "worse",
                    Template(parts["worse_truth"]).substitute(sentence=multiplier.sentence.text),
                    _object({"truly": _enum([*options, NOT_ABOUT_MISTAKES]), "predicted": _enum(list(options))}),
                )
                truth, predicted = options.get(answer.get("truly", "")), options.get(answer.get("predicted", ""))
                if truth is not None and binary:
                    worse = (truth, labels.other(truth))
                elif truth is not None and predicted is not None and truth != predicted:
                    worse = (truth, predicted)
            if worse is None:
                continue
            index = {str(c): i for i, c in enumerate(labels.classes)}
            k = len(labels.classes)
            costs = [[0.0 if i == j else 1.0 for j in range(k)] for i in range(k)]
            costs[index[str(worse[0])]][index[str(worse[1])]] = multiplier.value
            return CostMatrixFact(
                labels=tuple(_plain(c) for c in labels.classes),
                costs=tuple(tuple(row) for row in costs),
                evidence=_evidence(multiplier.sentence),
                layout="relative",
                notes=(
                    f"the LLM read the costlier mistake as a `{worse[0]}` case predicted as `{worse[1]}`; "
                    f"\u201c{multiplier.written}\u201d copied from the text; the other mistakes cost 1",
                ),
            )
        return None

    def _time(self, text: str, parts: dict[str, str], run: _Run) -> list[TimeLimit]:
        found = durations(text)
        if not found:
            return []
        items = "\n".join(f'{i}. "{d.written}" in: "{d.sentence.text}"' for i, d in enumerate(found, 1))
        answer = run.ask("time", Template(parts["time"]).substitute(items=items), _each(found, list(SCOPES)))
        limits: list[TimeLimit] = []
        for i, duration in enumerate(found, 1):
            scope = SCOPES.get(answer.get(str(i), ""))
            if scope is not None and all(limit.scope != scope for limit in limits):
                limits.append(
                    TimeLimit(
                        seconds=duration.seconds,
                        text=duration.written,
                        scope=scope,  # type: ignore[arg-type]
                        evidence=_evidence(duration.sentence),
                    )
                )
        return limits

    def _interpretability(self, text: str, parts: dict[str, str], run: _Run) -> Mention | None:
        found = sentences_with(text, UNDERSTAND_WORDS)
        if not found:
            return None
        answer = run.ask(
            "interpretability",
            Template(parts["interpretability"]).substitute(items=_items(found)),
            _each(found, [*UNDERSTANDING, "other"]),
        )
        for i, span in enumerate(found, 1):
            said = answer.get(str(i), "")
            if said in UNDERSTANDING:
                return Mention(word="interpretable", negated=UNDERSTANDING[said], evidence=_evidence(span))
        return None


class _Run:
    """The questions of one description: a fresh KV cache, the shared prefix kept; answers and notes."""

    def __init__(self, extractor: Extractor, prefix: str):
        self.session = _Session(extractor)
        self.prefix = prefix
        self.answers: list[Answer] = []
        self.notes: list[str] = []

    def ask(self, key: str, question: str, schema: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        answer = self.session.ask(self.prefix, question, schema)
        self.answers.append(Answer(key=key, question=question, answer=answer, seconds=time.perf_counter() - t0))
        return answer


def _items(spans: Sequence[Span]) -> str:
    return "\n".join(f'{i}. "{span.text}"' for i, span in enumerate(spans, 1))


def _each(items: Sequence[Any], options: Sequence[str]) -> dict[str, Any]:
    """One enum answer per numbered item."""
    return _object({str(i): _enum(options) for i in range(1, len(items) + 1)})


def _evidence(span: Span) -> Evidence:
    return Evidence(text=span.text, start=span.start, end=span.end)


def _matrix_from_figures(
    labels: _Labels, assigned: Sequence[tuple[Figure, Any, Any]], notes: list[str]
) -> CostMatrixFact | None:
    """The matrix the figures give once the model said which mistake each one costs (``ANY`` for "every other
    mistake"), or None when they do not name distinct mistakes."""
    named: dict[tuple[str, str], float] = {}
    other: float | None = None
    used: list[Span] = []
    for figure, truth, predicted in assigned:
        if truth == ANY:
            other = figure.value
            used.append(figure.clause)
            continue
        key = (str(truth), str(predicted))
        if key in named and named[key] != figure.value:
            notes.append(
                f"the LLM read two costs ({named[key]:g} and {figure.value:g}) as the cost of the same mistake "
                f"(a `{truth}` case predicted as `{predicted}`); no cost matrix is taken from the figures"
            )
            return None
        named[key] = figure.value
        used.append(figure.clause)
    k = len(labels.classes)
    if not named or (k == 2 and len(named) < 2):
        return None
    missing = k * (k - 1) - len(named)
    if missing and other is None:
        return None  # a mistake without a cost: not a matrix the text states
    index = {str(c): i for i, c in enumerate(labels.classes)}
    costs = [[0.0 if i == j else float(other or 0.0) for j in range(k)] for i in range(k)]
    for (truth, predicted), value in named.items():
        costs[index[truth]][index[predicted]] = value
    ordered = sorted(used, key=lambda span: span.start)
    return CostMatrixFact(
        labels=tuple(_plain(c) for c in labels.classes),
        costs=tuple(tuple(row) for row in costs),
        evidence=Evidence(" … ".join(span.text for span in ordered), ordered[0].start, ordered[-1].end),
        layout="sentences",
        notes=("the LLM said which mistake each figure is the cost of; the figures are copied from the text",),
    )


def _plain(value: Any) -> Any:
    from metaconf.advise.facts import plain_label as plain

    return plain(value)
