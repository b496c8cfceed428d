"""The peer benchmark (benchmarks/peers.py): every dataset loads offline as declared, the scoring arithmetic, and
one real run end to end (metaconf suggest + run, the random forest, FLAML when installed)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from benchmark_module import load_benchmark

peers = load_benchmark("peers")
peer_datasets = load_benchmark("peer_datasets")

BENCH_INSTALL = 'pip install -e ".[bench]"'


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access in a dataset loader")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _frame(name: str) -> pd.DataFrame:
    try:
        return peer_datasets.load_frame(name)
    except peer_datasets.DatasetUnavailable as error:
        pytest.skip(f"{error} (all of them: {BENCH_INSTALL})")


@pytest.mark.parametrize("name", list(peer_datasets.DATASETS))
def test_every_dataset_loads_offline_as_declared(name: str, no_network: None) -> None:
    dataset = peer_datasets.DATASETS[name]
    frame = _frame(name)
    assert dataset.target in frame.columns
    assert frame[dataset.target].notna().all()
    assert len(frame) >= 300 and frame.shape[1] >= 4
    y = frame[dataset.target]
    if dataset.task == "regression":
        assert pd.api.types.is_numeric_dtype(y) and y.nunique() > 50
    else:
        n_classes = y.nunique()
        assert n_classes == 2 if dataset.task == "binary" else 3 <= n_classes <= 10
        assert y.value_counts().min() >= 30  # a 25 % stratified test split keeps every class
    assert len(dataset.description.split()) >= 15 and dataset.source


def test_the_suite_mixes_tasks_and_has_imbalanced_binary_tasks_one_with_costs() -> None:
    datasets = peer_datasets.DATASETS
    assert len(datasets) >= 12
    assert {d.task for d in datasets.values()} == {"binary", "multiclass", "regression"}
    imbalanced = {}
    for name, dataset in datasets.items():
        if dataset.task == "binary":
            shares = _frame(name)[dataset.target].value_counts(normalize=True)
            if shares.min() < 0.15:
                imbalanced[name] = dataset
    assert len(imbalanced) >= 2, imbalanced
    assert any("cost" in d.description for d in imbalanced.values())


def test_compare_and_ranks() -> None:
    assert peers.compare(0.80, 0.79) == "win"
    assert peers.compare(0.80, 0.796) == "tie"
    assert peers.compare(0.80, 0.806) == "loss"
    assert peers.compare(None, 0.5) == "loss" and peers.compare(0.5, None) == "win"
    assert peers.ranks({"a": 0.9, "b": 0.8, "c": 0.9, "d": None}) == {"a": 1.5, "c": 1.5, "b": 3, "d": 4}


def _record(dataset: str, system: str, score: float | None, wall: float = 50.0) -> object:
    return peers.Record(dataset, "binary", "60s", 0, system, "ok" if score is not None else "failed",
                        score=score, wall_s=wall)


def test_summary_counts_wins_ties_losses_ranks_and_budget_overruns() -> None:
    records = [
        _record("a", "metaconf", 0.90), _record("a", "flaml", 0.85), _record("a", "random_forest", 0.91),
        _record("b", "metaconf", 0.70, wall=64.0), _record("b", "flaml", 0.703), _record("b", "random_forest", 0.60),
        _record("c", "metaconf", None), _record("c", "flaml", 0.5), _record("c", "random_forest", 0.4),
    ]
    result = peers.summary(records)["60s"]
    assert result["wins_ties_losses"]["flaml"] == {"win": 1, "tie": 1, "loss": 1}
    assert result["wins_ties_losses"]["random_forest"] == {"win": 1, "tie": 0, "loss": 2}
    assert result["median_rank"] == {"metaconf": 2, "flaml": 1, "random_forest": 2}
    assert result["metaconf_over_budget"] == ["b (seed 0): 64s"]  # 60 s + 5 % = 63 s
    table = peers.render(records)
    assert "metaconf vs FLAML    wins  1  ties  1  losses  1" in table
    assert "64s!" in table and "FAIL" in table


def test_seed_means_judge_each_dataset_on_its_mean_over_seeds(tmp_path: Path) -> None:
    def record(dataset: str, seed: int, system: str, score: float | None) -> Any:
        return peers.Record(dataset, "binary", "60s", seed, system, "ok" if score is not None else "failed",
                            score=score, wall_s=50.0)

    records = [
        # a: metaconf loses seed 0 by 0.02 and wins seeds 1-2 by 0.01: the means tie (0.82 each)
        record("a", 0, "metaconf", 0.80), record("a", 0, "flaml", 0.82), record("a", 0, "random_forest", 0.70),
        record("a", 1, "metaconf", 0.83), record("a", 1, "flaml", 0.82), record("a", 1, "random_forest", 0.70),
        record("a", 2, "metaconf", 0.83), record("a", 2, "flaml", 0.82), record("a", 2, "random_forest", 0.70),
        # b: behind FLAML by 0.01 on average, behind the forest by 0.03 on one seed
        record("b", 0, "metaconf", 0.60), record("b", 0, "flaml", 0.61), record("b", 0, "random_forest", 0.63),
        record("b", 1, "metaconf", 0.62), record("b", 1, "flaml", 0.63), record("b", 1, "random_forest", 0.59),
        # c: metaconf failed on one seed: no mean, a loss
        record("c", 0, "metaconf", 0.9), record("c", 0, "flaml", 0.5), record("c", 0, "random_forest", 0.5),
        record("c", 1, "metaconf", None), record("c", 1, "flaml", 0.5), record("c", 1, "random_forest", 0.5),
        # d: one seed only, FLAML unavailable there: compared with the forest alone
        record("d", 0, "metaconf", 0.7), record("d", 0, "random_forest", 0.7),
        peers.Record("d", "binary", "60s", 0, "flaml", "unavailable"),
    ]
    means = peers.seed_means(records)["60s"]
    assert means["a"]["seeds"] == [0, 1, 2]
    assert means["a"]["mean"]["metaconf"] == pytest.approx(0.82) and means["a"]["mean"]["flaml"] == pytest.approx(0.82)
    assert means["a"]["sd"]["metaconf"] == pytest.approx(0.01732, abs=1e-4)
    assert means["c"]["mean"]["metaconf"] is None
    assert set(means["d"]["mean"]) == {"metaconf", "random_forest"}
    result = peers.seed_mean_summary(records)["60s"]
    assert result["wins_ties_losses"]["flaml"] == {"win": 0, "tie": 1, "loss": 2}  # a tie, b and c losses
    assert result["wins_ties_losses"]["random_forest"] == {"win": 1, "tie": 2, "loss": 1}  # a; b and d; c
    assert result["largest_shortfall"]["flaml"] == {"dataset": "b", "by": pytest.approx(0.01)}
    assert result["seeds"] == [0, 1, 2] and result["datasets"] == 4
    table = peers.render(records)
    assert "each dataset's mean over its seeds" in table
    assert "0.8200 ± 0.0173" in table and "FAIL" in table
    assert "on the means: metaconf vs FLAML    wins  0  ties  1  losses  2" in table
    # one seed per dataset: no mean table
    assert peers.seed_means([r for r in records if r.seed == 0]) == {}

    # --report reads several files together; the same cell in two files is refused
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    peers.save(first, {}, [r for r in records if r.seed == 0])
    peers.save(second, {}, [r for r in records if r.seed != 0])
    assert peers.merged([first, second])[1] == [r for r in records if r.seed == 0] + [r for r in records if r.seed != 0]
    with pytest.raises(SystemExit) as stop:
        peers.main(["--report", str(first), str(first)])
    assert stop.value.code == 2
    assert peers.main(["--report", str(first), str(second)]) == 0
    both = tmp_path / "both.json"
    assert peers.main(["--report", str(first), str(second), "--merged", str(both)]) == 0
    assert peers.load(both)[1] == peers.merged([first, second])[1]
    assert [Path(m["file"]).name for m in peers.load(both)[0]["merged_from"]] == ["first.json", "second.json"]
    before = both.read_bytes()
    with pytest.raises(SystemExit) as stop:  # never overwritten
        peers.main(["--report", str(first), "--merged", str(both)])
    assert stop.value.code == 2 and both.read_bytes() == before
    assert json.loads(first.read_text())["seed_means"] == {}  # one seed per dataset
    saved = json.loads(second.read_text())  # a: seeds 1-2 (a win); b: seed 1 (a loss); c: failed (a loss)
    assert saved["seed_means"]["60s"]["wins_ties_losses"]["flaml"] == {"win": 1, "tie": 0, "loss": 2}


def test_baseline_compares_metaconf_with_another_commits_metaconf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def record(dataset: str, seed: int, system: str, score: float | None, **details: Any) -> Any:
        return peers.Record(dataset, "binary", "60s", seed, system, "ok" if score is not None else "failed",
                            score=score, metaconf_metric=details.pop("metric", None), wall_s=50.0, details=details)

    baseline = [
        record("a", 0, "metaconf", 0.80, metric="accuracy", validation_score=0.81),
        record("a", 1, "metaconf", 0.80, metric="accuracy", validation_score=0.81),
        record("a", 0, "flaml", 0.79), record("a", 1, "flaml", 0.78), record("a", 0, "random_forest", 0.70),
        record("b", 0, "metaconf", 0.60, metric="rmse", validation_score=10.0),
        record("b", 0, "flaml", 0.65),
        record("c", 0, "metaconf", 0.90, metric="accuracy", validation_score=0.9),  # not in this run
    ]
    this_run = [
        # a: seed 0 better by 0.008 (validation level), seed 1 level (validation worse): the mean +0.004 is level
        record("a", 0, "metaconf", 0.808, metric="accuracy", validation_score=0.8105),
        record("a", 1, "metaconf", 0.80, metric="accuracy", validation_score=0.80),
        record("a", 1, "flaml", 0.70),  # measured again: this run's FLAML is kept, the baseline's not borrowed
        # b: worse on test, better on validation (a lower RMSE)
        record("b", 0, "metaconf", 0.59, metric="rmse", validation_score=9.0),
        # d: the baseline has no such cell
        record("d", 0, "metaconf", 0.5, metric="accuracy", validation_score=0.5),
    ]
    result = peers.change(this_run, baseline)["60s"]
    assert result["per_run"] == {"win": 1, "tie": 1, "loss": 1}
    assert result["on_means"] == {"win": 0, "tie": 1, "loss": 1}
    assert result["validation"] == {"win": 1, "tie": 1, "loss": 1}
    assert set(result["datasets"]) == {"a", "b"} and result["datasets"]["a"]["after"] == pytest.approx(0.804)
    # another metric, or no validation score: not compared
    other = record("a", 0, "metaconf", 0.82, metric="balanced_accuracy", validation_score=0.9)
    assert peers.compare_validation(other, baseline[0]) is None
    assert peers.compare_validation(record("a", 0, "metaconf", None), baseline[0]) is None

    borrowed = peers.borrowed_peers(this_run, baseline)
    assert {(r.dataset, r.seed, r.system) for r in borrowed} == {
        ("a", 0, "flaml"), ("a", 0, "random_forest"), ("b", 0, "flaml")}

    new, old = tmp_path / "new.json", tmp_path / "old.json"
    peers.save(new, {"commit": "new1"}, this_run)
    # a merge of a merge: the commits of every file it came from
    merged_from = [{"file": "x", "commit": "old1"}, {"file": "y", "merged_from": [{"file": "z", "commit": "old2"}]}]
    peers.save(old, {"merged_from": merged_from}, baseline)
    assert peers.main(["--report", str(new), "--baseline", str(old)]) == 0
    out = capsys.readouterr().out
    assert "measured at old1, old2" in out
    assert "per run: better 1, level 1, worse 1" in out and "on the means: better 0, level 1, worse 1" in out
    assert "| a       | 2     | 0.8040   | 0.8000   | +0.0040 |" in out
    with pytest.raises(SystemExit) as stop:  # --baseline only with --report
        peers.main(["--baseline", str(old)])
    assert stop.value.code == 2


def test_metaconf_metric_scores_decisions_under_the_cost_matrix() -> None:
    import metaconf

    costs = metaconf.Config.model_validate(
        {"task": {"metric": "expected_cost", "cost_matrix": {"labels": ["bad", "good"], "costs": [[0, 5], [1, 0]]}}}
    )
    truth = ["bad", "good", "good", "good"]
    metric = peers.MetaconfMetric("expected_cost", costs, truth)
    # one bad customer accepted (5) and one good customer rejected (1): (5 + 1) / 4 rows
    assert metric.score(truth, ["good", "bad", "good", "good"], None, None) == pytest.approx(1.5)
    auc_config = metaconf.Config.model_validate({"task": {"metric": "roc_auc", "positive_label": 1}})
    auc = peers.MetaconfMetric("roc_auc", auc_config, [0, 1])
    assert auc.score(["0", "1"], ["0", "1"], None, None) is None  # no probabilities: not computable
    # labels match by value (the harness reads them back as strings), probabilities follow `classes`
    assert auc.score(["0", "1"], ["0", "1"], [[0.1, 0.9], [0.8, 0.2]], ["1", "0"]) == pytest.approx(1.0)
    assert auc.score([0, 1], [0, 1], [[0.9, 0.1], [0.2, 0.8]], [0, 1]) == pytest.approx(1.0)


@pytest.mark.slow
def test_one_dataset_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """titanic at 30 s (with the LLM installed, 15 s is too small once its reading is reserved): metaconf
    (suggest + run --save-model, its model scored on the held-out rows), the random forest, and FLAML when it
    is installed; then --reuse prints the table from the JSON."""
    systems = ["metaconf", "random_forest"] + (["flaml"] if peers.flaml_available() else [])
    out = tmp_path / "peers.json"
    records = peers.run_benchmark(
        ["titanic"], ["30s"], [0], systems, out, tmp_path / "work",
        peers.Options(cpu=peers.default_cpu(), flaml_metric="auto"), echo=False,
    )
    by_system = {r.system: r for r in records}
    assert set(by_system) == set(systems)
    test_rows = len(pd.read_csv(tmp_path / "work" / "data" / "titanic-seed0" / "test.csv"))
    assert test_rows == 328  # 25 % of 1,309 rows
    for record in records:
        assert record.status == "ok", record.error
        assert 0.65 < record.score < 0.95  # balanced accuracy; chance is 0.5
        assert record.wall_s is not None and record.wall_s > 0
        assert record.metaconf_metric is not None and record.metaconf_metric_score is not None
    metaconf = by_system["metaconf"]
    assert metaconf.details["run_status"] == "finished" and metaconf.details["n_trials"] >= 1
    # the wall time is the whole suggest + run, measured from outside: it includes what results.json counts
    details = metaconf.details
    assert metaconf.wall_s == pytest.approx(details["suggest_s"] + details["run_s"], abs=0.02)
    assert details["run_s"] > details["total_s"] > details["search_s"] > 0
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert len(saved["records"]) == len(systems) and "60s" not in saved["summary"]
    assert peers.main(["--reuse", "--out", str(out)]) == 0
    assert "| titanic" in capsys.readouterr().out
    if "flaml" not in systems:
        pytest.skip(f"metaconf and the random forest passed; FLAML is not installed: {BENCH_INSTALL}")



def test_the_metaconf_commands_run_the_driver_s_metaconf_not_the_working_directory_s(tmp_path: Path) -> None:
    """An A/B run exports a commit and puts it on PYTHONPATH; started from a checkout, `python -m metaconf` ran
    the checkout's metaconf instead. A decoy package in the working directory must not be the one that runs."""
    import subprocess

    import metaconf

    decoy = tmp_path / "metaconf"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("")
    (decoy / "__main__.py").write_text("import sys; print('the decoy'); sys.exit(3)\n")
    cwd = peers.metaconf_cwd() or tmp_path
    done = subprocess.run(
        [*peers.metaconf_command(), "--version"], cwd=cwd, env=peers.metaconf_env(), capture_output=True,
        text=True, timeout=120,
    )
    assert done.returncode == 0 and "the decoy" not in done.stdout, done.stdout + done.stderr
    assert metaconf.__version__ in done.stdout
    assert peers.metaconf_env()["PYTHONPATH"].split(":")[0] == str(Path(metaconf.__file__).resolve().parents[1])
