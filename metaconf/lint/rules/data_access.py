"""MC900: the data a config names cannot be loaded (reported with ``metaconf lint --data``).

The data-aware rules (MC9xx in ``data.py``) need the data's facts; when the data cannot be loaded they cannot
run, and that is itself the most important finding: ``metaconf run`` would fail at the same place. The
engine records the loader's message in ``ctx.data_error``; this rule reports it at the key that names the
data, and ``metaconf lint`` exits with code 2 for it, as for any unreadable input.
"""

from __future__ import annotations

from collections.abc import Iterator

from metaconf.lint.finding import Severity
from metaconf.lint.registry import LintContext, Violation, rule


@rule(
    "MC900",
    "data-unreadable",
    severity=Severity.error,
    summary="The data the config names cannot be loaded (checked with `--data`).",
)
def data_unreadable(ctx: LintContext) -> Iterator[Violation]:
    """
    ## What it does
    With `metaconf lint --data`, loads the data the config names (a file relative to the config, or a demo
    dataset) and reports why it cannot be used: a missing file, an unknown format or demo, a target column
    that is not there, a single class.

    ## Why is this bad?
    `metaconf run` loads the same data first and would stop there; the data-aware rules (class counts, rows
    per fold, cost-matrix labels) cannot check anything without it.

    ## Example
    ```yaml
    task:
      target: label
    data:
      path: no-such-file.csv
    ```

    ## Use instead
    ```yaml
    data:
      demo: iris
    ```

    ## Fix safety
    No automatic fix: point `data.path` at the file (relative to the config file) or use `data.demo`.
    """
    if ctx.data_error is None:
        return
    message, _, hint = ctx.data_error.partition("\n  hint: ")
    where = ctx.where(("data", "path"), ("data", "demo"), ("data",))
    yield Violation(where, f"cannot load the data: {message}", fix_title=hint[:1].upper() + hint[1:] if hint else None)
