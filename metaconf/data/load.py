"""Load a dataset named by a config: a CSV / Parquet / ARFF file, or a demo dataset that ships offline.

Everything here raises :class:`DataError` with a message a user can act on (file, what was expected, the
columns there are); the CLI turns it into exit code 2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from metaconf.config.model import Config


class DataError(Exception):
    """The data cannot be used as configured. ``hint`` says how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


@dataclass
class Dataset:
    """Features and target, with where they came from."""

    X: pd.DataFrame
    y: pd.Series
    name: str
    source: str
    task_type: str
    """`classification` or `regression`, as the demo defines it or as inferred from the target."""


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


DEMOS: dict[str, tuple[str, Callable[[], tuple[pd.DataFrame, pd.Series, str]]]] = {
    "breast_cancer": ("Wisconsin breast cancer, 569 rows, 30 numeric features, binary", _sklearn_demo("load_breast_cancer", "classification")),
    "iris": ("Iris, 150 rows, 4 numeric features, 3 classes", _sklearn_demo("load_iris", "classification")),
    "wine": ("Wine, 178 rows, 13 numeric features, 3 classes", _sklearn_demo("load_wine", "classification")),
    "digits": ("Handwritten digits 8x8, 1797 rows, 64 features, 10 classes", _sklearn_demo("load_digits", "classification")),
    "diabetes": ("Diabetes progression, 442 rows, 10 numeric features, regression", _sklearn_demo("load_diabetes", "regression")),
}


def list_demos() -> dict[str, str]:
    """Demo dataset name -> one-line description."""
    return {name: description for name, (description, _) in DEMOS.items()}


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
            raise DataError(f"the data file `{path}` does not exist", "check `data.path` (relative paths start at the config file)")
        if path.is_dir():
            raise DataError(f"the data path `{path}` is a directory", "point `data.path` at a CSV or Parquet file")
        frame = _read_table(path)
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
        task_type = infer_task_type(y)
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
    return Dataset(X=X.reset_index(drop=True), y=y.reset_index(drop=True), name=name, source=source, task_type=task_type)


def _sample(X: pd.DataFrame, y: pd.Series, n: int, task_type: str, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.model_selection import train_test_split

    stratify = y if task_type == "classification" and y.value_counts().min() >= 2 else None
    try:
        X_s, _, y_s, _ = train_test_split(X, y, train_size=n, stratify=stratify, random_state=seed)
    except ValueError:
        X_s, _, y_s, _ = train_test_split(X, y, train_size=n, random_state=seed)
    return X_s, y_s


def infer_task_type(y: pd.Series) -> str:
    """`regression` for a float target with many distinct values, else `classification`."""
    import pandas as pd

    if pd.api.types.is_float_dtype(y) and y.nunique() > 20:
        return "regression"
    if pd.api.types.is_integer_dtype(y) and y.nunique() > max(20, len(y) // 10):
        return "regression"
    return "classification"
