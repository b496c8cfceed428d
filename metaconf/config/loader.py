"""Safe YAML loading that remembers where every key and value came from.

Every YAML file metaconf reads (configs, ``search_space.file``) is read here. PyYAML composes the node graph
(with marks), and metaconf builds plain Python values from it itself, so that:
- every value and key has a 1-based line:col span for findings;
- only the standard YAML tags are accepted (``!!python/object`` and friends are refused, never executed);
- duplicate keys are reported instead of silently keeping the last one;
- alias expansion is bounded, so a "billion laughs" document fails fast in bounded memory;
- a file larger than :data:`MAX_FILE_BYTES` (2 MiB) is refused before it is parsed (at most that much is read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # the C loader composes about 10x faster; the pure-Python one behaves the same
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

JsonPath = tuple[str | int, ...]

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 20_000

_STANDARD_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}

SUPPRESSION = re.compile(r"#\s*metaconf:\s*ignore\[([A-Za-z0-9_,\s-]+)\]")


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based, inclusive-start / exclusive-end region of a file."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def of(cls, node: yaml.Node) -> Span:
        start, end = node.start_mark, node.end_mark
        return cls(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


FILE_START = Span(1, 1, 1, 1)


class LoadError(Exception):
    """The file cannot be read as one YAML document. ``code`` is the lint rule that reports it."""

    def __init__(self, code: str, message: str, span: Span = FILE_START, fix_title: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.fix_title = fix_title


@dataclass(frozen=True)
class DuplicateKey:
    path: JsonPath
    first: Span
    again: Span


@dataclass
class Document:
    """One loaded YAML file: its values, and where each of them stands."""

    path: str
    text: str
    data: Any
    value_spans: dict[JsonPath, Span] = field(default_factory=dict)
    key_spans: dict[JsonPath, Span] = field(default_factory=dict)
    duplicates: list[DuplicateKey] = field(default_factory=list)
    suppressions: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths in the config are resolved against."""
        return Path(self.path).resolve().parent if self.path not in ("-", "<string>") else Path.cwd()

    def span(self, path: JsonPath, *, key: bool = False) -> Span:
        """Where ``path`` stands: its key (``key=True``) or its value; the nearest existing parent otherwise."""
        probe = tuple(path)
        while probe:
            table = self.key_spans if key else self.value_spans
            if probe in table:
                return table[probe]
            if not key and probe in self.key_spans:
                return self.key_spans[probe]
            probe = probe[:-1]
        return self.value_spans.get((), FILE_START)

    def get(self, path: JsonPath, default: Any = None) -> Any:
        """The raw value at ``path``, or ``default`` when any step is missing."""
        node = self.data
        for step in path:
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                return default
        return node

    def has(self, path: JsonPath) -> bool:
        sentinel = object()
        return self.get(path, sentinel) is not sentinel

    def is_suppressed(self, code: str, line: int) -> bool:
        codes = self.suppressions.get(line, frozenset())
        return any(code == c or code.startswith(c) or c == "ALL" for c in codes)


def _read_suppressions(text: str) -> dict[int, frozenset[str]]:
    """``# metaconf: ignore[MC301]`` at the end of a line suppresses that line's findings; on a line of its
    own it suppresses the next line's."""
    out: dict[int, set[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = SUPPRESSION.search(line)
        if not match:
            continue
        codes = {c.strip().upper() for c in match.group(1).split(",") if c.strip()}
        target = number + 1 if line.strip().startswith("#") else number
        out.setdefault(target, set()).update(codes)
    return {k: frozenset(v) for k, v in out.items()}


class _Builder:
    def __init__(self) -> None:
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used
        self.nodes = 0
        self.value_spans: dict[JsonPath, Span] = {}
        self.key_spans: dict[JsonPath, Span] = {}
        self.duplicates: list[DuplicateKey] = []

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise LoadError(
                "MC005",
                f"the document expands to more than {MAX_NODES:,} values (an alias bomb?); "
                "write the values out or use fewer aliases",
                Span.of(node),
            )
        if node.tag not in _STANDARD_TAGS:
            raise LoadError(
                "MC004",
                f"the tag `{node.tag.replace('tag:yaml.org,2002:', '!!')}` is not allowed; metaconf reads plain YAML only "
                "(tags that construct objects are never executed)",
                Span.of(node),
                fix_title="Remove the tag",
            )
        if len(path) < 64:
            self.value_spans.setdefault(path, Span.of(node))
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)  # resolves `<<` merge keys
            out: dict[Any, Any] = {}
            seen: dict[Any, Span] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, path + ("<key>",))
                if isinstance(key, (dict, list)):
                    raise LoadError("MC001", "a mapping key must be a plain value", Span.of(key_node))
                if not isinstance(key, (str, int)):
                    key = str(key)
                child = path + (key,)
                span = Span.of(key_node)
                if key in seen:
                    self.duplicates.append(DuplicateKey(child, seen[key], span))
                seen[key] = span
                if len(child) < 64:
                    self.key_spans[child] = span
                    self.value_spans.pop(child, None)
                out[key] = self.build(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        value = self.constructor.construct_object(node, deep=True)
        return value


def load_text(text: str, path: str = "<string>") -> Document:
    """Load one YAML document from ``text``. Raises :class:`LoadError` with a rule code and a span."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise LoadError("MC001", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; a config is a few KiB")
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise LoadError("MC002", "the file is empty; write a config or run `metaconf init`", fix_title="Run `metaconf init`")
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        span = Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2) if mark else FILE_START
        problem = error.problem or error.context or "invalid YAML"
        context = f" ({error.context})" if error.context and error.problem else ""
        raise LoadError("MC001", f"invalid YAML: {problem}{context}", span) from None
    except yaml.YAMLError as error:
        raise LoadError("MC001", f"invalid YAML: {error}") from None
    except RecursionError:
        raise LoadError("MC005", "the document is nested too deeply to be a config") from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise LoadError("MC002", "the file is empty; write a config or run `metaconf init`", fix_title="Run `metaconf init`")
    if len(nodes) > 1:
        raise LoadError(
            "MC001",
            f"the file holds {len(nodes)} YAML documents; a config is one document (remove the `---` separators)",
            Span.of(nodes[1]),
        )
    builder = _Builder()
    try:
        data = builder.build(nodes[0], ())
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        span = Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2) if mark else FILE_START
        raise LoadError("MC001", f"invalid YAML value: {error.problem}", span) from None
    except RecursionError:
        raise LoadError("MC005", "the document is nested too deeply to be a config") from None
    return Document(
        path=path,
        text=text,
        data=data,
        value_spans=builder.value_spans,
        key_spans=builder.key_spans,
        duplicates=builder.duplicates,
        suppressions=_read_suppressions(text),
    )


def read_text(path: Path) -> str:
    """Read a config file as UTF-8; raise :class:`LoadError` for what cannot be read."""
    try:
        with path.open("rb") as handle:  # never more than the limit in memory, whatever the file (or FIFO) holds
            raw = handle.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        raise LoadError("MC003", f"`{path}` is a directory, not a config file") from None
    except FileNotFoundError:
        raise LoadError("MC003", f"`{path}` does not exist") from None
    except OSError as error:
        raise LoadError("MC003", f"cannot read `{path}`: {error.strerror or error}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise LoadError("MC001", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; a config is a few KiB")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = raw[: error.start]
        line = prefix.count(b"\n") + 1
        col = error.start - (prefix.rfind(b"\n") + 1) + 1
        raise LoadError(
            "MC003",
            f"the file is not UTF-8 (byte 0x{raw[error.start]:02x}); save it as UTF-8",
            Span(line, col, line, col + 1),
        ) from None


def load_file(path: str | Path) -> Document:
    """Read and load a config file. Raises :class:`LoadError`."""
    file = Path(path)
    return load_text(read_text(file), str(path))
