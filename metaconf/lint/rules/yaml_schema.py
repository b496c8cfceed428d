"""MC0xx (YAML) and MC1xx (schema) rules.

The loader and the model validation find these problems; the rules here give them codes, docs and
selection like every other rule. MC001-MC005 are reported when a file cannot be loaded at all, and then
always: `--select` / `--ignore` cannot hide input that is not a config (as ruff never hides a syntax error).
"""

from __future__ import annotations

from collections.abc import Iterator

from metaconf.lint.finding import Edit, Fix, Severity
from metaconf.lint.registry import LintContext, Violation, rule


def _no_document_check(ctx: LintContext) -> Iterator[Violation]:
    return iter(())


def _load_rule(code: str, name: str, summary: str, doc: str) -> None:
    def check(ctx: LintContext) -> Iterator[Violation]:
        return _no_document_check(ctx)

    check.__doc__ = doc
    check.__name__ = name.replace("-", "_")
    rule(code, name, severity=Severity.error, summary=summary, needs_config=False)(check)


_load_rule(
    "MC001",
    "invalid-yaml",
    "The file is not valid YAML, or not one YAML document.",
    """
    ## What it does
    Reports a file that does not parse as exactly one YAML document, with the line and column where the
    parser stopped.

    ## Why is this bad?
    Nothing else can be checked, and no tool can run a config it cannot read. Like the other problems that
    stop a file from loading (MC002-MC005), it is reported whatever `--select` / `--ignore` say, and the exit
    code is 2.

    ## Example
    ```yaml
    budget:
      walltime: 10m
     cores: 2
    ```

    ## Use instead
    ```yaml
    budget:
      walltime: 10m
      cores: 2
    ```

    ## Fix safety
    No automatic fix: the intent of broken YAML is not knowable.
    """,
)
_load_rule(
    "MC002",
    "empty-config",
    "The file holds no config.",
    """
    ## What it does
    Reports a file that is empty or holds only comments.

    ## Why is this bad?
    An empty config runs nothing; usually a file was truncated or saved before it was written.

    ## Example
    ```yaml
    # nothing yet
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
    ```

    ## Fix safety
    No automatic fix; `metaconf init` writes a starter config.
    """,
)
_load_rule(
    "MC003",
    "unreadable-file",
    "The file cannot be read as UTF-8 text.",
    """
    ## What it does
    Reports a path that is missing, a directory, unreadable, or not UTF-8 encoded.

    ## Why is this bad?
    metaconf configs are UTF-8 YAML; other encodings garble names and values silently.

    ## Fix safety
    No automatic fix: re-save the file as UTF-8.
    """,
)
_load_rule(
    "MC004",
    "unsafe-yaml-tag",
    "A YAML tag that would construct objects (`!!python/object`) is refused.",
    """
    ## What it does
    Reports any tag other than YAML's standard scalar, sequence and mapping tags.

    ## Why is this bad?
    Tags such as `!!python/object/apply` execute code when a YAML file is loaded unsafely. metaconf never
    constructs them; a config that needs one is not a config.

    ## Example
    ```yaml
    execution:
      seed: !!python/object/apply:os.getpid []
    ```

    ## Use instead
    ```yaml
    execution:
      seed: 0
    ```

    ## Fix safety
    No automatic fix.

    ## References
    - https://pyyaml.org/wiki/PyYAMLDocumentation (Loading YAML: "it is not safe")
    """,
)
_load_rule(
    "MC005",
    "yaml-too-large",
    "The document expands to too many values (an alias bomb) or nests too deeply.",
    """
    ## What it does
    Stops loading when aliases expand a document past 20,000 values or it nests too deeply.

    ## Why is this bad?
    A few lines of anchors and aliases ("billion laughs") can expand to gigabytes; a config never needs that.

    ## Example
    ```yaml
    a: &a [x, x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
    ```

    ## Fix safety
    No automatic fix.
    """,
)


@rule(
    "MC006",
    "duplicate-key",
    severity=Severity.error,
    summary="A key appears twice in one mapping; YAML keeps only the last.",
    needs_config=False,
)
def duplicate_key(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a key written twice in the same mapping.

    ## Why is this bad?
    YAML loaders keep the last value without a word, so the first one, often the one the user edited,
    silently does nothing.

    ## Example
    ```yaml
    stopping:
      n_trials: 50
      n_trials: 500
    ```

    ## Use instead
    ```yaml
    stopping:
      n_trials: 500
    ```

    ## Fix safety
    No automatic fix: which of the two values is meant is for the user to say.
    """
    for duplicate in ctx.document.duplicates:
        name = duplicate.path[-1]
        yield Violation(
            duplicate.path,
            f"`{name}` is set twice (first on line {duplicate.first.line}); only this last value counts",
            fix_title=f"Remove one of the two `{name}` keys",
            key=True,
        )


def _problems(ctx: LintContext, kind: str) -> Iterator[Violation]:
    for problem in ctx.cache.get("schema_problems", ()):
        if problem.kind == kind:
            yield Violation(problem.path, problem.message, fix=problem.fix, key=problem.key)


@rule(
    "MC101",
    "unknown-key",
    severity=Severity.error,
    summary="A key the config format does not have (often a typo).",
    needs_config=False,
)
def unknown_key(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports keys that are not part of the config format, with the closest known key.

    ## Why is this bad?
    AutoML tools often ignore unknown settings: auto-sklearn drops a misspelled `smac_scenario_args` key such
    as `runcount_limt` and runs with no limit at all. metaconf refuses them instead.

    ## Example
    ```yaml
    stopping:
      n_trails: 50
    ```

    ## Use instead
    ```yaml
    stopping:
      n_trials: 50
    ```

    ## Fix safety
    Renaming to the closest key is unsafe: the closest name may not be the intended one.
    """
    return _problems(ctx, "unknown")


@rule(
    "MC102",
    "invalid-value",
    severity=Severity.error,
    summary="A value of the wrong type or outside its allowed range or choices.",
    needs_config=False,
)
def invalid_value(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports values that do not fit their field: wrong type, not one of the allowed choices, negative or
    non-finite budgets, numbers out of range, durations and sizes in no known unit.

    ## Why is this bad?
    SMAC3's Scenario accepts almost anything and fails later, mid-run or never: `walltime_limit <= 0` still
    runs a trial, and a memory limit given as a bare number is read as bytes.

    ## Example
    ```yaml
    budget:
      walltime: 20 minuets
    ```

    ## Use instead
    ```yaml
    budget:
      walltime: 20m
    ```

    ## Fix safety
    No automatic fix.
    """
    for kind in ("value", "type"):
        yield from _problems(ctx, kind)


@rule(
    "MC103",
    "missing-key",
    severity=Severity.error,
    summary="A required key is missing.",
    needs_config=False,
)
def missing_key(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    Reports a section that lacks a key it cannot do without (e.g. a cost matrix without `costs`).

    ## Why is this bad?
    The run cannot be compiled without it.

    ## Example
    ```yaml
    task:
      metric: expected_cost
      cost_matrix:
        labels: [good, bad]
    ```

    ## Use instead
    ```yaml
    task:
      metric: expected_cost
      cost_matrix:
        labels: [good, bad]
        costs: [[0, 1], [5, 0]]
    ```

    ## Fix safety
    No automatic fix.
    """
    return _problems(ctx, "missing")


__all__ = ["Edit", "Fix"]
