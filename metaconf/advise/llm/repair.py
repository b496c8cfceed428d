"""Merge the LLM's decisions into the rule advisor's config, check the result, repair, fall back per value.

1. **Merge**: the rule advisor's config is the base. ``metric`` and ``models`` are handed back to the rule
   advisor as if the user had chosen them (so every dependent value, such as the per-trial limit for those
   families, is recomputed by the same rules); the other decisions are set directly, with the values that
   depend on them derived here (a multi-fidelity optimizer gets a fidelity range, a new resampling scales the
   per-trial limit). Warm-start configurations are checked one by one against the target search space
   (:func:`metaconf.space.configurations.normalize_warm_start`); an invalid one is dropped with a note.
2. **Check**: the rendered YAML goes through ``metaconf lint`` with the data (which includes the meta-space
   check, :func:`metaconf.space.meta.check_config`). Each error is blamed on the decision that wrote the field.
3. **Repair**: the findings go back to the LLM once; its new answer is merged and checked again. A value it
   changed and that now passes is ``llm-repaired``.
4. **Fall back**: every decision still blamed for an error takes the rule advisor's value (``origin: rule``, the
   reason says what the LLM proposed and why it was rejected), until lint is clean. The rule config itself is
   lint-clean (`metaconf suggest` refuses otherwise), so this ends, at worst, with the rule config.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from metaconf.advise.envelope import AdvisorInputs
from metaconf.advise.llm.schema import DECISION_PATHS, Decision, DecisionSpace, resampling_key
from metaconf.advise.rules import Advice, advise
from metaconf.config.model import (
    MULTI_FIDELITY_OPTIMIZERS,
    Config,
    Fidelity,
    FidelityType,
    InitialDesignKind,
    Metric,
    ModelFamily,
    OptimizerKind,
    Origin,
    Resampling,
    ResamplingStrategy,
)
from metaconf.config.writer import render_config
from metaconf.lint.finding import Finding, Severity

PRIMARY_PATH = {
    "metric": "task.metric",
    "models": "search_space.models",
    "optimizer": "optimizer.kind",
    "fidelity": "fidelity.type",
    "resampling": "resampling.strategy",
    "n_trials": "stopping.n_trials",
    "initial_design_size": "initial_design.size",
    "plateau_patience": "stopping.plateau_patience",
    "warm_start": "initial_design.warm_start",
}
"""Where each decision's origin and reason are recorded."""

Lint = Callable[[str], list[Finding]]


@dataclass
class Merged:
    """One merge of decisions into the rule config: the config, what was applied, and the notes."""

    config: Config
    applied: dict[str, Decision]
    notes: list[str] = field(default_factory=list)
    derived: dict[str, str] = field(default_factory=dict)
    """Extra paths a decision changed -> the decision (e.g. ``stopping.trial_walltime`` -> ``resampling``)."""


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _round(value: Any) -> Any:
    """Floats to 4 significant digits: a warm start from a small model needs no more, and YAML stays short."""
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def merge(
    advice: Advice, inputs: AdvisorInputs, space: DecisionSpace, decisions: Mapping[str, Decision]
) -> Merged:
    """The rule config with ``decisions`` applied (see the module docstring); provenance is set by the caller."""
    notes: list[str] = []
    applied: dict[str, Decision] = {}
    derived: dict[str, str] = {}
    rule_config = advice.config

    # --- metric and models: re-run the rules with them fixed, so dependent values follow
    user = inputs.user
    changes: dict[str, Any] = {}
    if "metric" in decisions and decisions["metric"].value != space.rule_values.get("metric"):
        metric = Metric(decisions["metric"].value)
        changes["metric"] = metric
        if metric == Metric.expected_cost:
            changes["cost_matrix"] = rule_config.task.cost_matrix
    if "metric" in decisions:
        applied["metric"] = decisions["metric"]
    if "models" in decisions:
        models = list(dict.fromkeys(decisions["models"].value))  # drop repeats, keep order
        if models != space.rule_values.get("models"):
            changes["models"] = [ModelFamily(m) for m in models]
        applied["models"] = Decision(models, decisions["models"].reason)
    base = rule_config
    if changes:
        rerun = dataclasses.replace(inputs, user=dataclasses.replace(user, **changes))
        base = advise(rerun, advice.envelope).config
    config = base.model_copy(deep=True)

    # --- optimizer and fidelity
    rule_optimizer = rule_config.optimizer.kind
    optimizer = rule_optimizer
    if "optimizer" in decisions:
        optimizer = OptimizerKind(decisions["optimizer"].value)
        applied["optimizer"] = decisions["optimizer"]
        config.optimizer.kind = optimizer
        if optimizer != rule_optimizer:
            config.initial_design.kind = (
                InitialDesignKind.random
                if optimizer in MULTI_FIDELITY_OPTIMIZERS
                else InitialDesignKind.default
                if optimizer == OptimizerKind.random
                else InitialDesignKind.sobol
            )
            derived["initial_design.kind"] = "optimizer"
    if optimizer in MULTI_FIDELITY_OPTIMIZERS:
        wanted = decisions["fidelity"].value if "fidelity" in decisions else None
        if wanted is None:
            wanted = (
                base.fidelity.type.value
                if base.fidelity.type != FidelityType.none
                else FidelityType.subsample.value
                if FidelityType.subsample in advice.envelope.fidelity_types
                else FidelityType.none.value
            )
        if "fidelity" in decisions:
            applied["fidelity"] = decisions["fidelity"]
        config.fidelity = _fidelity(FidelityType(wanted), base, advice, inputs, config)
        for path in ("fidelity.min", "fidelity.max", "fidelity.eta"):
            derived[path] = "fidelity" if "fidelity" in decisions else "optimizer"
    else:
        if "fidelity" in decisions and decisions["fidelity"].value != FidelityType.none.value:
            notes.append(
                f"fidelity `{decisions['fidelity'].value}` has no effect with optimizer `{optimizer.value}`: not used"
            )
        config.fidelity = Fidelity()

    # --- resampling (the per-trial limit follows the cost of one evaluation)
    if "resampling" in decisions:
        key = decisions["resampling"].value
        applied["resampling"] = decisions["resampling"]
        old_key = resampling_key(base)
        if key != old_key:
            if key == "holdout":
                config.resampling = Resampling(strategy=ResamplingStrategy.holdout)
            else:
                config.resampling = Resampling(
                    strategy=ResamplingStrategy.cv, folds=int(key.removeprefix("cv"))
                )
            families = config.search_space.models or list(advice.envelope.families)
            env = advice.envelope
            slowest_old = max(env.eval_seconds[f][old_key] for f in families if f in env.eval_seconds)
            slowest_new = max(env.eval_seconds[f][key] for f in families if f in env.eval_seconds)
            if config.stopping.trial_walltime is not None and slowest_old > 0:
                scaled = math.ceil(config.stopping.trial_walltime * slowest_new / slowest_old)
                config.stopping.trial_walltime = float(
                    max(1, min(scaled, int(config.stopping.walltime or scaled)))
                )
                derived["stopping.trial_walltime"] = "resampling"

    # --- counts
    if "n_trials" in decisions:
        config.stopping.n_trials = int(decisions["n_trials"].value)
        applied["n_trials"] = decisions["n_trials"]
    if optimizer == OptimizerKind.random:
        config.initial_design.size = None
        if "initial_design_size" in decisions:
            notes.append("initial_design_size has no effect with random search: not used")
    elif "initial_design_size" in decisions:
        config.initial_design.size = int(decisions["initial_design_size"].value)
        applied["initial_design_size"] = decisions["initial_design_size"]
    elif config.initial_design.size is None:
        config.initial_design.size = max(1, (config.stopping.n_trials or 10) // 10)
        derived["initial_design.size"] = "optimizer"
    if "plateau_patience" in decisions:
        patience = int(decisions["plateau_patience"].value)
        config.stopping.plateau_patience = patience or None
        applied["plateau_patience"] = decisions["plateau_patience"]

    # --- warm starts, each checked against the search space the config will search
    if "warm_start" in decisions and decisions["warm_start"].value:
        kept, dropped = check_warm_starts(config, decisions["warm_start"].value, inputs.data.task_type)
        notes.extend(dropped)
        if kept:
            existing = [dict(entry) for entry in config.initial_design.warm_start]
            combined = kept + [entry for entry in existing if entry not in kept]
            config.initial_design.warm_start = combined
            applied["warm_start"] = Decision(kept, decisions["warm_start"].reason)
    validated = Config.model_validate(config.model_dump())
    return Merged(config=validated, applied=applied, notes=notes, derived=derived)


def _fidelity(
    kind: FidelityType, base: Config, advice: Advice, inputs: AdvisorInputs, config: Config
) -> Fidelity:
    """A fidelity range for ``kind``: the rule advisor's when it chose the same type, else a standard one."""
    if base.fidelity.type == kind and kind != FidelityType.none:
        return base.fidelity.model_copy()
    if kind == FidelityType.subsample:
        from metaconf.advise.envelope import _subsample_min_rows

        fit_rows = max(1.0, advice.envelope.n_train * (1.0 - config.resampling.holdout_fraction))
        floor = max(_subsample_min_rows(inputs.data) / fit_rows, 1.0 / 27.0)
        return Fidelity(type=kind, min=min(0.5, math.ceil(floor * 10_000) / 10_000), max=1.0, eta=3.0)
    if kind in (FidelityType.n_estimators, FidelityType.max_iter):
        from metaconf.space.builtin import fidelity_range

        low, high = fidelity_range(kind.value)
        return Fidelity(type=kind, min=low, max=high, eta=3.0)
    if kind == FidelityType.cv_folds:
        return Fidelity(type=kind, min=1.0, max=float(config.resampling.folds), eta=3.0)
    return Fidelity(type=FidelityType.none)


def check_warm_starts(
    config: Config, entries: list[dict[str, Any]], task_type: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """The warm-start entries that are valid configurations of ``config``'s search space, and a note per
    dropped one (the search space's own message: unknown name, out of range, inactive, model not searched)."""
    from metaconf.errors import MetaconfError
    from metaconf.space.builtin import build_space
    from metaconf.space.configurations import normalize_warm_start

    try:
        space = build_space(config, task_type=task_type)
    except MetaconfError as error:
        return [], [f"warm starts not checked, the search space does not build: {error.message}"]
    kept: list[dict[str, Any]] = []
    notes: list[str] = []
    for index, entry in enumerate(entries):
        shorthand = {key: _round(value) for key, value in entry.items()}
        try:
            normalize_warm_start(space, shorthand)
        except MetaconfError as error:
            notes.append(f"warm start {index + 1} {shorthand} dropped: {error.message}")
            continue
        if shorthand not in kept:
            kept.append(shorthand)
    return kept, notes


RELATED_PATHS: Mapping[str, tuple[str, ...]] = {
    "n_trials": ("initial_design", "stopping.plateau_patience"),
    "optimizer": ("fidelity", "search_space.models", "initial_design"),
    "resampling": ("fidelity",),
    "models": ("optimizer.kind", "fidelity", "initial_design.warm_start"),
    "fidelity": ("resampling",),
    "warm_start": ("initial_design.size",),
    "initial_design_size": ("initial_design.warm_start",),
    "plateau_patience": ("stopping.n_trials",),
}
"""Cross-field findings: a finding at one of these paths is blamed on the decision when no decision wrote the
path itself (``initial_design.size`` above ``n_trials`` is the LLM's n_trials when the size is the rule's)."""


def _matches(dotted: str, paths: list[str] | tuple[str, ...]) -> bool:
    return any(
        dotted == p or dotted.startswith(p + ".") or (bool(dotted) and p.startswith(dotted + "."))
        for p in paths
    )


def blame(findings: list[Finding], merged: Merged) -> tuple[dict[str, Finding], list[Finding]]:
    """The decisions responsible for the lint errors, and the errors no decision explains.

    A finding is blamed on the decisions that wrote its field; if none did (the field holds a rule value), on the
    decisions related to it across fields (:data:`RELATED_PATHS`)."""
    blamed: dict[str, Finding] = {}
    unexplained: list[Finding] = []
    for finding in findings:
        if finding.severity != Severity.error:
            continue
        dotted = ".".join(str(step) for step in finding.json_path)
        direct = {
            decision
            for decision in merged.applied
            if _matches(
                dotted,
                list(DECISION_PATHS[decision]) + [p for p, d in merged.derived.items() if d == decision],
            )
        }
        related = {d for d in merged.applied if _matches(dotted, RELATED_PATHS.get(d, ()))}
        if direct or related:
            for decision in direct or related:
                blamed.setdefault(decision, finding)
        else:
            unexplained.append(finding)
    return blamed, unexplained


def errors_of(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == Severity.error]


def describe_finding(finding: Finding) -> str:
    dotted = ".".join(str(step) for step in finding.json_path) or "(document)"
    return f"{finding.code} at {dotted}: {finding.message}"


@dataclass
class Outcome:
    config: Config
    origins: dict[str, tuple[Origin, str]]
    """Per decision: origin and reason, as recorded in provenance."""
    notes: list[str]
    findings: list[Finding]


def check_and_repair(
    advice: Advice,
    inputs: AdvisorInputs,
    space: DecisionSpace,
    first: Mapping[str, Decision],
    lint: Lint,
    ask_repair: Callable[[list[str]], Mapping[str, Decision] | None],
    *,
    model_label: str,
) -> Outcome:
    """Steps 2-4 of the module docstring. ``ask_repair`` gets the findings and returns the LLM's new decisions
    (or None when the repair answer was unusable)."""
    notes: list[str] = []
    current = dict(first)
    repaired: set[str] = set()
    rejected: dict[str, str] = {}
    merged = merge(advice, inputs, space, current)
    notes.extend(merged.notes)
    findings = lint(render_config(merged.config))
    if errors_of(findings):
        listing = [describe_finding(f) for f in errors_of(findings)]
        answer = ask_repair(listing)
        if answer is not None:
            for name, decision in answer.items():
                if name in current and current[name].value != decision.value:
                    repaired.add(name)
            second = {**current, **answer}
            merged_2 = merge(advice, inputs, space, second)
            findings_2 = lint(render_config(merged_2.config))
            current, merged, findings = second, merged_2, findings_2
            notes.extend(n for n in merged_2.notes if n not in notes)
    # fall back per decision until lint is clean
    while errors_of(findings):
        blamed, unexplained = blame(findings, merged)
        if unexplained or not blamed:
            culprit = (unexplained or errors_of(findings))[0]
            blamed = {name: blamed.get(name, culprit) for name in merged.applied}
        if not blamed:
            break
        for name, finding in blamed.items():
            rejected[name] = describe_finding(finding)
            current.pop(name, None)
        merged = merge(advice, inputs, space, current)
        findings = lint(render_config(merged.config))
    if errors_of(findings):  # cannot happen: the rule config is lint-clean; stay safe anyway
        merged = Merged(config=advice.config, applied={})
        findings = lint(render_config(advice.config))

    origins: dict[str, tuple[Origin, str]] = {}
    for name in space.decisions:
        rule_value = space.rule_values.get(name)
        if name in merged.applied:
            decision = merged.applied[name]
            origin = Origin.llm_repaired if name in repaired else Origin.llm
            same = decision.value == rule_value
            comparison = (
                "the rule advisor agrees" if same else f"the rule advisor would pick {_fmt(rule_value)}"
            )
            why = decision.reason or "no reason given"
            origins[name] = (origin, f"{model_label}: {why} ({comparison})")
        elif name in rejected:
            origins[name] = (
                Origin.rule,
                f"the LLM's value was rejected ({rejected[name]}); the rule advisor's value",
            )
    return Outcome(
        config=merged.config,
        origins=origins,
        notes=notes,
        findings=findings,
    )
