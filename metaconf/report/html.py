"""`metaconf report RUN_DIR... --html FILE`: one self-contained HTML page to share a run (or compare several).

The page holds, for each run: a summary (task, metric, budget, wall time, trials, status, best and held-out
scores), the best-so-far trajectory and the scores per model family as plots, the incumbent configuration,
every value of the run's config with its origin and reason (as `metaconf explain --all` gives them) and the
library versions the run recorded. With several runs it starts with the comparison table and one plot of all
trajectories.

Self-contained means it fetches nothing: no external CSS, scripts, fonts or images. The plots are matplotlib
SVG inlined as ``data:`` URIs (text drawn as paths, so no font is needed either), the style sheet is inline,
there is no script at all, and a Content-Security-Policy forbids every other source, so a viewer that
opens the file offline (or a mail client that previews it) shows all of it and contacts nobody. All text
from the run directory is escaped.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.report.export import RunView, budget_of, config_rows, task_of
from metaconf.report.families import Families, FamilyScores, family_scores
from metaconf.report.results import RunResults, TrialRecord, plot_text, read_trajectory, trajectory_figure
from metaconf.report.summary import (
    COMPARISON_COLUMNS,
    _num,
    _seconds,
    _trials,
    best_search_cost,
    comparison_rows,
    kept_text,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The page's Content-Security-Policy: images from ``data:`` URIs and the inline style sheet, nothing else."""

BEST_COLOR = "#d62728"
"""The best score of each family in the family plot (matplotlib's tab:red; the page's CSS never uses it)."""
TRIAL_COLOR = "#7f7f7f"

_STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #222; background: #fff; margin: 0 auto; padding: 1.5rem 2rem 3rem; max-width: 1400px; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-top: .6rem; border-top: 2px solid #ccc; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p.lead { color: #555; margin: 0 0 1rem; }
table { border-collapse: collapse; margin: .3rem 0 .8rem; }
th, td { border: 1px solid #ddd; padding: .25rem .55rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th { width: 12rem; }
table.config td.value { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem;
                        word-break: break-word; max-width: 28rem; }
table.config td.reason { max-width: 40rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88rem; }
.status { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-weight: 600; font-size: .85rem; }
.status-finished { background: #e3f3e5; color: #1e5b28; }
.status-interrupted, .status-running { background: #fff4d6; color: #6b4d00; }
.status-failed { background: #fbe4e2; color: #7a1d16; }
.origin { font-size: .82rem; font-weight: 600; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.plots figure { flex: 1 1 540px; max-width: 680px; }
figure { margin: 0; max-width: 820px; }
figure img { display: block; width: 100%; height: auto; border: 1px solid #e4e4e4; }
figcaption { color: #555; font-size: .85rem; margin-top: .25rem; max-width: 672px; }
.note { color: #555; font-style: italic; }
.error { color: #7a1d16; white-space: pre-wrap; }
nav ul { margin: .2rem 0; padding-left: 1.2rem; }
footer { margin-top: 3rem; color: #777; font-size: .8rem; }
"""


def _e(value: Any) -> str:
    """Escaped text for HTML content and attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def figure_data_uri(figure: Figure) -> str:
    """``figure`` as an SVG ``data:`` URI: reproducible (fixed ids, no date), no metadata, text as paths."""
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "metaconf", "svg.fonttype": "path"}):
        figure.savefig(
            buffer, format="svg", metadata={"Date": None, "Type": None, "Format": None, "Creator": None}
        )
    # The DOCTYPE names the SVG 1.1 DTD by URL; no browser fetches it, but the image does not need it either.
    svg = re.sub(rb"<!DOCTYPE[^>]*>\s*", b"", buffer.getvalue(), count=1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def family_figure(families: Sequence[FamilyScores], metric: str, greater_is_better: bool) -> Figure:
    """Every successful trial's score per model family (grey dots) and each family's best (red diamond)."""
    from matplotlib.figure import Figure

    count = len(families)
    figure = Figure(figsize=(7, max(2.4, 1.2 + 0.5 * count)), dpi=110)
    axis = figure.subplots()
    for index, family in enumerate(families):
        y = count - 1 - index  # the best family on top
        n = len(family.scores)
        offsets = [0.0] if n == 1 else [0.56 * (j / (n - 1) - 0.5) for j in range(n)]
        axis.scatter(
            family.scores, [y + o for o in offsets], s=14, color=TRIAL_COLOR, alpha=0.6, linewidths=0
        )
        axis.scatter([family.best], [y], marker="D", s=50, color=BEST_COLOR, zorder=3)
        axis.annotate(
            f"{family.best:.4g}",
            (family.best, y),
            xytext=(6, 7),
            textcoords="offset points",
            fontsize="small",
        )
    axis.set_yticks(range(count))
    axis.set_yticklabels([plot_text(f"{f.family} ({len(f.scores)})") for f in reversed(families)])
    axis.set_ylim(-0.6, count - 0.4)
    direction = "higher is better" if greater_is_better else "lower is better"
    axis.set_xlabel(plot_text(f"{metric} of each successful trial ({direction})"))
    axis.set_title("scores by model family (trials in brackets, best in red)")
    axis.grid(True, axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def render_html(views: Sequence[RunView]) -> str:
    """The whole page for ``views`` (one run, or several compared)."""
    from metaconf import __version__

    trials = [read_trajectory(view.run_dir) for view in views]
    if len(views) == 1:
        title = f"metaconf run: {views[0].label}"
        lead = f"One run of {views[0].results.tool}, read from <code>{_e(views[0].run_dir)}</code>."
    else:
        title = f"metaconf runs compared: {', '.join(v.label for v in views)}"
        lead = f"{len(views)} runs, read from their run directories."
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="metaconf {_e(__version__)}">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="lead">{lead}</p>',
    ]
    if len(views) > 1:
        parts += _comparison(views, trials)
    for index, (view, run_trials) in enumerate(zip(views, trials, strict=True), start=1):
        parts += _run_section(index, view, run_trials, several=len(views) > 1)
    parts += [
        f"<footer>Written by <code>metaconf report --html</code> (metaconf {_e(__version__)}). "
        "Self-contained: the page loads nothing from anywhere.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(views: Sequence[RunView], path: str | Path, *, force: bool = False) -> Path:
    """Render the page and write it atomically to ``path`` (refused when it exists, unless ``force``)."""
    from metaconf.io import atomic_write_text

    return atomic_write_text(path, render_html(views), force=force)


def _table(
    headers: Sequence[str] | None, rows: Iterable[Sequence[str]], css: str = "", numeric: Sequence[bool] = ()
) -> list[str]:
    """A table from cells that are already HTML (escape before)."""
    out = [f'<table class="{css}">' if css else "<table>"]
    if headers is not None:
        out.append("<thead><tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i < len(numeric) and numeric[i] else ""
            cells.append(f"<td{cls}>{cell}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return out


def _status(results: RunResults) -> str:
    badge = f'<span class="status status-{_e(results.status)}">{_e(results.status)}</span>'
    return badge + (f" ({_e(results.stop_reason)})" if results.stop_reason else "")


def _comparison(views: Sequence[RunView], trials: Sequence[list[TrialRecord]]) -> list[str]:
    rows, caption = comparison_rows([(v.label, v.results) for v in views])
    linked = []
    for index, (view, row) in enumerate(zip(views, rows, strict=True), start=1):
        marker = row[0][len(view.label) :]
        cells = [f'<a href="#run-{index}">{_e(view.label)}</a>{_e(marker)}', *(_e(c) for c in row[1:])]
        status = _e(view.results.status)
        cells[2] = f'<span class="status status-{status}">{status}</span>'
        linked.append(cells)
    out = ['<section id="comparison">', "<h2>Runs compared</h2>"]
    out += _table(
        [_e(name) for name, _ in COMPARISON_COLUMNS],
        linked,
        css="comparison",
        numeric=[justify == "right" for _, justify in COMPARISON_COLUMNS],
    )
    if caption:
        out.append(f'<p class="note">{_e(caption)}</p>')
    runs = [(v.label, v.results, t) for v, t in zip(views, trials, strict=True)]
    if any(trials):
        uri = figure_data_uri(trajectory_figure(runs))
        out.append('<figure class="plot trajectory combined">')
        out.append(f'<img src="{uri}" alt="best-so-far score over wall time, all runs">')
        out.append(
            "<figcaption>Best score so far over the search's wall time, every run on one axis (costs, lower "
            "is better, where the runs' metrics differ).</figcaption></figure>"
        )
    else:
        out.append('<p class="note">No run finished a trial: no trajectory to plot.</p>')
    out.append("</section>")
    return out


def _budget_text(view: RunView) -> str:
    from metaconf.config.units import format_duration, format_memory

    if view.config is None:
        return "unknown (no readable config.yaml)"
    budget = budget_of(view)
    job = []
    job.append(
        f"wall time {format_duration(budget['walltime_s'])}"
        if budget["walltime_s"] is not None
        else "no wall-time limit"
    )
    if budget["cores"] is not None:
        job.append(f"{budget['cores']} core{'s' if budget['cores'] != 1 else ''}")
    if budget["memory_mb"] is not None:
        job.append(f"memory {format_memory(budget['memory_mb'])}")
    search = []
    if budget["n_trials"] is not None:
        search.append(f"{budget['n_trials']} trials")
    if budget["search_walltime_s"] is not None:
        search.append(f"wall time {format_duration(budget['search_walltime_s'])}")
    text = ", ".join(job)
    return text + (f"; search: {', '.join(search)}" if search else "")


def _task_text(view: RunView) -> str:
    task = task_of(view)
    what = str(task["type"] or "task")
    if task["target"]:
        what += f" of `{task['target']}`"
    if task["dataset"]:
        what += f" on {task['dataset']}"
    if task["n_rows"] is not None or task["n_features"] is not None:
        what += f" ({task['n_rows'] if task['n_rows'] is not None else '?'} rows x {task['n_features'] if task['n_features'] is not None else '?'} features)"
    return what


def _summary(view: RunView) -> list[str]:
    results = view.results
    incumbent = results.incumbent
    direction = "higher is better" if results.greater_is_better else "lower is better"
    rows: list[tuple[str, str]] = [("status", _status(results))]
    if results.error:
        rows.append(("error", f'<span class="error">{_e(results.error)}</span>'))
    rows += [
        ("task", _e(_task_text(view))),
        ("metric", _e(f"{results.metric_name} ({direction})")),
        ("budget", _e(_budget_text(view))),
        ("wall time", _e(f"{_seconds(results.total_s)} total, {_seconds(results.search_s)} search")),
        ("started / finished", _e(f"{results.started} / {results.finished or '-'}")),
        ("trials", _e(_trials(results))),
    ]
    if incumbent is not None:
        rows += [
            ("best score (validation)", _e(_num(incumbent.validation_score))),
            ("best cost (search)", _e(_num(best_search_cost(incumbent)))),
            (
                "held-out test score",
                _e(_num(incumbent.test_score)) if incumbent.test_score is not None else "none measured",
            ),
        ]
        if incumbent.selection:
            rows.append(("kept", _e(kept_text(incumbent.cost, incumbent.selection))))
        threshold = incumbent.decision_threshold
        if threshold:
            rows.append(
                (
                    "decision",
                    _e(
                        f"`{threshold.get('positive')}` from {threshold.get('value', 0.5):.4g} on "
                        f"(best {str(threshold.get('serves', '')).replace('_', ' ')} in validation)"
                    ),
                )
            )
        if incumbent.model_rows:
            model_rows = incumbent.model_rows
            rows.append(
                (
                    "saved model",
                    _e(f"fitted on {model_rows.get('rows', 0):,} {model_rows.get('fitted_on', 'rows')}"),
                )
            )
    else:
        rows.append(("best score", "none (no trial finished)"))
    rows += [
        ("tool / seed", _e(f"{results.tool} / {results.seed}")),
        ("run directory", f"<code>{_e(view.run_dir)}</code>"),
        ("config sha256", f'<span class="mono">{_e(results.config_sha256)}</span>'),
    ]
    out = ['<table class="summary"><tbody>']
    out += [f"<tr><th>{_e(name)}</th><td>{value}</td></tr>" for name, value in rows]
    out.append("</tbody></table>")
    return out


def _value_html(value: Any) -> str:
    if isinstance(value, list):
        return "<br>".join(_e(_plain(v)) for v in value) if value else "[]"
    return _e(_plain(value))


def _plain(value: Any) -> str:
    import json

    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value, ensure_ascii=False)


def _plots(view: RunView, trials: list[TrialRecord], families: Families) -> list[str]:
    results = view.results
    out = ['<div class="plots">']
    if trials:
        uri = figure_data_uri(trajectory_figure([(view.label, results, trials)], title="best so far"))
        out += [
            '<figure class="plot trajectory">',
            f'<img src="{uri}" alt="best-so-far {_e(results.metric_name)} over wall time">',
            f"<figcaption>Best {_e(results.metric_name)} so far over the search's wall time, one dot per "
            "finished trial.</figcaption>",
            "</figure>",
        ]
    else:
        out.append('<p class="note">No trial finished: no trajectory to plot.</p>')
    if families.families:
        uri = figure_data_uri(
            family_figure(families.families, results.metric_name, results.greater_is_better)
        )
        caption = f"Every successful trial's {_e(results.metric_name)} by model family, from <code>{_e(families.source)}</code>."
        if families.note:
            caption += f" {_e(families.note)}."
        out += [
            '<figure class="plot families">',
            f'<img src="{uri}" alt="{_e(results.metric_name)} by model family">',
            f"<figcaption>{caption}</figcaption>",
            "</figure>",
        ]
    else:
        out.append(f'<p class="note">No per-family plot: {_e(families.note or "no trials")}.</p>')
    out.append("</div>")
    return out


def _families_table(families: Families) -> list[str]:
    if not families.families:
        return []
    rows = [(_e(f.family), _e(len(f.scores)), _e(_num(f.best))) for f in families.families]
    return [
        "<h3>Best score per model family</h3>",
        *_table(
            ["family", "successful trials", "best score"], rows, css="families", numeric=[False, True, True]
        ),
    ]


def _incumbent(results: RunResults) -> list[str]:
    out = ["<h3>Incumbent configuration</h3>"]
    incumbent = results.incumbent
    if incumbent is None:
        return [*out, '<p class="note">None: no trial finished.</p>']
    if not incumbent.config:
        return [*out, '<p class="note">The run recorded no configuration.</p>']
    rows = [(f"<code>{_e(key)}</code>", _value_html(value)) for key, value in incumbent.config.items()]
    out += _table(["hyperparameter", "value"], rows, css="incumbent")
    if incumbent.estimator_seed is not None:
        out.append(
            f'<p class="note">Estimator seed of the incumbent trial: {_e(incumbent.estimator_seed)}.</p>'
        )
    return out


def _config(view: RunView) -> list[str]:
    rows, note = config_rows(view)
    out = ["<h3>Configuration: every value, its origin and why</h3>"]
    if not rows:
        return [*out, f'<p class="note">Not available: {_e(note or "the config has no values")}.</p>']
    out.append(
        '<p class="note">From the run\'s <code>config.yaml</code> (the resolved config), as <code>metaconf '
        "explain --all</code> shows it: <code>rule</code> / <code>llm</code> / <code>user</code> reasons come from "
        "the provenance <code>metaconf suggest</code> wrote; values equal to metaconf's defaults show as "
        "<code>default</code>; other values without a recorded reason show as <code>user</code> (the run "
        "writes the seed it used, so a drawn seed shows there too).</p>"
    )
    table_rows = [
        (
            f"<code>{_e(r.path)}</code>",
            _e(r.value),
            f'<span class="origin origin-{_e(r.origin)}">{_e(r.origin)}</span>',
            _e(r.reason),
        )
        for r in rows
    ]
    out.append(
        '<table class="config"><thead><tr><th>setting</th><th>value</th><th>origin</th><th>reason</th></tr></thead><tbody>'
    )
    out += [
        f'<tr><td>{path}</td><td class="value">{value}</td><td>{origin}</td><td class="reason">{reason}</td></tr>'
        for path, value, origin, reason in table_rows
    ]
    out.append("</tbody></table>")
    provenance = (view.config or {}).get("provenance")
    if isinstance(provenance, dict) and provenance.get("advisor"):
        out.append(
            f'<p class="note">Written by the {_e(provenance.get("advisor"))} advisor of metaconf '
            f"{_e(provenance.get('metaconf_version') or '?')}.</p>"
        )
    return out


def _versions(results: RunResults) -> list[str]:
    out = ["<h3>Versions</h3>"]
    if not results.versions:
        return [*out, '<p class="note">The run recorded none.</p>']
    return out + _table(
        ["package", "version"], [(_e(k), _e(v)) for k, v in results.versions.items()], css="versions"
    )


def _run_section(index: int, view: RunView, trials: list[TrialRecord], *, several: bool) -> list[str]:
    families = family_scores(view.run_dir, view.results, view.config)
    out = [f'<section class="run" id="run-{index}">']
    out.append(f"<h2>{_e(view.label)}</h2>" if several else "<h2>Summary</h2>")
    out += _summary(view)
    out += _plots(view, trials, families)
    out += _families_table(families)
    out += _incumbent(view.results)
    out += _config(view)
    out += _versions(view.results)
    out.append("</section>")
    return out
