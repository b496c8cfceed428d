"""Read ARFF files (Weka's format, and OpenML's download format) into a pandas DataFrame.

Supported: ``@relation``, ``@attribute`` with ``numeric`` / ``real`` / ``integer`` (float64; int64 for
``integer`` columns without gaps), nominal ``{a, b, 'c d'}`` (pandas ``category`` with the declared categories
in their declared order, as strings), ``string`` (object), ``date ["java format"]`` (datetime64; the default
format is ISO 8601); ``%`` comments; values quoted with ``'`` or ``"`` (commas and escaped quotes inside);
``?`` for a missing value; plain or gzip-compressed (``.arff.gz``) files, UTF-8.

Not supported, with a clear :class:`~metaconf.errors.DataError`: the sparse data format (``{0 X, 3 Y}``
rows) and ``relational`` attributes. Every error names the file and line and says what was expected.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

_FIELD = re.compile(
    r"""\s*(?:'(?P<single>(?:[^'\\]|\\.)*)'|"(?P<double>(?:[^"\\]|\\.)*)"|(?P<bare>[^,'"]*?))\s*(?:,|$)""",
    re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_ATTRIBUTE = re.compile(
    r"""@attribute\s+(?:'(?P<single>(?:[^'\\]|\\.)*)'|"(?P<double>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s{]+))\s*(?P<type>.*)$""",
    re.IGNORECASE | re.DOTALL,
)
_JAVA_DATE = (
    ("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"),
    ("SSS", "%f"), ("Z", "%z"), ("z", "%Z"),
)  # fmt: skip
DEFAULT_DATE_FORMAT = "yyyy-MM-dd'T'HH:mm:ss"


@dataclass(frozen=True)
class Attribute:
    """One declared column: its name, kind (numeric, integer, nominal, string, date) and details."""

    name: str
    kind: str
    line: int
    categories: tuple[str, ...] = ()
    date_format: str | None = None


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def split_values(line: str) -> list[str | None]:
    """The comma-separated values of one ARFF line; None for an unquoted ``?`` (missing)."""
    if "'" not in line and '"' not in line:
        return [None if v.strip() == "?" else v.strip() for v in line.split(",")]
    if "\\" not in line:
        fast = _split_simple_quotes(line)
        if fast is not None:
            return fast
    values: list[str | None] = []
    pos = 0
    end = len(line)
    while pos <= end:
        match = _FIELD.match(line, pos)
        if match is None or (match.end() == pos and pos < end):
            raise ValueError(f"cannot split the values at column {pos + 1}: {line[pos : pos + 30]!r}")
        if match.group("single") is not None:
            values.append(_unescape(match.group("single")))
        elif match.group("double") is not None:
            values.append(_unescape(match.group("double")))
        else:
            bare = match.group("bare").strip()
            values.append(None if bare == "?" else bare)
        if match.end() >= end and not line[match.start() : match.end()].rstrip().endswith(","):
            break
        pos = match.end()
    return values


def _split_simple_quotes(line: str) -> list[str | None] | None:
    """The values when every quoted value is quoted whole and holds no comma or quote (most OpenML files);
    None when the general tokenizer is needed."""
    values: list[str | None] = []
    for part in line.split(","):
        value = part.strip()
        if value[:1] in ("'", '"'):
            if len(value) < 2 or value[-1] != value[0] or value[0] in value[1:-1]:
                return None
            values.append(value[1:-1])
        elif "'" in value or '"' in value:
            return None
        else:
            values.append(None if value == "?" else value)
    return values


def java_date_format(pattern: str) -> str:
    """A Java ``SimpleDateFormat`` pattern (as ARFF uses) as a ``strftime`` format."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "'":
            close = pattern.find("'", i + 1)
            close = len(pattern) if close < 0 else close
            out.append(pattern[i + 1 : close].replace("%", "%%"))
            i = close + 1
            continue
        for java, python in _JAVA_DATE:
            if pattern.startswith(java, i):
                out.append(python)
                i += len(java)
                break
        else:
            out.append(pattern[i].replace("%", "%%"))
            i += 1
    return "".join(out)


def _open(path: Path) -> Any:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _parse_type(path: Path, line_no: int, name: str, spec: str) -> Attribute:
    spec = spec.strip()
    lowered = spec.lower()
    if spec.startswith("{"):
        if not spec.rstrip().endswith("}"):
            raise DataError(f"{path}:{line_no}: the nominal values of `{name}` do not end with `}}`", "close the list: {a, b, c}")
        inner = spec.strip()[1:-1]
        try:
            categories = [v for v in split_values(inner) if v is not None] if inner.strip() else []
        except ValueError as error:
            raise DataError(f"{path}:{line_no}: cannot read the nominal values of `{name}`: {error}") from None
        return Attribute(name, "nominal", line_no, categories=tuple(categories))
    if lowered in ("numeric", "real"):
        return Attribute(name, "numeric", line_no)
    if lowered == "integer":
        return Attribute(name, "integer", line_no)
    if lowered == "string":
        return Attribute(name, "string", line_no)
    if lowered.startswith("date"):
        rest = spec[4:].strip()
        if rest[:1] in "'\"" and len(rest) >= 2:
            rest = rest[1:-1]
        return Attribute(name, "date", line_no, date_format=rest or DEFAULT_DATE_FORMAT)
    if lowered.startswith("relational"):
        raise DataError(
            f"{path}:{line_no}: `{name}` is a relational attribute; metaconf reads flat ARFF files only",
            "flatten the relational attribute into columns, or export the data as CSV",
        )
    raise DataError(
        f"{path}:{line_no}: `{name}` has the unknown type `{spec}`",
        "ARFF types are numeric, real, integer, string, date [format] and nominal {a, b, ...}",
    )


def read_arff(path: str | Path) -> pd.DataFrame:
    """Read an ARFF (or ``.arff.gz``) file. Raises :class:`DataError` naming the file and line on bad input."""
    file = Path(path)
    attributes: list[Attribute] = []
    data_lines: list[str] = []
    row_lines: list[int] = []
    in_data = False
    try:
        with _open(file) as handle:
            for line_no, raw in enumerate(handle, start=1):
                line = raw.strip()
                if not line or line.startswith("%"):
                    continue
                if not in_data:
                    lowered = line.lower()
                    if lowered.startswith("@relation"):
                        continue
                    if lowered.startswith("@attribute"):
                        match = _ATTRIBUTE.match(line)
                        if match is None or not match.group("type").strip():
                            raise DataError(f"{file}:{line_no}: cannot read the attribute declaration `{line[:80]}`", "write it as `@attribute name type`")
                        name = match.group("single") if match.group("single") is not None else match.group("double") if match.group("double") is not None else match.group("bare")
                        attributes.append(_parse_type(file, line_no, _unescape(name), match.group("type")))
                        continue
                    if lowered.startswith("@data"):
                        if not attributes:
                            raise DataError(f"{file}:{line_no}: `@data` before any `@attribute`", "declare the columns first")
                        in_data = True
                        continue
                    raise DataError(
                        f"{file}:{line_no}: expected `@relation`, `@attribute` or `@data`, got `{line[:60]}`",
                        "check that the file is ARFF (header, then @data)",
                    )
                if line.startswith("{"):
                    raise DataError(
                        f"{file}:{line_no}: the data is in ARFF's sparse format (`{{index value, ...}}`), which "
                        "metaconf does not read",
                        "convert the file to dense ARFF or CSV (e.g. with Weka, or liac-arff + pandas)",
                    )
                data_lines.append(line)
                row_lines.append(line_no)
    except UnicodeDecodeError:
        raise DataError(f"cannot read `{file}`: it is not UTF-8 text", "save the ARFF file as UTF-8") from None
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read `{file}`: {error}", "check that the file is complete") from None
    if not in_data:
        raise DataError(f"`{file}` has no `@data` section", "an ARFF file needs @attribute lines, then @data and the rows")
    columns = _split_fast(data_lines, len(attributes))
    if columns is None:
        columns = _split_general(file, data_lines, row_lines, len(attributes))
    return _frame(file, attributes, columns, row_lines)


def _split_fast(lines: list[str], width: int) -> list[list[str | None]] | None:
    """Columns of the data via the C ``csv`` reader, when the file quotes with one quote character only and
    never quotes a ``?`` (then an unquoted ``?`` is the only ``?``). None when the general tokenizer is needed
    (mixed quotes, a quoted ``?``, a malformed or short / long line: it reports the line)."""
    import csv

    text = "\n".join(lines)
    single, double = "'" in text, '"' in text
    if (single and double) or "'?'" in text or '"?"' in text:
        return None
    try:
        rows = list(
            csv.reader(
                lines,
                quotechar="'" if single else '"',
                skipinitialspace=True,
                escapechar="\\" if "\\" in text else None,
                strict=True,
            )
        )
    except csv.Error:
        return None
    if any(len(row) != width for row in rows):
        return None
    if not rows:
        return [[] for _ in range(width)]
    return [[None if (w := v.strip()) == "?" else w for v in column] for column in zip(*rows, strict=True)]


def _split_general(file: Path, lines: list[str], row_lines: list[int], width: int) -> list[list[str | None]]:
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for line, line_no in zip(lines, row_lines, strict=True):
        try:
            values = split_values(line)
        except ValueError as error:
            raise DataError(f"{file}:{line_no}: {error}", "quote values that contain commas") from None
        if len(values) != width:
            raise DataError(
                f"{file}:{line_no}: expected {width} values (one per @attribute), got {len(values)}",
                "quote values that contain commas with ' or \"",
            )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns


def _frame(file: Path, attributes: list[Attribute], columns: list[list[str | None]], row_lines: list[int]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    names = [a.name for a in attributes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"`{file}` declares the attribute(s) " + ", ".join(f"`{d}`" for d in duplicates) + " twice", "give every attribute a distinct name")
    frame: dict[str, Any] = {}
    for attribute, raw in zip(attributes, columns, strict=True):
        frame[attribute.name] = _column(file, attribute, raw, row_lines, pd, np)
    return pd.DataFrame(frame, index=pd.RangeIndex(len(row_lines)))


def _column(file: Path, attribute: Attribute, raw: list[str | None], row_lines: list[int], pd: Any, np: Any) -> Any:
    def fail(position: int, expected: str) -> DataError:
        return DataError(
            f"{file}:{row_lines[position]}: `{attribute.name}` expects {expected}, got `{raw[position]}`",
            f"fix the value or the @attribute declaration on line {attribute.line}",
        )

    if attribute.kind in ("numeric", "integer"):
        series = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce")
        bad = series.isna().to_numpy() & np.array([v is not None for v in raw], dtype=bool)
        if bad.any():
            raise fail(int(np.argmax(bad)), "a number")
        values = series.astype(float)
        if attribute.kind == "integer" and not values.isna().any() and (values % 1 == 0).all():
            return values.astype("int64")
        return values
    if attribute.kind == "nominal":
        categories = pd.Index(list(dict.fromkeys(attribute.categories)), dtype=object)
        codes = categories.get_indexer(pd.Index(raw, dtype=object))
        bad = (codes == -1) & np.array([v is not None for v in raw], dtype=bool)
        if bad.any():
            shown = ", ".join(attribute.categories[:10]) + (", ..." if len(attribute.categories) > 10 else "")
            raise fail(int(np.argmax(bad)), f"one of {{{shown}}}")
        return pd.Categorical.from_codes(codes, categories=categories)
    if attribute.kind == "string":
        return pd.Series(raw, dtype=object)
    fmt = java_date_format(attribute.date_format or DEFAULT_DATE_FORMAT)
    stamps = pd.to_datetime(pd.Series(raw, dtype=object), format=fmt, errors="coerce")
    bad = stamps.isna().to_numpy() & np.array([v is not None for v in raw], dtype=bool)
    if bad.any():
        raise fail(int(np.argmax(bad)), f"a date in the format `{attribute.date_format}`")
    return stamps
