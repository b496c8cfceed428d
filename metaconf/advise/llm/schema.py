"""The JSON Schema the LLM decodes against, narrowed to what is feasible for this user.

The rule advisor's :class:`~metaconf.advise.rules.Envelope` says what this budget, data and tool allow: which
model families, metrics, optimizers and fidelity types, how many trials at most, how many folds the smallest
class allows. The schema turns each of these into an ``enum`` or a bounded integer, so a constrained decoder
(guidance / llguidance / a server's JSON-schema mode) cannot even produce a value outside them. Ranges that
also have a hard limit in the meta-space (:func:`metaconf.space.meta.meta_space_bounds`) are intersected with
it. What JSON Schema cannot say (cross-field rules such as an initial design that fits the walltime) is left to
the meta-space check and lint after decoding (:mod:`metaconf.advise.llm.repair`).

Every decision is an object ``{"value": ..., "reason": "one line"}``. Settings the user fixed on the command
line (``--metric``, ``--models``) are not in the schema: the LLM never decides them. Every object has
``additionalProperties: false`` and the schema carries ``"x-guidance": {"whitespace_flexible": false}``
(measured: without both, llguidance / outlines let the small model wander).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from metaconf.advise.envelope import MAX_TRIALS_RF, AdvisorInputs
from metaconf.advise.rules import Advice
from metaconf.config.model import Config, FidelityType, Metric, OptimizerKind, ResamplingStrategy, Tool

REASON_MAX_CHARS = 60
"""One line per value; also bounds the tokens a reason can cost (~15 tokens)."""
MAX_WARM_START = 3
"""Warm-start configurations the LLM may propose (LLAMBO-style), each checked against the search space."""
RESAMPLING_FOLDS = (3, 5, 10)

DECISIONS = (
    "metric",
    "models",
    "optimizer",
    "fidelity",
    "resampling",
    "n_trials",
    "initial_design_size",
    "plateau_patience",
    "warm_start",
)
"""Every decision the LLM can make, in the order the schema asks for them."""

DECISION_PATHS: Mapping[str, tuple[str, ...]] = {
    "metric": ("task.metric", "task.cost_matrix", "task.positive_label"),
    "models": ("search_space.models",),
    "optimizer": ("optimizer.kind", "initial_design.kind"),
    "fidelity": ("fidelity.type", "fidelity.min", "fidelity.max", "fidelity.eta"),
    "resampling": ("resampling.strategy", "resampling.folds", "resampling.holdout_fraction"),
    "n_trials": ("stopping.n_trials",),
    "initial_design_size": ("initial_design.size",),
    "plateau_patience": ("stopping.plateau_patience",),
    "warm_start": ("initial_design.warm_start",),
}
"""The config fields each decision writes: a lint finding at one of them is blamed on that decision."""


@dataclass(frozen=True)
class Decision:
    value: Any
    reason: str


@dataclass(frozen=True)
class DecisionSpace:
    """The narrowed schema, and the rule advisor's value for every decision in it (the fallback)."""

    schema: dict[str, Any]
    rule_values: dict[str, Any]
    bounds: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per decision: the enum or range it was narrowed to (shown in the prompt)."""

    @property
    def decisions(self) -> tuple[str, ...]:
        return tuple(self.schema["properties"])

    def schema_json(self) -> str:
        return json.dumps(self.schema, sort_keys=False, separators=(",", ":"))

    def parse(self, text: str) -> tuple[dict[str, Decision], list[str]]:
        """The decisions in ``text`` that satisfy the schema, and a note per value that does not.

        Constrained decoding makes every value valid; a server without JSON-schema support may not, so each
        decision is checked on its own and an invalid one falls back to the rule value (the note says so).
        Text that is not a JSON object at all raises ``ValueError``. Raw control characters inside strings
        (which a server's grammar let through: measured once in 50 answers of llama-cpp-python's server) are
        accepted and removed from the reasons.
        """
        data = json.loads(text, strict=False)
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        decisions: dict[str, Decision] = {}
        notes: list[str] = []
        for name in self.decisions:
            if name not in data:
                notes.append(f"{name}: missing from the LLM's answer")
                continue
            problem = check_value(self.schema["properties"][name], data[name])
            if problem:
                notes.append(f"{name}: {problem}")
                continue
            reason = "".join(c if c.isprintable() else " " for c in str(data[name]["reason"]))
            decisions[name] = Decision(data[name]["value"], " ".join(reason.split()))
        extra = sorted(set(data) - set(self.decisions))
        if extra:
            notes.append("ignored keys the schema does not have: " + ", ".join(extra))
        return decisions, notes


def _decision(value_schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {
            "value": value_schema,
            "reason": {"type": "string", "maxLength": REASON_MAX_CHARS},
        },
        "required": ["value", "reason"],
        "additionalProperties": False,
    }


def resampling_key(config: Config) -> str:
    if config.resampling.strategy == ResamplingStrategy.cv:
        return f"cv{config.resampling.folds}"
    return "holdout"


def _hyperparameter_schema(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = spec.get("type")
    if kind == "categorical" or "choices" in spec:
        return {"enum": list(spec["choices"])}
    if kind in ("int", "integer"):
        return {"type": "integer", "minimum": int(spec["lower"]), "maximum": int(spec["upper"])}
    if kind in ("float", "number"):
        lower, upper = float(spec["lower"]), float(spec["upper"])
        return {"type": "number", "minimum": lower, "maximum": upper, "multipleOf": number_step(lower)}
    return None


def number_step(lower: float) -> float:
    """``multipleOf`` for a float hyperparameter: one decimal below the lower bound's first digit (0.001 for
    0.05, 1e-4 for C >= 0.001), at most 10 decimals, 1e-4 from a bound of 0.

    Without it llguidance lets a number run on digit after digit: the bundled model wrote ``max_features:
    1.000...`` until max_tokens cut the JSON off (1 of 50 outlines answers). With it, the grammar allows only
    that many decimals (measured: ``multipleOf: 0.0001`` refuses ``1.00000`` and ``0.12345``); our per-value
    check still tests only the range.
    """
    if lower <= 0:
        return 1e-4
    return float(f"1e{max(-10, math.floor(math.log10(lower)) - 1)}")


def warm_start_item_schema(families: list[str], task_type: str) -> dict[str, Any]:
    """One warm-start configuration: a ``model`` and any of its hyperparameters, each in its built-in range."""
    from metaconf.space.builtin import builtin_space_bounds

    bounds = builtin_space_bounds(task_type)
    options: list[dict[str, Any]] = []
    for family in families:
        properties: dict[str, Any] = {"model": {"const": family}}
        for name, spec in bounds.get(family, {}).items():
            hp_schema = _hyperparameter_schema(spec)
            if hp_schema is not None:
                properties[name] = hp_schema
        options.append(
            {"type": "object", "properties": properties, "required": ["model"], "additionalProperties": False}
        )
    return options[0] if len(options) == 1 else {"anyOf": options}


def decision_space(advice: Advice, inputs: AdvisorInputs) -> DecisionSpace:
    """The schema for this user: every decision the LLM may make, narrowed to the envelope and the meta-space."""
    from metaconf.space.meta import meta_space_bounds

    env, config, user = advice.envelope, advice.config, inputs.user
    meta = meta_space_bounds(user.tool)
    smac = user.tool == Tool.smac
    properties: dict[str, Any] = {}
    rule_values: dict[str, Any] = {}
    bounds: dict[str, dict[str, Any]] = {}

    def add(name: str, value_schema: dict[str, Any], description: str, rule_value: Any) -> None:
        properties[name] = _decision(value_schema, description)
        rule_values[name] = rule_value
        bounds[name] = value_schema

    if user.metric is None and user.cost_matrix is None:
        has_matrix = inputs.description.cost_matrix is not None and config.task.cost_matrix is not None
        metrics = [m.value for m in env.metrics if m != Metric.expected_cost or has_matrix]
        if len(metrics) > 1:
            add("metric", {"enum": metrics}, "what the search optimises", config.effective_metric().value)
    if not user.models and len(env.families) > 1:
        families = [f.value for f in env.families]
        add(
            "models",
            {"type": "array", "items": {"enum": families}, "minItems": 1, "maxItems": len(families)},
            "model families searched",
            [f.value for f in config.search_space.models or []],
        )
    if smac:
        optimizers = [o.value for o in env.optimizers if o.value in meta["optimizer.kind"]["choices"]]
        add("optimizer", {"enum": optimizers}, "how configurations are proposed", config.optimizer.kind.value)
        fidelities = [f.value for f in env.fidelity_types]
        if len(fidelities) > 1:
            rule_fidelity = (
                config.fidelity.type.value
                if config.fidelity.type != FidelityType.none
                else FidelityType.none.value
            )
            add(
                "fidelity",
                {"enum": fidelities},
                "what a cheap evaluation saves on (only used by hyperband / successive_halving)",
                rule_fidelity,
            )
    keys = ["holdout"] + [f"cv{k}" for k in RESAMPLING_FOLDS if k <= env.max_folds]
    if len(keys) > 1:
        add("resampling", {"enum": keys}, "holdout or k-fold cross-validation", resampling_key(config))
    if smac and config.stopping.n_trials is not None:
        rule_trials = int(config.stopping.n_trials)
        low = max(1, min(10, rule_trials))
        high = max(rule_trials, min(MAX_TRIALS_RF, env.n_trials_max))
        high = min(high, int(meta["stopping.n_trials"]["upper"]))
        add(
            "n_trials",
            {"type": "integer", "minimum": low, "maximum": high},
            "the most trials the search may run (the walltime also stops it)",
            rule_trials,
        )
        # The initial design (size + warm starts) must fit the walltime even if every point ran to the per-trial
        # limit (lint MC305); the LLM may add up to MAX_WARM_START warm starts on top of the rule advisor's.
        walltime = float(config.stopping.walltime or env.search_walltime_s)
        limit = float(config.stopping.trial_walltime or 1.0)
        fits = (
            int(walltime * env.workers // max(limit, 1.0))
            - len(config.initial_design.warm_start)
            - MAX_WARM_START
        )
        rule_size = int(config.initial_design.size or 0)
        add(
            "initial_design_size",
            {"type": "integer", "minimum": 0, "maximum": max(rule_size, min(fits, high // 4), 1)},
            "space-filling configurations evaluated before the surrogate model is used",
            rule_size,
        )
        add(
            "plateau_patience",
            {"type": "integer", "minimum": 0, "maximum": high},
            "stop after this many trials without improvement (0: never)",
            int(config.stopping.plateau_patience or 0),
        )
        families = [f.value for f in (user.models or env.families)]
        add(
            "warm_start",
            {
                "type": "array",
                "items": warm_start_item_schema(families, inputs.data.task_type),
                "maxItems": MAX_WARM_START,
            },
            "up to 3 concrete configurations of the chosen models to evaluate first",
            [],
        )
    schema: dict[str, Any] = {
        "type": "object",
        "title": "metaconf LLM decisions",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        "x-guidance": {"whitespace_flexible": False},
    }
    return DecisionSpace(schema=schema, rule_values=rule_values, bounds=bounds)


def check_value(schema: Mapping[str, Any], value: Any) -> str | None:
    """Why ``value`` breaks ``schema`` (the subset this module writes), or None. A small validator on purpose:
    it covers exactly the keywords above, and says which one failed in words."""
    if "anyOf" in schema:
        problems = [check_value(option, value) for option in schema["anyOf"]]
        return None if any(p is None for p in problems) else min(p for p in problems if p)
    if "const" in schema:
        return None if value == schema["const"] else f"expected {schema['const']!r}, got {value!r}"
    if "enum" in schema:
        return (
            None
            if value in schema["enum"] and not _bool_as_number(value, schema["enum"])
            else (f"{value!r} is not one of {schema['enum']}")
        )
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return f"expected an object, got {value!r}"
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                return f"`{key}` is missing"
        if schema.get("additionalProperties") is False:
            extra = sorted(set(value) - set(props))
            if extra:
                return "unknown key(s): " + ", ".join(f"`{k}`" for k in extra)
        for key, item in value.items():
            if key in props:
                problem = check_value(props[key], item)
                if problem:
                    return f"{key}: {problem}"
        return None
    if kind == "array":
        if not isinstance(value, list):
            return f"expected a list, got {value!r}"
        if len(value) < schema.get("minItems", 0):
            return f"needs at least {schema['minItems']} item(s)"
        if len(value) > schema.get("maxItems", math.inf):
            return f"has {len(value)} items, at most {schema['maxItems']} allowed"
        for index, item in enumerate(value):
            problem = check_value(schema.get("items", {}), item)
            if problem:
                return f"item {index}: {problem}"
        return None
    if kind == "string":
        if not isinstance(value, str):
            return f"expected a string, got {value!r}"
        if len(value) > schema.get("maxLength", math.inf):
            return f"longer than {schema['maxLength']} characters"
        return None
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {value!r}"
        if kind == "integer" and not float(value).is_integer():
            return f"expected an integer, got {value!r}"
        if value < schema.get("minimum", -math.inf) or value > schema.get("maximum", math.inf):
            return f"{value!r} is outside [{schema.get('minimum')}, {schema.get('maximum')}]"
        return None
    return None


def _bool_as_number(value: Any, choices: list[Any]) -> bool:
    """``True == 1`` in Python; a JSON ``true`` is not the enum value ``1`` (nor ``1`` the value ``true``)."""
    return any(value == c and isinstance(value, bool) != isinstance(c, bool) for c in choices)


__all__ = [
    "DECISIONS",
    "DECISION_PATHS",
    "Decision",
    "DecisionSpace",
    "OptimizerKind",
    "check_value",
    "decision_space",
]
