"""``metaconf lint --fix``: apply the structural edits of fixes to a YAML file without losing what the user
wrote around them.

Edits are set / delete operations at a JSON path (:class:`metaconf.lint.finding.Edit`). They are applied to a
ruamel.yaml round-trip tree, so comments, key order, quoting and flow style survive; a rename (set a new key
plus delete its sibling in one fix) keeps the key's position and its comment. After a pass the text is
linted again and fixes that became possible are applied in the next pass, like ruff does, until nothing
changes. Overlapping fixes in one pass are deferred to the next so that no edit is applied to a stale tree.
"""

from __future__ import annotations

import difflib
import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from metaconf.config.loader import JsonPath
from metaconf.lint.engine import LintOptions, lint_text
from metaconf.lint.finding import Edit, Finding, Fix
from metaconf.lint.reporters import is_applicable

MAX_PASSES = 8


class FixError(Exception):
    """The document cannot be edited (ruamel.yaml cannot round-trip it, or an edit's path is not there)."""


@dataclass
class FixResult:
    """The outcome of fixing one file."""

    path: str
    original: str
    fixed: str
    applied: list[Finding] = field(default_factory=list)
    """Findings whose fixes were applied, in the order they were applied."""
    findings: list[Finding] = field(default_factory=list)
    """Findings of the fixed text."""
    error: str | None = None
    """Why no fix could be applied, if that happened."""

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        """A unified diff from the original to the fixed text (empty when nothing changed)."""
        name = "<stdin>" if self.path == "-" else self.path
        return "".join(
            difflib.unified_diff(
                self.original.splitlines(keepends=True),
                self.fixed.splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )


def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, sequence dash offset) as the file already uses them."""
    mapping, offset = None, None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for parent, child in itertools.pairwise(lines):
        if not re.match(r"^\s*[^#\s-][^#]*:\s*(#.*)?$", parent):
            continue
        step = (len(child) - len(child.lstrip())) - (len(parent) - len(parent.lstrip()))
        if child.lstrip().startswith("- ") or child.strip() == "-":
            if offset is None and step >= 0:
                offset = step
        elif mapping is None and step > 0:
            mapping = step
        if mapping is not None and offset is not None:
            break
    mapping = mapping or 2
    offset = 2 if offset is None else offset
    return mapping, offset + 2, offset


def _yaml(text: str) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = True
    yaml.width = 4096  # never re-wrap the user's long lines
    mapping, sequence, offset = _guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _keep_style(old: Any, new: Any) -> Any:
    """A new string value keeps the quoting style of the value it replaces."""
    from ruamel.yaml.scalarstring import ScalarString

    if isinstance(old, ScalarString) and isinstance(new, str) and not isinstance(new, ScalarString):
        return type(old)(new)
    return new


def _container(root: Any, path: JsonPath, *, create: bool) -> Any:
    """The mapping or list that holds ``path[-1]``, creating missing mappings on the way if ``create``."""
    from ruamel.yaml.comments import CommentedMap

    node = root
    for step in path[:-1]:
        if isinstance(node, dict):
            if step not in node:
                if not create:
                    raise FixError(f"`{step}` is not in the document")
                node[step] = CommentedMap()
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            raise FixError(f"cannot descend into `{step}`")
    return node


def _to_yaml_value(value: Any) -> Any:
    """Plain dicts and lists become round-trip containers so they are emitted in block style."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        return CommentedMap((k, _to_yaml_value(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return CommentedSeq(_to_yaml_value(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    """A round-trip node as plain Python values, to compare it with an edit's value."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _rename(root: Any, old: JsonPath, new: JsonPath, value: Any) -> None:
    """Replace key ``old[-1]`` by ``new[-1]`` in place: same position, same comment."""
    from ruamel.yaml.comments import CommentedMap

    parent = _container(root, old, create=False)
    if not isinstance(parent, CommentedMap) or old[-1] not in parent:
        raise FixError(f"`{old[-1]}` is not in the document")
    keys = list(parent)
    position = keys.index(old[-1])
    existing = parent[old[-1]]
    # the same value moves as it is, with the comments and styles inside it
    node = existing if _plain(existing) == value else _to_yaml_value(value)
    comment = parent.ca.items.pop(old[-1], None)
    del parent[old[-1]]
    if new[-1] in parent:
        parent[new[-1]] = node
    else:
        parent.insert(min(position, len(parent)), new[-1], node)
    if comment is not None:
        parent.ca.items[new[-1]] = comment


def _apply_edit(root: Any, edit: Edit) -> None:
    if not edit.path:
        raise FixError("an edit cannot replace the whole document")
    parent = _container(root, edit.path, create=not edit.delete)
    key = edit.path[-1]
    if isinstance(parent, dict):
        if edit.delete:
            if key in parent:
                del parent[key]
            return
        parent[key] = _keep_style(parent.get(key), _to_yaml_value(edit.value))
    elif isinstance(parent, list) and isinstance(key, int):
        if not 0 <= key < len(parent) + (0 if edit.delete else 1):
            raise FixError(f"index {key} is out of range")
        if edit.delete:
            del parent[key]
        elif key == len(parent):
            parent.append(_to_yaml_value(edit.value))
        else:
            parent[key] = _keep_style(parent[key], _to_yaml_value(edit.value))
    else:
        raise FixError(f"cannot edit `{key}`: its parent is not a mapping or a list")


def _apply_fix(root: Any, fix: Fix) -> None:
    edits = list(fix.edits)
    sets = [e for e in edits if not e.delete]
    deletes = [e for e in edits if e.delete]
    # a rename is one set plus one delete of a sibling: keep the key where it was
    if len(sets) == 1 and len(deletes) == 1 and sets[0].path[:-1] == deletes[0].path[:-1] and sets[0].path:
        _rename(root, deletes[0].path, sets[0].path, sets[0].value)
        return
    for edit in edits:
        _apply_edit(root, edit)


def _overlaps(a: JsonPath, b: JsonPath) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def apply_fixes(text: str, fixes: Sequence[Fix]) -> tuple[str, list[int]]:
    """Apply the non-overlapping ``fixes`` to ``text``. Returns the new text and the indexes of the fixes
    applied; an overlapping one is left for the next pass. Raises :class:`FixError`."""
    from ruamel.yaml.error import YAMLError

    from metaconf.config.loader import LoadError, load_text

    try:
        duplicates = load_text(text).duplicates
    except LoadError as error:
        raise FixError(f"the file does not load: {error.message}") from None
    if duplicates:
        # ruamel.yaml keeps the first of two equal keys where YAML keeps the last: editing would change values
        first = duplicates[0]
        raise FixError(
            f"`{'.'.join(map(str, first.path))}` is set twice (lines {first.first.line} and {first.again.line}); "
            "remove one (MC006) before fixing"
        )
    yaml = _yaml(text)
    try:
        root = yaml.load(text)
    except YAMLError as error:
        raise FixError(f"ruamel.yaml cannot round-trip this file: {str(error).splitlines()[0]}") from None
    touched: list[JsonPath] = []
    applied: list[int] = []
    for index, fix in enumerate(fixes):
        paths = [e.path for e in fix.edits]
        if any(_overlaps(p, t) for p in paths for t in touched):
            continue
        _apply_fix(root, fix)
        touched.extend(paths)
        applied.append(index)
    buffer = io.StringIO()
    yaml.dump(root, buffer)
    return buffer.getvalue(), applied


def fix_text(
    text: str,
    path: str = "<string>",
    options: LintOptions | None = None,
    *,
    unsafe: bool = False,
    findings: Sequence[Finding] | None = None,
) -> FixResult:
    """Lint ``text``, apply its applicable fixes (safe ones; unsafe ones too if ``unsafe``), re-lint and
    repeat until no fix applies. ``findings`` are the findings of ``text`` if already known."""
    current = text
    result = FixResult(path=path, original=text, fixed=text)
    found = list(findings) if findings is not None else lint_text(text, path, options)
    for _ in range(MAX_PASSES):
        fixable = [f for f in found if is_applicable(f, unsafe=unsafe)]
        if not fixable:
            break
        try:
            updated, applied = apply_fixes(current, [f.fix for f in fixable if f.fix is not None])
        except FixError as error:
            result.error = str(error)
            break
        if updated == current:
            break
        result.applied.extend(fixable[i] for i in applied)
        current = updated
        found = lint_text(current, path, options)
    result.fixed = current
    result.findings = found
    return result
