"""`metaconf suggest --interactive --advisor llm`: follow-up questions when the description leaves the metric,
the target or the cost of errors unclear.

What is unclear is decided by the deterministic description parser (:mod:`metaconf.advise.describe`), never by
the model; the model only words the questions for this user's domain (constrained to at most one question per
unclear point). The user's answers are appended to the description, so both the parser and the LLM advisor read
them, and the recorded description digest covers them.
"""

from __future__ import annotations

import json
from string import Template
from typing import Any

from metaconf.advise.llm import LLMOptions
from metaconf.advise.llm.prompt import Prompt, _template

TOPICS = {
    "metric": "which metric measures success",
    "target": "which column is the target to predict",
    "costs": "what each kind of error costs",
}
QUESTION_MAX_CHARS = 160


def unclear_topics(facts: Any, *, task_type: str, n_classes: int, target_known: bool) -> list[str]:
    """The points a description leaves open, from the parser's facts (:class:`DescriptionFacts`)."""
    topics: list[str] = []
    if not target_known and facts.target_column is None:
        topics.append("target")
    if facts.suggested_metric is None:
        topics.append("metric")
    if task_type == "classification" and n_classes == 2 and facts.cost_matrix is None:
        topics.append("costs")
    return topics


def question_schema(topics: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "questions": {
                "type": "array",
                "maxItems": len(topics),
                "items": {
                    "type": "object",
                    "properties": {
                        "about": {"enum": topics},
                        "question": {"type": "string", "maxLength": QUESTION_MAX_CHARS},
                    },
                    "required": ["about", "question"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["questions"],
        "additionalProperties": False,
        "x-guidance": {"whitespace_flexible": False},
    }


def follow_up_questions(
    description: str, profile: str, topics: list[str], options: LLMOptions
) -> list[tuple[str, str]]:
    """(topic, question) pairs worded by the LLM, one per unclear topic at most; a topic the model skipped or
    worded badly gets a plain question (the user is always asked about every unclear point)."""
    from metaconf.advise.llm.backends import DecodingParams
    from metaconf.advise.llm.errors import LLMError
    from metaconf.advise.llm.factory import make_backend
    from metaconf.advise.llm.models import resolve_model

    model = resolve_model(options.model, options.server)
    backend = make_backend(options.backend or ("openai" if model.source == "server" else "guidance"), model)
    values = {
        "topics": ", ".join(TOPICS[t] for t in topics),
        "profile": profile,
        "description": description.strip() or "(empty)",
    }
    prompt = Prompt(
        system=Template(_template("system.txt")).safe_substitute(tool="metaconf").strip(),
        user=Template(_template("questions.txt")).safe_substitute(values).strip(),
    )
    params = DecodingParams(
        max_tokens=min(options.max_tokens, 400), seed=options.seed, timeout_s=options.timeout_s
    )
    text = backend.generate(prompt, question_schema(topics), params)
    try:
        items = json.loads(text)["questions"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise LLMError(f"the model's follow-up questions are not valid JSON: {text[:200]!r}") from None
    worded: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        about, question = item.get("about"), " ".join(str(item.get("question", "")).split())
        if about in topics and about not in worded and len(question) >= 10 and question.endswith("?"):
            worded[about] = question
    return [(t, worded.get(t, q)) for t, q in follow_up_questions_plain(topics)]


def with_answers(description: str, answers: list[tuple[str, str]]) -> str:
    """The description with the user's answers appended, one line per topic (``- metric: ...``).

    The questions themselves are left out: they name example metrics and costs, which the description parser
    would read as the user's words."""
    lines = [f"- {topic}: {' '.join(answer.split())}" for topic, answer in answers if answer.strip()]
    if not lines:
        return description
    return description.rstrip() + "\n\nThe user's answers to follow-up questions:\n" + "\n".join(lines) + "\n"


def follow_up_questions_plain(topics: list[str]) -> list[tuple[str, str]]:
    plain = {
        "metric": "Which metric should the search optimise (e.g. accuracy, balanced accuracy, ROC AUC, F1)?",
        "target": "Which column should the model predict?",
        "costs": "Which mistake is worse, and how many times worse is it than the other?",
    }
    return [(t, plain[t]) for t in topics]
