"""The LLM advisor: a language model reads the user's words, the rule advisor does the budget arithmetic.

The flow of :func:`refine` (docs/llm.md has the long version):

1. the rule advisor's :class:`~metaconf.advise.rules.Advice` (its envelope and its config) narrows the JSON
   Schema the LLM decodes against (:mod:`.schema`);
2. the prompt (:mod:`.prompt`, templates in ``templates/prompts/``) gives the model the data profile,
   the budget, the user's description, the allowed settings, the rule proposal and a worked example;
3. a backend (:mod:`.backends`: guidance or outlines over llama.cpp, or an OpenAI-compatible server) decodes
   one answer, greedy and seeded;
4. the answer is merged into the rule config, checked with the meta-space and lint, repaired once, and every
   value that still fails falls back to the rule value (:mod:`.repair`);
5. provenance records each value's origin (llm / llm-repaired / rule / user), the model's sha256, the prompt
   template hash, the backend, library versions and decoding parameters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaconf.advise.envelope import AdvisorInputs
from metaconf.advise.llm.errors import LLMError, LLMTimeoutError, LLMUnavailableError
from metaconf.advise.rules import Advice

__all__ = ["LLMError", "LLMOptions", "LLMResult", "LLMTimeoutError", "LLMUnavailableError", "refine"]


@dataclass
class LLMOptions:
    """How to run the LLM advisor (the ``--model``, ``--server``, ``--backend`` ... options of `suggest`)."""

    backend: str | None = None
    """``guidance`` (default for a GGUF file), ``outlines``, or ``openai`` (the only one for a server)."""
    model: Path | None = None
    server: str | None = None
    max_tokens: int = 900
    timeout_s: float = 180.0
    seed: int = 0
    n_ctx: int = 4096
    show_prompt: Callable[[str], None] | None = None
    """Called with the exact prompt text before decoding (``--show-prompt``)."""
    trace: list[dict[str, Any]] | None = None
    """When a list: one entry per generation is appended (rendered prompt, schema, answer, seconds), for
    benchmarks/llm_advisor.py."""


@dataclass
class LLMResult:
    advice: Advice
    notes: list[str]
    counts: dict[str, int]
    answers: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    label: str = ""


def refine(
    advice: Advice,
    inputs: AdvisorInputs,
    description: str | None,
    options: LLMOptions,
    lint: Callable[[str], list[Any]],
) -> LLMResult:
    """The LLM's version of ``advice``: lint-clean, every value with its origin. Raises :class:`LLMError`."""
    from metaconf.advise.llm.backends import DecodingParams, package_version
    from metaconf.advise.llm.factory import make_backend
    from metaconf.advise.llm.models import resolve_model
    from metaconf.advise.llm.prompt import build_prompt, repair_prompt, template_hash
    from metaconf.advise.llm.repair import PRIMARY_PATH, check_and_repair
    from metaconf.advise.llm.schema import Decision, decision_space
    from metaconf.config.model import Origin, ValueProvenance

    timings: dict[str, float] = {}
    model = resolve_model(options.model, options.server)
    backend_name = options.backend or ("openai" if model.source == "server" else "guidance")
    backend = make_backend(backend_name, model, n_ctx=options.n_ctx)
    params = DecodingParams(max_tokens=options.max_tokens, seed=options.seed, timeout_s=options.timeout_s)
    space = decision_space(advice, inputs)
    budget = backend.prompt_budget(params)
    prompt = build_prompt(
        space,
        advice,
        inputs,
        description,
        count_tokens=budget[0] if budget else None,
        max_prompt_tokens=budget[1] if budget else None,
    )
    notes = list(prompt.notes)
    if options.show_prompt is not None:
        options.show_prompt(backend.render(prompt))
    answers: list[str] = []

    def decode(p: Any) -> str:
        t0 = time.perf_counter()
        text = backend.generate(p, space.schema, params)
        seconds = time.perf_counter() - t0
        timings[f"generate_{len(answers) + 1}"] = seconds
        if options.trace is not None:
            options.trace.append(
                {"prompt": backend.render(p), "schema": space.schema, "answer": text, "seconds": seconds}
            )
        answers.append(text)
        return text

    def parse(text: str) -> dict[str, Decision]:
        try:
            decisions, problems = space.parse(text)
        except ValueError as error:
            shown = text[:200] + ("..." if len(text) > 200 else "")
            raise LLMError(
                f"the model's answer is not a valid JSON object ({error}): {shown!r}",
                f"the answer may have been cut off at max_tokens={params.max_tokens} (raise --max-tokens), or the "
                "server ignores the JSON-schema response format",
            ) from None
        notes.extend(f"schema: {p}; the rule value is used" for p in problems)
        return decisions

    first_text = decode(prompt)
    first = parse(first_text)

    def ask_repair(findings: list[str]) -> dict[str, Decision] | None:
        # A failed repair (timeout, a repair prompt past the context window, an unusable answer) is not fatal:
        # the values lint rejects fall back to the rules, as after a repair that did not fix them.
        try:
            return parse(decode(repair_prompt(prompt, first_text, findings)))
        except LLMError as error:
            notes.append(f"the repair round failed ({error.message}); rejected values fall back to the rules")
            return None

    identity = backend.identity()
    label = f"LLM ({identity.get('name') or model.name})"
    t0 = time.perf_counter()
    outcome = check_and_repair(advice, inputs, space, first, lint, ask_repair, model_label=label)
    timings["check_and_repair"] = time.perf_counter() - t0
    notes.extend(n for n in outcome.notes if n not in notes)

    # --- provenance
    config = outcome.config
    rule_prov = advice.config.provenance
    prov = config.provenance
    assert prov is not None and rule_prov is not None
    values = dict(prov.values)
    for path, entry in list(values.items()):
        original = rule_prov.values.get(path)
        if entry.origin == Origin.user and (original is None or original.origin != Origin.user):
            # a value the LLM decided was handed to the rules as a "user" choice: not the user's
            if original is not None:
                values[path] = original
            else:
                values.pop(path)
    derived_reasons = {
        "initial_design.kind": "follows the optimizer: random points for multi-fidelity (SMAC's facade), Sobol for "
        "BO, the default configuration for random search",
        "fidelity.min": "the standard range for this fidelity type (rule advisor's floors for subsampling)",
        "fidelity.max": "full fidelity",
        "fidelity.eta": "eta = 3, the Hyperband / BOHB default",
        "stopping.trial_walltime": "R11 scaled to the chosen resampling: the slowest family's evaluation costs "
        "that much more or less",
    }
    for path, reason in derived_reasons.items():
        rule_value = _get(advice.config, path)
        new_value = _get(config, path)
        if new_value != rule_value and new_value is not None:
            values[path] = ValueProvenance(origin=Origin.rule, reason=reason)
    if config.fidelity.type.value == "none":
        for path in ("fidelity.type", "fidelity.min", "fidelity.max", "fidelity.eta"):
            values.pop(path, None)
    if config.stopping.plateau_patience is None:
        values.pop("stopping.plateau_patience", None)
    if config.initial_design.size is None:
        values.pop("initial_design.size", None)
    for name, (origin, reason) in outcome.origins.items():
        path = PRIMARY_PATH[name]
        if origin == Origin.rule:
            previous = values.get(path)
            if previous is None:
                continue
            values[path] = ValueProvenance(origin=Origin.rule, reason=f"{previous.reason} ({reason})")
        else:
            values[path] = ValueProvenance(origin=origin, reason=reason)
            if name == "resampling" and config.resampling.strategy.value == "cv":
                values["resampling.folds"] = ValueProvenance(
                    origin=origin, reason="with the strategy: " + reason
                )
            if name == "resampling" and config.resampling.strategy.value != "cv":
                values.pop("resampling.folds", None)
    schema_problems = sum(1 for n in notes if n.startswith("schema: "))
    kept = sum(1 for o, _ in outcome.origins.values() if o == Origin.llm)
    repaired = sum(1 for o, _ in outcome.origins.values() if o == Origin.llm_repaired)
    fell_back = sum(1 for o, _ in outcome.origins.values() if o == Origin.rule) + schema_problems
    counts = {
        "kept": kept,
        "repaired": repaired,
        "fell_back": fell_back,
        "not_used": max(0, len(space.decisions) - kept - repaired - fell_back),
    }
    from metaconf.advise.rules import _field_order

    model_record = {
        **identity,
        "prompt_template_sha256": template_hash(),
        "schema_sha256": _sha(space.schema_json()),
        "decoding": params.describe() + f", timeout={params.timeout_s:g}s",
        "answers": str(len(answers)),
        "values": f"{kept} kept, {repaired} repaired, {fell_back} fell back to the rules, "
        f"{counts['not_used']} not used (no effect or left empty)",
    }
    versions = dict(prov.versions)
    for package in ("llama-cpp-python", "guidance", "llguidance", "outlines"):
        v = package_version(package)
        if v and (package != "outlines" or backend_name == "outlines"):
            versions[package] = v
    inputs_record = dict(prov.inputs)
    if notes:
        inputs_record["llm_notes"] = list(notes)
    new_prov = prov.model_copy(
        update={
            "advisor": "llm",
            "values": dict(sorted(values.items(), key=lambda item: _field_order(item[0]))),
            "model": {k: str(v) for k, v in model_record.items() if v != ""},
            "versions": versions,
            "inputs": inputs_record,
        }
    )
    config = config.model_copy(update={"provenance": new_prov})
    from metaconf.advise.rules import expected_trials_of

    expected = expected_trials_of(advice.envelope, config)[0] if config.stopping.walltime else 0
    expected = expected or advice.expected_trials
    summary = _summary(config, list(advice.summary), expected)
    summary.insert(
        0,
        (
            "advisor",
            f"llm: {identity.get('name') or model.name} via {backend_name}; {model_record['values']}",
        ),
    )
    new_advice = Advice(
        config=config, envelope=advice.envelope, expected_trials=expected, summary=summary
    )
    return LLMResult(
        advice=new_advice, notes=notes, counts=counts, answers=answers, timings=timings, label=label
    )


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _get(config: Any, path: str) -> Any:
    node = config
    for part in path.split("."):
        node = getattr(node, part, None)
        if node is None:
            return None
    return getattr(node, "value", node)


def _summary(config: Any, rule_summary: list[tuple[str, str]], expected: int) -> list[tuple[str, str]]:
    """The rule summary with the values the LLM changed; ``expected`` is R9's estimate for the final config."""
    from metaconf.config.units import format_duration

    out = []
    for name, value in rule_summary:
        if name == "metric":
            value = config.effective_metric().value
        elif name == "models":
            value = ", ".join(m.value for m in config.search_space.models or [])
        elif name == "optimizer":
            value = config.optimizer.kind.value + (
                f" ({config.fidelity.type.value} fidelity)" if config.fidelity.type.value != "none" else ""
            )
        elif name == "resampling":
            value = (
                f"{config.resampling.folds}-fold cv"
                if config.resampling.strategy.value == "cv"
                else "holdout"
            )
        elif name == "per-trial limit" and config.stopping.trial_walltime is not None:
            value = format_duration(config.stopping.trial_walltime)
        elif name == "expected trials":
            value = f"~{expected}" + (
                f" (cap {config.stopping.n_trials})" if config.stopping.n_trials is not None else ""
            )
        out.append((name, value))
    return out


def advise_with_llm(
    advice: Advice,
    inputs: AdvisorInputs,
    description: str | None,
    advisor: str,
    options: LLMOptions,
    lint: Callable[[str], list[Any]],
) -> tuple[Advice, str]:
    """``--advisor llm``: the LLM's advice or an :class:`LLMError`. ``--advisor auto``: the LLM's advice when a
    model is available and works, else the rule advice; the note says which ran and why."""
    try:
        result = refine(advice, inputs, description, options, lint)
    except LLMUnavailableError as error:
        if advisor != "auto":
            raise
        return advice, f"advisor: rules (auto: {error.message})"
    except LLMError as error:
        if advisor != "auto":
            raise
        return advice, f"advisor: rules (auto: the LLM advisor failed: {error.message})"
    note = (
        f"advisor: {result.label} ({result.counts['kept']} values kept, {result.counts['repaired']} repaired, "
        f"{result.counts['fell_back']} fell back to the rules, {result.counts['not_used']} not used)"
    )
    if result.notes:
        note += "\n  " + "\n  ".join(result.notes)
    return result.advice, note
