"""`metaconf explain`: every value with its origin and reason, for suggested and hand-written configs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.explain import explain_values

runner = CliRunner()


def _suggested(tmp_path: Path) -> Path:
    out = tmp_path / "demo.yaml"
    result = runner.invoke(app, ["suggest", "--demo", "iris", "--budget", "3m", "--no-probe", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_table_lists_every_suggested_value_with_origin_and_reason(tmp_path: Path) -> None:
    config = _suggested(tmp_path)
    result = runner.invoke(app, ["explain", str(config)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "written by the rules advisor" in out
    for setting in (
        "task.metric",
        "stopping.n_trials",
        "stopping.walltime",
        "optimizer.kind",
        "budget.walltime",
    ):
        assert setting in out
    assert "R9:" in out and "rule" in out and "user" in out


def test_json_rows_cover_the_written_values(tmp_path: Path) -> None:
    config = _suggested(tmp_path)
    result = runner.invoke(app, ["explain", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["path"]: row for row in json.loads(result.output)}
    assert rows["budget.walltime"] == {
        "path": "budget.walltime",
        "value": "3m",
        "origin": "user",
        "reason": "you gave --budget 3m for the whole job",
    }
    assert rows["stopping.n_trials"]["origin"] == "rule"
    assert rows["initial_design.warm_start"]["origin"] == "rule"
    assert all(row["reason"] for row in rows.values())


def test_hand_written_config_shows_user_and_default_origins() -> None:
    raw = {"data": {"demo": "iris"}, "budget": {"walltime": "10m"}, "stopping": {"n_trials": 50}}
    rows = {row.path: row for row in explain_values(raw, all_values=True)}
    assert rows["stopping.n_trials"].origin == "user"
    assert rows["stopping.n_trials"].value == "50"
    assert rows["resampling.strategy"].origin == "default"
    assert rows["resampling.strategy"].reason.startswith("`holdout`")
    only_written = {row.path for row in explain_values(raw)}
    assert only_written == {"data.demo", "budget.walltime", "stopping.n_trials"}


def test_edited_value_without_a_reason_is_marked_user(tmp_path: Path) -> None:
    config = _suggested(tmp_path)
    text = config.read_text(encoding="utf-8").replace(
        "execution:\n", "execution:\n  output_dir: elsewhere\n", 1
    )
    config.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["explain", str(config), "--format", "json"])
    rows = {row["path"]: row for row in json.loads(result.output)}
    assert rows["execution.output_dir"]["origin"] == "user"
    assert "no recorded reason" in rows["execution.output_dir"]["reason"]


def test_bad_files_exit_2_with_the_position(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = runner.invoke(app, ["explain", str(missing)])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("budget:\n  walltime: 10m\n cores: 2\n", encoding="utf-8")
    result = runner.invoke(app, ["explain", str(broken)])
    assert result.exit_code == 2
    assert "broken.yaml:3:" in result.output
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("stopping:\n  n_trails: 5\n", encoding="utf-8")
    result = runner.invoke(app, ["explain", str(invalid)])
    assert result.exit_code == 2
    assert "invalid.yaml:2:3" in result.output and "n_trials" in result.output
    assert "Traceback" not in result.output
