"""`metaconf predict RUN_DIR DATA`: real runs saved with `metaconf run --save-model`, predicted through the CLI.

The runs are tiny real SMAC searches (2-3 trials of a tree or a linear model, about a second each), made once
per module. The auto-sklearn test and the README's suggest -> run -> predict flow run longer searches and are
marked ``slow``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import metaconf
from metaconf.cli.app import app
from metaconf.data.load import DEMOS
from metaconf.targets.autosklearn import environment as envs

cli = CliRunner()
EXAMPLE_ROWS = Path(metaconf.__file__).resolve().parent.parent / "examples" / "breast_cancer_new.csv"


def write_config(folder: Path, name: str, data: dict[str, Any]) -> Path:
    body = {
        "optimizer": {"kind": "random"},
        "stopping": {"n_trials": 3, "walltime": "60s"},
        "execution": {"seed": 1, "output_dir": "runs"},
        **data,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def run_saved(config: Path) -> Path:
    result = cli.invoke(app, ["run", str(config), "--save-model", "--quiet"])
    assert result.exit_code == 0, result.output
    return config.parent / "runs" / config.stem


def predict(*args: str) -> Any:
    return cli.invoke(app, ["predict", *args])


def read_stdout_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def demo_frame(name: str) -> pd.DataFrame:
    X, y, _ = DEMOS[name][1]()
    return X.assign(**{str(y.name): y})


def churn_table(n: int = 160) -> pd.DataFrame:
    """Integer, string (with stray spaces) and numeric targets, an id column and a categorical column."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50, 10, n).round(2),
            "city": rng.choice(["Berlin", "Paris", "Rome"], n),
        }
    )
    frame["churn"] = ((frame["age"] > 50) ^ (rng.random(n) < 0.1)).astype(int)
    frame["answer"] = np.where(frame["churn"] == 1, " yes", "no ")
    frame["spend"] = frame["income"] * 2 + rng.normal(0, 1, n)
    return frame


TARGETS = ("churn", "answer", "spend")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("predict")
    churn_table().to_csv(folder / "table.csv", index=False)
    frame = demo_frame("breast_cancer")
    frame.to_csv(folder / "cancer.csv", index=False)
    demo_frame("iris").to_csv(folder / "iris.csv", index=False)
    return folder


def table_run(project: Path, target: str, **task: Any) -> Path:
    others = [t for t in TARGETS if t != target]
    return write_config(
        project,
        f"table-{target}",
        {
            "data": {"path": "table.csv", "ignore_columns": others},
            "task": {"target": target, **task},
            "search_space": {"models": ["decision_tree", "linear"]},
        },
    )


@pytest.fixture(scope="module")
def runs(project: Path) -> dict[str, Path]:
    """One saved run per kind of target (made once: each is a real 3-trial search)."""
    configs = {
        "cancer": write_config(
            project,
            "cancer",
            {
                "data": {"demo": "breast_cancer"},
                "task": {"metric": "f1", "positive_label": "malignant"},
                "search_space": {"models": ["linear"]},
            },
        ),
        "iris": write_config(
            project,
            "iris",
            {"data": {"demo": "iris"}, "search_space": {"models": ["decision_tree"]}},
        ),
        "int": table_run(project, "churn"),
        "str": table_run(project, "answer"),
        "regression": table_run(project, "spend", type="regression"),
    }
    return {name: run_saved(config) for name, config in configs.items()}


# ------------------------------------------------------------------------------------------ predictions
def test_predictions_are_the_saved_models_in_the_users_labels(project: Path, runs: dict[str, Path]) -> None:
    result = predict(str(runs["cancer"]), str(project / "cancer.csv"))
    assert result.exit_code == 0, result.output
    predicted = read_stdout_csv(result.stdout)
    assert list(predicted.columns) == ["target"]
    frame = pd.read_csv(project / "cancer.csv")
    model = joblib.load(runs["cancer"] / "model.joblib")
    assert predicted["target"].tolist() == list(model.predict(frame.drop(columns=["target"])))
    assert set(predicted["target"]) == {"malignant", "benign"}
    assert (predicted["target"] == frame["target"]).mean() > 0.9


def test_integer_labels_come_back_as_integers(project: Path, runs: dict[str, Path]) -> None:
    result = predict(str(runs["int"]), str(project / "table.csv"), "--proba")
    assert result.exit_code == 0, result.output
    predicted = read_stdout_csv(result.stdout)
    assert list(predicted.columns) == ["churn", "proba_0", "proba_1", "threshold_1"]
    assert set(predicted["churn"]) <= {"0", "1"}  # not 0.0 / 1.0
    truth = pd.read_csv(project / "table.csv")["churn"].astype(str)
    assert (predicted["churn"] == truth).mean() > 0.8


def test_string_labels_are_the_trained_labels(project: Path, runs: dict[str, Path]) -> None:
    result = predict(str(runs["str"]), str(project / "table.csv"))
    assert result.exit_code == 0, result.output
    assert set(read_stdout_csv(result.stdout)["answer"]) <= {"yes", "no"}


def test_regression_predicts_numbers_and_refuses_proba(project: Path, runs: dict[str, Path]) -> None:
    result = predict(str(runs["regression"]), str(project / "table.csv"))
    assert result.exit_code == 0, result.output
    values = read_stdout_csv(result.stdout)["spend"].astype(float)
    truth = pd.read_csv(project / "table.csv")["spend"]
    assert np.corrcoef(values, truth)[0, 1] > 0.9
    refused = predict(str(runs["regression"]), str(project / "table.csv"), "--proba")
    assert refused.exit_code == 2
    assert "--proba needs a classification model" in refused.stderr
    assert "Traceback" not in refused.output


def test_proba_gives_the_threshold_the_labels_follow(project: Path, runs: dict[str, Path]) -> None:
    result = predict(str(runs["cancer"]), str(project / "cancer.csv"), "--proba")
    assert result.exit_code == 0, result.output
    predicted = pd.read_csv(StringIO(result.stdout))
    assert list(predicted.columns) == ["target", "proba_benign", "proba_malignant", "threshold_malignant"]
    incumbent = json.loads((runs["cancer"] / "results.json").read_text(encoding="utf-8"))["incumbent"]
    threshold = incumbent["decision_threshold"]["value"]
    assert predicted["threshold_malignant"].unique().tolist() == [pytest.approx(threshold)]
    expected = np.where(predicted["proba_malignant"] >= threshold, "malignant", "benign")
    assert predicted["target"].tolist() == expected.tolist()
    assert np.allclose(predicted["proba_benign"] + predicted["proba_malignant"], 1.0)
    assert f"P(malignant) >= {threshold:.4g}" in result.stderr


def test_multiclass_proba_has_one_column_per_class_and_no_threshold(
    project: Path, runs: dict[str, Path]
) -> None:
    result = predict(str(runs["iris"]), str(project / "iris.csv"), "--proba")
    assert result.exit_code == 0, result.output
    predicted = pd.read_csv(StringIO(result.stdout))
    assert list(predicted.columns) == ["target", "proba_setosa", "proba_versicolor", "proba_virginica"]
    assert np.allclose(predicted.iloc[:, 1:].sum(axis=1), 1.0)
    assert "decision threshold" not in result.stderr


def test_rows_come_back_in_input_order(project: Path, runs: dict[str, Path], tmp_path: Path) -> None:
    frame = pd.read_csv(project / "cancer.csv")
    whole = read_stdout_csv(predict(str(runs["cancer"]), str(project / "cancer.csv"), "--proba").stdout)
    order = np.random.default_rng(3).permutation(len(frame))
    frame.iloc[order].to_csv(tmp_path / "shuffled.csv", index=False)
    shuffled = read_stdout_csv(predict(str(runs["cancer"]), str(tmp_path / "shuffled.csv"), "--proba").stdout)
    assert len(shuffled) == len(frame)
    expected = whole.iloc[order].reset_index(drop=True)
    assert shuffled["target"].tolist() == expected["target"].tolist()
    # the same numbers up to the last bits (BLAS sums in another order on another batch)
    assert np.allclose(
        shuffled.iloc[:, 1:].astype(float), expected.iloc[:, 1:].astype(float), rtol=1e-9, atol=1e-12
    )


def test_output_file_is_written_once_and_kept_without_force(
    project: Path, runs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "preds.csv"
    first = predict(str(runs["iris"]), str(project / "iris.csv"), "-o", str(out))
    assert first.exit_code == 0, first.output
    assert first.stdout == ""
    assert len(pd.read_csv(out)) == 150
    out.write_text("keep me\n", encoding="utf-8")
    refused = predict(str(runs["iris"]), str(project / "iris.csv"), "-o", str(out))
    assert refused.exit_code == 2
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert out.read_text(encoding="utf-8") == "keep me\n"
    forced = predict(str(runs["iris"]), str(project / "iris.csv"), "-o", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert len(pd.read_csv(out)) == 150
    assert [p.name for p in tmp_path.iterdir()] == ["preds.csv"]  # no temporary file left


def test_parquet_input_reads_like_csv(project: Path, runs: dict[str, Path], tmp_path: Path) -> None:
    pd.read_csv(project / "table.csv").to_parquet(tmp_path / "table.parquet")
    from_csv = predict(str(runs["int"]), str(project / "table.csv"))
    from_parquet = predict(str(runs["int"]), str(tmp_path / "table.parquet"))
    assert from_parquet.exit_code == 0, from_parquet.output
    assert from_parquet.stdout == from_csv.stdout


# ---------------------------------------------------------------------------------------------- columns
def test_the_schema_is_recorded_with_the_model(runs: dict[str, Path]) -> None:
    schema = json.loads((runs["int"] / "model.json").read_text(encoding="utf-8"))
    assert schema["tool"] == "smac" and schema["model_file"] == "model.joblib"
    assert schema["target"] == "churn" and schema["task_type"] == "classification"
    columns = [(c["name"], c["dtype"]) for c in schema["columns"]]
    assert columns[:3] == [("customer_id", "int64"), ("age", "int64"), ("income", "float64")]
    assert columns[3][0] == "city" and columns[3][1] in ("object", "str")  # pandas 3 reads text as `str`
    assert schema["columns"][0]["kind"] == "dropped"  # an id
    assert schema["classes"] == ["0", "1"] and schema["label_type"] == "int"
    assert schema["ignored_columns"] == ["answer", "spend"]


def test_a_missing_column_is_named_and_exits_2(project: Path, runs: dict[str, Path], tmp_path: Path) -> None:
    frame = pd.read_csv(project / "table.csv").drop(columns=["income"]).rename(columns={"city": "town"})
    frame.to_csv(tmp_path / "renamed.csv", index=False)
    result = predict(str(runs["int"]), str(tmp_path / "renamed.csv"))
    assert result.exit_code == 2
    message = result.stderr.splitlines()[0]
    assert "lacks 2 of the 3 columns the model was trained on: `income`, `city`" in message
    assert "columns it was not trained on: `town`" in message
    assert "Traceback" not in result.output


def test_extra_columns_are_ignored_and_named(project: Path, runs: dict[str, Path], tmp_path: Path) -> None:
    frame = pd.read_csv(project / "table.csv")
    frame.assign(note="x").to_csv(tmp_path / "extra.csv", index=False)
    plain = predict(str(runs["int"]), str(project / "table.csv"))
    extra = predict(str(runs["int"]), str(tmp_path / "extra.csv"))
    assert extra.exit_code == 0, extra.output
    assert extra.stdout == plain.stdout
    assert "ignored 4 columns the model was not trained on: `churn` (the target)" in extra.stderr
    assert "`answer` (data.ignore_columns)" in extra.stderr and "`note`" in extra.stderr


def test_a_column_preprocessing_dropped_may_be_absent(
    project: Path, runs: dict[str, Path], tmp_path: Path
) -> None:
    frame = pd.read_csv(project / "table.csv")
    frame.drop(columns=["customer_id"]).to_csv(tmp_path / "no-id.csv", index=False)
    result = predict(str(runs["int"]), str(tmp_path / "no-id.csv"))
    assert result.exit_code == 0, result.output
    assert result.stdout == predict(str(runs["int"]), str(project / "table.csv")).stdout


def test_text_in_a_numeric_column_exits_2(project: Path, runs: dict[str, Path], tmp_path: Path) -> None:
    frame = pd.read_csv(project / "table.csv").head(3)
    frame["income"] = ["high", "low", "41.5"]
    frame.to_csv(tmp_path / "text.csv", index=False)
    result = predict(str(runs["int"]), str(tmp_path / "text.csv"))
    assert result.exit_code == 2
    assert "column `income`" in result.stderr and "holds text in 2 of 3 rows (e.g. 'high')" in result.stderr
    # a gap marker is a gap, as in training
    frame["income"] = ["?", "", "41.5"]
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    assert predict(str(runs["int"]), str(tmp_path / "gaps.csv")).exit_code == 0


# ------------------------------------------------------------------------------------------- bad input
def test_a_missing_run_directory_exits_2(project: Path, tmp_path: Path) -> None:
    result = predict(str(tmp_path / "nope"), str(project / "iris.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.output


def test_a_directory_that_is_no_run_exits_2(project: Path, tmp_path: Path) -> None:
    result = predict(str(tmp_path), str(project / "iris.csv"))
    assert result.exit_code == 2
    assert "holds no metaconf run" in result.stderr


def test_a_run_without_a_saved_model_exits_2(project: Path) -> None:
    config = write_config(
        project, "unsaved", {"data": {"demo": "iris"}, "search_space": {"models": ["decision_tree"]}}
    )
    config_run = cli.invoke(app, ["run", str(config), "--quiet"])
    assert config_run.exit_code == 0, config_run.output
    result = predict(str(project / "runs" / "unsaved"), str(project / "iris.csv"))
    assert result.exit_code == 2
    assert "saved no model" in result.stderr and "--save-model" in result.stderr


def test_a_corrupt_model_file_exits_2(project: Path, runs: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    damaged = tmp_path / "damaged"
    shutil.copytree(runs["iris"], damaged)
    (damaged / "model.joblib").write_bytes(b"not a pickle at all")
    result = predict(str(damaged), str(project / "iris.csv"))
    assert result.exit_code == 2
    assert "cannot load the model" in result.stderr and "Traceback" not in result.output


def test_a_missing_data_file_exits_2(runs: dict[str, Path], tmp_path: Path) -> None:
    result = predict(str(runs["iris"]), str(tmp_path / "absent.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_a_model_saved_before_schemas_still_predicts(
    project: Path, runs: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    old = tmp_path / "old"
    shutil.copytree(runs["iris"], old)
    (old / "model.json").unlink()
    result = predict(str(old), str(project / "iris.csv"))
    assert result.exit_code == 0, result.output
    # the same labels; the column is `prediction`: the target's name was not recorded before model.json
    recorded = predict(str(runs["iris"]), str(project / "iris.csv")).stdout
    assert result.stdout.splitlines()[0] == "prediction"
    assert result.stdout.splitlines()[1:] == recorded.splitlines()[1:]
    frame = pd.read_csv(project / "iris.csv").drop(columns=["petal width (cm)"])
    frame.to_csv(tmp_path / "short.csv", index=False)
    missing = predict(str(old), str(tmp_path / "short.csv"))
    assert missing.exit_code == 2 and "`petal width (cm)`" in missing.stderr


def test_the_command_module_imports_nothing_heavy() -> None:
    probe = (
        "import sys\n"
        "import metaconf.cli.app\n"
        "print(','.join(m for m in ('joblib', 'pandas', 'sklearn', 'smac') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# ---------------------------------------------------------------------------------------- longer runs
@pytest.mark.slow
def test_readme_flow_suggest_run_predict(tmp_path: Path) -> None:
    """The README's commands: suggest for the demo, run it with --save-model, predict the example rows that
    ship with metaconf."""
    suggested = cli.invoke(
        app,
        [
            "suggest",
            "--demo",
            "breast_cancer",
            "--budget",
            "20s",
            "--no-probe",
            "-o",
            str(tmp_path / "demo.yaml"),
        ],
    )
    assert suggested.exit_code == 0, suggested.output
    run_dir = run_saved(tmp_path / "demo.yaml")
    # the README's command has no --proba: the search may pick an SVM, which gives no probabilities
    result = predict(str(run_dir), str(EXAMPLE_ROWS), "-o", str(tmp_path / "preds.csv"))
    assert result.exit_code == 0, result.output
    predicted = pd.read_csv(tmp_path / "preds.csv")
    assert list(predicted.columns) == ["target"]
    # rows 0, 19, 100, 300 and 568 of the dataset: malignant, benign, malignant, malignant, benign
    truth = ["malignant", "benign", "malignant", "malignant", "benign"]
    assert sum(p == t for p, t in zip(predicted["target"], truth, strict=True)) >= 4


def test_the_example_rows_are_rows_of_the_demo() -> None:
    frame = demo_frame("breast_cancer")
    example = pd.read_csv(EXAMPLE_ROWS)
    assert list(example.columns) == [c for c in frame.columns if c != "target"]
    assert np.allclose(
        example.to_numpy(), frame.drop(columns=["target"]).iloc[[0, 19, 100, 300, 568]].to_numpy()
    )
    assert frame["target"].iloc[[0, 19, 100, 300, 568]].tolist() == [
        "malignant",
        "benign",
        "malignant",
        "malignant",
        "benign",
    ]


@pytest.mark.slow
@pytest.mark.skipif(
    not envs.inspect_env(envs.env_dir()).ready,
    reason="needs auto-sklearn's environment: run `metaconf backends install auto-sklearn`",
)
def test_autosklearn_model_predicts_in_its_own_environment(tmp_path: Path) -> None:
    """penguins: string labels, categorical columns, gaps; the model unpickles only in auto-sklearn's env."""
    config = tmp_path / "askl.yaml"
    config.write_text(
        "tool: auto-sklearn\ndata:\n  demo: penguins\nstopping:\n  walltime: 30s\n  trial_walltime: 10s\n"
        "execution:\n  seed: 0\n  output_dir: runs\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", str(config), "--save-model", "--quiet"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    run_dir = tmp_path / "runs" / "askl"
    schema = json.loads((run_dir / "model.json").read_text(encoding="utf-8"))
    assert schema["tool"] == "auto-sklearn" and (run_dir / schema["model_file"]).is_file()
    frame = demo_frame("penguins")
    frame.to_csv(tmp_path / "penguins.csv", index=False)
    frame.head(1).assign(culmen_length_mm=np.nan).to_csv(tmp_path / "one.csv", index=False)
    result = predict(str(run_dir), str(tmp_path / "penguins.csv"), "--proba")
    assert result.exit_code == 0, result.output
    predicted = read_stdout_csv(result.stdout)
    assert list(predicted.columns) == ["species", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]
    assert (predicted["species"] == frame["species"].astype(str)).mean() > 0.9
    one = predict(str(run_dir), str(tmp_path / "one.csv"))  # one row, a numeric column with no value
    assert one.exit_code == 0, one.output
    assert read_stdout_csv(one.stdout)["species"].tolist()[0] in {"Adelie", "Chinstrap", "Gentoo"}
