"""Classification or regression: decided from the target, settled by the user's words where the data leaves it
open, fixed by `--task`; a count target is regression (issue: hourly rentals became hundreds of "classes")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.data.task_type import decide, from_data
from metaconf.lint.engine import LintOptions, lint_file

runner = CliRunner()


def counts_table(path: Path, *, n: int = 600) -> Path:
    """Hourly rentals: a count with hundreds of distinct values that depends on hour and temperature."""
    rng = np.random.default_rng(0)
    hour = rng.integers(0, 24, n)
    temp = rng.normal(15, 8, n)
    rate = np.exp(3 + 1.5 * np.sin(hour / 24 * 2 * np.pi) ** 2 + 0.06 * temp)
    frame = pd.DataFrame({"hour": hour, "temp": temp.round(1), "rentals": rng.poisson(rate)})
    frame.to_csv(path, index=False)
    return path


def score_table(path: Path, *, n: int = 300) -> Path:
    """A score 1..5 from the features: whole numbers the data alone cannot call classes or a quantity."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 3))
    score = np.clip(np.round(3 + x[:, 0] + 0.5 * x[:, 1]), 1, 5).astype(int)
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "score": score}).to_csv(path, index=False)
    return path


def suggest(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["suggest", "--no-probe", "--budget", "2m", *args], input=input)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def written(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------ the rule
@pytest.mark.parametrize(
    ("values", "task", "is_open"),
    [
        (np.random.default_rng(0).poisson(120, 2000), "regression", False),  # counts: hundreds of values
        ([0, 1] * 50, "classification", False),
        ([1, 2, 5] * 40, "classification", True),
        (np.arange(15).repeat(30), "classification", True),  # contiguous codes with many rows each
        (np.arange(100, 2500, 100).repeat(2), "regression", True),  # 24 amounts, two rows each
        (np.random.default_rng(0).normal(size=50), "regression", False),
        (["yes", "no"] * 5, "classification", False),
        ([0.0, 1.0] * 5, "classification", False),
    ],
)
def test_the_target_decides_the_type(values: list, task: str, is_open: bool) -> None:
    decision = from_data(pd.Series(values))
    assert (decision.task_type, decision.open) == (task, is_open)
    assert decision.reason


def test_words_settle_an_open_type_and_never_override_a_clear_one() -> None:
    scores = pd.Series([1, 2, 3, 4, 5] * 20)
    decision = decide(scores, words=("regression", "predict how many items a customer buys"))
    assert decision.task_type == "regression" and "how many items" in decision.reason
    counts = pd.Series(np.random.default_rng(0).poisson(200, 500))
    decision = decide(counts, words=("classification", "classify each hour"))
    assert decision.task_type == "regression" and "the data decides" in decision.reason
    text = pd.Series(["low", "high"] * 10)
    assert decide(text, given="regression").task_type == "classification"
    assert decide(scores, given="regression").reason.startswith("you chose regression")


# ------------------------------------------------------------------------------------------------- suggest
def test_a_count_target_is_regression_and_the_reason_says_why(tmp_path: Path) -> None:
    data = counts_table(tmp_path / "rentals.csv")
    code, output = suggest("--data", str(data), "--target", "rentals", "-o", str(tmp_path / "a.yaml"))
    assert code == 0, output
    config = written(tmp_path / "a.yaml")
    assert config["task"]["type"] == "regression"
    assert config["task"]["metric"] in ("rmse", "mae", "r2")
    reason = config["provenance"]["values"]["task.type"]["reason"]
    assert "distinct whole numbers" in reason and "count or an amount" in reason


def test_the_description_settles_a_handful_of_whole_numbers(tmp_path: Path) -> None:
    data = score_table(tmp_path / "score.csv")
    code, output = suggest("--data", str(data), "--target", "score", "-o", str(tmp_path / "plain.yaml"))
    assert code == 0, output
    assert written(tmp_path / "plain.yaml")["task"]["type"] == "classification"
    code, output = suggest("--data", str(data), "--target", "score", "--task", "regression", "-o", str(tmp_path / "r.yaml"))
    assert code == 0, output
    config = written(tmp_path / "r.yaml")
    assert config["task"]["type"] == "regression"
    assert config["provenance"]["values"]["task.type"]["origin"] == "user"


def test_the_words_of_the_description_settle_it_end_to_end(tmp_path: Path) -> None:
    data = score_table(tmp_path / "score.csv")
    words = "We want to predict how many items a customer buys next month."
    code, output = suggest("--data", str(data), "--target", "score", "--describe", words, "-o", str(tmp_path / "w.yaml"))
    assert code == 0, output
    config = written(tmp_path / "w.yaml")
    assert config["task"]["type"] == "regression"
    assert "how many items" in config["provenance"]["values"]["task.type"]["reason"]
    counts = counts_table(tmp_path / "rentals.csv")
    code, output = suggest(
        "--data", str(counts), "--target", "rentals", "--describe", "Classify each hour.", "-o", str(tmp_path / "c.yaml")
    )
    assert code == 0, output
    assert written(tmp_path / "c.yaml")["task"]["type"] == "regression"  # hundreds of counts: the data decides


def test_interactive_asks_when_the_data_leaves_the_type_open(tmp_path: Path) -> None:
    data = score_table(tmp_path / "score.csv")
    answers = "regression\nauto\n"
    code, output = suggest(
        "--data", str(data), "--target", "score", "-o", str(tmp_path / "a.yaml"), "--interactive", input=answers
    )
    assert code == 0, output
    assert "classes or a quantity" in output
    assert written(tmp_path / "a.yaml")["task"]["type"] == "regression"


def test_expected_cost_without_costs_is_a_usage_error(tmp_path: Path) -> None:
    code, output = suggest("--demo", "breast_cancer", "--metric", "expected_cost", "-o", str(tmp_path / "a.yaml"))
    assert code == 2
    assert "needs the cost of each kind of error" in output and not (tmp_path / "a.yaml").exists()


# ----------------------------------------------------------------------------------------------------- lint
def lint_codes(config: str, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "c.yaml"
    path.write_text(config, encoding="utf-8")
    return {f.code: f.message for f in lint_file(path, LintOptions(data=True))}


def test_lint_flags_a_count_read_as_classes(tmp_path: Path) -> None:
    counts_table(tmp_path / "rentals.csv")
    found = lint_codes("task: {type: classification, target: rentals}\ndata: {path: rentals.csv}\n", tmp_path)
    assert "MC903" in found and "count or an amount" in found["MC903"]


def test_lint_flags_classes_that_mostly_have_a_few_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = [f"code {i}" for i in range(40)] * 2 + ["common"] * 100  # 40 labels with two rows each
    frame = pd.DataFrame({"x": rng.normal(size=len(labels)), "label": labels})
    frame.to_csv(tmp_path / "sparse.csv", index=False)
    found = lint_codes("task: {type: classification, target: label}\ndata: {path: sparse.csv}\n", tmp_path)
    assert "MC907" in found and "40 of the 41 classes" in found["MC907"]
    frame.assign(label=["a", "b"] * (len(labels) // 2)).to_csv(tmp_path / "sparse.csv", index=False)
    assert "MC907" not in lint_codes("task: {type: classification, target: label}\ndata: {path: sparse.csv}\n", tmp_path)
