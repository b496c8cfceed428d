"""auto-sklearn 0.15 as a :class:`metaconf.targets.base.Target`: the plan compiled against the data (classes and
split as a real run; the environment is not needed), rendered as YAML / JSON or as the constructor call, and
the run in auto-sklearn's own environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metaconf.config.model import Config
    from metaconf.report.results import TrialRecord
    from metaconf.targets.autosklearn.compile import AutoSklearnPlan
    from metaconf.targets.autosklearn.runner import AutoSklearnOutcome
    from metaconf.targets.run_dir import RunRequest


class AutoSklearnTarget:
    tool = "auto-sklearn"

    def plan(self, config: Config, base_dir: Path, run_dir: Path) -> AutoSklearnPlan:
        from metaconf.targets.autosklearn.runner import plan_for_cli

        return plan_for_cli(config, base_dir, run_dir)

    def render(self, plan: AutoSklearnPlan, fmt: str) -> str:
        from metaconf.targets.autosklearn.runner import render_plan

        if fmt not in ("yaml", "json"):
            raise ValueError(f"an auto-sklearn plan renders as yaml or json, not {fmt!r}")
        return render_plan(plan, fmt)

    def script(self, config: Config, base_dir: Path, run_dir: Path, source: Path) -> str:
        return self.plan(config, base_dir, run_dir).python_snippet()

    def run(
        self,
        config: Config,
        base_dir: Path,
        run_dir: Path,
        request: RunRequest,
        *,
        on_trial: Callable[[TrialRecord, Any], None] | None = None,
        on_phase: Callable[[str, Any], None] | None = None,
    ) -> AutoSklearnOutcome:
        from metaconf.targets.autosklearn.runner import run_autosklearn

        return run_autosklearn(config, base_dir, run_dir, request, on_trial=on_trial, on_phase=on_phase)
