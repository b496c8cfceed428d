"""Lint one document: load, validate against the model, run the selected rules, apply suppressions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metaconf.config.loader import Document, JsonPath, LoadError, Span, load_file, load_text
from metaconf.errors import MetaconfError
from metaconf.lint.catalog import all_rules, select_rules
from metaconf.lint.finding import Edit, Finding, Fix, Severity
from metaconf.lint.registry import LintContext, Rule


class RuleError(MetaconfError):
    """A rule raised instead of reporting: a bug in metaconf, not in the config. The CLI exits with 2."""

    def __init__(self, code: str, path: str, error: BaseException):
        super().__init__(
            f"internal error: rule {code} failed on `{path}`: {type(error).__name__}: {error}",
            f"this is a bug in metaconf, please report it with the config; `--ignore {code}` skips the rule meanwhile",
        )
        self.code = code
        self.error = error


@dataclass(frozen=True)
class SchemaProblem:
    """One pydantic validation error, translated: where, what kind, and a readable message."""

    kind: str
    path: JsonPath
    message: str
    key: bool = False
    fix: Fix | None = None


def _model_fields_at(path: JsonPath) -> list[str]:
    """The field names the model allows at ``path`` (for "did you mean")."""
    from pydantic import BaseModel

    from metaconf.config.model import Config

    model: Any = Config
    for step in path:
        if isinstance(step, int):
            continue
        field = getattr(model, "model_fields", {}).get(step)
        if field is None:
            return []
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _describe_input(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def schema_problems(data: Any) -> tuple[Any, list[SchemaProblem]]:
    """Validate raw YAML data against :class:`Config`. Returns the config (or None) and the problems."""
    from pydantic import ValidationError

    from metaconf.config.model import Config

    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        return None, [SchemaProblem("type", (), f"a config is a mapping of sections (`task:`, `budget:`, ...); got a {kind}")]
    try:
        return Config.model_validate(data), []
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            loc = tuple(item["loc"])
            # pydantic adds the union member / validator name to the loc; keep only the document path
            path = tuple(step for step in loc if isinstance(step, int) or not _is_pydantic_tag(step))
            kind = item["type"]
            if kind == "extra_forbidden":
                allowed = _model_fields_at(path[:-1])
                name = str(path[-1])
                close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
                if close:
                    message = f"unknown key `{name}`; did you mean `{close[0]}`?"
                    value = data
                    for step in path:
                        value = value[step] if isinstance(value, dict | list) else None
                    fix = Fix(
                        f"Rename `{name}` to `{close[0]}`",
                        (Edit(path[:-1] + (close[0],), value), Edit(path, delete=True)),
                        safe=False,
                    )
                else:
                    where = ".".join(str(p) for p in path[:-1]) or "the top level"
                    message = f"unknown key `{name}` in {where}; allowed: " + ", ".join(f"`{a}`" for a in allowed)
                    fix = None
                problems.append(SchemaProblem("unknown", path, message, key=True, fix=fix))
            elif kind == "missing":
                problems.append(SchemaProblem("missing", path, f"`{path[-1]}` is required here"))
            else:
                problems.append(SchemaProblem("value", path, _value_message(path, item)))
        # one problem per place: a union yields one error per member, keep the first
        unique: dict[tuple[str, JsonPath], SchemaProblem] = {}
        for p in problems:
            unique.setdefault((p.kind, p.path), p)
        return None, list(unique.values())


def _dotted(path: JsonPath) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "config"


def _value_message(path: JsonPath, item: Any) -> str:
    """One message per template: "The `x` parameter must be Z. Got V instead." plus a "did you mean"."""
    field = _dotted(path)
    given = item.get("input")
    got = _describe_input(given)
    reason: str = item["msg"]
    kind = item["type"]
    if kind == "value_error":
        return f"The `{field}` value is invalid: {reason.removeprefix('Value error, ')}."
    if kind == "enum":
        choices = [str(c).strip("'") for c in item.get("ctx", {}).get("expected", "").replace(" or ", ", ").split(", ") if c]
        message = f"The `{field}` parameter must be one of " + ", ".join(f"`{c}`" for c in choices) + f". Got {got} instead."
        close = difflib.get_close_matches(str(given), choices, n=1, cutoff=0.6)
        return message + (f" Did you mean `{close[0]}`?" if close else "")
    expected = reason.removeprefix("Input should be ").removeprefix("input should be ")
    if kind in ("model_type", "dict_type"):
        expected = "a mapping (a section of `key: value` lines)"
    return f"The `{field}` parameter must be {expected[0].lower() + expected[1:]}. Got {got} instead."


def _is_pydantic_tag(step: Any) -> bool:
    text = str(step)
    return "[" in text or text in {"str", "int", "float", "bool", "list", "dict", "none", "function-before", "function-plain"} or text.startswith(("literal", "constrained", "lax-", "json-or"))


@dataclass
class LintOptions:
    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    data: bool = False
    """Load the config's data to run the data-aware rules."""
    trust: bool = False
    """Import the estimator the config names (``search_space.estimator``), running its code, to check the
    class and its arguments. Without it lint only finds the module, executing nothing."""


def _finding_from_load_error(path: str, error: LoadError, rules: dict[str, Rule]) -> Finding:
    rule = rules[error.code]
    return Finding(
        code=error.code,
        message=error.message,
        severity=rule.severity,
        file=path,
        span=error.span,
        fix_title=error.fix_title,
    )


MAX_PRUNE_ROUNDS = 3


def _path_key(path: JsonPath) -> list[tuple[bool, int, str]]:
    return [(isinstance(step, int), step if isinstance(step, int) else 0, str(step)) for step in path]


def _delete(data: Any, path: JsonPath) -> None:
    node = data
    for step in path[:-1]:
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return
    last = path[-1]
    if isinstance(node, dict):
        node.pop(last, None)
    elif isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        del node[last]


def partial_config(data: Any, problems: Sequence[SchemaProblem]) -> tuple[Any, list[JsonPath]]:
    """The config made of the parts of ``data`` that validate, and the paths left out to get it.

    Every schema problem is cut out (a missing key takes its section with it) so that the defaults stand in,
    and the rest is validated again, a few rounds at most. The cross-field rules can then report on
    everything else in the same run instead of the user fixing one schema error at a time. Returns
    ``(None, [])`` when nothing sensible is left.
    """
    import copy

    if not isinstance(data, dict) or not problems:
        return None, []
    current = copy.deepcopy(data)
    pruned: list[JsonPath] = []
    for _ in range(MAX_PRUNE_ROUNDS):
        paths = [p.path[:-1] if p.kind == "missing" else p.path for p in problems]
        if any(len(p) == 0 for p in paths):
            return None, []
        # later list items first, so that deleting one does not shift the index of the next
        for path in sorted(paths, key=_path_key, reverse=True):
            _delete(current, path)
        pruned.extend(paths)
        config, problems = schema_problems(current)
        if config is not None:
            return config, pruned
    return None, []


_DATA_CACHE: dict[str, tuple[Any, str | None]] = {}
_DATA_CACHE_SIZE = 16


def data_facts(config: Any, base_dir: Path) -> tuple[Any, str | None]:
    """The facts of the data ``config`` names, or why it cannot be loaded: ``(DataFacts | None, error)``.

    Linting a directory of configs usually loads the same few datasets again and again; the facts are
    immutable, so they are kept per process, keyed by everything that decides what is loaded (the data and
    task sections, the seed that draws `sample_rows`, the config's directory and the data file's size and
    modification time, so an edited file is loaded again).
    """
    import json

    from metaconf.data.facts import DataFacts
    from metaconf.data.load import DataError, load_dataset, resolve_path

    stamp: tuple[str, int | None, int | None] | None = None
    file = resolve_path(config, base_dir)
    if file is not None:
        try:
            stat = file.stat()
            stamp = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
        except OSError:
            stamp = (str(file), None, None)
    key = json.dumps(
        [config.data.model_dump(mode="json"), config.task.model_dump(mode="json"), config.execution.seed,
         str(base_dir), stamp],
        sort_keys=True,
        default=str,
    )
    if key not in _DATA_CACHE:
        try:
            _DATA_CACHE[key] = (DataFacts.of(load_dataset(config, base_dir)), None)
        except DataError as error:
            _DATA_CACHE[key] = (None, str(error))
        while len(_DATA_CACHE) > _DATA_CACHE_SIZE:
            _DATA_CACHE.pop(next(iter(_DATA_CACHE)))
    return _DATA_CACHE[key]


def _touches(path: JsonPath, pruned: Sequence[JsonPath]) -> bool:
    return any(path[: len(p)] == p or p[: len(path)] == path for p in pruned)


def lint_document(
    document: Document, rules: Iterable[Rule], *, load_data: bool = False, trust: bool = False
) -> list[Finding]:
    """Run ``rules`` over a loaded document.

    When the document does not validate, the config-level rules still run on :func:`partial_config`; their
    findings about a value that was cut out (or a section that contains one) are dropped, because they would
    describe the default standing in for it rather than what the user wrote.
    """
    config, problems = schema_problems(document.data)
    pruned: list[JsonPath] = []
    if config is None:
        config, pruned = partial_config(document.data, problems)
    ctx = LintContext(document=document, config=config, trust=trust)
    ctx.cache["schema_problems"] = problems
    ctx.cache["pruned_paths"] = pruned
    if load_data and config is not None:
        ctx.data, ctx.data_error = data_facts(config, document.base_dir)
    findings: list[Finding] = []
    for rule in rules:
        try:
            found = list(rule.run(ctx))
        except Exception as error:  # a bug in one rule must not end in a traceback for the user
            raise RuleError(rule.code, document.path, error) from error
        for finding in found:
            if pruned and rule.needs_config and _touches(finding.json_path, pruned):
                continue
            if not document.is_suppressed(finding.code, finding.span.line):
                findings.append(finding)
    return sorted(findings, key=Finding.sort_key)


def lint_text(text: str, path: str = "<string>", options: LintOptions | None = None) -> list[Finding]:
    options = options or LintOptions()
    rules = select_rules(options.select, options.ignore)
    try:
        document = load_text(text, path)
    except LoadError as error:
        return _load_error_findings(path, error)
    return lint_document(document, rules, load_data=options.data, trust=options.trust)


def lint_file(path: str | Path, options: LintOptions | None = None) -> list[Finding]:
    options = options or LintOptions()
    rules = select_rules(options.select, options.ignore)
    try:
        document = load_file(path)
    except LoadError as error:
        return _load_error_findings(str(path), error)
    return lint_document(document, rules, load_data=options.data, trust=options.trust)


def lint_bytes(raw: bytes, path: str = "-", options: LintOptions | None = None) -> list[Finding]:
    """Lint raw bytes (stdin): the same UTF-8 rules as for a file, with the position of a bad byte."""
    options = options or LintOptions()
    text = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = text[: error.start]
        line = prefix.count(b"\n") + 1
        col = error.start - (prefix.rfind(b"\n") + 1) + 1
        problem = LoadError(
            "MC003",
            f"the input is not UTF-8 (byte 0x{text[error.start]:02x}); save it as UTF-8",
            Span(line, col, line, col + 1),
        )
        return _load_error_findings(path, problem)
    return lint_text(decoded, path, options)


def _load_error_findings(path: str, error: LoadError) -> list[Finding]:
    """The finding for input that is not one YAML document. Reported whatever ``--select`` / ``--ignore``
    say (as ruff reports a syntax error): a file that cannot be read is never clean, and the exit code is 2."""
    return [_finding_from_load_error(path, error, all_rules())]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == Severity.error for f in findings)

