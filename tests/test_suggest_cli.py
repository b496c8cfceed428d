"""`metaconf suggest` end to end through the CLI: demo data, CSV files, descriptions, bad input, --force,
--interactive. Most cases use --no-probe (the documented cost model) to stay fast and deterministic; one
case runs the real, time-bounded probe."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.model import Config, Metric
from metaconf.lint.engine import LintOptions, has_errors, lint_file
from metaconf.resources import data_dir

runner = CliRunner()


def _suggest(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["suggest", *args], input=input)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def _load(path: Path) -> Config:
    return Config.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@functools.cache
def _breast_cancer_frame() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    frame["diagnosis"] = np.where(frame.pop("target") == 0, "malignant", "benign")
    return frame


def _credit_csv(path: Path, rows: int = 300) -> Path:
    """A small German-credit-like table: mixed features, `creditability` good / bad (70 / 30)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "duration": rng.integers(4, 72, rows),
            "amount": rng.gamma(2.0, 1500.0, rows).round(0),
            "purpose": rng.choice(["car", "furniture", "radio/tv", "business"], rows),
            "savings": rng.choice(["<100", "100-500", ">500", "unknown"], rows),
            "age": rng.integers(19, 75, rows),
        }
    )
    frame["creditability"] = np.where(rng.random(rows) < 0.7, "good", "bad")
    frame.to_csv(path, index=False)
    return path


def _lint_clean(path: Path) -> None:
    findings = lint_file(path, LintOptions(data=True))
    assert not has_errors(findings), [f"{f.code} {f.pointer}: {f.message}" for f in findings]


def test_demo_dataset_writes_a_lint_clean_commented_config(tmp_path: Path) -> None:
    out = tmp_path / "demo.yaml"
    code, output = _suggest("--demo", "breast_cancer", "--budget", "2m", "--no-probe", "-o", str(out))
    assert code == 0, output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    assert "# R1: 2m minus" in text
    config = _load(out)
    assert config.data.demo == "breast_cancer"
    assert config.budget.walltime == 120
    assert config.provenance is not None and config.provenance.advisor == "rules"
    _lint_clean(out)
    assert f"wrote {out}" in " ".join(output.split())
    assert "took" in output


def test_took_lists_the_total_then_the_slow_steps_slowest_first() -> None:
    from metaconf.cli.suggest import _took

    timings = {"load": 0.4, "profile": 0.02, "read_description": 12.1, "probe": 9.8, "total": 22.5}
    assert _took(timings) == "22.5 s: reading the description 12.1 s, probe 9.8 s, loading the data 0.4 s"
    assert _took({"load": 0.01, "total": 0.3}) == "0.3 s"
    assert _took({}) == ""


def test_origin_says_whether_the_user_gave_cores_and_tool(tmp_path: Path) -> None:
    defaulted, given = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert _suggest("--demo", "iris", "--budget", "2m", "--no-probe", "-o", str(defaulted))[0] == 0
    code, output = _suggest(
        "--demo", "iris", "--budget", "2m", "--no-probe", "--cores", "2", "--tool", "smac", "-o", str(given)
    )
    assert code == 0, output
    values = _load(defaulted).provenance.values  # type: ignore[union-attr]
    assert values["budget.cores"].origin.value == "default" and values["tool"].origin.value == "default"
    values = _load(given).provenance.values  # type: ignore[union-attr]
    assert values["budget.cores"].origin.value == "user" and values["tool"].origin.value == "user"
    assert values["budget.cores"].reason == "you gave --cores 2"


def test_same_input_gives_the_same_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for out in (first, second):
        code, output = _suggest("--demo", "iris", "--budget", "5m", "--no-probe", "-o", str(out))
        assert code == 0, output
    assert first.read_bytes() == second.read_bytes()


def test_csv_file_with_target_and_relative_data_path(tmp_path: Path) -> None:
    data = tmp_path / "data" / "cancer.csv"
    data.parent.mkdir()
    _breast_cancer_frame().to_csv(data, index=False)
    out = tmp_path / "configs" / "cancer.yaml"
    code, output = _suggest(
        "--data",
        str(data),
        "--target",
        "diagnosis",
        "--budget",
        "10m",
        "--cores",
        "2",
        "--no-probe",
        "-o",
        str(out),
    )
    assert code == 0, output
    config = _load(out)
    assert config.data.path == "../data/cancer.csv"
    assert config.task.target == "diagnosis"
    _lint_clean(out)


def test_german_credit_description_gives_expected_cost_with_the_5_to_1_matrix(tmp_path: Path) -> None:
    data = _credit_csv(tmp_path / "credit.csv")
    description = data_dir("examples") / "german_credit_description.txt"
    desc_file = tmp_path / "german.txt"
    desc_file.write_text(description.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "credit.yaml"
    code, output = _suggest(
        "--data", str(data), "--target", "creditability", "--budget", "5m", "--describe", str(desc_file),
        "--no-probe", "-o", str(out),
    )  # fmt: skip
    assert code == 0, output
    config = _load(out)
    assert config.task.metric == Metric.expected_cost
    assert config.task.cost_matrix is not None
    matrix = dict(zip(config.task.cost_matrix.labels, config.task.cost_matrix.costs, strict=True))
    assert matrix == {"good": [0, 1], "bad": [5, 0]}  # predicting good for a bad customer costs 5
    assert config.provenance is not None
    assert "cost matrix" in config.provenance.values["task.metric"].reason
    _lint_clean(out)


def test_description_as_text_asking_for_interpretability(tmp_path: Path) -> None:
    out = tmp_path / "simple.yaml"
    code, output = _suggest(
        "--demo", "wine", "--budget", "3m", "--no-probe", "-o", str(out),
        "--describe", "The model must be interpretable: doctors need to understand every decision.",
    )  # fmt: skip
    assert code == 0, output
    assert [m.value for m in _load(out).search_space.models or []] == ["linear", "decision_tree"]


def test_budget_and_metric_can_come_from_the_description(tmp_path: Path) -> None:
    out = tmp_path / "described.yaml"
    text = "We need a model within 3 minutes. We will evaluate it by F1 on the malignant class."
    code, output = _suggest("--demo", "breast_cancer", "--describe", text, "--no-probe", "-o", str(out))
    assert code == 0, output
    config = _load(out)
    assert config.budget.walltime == 180
    assert config.provenance is not None
    assert "within 3 minutes" in config.provenance.values["budget.walltime"].reason
    assert config.task.metric == Metric.f1
    assert config.task.positive_label == "malignant"
    _lint_clean(out)


def test_models_option_restricts_the_families(tmp_path: Path) -> None:
    out = tmp_path / "svm.yaml"
    code, output = _suggest(
        "--demo", "wine", "--budget", "5m", "--models", "svm", "--no-probe", "-o", str(out)
    )
    assert code == 0, output
    config = _load(out)
    assert [m.value for m in config.search_space.models or []] == ["svm"]
    assert config.optimizer.kind.value == "bo_gp"  # one small continuous family: GP BO
    _lint_clean(out)


def test_autosklearn_tool(tmp_path: Path) -> None:
    out = tmp_path / "askl.yaml"
    code, output = _suggest(
        "--demo", "breast_cancer", "--budget", "5m", "--tool", "auto-sklearn", "--no-probe", "-o", str(out)
    )
    assert code == 0, output
    config = _load(out)
    assert config.tool.value == "auto-sklearn"
    _lint_clean(out)


def test_real_probe_is_bounded_and_recorded(tmp_path: Path) -> None:
    out = tmp_path / "probed.yaml"
    code, output = _suggest("--demo", "iris", "--budget", "40s", "-o", str(out))
    assert code == 0, output
    config = _load(out)
    assert config.provenance is not None
    probe = config.provenance.inputs["trial_cost"]
    assert probe["probe_seconds"] <= 3.0  # 3% of 40 s is 1.2 s; allow a fit's overrun on a busy machine
    assert "probe" in " ".join(output.split())
    _lint_clean(out)


# --- bad input: a clear message, exit 2, nothing written -----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--demo", "iris", "--budget", "20 minuets"], "`90s`, `15m`"),
        (["--demo", "iris", "--budget", "5s"], "too small"),
        (["--demo", "iris"], "--budget is required"),
        (["--demo", "iris", "--budget", "1m", "--memory", "lots"], "memory size"),
        (["--demo", "nope", "--budget", "1m"], "unknown demo dataset"),
        (["--budget", "1m"], "--data FILE or a bundled dataset"),
        (["--demo", "iris", "--budget", "1m", "--metric", "precision"], "unknown metric"),
        (["--demo", "iris", "--budget", "1m", "--describe", "missing_file.txt"], "does not exist"),
        (["--demo", "iris", "--budget", "20s", "--tool", "auto-sklearn"], "auto-sklearn needs at least 30 s"),
        (
            ["--demo", "iris", "--budget", "1m", "--models", "random_forest,xgboost"],
            "unknown model family: `xgboost`",
        ),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str], needle: str) -> None:
    out = tmp_path / "out.yaml"
    code, output = _suggest(*args, "--no-probe", "-o", str(out))
    assert code == 2, output
    assert needle in " ".join(output.split())
    assert "Traceback" not in output
    assert not out.exists()


def test_missing_target_column_lists_the_columns(tmp_path: Path) -> None:
    data = tmp_path / "cancer.csv"
    _breast_cancer_frame().to_csv(data, index=False)
    out = tmp_path / "out.yaml"
    code, output = _suggest(
        "--data", str(data), "--target", "diagnosys", "--budget", "1m", "--no-probe", "-o", str(out)
    )
    assert code == 2
    flat = " ".join(output.split())
    assert "no column `diagnosys`" in flat and "`diagnosis`" in flat
    code, output = _suggest("--data", str(data), "--budget", "1m", "--no-probe", "-o", str(out))
    assert code == 2
    assert "--target is required" in output and "`mean radius`" in " ".join(output.split())
    assert not out.exists()


def test_empty_single_class_and_unreadable_data(tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b,y\n", encoding="utf-8")
    single = tmp_path / "single.csv"
    pd.DataFrame({"a": range(20), "y": ["x"] * 20}).to_csv(single, index=False)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"\x00\x01not a parquet file")
    missing = tmp_path / "missing.csv"
    tiny = tmp_path / "tiny.csv"  # 3 rows: a test row leaves 2, too few to fit on and validate
    pd.DataFrame({"a": [1, 2, 3], "y": ["x", "z", "x"]}).to_csv(tiny, index=False)
    for path, needle in (
        (empty, "no rows"),
        (tiny, "has 3 rows: too few to fit a model and validate it"),
        (single, "single class"),
        (garbage, "cannot read"),
        (missing, "does not exist"),
    ):
        # never "a bug in metaconf's advisor": each is the input's problem, said as such
        code, output = _suggest(
            "--data", str(path), "--target", "y", "--budget", "1m", "--no-probe", "-o", str(out)
        )
        assert code == 2, (path, output)
        assert needle in " ".join(output.split()), (path, output)
        assert "bug" not in output and not out.exists()
    # the smallest data that can be split: 4 rows (1 test row, then 2 to fit on and 1 to validate)
    pd.DataFrame({"a": [1, 2, 3, 4], "y": ["x", "z", "x", "z"]}).to_csv(tiny, index=False)
    code, output = _suggest("--data", str(tiny), "--target", "y", "--budget", "1m", "--no-probe", "-o", str(out))
    assert code == 0, output


def test_existing_output_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "demo.yaml"
    out.write_text("keep me\n", encoding="utf-8")
    code, output = _suggest("--demo", "iris", "--budget", "1m", "--no-probe", "-o", str(out))
    assert code == 2
    assert "already exists" in output and "--force" in output
    assert out.read_text(encoding="utf-8") == "keep me\n"
    code, output = _suggest("--demo", "iris", "--budget", "1m", "--no-probe", "-o", str(out), "--force")
    assert code == 0, output
    assert _load(out).data.demo == "iris"


# --- interactive --------------------------------------------------------------------------------------------


def test_interactive_asks_for_target_budget_metric_and_costs(tmp_path: Path) -> None:
    data = _credit_csv(tmp_path / "credit.csv")
    out = tmp_path / "asked.yaml"
    # target (default: last column), a bad budget then a good one, metric auto, costs 1 (bad->good) and 5
    answers = "\n".join(["", "20 minuets", "3m", "auto", "1", "5"]) + "\n"
    code, output = _suggest("--data", str(data), "--no-probe", "-o", str(out), "--interactive", input=answers)
    assert code == 0, output
    flat = " ".join(output.split())
    assert "Target column" in flat and "[creditability]" in flat
    assert "cannot read '20 minuets' as a duration" in flat
    config = _load(out)
    assert config.task.target == "creditability"
    assert config.budget.walltime == 180
    assert config.task.metric == Metric.expected_cost
    assert config.task.cost_matrix is not None
    matrix = dict(zip(config.task.cost_matrix.labels, config.task.cost_matrix.costs, strict=True))
    assert matrix == {"bad": [0.0, 5.0], "good": [1.0, 0.0]} or matrix == {
        "bad": [0.0, 1.0],
        "good": [5.0, 0.0],
    }
    assert config.provenance is not None
    assert config.provenance.values["task.metric"].origin.value == "user"
    _lint_clean(out)


def test_interactive_defaults_for_a_demo(tmp_path: Path) -> None:
    out = tmp_path / "defaults.yaml"
    # data (default breast_cancer), budget (default 5m), metric auto, equal costs
    code, output = _suggest("--no-probe", "-o", str(out), "-i", input="\n\n\n\n\n")
    assert code == 0, output
    config = _load(out)
    assert config.data.demo == "breast_cancer"
    assert config.budget.walltime == 300
    assert config.task.cost_matrix is None
