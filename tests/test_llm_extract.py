"""The description read by the parser and the LLM: the cross-check rules with the real parser, the spans code
finds for the LLM's questions, and a few real questions to the default model (Qwen2.5-Coder-1.5B-Instruct).

The real-model tests skip, with the install command in the reason, only where the model or llama.cpp is
absent; they ask a handful of questions, not the benchmark (``benchmarks/describe_quality.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from metaconf.advise.describe import parse_description
from metaconf.advise.facts import CostMatrixFact, DescriptionFacts, MetricHint, TimeLimit, ValueFact
from metaconf.advise.llm.extract import Extraction
from metaconf.advise.reading import combine, read_description
from metaconf.advise.spans import cost_figures, durations, measure_mentions, multipliers
from metaconf.advise.text import Evidence

CHURN = (
    "Telecom customers; we want to predict which customers will churn next quarter. A customer we fail to flag "
    "costs us about €300 in lost revenue, a retention offer sent to a loyal customer costs €20."
)
GERMAN = (
    "It is worse to class a customer as good when they are bad (5), than it is to class a customer as bad "
    "when they are good (1)."
)


def _evidence(text: str) -> Evidence:
    return Evidence(text=text, start=0, end=len(text))


def _normalised(matrix: CostMatrixFact, order: list[str]) -> list[list[float]]:
    labels = [str(label) for label in matrix.labels]
    index = [labels.index(label) for label in order]
    top = max(c for row in matrix.costs for c in row)
    return [[matrix.costs[i][j] / top for j in index] for i in index]


# ------------------------------------------------------------------------------------- spans code finds


def test_cost_figures_are_copied_with_their_clauses() -> None:
    figures = cost_figures(CHURN)
    assert [(f.value, f.written) for f in figures] == [(300.0, "€300"), (20.0, "€20")]
    assert figures[0].clause.text == "A customer we fail to flag costs us about €300 in lost revenue"
    assert figures[1].clause.text == "a retention offer sent to a loyal customer costs €20."
    assert CHURN[figures[0].clause.start : figures[0].clause.end].startswith("A customer we fail")
    thousands = cost_figures(
        "If we miss a failure, downtime costs around 12k dollars, while an inspection costs 400 dollars."
    )
    assert [f.value for f in thousands] == [12000.0, 400.0]
    assert thousands[0].clause.text.startswith("If we miss a failure")  # the clause keeps its condition
    assert cost_figures("Each lab test costs 40 dollars; the dataset has 600 patients.")[0].value == 40.0


def test_multipliers_need_a_comparison_of_mistakes() -> None:
    assert [
        m.value for m in multipliers("Missing a malignant tumour is ten times worse than a false alarm.")
    ] == [10.0]
    assert [m.value for m in multipliers("A missed case is twice as bad as a false positive.")] == [2.0]
    assert multipliers("About 10 times more customers stay than leave.") == []


def test_durations_and_measure_mentions() -> None:
    assert [
        (d.seconds, d.written) for d in durations("Budget: half an hour. No fit may take over 2 minutes.")
    ] == [
        (1800.0, "half an hour"),
        (120.0, "2 minutes"),
    ]
    mentions = measure_mentions("Don't optimise accuracy; use balanced accuracy instead.", "classification")
    assert [(m.metric, m.name) for m in mentions] == [
        ("balanced_accuracy", "balanced accuracy"),
        ("accuracy", "accuracy"),
    ]
    assert [
        m.metric
        for m in measure_mentions("We judge models by how much of the variance they explain.", "regression")
    ] == ["r2"]
    assert measure_mentions("Customer records from our CRM.", "classification") == []


# ----------------------------------------------------------------------------------- the cross-check


def _llm_matrix(
    costs: tuple[tuple[float, ...], ...], labels: tuple[str, ...] = ("good", "bad")
) -> DescriptionFacts:
    return DescriptionFacts(
        cost_matrix=CostMatrixFact(labels=labels, costs=costs, evidence=_evidence(GERMAN), layout="relative")
    )


def test_agreement_is_taken_from_both() -> None:
    rules = parse_description(GERMAN, classes=["bad", "good"])
    assert rules.cost_matrix is not None
    facts, sources, notes = combine(rules, _llm_matrix(((0.0, 2.0), (10.0, 0.0))))  # 5:1 at another scale
    assert facts.cost_matrix == rules.cost_matrix
    assert sources["cost_matrix"].reader == "both" and not sources["cost_matrix"].note and not notes


def test_disagreement_keeps_the_parser_and_says_both() -> None:
    rules = parse_description(GERMAN, classes=["bad", "good"])
    facts, sources, notes = combine(rules, _llm_matrix(((0.0, 5.0), (1.0, 0.0))))  # the transposed reading
    assert facts.cost_matrix == rules.cost_matrix
    source = sources["cost_matrix"]
    assert (
        source.reader == "rules"
        and "the LLM read" in source.note
        and "parser's reading is kept" in source.note
    )
    assert any(note.startswith("cost_matrix: the LLM read") for note in notes)


def test_interactive_disagreement_asks_the_user() -> None:
    rules = parse_description(GERMAN, classes=["bad", "good"])
    asked: list[tuple[str, list[str]]] = []

    def ask(question: str, options: list[str]) -> int:
        asked.append((question, list(options)))
        return 1

    llm = _llm_matrix(((0.0, 5.0), (1.0, 0.0)))
    facts, sources, _ = combine(rules, llm, ask=ask)
    assert facts.cost_matrix == llm.cost_matrix and sources["cost_matrix"].reader == "llm"
    assert len(asked) == 1 and "the rule parser read" in asked[0][1][0] and "the LLM read" in asked[0][1][1]


def test_an_llm_only_fact_is_taken_when_its_quote_backs_it() -> None:
    text = "Crop yield per field. What matters is how much of the yield's variance a model accounts for."
    rules = parse_description(text)
    assert rules.suggested_metric is None
    quote = _evidence("What matters is how much of the yield's variance a model accounts for.")
    backed = DescriptionFacts(metric_hints=(MetricHint("r2", "variance", "explicit", quote),))
    facts, sources, _ = combine(rules, backed)
    assert facts.suggested_metric is not None and facts.suggested_metric.metric == "r2"
    assert (sources["metric"].reader, sources["metric"].quote) == ("llm", quote.text)
    unbacked = DescriptionFacts(
        metric_hints=(MetricHint("rmse", "RMSE", "explicit", _evidence("Crop yield per field.")),)
    )
    facts, sources, notes = combine(parse_description("Crop yield per field."), unbacked)
    assert facts.suggested_metric is None and "metric" not in sources
    assert any("names no such measure" in note for note in notes)


SEPSIS = (
    "Column `sepsis`: 1 = sepsis within the stay, 0 = none. Every septic patient we fail to alert on is about 30 "
    "times as costly as an alert that turns out to be unnecessary."
)


def _sentence_matrix(
    text: str, costs: tuple[tuple[float, ...], ...], labels: tuple[object, ...]
) -> DescriptionFacts:
    sentence = text[text.index(". ") + 2 :] if ". " in text else text
    return DescriptionFacts(
        cost_matrix=CostMatrixFact(
            labels=labels, costs=costs, evidence=_evidence(sentence), layout="relative"
        )
    )


@pytest.mark.parametrize(
    ("text", "costs", "positive"),
    [
        # the costlier side is a miss: its true class is the class to find
        (SEPSIS, ((0.0, 1.0), (30.0, 0.0)), 1),
        ("Loans. A false negative (approving someone who then defaults) is five times as costly as a false "
         "positive.", ((0.0, 1.0), (5.0, 0.0)), 1),
        # the costlier side is a false alarm, or no side says miss: nothing is guessed
        ("Spam. A false positive is much worse: count it as 10 times the cost of a false negative.",
         ((0.0, 10.0), (1.0, 0.0)), None),
        ("Biopsies. Sending a patient with a malignant tumour home is 20 times worse than an unnecessary "
         "follow-up.", ((0.0, 1.0), (20.0, 0.0)), None),
    ],
)  # fmt: skip
def test_the_class_whose_miss_the_sentence_prices_is_the_positive_class(
    text: str, costs: tuple[tuple[float, ...], ...], positive: object
) -> None:
    facts, sources, _ = combine(DescriptionFacts(), _sentence_matrix(text, costs, (0, 1)))
    assert (facts.positive_class.value if facts.positive_class else None) == positive
    if positive is not None:
        assert (
            sources["positive_class"].reader == "llm"
            and "false negative is a missed positive" in sources["positive_class"].note
        )


class _Reads:
    """An extractor that returns fixed facts: the cross-check's policy under test, not a model (the real model
    runs in the tests marked ``real`` below)."""

    def __init__(self, facts: DescriptionFacts):
        self.facts = facts

    def extract(self, text: str, **_: object) -> Extraction:
        return Extraction(facts=self.facts)


MARKETING = (
    "Bank telemarketing, target y (yes = subscribed). Calling a customer who won't subscribe wastes about 5 euros "
    "of agent time; missing a customer who would have subscribed loses about 50 euros of margin."
)


def test_the_parser_s_money_matrix_is_completed_by_the_llm_s_class_unless_the_llm_read_other_costs() -> None:
    classes = ["no", "yes"]
    assert parse_description(MARKETING, classes=classes).cost_matrix is None  # which class is found: not said
    quote = _evidence("target y (yes = subscribed)")
    said_yes = DescriptionFacts(positive_class=ValueFact(value="yes", evidence=quote))
    reading = read_description(MARKETING, classes=classes, extractor=_Reads(said_yes))
    assert reading.facts.cost_matrix is not None
    assert _normalised(reading.facts.cost_matrix, classes) == [
        [0.0, 0.1],
        [1.0, 0.0],
    ]  # a missed yes: 50 euros
    assert reading.sources["cost_matrix"].reader == "both"
    # a wrong class from the LLM, while its own reading of the two figures is right: its matrix is kept
    own = CostMatrixFact(
        labels=("no", "yes"),
        costs=((0.0, 5.0), (50.0, 0.0)),
        evidence=_evidence(MARKETING),
        layout="sentences",
    )
    said_no = DescriptionFacts(positive_class=ValueFact(value="no", evidence=quote), cost_matrix=own)
    reading = read_description(MARKETING, classes=classes, extractor=_Reads(said_no))
    assert reading.facts.cost_matrix == own and reading.sources["cost_matrix"].reader == "llm"


def test_a_metric_the_llm_reads_as_rejected_is_not_the_wish() -> None:
    text = "RMSE punishes our rare huge orders far too much."
    rules = parse_description(text)
    assert (
        rules.suggested_metric is not None and rules.suggested_metric.metric == "rmse"
    )  # the regex misses it
    llm = DescriptionFacts(metric_hints=(MetricHint("rmse", "RMSE", "negated", _evidence(text)),))
    facts, sources, notes = combine(rules, llm)
    assert facts.suggested_metric is None
    assert sources["excluded_metrics"].value == "rmse" and any("read it as ruled out" in n for n in notes)


def test_an_llm_only_time_limit_needs_a_budget_word() -> None:
    text = "Label 1 means the pump failed within 7 days of the reading."
    llm = DescriptionFacts(time_limits=(TimeLimit(604800.0, "7 days", "total", _evidence(text)),))
    facts, sources, notes = combine(parse_description(text), llm)
    assert (
        facts.time_limit_s is None
        and "time_limit" not in sources
        and any("names no budget" in n for n in notes)
    )
    budget = "Let it run over lunch, say 45 minutes."
    llm = DescriptionFacts(time_limits=(TimeLimit(2700.0, "45 minutes", "total", _evidence(budget)),))
    facts, sources, _ = combine(DescriptionFacts(), llm)
    assert facts.time_limit_s == 2700.0 and sources["time_limit"].reader == "llm"


def test_positive_class_and_task_type_agreement() -> None:
    text = "Predict whether a transaction is fraud; we must detect fraud."
    rules = parse_description(text, classes=["fraud", "ok"])
    assert rules.task_type is not None and rules.task_type.value == "classification"
    llm = DescriptionFacts(
        positive_class=ValueFact("fraud", _evidence(text)),
        task_type=ValueFact("classification", _evidence(text)),
    )
    _, sources, _ = combine(rules, llm)
    assert sources["positive_class"].reader == "both" and sources["task_type"].reader == "both"


def test_parser_alone_names_no_reader_conflict() -> None:
    reading = read_description(CHURN, classes=["No", "Yes"])
    assert reading.llm is None and all(source.reader == "rules" for source in reading.sources.values())


# ----------------------------------------------------------------------------------------- task words


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Predict the number of bikes rented per hour.", "regression"),
        ("How many calls will the call centre receive tomorrow?", "regression"),
        ("Estimate the sale price of houses in Ames.", "regression"),
        ("We want to predict the claim amount for each policy.", "regression"),
        ("Forecast how much electricity each building will use.", "regression"),
        ("Predict whether a customer will buy the warranty.", "classification"),
        ("We want to predict which customers will churn.", "classification"),
        ("We need to classify incoming emails as billing or sales.", "classification"),
        ("Predict whether the price goes up tomorrow.", "classification"),
        ("The price of each item varies by region.", None),
        ("A customer we fail to flag costs us €300.", None),
        ("Correct predictions cost nothing.", None),
    ],
)
def test_task_type_words(text: str, task: str | None) -> None:
    found = parse_description(text).task_type
    assert (found.value if found else None) == task
    if found is not None:
        assert found.evidence.text == text


# ------------------------------------------------------------------------------------------- real model


def _default_model() -> Path | None:
    if any(importlib.util.find_spec(m) is None for m in ("llama_cpp", "guidance", "llguidance")):
        return None
    from metaconf.advise.llm.models import DEFAULT_MODEL, REGISTRY, model_status

    status = model_status(REGISTRY[DEFAULT_MODEL])
    return status.path if status.usable else None


INSTALL = "metaconf backends install llm  (installs the default model, Qwen2.5-Coder-1.5B-Instruct)"
real = pytest.mark.skipif(_default_model() is None, reason=f"the default LLM is not installed: {INSTALL}")


@pytest.fixture(scope="module")
def extractor():  # type: ignore[no-untyped-def]
    from metaconf.advise.llm.extract import Extractor
    from metaconf.advise.llm.models import DEFAULT_MODEL

    return Extractor.open(DEFAULT_MODEL, timeout_s=600)


@real
@pytest.mark.slow
def test_churn_sentence_is_a_15_to_1_matrix_with_its_quote(extractor) -> None:  # type: ignore[no-untyped-def]
    # Yes / No: the parser reads which figure prices a miss and which a false alarm, and `Yes` is what is found
    reading = read_description(CHURN, classes=["No", "Yes"], target="Churn", extractor=extractor)
    matrix = reading.facts.cost_matrix
    assert matrix is not None
    # rows: true class, columns: predicted; a churner we fail to flag (true Yes, predicted No) costs 15x
    assert _normalised(matrix, ["No", "Yes"]) == [[0.0, 20 / 300], [1.0, 0.0]]
    source = reading.sources["cost_matrix"]
    assert "€300" in source.quote and "€20" in source.quote
    assert (
        reading.facts.suggested_metric is not None
        and reading.facts.suggested_metric.metric == "expected_cost"
    )
    # the classes' own names: only the LLM can tell which is found ("predict which customers will churn")
    named = read_description(CHURN, classes=["churned", "stayed"], target="status", extractor=extractor)
    assert named.facts.cost_matrix is not None
    assert _normalised(named.facts.cost_matrix, ["stayed", "churned"]) == [[0.0, 20 / 300], [1.0, 0.0]]
    assert named.sources["cost_matrix"].reader in (
        "llm",
        "both",
    )  # the parser alone cannot tell which is found
    # the same description gives the same answers (greedy decoding, a fresh cache per description)
    again = read_description(CHURN, classes=["churned", "stayed"], target="status", extractor=extractor)
    assert [a.answer for a in again.answers] == [a.answer for a in named.answers]


@real
@pytest.mark.slow
def test_an_empty_description_asks_nothing(extractor) -> None:  # type: ignore[no-untyped-def]
    extraction = extractor.extract("   \n", classes=[0, 1])
    assert extraction.answers == [] and extraction.facts.is_empty


@real
@pytest.mark.slow
def test_suggest_writes_the_llm_read_matrix_byte_identically(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from metaconf.advise.suggest import SuggestRequest, make_suggestion

    rng = np.random.default_rng(0)
    data = tmp_path / "churn.csv"
    pd.DataFrame(
        {
            "tenure": rng.integers(1, 72, 300),
            "calls": rng.poisson(2, 300),
            "Churn": rng.choice(["Yes", "No"], 300),
        }
    ).to_csv(data, index=False)
    texts = []
    for name in ("a.yaml", "b.yaml"):
        request = SuggestRequest(
            output=tmp_path / name,
            budget="2m",
            data=data,
            target="Churn",
            describe=CHURN,
            probe=False,
            advisor="auto",
        )
        texts.append(make_suggestion(request).text)
    assert texts[0] == texts[1]
    assert "costs: [[0.0, 20.0], [300.0, 0.0]]" in texts[0] and "labels: ['No', 'Yes']" in texts[0]
    assert "read by the rule parser" in texts[0] and "A customer we fail to flag" in texts[0]
