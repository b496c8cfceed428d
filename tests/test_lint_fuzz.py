"""Property-based tests: whatever text arrives, the loader and linter answer with findings, never an exception.

Inputs: arbitrary unicode, YAML-ish text from a small grammar (indentation, anchors, aliases, tags, flow
collections, document markers), and valid configs mutated the way users and LLMs break them (dropped and
renamed keys, swapped types, NaN / inf / huge numbers, deep nesting, random unicode). Runs are derandomized
so a failure reproduces, and bounded so the file stays within a few seconds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metaconf.config.loader import LoadError, load_text
from metaconf.lint.catalog import all_rules
from metaconf.lint.engine import LintOptions, lint_text
from metaconf.lint.finding import Finding
from metaconf.lint.fix import fix_text
from metaconf.lint.reporters import LintReport, OutputFormat, render

ROOT = Path(__file__).resolve().parent.parent  # templates/ and examples/ sit at the top of the repository
SEEDS = [
    load_text(p.read_text(encoding="utf-8"), str(p)).data
    for p in sorted([*ROOT.glob("templates/*.yaml"), *ROOT.glob("examples/*.yaml")])
    if p.name != "broken.yaml"
]
assert len(SEEDS) >= 10, "the fuzzer mutates the shipped templates and examples; none were found"
FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=80,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CODES = set(all_rules())


def check(text: str, **kwargs: Any) -> list[Finding]:
    """Lint ``text`` and check the findings are well formed and render in every format."""
    findings = lint_text(text, "fuzz.yaml", LintOptions(**kwargs))
    assert isinstance(findings, list)
    for finding in findings:
        assert finding.code in CODES
        assert finding.span.line >= 1 and finding.span.col >= 1
        assert finding.span.end_line >= finding.span.line
    report = LintReport(findings=findings, files=1)
    for output_format in OutputFormat:
        out = render(output_format, report)
        if output_format in (OutputFormat.json, OutputFormat.sarif):
            json.loads(out)
    return findings


# --- arbitrary text -----------------------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    check(text)


_scalar = st.one_of(
    st.sampled_from(["10m", "4GB", "-1", ".nan", ".inf", "-.inf", "1e400", "0x1F", "~", "null", "yes", "no",
                     "2026-11-26", "'quoted'", '"dq"', "|", ">", "&a", "*a", "*missing", "!!str 3", "!!int x",
                     "!!python/name:os.system", "!custom", "<<: *a", "[1, 2", "{a: 1}", "[]", "{}", "99999999999999999999999"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
)
_key = st.one_of(
    st.sampled_from(["task", "data", "budget", "stopping", "optimizer", "fidelity", "search_space", "execution",
                     "walltime", "n_trials", "cores", "memory", "demo", "models", "eta", "min", "max", "<<", "? x"]),
    st.text(alphabet="abcxyz_-é ", min_size=1, max_size=8),
)
_line = st.tuples(st.integers(0, 8), st.sampled_from(["", "- ", "-", "? "]), _key, st.sampled_from([": ", ":", " : "]), _scalar).map(
    lambda t: " " * t[0] + t[1] + t[2] + t[3] + t[4]
)


@FUZZ
@given(st.lists(st.one_of(_line, st.sampled_from(["---", "...", "# c", "", "\t", "%YAML 1.2"])), max_size=25))
def test_yaml_ish_text_never_raises(lines: list[str]) -> None:
    check("\n".join(lines) + "\n")


# --- mutated valid configs ----------------------------------------------------------------------------------

_odd_values = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, -1, 0, 10**100, -(10**100), 1e308, "", "NaN", None, True, [], {}]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*prefix, index))
            out.extend(_paths(value, (*prefix, index)))
    return out


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    node = root
    for step in path[:-1]:
        node = node[step]
    return node


@st.composite
def mutated_config(draw: st.DrawFn) -> Any:
    config = json.loads(json.dumps(draw(st.sampled_from(SEEDS))))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(config)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(config, path)
        key = path[-1]
        action = draw(st.sampled_from(["drop", "rename", "swap", "nest", "unicode"]))
        if action == "drop":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            new = draw(st.one_of(st.text(min_size=1, max_size=10), st.just(str(key)[:-1] or "x"), st.just(str(key) + "s")))
            parent[new] = parent.pop(key)
        elif action == "swap":
            parent[key] = draw(_odd_values)
        elif action == "nest":
            value: Any = parent[key]
            for level in range(draw(st.integers(5, 60))):
                value = [value] if level % 2 else {"k": value}
            parent[key] = value
        else:
            parent[key] = draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
    return config


@FUZZ
@given(mutated_config())
def test_mutated_configs_never_raise(config: Any) -> None:
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    check(text)


@settings(FUZZ, max_examples=40)
@given(mutated_config())
def test_fixing_mutated_configs_never_raises_and_never_breaks_the_yaml(config: Any) -> None:
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    result = fix_text(text, "fuzz.yaml", unsafe=True)
    if result.changed:
        try:
            load_text(result.fixed)
        except LoadError as error:  # a fix must never turn a loadable file into an unloadable one
            raise AssertionError(f"fixed text does not load: {error.message}\n{result.fixed}") from None


def test_pathological_documents_are_bounded() -> None:
    """Deep nesting and alias bombs end in MC005 / MC001, not in a RecursionError or a blown memory."""
    deep_flow = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    deep_block = "".join(" " * i + f"k{i}:\n" for i in range(400)) + " " * 400 + "v: 1\n"
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 12)
    )
    for text in (deep_flow, deep_block, bomb):
        assert check(text)
