"""The data profile: column kinds with reasons, target, duplicates, memory, sampling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metaconf.data.load import DataError, Dataset
from metaconf.profile.profile import COLUMN_KINDS, profile_dataset, profile_path


def _mixed_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "age": rng.integers(18, 90, n).astype(float),
            "city": rng.choice(["paris", "rome", "oslo"], n),
            "member": rng.choice(["yes", "no"], n),
            "signup": pd.date_range("2021-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "review": [" ".join(rng.choice(words, 8)) + f" #{i}" for i in range(n)],
            "country": ["fr"] * n,
            "code": [f"C{i:05d}" for i in range(n)],
            "label": rng.choice(["good", "bad"], n, p=[0.8, 0.2]),
        }
    )


def test_column_kinds_and_reasons() -> None:
    frame = _mixed_frame()
    frame.loc[::10, "age"] = np.nan
    dataset = Dataset(X=frame.drop(columns=["label"]), y=frame["label"], name="mixed", source="test", task_type="classification")
    profile = profile_dataset(dataset)
    kinds = {c.name: c.kind for c in profile.columns}
    assert kinds == {
        "customer_id": "id-like",
        "age": "numeric",
        "city": "categorical",
        "member": "boolean",
        "signup": "datetime",
        "review": "text",
        "country": "constant",
        "code": "id-like",
    }
    by_name = {c.name: c for c in profile.columns}
    assert all(c.reason for c in profile.columns)
    assert by_name["age"].missing_ratio == pytest.approx(0.1)
    assert by_name["age"].stats["min"] >= 18
    assert "distinct values" not in by_name["age"].reason
    assert by_name["city"].n_unique == 3 and len(by_name["city"].top_values) == 3
    assert by_name["review"].treatment == "dropped" and by_name["country"].treatment == "dropped"
    assert set(profile.kind_counts()) == set(COLUMN_KINDS) and sum(profile.kind_counts().values()) == 8
    assert profile.n_used_features == 4
    assert profile.n_encoded_features == 2 + 3 + 2 + 4  # age (+ missing indicator), city, member, signup
    assert profile.missing_ratio == pytest.approx(20 / (200 * 8))
    assert any("dropped by the preprocessing" in note for note in profile.notes)


def test_numeric_column_with_few_values_gets_a_hint() -> None:
    X = pd.DataFrame({"pclass": [1, 2, 3] * 40, "x": np.linspace(0, 1, 120)})
    y = pd.Series(["a", "b"] * 60, name="y")
    profile = profile_dataset(Dataset(X=X, y=y, name="t", source="test", task_type="classification"))
    reasons = {c.name: c.reason for c in profile.columns}
    assert "only 3 distinct values" in reasons["pclass"] and "distinct values" not in reasons["x"]


def test_target_classes_and_imbalance() -> None:
    y = pd.Series(["a"] * 95 + ["b"] * 5, name="y")
    X = pd.DataFrame({"x": np.arange(100) % 7})
    profile = profile_dataset(Dataset(X=X, y=y, name="t", source="test", task_type="classification"))
    assert profile.target is not None
    assert profile.target.kind == "binary"
    assert profile.target.class_counts == {"a": 95, "b": 5}
    assert profile.target.imbalance_ratio == pytest.approx(19.0)
    assert profile.target.minority_class == "b"
    assert any("imbalanced" in note for note in profile.notes)


def test_regression_target_stats() -> None:
    rng = np.random.default_rng(1)
    y = pd.Series(rng.normal(10, 2, 300), name="price")
    X = pd.DataFrame({"x": rng.normal(size=300)})
    profile = profile_dataset(Dataset(X=X, y=y, name="r", source="test", task_type="regression"))
    assert profile.target is not None and profile.target.kind == "continuous"
    assert profile.target.class_counts == {}
    assert profile.target.stats["mean"] == pytest.approx(10, abs=0.5)
    assert profile.target.imbalance_ratio == 1.0


def test_duplicates_and_conflicting_labels() -> None:
    X = pd.DataFrame({"a": [1, 1, 1, 2, 3], "b": ["x", "x", "x", "y", "z"]})
    y = pd.Series(["p", "p", "q", "p", "q"], name="t")
    profile = profile_dataset(Dataset(X=X, y=y, name="d", source="test", task_type="classification"))
    assert profile.duplicate_rows == 1  # row 1 repeats row 0
    assert profile.conflicting_duplicates == 1  # row 2 repeats row 0's features with another label


def test_large_data_is_sampled_and_says_so() -> None:
    frame = _mixed_frame(n=3000)
    dataset = Dataset(X=frame.drop(columns=["label"]), y=frame["label"], name="big", source="test", task_type="classification")
    profile = profile_dataset(dataset, max_rows=500, seed=3)
    assert profile.sampled and profile.rows_profiled == 500 and profile.n_rows == 3000
    assert sum(profile.target.class_counts.values()) == 3000  # type: ignore[union-attr]
    assert any("random sample of 500" in note for note in profile.notes)
    assert profile_dataset(dataset).sampled is False
    assert profile_dataset(dataset, max_rows=500, seed=3).to_dict() | {"seconds": 0} == profile.to_dict() | {"seconds": 0}


def test_profile_path_csv(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    _mixed_frame().to_csv(path, index=False)
    profile = profile_path(path, "label")
    assert profile.n_rows == 200 and profile.n_features == 8
    assert profile.target is not None and profile.target.name == "label"
    assert profile.memory_mb > 0 and profile.seconds >= 0
    data = json.loads(json.dumps(profile.to_dict()))
    assert data["target"]["minority_class"] == "bad"
    assert data["kind_counts"]["id-like"] == 2


def test_profile_path_semicolon_csv_and_guessed_target(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("a;b;class\n1;x;yes\n2;y;no\n3;x;yes\n", encoding="utf-8")
    profile = profile_path(path)
    assert profile.n_features == 2 and profile.target is not None and profile.target.name == "class"
    assert any("no target given" in note for note in profile.notes)


def test_profile_path_samples_large_files(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=5000), "y": rng.choice(["a", "b"], 5000, p=[0.7, 0.3])}).to_csv(path, index=False)
    profile = profile_path(path, "y", max_rows=1000, large_file_mb=0.01)
    assert profile.sampled and profile.rows_profiled == 1000 and profile.n_rows == 5000
    counts = profile.target.class_counts  # type: ignore[union-attr]
    assert sum(counts.values()) == pytest.approx(5000, abs=2)
    assert counts["a"] / 5000 == pytest.approx(0.7, abs=0.05)
    assert any("sampled at random" in note for note in profile.notes)


def test_row_count_without_a_final_line_break(tmp_path: Path) -> None:
    path = tmp_path / "nonl.csv"
    path.write_text("a,y\n" + "\n".join(f"{i},{i % 2}" for i in range(300)), encoding="utf-8")  # no final \n
    profile = profile_path(path, "y", max_rows=100, large_file_mb=0.0)
    assert profile.n_rows == 300 and profile.rows_profiled == 100


def test_profile_path_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        profile_path(tmp_path / "nope.csv", "y")
    path = tmp_path / "d.csv"
    path.write_text("alpha,beta\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="no column `alph`") as info:
        profile_path(path, "alph")
    assert "did you mean `alpha`" in str(info.value.hint)
    empty = tmp_path / "empty.csv"
    empty.write_text("alpha,beta\n", encoding="utf-8")
    with pytest.raises(DataError, match="no rows"):
        profile_path(empty, "alpha")
