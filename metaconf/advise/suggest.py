"""The suggest pipeline as a library: budget + data + description -> a checked, commented config (nothing is
written; `metaconf suggest` writes it and prints the summary).

Each step can fail with a clear message (:class:`metaconf.errors.UsageError`, exit 2 in the CLI):

1. read the budget (``20m``, ``1h30m``; a typo such as ``20 minuets`` lists the accepted forms);
2. load the data (file or bundled demo; target column checked, empty / single-class data refused) and take its
   facts (``metaconf.data.facts`` / the full profile when available);
3. read the description (a file or the text itself) with the deterministic parser, and the LLM when asked;
4. measure what one evaluation costs (the probe, bounded to a few percent of the budget because it counts
   against it) or, with ``probe=False``, estimate it from the documented cost model;
5. let the rule advisor (:mod:`metaconf.advise.rules`) pick every value with a reason;
6. render the commented YAML, lint it with every stable rule and the data, and refuse a config that lint
   rejects (that would be an advisor bug, and the message says so).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metaconf.advise.envelope import CostModel
    from metaconf.advise.rules import Advice
    from metaconf.config.model import Config
    from metaconf.data.load import Dataset
    from metaconf.lint.finding import Finding

PROBE_SHARE = 0.03
"""The probe may use at most this share of the budget (it counts against it) ..."""
PROBE_MAX_S = 30.0
"""... and never more than this."""
PROBE_MIN_S = 1.0


@dataclass
class SuggestRequest:
    """Everything `metaconf suggest` is told."""

    output: Path
    budget: str | None = None
    data: Path | None = None
    demo: str | None = None
    target: str | None = None
    task: str | None = None
    """``classification`` / ``regression`` when the user fixed it; None: decided from the data and the words."""
    cores: int | None = None
    """None: not given (1 core, recorded as a default)."""
    memory: str | None = None
    describe: str | None = None
    tool: str | None = None
    """None: not given (smac, recorded as a default)."""
    seed: int | None = None
    probe: bool = True
    reprobe: bool = False
    """Measure again even when the config being overwritten holds costs measured on this machine for the same
    data, task, families and budget (those are reused otherwise: the rerun writes the same file)."""
    metric: str | None = None
    cost_matrix: Any = None
    models: list[str] | None = None
    test_size: float = 0.2
    advisor: str = "rules"
    """``rules`` (the parser reads the description), ``auto`` (the parser and, when a model that reads
    descriptions is installed, the LLM), ``llm`` (the parser and the LLM, which also proposes the settings)."""
    llm: Any = None
    """:class:`metaconf.advise.llm.LLMOptions` for ``llm`` / ``auto`` (None: defaults)."""
    ask_reading: Any = None
    """``--interactive``: ``ask(question, options) -> index`` for a fact the parser and the LLM read apart."""
    status: Callable[[str], AbstractContextManager[Any]] | None = None
    """Shows what a slow step is doing while it runs (the CLI: a spinner on a terminal); None: nothing."""


@dataclass
class Suggestion:
    text: str
    """The config file: YAML with every value's reason in a comment."""
    advice: Advice
    findings: list[Finding]
    probe_note: str
    timings: dict[str, float] = field(default_factory=dict)
    advisor_note: str = ""

    @property
    def config(self) -> Config:
        """The config :attr:`text` holds, validated (what ``load_config`` returns once it is written)."""
        from metaconf.config.loader import load_text
        from metaconf.config.model import Config

        return Config.model_validate(load_text(self.text).data)


def description_text(value: str | None) -> tuple[str | None, str | None]:
    """(text, source) of ``--describe``: a file when such a file exists, else the text itself."""
    from metaconf.errors import UsageError

    if value is None:
        return None, None
    candidate = Path(value).expanduser()
    looks_like_path = (
        "\n" not in value and len(value) < 4096 and " " not in value.strip() and candidate.suffix != ""
    )
    try:
        is_file = candidate.is_file()
    except OSError:
        is_file = False
    if is_file:
        try:
            return candidate.read_text(encoding="utf-8", errors="replace"), str(candidate)
        except OSError as error:
            raise UsageError(
                f"cannot read the description file `{candidate}`: {error.strerror or error}"
            ) from None
    if looks_like_path:
        raise UsageError(
            f"the description file `{value}` does not exist",
            "give an existing text file, or the description itself in quotes",
        )
    return value, "text"


def _data_path_for(config_path: Path, data: Path) -> str:
    """``data`` as the config should name it: relative to the config file's directory when possible."""
    data_abs = data.expanduser().resolve()
    base = config_path.expanduser().resolve().parent
    try:
        return os.path.relpath(data_abs, base)
    except ValueError:  # another drive on Windows
        return str(data_abs)


MIN_SEARCH_ROWS = 3
"""Rows the search needs after the test split: a validation split scores one row and fits on two (the splits
lint MC906 replays)."""


def enough_rows(rows: int, test_size: float, source: str) -> None:
    """Refuse data too small to validate a model on, before anything is measured or written."""
    import math

    held_out = math.ceil(test_size * rows) if test_size > 0 else 0
    if rows - held_out >= MIN_SEARCH_ROWS:
        return
    need = next(n for n in range(MIN_SEARCH_ROWS, 1_000_000) if n - math.ceil(test_size * n) >= MIN_SEARCH_ROWS)
    from metaconf.errors import DataError

    raise DataError(
        f"`{source}` has {rows} row{'s' if rows != 1 else ''}: too few to fit a model and validate it",
        f"metaconf holds out a test fraction of {test_size:g} and validates every trial on rows it did not fit "
        f"on: that needs at least {need} rows. Add rows (tens at the very least, for a score that means "
        "anything)",
    )


def _fingerprint(dataset: Dataset, data: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": dataset.name, "source": "demo" if data is None else "file"}
    if data is not None:
        try:
            size = data.stat().st_size
            out["bytes"] = size
            if size <= 200 * 1024 * 1024:
                out["sha256"] = hashlib.sha256(data.read_bytes()).hexdigest()[:16]
        except OSError:
            pass
    return out


def _costs(
    dataset: Dataset,
    profile: Any,
    task_type: str,
    families: list[Any],
    *,
    probe: bool,
    walltime_s: float,
    seed: int,
    rewrites: Path | None = None,
    fingerprint: dict[str, Any] | None = None,
    reprobe: bool = False,
) -> tuple[CostModel, str, dict[str, Any]]:
    """The cost of one fit per family: measured by the probe (bounded) or from the documented cost model.

    The probe's measurements enter the advice on a grid (:mod:`metaconf.advise.repeatable`), kept at the values
    recorded in ``rewrites`` (the config this run overwrites) when that config was written for the same data
    (``fingerprint``) and the new measurement is close to them: reruns write the same file. When that config was
    measured on this machine for the same task, families and probe limit, the probe does not run again and its
    costs are reused (:func:`metaconf.advise.repeatable.reused_costs`) unless ``reprobe``. Without such a
    config, the probe cache (:func:`metaconf.advise.repeatable.cached_probe`) stands in for it; every probe's
    costs are cached. The terminal note
    says what the probe measured; ``metaconf profile --probe`` shows every timing.
    """
    from metaconf.advise.inputs import cost_model_from_probe, probe_costs

    names = [f.value for f in families]
    if probe:
        from metaconf.advise.repeatable import (
            cached_probe,
            machine_identity,
            previous_probe,
            probe_cache_dir,
            probe_cache_key,
            probe_record,
            remember_probe,
            repeatable_costs,
            reused_costs,
        )
        limit = min(PROBE_MAX_S, max(PROBE_MIN_S, PROBE_SHARE * walltime_s))
        machine = machine_identity()
        rows = len(dataset.y)
        key = probe_cache_key(fingerprint or {}, rows=rows, task_type=task_type, families=names, limit_s=limit)
        recorded = previous_probe(rewrites, fingerprint or {}, rows)
        # the config being overwritten first, then the cache (which may hold this budget when the config was
        # measured for another one)
        sources = [(recorded, f"recorded in {rewrites}"), (cached_probe(key), f"cached in {probe_cache_dir()}")]
        for source, where in [] if reprobe else sources:
            reused = (
                reused_costs(source, rows=rows, families=names, limit_s=limit, task_type=task_type)
                if source
                else None
            )
            if reused is not None:
                note = (
                    f"the costs {where} (measured on this machine for the same data, task, families and budget) "
                    "are reused, so a rerun writes the same file; --reprobe measures again"
                )
                details = {
                    "method": reused.source,
                    **probe_record(reused, machine=machine, limit_s=limit, task_type=task_type),
                }
                if source is recorded:
                    remember_probe(key, details, fingerprint=fingerprint or {}, rows=rows)
                return reused, note, details
        # measure; the hysteresis holds the new values at the recorded (else cached) ones where close
        previous, where = next(((source, where) for source, where in sources if source), ({}, ""))
        result, measured = probe_costs(dataset, profile, names, task_type=task_type, limit_s=limit, seed=seed)
        timed = set(result.measured)
        model = repeatable_costs(measured, timed, previous)
        note = (
            f"probe: {result.walltime_s:.1f} s ({measured.probe_seconds:.1f} s of CPU), fits limited to {limit:.3g} "
            f"s of CPU ({PROBE_SHARE:.0%} of the budget); this machine runs {measured.machine_factor:.2f}x the cost "
            "model's reference times; the advice uses the costs on a ~21 % grid"
            + (f", kept at those {where} where they are close" if previous else "")
        )
        details = {
            "method": model.source,
            **probe_record(model, machine=machine, limit_s=limit, task_type=task_type),
        }
        remember_probe(key, details, fingerprint=fingerprint or {}, rows=rows)
    else:
        from metaconf.profile.probe import estimate_trial_cost

        result = estimate_trial_cost(profile, names, 1)
        model = cost_model_from_probe(result, n_rows=len(dataset.y), measured=False)
        note = "--no-probe: trial cost from the documented cost model"
        details = {
            "method": model.source,
            "machine_factor": round(model.machine_factor, 2),
            "seconds_per_fit": {k: round(v, 4) for k, v in sorted(model.fit_seconds.items())},
        }
    return model, note, details


def settle_task_type(dataset: Any, description: str | None, given: str | None) -> Any:
    """The dataset with its task type decided from the target, the description's words and ``--task``
    (:mod:`metaconf.data.task_type`): a count target is regression, a description's "number of ..." settles a
    handful of whole-number values, and the reason names what decided. A demo's task is part of its
    definition: only ``--task`` changes it."""
    from dataclasses import replace

    from metaconf.data.load import labels_or_as_is
    from metaconf.data.task_type import decide

    words = None
    if description is not None and not dataset.source.startswith("demo:"):
        from metaconf.advise.describe import parse_description

        stated = getattr(parse_description(description), "task_type", None)
        if stated is not None:
            words = (str(stated.value), stated.evidence.text)
    if given is None and words is None:
        return dataset
    decision = decide(dataset.y, words=words, given=given)
    y = labels_or_as_is(dataset.y) if decision.task_type == "classification" else dataset.y
    return replace(dataset, y=y, task_type=decision.task_type, task_type_reason=decision.reason, task_type_open=False)


def _profile_record(profile: Any) -> dict[str, Any]:
    """The profile figures worth keeping next to the config: column kinds, duplicates, memory, sampling."""
    kinds: dict[str, int] = {}
    for column in profile.columns:
        kind = getattr(column.kind, "value", column.kind)
        kinds[str(kind)] = kinds.get(str(kind), 0) + 1
    record: dict[str, Any] = {
        "column_kinds": dict(sorted(kinds.items())),
        "duplicate_rows": int(profile.duplicate_rows),
        "memory_mb": round(float(profile.memory_mb), 2),
        "rows_profiled": int(profile.rows_profiled),
    }
    if profile.notes:
        record["notes"] = list(profile.notes)
    return record


def _lint_in_place(text: str, output: Path) -> list[Finding]:
    """Lint ``text`` as if it were already at ``output`` (relative data paths resolve from there).

    A relative path such as ``../data/x.csv`` only resolves when the config's directory exists, so a missing
    output directory is created for the check and removed again (the write creates it for good).
    """
    from metaconf.lint.engine import LintOptions, lint_text

    created: list[Path] = []
    parent = output.expanduser().absolute().parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    for directory in reversed(created):
        directory.mkdir()
    try:
        return lint_text(text, str(output), LintOptions(data=True))
    finally:
        for directory in created:
            try:
                directory.rmdir()
            except OSError:
                break


def make_suggestion(request: SuggestRequest) -> Suggestion:
    """Run the whole suggest pipeline and return the rendered, lint-checked config (nothing is written)."""
    from metaconf.advise.envelope import AdvisorInputs, DataSummary, DescriptionHints, UserChoices
    from metaconf.advise.inputs import description_hints, space_shape
    from metaconf.advise.rules import advise
    from metaconf.config.model import Config, CostMatrix, Data, Metric, ModelFamily, Task, TaskType, Tool
    from metaconf.config.units import parse_duration, parse_memory
    from metaconf.config.writer import render_config
    from metaconf.data.facts import DataFacts
    from metaconf.data.load import load_dataset
    from metaconf.errors import MetaconfError, UsageError
    from metaconf.lint.engine import has_errors
    from metaconf.lint.finding import Severity

    timings: dict[str, float] = {}
    started = time.perf_counter()
    status = request.status or (lambda message: contextlib.nullcontext())
    if (request.data is None) == (request.demo is None):
        raise UsageError(
            "give the data with --data FILE or a bundled dataset with --demo NAME (one of the two)",
            "e.g. `metaconf suggest --demo breast_cancer --budget 2m -o demo.yaml`",
        )
    description, description_source = description_text(request.describe)
    memory_mb = parse_memory(request.memory) if request.memory is not None else None
    if request.cores is not None and request.cores < 1:
        raise UsageError(f"--cores must be at least 1; got {request.cores}")
    try:
        tool = Tool(request.tool or Tool.smac.value)
    except ValueError:
        raise UsageError(f"unknown tool `{request.tool}`", "use `smac` or `auto-sklearn`") from None
    metric = None
    if request.metric is not None:
        try:
            metric = Metric(request.metric)
        except ValueError:
            raise UsageError(
                f"unknown metric `{request.metric}`", "use one of: " + ", ".join(m.value for m in Metric)
            ) from None

    # 2. data
    data_path = request.data
    if data_path is not None and request.target is None:
        from metaconf.data.load import _read_table

        if not data_path.exists():
            raise UsageError(f"the data file `{data_path}` does not exist", "check the path given to --data")
        columns = [str(c) for c in _read_table(data_path).columns]
        raise UsageError(
            "--target is required with --data: name the column to predict",
            "columns: " + ", ".join(f"`{c}`" for c in columns[:50]),
        )
    if request.task is not None and request.task not in ("classification", "regression"):
        raise UsageError(f"unknown task `{request.task}`", "use `classification` or `regression`")
    base = Config(
        task=Task(target=request.target) if request.task is None else Task(target=request.target, type=TaskType(request.task)),
        data=Data(path=str(data_path.expanduser().resolve()) if data_path else None, demo=request.demo),
    )
    t0 = time.perf_counter()
    with status("loading the data"):
        dataset = settle_task_type(load_dataset(base, Path.cwd()), description, request.task)
    facts = DataFacts.of(dataset)
    enough_rows(facts.n_rows, request.test_size, dataset.source)
    timings["load"] = time.perf_counter() - t0
    from metaconf.profile.profile import profile_dataset

    t0 = time.perf_counter()
    with status("profiling the data"):
        profile = profile_dataset(dataset, seed=request.seed or 0)
    timings["profile"] = time.perf_counter() - t0
    task_type = dataset.task_type
    classes = sorted(facts.class_counts) if task_type == "classification" else None

    # 3. description: the parser, cross-checked with the LLM when one that reads descriptions is available
    hints = DescriptionHints()
    description_record: dict[str, Any] = {}
    reading: Any = None
    t0 = time.perf_counter()
    extractor, reader_note = _description_reader(request, seed=request.seed or 0, load=description is not None)
    if description is not None:
        from metaconf.advise.reading import read_description

        try:
            with status("reading the description" if extractor is None else "the LLM reads the description"):
                reading = read_description(
                    description,
                    classes=classes,
                    columns=list(facts.columns),
                    task=task_type,
                    target=str(dataset.y.name) if dataset.y.name is not None else request.target,
                    extractor=extractor,
                    ask=request.ask_reading,
                )
        except MetaconfError as error:
            if request.advisor != "auto" or extractor is None:
                raise
            reader_note = (
                f"advisor: rules (auto: the LLM failed: {error.message}; the description was read by the rule "
                "parser only)"
            )
            reading = read_description(description, classes=classes, columns=list(facts.columns), task=task_type)
        timings["read_description"] = time.perf_counter() - t0
        parsed = reading.facts
        hints = description_hints(parsed)
        description_record = {
            "source": description_source if description_source != "text" else "text",
            "sha256": hashlib.sha256(description.encode("utf-8")).hexdigest()[:16],
            "found": sorted(
                name
                for name, present in (
                    ("cost_matrix", hints.cost_matrix is not None),
                    ("metric", hints.metric is not None),
                    ("positive_class", hints.positive_label is not None),
                    ("interpretability", hints.interpretable),
                    ("time_limit", hints.time_limit_s is not None),
                    ("imbalance", hints.imbalance),
                )
                if present
            ),
        }
        if reading.llm is not None:
            description_record["read_by"] = {name: source.as_record() for name, source in sorted(reading.sources.items())}
            if reading.notes:
                description_record["reading_notes"] = list(reading.notes)

    # 1. budget (from --budget, else from the description)
    walltime_evidence: str | None = None
    if request.budget is not None:
        walltime_s = parse_duration(request.budget)
    elif hints.time_limit_s is not None:
        walltime_s = float(hints.time_limit_s)
        walltime_evidence = hints.time_limit_evidence or "a time limit"
    else:
        raise UsageError(
            "--budget is required: how long may the whole job take?", "e.g. --budget 20m or --budget 1h30m"
        )
    if walltime_s <= 0:
        raise UsageError(f"--budget must be positive; got {request.budget!r}")

    if metric == Metric.expected_cost and request.cost_matrix is None and hints.cost_matrix is None:
        raise UsageError(
            "--metric expected_cost needs the cost of each kind of error, and none was given",
            "state the costs in --describe (e.g. `missing a positive costs 5 times a false alarm`, or a table of "
            "true x predicted costs), answer them with --interactive, or pick another --metric",
        )

    # 4. trial cost
    from metaconf.space.builtin import families_for

    families = families_for(task_type)
    if request.models:
        try:
            models = [ModelFamily(m) for m in request.models]
        except ValueError:
            unknown = [m for m in request.models if m not in {f.value for f in ModelFamily}]
            raise UsageError(
                f"unknown model famil{'y' if len(unknown) == 1 else 'ies'}: "
                + ", ".join(f"`{m}`" for m in unknown),
                "use: " + ", ".join(f.value for f in families),
            ) from None
        outside = [m for m in models if m not in families]
        if outside:
            raise UsageError(
                "not a family for " + task_type + ": " + ", ".join(f"`{m.value}`" for m in outside),
                "use: " + ", ".join(f.value for f in families),
            )
    else:
        models = None
    t0 = time.perf_counter()
    seed = request.seed if request.seed is not None else 0
    fingerprint = _fingerprint(dataset, data_path)
    with status("measuring what one fit of each model family costs" if request.probe else "estimating trial costs"):
        costs, probe_note, cost_details = _costs(
            dataset,
            profile,
            task_type,
            models or families,
            probe=request.probe,
            walltime_s=walltime_s,
            seed=seed,
            rewrites=request.output,
            fingerprint=fingerprint,
            reprobe=request.reprobe,
        )
    timings["probe"] = time.perf_counter() - t0

    # 5. advise
    svm_scale = None
    if ModelFamily.svm in (models or families):
        from metaconf.targets.preprocess import scale_gamma

        svm_scale = scale_gamma(dataset.X, seed=seed)
    summary = DataSummary(
        n_rows=facts.n_rows,
        n_features=facts.n_features,
        task_type=task_type,
        task_type_reason=dataset.task_type_reason,
        class_counts=facts.class_counts,
        n_numeric=facts.n_numeric,
        n_categorical=facts.n_categorical,
        missing_ratio=facts.missing_ratio,
        memory_mb=float(profile.memory_mb),
        svm_scale=svm_scale,
    )
    user = UserChoices(
        walltime_s=walltime_s,
        cores=request.cores or 1,
        cores_given=request.cores is not None,
        memory_mb=memory_mb,
        tool=tool,
        tool_given=request.tool is not None,
        task_type_given=request.task is not None,
        seed=request.seed,
        data_path=_data_path_for(request.output, data_path) if data_path else None,
        demo=request.demo,
        target=request.target,
        metric=metric,
        cost_matrix=CostMatrix.model_validate(request.cost_matrix)
        if request.cost_matrix is not None
        else None,
        models=models,
        test_size=request.test_size,
        walltime_evidence=walltime_evidence,
    )
    inputs = AdvisorInputs(
        user=user,
        data=summary,
        costs=costs,
        description=hints,
        space_shape=space_shape(models or families, task_type),
        families=models or families,
        extra_inputs={
            "dataset": fingerprint,
            "profile": _profile_record(profile),
            "probe": cost_details,
            **({"description": description_record} if description_record else {}),
        },
    )
    if reading is not None and reading.llm is not None and extractor is not None:
        from metaconf.advise.llm.models import reading_seconds

        model = getattr(extractor.backend, "model", None)
        inputs = replace(inputs, reading_s=reading_seconds(model, len(reading.llm.answers)))
    advice = advise(inputs)
    advisor_note = reader_note
    if reading is not None and reading.llm is not None:
        from metaconf.advise.reading import annotate_provenance

        advice = annotate_provenance(advice, reading, extractor.identity() if extractor is not None else {})
        readers = reading.llm_label(extractor.identity() if extractor is not None else {})
        advisor_note = "\n".join(line for line in (advisor_note, readers) if line)
    if request.advisor == "llm":
        from metaconf.advise.llm import LLMOptions, advise_with_llm

        t0 = time.perf_counter()
        with status("the LLM proposes settings"):
            advice, decisions_note = advise_with_llm(
                advice,
                inputs,
                description,
                request.advisor,
                request.llm or LLMOptions(seed=seed),
                lambda text: _lint_in_place(text, request.output),
            )
        advisor_note = "\n".join(line for line in (advisor_note, decisions_note) if line)
        timings["llm"] = time.perf_counter() - t0

    # 6. render and lint
    text = render_config(advice.config)
    t0 = time.perf_counter()
    findings = _lint_in_place(text, request.output)
    timings["lint"] = time.perf_counter() - t0
    if has_errors(findings):
        errors = [f for f in findings if f.severity == Severity.error]
        listing = "; ".join(f"{f.code} at {f.pointer}: {f.message}" for f in errors[:5])
        raise MetaconfError(
            f"the rule advisor produced a config that `metaconf lint` rejects ({len(errors)} error(s)): {listing}",
            "this is a bug in metaconf's advisor, not in your input: please report it with this message; "
            "nothing was written",
        )
    timings["total"] = time.perf_counter() - started
    return Suggestion(
        text=text,
        advice=advice,
        findings=findings,
        probe_note=probe_note,
        timings=timings,
        advisor_note=advisor_note,
    )


def _description_reader(request: SuggestRequest, *, seed: int, load: bool) -> tuple[Any, str]:
    """The LLM that reads the description with the parser (an opened
    :class:`~metaconf.advise.llm.extract.Extractor`), or None and the line that says why not.

    ``rules``: none. ``auto``: a model that reads descriptions when one is installed (else the parser alone,
    and the line says how to install one); a model that fails to load falls back to the parser with a note.
    ``llm``: the best installed model; any problem is an error (exit 2). Without a description (``load``
    false) the model is only chosen, not loaded: a bad ``--model`` or ``--server`` is still reported."""
    if request.advisor == "rules":
        return None, ""
    options_given = request.llm is not None and (request.llm.model is not None or request.llm.server is not None)
    if not load and request.advisor == "auto" and not options_given:
        return None, ""
    from metaconf.advise.llm import LLMError, LLMOptions
    from metaconf.advise.llm.extract import Extractor
    from metaconf.advise.llm.models import select_model

    options = request.llm or LLMOptions(seed=seed)
    try:
        selection = select_model(options.model, options.server, advisor=request.advisor)
        if selection.ref is None:
            return None, selection.reason if load else ""
        if not load:
            return None, ""
        return (
            Extractor.from_ref(
                selection.ref, backend=options.backend, seed=options.seed, timeout_s=options.timeout_s
            ),
            "",
        )
    except LLMError as error:
        if request.advisor != "auto":
            raise
        return None, f"advisor: rules (auto: {error.message})"


def request_dataset(request: SuggestRequest) -> Any:
    """The data a request names (its file or demo, with its target), or None when it cannot be loaded: the
    interactive questions only peek at it; the suggestion pipeline loads it again and reports any error."""
    from metaconf.config.model import Config, Data, Task
    from metaconf.data.load import DataError, load_dataset

    try:
        return load_dataset(
            Config(
                task=Task(target=request.target),
                data=Data(path=str(request.data.resolve()) if request.data else None, demo=request.demo),
            ),
            Path.cwd(),
        )
    except DataError:
        return None


def ask_follow_ups(request: Any, ask: Any, say: Any) -> Any:
    """Ask the user the LLM's follow-up questions and fold the answers into ``request.describe``.

    ``request`` is a :class:`SuggestRequest` with data and a description; ``ask(question)``
    returns the user's answer, ``say(message)`` informs. With ``--advisor auto`` a model problem only skips the
    LLM's wording (plain questions are asked); with ``--advisor llm`` it is an error, as everywhere else.
    """
    from metaconf.advise.describe import parse_description
    from metaconf.advise.llm import LLMOptions
    from metaconf.advise.llm.errors import LLMError
    from metaconf.advise.llm.questions import (
        follow_up_questions,
        follow_up_questions_plain,
        unclear_topics,
        with_answers,
    )
    from metaconf.data.facts import DataFacts

    text, _ = description_text(request.describe)
    if text is None or (request.data is None and request.demo is None):
        return request
    dataset = request_dataset(request)
    if dataset is None:
        return request  # the pipeline reports it
    facts = DataFacts.of(dataset)
    classes = sorted(facts.class_counts) if dataset.task_type == "classification" else None
    parsed = parse_description(text, columns=list(facts.columns), classes=classes)
    topics = unclear_topics(
        parsed,
        task_type=dataset.task_type,
        n_classes=len(facts.class_counts),
        target_known=request.target is not None or request.demo is not None,
    )
    if request.metric is not None:
        topics = [t for t in topics if t != "metric"]
    if request.cost_matrix is not None:
        topics = [t for t in topics if t != "costs"]
    if not topics:
        return request
    profile = f"{facts.n_rows} rows, {facts.n_features} features, {dataset.task_type}" + (
        f", classes {dict(sorted(facts.class_counts.items()))}" if classes else ""
    )
    options = request.llm or LLMOptions()
    try:
        questions = follow_up_questions(text, profile, topics, options)
    except LLMError as error:
        if request.advisor != "auto":
            raise
        say(f"follow-up questions in plain words (the LLM could not word them: {error.message})")
        questions = follow_up_questions_plain(topics)
    say("The description leaves some points open:")
    answers = [(topic, ask(question)) for topic, question in questions]
    request.describe = with_answers(text, answers)
    return request
