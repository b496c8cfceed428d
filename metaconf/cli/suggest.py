"""`metaconf suggest`: budget + data + description -> a checked, commented config.

The pipeline (each step can fail with a clear message and exit 2, and nothing is written unless every step
succeeds):

1. read the budget (``20m``, ``1h30m``; a typo such as ``20 minuets`` lists the accepted forms) and refuse an
   existing output file without ``--force`` *before* spending time on the data;
2. load the data (file or bundled demo; target column checked, empty / single-class data refused) and take its
   facts (``metaconf.data.facts`` / the full profile when available);
3. read the description (a file or the text itself) with the deterministic parser;
4. measure what one evaluation costs (the probe, bounded to a few percent of the budget because it counts
   against it) or, with ``--no-probe``, estimate it from the documented cost model;
5. let the rule advisor (:mod:`metaconf.advise.rules`) pick every value with a reason;
6. render the commented YAML, lint it with every stable rule and the data, and refuse to write a config that
   lint rejects (that would be an advisor bug, and the message says so);
7. write it atomically, and print a short summary to stderr.

:mod:`metaconf.advise.suggest` is the pipeline (:func:`~metaconf.advise.suggest.make_suggestion`); this module parses
the options, asks the interactive questions, writes the file and prints the summary.
"""

from __future__ import annotations

import contextlib
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from metaconf.advise.suggest import (
    Suggestion,
    SuggestRequest,
    ask_follow_ups,
    description_text,
    make_suggestion,
    request_dataset,
    settle_task_type,
)
from metaconf.cli.common import ForceOption, cli_errors, seed_option

if TYPE_CHECKING:
    pass

class ToolChoice(str, Enum):
    smac = "smac"
    auto_sklearn = "auto-sklearn"


class TaskChoice(str, Enum):
    classification = "classification"
    regression = "regression"


class AdvisorChoice(str, Enum):
    rules = "rules"
    llm = "llm"
    auto = "auto"


class BackendChoice(str, Enum):
    guidance = "guidance"
    outlines = "outlines"
    openai = "openai"


class SuggestFormat(str, Enum):
    text = "text"
    json = "json"
    md = "md"


def _print_summary(suggestion: Suggestion, output: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in suggestion.advice.summary:
        table.add_row(name, value)
    table.add_row("trial cost from", suggestion.probe_note)
    took = _took(suggestion.timings)
    if took:
        table.add_row("took", took)
    console.print(table)
    if suggestion.advisor_note:
        console.print(suggestion.advisor_note, markup=False)
    warnings = [f for f in suggestion.findings if f.severity.value == "warning"]
    for finding in warnings:
        console.print(f"[yellow]lint {finding.code}[/] {finding.pointer}: {finding.message}")
    console.print(
        f"wrote [bold]{output}[/] (lint: no errors). `metaconf explain {output}` shows every reason;"
    )
    console.print(f"run it with `metaconf run {output}`")


SUMMARY_KEYS = ("output", "lint", "summary", "advisor", "probe", "timings", "values")
"""The keys of ``--format json``'s object, always all of them, in this order."""


def _summary_document(suggestion: Suggestion, output: Path) -> dict[str, Any]:
    """``--format json``: what the text summary says, as data, and every value of the written config with its
    origin and reason (the rows of `metaconf explain --all --format json`, read back from ``output``)."""
    from dataclasses import asdict

    from metaconf.config.explain import explain_values
    from metaconf.config.loader import load_file

    findings = sorted(suggestion.findings, key=lambda f: f.sort_key())
    document = {
        "output": str(output),
        "lint": {
            "errors": sum(f.severity.value == "error" for f in findings),
            "warnings": sum(f.severity.value == "warning" for f in findings),
            "findings": [
                {
                    "code": f.code,
                    "severity": f.severity.value,
                    "message": f.message,
                    "pointer": f.pointer,
                    "line": f.span.line,
                    "col": f.span.col,
                }
                for f in findings
            ],
        },
        "summary": dict(suggestion.advice.summary),
        "advisor": suggestion.advisor_note or None,
        "probe": suggestion.probe_note,
        "timings": {name: round(seconds, 3) for name, seconds in suggestion.timings.items()},
        "values": [asdict(row) for row in explain_values(load_file(output).data, all_values=True)],
    }
    assert tuple(document) == SUMMARY_KEYS
    return document


def _summary_markdown(document: dict[str, Any], took: str) -> str:
    """``--format md``: the summary lines, lint's warnings and a table of every value with its reason."""
    from metaconf.report.export import md_cell, md_row

    output = document["output"]
    lint = document["lint"]
    lines = [f"# metaconf suggest: `{output}`", ""]
    lines += [f"- **{name}**: {md_cell(value)}" for name, value in document["summary"].items()]
    lines.append(f"- **trial cost from**: {md_cell(document['probe'])}")
    if took:
        lines.append(f"- **took**: {took}")
    if document["advisor"]:
        notes = document["advisor"].splitlines()
        lines.append("- **advisor**: " + "; ".join(md_cell(line) for line in notes))
    lines.append(f"- **lint**: {lint['errors']} error(s), {lint['warnings']} warning(s)")
    for finding in lint["findings"]:
        lines.append(f"  - `{finding['code']}` `{finding['pointer']}`: {md_cell(finding['message'])}")
    lines += [
        "",
        f"Wrote `{output}`; `metaconf explain {output}` shows every reason, `metaconf run {output}` runs it.",
        "",
        md_row(["setting", "value", "origin", "reason"]),
        "|---|---|---|---|",
    ]
    lines += [md_row([row[key] for key in ("path", "value", "origin", "reason")]) for row in document["values"]]
    return "\n".join(lines) + "\n"


TIMING_NAMES = {
    "load": "loading the data",
    "profile": "profiling",
    "read_description": "reading the description",
    "probe": "probe",
    "llm": "LLM proposal",
    "lint": "lint",
}


def _took(timings: dict[str, float]) -> str:
    """Where `suggest` spent its walltime after start-up: the total, then each step of at least 0.1 s, slowest
    first (the LLM's model load counts in the step that loaded it)."""
    total = timings.get("total")
    if total is None:
        return ""
    steps = sorted(
        ((seconds, TIMING_NAMES.get(name, name)) for name, seconds in timings.items() if name != "total"),
        key=lambda item: -item[0],
    )
    shown = ", ".join(f"{name} {seconds:.1f} s" for seconds, name in steps if seconds >= 0.1)
    return f"{total:.1f} s" + (f": {shown}" if shown else "")


def _interactive(request: SuggestRequest) -> SuggestRequest:
    """Ask for what is missing, with sensible defaults shown; everything else stays as given."""
    from metaconf.config.model import Metric
    from metaconf.config.units import UnitError, parse_duration
    from metaconf.data.load import DEMOS, _read_table

    if request.data is None and request.demo is None:
        answer = typer.prompt(
            "Data: a CSV / Parquet / ARFF file, or a bundled demo (" + ", ".join(DEMOS) + ")",
            default="breast_cancer",
        ).strip()
        if answer in DEMOS:
            request.demo = answer
        else:
            request.data = Path(answer)
    if request.data is not None and request.target is None and request.data.is_file():
        try:
            columns = [str(c) for c in _read_table(request.data).columns]
        except Exception:  # the real load below reports the problem with its own message
            columns = []
        if columns:
            typer.echo("Columns: " + ", ".join(columns[:50]), err=True)
            while True:
                answer = typer.prompt("Target column (what to predict)", default=columns[-1]).strip()
                if answer in columns:
                    request.target = answer
                    break
                typer.echo(f"`{answer}` is not a column; choose one of the columns above", err=True)
    if request.budget is None:
        while True:
            answer = typer.prompt("Budget for the whole job (e.g. 90s, 20m, 1h30m)", default="5m").strip()
            try:
                parse_duration(answer)
            except UnitError as error:
                typer.echo(str(error), err=True)
                continue
            request.budget = answer
            break
    if request.task is None:
        request = _ask_task_type(request)
    if request.metric is None:
        choices = ["auto", *(m.value for m in Metric)]
        while True:
            answer = typer.prompt(
                "Metric (auto: the advisor picks from the data and description; "
                + ", ".join(choices[1:])
                + ")",
                default="auto",
            ).strip()
            if answer in choices:
                request.metric = None if answer == "auto" else answer
                break
            typer.echo(f"`{answer}` is not a metric; choose one of: {', '.join(choices)}", err=True)
    if request.cost_matrix is None and request.metric in (None, "expected_cost"):
        request = _ask_costs(request)
    return request


def _ask_task_type(request: SuggestRequest) -> SuggestRequest:
    """Where the target alone leaves the task type open (a handful of whole numbers) and the description does
    not settle it, ask: a quality score 3-9 may be classes or a quantity."""
    dataset = request_dataset(request)
    if dataset is None or not dataset.task_type_open:
        return request
    if request.describe is not None:
        description, _ = description_text(request.describe)
        settled = settle_task_type(dataset, description, None)
        if settled.task_type_reason != dataset.task_type_reason:
            return request  # the words decided
    values = ", ".join(str(v) for v in sorted(dataset.y.dropna().unique().tolist())[:12])
    typer.echo(f"The target `{dataset.y.name}` holds the values {values}: {dataset.task_type_reason}.", err=True)
    while True:
        answer = typer.prompt(
            "Are these classes or a quantity to predict? (classification / regression)", default=dataset.task_type
        ).strip()
        if answer in ("classification", "regression"):
            request.task = answer
            return request
        typer.echo("answer `classification` or `regression`", err=True)


def _ask_costs(request: SuggestRequest) -> SuggestRequest:
    """For a binary task: ask what each kind of error costs (1 and 1 = no cost matrix)."""
    dataset = request_dataset(request)
    if dataset is None:
        return request  # the pipeline reports it
    if request.task == "regression" or dataset.task_type != "classification" or dataset.y.nunique() != 2:
        return request
    labels = sorted(str(v) for v in dataset.y.unique())
    first, second = labels
    typer.echo("Cost of errors (1 and 1: both errors cost the same, no cost matrix):", err=True)
    cost_a = _ask_number(f"  cost of predicting `{second}` when the truth is `{first}`")
    cost_b = _ask_number(f"  cost of predicting `{first}` when the truth is `{second}`")
    if cost_a != cost_b:
        request.cost_matrix = {"labels": [first, second], "costs": [[0.0, cost_a], [cost_b, 0.0]]}
        request.metric = "expected_cost"
    elif request.metric == "expected_cost":
        request.metric = None
    return request


def _ask_reading(question: str, options: Any) -> int:
    """``--interactive``: the parser and the LLM read a fact apart; the user says which reading is right."""
    typer.echo(question, err=True)
    for number, option in enumerate(options, 1):
        typer.echo(f"  {number}. {option}", err=True)
    while True:
        answer = typer.prompt("Which is right", default="1").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return int(answer) - 1
        typer.echo(f"answer a number from 1 to {len(options)}", err=True)


def _ask_number(prompt: str) -> float:
    while True:
        answer = typer.prompt(prompt, default="1").strip()
        try:
            value = float(answer)
        except ValueError:
            typer.echo(f"`{answer}` is not a number", err=True)
            continue
        if value < 0 or value != value or value == float("inf"):
            typer.echo("a cost must be a finite number >= 0", err=True)
            continue
        return value


@cli_errors
def suggest(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the config (YAML).")] = Path(
        "metaconf.yaml"
    ),
    data: Annotated[
        Path | None,
        typer.Option("--data", help="The data: a CSV, TSV, Parquet or ARFF file.", show_default=False),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="The column to predict (with --data).", show_default=False)
    ] = None,
    task: Annotated[
        TaskChoice | None,
        typer.Option(
            "--task",
            help="Fix the task type instead of deciding it from the target and the description.",
            show_default=False,
        ),
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option(
            "--budget", help="Walltime for the whole job: `90s`, `20m`, `1h30m`.", show_default=False
        ),
    ] = None,
    cores: Annotated[
        int | None, typer.Option("--cores", min=1, help="CPU cores the run may use [default: 1].", show_default=False)
    ] = None,
    memory: Annotated[
        str | None,
        typer.Option("--memory", help="Memory the run may use: `8GB`, `512MB`.", show_default=False),
    ] = None,
    describe: Annotated[
        str | None,
        typer.Option(
            "--describe",
            help="The task in words (a file, or the text itself): cost of errors, metric, positive class, ...",
            show_default=False,
        ),
    ] = None,
    tool: Annotated[
        ToolChoice | None,
        typer.Option("--tool", help="The AutoML tool that runs the search [default: smac].", show_default=False),
    ] = None,
    advisor: Annotated[
        AdvisorChoice,
        typer.Option(
            "--advisor",
            help="Who reads the description and picks the values: `auto` (the rule parser and, when a model "
            "that reads descriptions is installed, the LLM cross-check each other; the rules pick the values); "
            "`rules` (the parser alone); `llm` (the parser and the LLM read, and the LLM also proposes the "
            "settings inside the rules' limits, every value checked).",
        ),
    ] = AdvisorChoice.auto,
    demo: Annotated[
        str | None,
        typer.Option(
            "--demo",
            help="A bundled dataset instead of --data (`metaconf profile --list-demos`).",
            show_default=False,
        ),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            "--metric", help="Fix the metric instead of letting the advisor pick.", show_default=False
        ),
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help="Search only these model families, comma-separated (e.g. `random_forest,linear`).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        seed_option("Random seed of the run (default 0).", show_default=False),
    ] = None,
    no_probe: Annotated[
        bool,
        typer.Option(
            "--no-probe", help="Estimate the trial cost from the cost model instead of measuring it."
        ),
    ] = False,
    reprobe: Annotated[
        bool,
        typer.Option(
            "--reprobe",
            help="Measure the trial cost again even when the config being overwritten (-o ... --force) or the "
            "probe cache (~/.cache/metaconf/probes; METACONF_PROBE_CACHE=off disables it) holds costs measured "
            "on this machine for the same data, task, families and budget (reused otherwise, so that a rerun "
            "writes the same file).",
        ),
    ] = False,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="The LLM: a model name (`metaconf models`) or a GGUF file (default: the best installed).",
            show_default=False,
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="URL of an OpenAI-compatible server for the LLM advisor (key from $METACONF_API_KEY / $OPENAI_API_KEY).",
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        BackendChoice | None,
        typer.Option(
            "--backend",
            help="LLM decoder: guidance (default), outlines, or openai (with --server).",
            show_default=False,
        ),
    ] = None,
    show_prompt: Annotated[
        bool, typer.Option("--show-prompt", help="Print the exact prompt the LLM advisor sends (to stdout).")
    ] = False,
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", min=64, help="Most tokens the LLM may generate per answer.")
    ] = 900,
    llm_timeout: Annotated[
        float, typer.Option("--llm-timeout", min=1.0, help="Seconds one LLM answer may take.")
    ] = 180.0,
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive", "-i", help="Ask for what is missing (data, target, budget, metric, costs)."
        ),
    ] = False,
    output_format: Annotated[
        SuggestFormat,
        typer.Option(
            "--format",
            "-f",
            help="The summary: `text` (for people, on stderr), `json` (one object on stdout, for tools) or "
            "`md` (a Markdown document on stdout). The config file is the same in all three.",
            case_sensitive=False,
        ),
    ] = SuggestFormat.text,
    force: ForceOption = False,
) -> None:
    """Suggest a complete, explained config for a budget, a dataset and a description of the task."""
    from metaconf.config.units import parse_duration, parse_memory
    from metaconf.errors import OutputExistsError, UsageError
    from metaconf.io import atomic_write_text

    if output.exists() and not force:
        raise OutputExistsError(
            f"`{output}` already exists", "pass --force to overwrite it, or choose another -o path"
        )
    if output.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError(f"`{output}` does not end in .yaml or .yml", "name the config e.g. `config.yaml`")
    # Fail on a bad budget or memory before any work (and before any prompt).
    if budget is not None:
        parse_duration(budget)
    if memory is not None:
        parse_memory(memory)
    request = SuggestRequest(
        output=output,
        budget=budget,
        data=data,
        demo=demo,
        target=target,
        task=task.value if task is not None else None,
        cores=cores,
        memory=memory,
        describe=describe,
        tool=tool.value if tool is not None else None,
        seed=seed,
        probe=not no_probe,
        reprobe=reprobe,
        metric=metric,
        models=[m.strip() for m in models.split(",") if m.strip()] if models else None,
        advisor=advisor.value,
    )
    # json / md: stdout holds the summary document and nothing else (the prompt, questions, notes: stderr)
    machine = output_format != SuggestFormat.text
    if show_prompt and advisor != AdvisorChoice.llm:
        raise UsageError(
            "--show-prompt prints the prompt of the LLM that proposes settings", "add --advisor llm"
        )
    if advisor != AdvisorChoice.rules:
        from metaconf.advise.llm import LLMOptions

        request.llm = LLMOptions(
            backend=backend.value if backend else None,
            model=model,
            server=server,
            max_tokens=max_tokens,
            timeout_s=llm_timeout,
            seed=seed or 0,
            show_prompt=(lambda text: typer.echo(text, err=machine)) if show_prompt else None,
        )
    elif model or server or backend:
        raise UsageError(
            "--model, --server and --backend choose the LLM, and --advisor rules uses none",
            "drop --advisor rules (the default `auto` uses the LLM when one is installed), or add --advisor llm",
        )
    # json / md: whatever the steps print (the questions of --interactive, --show-prompt) goes to stderr
    with contextlib.redirect_stdout(sys.stderr) if machine else contextlib.nullcontext():
        if interactive and request.advisor == "llm":
            request = ask_follow_ups(
                request,
                ask=lambda question: typer.prompt(question, default="", show_default=False),
                say=lambda message: typer.echo(message, err=True),
            )
        if interactive:
            request = _interactive(request)
            request.ask_reading = _ask_reading
        if not interactive:
            from metaconf.cli.common import working

            request.status = working
        suggestion = make_suggestion(request)
        atomic_write_text(output, suggestion.text, force=force)
    if not machine:
        _print_summary(suggestion, output)
        return
    document = _summary_document(suggestion, output)
    if output_format == SuggestFormat.json:
        import json

        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        typer.echo(_summary_markdown(document, _took(suggestion.timings)), nl=False)
    if sys.stderr.isatty():
        typer.echo(
            f"wrote {output} (lint: no errors); `metaconf explain {output}` shows every reason", err=True
        )
