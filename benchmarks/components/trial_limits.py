"""What does a per-trial limit (``stopping.trial_walltime`` / ``trial_memory``) cost per trial?

The same configurations, sampled from the built-in space, are evaluated three ways in one process:

1. **in process**: ``Evaluator.cost`` called directly — what a search without per-trial limits does;
2. **kept child** (metaconf): :class:`~metaconf.targets.smac.runner.TrialTarget` with limits, i.e. one forked
   child that runs trial after trial (:mod:`metaconf.targets.smac.trial_process`);
3. **fork per trial**: ``pynisher.limit(..., context="fork")`` — a fresh child per trial, what SMAC's own
   ``trial_walltime_limit`` does (and what metaconf did before the kept child).

Printed: the median and total seconds per trial of each, their ratios to in process, and whether all three
gave the same cost for every configuration (they must: the child computes exactly what the parent would).
The modes alternate order across repeats so that no side profits from warm caches.

Usage::

    python benchmarks/components/trial_limits.py --demo kr-vs-kp --models linear --configs 20
    python benchmarks/components/trial_limits.py --demo breast_cancer --configs 30 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="kr-vs-kp")
    parser.add_argument("--models", default="", help="comma-separated families (default: the built-in space)")
    parser.add_argument("--configs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import pynisher

    from metaconf.config.model import Config
    from metaconf.data.load import load_dataset
    from metaconf.space.builtin import build_space
    from metaconf.targets.evaluate import Evaluator
    from metaconf.targets.smac.runner import TrialTarget, plain_config
    from metaconf.targets.smac.trial_process import close_trial_processes

    body: dict[str, Any] = {
        "data": {"demo": args.demo},
        "stopping": {"trial_walltime": "5m"},
        "execution": {"seed": args.seed},
    }
    if args.models:
        body["search_space"] = {"models": args.models.split(",")}
    config = Config.model_validate(body)
    with tempfile.TemporaryDirectory(prefix="metaconf-limits-") as tmp:
        base = Path(tmp)
        evaluator = Evaluator(config, load_dataset(config, base), seed=args.seed)
        space = build_space(config, base)
        configs = [plain_config(c) for c in space.sample_configuration(args.configs)]

        target = TrialTarget(config.model_dump_json(), str(base.resolve()), args.seed)
        target.remember(evaluator)
        target.limits = (None, 300.0)
        forked = pynisher.limit(target.cost, wall_time=300, wrap_errors=True, context="fork")

        modes = {
            "in process": lambda values: target.cost(values, args.seed, None),
            "kept child": lambda values: target.limited_cost(values, args.seed, None),
            "fork per trial": lambda values: forked(values, args.seed, None),
        }
        times: dict[str, list[float]] = {mode: [] for mode in modes}
        costs: dict[str, list[float]] = {mode: [] for mode in modes}
        for repeat in range(args.repeats):
            order = list(modes) if repeat % 2 == 0 else list(reversed(modes))
            for mode in order:
                for values in configs:
                    started = time.perf_counter()
                    cost = float(modes[mode](values))
                    times[mode].append(time.perf_counter() - started)
                    if repeat == 0:
                        costs[mode].append(cost)
            close_trial_processes()  # each repeat's kept child starts cold, as a run's does
        close_trial_processes()

    base_median = statistics.median(times["in process"])
    base_total = sum(times["in process"])
    models = args.models or "the built-in space"
    print(f"{args.demo}, {args.configs} configurations of {models}, {args.repeats} repeats, seed {args.seed}")
    for mode in modes:
        median, total = statistics.median(times[mode]), sum(times[mode])
        print(
            f"{mode:>15}: median {median:.3f} s/trial, total {total:.1f} s"
            f" = ratio {median / base_median:.2f} (median), {total / base_total:.2f} (total)"
        )
    same = costs["in process"] == costs["kept child"] == costs["fork per trial"]
    print(f"same cost for every configuration in all three modes: {same}")


if __name__ == "__main__":
    main()
