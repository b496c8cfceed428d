"""Rich tables for run results: the summary of one run, and several runs side by side.

Both take :class:`~metaconf.report.results.RunResults` (read from ``results.json``), so ``metaconf run``'s
final table and ``metaconf report`` show the same thing for SMAC and auto-sklearn runs alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.report.results import Incumbent, RunResults

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def best_search_cost(incumbent: Incumbent) -> float | None:
    """The search's lowest validation cost: the incumbent's, unless the selection margin kept another."""
    return incumbent.selection.get("lowest_cost") if incumbent.selection else incumbent.cost


def kept_text(cost: float | None, selection: dict[str, Any]) -> str:
    """Why the run kept a configuration other than the lowest-cost one (``incumbent.selection``)."""
    return (
        f"cost {_num(cost)}; the lowest, {_num(selection.get('lowest_cost'))}, is lower by less than the selection "
        f"margin {_num(selection.get('margin'))} (`resampling.selection_margin`)"
    )


def output_console() -> Console:
    """A stdout console; when piped or captured, wide enough that tables are not squeezed into 80 columns."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = 160
    return console


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _trials(results: RunResults) -> str:
    counts = results.trials_by_status
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return f"{results.n_trials} ({detail})" if detail else "0"


def _config_text(config: dict[str, object], limit: int = 8) -> str:
    items = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in config.items()]
    shown = items[:limit]
    if len(items) > limit:
        shown.append(f"... ({len(items) - limit} more)")
    return "\n".join(shown) if shown else "-"


def summary_table(results: RunResults, run_dir: str | Path | None = None) -> Table:
    """One run: status, metric, incumbent scores, trials by status, time, seed, data."""
    from rich.table import Table

    title = f"metaconf run: {Path(run_dir).name}" if run_dir is not None else "metaconf run"
    table = Table(title=title, show_header=False, title_justify="left", pad_edge=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    status = results.status + (f" ({results.stop_reason})" if results.stop_reason else "")
    table.add_row("status", status)
    if results.error:
        table.add_row("error", results.error)
    direction = "higher is better" if results.greater_is_better else "lower is better"
    table.add_row("metric", f"{results.metric_name} ({direction})")
    incumbent = results.incumbent
    if incumbent is not None:
        table.add_row("validation score", _num(incumbent.validation_score))
        table.add_row("test score", _num(incumbent.test_score))
        table.add_row("best cost (search)", _num(best_search_cost(incumbent)))
        table.add_row("incumbent", _config_text(incumbent.config))
        if incumbent.selection:
            table.add_row("kept", kept_text(incumbent.cost, incumbent.selection))
        threshold = incumbent.decision_threshold
        if threshold:
            table.add_row(
                "decision",
                f"`{threshold.get('positive')}` from {threshold.get('value', 0.5):.4g} on "
                f"(best {str(threshold.get('serves', '')).replace('_', ' ')} in validation)",
            )
        rows = incumbent.model_rows
        if rows:
            table.add_row("saved model", f"fitted on {rows.get('rows', 0):,} {rows.get('fitted_on', 'rows')}")
    else:
        table.add_row("incumbent", "none (no trial finished)")
    table.add_row("trials", _trials(results))
    table.add_row("time", f"{_seconds(results.total_s)} total, {_seconds(results.search_s)} search")
    table.add_row("tool / seed", f"{results.tool} / {results.seed}")
    if results.dataset:
        data = results.dataset
        shape = f"{data.get('n_rows', '?')} rows x {data.get('n_features', '?')} features"
        table.add_row("data", f"{data.get('name', '?')} ({shape})")
    if run_dir is not None:
        table.add_row("run directory", str(run_dir))
    return table


COMPARISON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run", "left"),
    ("tool", "left"),
    ("status", "left"),
    ("metric", "left"),
    ("data", "left"),
    ("validation", "right"),
    ("test", "right"),
    ("trials", "right"),
    ("search time", "right"),
    ("seed", "right"),
)
"""The columns of the comparison (name, justification), in the terminal table, the Markdown and the HTML page."""


def comparison_rows(runs: Sequence[tuple[str, RunResults]]) -> tuple[list[list[str]], str | None]:
    """The cells of the comparison, one row per run in :data:`COMPARISON_COLUMNS` order, and its caption.

    The best test score (else validation score) is marked `` *`` after the run's label when the runs share a
    metric and data; when they do not, the caption says that their scores are not comparable.
    """

    def key(results: RunResults) -> float | None:
        inc = results.incumbent
        if inc is None:
            return None
        value = inc.test_score if inc.test_score is not None else inc.validation_score
        if value is None:
            return None
        return value if results.greater_is_better else -value

    metrics = {(r.metric_name, str(r.dataset.get("name"))) for _, r in runs}
    keys = [key(r) for _, r in runs]
    comparable = [k for k in keys if k is not None]
    best = max(comparable) if comparable and len(metrics) == 1 else None
    rows = []
    for (label, results), k in zip(runs, keys, strict=True):
        inc = results.incumbent
        marker = " *" if best is not None and k == best and len(runs) > 1 else ""
        rows.append(
            [
                label + marker,
                results.tool,
                results.status,
                results.metric_name,
                str(results.dataset.get("name", "-")),
                _num(inc.validation_score if inc else None),
                _num(inc.test_score if inc else None),
                str(results.n_trials),
                _seconds(results.search_s),
                str(results.seed),
            ]
        )
    caption = None
    if best is not None and len(runs) > 1:
        caption = "* best test score (validation score where no test score)"
    elif len(metrics) > 1:
        caption = "runs differ in metric or data: scores are not comparable across rows"
    return rows, caption


def comparison_table(runs: Sequence[tuple[str, RunResults]]) -> Table:
    """Several runs side by side, one row each; the best test score (else validation score) is marked."""
    from rich.table import Table

    table = Table(title="metaconf runs compared", title_justify="left")
    for name, justify in COMPARISON_COLUMNS:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    rows, caption = comparison_rows(runs)
    for row in rows:
        table.add_row(*row)
    if caption is not None:
        table.caption = caption
    return table
