"""How far is the advisor's cost of one fit, from a probe with a small limit, from what the families really cost?

``metaconf suggest`` gives the trial-cost probe 3% of the budget (1.35 s at 45 s, R14). In that time it
measures a few families on the smallest subsample; the advisor (R2) turns those fits into a *machine factor*
(the median measured / modelled seconds) and costs every other family as the cost model x that factor. This
script measures how good that is, in one process:

1. **baseline**: a probe with a long limit (``--baseline-limit``, default 30 s), which fits every family on
   every subsample: the best estimate of each family's cost on this machine, now;
2. **small**: ``--repeats`` probes with ``--limit`` (default 1.35 s, the 45 s budget's), different seeds.

Printed per repeat: the machine factor, which families the small probe measured, and per family the ratio
small / baseline of the seconds per fit the advisor would use (1.00 = exact; families excluded by R3 and the
number of trials both follow these seconds). Last, per family, the median factor by which the small probe is
off, either way (``exp(median |log ratio|)``).

Usage::

    python benchmarks/probe_accuracy.py --demo german_credit
    python benchmarks/probe_accuracy.py --demo titanic --limit 2.7 --repeats 5
"""

from __future__ import annotations

import argparse
import math
import statistics
import warnings

FAMILIES = (
    "random_forest",
    "extra_trees",
    "hist_gradient_boosting",
    "linear",
    "svm",
    "k_nearest_neighbors",
    "mlp",
    "decision_tree",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="german_credit")
    parser.add_argument("--limit", type=float, default=1.35, help="the small probe's limit in seconds")
    parser.add_argument("--baseline-limit", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import metaconf

    config = metaconf.Config.model_validate({"data": {"demo": args.demo}})
    rows = len(metaconf.load_data(config).y)

    def advised(limit: float, seed: int) -> tuple[dict[str, float], float, list[str]]:
        costs = metaconf.probe(config, limit=limit, families=FAMILIES, seed=seed)
        return costs.seconds_per_fit, costs.machine_factor, list(costs.measured)

    baseline, factor, _ = advised(args.baseline_limit, 0)
    short = {name: name.replace("_", " ")[:13] for name in FAMILIES}
    print(
        f"{args.demo}: {rows:,} rows; baseline probe ({args.baseline_limit:g} s) machine factor {factor:.2f}"
    )
    print("seconds per fit:  " + "  ".join(f"{short[n]}={baseline[n]:.3f}" for n in FAMILIES))
    ratios: list[dict[str, float]] = []
    for seed in range(args.repeats):
        seconds, factor, measured = advised(args.limit, seed)
        ratio = {name: seconds[name] / baseline[name] for name in FAMILIES}
        ratios.append(ratio)
        print(
            f"limit {args.limit:g} s, seed {seed}: machine factor {factor:.2f}, measured "
            f"{', '.join(measured) or 'none'}; small / baseline: "
            + "  ".join(f"{short[n]}={ratio[n]:.2f}" for n in FAMILIES)
        )
    off = {n: math.exp(statistics.median(abs(math.log(r[n])) for r in ratios)) for n in FAMILIES}
    print("median factor off: " + "  ".join(f"{short[n]}={off[n]:.2f}x" for n in FAMILIES))


if __name__ == "__main__":
    main()
