"""The prompts: templates in ``templates/prompts/``, filled with the data profile, the budget, the
user's description, the settings the schema allows (with their documentation), the rule advisor's proposal
and a worked example.

The exact text sent to the model is what ``metaconf suggest --show-prompt`` prints, and the sha256 of the
templates is recorded in the config's provenance, so a config says which prompt made it.

A prompt that does not fit the model's context window (with room for the answer) is shortened: first the
class list of the profile, then the description, from the end, each with a note that says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from string import Template
from typing import Any

from metaconf.advise.envelope import AdvisorInputs
from metaconf.advise.llm.schema import DecisionSpace
from metaconf.advise.rules import Advice
from metaconf.config.units import format_duration, format_memory
from metaconf.resources import data_dir

TEMPLATE_FILES = ("system.txt", "user.txt", "repair.txt", "example.json")

SETTING_DOCS = {
    "metric": "what the search optimises; expected_cost weighs errors by the cost matrix",
    "models": "model families searched together; fewer families are searched better in a short budget",
    "optimizer": "bo: random-forest BO; bo_gp: Gaussian-process BO (one family, < 200 trials); random: very few "
    "trials; hyperband / successive_halving: slow evaluations, most candidates evaluated cheaply first",
    "fidelity": "what a cheap evaluation saves on (hyperband / successive_halving only)",
    "resampling": "holdout: one validation split; cvK: K-fold cross-validation, K times the cost, steadier on small data",
    "n_trials": "the most trials the search may run (the walltime also stops it)",
    "initial_design_size": "space-filling configurations before the surrogate model takes over",
    "plateau_patience": "stop after this many trials without improvement; 0: never",
    "warm_start": "concrete configurations evaluated first",
}


@dataclass
class Prompt:
    """The messages of one request, and what was shortened to make them fit."""

    system: str
    user: str
    notes: list[str] = field(default_factory=list)

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


@cache
def _template(name: str) -> str:
    # metaconf.templates.prompts in a wheel, templates/prompts/ in a checkout (metaconf.resources)
    folder = data_dir("templates.prompts")
    return folder.joinpath(name).read_text(encoding="utf-8")


@cache
def template_hash() -> str:
    """sha256 over the prompt templates (name and text), recorded in provenance."""
    digest = hashlib.sha256()
    for name in TEMPLATE_FILES:
        digest.update(name.encode() + b"\0" + _template(name).encode() + b"\0")
    return digest.hexdigest()


def _profile_lines(inputs: AdvisorInputs) -> list[str]:
    data = inputs.data
    lines = [
        f"- task: {data.task_type}",
        f"- rows: {data.n_rows:,}; features: {data.n_features} ({data.n_numeric} numeric, "
        f"{data.n_categorical} categorical); missing cells: {data.missing_ratio:.1%}",
    ]
    if data.memory_mb is not None:
        lines.append(f"- memory: {data.memory_mb:.1f} MB")
    if data.class_counts:
        counts = sorted(data.class_counts.items(), key=lambda item: (-item[1], str(item[0])))
        lines.append(
            f"- {len(counts)} classes, largest / smallest = {data.imbalance:.1f}; counts: "
            + ", ".join(f"{label}: {count}" for label, count in counts)
        )
    return lines


def _budget_lines(advice: Advice, inputs: AdvisorInputs) -> list[str]:
    env, user = advice.envelope, inputs.user
    config = advice.config
    lines = [
        f"- walltime for the whole job: {format_duration(user.walltime_s)}; {user.cores} core(s); "
        + (f"memory {format_memory(user.memory_mb)}" if user.memory_mb else "memory not limited"),
        f"- after start-up, data loading, the final refit and a safety margin the search has "
        f"{env.search_walltime_s:.0f} s on {env.workers} worker(s)",
        "- seconds per evaluation, holdout / 5-fold CV: "
        + ", ".join(
            f"{f.value} {per['holdout']:.2g} / {per['cv5']:.2g}"
            for f, per in env.eval_seconds.items()
            if f in env.families
        ),
        f"- at most ~{env.n_trials_max} trials fit (cheapest family, holdout); the rule advisor expects "
        f"~{advice.expected_trials} with its choices",
    ]
    if env.excluded_families:
        lines.append(
            "- left out: " + "; ".join(f"{f.value} ({why})" for f, why in env.excluded_families.items())
        )
    if config.task.cost_matrix is not None:
        matrix = config.task.cost_matrix
        lines.append(
            f"- cost matrix (rows: true class, columns: predicted) over {matrix.labels}: {matrix.costs}"
        )
    return lines


def _settings_lines(space: DecisionSpace) -> list[str]:
    lines = []
    for name, bounds in space.bounds.items():
        if "enum" in bounds:
            allowed = ", ".join(str(v) for v in bounds["enum"])
        elif bounds.get("type") == "array" and name == "models":
            allowed = "a list from: " + ", ".join(bounds["items"]["enum"])
        elif bounds.get("type") == "integer":
            allowed = f"an integer from {bounds['minimum']} to {bounds['maximum']}"
        else:
            allowed = f"a list of at most {bounds.get('maxItems', 3)} configurations"
        lines.append(f"- {name} ({allowed}): {SETTING_DOCS.get(name, '')}")
    return lines


def _proposal(space: DecisionSpace, advice: Advice) -> str:
    reasons = {
        p: v.reason for p, v in (advice.config.provenance.values.items() if advice.config.provenance else [])
    }
    from metaconf.advise.llm.schema import DECISION_PATHS

    out = {}
    for name, value in space.rule_values.items():
        reason = next((reasons[p] for p in DECISION_PATHS[name] if p in reasons), "")
        out[name] = {"value": value, "reason": _one_line(reason, 60)}
    lines = [f"{json.dumps(name)}: {json.dumps(entry, ensure_ascii=False)}" for name, entry in out.items()]
    return "{\n" + ",\n".join(lines) + "\n}"


def _example(space: DecisionSpace) -> str:
    example = json.loads(_template("example.json"))
    return json.dumps({k: v for k, v in example.items() if k in space.decisions}, ensure_ascii=False)


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def build_prompt(
    space: DecisionSpace,
    advice: Advice,
    inputs: AdvisorInputs,
    description: str | None,
    *,
    count_tokens: Callable[[str], int] | None = None,
    max_prompt_tokens: int | None = None,
) -> Prompt:
    """The first request. With ``count_tokens`` and ``max_prompt_tokens``, shortened to fit (notes say how)."""
    profile = _profile_lines(inputs)
    text = (description or "").strip() or "(no description given)"
    notes: list[str] = []

    def render(profile_lines: list[str], desc: str) -> Prompt:
        values: dict[str, Any] = {
            "tool": inputs.user.tool.value,
            "profile": "\n".join(profile_lines),
            "budget": "\n".join(_budget_lines(advice, inputs)),
            "description": desc,
            "settings": "\n".join(_settings_lines(space)),
            "proposal": _proposal(space, advice),
            "example": _example(space),
        }
        system = Template(_template("system.txt")).safe_substitute(values).strip()
        user = Template(_template("user.txt")).safe_substitute(values).strip()
        return Prompt(system=system, user=user)

    prompt = render(profile, text)
    if count_tokens is None or max_prompt_tokens is None:
        return prompt

    def size(p: Prompt) -> int:
        return count_tokens(p.system + "\n" + p.user)

    if size(prompt) > max_prompt_tokens and inputs.data.class_counts and len(inputs.data.class_counts) > 10:
        profile = [line for line in profile if "classes" not in line] + [
            f"- {len(inputs.data.class_counts)} classes (list left out to fit the context window)"
        ]
        prompt = render(profile, text)
        notes.append("the class list was left out of the prompt to fit the model's context window")
    total = size(prompt)
    if total > max_prompt_tokens:
        over = total - max_prompt_tokens
        words = text.split()
        # ~0.75 words per token; cut a little more than needed, then check again.
        keep = max(0, len(words) - int(over * 0.8) - 20)
        while True:
            cut = " ".join(words[:keep]) + " [... description truncated to fit the context window]"
            prompt = render(profile, cut)
            if size(prompt) <= max_prompt_tokens or keep == 0:
                break
            keep = max(0, keep - max(20, keep // 5))
        notes.append(
            f"the description was truncated to its first {keep} of {len(words)} words to fit the model's "
            "context window"
        )
        if size(prompt) > max_prompt_tokens:
            from metaconf.advise.llm.errors import LLMError

            raise LLMError(
                f"the prompt needs {size(prompt)} tokens even without the description, more than the "
                f"{max_prompt_tokens} the model's context window leaves",
                "use a model with a larger context window (--model), or a server",
            )
    prompt.notes = notes
    return prompt


def repair_prompt(first: Prompt, previous: str, findings: list[str]) -> Prompt:
    """The repair request: the first request, the previous answer and the findings it caused."""
    values = {"findings": "\n".join(f"- {f}" for f in findings), "previous": previous}
    repair = Template(_template("repair.txt")).safe_substitute(values).strip()
    return Prompt(system=first.system, user=first.user + "\n\n" + repair, notes=list(first.notes))
