"""Data larger than memory (issue 21, item 5): a table that would not fit is refused before it is read, with
the sizes and what to do; with `data.sample_rows` it is streamed into a stratified, seeded sample that never
holds the whole table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from metaconf.config.model import Config
from metaconf.data import large
from metaconf.data.load import DataError, _read_chunks, load_dataset


def write_table(path: Path, rows: int, *, seed: int = 0, classes: tuple[str, ...] = ("no", "yes", "maybe")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=rows).round(4),
            "b": rng.integers(0, 1000, size=rows),
            "city": rng.choice(["Berlin", "Paris", "Rome", "Oslo"], size=rows),
            "label": rng.choice(classes, size=rows, p=[0.7, 0.25, 0.05][: len(classes)] if len(classes) == 3 else None),
        }
    )
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return frame


def config(data: Path, **data_options: object) -> Config:
    return Config.model_validate(
        {
            "task": {"target": "label", "type": "classification"},
            "data": {"path": str(data), **data_options},
            "budget": {"memory": "2MB"},
            "execution": {"seed": 0},
        }
    )


def test_a_table_larger_than_its_share_of_memory_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    write_table(path, 40_000)
    with pytest.raises(DataError) as caught:
        load_dataset(config(path), tmp_path)
    message, hint = caught.value.message, caught.value.hint or ""
    assert message.startswith(f"`{path}` is too large to load: 0.78 MB on disk, about 39,9")
    assert "rows, about 1.5 MB in memory, but the table may take 0.5 MB (25% of budget.memory (2 MB))" in message
    # a number YAML reads as one (no thousands separator), that fits in 80 % of the limit
    assert hint.startswith("set `data.sample_rows: 10") and "read in chunks" in hint
    fits = int(hint.split("`data.sample_rows: ")[1].split("`")[0])
    assert 9_000 < fits < 12_000


def test_the_cli_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    write_table(tmp_path / "big.csv", 40_000)
    (tmp_path / "c.yaml").write_text(
        yaml.safe_dump(
            {
                "task": {"target": "label"},
                "data": {"path": "big.csv"},
                "budget": {"memory": "2MB"},
                "stopping": {"n_trials": 2},
            }
        )
    )
    ran = subprocess.run(
        [sys.executable, "-m", "metaconf", "run", "c.yaml", "-q"], cwd=tmp_path, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert ran.returncode == 2, ran.stderr
    assert "Traceback" not in ran.stderr
    assert "too large to load" in ran.stderr and "data.sample_rows" in ran.stderr


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_sample_rows_streams_a_stratified_seeded_sample_in_file_order(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(large, "CHUNK_ROWS", 3_000)  # many chunks
    path = tmp_path / f"big{suffix}"
    full = write_table(path, 40_000)
    full.loc[::97, "label"] = None  # rows without a target are skipped
    if suffix == ".csv":
        full.to_csv(path, index=False)
    else:
        full.to_parquet(path, index=False)
    dataset = load_dataset(config(path, sample_rows=2_000), tmp_path)
    assert len(dataset.y) == 2_000 and not dataset.y.isna().any()
    labelled = full.dropna(subset=["label"])
    expected = labelled["label"].value_counts(normalize=True)
    got = dataset.y.value_counts()
    for label, share in expected.items():
        assert abs(got[label] - share * 2_000) <= 1  # proportional, to the row
    # the rows are rows of the file, in the file's order
    merged = dataset.X.assign(label=dataset.y).merge(labelled.reset_index(), on=["a", "b", "city", "label"])
    assert len(merged) == 2_000 and merged["index"].is_monotonic_increasing
    again = load_dataset(config(path, sample_rows=2_000), tmp_path)
    assert again.X.equals(dataset.X)  # same seed, same rows
    other = Config.model_validate(config(path, sample_rows=2_000).model_dump() | {"execution": {"seed": 1}})
    assert not load_dataset(other, tmp_path).X.equals(dataset.X)


PEAK = """
import sys
from pathlib import Path
import pandas as pd
from metaconf.data import large
from metaconf.data.load import _read_chunks

def peak_kb():  # this process's own high-water mark (ru_maxrss would carry the forking parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

large.CHUNK_ROWS = 20_000
path = Path(sys.argv[1])
pd.read_csv(path, nrows=10)  # pandas' reader imported and warmed up
before = peak_kb()
if sys.argv[2] == "whole":
    frame = pd.read_csv(path)
else:
    frame = large.stream_sample(path, 1_000, target="label", seed=0, read_chunks=_read_chunks)
print(peak_kb() - before, len(frame))
"""


@pytest.mark.slow
def test_streaming_never_holds_the_whole_table(tmp_path: Path) -> None:
    """Peak resident memory of a child process: reading the file whole against streaming a sample of it."""
    path = tmp_path / "big.csv"
    write_table(path, 1_000_000)
    growth = {}
    for how in ("whole", "stream"):
        ran = subprocess.run(
            [sys.executable, "-c", PEAK, str(path), how], capture_output=True, text=True, timeout=300, check=True
        )
        kilobytes, rows = ran.stdout.split()
        growth[how] = int(kilobytes)
        assert int(rows) == (1_000_000 if how == "whole" else 1_000)
    assert growth["whole"] > 50_000, growth  # the table: tens of MB
    assert growth["stream"] < 0.3 * growth["whole"], growth


def test_a_target_with_many_values_is_sampled_uniformly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(large, "CHUNK_ROWS", 2_000)
    path = tmp_path / "reg.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=20_000), "label": rng.normal(size=20_000)}).to_csv(path, index=False)
    sample = large.stream_sample(path, 500, target="label", seed=0, read_chunks=_read_chunks)
    assert len(sample) == 500 and sample["label"].nunique() == 500


def test_the_allocation_keeps_every_stratum_and_the_total() -> None:
    assert large._allocate(100, {"a": 900, "b": 95, "c": 5}) == {"a": 90, "b": 8, "c": 2} or sum(
        large._allocate(100, {"a": 900, "b": 95, "c": 5}).values()
    ) == 100
    share = large._allocate(100, {"a": 900, "b": 95, "c": 5, "d": 1})
    assert sum(share.values()) == 100 and share["c"] >= 2 and share["d"] == 1
    assert large._allocate(10, {"a": 3, "b": 2}) == {"a": 3, "b": 2}  # fewer rows than asked: all of them


def test_a_small_file_is_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    full = write_table(path, 500)
    dataset = load_dataset(config(path) .model_copy(update={"budget": Config().budget}), tmp_path)
    assert len(dataset.y) == 500 and dataset.X["a"].tolist() == full["a"].tolist()
