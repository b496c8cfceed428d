"""The ARFF reader on scikit-learn's OpenML files and on hand-written tricky snippets."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pandas as pd
import pytest

from metaconf.data.arff import java_date_format, read_arff, split_values
from metaconf.data.load import DataError


def _openml_file(data_id: int) -> Path:
    import sklearn

    folder = Path(sklearn.__file__).parent / "datasets" / "tests" / "data" / "openml" / f"id_{data_id}"
    files = sorted(folder.glob("data-v1-dl-*.arff.gz"))
    if not files:
        pytest.skip(f"scikit-learn's OpenML fixture {data_id} is not installed")
    return files[0]


def _write(tmp_path: Path, text: str, name: str = "data.arff") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_matches_the_reference_parser() -> None:
    """Same values as liac-arff (vendored by scikit-learn) on titanic: quotes, strings, gaps, nominals."""
    arff = pytest.importorskip("sklearn.externals._arff")
    path = _openml_file(40945)
    frame = read_arff(path)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        reference = arff.load(handle)
    assert list(frame.columns) == [name for name, _ in reference["attributes"]]
    assert len(frame) == len(reference["data"])
    for row_index in (0, 1, len(frame) // 2, len(frame) - 1):
        for column_index, expected in enumerate(reference["data"][row_index]):
            got = frame.iat[row_index, column_index]
            if expected is None:
                assert pd.isna(got)
            elif isinstance(expected, float):
                assert float(got) == pytest.approx(expected)
            else:
                assert str(got) == str(expected)


def test_kr_vs_kp_types() -> None:
    frame = read_arff(_openml_file(3))
    assert frame.shape == (3196, 37)
    assert all(isinstance(dtype, pd.CategoricalDtype) for dtype in frame.dtypes)
    assert list(frame["class"].cat.categories) == ["won", "nowin"]  # declared order
    assert list(frame["katri"].cat.categories) == ["b", "n", "w"]


def test_titanic_quotes_strings_and_gaps() -> None:
    frame = read_arff(_openml_file(40945))
    assert frame.shape == (1309, 14)
    assert frame.loc[0, "name"] == "Allen, Miss. Elisabeth Walton"  # a comma inside double quotes
    assert frame["name"].str.contains("'Nellie'").any()  # single quotes inside double quotes
    assert frame["age"].dtype == "float64" and frame["age"].isna().sum() > 0
    assert frame["cabin"].dtype == object and frame["cabin"].isna().sum() > 0
    assert isinstance(frame["survived"].dtype, pd.CategoricalDtype)


TRICKY = """\
% A comment before the header
@RELATION 'tricky one'

@attribute 'full name' string
@attribute age INTEGER
@attribute score real
@ATTRIBUTE colour {red, 'dark blue', "sea green"}
@attribute when date "yyyy-MM-dd HH:mm"
@attribute born date

@data
% a comment inside the data
'O\\'Brien, Pat', 31, 0.5, red, "2021-03-04 10:30", 1990-01-02T00:00:00
"Smith, J.",42,?,'dark blue',?,?
'?',7,1e-3,"sea green","2021-12-31 23:59",2000-02-29T12:00:00
"""


def test_tricky_snippet(tmp_path: Path) -> None:
    frame = read_arff(_write(tmp_path, TRICKY))
    assert list(frame.columns) == ["full name", "age", "score", "colour", "when", "born"]
    assert list(frame["full name"]) == ["O'Brien, Pat", "Smith, J.", "?"]  # a quoted ? is a value
    assert frame["age"].dtype == "int64" and list(frame["age"]) == [31, 42, 7]
    assert frame["score"].iloc[0] == 0.5 and math.isnan(frame["score"].iloc[1])
    assert list(frame["colour"].cat.categories) == ["red", "dark blue", "sea green"]
    assert list(frame["colour"]) == ["red", "dark blue", "sea green"]
    assert frame["when"].iloc[0] == pd.Timestamp("2021-03-04 10:30") and pd.isna(frame["when"].iloc[1])
    assert frame["born"].iloc[2] == pd.Timestamp("2000-02-29 12:00:00")


def test_gzip_and_integer_with_gaps(tmp_path: Path) -> None:
    path = tmp_path / "d.arff.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("@relation r\n@attribute n integer\n@attribute c {a,b}\n@data\n1,a\n?,b\n3,?\n")
    frame = read_arff(path)
    assert frame["n"].dtype == "float64" and pd.isna(frame["n"].iloc[1])  # gaps: float, not int
    assert pd.isna(frame["c"].iloc[2])


def test_empty_data_section(tmp_path: Path) -> None:
    frame = read_arff(_write(tmp_path, "@relation r\n@attribute x numeric\n@data\n"))
    assert frame.shape == (0, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@relation r\n@attribute x numeric\n@attribute y numeric\n@data\n{0 1, 1 2}\n", r":5: the data is in ARFF.s sparse format"),
        ("@relation r\n@attribute x numeric\n@attribute y numeric\n@data\n1,2\n3\n", r":6: expected 2 values .* got 1"),
        ("@relation r\n@attribute x numeric\n@data\n1\nabc\n", r":5: `x` expects a number, got `abc`"),
        ("@relation r\n@attribute c {a, b}\n@data\na\nz\n", r":5: `c` expects one of \{a, b\}, got `z`"),
        ("@relation r\n@attribute d date\n@data\nyesterday\n", r":4: `d` expects a date"),
        ("@relation r\n@attribute x numeric\n", r"has no `@data` section"),
        ("@relation r\n@attribute bag relational\n@end bag\n@data\n", r":2: `bag` is a relational attribute"),
        ("@relation r\n@attribute x vector\n@data\n", r":2: `x` has the unknown type `vector`"),
        ("@relation r\n@attribute x numeric\n@attribute x numeric\n@data\n1,2\n", r"declares the attribute\(s\) `x` twice"),
        ("name,age\nbob,3\n", r":1: expected `@relation`, `@attribute` or `@data`"),
        ("@relation r\n@attribute x numeric\n@data\n'a,1\n", r":4:"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=message) as info:
        read_arff(path)
    assert str(path) in info.value.message or "@data" in info.value.message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.arff"
    path.write_bytes("@relation r\n@attribute s string\n@data\n'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_arff(path)


def test_split_values() -> None:
    assert split_values("1, 'a,b' ,?, \"c\\\"d\"") == ["1", "a,b", None, 'c"d']
    assert split_values("a,b") == ["a", "b"]


def test_java_date_format() -> None:
    assert java_date_format("yyyy-MM-dd'T'HH:mm:ss") == "%Y-%m-%dT%H:%M:%S"
    assert java_date_format("dd/MM/yy") == "%d/%m/%y"


def test_load_dataset_reads_arff(tmp_path: Path) -> None:
    from metaconf.config.model import Config
    from metaconf.data.load import load_dataset

    _write(tmp_path, "@relation r\n@attribute x numeric\n@attribute y {p,q}\n@data\n1,p\n2,q\n3,p\n4,q\n")
    config = Config.model_validate({"task": {"target": "y"}, "data": {"path": "data.arff"}})
    dataset = load_dataset(config, tmp_path)
    assert dataset.X.shape == (4, 1) and dataset.task_type == "classification"


@pytest.mark.parametrize(("demo", "rows", "target"), [("kr-vs-kp", 3196, "class"), ("titanic", 1309, "survived"), ("penguins", 344, "species")])
def test_openml_demos_are_full_datasets(demo: str, rows: int, target: str) -> None:
    from metaconf.data.load import DEMOS

    _, loader = DEMOS[demo]
    X, y, task_type = loader()
    assert len(X) == len(y) == rows and y.name == target and task_type == "classification"
    assert all(isinstance(v, str) for v in y.dropna().unique())


def test_truncated_openml_fixture_is_refused() -> None:
    """scikit-learn's adult fixture (OpenML 1590) holds 10 of 48,842 rows: not offered as data."""
    from metaconf.data.load import _openml_demo

    _openml_file(1590)
    with pytest.raises(DataError, match=r"holds 10 of the 48842 rows"):
        _openml_demo(1590, "class")()
