"""What does `metaconf run` cost on top of SMAC3? The same search, twice, in one process.

1. **metaconf**: :func:`metaconf.run` (lint, then what `metaconf run` does) — compile, callbacks (trial recording, origins,
   plateau / signal stops), ``trajectory.csv`` + ``results.json`` rewritten after every trial, then the test
   report and the plot.
2. **hand-written SMAC3**: the script a careful user would write with identical settings — the same Scenario
   values (name, seed, deterministic, crash cost, n_trials), the same single-threaded random-forest surrogate,
   facade defaults for everything else, and a plain function target calling the same cost function
   (:func:`metaconf.objective`: the space and the cost metaconf hands SMAC3).

Both build the same data split and search space. Printed: wall and CPU time of the search (SMAC's ``optimize``;
CPU time of this process is the robust figure on a machine shared with other work) and
end to end (data loading to results; metaconf's includes the test evaluation and plot that the hand-written
script does not do), their ratios, and both incumbents with their costs, which must be identical for a fixed
seed (both run in one process, so under the same ``PYTHONHASHSEED``).

Usage::

    python benchmarks/run_overhead.py --demo breast_cancer --models random_forest,linear --n-trials 40
    python benchmarks/run_overhead.py --repeats 3 --optimizer hyperband

Runs alternate (metaconf first, then SMAC first) and the median of ``--repeats`` is reported, so that import
and cache warm-up do not favour either side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def make_config(args: argparse.Namespace, output_dir: str) -> Any:
    import metaconf

    data: dict[str, Any] = {
        "data": {"demo": args.demo},
        "search_space": {"models": args.models.split(",")},
        "optimizer": {"kind": args.optimizer},
        "stopping": {"n_trials": args.n_trials},
        "execution": {"seed": args.seed, "output_dir": output_dir, "name": "metaconf"},
    }
    if args.optimizer in ("hyperband", "successive_halving"):
        data["fidelity"] = {"type": "subsample"}
    return metaconf.Config.model_validate(data)


def run_metaconf(config: Any, root: Path) -> dict[str, Any]:
    import metaconf

    marks: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    results = metaconf.run(
        config,
        base_dir=root,
        run_dir=root / "metaconf-run",
        overwrite=True,
        on_plan=lambda plan: marks.update(cpu_start=time.process_time()),
        on_trial=lambda record, state: marks.update(cpu_end=time.process_time()),
    )
    total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
    inc = results.incumbent
    assert inc is not None
    return {
        "search_s": float(results.search_s or 0.0),
        "total_s": total,
        "search_cpu_s": marks["cpu_end"] - marks["cpu_start"],
        "total_cpu_s": total_cpu,
        "config": inc.config,
        "cost": inc.cost,
    }


def run_handwritten(config: Any, root: Path) -> dict[str, Any]:
    """The SMAC3 script with metaconf's settings spelled out by hand (no metaconf runner, no callbacks)."""
    import smac
    from smac.initial_design import SobolInitialDesign
    from smac.model.random_forest import RandomForest

    import metaconf

    t0, c0 = time.perf_counter(), time.process_time()
    seed = config.execution.seed
    evaluator = metaconf.objective(config, base_dir=root)
    space = evaluator.space
    multi_fidelity = config.is_multi_fidelity()

    if multi_fidelity:

        def target(cfg: Any, seed: int = 0, budget: float | None = None) -> float:
            return evaluator.cost(cfg, seed=seed, budget=budget)

    else:

        def target(cfg: Any, seed: int = 0) -> float:  # type: ignore[misc]
            return evaluator.cost(cfg, seed=seed)

    # CPU time is measured from here (Scenario, facade, optimize), as for metaconf from the compiled plan on
    c_search = time.process_time()
    scenario = smac.Scenario(
        space,
        name="metaconf",  # the run name changes SMAC's results: use the one metaconf uses
        output_directory=root / "handwritten",
        deterministic=True,
        crash_cost=evaluator.metric.worst_cost,
        n_trials=config.stopping.n_trials,
        seed=seed,
        min_budget=0.1 if multi_fidelity else None,
        max_budget=1.0 if multi_fidelity else None,
    )
    facade_cls = {
        "bo": smac.HyperparameterOptimizationFacade,
        "random": smac.RandomFacade,
        "bo_gp": smac.BlackBoxFacade,
        "hyperband": smac.MultiFidelityFacade,
    }[config.optimizer.kind.value]
    kwargs: dict[str, Any] = {}
    if config.optimizer.kind.value in ("bo", "hyperband"):
        kwargs["model"] = RandomForest(
            configspace=space, seed=seed, log_y=True, n_trees=10, ratio_features=1.0,
            min_samples_split=2, min_samples_leaf=1, max_depth=2**20, bootstrapping=True, n_jobs=1,
        )  # fmt: skip
    if config.optimizer.kind.value == "hyperband":
        kwargs["intensifier"] = smac.MultiFidelityFacade.get_intensifier(scenario, eta=3)
    if config.optimizer.kind.value in ("hyperband", "random"):
        # metaconf's default initial design is Sobol for every optimizer; these facades default to others
        kwargs["initial_design"] = SobolInitialDesign(scenario)
    facade = facade_cls(scenario, target, overwrite=True, logging_level=40, **kwargs)
    t_search = time.perf_counter()
    incumbent = facade.optimize()
    search, search_cpu = time.perf_counter() - t_search, time.process_time() - c_search
    total = time.perf_counter() - t0
    values = {k: (v.item() if hasattr(v, "item") else v) for k, v in dict(incumbent).items()}
    return {
        "search_s": search,
        "total_s": total,
        "search_cpu_s": search_cpu,
        "total_cpu_s": time.process_time() - c0,
        "config": values,
        "cost": facade.runhistory.get_cost(incumbent),
    }


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":  # SMAC's results depend on it: make the figures repeatable
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="breast_cancer")
    parser.add_argument("--models", default="random_forest,linear")
    parser.add_argument("--optimizer", default="bo", choices=["bo", "random", "bo_gp", "hyperband"])
    parser.add_argument("--n-trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rows: dict[str, list[dict[str, Any]]] = {"metaconf": [], "smac": []}
    with tempfile.TemporaryDirectory(prefix="metaconf-overhead-") as tmp:
        root = Path(tmp)
        config = make_config(args, str(root))
        # Untimed warm-up of both paths: lazy imports (scikit-learn estimators, SMAC components, matplotlib)
        # would otherwise be charged to whichever side runs first.
        warm = argparse.Namespace(**{**vars(args), "n_trials": 5})
        run_handwritten(make_config(warm, str(root)), root)
        run_metaconf(make_config(warm, str(root)), root)
        for repeat in range(args.repeats):
            order = ["metaconf", "smac"] if repeat % 2 == 0 else ["smac", "metaconf"]
            for side in order:
                result = run_metaconf(config, root) if side == "metaconf" else run_handwritten(config, root)
                rows[side].append(result)
                print(
                    f"repeat {repeat + 1} {side:>8}: search {result['search_s']:.2f} s wall, "
                    f"{result['search_cpu_s']:.2f} s CPU; total {result['total_s']:.2f} s wall",
                    flush=True,
                )

    def median(side: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[side])

    search_ratio = median("metaconf", "search_s") / median("smac", "search_s")
    cpu_ratio = median("metaconf", "search_cpu_s") / median("smac", "search_cpu_s")
    total_ratio = median("metaconf", "total_s") / median("smac", "total_s")
    same = all(m["config"] == s["config"] for m, s in zip(rows["metaconf"], rows["smac"], strict=True))
    print()
    print(
        f"{args.optimizer} on {args.demo}, {args.n_trials} trials, seed {args.seed}, median of {args.repeats}"
    )
    print(f"search wall time : metaconf {median('metaconf', 'search_s'):.2f} s / SMAC3 {median('smac', 'search_s'):.2f} s"
          f" = ratio {search_ratio:.3f}")  # fmt: skip
    print(f"search CPU time  : metaconf {median('metaconf', 'search_cpu_s'):.2f} s / SMAC3 {median('smac', 'search_cpu_s'):.2f} s"
          f" = ratio {cpu_ratio:.3f} (this process only: robust when other work shares the cores)")  # fmt: skip
    print(f"end to end       : metaconf {median('metaconf', 'total_s'):.2f} s / SMAC3 {median('smac', 'total_s'):.2f} s"
          f" = ratio {total_ratio:.3f} (metaconf also evaluates the incumbent on the test set and plots)")  # fmt: skip
    print(
        f"incumbent cost   : metaconf {rows['metaconf'][0]['cost']:.6f} / SMAC3 {rows['smac'][0]['cost']:.6f}"
    )
    print(f"same incumbent   : {same}")
    print(f"incumbent        : {rows['metaconf'][0]['config']}")


if __name__ == "__main__":
    main()
