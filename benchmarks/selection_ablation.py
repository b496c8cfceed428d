"""How much does picking the one configuration that is best on validation lose on test? (issue 4)

`benchmarks/suggest_quality.py` compares the suggested search with SMAC's default on test scores, and on test
sets of 36-640 rows the per-seed verdict is mostly noise: where the suggested search ended better on
validation it lost on test about as often as it won. This script measures the selection itself, on the run
directories such a benchmark left (no search is repeated):

for each finished run (the ``suggested`` and ``default`` arms), the ``--k`` configurations with the lowest
validation cost (successful trials at the run's highest budget) are refitted on all search rows, with the seed
their trial ran with, and scored on the test rows, exactly as ``metaconf run`` scores its incumbent
(``metaconf.objective``: ``final_model`` + ``test_cost``). Printed per dataset x budget x arm, means over seeds:

- ``incumbent``: the test score ``metaconf run`` recorded for its incumbent (results.json);
- ``top-k mean``: the mean test score of the k best on validation: what a pick among them at random gets;
- ``top-k oracle``: the best test score among them (a ceiling no selection rule reaches);
- ``rho``: Spearman's rank correlation of validation and test among the k (1 = validation orders them as test
  does; ~0 = the order among the best is noise);
- ``reproduced``: how many incumbents, refitted here, scored what results.json says (the refit is
  deterministic, so anything below all means this script does not score as the run did).

An incumbent below the top-k mean is the winner's curse of picking the best of many noisy estimates; a
selection rule or an ensemble of the top k would then help both arms, and the suggested one more only if its
searches evaluate more configurations.

    python benchmarks/suggest_quality.py ... --out bench         # first: the runs
    python benchmarks/selection_ablation.py bench --k 5          # ~1-2 CPU-s per run and k
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

ARMS = ("suggested", "default")
SUCCESS = 1
"""SMAC's StatusType.SUCCESS in runhistory.json."""


def top_trials(runhistory: dict[str, Any], k: int) -> list[tuple[float, int, dict[str, Any]]]:
    """(validation cost, trial seed, configuration) of the ``k`` distinct configurations with the lowest cost among
    the successful trials at the highest budget in ``runhistory`` (SMAC's runhistory.json)."""
    rows = [row for row in runhistory["data"] if row["status"] == SUCCESS and math.isfinite(row["cost"])]
    budgets = {row["budget"] for row in rows}
    highest = None if None in budgets or not budgets else max(budgets)
    best: dict[int, tuple[float, int]] = {}
    for row in rows:
        if row["budget"] != highest:
            continue
        key = row["config_id"]
        if key not in best or row["cost"] < best[key][0]:
            best[key] = (float(row["cost"]), int(row["seed"]))
    ranked = sorted(best.items(), key=lambda item: (item[1][0], item[0]))[:k]
    return [(cost, seed, runhistory["configs"][str(key)]) for key, (cost, seed) in ranked]


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None when either side is constant."""

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for m in range(i, j + 1):
                out[order[m]] = (i + j) / 2
            i = j + 1
        return out

    ra, rb = ranks(a), ranks(b)
    if len(set(ra)) < 2 or len(set(rb)) < 2:
        return None
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    return cov / math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same configuration (runhistory.json and results.json may round floats differently)."""
    if set(a) != set(b):
        return False
    return all(
        math.isclose(a[key], b[key], rel_tol=1e-9)
        if isinstance(a[key], float) or isinstance(b[key], float)
        else a[key] == b[key]
        for key in a
    )


def ablate(run_dir: Path, k: int) -> dict[str, Any] | None:
    """The top-k refits of one finished run, or None when the run is not finished or has no runhistory."""
    import metaconf

    results = metaconf.read_run(run_dir)
    histories = sorted(run_dir.glob("smac/*/*/runhistory.json"))
    if results.status != "finished" or results.incumbent is None or not histories:
        return None
    evaluator = metaconf.objective(metaconf.load_config(run_dir / "config.yaml"), base_dir=Path.cwd(), seed=results.seed)
    trials = top_trials(json.loads(histories[-1].read_text(encoding="utf-8")), k)
    validation: list[float] = []
    test: list[float] = []
    reproduced = None
    for cost, seed, values in trials:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = evaluator.final_model(values, seed=seed, validation_cost=cost)
        test_cost = evaluator.test_cost(model)
        if test_cost is None:
            return None
        validation.append(evaluator.metric.score(cost))
        test.append(evaluator.metric.score(test_cost))
        if _same(values, results.incumbent.config) and results.incumbent.test_score is not None:
            reproduced = math.isclose(test[-1], results.incumbent.test_score, rel_tol=1e-9, abs_tol=1e-12)
    greater = evaluator.metric.greater_is_better
    return {
        "incumbent": results.incumbent.test_score,
        "mean": statistics.fmean(test),
        "oracle": max(test) if greater else min(test),
        "rho": spearman(validation, test),
        "reproduced": reproduced,
        "k": len(test),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the --out directory of benchmarks/suggest_quality.py")
    parser.add_argument("--k", type=int, default=5, help="how many of the best configurations to refit")
    parser.add_argument("--datasets", nargs="*", help="only these datasets (default: all in OUT)")
    args = parser.parse_args(argv)

    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for run_dir in sorted(p for p in args.out.iterdir() if p.is_dir()):
        dataset, budget, _seed, arm = run_dir.name.rsplit("-", 3)
        if arm not in ARMS or (args.datasets and dataset not in args.datasets):
            continue
        row = ablate(run_dir, args.k)
        if row is not None:
            cells[(dataset, budget, arm)].append(row)
            print(f"{run_dir.name}: {json.dumps(row)}", flush=True)

    def mean(values: list[Any]) -> str:
        kept = [v for v in values if v is not None]
        return f"{statistics.fmean(kept):.4f}" if kept else "-"

    print()
    print("| dataset | budget | arm | runs | incumbent | top-k mean | top-k oracle | rho | reproduced |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (dataset, budget, arm), rows in sorted(cells.items()):
        checked = [r["reproduced"] for r in rows if r["reproduced"] is not None]
        print(
            f"| {dataset} | {budget} | {arm} | {len(rows)} | {mean([r['incumbent'] for r in rows])} | "
            f"{mean([r['mean'] for r in rows])} | {mean([r['oracle'] for r in rows])} | "
            f"{mean([r['rho'] for r in rows])} | {sum(checked)}/{len(checked)} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
