"""auto-sklearn 0.15 as a :class:`metaconf.targets.base.Target`: the plan compiled against the data (classes and
split as a real run; the environment is not needed), rendered as YAML / JSON or as the constructor call, and
the run in auto-sklearn's own environment."""

from __future__ import annotations

import json
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
        """Compiled against the loaded data (classes and split as a real run), without needing the environment."""
        from metaconf.data.load import load_dataset
        from metaconf.targets.autosklearn.compile import compile_autosklearn
        from metaconf.targets.evaluate import Evaluator

        seed = int(config.execution.seed or 0)
        dataset = load_dataset(config, base_dir)
        evaluator = Evaluator(config, dataset, seed=seed)
        train_y = dataset.y.reset_index(drop=True).iloc[evaluator.train_rows]
        return compile_autosklearn(config, run_dir=run_dir, seed=seed, classes=evaluator.classes, y=train_y)

    def render(self, plan: AutoSklearnPlan, fmt: str) -> str:
        if fmt not in ("yaml", "json"):
            raise ValueError(f"an auto-sklearn plan renders as yaml or json, not {fmt!r}")
        data = plan.to_dict()
        if fmt == "json":
            return json.dumps(data, indent=2) + "\n"
        import yaml

        header = (
            "# The auto-sklearn 0.15 call `metaconf run` makes for this config (inside auto-sklearn's own env).\n"
            "# Added at run time: metric (built from `metric`), tmp_folder (fresh), get_trials_callback (progress,\n"
            f"# plateau / threshold stops){', dask_client' if plan.worker.get('dask_scheduler') else ''}.\n"
            f"# plan sha256: {plan.meta}\n"
        )
        return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)

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
