"""The description parser on real-looking descriptions, including ones that must extract nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metaconf.advise.describe import parse_description
from metaconf.config.model import CostMatrix, Metric
from metaconf.resources import data_dir

# The layout of OpenML dataset 31 (credit-g): labelled rows, "(predicted)" on the header, "(actual)" on a row.
OPENML_CREDIT_G = """\
**Author**: Dr. Hans Hofmann
**Source**: [UCI](https://archive.ics.uci.edu/ml/datasets/statlog+(german+credit+data)) - 1994

**German Credit dataset**
This dataset classifies people described by a set of attributes as good or bad credit risks.

This dataset comes with a cost matrix:
```
      Good  Bad (predicted)
Good   0    1   (actual)
Bad    5    0
```

It is worse to class a customer as good when they are bad (5), than it is to class a customer as bad when they
are good (1).
"""

# The UCI layout: numeric codes, dashed separators and a legend.
UCI_STATLOG = """\
This dataset requires use of a cost matrix (see below)

      1        2
----------------------------
  1   0        1
-----------------------
  2   5        0

(1 = Good,  2 = Bad)

the rows represent the actual classification and the columns the predicted classification.
"""

IRIS = """\
**Author**: R.A. Fisher
**Source**: [UCI](https://archive.ics.uci.edu/ml/datasets/Iris) - 1936 - Donated by Michael Marshall
**Please cite**:

**Iris Plants Database**
This is perhaps the best known database to be found in the pattern recognition literature. Fisher's paper is a
classic in the field and is referenced frequently to this day. The data set contains 3 classes of 50 instances
each, where each class refers to a type of iris plant. One class is linearly separable from the other 2; the
latter are NOT linearly separable from each other.

Predicted attribute: class of iris plant.

1. sepal length in cm
2. sepal width in cm
3. petal length in cm
4. petal width in cm
5. class: Iris Setosa, Iris Versicolour, Iris Virginica
"""

SENSOR_LOG = """\
Readings from 14 sensors on a production line, sampled every 10 minutes over 3 years. Each row is a
10-minute window; the machine was serviced every 2 weeks. Column 7 is 0.5 on average. Values 1 2 3 appear
in the status column.
"""


def test_openml_credit_g_layout() -> None:
    facts = parse_description(OPENML_CREDIT_G)
    assert facts.cost_matrix is not None
    assert facts.cost_matrix.labels == ("Good", "Bad")
    assert facts.cost_matrix.costs == ((0.0, 1.0), (5.0, 0.0))
    assert facts.cost_matrix.layout == "table"
    assert "Good  Bad (predicted)" in facts.cost_matrix.evidence.text
    assert "when they are bad (5)" in " ".join(facts.cost_matrix.evidence.text.split())
    assert facts.suggested_metric is not None and facts.suggested_metric.metric == "expected_cost"


def test_uci_codes_with_legend_are_mapped_to_the_data_classes() -> None:
    facts = parse_description(UCI_STATLOG, classes=["good", "bad"])
    assert facts.cost_matrix is not None
    assert facts.cost_matrix.labels == ("good", "bad")
    assert facts.cost_matrix.costs == ((0.0, 1.0), (5.0, 0.0))
    assert any("legend" in note for note in facts.cost_matrix.notes)
    # The result is a valid config cost matrix.
    CostMatrix.model_validate(facts.cost_matrix.as_config())


def test_shipped_german_credit_description() -> None:
    text = data_dir("examples").joinpath("german_credit_description.txt").read_text("utf-8")
    facts = parse_description(text, classes=["good", "bad"])
    assert facts.cost_matrix is not None
    assert facts.cost_matrix.as_config() == {"labels": ["good", "bad"], "costs": [[0.0, 1.0], [5.0, 0.0]]}
    assert facts.suggested_metric is not None and facts.suggested_metric.metric == Metric.expected_cost.value
    accuracy = [h for h in facts.metric_hints if h.metric == "accuracy"]
    assert accuracy and all(h.strength == "negated" for h in accuracy)  # "not by accuracy"


def test_markdown_table_with_axis_corner_and_target_column() -> None:
    text = """We want to minimise what mistakes cost us.

| actual \\ predicted | stays | churns |
|---|---|---|
| stays | 0 | 2 |
| churns | 10 | 0 |

The target column is `Churn`. We have 20 minutes of compute for the search.
"""
    facts = parse_description(text, columns=["tenure", "Churn"])
    assert facts.cost_matrix is not None
    assert facts.cost_matrix.layout == "markdown"
    assert facts.cost_matrix.labels == ("stays", "churns")
    assert facts.cost_matrix.costs == ((0.0, 2.0), (10.0, 0.0))
    assert facts.target_column is not None and facts.target_column.value == "Churn"
    assert facts.time_limit_s == 1200.0


def test_header_marked_actual_is_transposed() -> None:
    text = """Misclassification costs (rows: predicted class):
        good  bad (actual)
good     0     5   (predicted)
bad      1     0
"""
    facts = parse_description(text)
    assert facts.cost_matrix is not None
    # rows must be the true class: predicting good for a bad customer (truth bad, predicted good) costs 5
    assert facts.cost_matrix.costs == ((0.0, 1.0), (5.0, 0.0))
    assert any("transposed" in note for note in facts.cost_matrix.notes)


def test_table_that_contradicts_the_sentence_is_transposed_to_agree() -> None:
    text = """Cost matrix:
Good  0  5
Bad   1  0
It is worse to class a customer as good when they are bad (5), than it is to class a customer as bad when they
are good (1).
"""
    facts = parse_description(text)
    assert facts.cost_matrix is not None
    assert facts.cost_matrix.costs == ((0.0, 1.0), (5.0, 0.0))
    assert any("agree" in note for note in facts.cost_matrix.notes)


def test_sentences_alone_give_a_two_by_two_matrix() -> None:
    text = (
        "It is worse to class a customer as good when they are bad (5), than it is to class a customer as bad "
        "when they are good (1)."
    )
    facts = parse_description(text, classes=["good", "bad"])
    assert facts.cost_matrix is not None
    assert facts.cost_matrix.layout == "sentences"
    config = facts.cost_matrix.as_config()
    index = {label: i for i, label in enumerate(config["labels"])}
    assert config["costs"][index["bad"]][index["good"]] == 5.0
    assert config["costs"][index["good"]][index["bad"]] == 1.0


def test_relative_costs_need_classes_and_positive_class() -> None:
    text = "False negatives are 10 times as costly as false positives. We need to detect fraud."
    facts = parse_description(text, classes=["legit", "fraud"])
    assert facts.positive_class is not None and facts.positive_class.value == "fraud"
    assert facts.cost_matrix is not None
    assert facts.cost_matrix.labels == ("legit", "fraud")
    assert facts.cost_matrix.costs == ((0.0, 1.0), (10.0, 0.0))
    without_classes = parse_description(text)
    assert without_classes.cost_matrix is None
    assert any("positive class" in note for note in without_classes.notes)


def test_user_paragraph_metric_time_interpretability_imbalance() -> None:
    text = (
        "Fraud detection on card transactions. The data is highly imbalanced (only 0.2% fraud). We care most "
        "about recall, rather than accuracy, and the model must be interpretable for the regulator. Give it a "
        "1 hour budget; each model should train in under 30 seconds."
    )
    facts = parse_description(text)
    assert [(h.metric, h.word, h.strength) for h in facts.metric_hints] == [
        ("f1", "recall", "explicit"),
        ("accuracy", "accuracy", "negated"),
    ]
    assert facts.suggested_metric is not None and facts.suggested_metric.metric == "f1"
    assert facts.suggested_metric.reason  # says why recall maps to F1
    assert facts.time_limit_s == 3600.0
    assert facts.trial_time_limit_s == 30.0
    assert facts.wants_interpretability and facts.interpretability is not None
    assert "regulator" in facts.interpretability.evidence.text
    assert facts.mentions_imbalance


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("Please optimise ROC AUC.", "roc_auc"),
        ("We need well-calibrated probabilities for pricing.", "log_loss"),
        ("Evaluate with balanced accuracy, the classes are skewed.", "balanced_accuracy"),
        ("The score is the F1 of the positive class.", "f1"),
        ("Models are judged by RMSE on held-out days.", "rmse"),
        ("Report the mean absolute error.", "mae"),
        ("Our goal is a high R-squared.", "r2"),
        ("False alarms are what hurts us most, so precision matters.", "f1"),
    ],
)
def test_metric_words(text: str, metric: str) -> None:
    hint = parse_description(text).suggested_metric
    assert hint is not None and hint.metric == metric


def test_reported_results_are_not_wishes() -> None:
    facts = parse_description("Past usage: Shapiro (1987) reached 99% accuracy with decision trees.")
    assert [h.strength for h in facts.metric_hints] == ["reported"]
    assert facts.suggested_metric is None


@pytest.mark.parametrize(
    ("text", "seconds", "scope"),
    [
        ("I need an answer in 20 minutes.", 1200.0, "total"),
        ("We have a 1 hour budget.", 3600.0, "total"),
        ("Run it within 2h.", 7200.0, "total"),
        ("The search may take at most 1h30m.", 5400.0, "total"),
        ("You have half an hour.", 1800.0, "total"),
        ("Each model must fit in under 45 seconds.", 45.0, "per_trial"),
        ("Give it 90 s per trial.", 90.0, "per_trial"),
    ],
)
def test_time_limits(text: str, seconds: float, scope: str) -> None:
    limits = parse_description(text).time_limits
    assert [(limit.seconds, limit.scope) for limit in limits] == [(seconds, scope)]


def test_positive_class_explicit_and_checked_against_classes() -> None:
    facts = parse_description("The positive class is `yes`.", classes=["no", "yes"])
    assert facts.positive_class is not None and facts.positive_class.value == "yes"
    unknown = parse_description("The positive class is `maybe`.", classes=["no", "yes"])
    assert unknown.positive_class is None
    assert any("maybe" in note for note in unknown.notes)
    numeric = parse_description("Treat 1 as the positive class.", classes=[0, 1])
    assert numeric.positive_class is not None and numeric.positive_class.value == 1


def test_target_column_must_exist_when_columns_are_given() -> None:
    facts = parse_description("The target variable is `income`.", columns=["age", "education"])
    assert facts.target_column is None
    assert any("income" in note for note in facts.notes)
    predicted = parse_description("We predict price from the listing.", columns=["Price", "rooms"])
    assert predicted.target_column is not None and predicted.target_column.value == "Price"
    assert (
        parse_description("We predict price from the listing.").target_column is None
    )  # no columns: too loose


def test_interpretability_negated() -> None:
    facts = parse_description("Interpretability is not needed; a black box is fine.")
    assert facts.interpretability is not None and facts.interpretability.negated
    assert not facts.wants_interpretability


@pytest.mark.parametrize("text", [IRIS, SENSOR_LOG, "", "   \n\n", "Just a table:\na 1 2\nb 3 4\n"])
def test_descriptions_that_state_nothing(text: str) -> None:
    facts = parse_description(text)
    assert facts.is_empty, facts
    assert facts.suggested_metric is None and facts.time_limit_s is None


def test_to_dict_is_json() -> None:
    facts = parse_description(OPENML_CREDIT_G, classes=["good", "bad"])
    data = json.loads(json.dumps(facts.to_dict()))
    assert data["suggested_metric"] == "expected_cost"
    assert data["cost_matrix"]["labels"] == ["good", "bad"]


def test_deterministic() -> None:
    assert parse_description(OPENML_CREDIT_G).to_dict() == parse_description(OPENML_CREDIT_G).to_dict()


SPAMBASE = """\
SPAM E-mail Database. Our collection of spam e-mails came from our postmaster and individuals who had filed spam.
(b) Determine whether a given email is spam or not.
(c) ~7% misclassification error. False positives (marking good mail as spam) are very undesirable. If we insist
on zero false positives in the training/testing set, 20-25% of the spam passed through the filter.
"""

PIMA = """\
Pima Indians Diabetes Database. All patients here are females at least 21 years old of Pima Indian heritage.
Class variable (0 or 1). Results: Its sensitivity and specificity are both 76% on the remaining 192 instances.
"""

BANK = """\
The data is related with direct marketing campaigns (phone calls) of a Portuguese banking institution. The
classification goal is to predict if the client will subscribe a term deposit (variable y). The campaigns ran
over 2 years; calls lasted 5 minutes on average.
"""


def test_spambase_false_positives_are_a_precision_wish_and_the_error_rate_a_result() -> None:
    facts = parse_description(SPAMBASE)
    assert (facts.metric_hints[0].metric, facts.metric_hints[0].strength) == ("accuracy", "reported")
    assert facts.suggested_metric is not None and facts.suggested_metric.metric == "f1"
    assert "very undesirable" in facts.suggested_metric.evidence.text


def test_reported_sensitivity_and_time_words_in_data_descriptions() -> None:
    assert parse_description(PIMA).suggested_metric is None
    bank = parse_description(BANK)
    assert bank.time_limits == () and bank.suggested_metric is None


def test_real_openml_descriptions_state_no_task_facts() -> None:
    """The descriptions scikit-learn ships with its OpenML fixtures (iris, titanic, adult, ...): a citation
    title with "Accuracy" in it is not a metric wish, and none states costs or a time budget."""
    import gzip
    from pathlib import Path

    import sklearn

    folder = Path(sklearn.__file__).parent / "datasets" / "tests" / "data" / "openml"
    files = sorted(folder.glob("id_*/api-v1-jd-*.json.gz"))
    if not files:
        pytest.skip("scikit-learn's OpenML fixtures are not installed")
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            description = json.load(handle)["data_set_description"].get("description", "")
        facts = parse_description(description)
        assert facts.cost_matrix is None and facts.time_limits == (), path
        assert facts.suggested_metric is None, (path, facts.metric_hints)


@pytest.mark.parametrize(
    ("text", "classes"),
    [
        ("Use the cost matrix [[0, 1], [5, 0]] with labels [good, bad].", None),
        ("Costs: [[0,1],[5,0]] (1 = good, 2 = bad)", None),
        ("Misclassification costs are [[0, 1], [5, 0]] for good and bad customers.", ["bad", "good"]),
    ],
)
def test_nested_list_matrix(text: str, classes: list[str] | None) -> None:
    facts = parse_description(text, classes=classes)
    assert facts.cost_matrix is not None and facts.cost_matrix.layout == "list"
    assert facts.cost_matrix.as_config() == {"labels": ["good", "bad"], "costs": [[0.0, 1.0], [5.0, 0.0]]}


def test_nested_list_without_labels_is_reported_not_guessed() -> None:
    facts = parse_description("The cost matrix is [[0, 1], [5, 0]].")
    assert facts.cost_matrix is None
    assert any("without class labels" in note for note in facts.notes)


@pytest.mark.parametrize(
    ("text", "classes", "positive", "fn_cost"),
    [
        ("Missing a fraud costs 10x more than a false alarm.", ["ok", "fraud"], "fraud", 10.0),
        (
            "A false negative is five times worse than a false positive; the positive class is `sick`.",
            ["healthy", "sick"],
            "sick",
            5.0,
        ),
        ("False negatives cost 20 times as much as false positives. Positive class: 1", [0, 1], 1, 20.0),
    ],
)
def test_relative_error_costs(text: str, classes: list[object], positive: object, fn_cost: float) -> None:
    facts = parse_description(text, classes=classes)
    assert facts.positive_class is not None and facts.positive_class.value == positive
    assert facts.cost_matrix is not None and facts.cost_matrix.layout == "relative"
    labels = list(facts.cost_matrix.labels)
    assert labels[1] == positive
    assert facts.cost_matrix.costs == ((0.0, 1.0), (fn_cost, 0.0))


def test_three_class_table() -> None:
    text = """Cost of errors (rows: true class, columns: predicted class):
        low  mid  high
low      0    1    4
mid      1    0    1
high     8    2    0
"""
    facts = parse_description(text, classes=["high", "low", "mid"])
    assert facts.cost_matrix is not None
    assert facts.cost_matrix.labels == ("low", "mid", "high")
    assert facts.cost_matrix.costs[2] == (8.0, 2.0, 0.0)


_WORDS = ["cost", "matrix", "good", "bad", "0", "1", "5", "|", "---", "\n", "(1 = Good, 2 = Bad)", "recall",
          "in", "20", "minutes", "not", "accuracy", "positive", "class", "is", "`x`", "[[0, 1], [5, 0]]", "'", '"',
          "as", "when", "they", "are", "(5)", "false", "negatives", "times", "than", "predicted", "actual", "\\"]  # fmt: skip


@given(st.lists(st.sampled_from(_WORDS), max_size=60).map(" ".join) | st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_never_raises_on_arbitrary_text(text: str) -> None:
    facts = parse_description(text, classes=["good", "bad"], columns=["x", "y"])
    json.dumps(facts.to_dict())
    if facts.cost_matrix is not None:
        CostMatrix.model_validate(facts.cost_matrix.as_config())


def test_shipped_breast_cancer_description() -> None:
    text = data_dir("examples").joinpath("breast_cancer_description.txt").read_text("utf-8")
    facts = parse_description(text, classes=["benign", "malignant"])
    assert facts.positive_class is not None and facts.positive_class.value == "malignant"
    assert facts.cost_matrix is not None
    assert facts.cost_matrix.as_config() == {
        "labels": ["benign", "malignant"],
        "costs": [[0.0, 1.0], [10.0, 0.0]],
    }
    assert facts.time_limit_s == 600.0
    assert facts.wants_interpretability


@pytest.mark.parametrize(
    ("text", "classes", "labels", "costs", "positive"),
    [
        # the miss clause names the class to find ("churner" for `churned`), in words that say to find it
        ("A churner we fail to flag costs us about €300 in lost revenue; a retention offer sent to a loyal "
         "customer costs €20.", ["churned", "stayed"], ("stayed", "churned"), ((0.0, 20.0), (300.0, 0.0)),
         "churned"),
        # "fraudulent orders we ship" weighs the error without saying to find them: no positive class
        ("Each fraudulent order we ship costs about $120; each good order we block costs $8.", ["fraud", "ok"],
         ("ok", "fraud"), ((0.0, 8.0), (120.0, 0.0)), None),
    ],
)  # fmt: skip
def test_two_money_figures_priced_as_a_miss_and_a_false_alarm(
    text: str,
    classes: list[str],
    labels: tuple[str, ...],
    costs: tuple[tuple[float, ...], ...],
    positive: str | None,
) -> None:
    facts = parse_description(text, classes=classes)
    assert facts.cost_matrix is not None
    assert (facts.cost_matrix.labels, facts.cost_matrix.costs) == (labels, costs)
    assert (facts.positive_class.value if facts.positive_class else None) == positive


def test_money_figures_without_the_class_to_find_stay_unread_until_another_reader_names_it() -> None:
    text = "A customer we fail to flag costs us about €300, a retention offer sent to a loyal customer costs €20."
    assert parse_description(text, classes=["churned", "stayed"]).cost_matrix is None
    given = parse_description(text, classes=["churned", "stayed"], positive="churned")
    assert given.cost_matrix is not None and given.cost_matrix.costs == ((0.0, 20.0), (300.0, 0.0))
    assert given.cost_matrix.labels == ("stayed", "churned")


@pytest.mark.parametrize(
    ("classes", "found"), [(["no", "yes"], "yes"), (["No", "Yes"], "Yes"), ([0, 1], 1), ([False, True], True)]
)
def test_a_yes_no_target_frames_money_figures_with_yes_as_the_class_to_find(
    classes: list, found: object
) -> None:
    """`churn`: yes / no records the event; flagging a customer is predicting yes (no positive-class fact is
    invented: the matrix only)."""
    text = "A customer we fail to flag costs us about €300, a retention offer sent to a loyal customer costs €20."
    facts = parse_description(text, classes=classes)
    assert facts.cost_matrix is not None and facts.positive_class is None
    missed = facts.cost_matrix.labels.index(found)
    assert (
        facts.cost_matrix.costs[missed][1 - missed] == 300.0
        and facts.cost_matrix.costs[1 - missed][missed] == 20.0
    )
    assert any("yes / no pair" in note for note in facts.cost_matrix.notes)
