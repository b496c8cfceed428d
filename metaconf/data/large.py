"""Data larger than memory: a size guard before a file is read, and a sample drawn while streaming it.

``metaconf run`` and ``suggest`` hold the table in memory several times over (the frame, the search rows, each
fold's preprocessed copy). A file whose table would not fit used to be read whole, and the process was killed
by the kernel (or the machine swapped) with nothing said. Now, before a data file is read:

- :func:`estimate` guesses the table's size in memory from the file: the row count (Parquet's metadata; a
  CSV's size over the bytes per row of its first rows; a gzip's uncompressed size from its trailer) times the
  memory per row of the first :data:`PROBE_ROWS` rows as pandas reads them (``memory_usage(deep=True)``).
- :func:`memory_limit_mb` is the share :data:`DATA_SHARE` of ``budget.memory`` (else of the memory available
  now) the table may take.
- A table estimated above that limit is refused with the sizes and what to do (exit 2), unless
  ``data.sample_rows`` is set: then :func:`stream_sample` reads the file in chunks of :data:`CHUNK_ROWS` rows
  and keeps only the sample, so memory never holds more than the sample and one chunk. Files estimated above
  :data:`STREAM_FROM_MB` are always streamed when ``data.sample_rows`` is set (the whole table is not needed).

The sample is stratified by the target when it has at most :data:`MAX_STRATA` distinct values (classification),
uniform otherwise: every row gets a uniform random key from the config's seed, each stratum keeps the rows with
the smallest keys (a bottom-k sample: uniform without replacement), and after the pass each stratum contributes
rows in proportion to its count (largest remainders; every stratum of at least two rows keeps two, so that a
stratified split stays possible). Rows with a missing target are skipped. Same file, seed and size: the same
rows, kept in file order.
"""

from __future__ import annotations

import gzip
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

PROBE_ROWS = 2_000
"""Rows read to measure bytes per row in the file and in memory."""
CHUNK_ROWS = 50_000
"""Rows per chunk while streaming."""
DATA_SHARE = 0.25
"""Share of the memory limit the table itself may take: the search holds it several times over (the search
rows, each fold's preprocessed copy, the models)."""
STREAM_FROM_MB = 256.0
"""With ``data.sample_rows`` set, a table estimated above this is streamed, not read whole."""
MAX_STRATA = 50
"""A target with more distinct values than this is sampled uniformly (regression, ids)."""
STREAMABLE = (".csv", ".csv.gz", ".txt", ".tsv", ".tsv.gz", ".parquet", ".pq")


@dataclass(frozen=True)
class SizeEstimate:
    """What :func:`estimate` guessed for a data file."""

    rows: int
    memory_mb: float
    file_mb: float
    exact_rows: bool
    """Parquet knows its row count; a text file's is estimated from its first rows."""


def suffix_of(path: Path) -> str:
    return "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()


def estimate(path: Path, read_head: Any) -> SizeEstimate | None:
    """The table's rows and size in memory, guessed from ``path`` and its first rows (``read_head(path, n)``
    returns a DataFrame of the first ``n`` rows); None for a format it cannot estimate."""
    suffix = suffix_of(path)
    file_mb = path.stat().st_size / 2**20
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        rows = int(meta.num_rows)
        head = read_head(path, PROBE_ROWS)
        per_row = _memory_per_row(head)
        return SizeEstimate(rows, rows * per_row / 2**20, file_mb, True)
    if suffix not in (".csv", ".csv.gz", ".txt", ".tsv", ".tsv.gz"):
        return None
    compressed = suffix.endswith(".gz")
    text_bytes = _gzip_size(path) if compressed else path.stat().st_size
    head_bytes, head_lines = _head_bytes(path, PROBE_ROWS + 1, compressed)
    if head_lines <= 1:
        return SizeEstimate(0, 0.0, file_mb, True)
    head = read_head(path, PROBE_ROWS)
    if head_bytes >= text_bytes:  # the whole file was in the head
        return SizeEstimate(len(head), _memory_per_row(head) * len(head) / 2**20, file_mb, True)
    bytes_per_row = head_bytes / head_lines
    rows = int(text_bytes / bytes_per_row)
    return SizeEstimate(rows, rows * _memory_per_row(head) / 2**20, file_mb, False)


def _memory_per_row(head: pd.DataFrame) -> float:
    if len(head) == 0:
        return 0.0
    return float(head.memory_usage(deep=True, index=False).sum()) / len(head)


def _head_bytes(path: Path, lines: int, compressed: bool) -> tuple[int, int]:
    opener: Any = gzip.open if compressed else open
    total = count = 0
    with opener(path, "rb") as handle:
        for line in handle:
            total += len(line)
            count += 1
            if count >= lines:
                break
    return total, count


def _gzip_size(path: Path) -> int:
    """The uncompressed size of a gzip file from its trailer (ISIZE: the size modulo 4 GiB; a file that
    compressed to less than 1/4 GiB per 4 GiB is assumed, so ISIZE is raised past the compressed size)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 4))
        (isize,) = struct.unpack("<I", handle.read(4))
    while isize < size:
        isize += 2**32
    return isize


def memory_limit_mb(budget_mb: float | None) -> tuple[float, str]:
    """The memory the table may take, and where the figure comes from."""
    if budget_mb is not None:
        return budget_mb * DATA_SHARE, f"{DATA_SHARE:.0%} of budget.memory ({_mb(budget_mb)})"
    import psutil

    available = psutil.virtual_memory().available / 2**20
    return available * DATA_SHARE, f"{DATA_SHARE:.0%} of the {_mb(available)} of memory available now"


def _mb(mb: float) -> str:
    if mb >= 1024:
        return f"{mb / 1024:.1f} GB"
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.2g} MB"


def describe(size: SizeEstimate) -> str:
    rows = f"{size.rows:,} rows" if size.exact_rows else f"about {size.rows:,} rows"
    return f"{_mb(size.file_mb)} on disk, {rows}, about {_mb(size.memory_mb)} in memory"


def stream_sample(
    path: Path,
    n: int,
    *,
    target: str,
    seed: int,
    read_chunks: Any,
) -> pd.DataFrame:
    """``n`` rows of the table in ``path`` (stratified by ``target`` when it has few values), read in chunks
    (``read_chunks(path, CHUNK_ROWS)`` yields DataFrames) so that the whole table is never in memory."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    kept: dict[Any, pd.DataFrame] = {}
    counts: dict[Any, int] = {}
    stratified = True
    offset = 0
    for chunk in read_chunks(path, CHUNK_ROWS):
        if target not in chunk.columns:
            return chunk.iloc[:0]  # the caller reports the missing column on the (empty) frame
        chunk = chunk.assign(_mc_row=np.arange(offset, offset + len(chunk)), _mc_key=rng.random(len(chunk)))
        offset += len(chunk)
        chunk = chunk.loc[chunk[target].notna()]
        groups = chunk.groupby(target, sort=False, dropna=True) if stratified else [(None, chunk)]
        for value, rows in groups:
            counts[value] = counts.get(value, 0) + len(rows)
            pool = rows if value not in kept else pd.concat([kept[value], rows], ignore_index=True)
            kept[value] = pool.nsmallest(n, "_mc_key")
        if stratified and len(kept) > MAX_STRATA:  # many values: a uniform sample instead
            stratified = False
            merged = pd.concat(list(kept.values()), ignore_index=True).nsmallest(n, "_mc_key")
            kept, counts = {None: merged}, {None: sum(counts.values())}
    if not kept:
        return pd.DataFrame()
    allocation = _allocate(n, counts)
    parts = [kept[value].nsmallest(allocation[value], "_mc_key") for value in kept if allocation[value]]
    sample = pd.concat(parts, ignore_index=True).sort_values("_mc_row", kind="stable")
    return sample.drop(columns=["_mc_row", "_mc_key"]).reset_index(drop=True)


def _allocate(n: int, counts: dict[Any, int]) -> dict[Any, int]:
    """Rows per stratum: proportional to its count, largest remainders, at least two of a stratum of two or
    more (one of a single row), never more than it has; the total is ``min(n, rows)``."""
    total = sum(counts.values())
    n = min(n, total)
    if total == 0:
        return dict.fromkeys(counts, 0)
    exact = {v: n * c / total for v, c in counts.items()}
    share = {v: min(counts[v], max(min(2, counts[v]), math.floor(e))) for v, e in exact.items()}
    order = sorted(counts, key=lambda v: (exact[v] - math.floor(exact[v])), reverse=True)
    i = 0
    while sum(share.values()) < n and i < 10 * len(order) + n:
        v = order[i % len(order)]
        if share[v] < counts[v]:
            share[v] += 1
        i += 1
    while sum(share.values()) > n:  # the minimum of two made it too many: take from the largest
        v = max(share, key=lambda k: share[k])
        share[v] -= 1
    return share
