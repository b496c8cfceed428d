"""The run-directory format (results.json, trajectory.csv, plot), the summary tables and `metaconf report`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.model import Config
from metaconf.errors import UsageError
from metaconf.report import results as rr
from metaconf.report.summary import comparison_table, summary_table

cli = CliRunner()


def trials(costs: list[float | None], statuses: list[str] | None = None) -> list[rr.TrialRecord]:
    out, best = [], None
    for i, cost in enumerate(costs):
        status = statuses[i] if statuses else "success"
        if cost is not None and status == "success" and (best is None or cost < best):
            best = cost
        out.append(
            rr.TrialRecord(
                trial=i + 1,
                walltime_s=0.5 * (i + 1),
                cost=cost,
                status=status,
                incumbent_cost=best,
                incumbent_score=None if best is None else 1 - best,
                origin="initial design" if i < 2 else "acquisition: local search",
            )
        )
    return out


def results(
    status: str = "finished", metric: str = "accuracy", test_score: float | None = 0.9, seed: int = 0
) -> rr.RunResults:
    return rr.RunResults(
        tool="smac",
        status=status,  # type: ignore[arg-type]
        seed=seed,
        config_sha256="ab" * 32,
        metric_name=metric,
        greater_is_better=True,
        started="2026-01-01T00:00:00Z",
        incumbent=rr.Incumbent({"model": "svm", "svm:C": 2.5}, 0.05, 0.95, test_score, None),
        trials_by_status={"success": 3, "crashed": 1},
        total_s=3.2,
        search_s=2.0,
        finished="2026-01-01T00:00:03Z",
        versions={"smac": "2.4.1"},
        dataset={"name": "iris", "n_rows": 150, "n_features": 4},
        stop_reason="n_trials (4) reached",
    )


def write_run(run_dir: Path, **kwargs: object) -> Path:
    rr.write_results(
        run_dir,
        results(**kwargs),
        trials([0.2, None, 0.1, 0.15], ["success", "crashed", "success", "success"]),
    )  # type: ignore[arg-type]
    return run_dir


def test_jsonable_turns_numpy_and_non_finite_values_into_plain_json() -> None:
    value = {
        "s": np.str_("gini"),
        "b": np.False_,
        "i": np.int64(3),
        "f": np.float32(0.5),
        "inf": float("inf"),
        "nan": np.float64("nan"),
        "arr": np.array([1, 2]),
        "t": (1, 2),
    }
    plain = rr.jsonable(value)
    assert plain == {
        "s": "gini",
        "b": False,
        "i": 3,
        "f": 0.5,
        "inf": None,
        "nan": None,
        "arr": [1, 2],
        "t": [1, 2],
    }
    assert type(plain["s"]) is str and type(plain["b"]) is bool and type(plain["i"]) is int
    json.dumps(plain, allow_nan=False)
    with pytest.raises(TypeError, match="cannot write a object"):
        rr.jsonable(object())


def test_results_round_trip_and_the_documented_layout(tmp_path: Path) -> None:
    write_run(tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert set(data) == {
        "format", "tool", "status", "stop_reason", "error", "seed", "config_sha256", "metric",
        "incumbent", "trials", "time", "versions", "dataset",
    }  # fmt: skip
    assert data["format"] == 1
    assert data["trials"] == {"total": 4, "by_status": {"crashed": 1, "success": 3}}
    assert data["metric"] == {"name": "accuracy", "greater_is_better": True}
    assert data["incumbent"]["config"] == {"model": "svm", "svm:C": 2.5}
    assert rr.read_results(tmp_path) == results()


def test_trajectory_csv_round_trip(tmp_path: Path) -> None:
    records = trials([0.2, None, 0.1], ["success", "timeout", "success"])
    records[1].budget = 0.5
    rr.write_results(tmp_path, results(), records)
    lines = (tmp_path / "trajectory.csv").read_text().splitlines()
    assert lines[0] == "trial,walltime_s,budget,cost,status,incumbent_cost,incumbent_score,origin"
    assert lines[2] == "2,1.0,0.5,,timeout,0.2,0.8,initial design"
    assert rr.read_trajectory(tmp_path) == records


def test_read_results_explains_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a directory"):
        rr.read_results(tmp_path / "nope")
    with pytest.raises(UsageError, match=re.escape("results.json` does not exist")):
        rr.read_results(tmp_path)
    (tmp_path / "results.json").write_text("{\n  oops")
    with pytest.raises(UsageError, match=r"results.json:2:3: not valid JSON"):
        rr.read_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"format": 9}))
    with pytest.raises(UsageError, match="results format 9 is not supported"):
        rr.read_results(tmp_path)
    document = results().to_dict()
    del document["metric"]["name"]
    (tmp_path / "results.json").write_text(json.dumps(document))
    with pytest.raises(UsageError, match=re.escape("missing field `metric.name`")):
        rr.read_results(tmp_path)
    document = results().to_dict()
    document["status"] = "done"
    (tmp_path / "results.json").write_text(json.dumps(document))
    with pytest.raises(
        UsageError,
        match=re.escape("`status` must be one of running, finished, interrupted, failed. Got 'done'"),
    ):
        rr.read_results(tmp_path)


def test_damaged_trajectory_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "trajectory.csv").write_text(
        "trial,walltime_s,budget,cost,status,incumbent_cost,incumbent_score\n1,x,,,success,,\n"
    )
    with pytest.raises(UsageError, match=re.escape("trajectory.csv:2: unreadable row")):
        rr.read_trajectory(tmp_path)
    (tmp_path / "trajectory.csv").write_text("trial,cost\n")
    with pytest.raises(UsageError, match="missing columns walltime_s, budget, status"):
        rr.read_trajectory(tmp_path)
    assert rr.read_trajectory(tmp_path / "missing") == []


def test_config_hash_ignores_provenance_and_output_location() -> None:
    base = Config.model_validate({"data": {"demo": "iris"}})
    moved = Config.model_validate(
        {
            "data": {"demo": "iris"},
            "execution": {"output_dir": "elsewhere", "name": "x", "on_existing": "error"},
        }
    )
    explained = Config.model_validate({"data": {"demo": "iris"}, "provenance": {"advisor": "rules"}})
    changed = Config.model_validate({"data": {"demo": "iris"}, "stopping": {"n_trials": 5}})
    assert rr.config_sha256(base) == rr.config_sha256(moved) == rr.config_sha256(explained)
    assert rr.config_sha256(base) != rr.config_sha256(changed)


def test_config_hash_of_a_run_made_before_decision_threshold_existed_is_unchanged() -> None:
    """The hash metaconf 30c1a2e (before `task.decision_threshold`) wrote for this config: a run it made resumes."""
    base = Config.model_validate({"data": {"demo": "iris"}})
    assert rr.config_sha256(base) == "842fd13f66228a54247b14e80808820291e26df6fd33a9d9652e8ba807bdf881"
    natural = Config.model_validate({"data": {"demo": "iris"}, "task": {"decision_threshold": "natural"}})
    assert rr.config_sha256(natural) != rr.config_sha256(base)


def test_write_config_writes_the_resolved_config(tmp_path: Path) -> None:
    import yaml

    config = Config.model_validate({"data": {"demo": "iris"}, "stopping": {"trial_walltime": "90s"}})
    rr.write_config(tmp_path, config)
    loaded = Config.model_validate(yaml.safe_load((tmp_path / "config.yaml").read_text()))
    assert loaded == config
    assert "resampling:" in (tmp_path / "config.yaml").read_text()  # defaults are written out


def test_plot_trajectories_writes_a_png_for_one_or_several_runs(tmp_path: Path) -> None:
    one = write_run(tmp_path / "a")
    two = write_run(tmp_path / "b")
    out = rr.plot_trajectories([one, two], tmp_path / "both.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rr.write_results(one, results(), trials([0.3]), plot=True)
    assert (one / "trajectory.png").read_bytes()[:4] == b"\x89PNG"


def render(table: object) -> str:
    console = Console(width=140, record=True)
    console.print(table)
    return console.export_text()


def test_summary_table_shows_scores_trials_and_stop_reason() -> None:
    text = render(summary_table(results(), "runs/demo"))
    assert "finished (n_trials (4) reached)" in text
    assert "accuracy (higher is better)" in text
    assert "0.95" in text and "0.9" in text
    assert "4 (3 success, 1 crashed)" in text
    assert "svm:C=2.5" in text
    assert "iris (150 rows x 4 features)" in text


def test_comparison_table_marks_the_best_run() -> None:
    text = render(comparison_table([("a", results(test_score=0.8)), ("b", results(test_score=0.93, seed=1))]))
    assert "b *" in text and "a *" not in text
    assert "best test score" in text
    mixed = render(comparison_table([("a", results()), ("b", results(metric="f1"))]))
    assert "not comparable" in mixed and "b *" not in mixed
    other_data = results()
    other_data.dataset = {"name": "wine"}
    assert "not comparable" in render(comparison_table([("a", results()), ("b", other_data)]))
    assert "iris" in text


def test_report_command_single_and_compare_with_plot(tmp_path: Path) -> None:
    one = write_run(tmp_path / "one")
    two = write_run(tmp_path / "two", status="interrupted")
    single = cli.invoke(app, ["report", str(one)])
    assert single.exit_code == 0, single.output
    assert "metaconf run: one" in single.stdout
    plot = tmp_path / "cmp.png"
    both = cli.invoke(app, ["report", str(one), str(two), "--plot", str(plot)])
    assert both.exit_code == 0, both.output
    assert "metaconf runs compared" in both.stdout and "interrupted" in both.stdout
    assert plot.read_bytes()[:4] == b"\x89PNG"
    again = cli.invoke(app, ["report", str(one), "--plot", str(plot)])
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert cli.invoke(app, ["report", str(one), "--plot", str(plot), "--force"]).exit_code == 0


def test_report_command_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    missing = cli.invoke(app, ["report", str(tmp_path / "missing")])
    assert missing.exit_code == 2 and "is not a directory" in missing.stderr
    empty = cli.invoke(app, ["report", str(tmp_path)])
    assert empty.exit_code == 2 and "results.json` does not exist" in empty.stderr
    bad_plot = cli.invoke(app, ["report", str(write_run(tmp_path / "r")), "--plot", str(tmp_path / "x.jpg")])
    assert bad_plot.exit_code == 2 and "PNG" in bad_plot.stderr
    assert "Traceback" not in missing.output + empty.output + bad_plot.output
