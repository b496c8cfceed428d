"""SMAC3 as a :class:`metaconf.targets.base.Target`: the plan compiled against the data and the search space as
a run compiles it, rendered as YAML / JSON or written as a script, and the run in this process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from metaconf.config.model import Config
    from metaconf.report.results import TrialRecord
    from metaconf.targets.run_dir import RunRequest
    from metaconf.targets.smac.compile import SmacPlan
    from metaconf.targets.smac.runner import RunOutcome


def compile_with_space(config: Config, base_dir: Path, run_dir: Path) -> tuple[SmacPlan, ConfigurationSpace]:
    """Compile ``config`` (overrides applied) as `metaconf run` does — data-derived metric, normalized warm
    starts, same seed — and return the search space it compiled against."""
    from metaconf.data.load import load_dataset
    from metaconf.space.builtin import build_space
    from metaconf.space.configurations import normalize_warm_start
    from metaconf.targets.evaluate import Evaluator
    from metaconf.targets.smac.compile import compile_smac

    dataset = load_dataset(config, base_dir)
    seed = int(config.execution.seed or 0)
    metric = Evaluator(config, dataset, seed=seed).metric
    space = build_space(config, base_dir)
    warm = [normalize_warm_start(space, values) for values in config.initial_design.warm_start]
    return compile_smac(config, space, run_dir=run_dir, seed=seed, metric=metric, warm_start=warm), space


class SmacTarget:
    tool = "smac"

    def plan(self, config: Config, base_dir: Path, run_dir: Path) -> SmacPlan:
        return compile_with_space(config, base_dir, run_dir)[0]

    def render(self, plan: SmacPlan, fmt: str) -> str:
        if fmt not in ("yaml", "json"):
            raise ValueError(f"a SMAC plan renders as yaml or json, not {fmt!r} (a script: SmacTarget.script)")
        data = plan.to_dict()
        if fmt == "json":
            return json.dumps(data, indent=2) + "\n"
        import yaml

        header = (
            "# The SMAC3 calls `metaconf run` makes for this config. null limits mean none (SMAC's inf).\n"
            f"# plan sha256: {plan.meta}\n"
        )
        return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)

    def script(self, config: Config, base_dir: Path, run_dir: Path, source: Path) -> str:
        from metaconf.targets.smac.script import render_python

        plan, space = compile_with_space(config, base_dir, run_dir)
        return render_python(plan, space, config, base_dir=base_dir, name=run_dir.name, source=source)

    def run(
        self,
        config: Config,
        base_dir: Path,
        run_dir: Path,
        request: RunRequest,
        *,
        on_trial: Callable[[TrialRecord, Any], None] | None = None,
        on_phase: Callable[[str, Any], None] | None = None,
    ) -> RunOutcome:
        from metaconf.targets.smac.runner import run_smac

        if on_trial is not None:
            request.on_trial = on_trial
        return run_smac(config, base_dir, run_dir, request)
