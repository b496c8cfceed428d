"""Does the rule advisor's config beat SMAC3's defaults for the same walltime and search space?

For each dataset x budget x seed, three searches run through metaconf's own SMAC runner (the same data split,
metric, resampling, model families and search walltime for all three, so their validation scores compare):

- ``suggested``: the config `metaconf suggest` writes (with the real, bounded probe);
- ``default``: SMAC3's HPO facade as it comes: ``n_trials=100`` (the Scenario default), its default initial
  design (Sobol, 10 per hyperparameter, at most 25% of n_trials), no warm start, no per-trial limit;
- ``random``: random search for the same walltime (Bergstra & Bengio 2012's baseline).

Reported per dataset x budget cell (means over seeds): the final test score of each arm; the paired (same seed)
test difference suggested - default (positive = suggested better) with its standard error, and the wins / ties /
losses over seeds; the time the suggested and random arms need to reach the default arm's *final validation
score*, as a fraction of the search walltime (``inf`` when they never reach it); and whether suggested >= default
on test. A table is
printed, a CSV and a plot (``quality.png``: incumbent validation score over time per cell) are saved.

Aims (from the issue): suggested >= default on >= 80% of cells; median time-to-default-score <= 0.5.

Run (slow: every cell runs three searches of the budget; this is not part of the test run)::

    python benchmarks/suggest_quality.py                      # all datasets, 1m and 3m, seeds 0 1 2
    python benchmarks/suggest_quality.py --quick              # 4 datasets, 45s and 90s, seed 0
    python benchmarks/suggest_quality.py --datasets iris wine --budgets 30s --seeds 0 --out /tmp/q
    python benchmarks/suggest_quality.py --seeds 0 1 2 3 4 --reuse   # add seeds 3 and 4 to an earlier run
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

DATASETS = ["breast_cancer", "wine", "digits", "kr-vs-kp", "titanic", "german_credit"]
QUICK_DATASETS = ["breast_cancer", "wine", "german_credit", "kr-vs-kp"]
DESCRIPTIONS = {"german_credit": "german_credit_description.txt"}
ARMS = ("suggested", "default", "random")


@dataclass
class ArmResult:
    dataset: str
    budget: str
    seed: int
    arm: str
    test_score: float | None
    validation_score: float | None
    final_cost: float | None
    trials: int
    search_s: float
    walltime_s: float
    trajectory: list[tuple[float, float]]
    """(seconds since the search started, incumbent cost) after each trial."""
    greater_is_better: bool
    metric: str


def _description(dataset: str) -> str | None:
    name = DESCRIPTIONS.get(dataset)
    if name is None:
        return None
    return (EXAMPLES / name).read_text(encoding="utf-8")


def _suggested_config(dataset: str, budget: str, seed: int, out: Path) -> Any:
    import metaconf

    suggestion = metaconf.suggest(
        output=out / "suggested.yaml",
        budget=budget,
        demo=dataset,
        seed=seed,
        describe=_description(dataset),
        cores=2,
    )
    return suggestion.config


def _arm_config(suggested: Any, arm: str) -> Any:
    """The same task, data, resampling, families and search walltime; only the optimizer settings differ."""
    import metaconf

    if arm == "suggested":
        return suggested
    data = suggested.model_dump(mode="json", exclude_unset=True)
    for section in ("fidelity", "initial_design", "provenance"):  # their defaults
        data.pop(section, None)
    walltime = suggested.model_dump(mode="json")["stopping"]["walltime"]
    data["stopping"] = {"walltime": walltime, "n_trials": 100_000 if arm == "random" else 100}
    data["optimizer"] = {"kind": "random" if arm == "random" else "bo"}
    return metaconf.Config.model_validate(data)


def _arm_result(
    dataset: str, budget: str, seed: int, arm: str, config: Any, results: Any, trials: list[Any]
) -> ArmResult:
    incumbent = results.incumbent
    trajectory = [
        (t.walltime_s, t.incumbent_cost)
        for t in trials
        if t.incumbent_cost is not None and t.walltime_s is not None
    ]
    return ArmResult(
        dataset=dataset,
        budget=budget,
        seed=seed,
        arm=arm,
        test_score=incumbent.test_score if incumbent else None,
        validation_score=incumbent.validation_score if incumbent else None,
        final_cost=incumbent.cost if incumbent else None,
        trials=results.n_trials,
        search_s=float(results.search_s or 0.0),
        walltime_s=float(config.stopping.walltime or 0.0),
        trajectory=trajectory,
        greater_is_better=results.greater_is_better,
        metric=results.metric_name,
    )


def _run_dir(out: Path, dataset: str, budget: str, seed: int, arm: str) -> Path:
    return out / f"{dataset}-{budget}-s{seed}-{arm}"


def run_arm(dataset: str, budget: str, seed: int, arm: str, config: Any, out: Path) -> ArmResult:
    import metaconf

    run_dir = _run_dir(out, dataset, budget, seed, arm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = metaconf.run(config, base_dir=Path.cwd(), run_dir=run_dir, overwrite=True)
    return _arm_result(dataset, budget, seed, arm, config, results, metaconf.read_trials(run_dir))


def load_finished(dataset: str, budget: str, seed: int, out: Path) -> list[ArmResult] | None:
    """The three arms of one dataset x budget x seed from an earlier run into ``out``, or None unless all three
    finished (an interrupted benchmark resumes where it stopped; more seeds add to the earlier ones)."""
    import metaconf
    from metaconf.errors import MetaconfError

    loaded = []
    for arm in ARMS:
        run_dir = _run_dir(out, dataset, budget, seed, arm)
        try:
            results = metaconf.read_run(run_dir)
            config = metaconf.load_config(run_dir / "config.yaml")
            trials = metaconf.read_trials(run_dir)
        except (MetaconfError, OSError, ValueError):
            return None
        if results.status != "finished" or results.seed != seed:
            return None
        loaded.append(_arm_result(dataset, budget, seed, arm, config, results, trials))
    return loaded


def time_to_reach(trajectory: list[tuple[float, float]], cost: float | None) -> float:
    """Seconds until the incumbent cost first reaches ``cost`` (inf when it never does)."""
    if cost is None:
        return math.inf
    for seconds, incumbent in trajectory:
        if incumbent <= cost + 1e-12:
            return seconds
    return math.inf


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(present) if present else None


def summarise(results: list[ArmResult]) -> list[dict[str, Any]]:
    cells: dict[tuple[str, str], dict[str, list[ArmResult]]] = {}
    for r in results:
        cells.setdefault((r.dataset, r.budget), {}).setdefault(r.arm, []).append(r)
    rows = []
    for (dataset, budget), arms in cells.items():
        row: dict[str, Any] = {
            "dataset": dataset,
            "budget": budget,
            "metric": next(iter(arms.values()))[0].metric,
        }
        for arm in ARMS:
            row[f"test_{arm}"] = _mean([r.test_score for r in arms.get(arm, [])])
            row[f"trials_{arm}"] = _mean([float(r.trials) for r in arms.get(arm, [])])
        greater = next(iter(arms.values()))[0].greater_is_better
        for arm in ("suggested", "random", "default"):
            fractions = []
            for r in arms.get(arm, []):
                default = next((d for d in arms.get("default", []) if d.seed == r.seed), None)
                if default is None or not r.walltime_s:
                    continue
                fractions.append(time_to_reach(r.trajectory, default.final_cost) / r.walltime_s)
            row[f"reach_{arm}"] = statistics.median(fractions) if fractions else None
        # Paired by seed (same split, same probe, same families): how much better the suggested arm scored on
        # test than the default (positive = better, in the metric's units), with its standard error; the test
        # splits of small datasets are noisy, so a cell's verdict means little without it.
        diffs = []
        for r in arms.get("suggested", []):
            default = next((d for d in arms.get("default", []) if d.seed == r.seed), None)
            if default is None or r.test_score is None or default.test_score is None:
                continue
            diffs.append(r.test_score - default.test_score if greater else default.test_score - r.test_score)
        row["diff_mean"] = statistics.fmean(diffs) if diffs else None
        row["diff_se"] = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else None
        row["wins"] = sum(d > 1e-9 for d in diffs)
        row["ties"] = sum(abs(d) <= 1e-9 for d in diffs)
        row["losses"] = sum(d < -1e-9 for d in diffs)
        s, d = row["test_suggested"], row["test_default"]
        row["suggested_at_least_default"] = (
            None if s is None or d is None else (s >= d - 1e-9 if greater else s <= d + 1e-9)
        )
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    def fmt(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return "inf" if math.isinf(value) else f"{value:.4f}"
        return str(value)

    for r in rows:
        mean, se = r.get("diff_mean"), r.get("diff_se")
        r["diff"] = None if mean is None else f"{mean:+.4f}" + ("" if se is None else f" ± {se:.4f}")
        r["w/t/l"] = f"{r.get('wins', 0)}/{r.get('ties', 0)}/{r.get('losses', 0)}"
    header = [
        "dataset", "budget", "metric", "test_suggested", "test_default", "test_random", "diff", "w/t/l",
        "reach_suggested", "reach_random", "trials_suggested", "trials_default", "suggested_at_least_default",
    ]  # fmt: skip
    widths = [max(len(h), *(len(fmt(r.get(h))) for r in rows)) for h in header]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(fmt(r.get(h)).ljust(w) for h, w in zip(header, widths, strict=True)))
    decided = [r["suggested_at_least_default"] for r in rows if r["suggested_at_least_default"] is not None]
    reach = [r["reach_suggested"] for r in rows if r["reach_suggested"] is not None]
    if decided:
        print(
            f"\nsuggested >= default on test: {sum(decided)}/{len(decided)} cells ({sum(decided) / len(decided):.0%}; aim >= 80%)"
        )
    wins, ties, losses = (sum(r.get(k, 0) for r in rows) for k in ("wins", "ties", "losses"))
    if wins + ties + losses:
        print(
            f"paired by seed: suggested beat the default on test in {wins} runs, tied in {ties}, lost in {losses}"
        )
    if reach:
        median = statistics.median(reach)
        print(
            "median fraction of the walltime the suggested config needs to reach the default's final validation "
            f"score: {'inf' if math.isinf(median) else f'{median:.2f}'} (aim <= 0.50)"
        )


def plot(results: list[ArmResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = sorted({(r.dataset, r.budget) for r in results})
    cols = min(3, len(cells))
    rows = math.ceil(len(cells) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    colors = {"suggested": "tab:green", "default": "tab:blue", "random": "tab:gray"}
    for ax, (dataset, budget) in zip(axes.flat, cells, strict=False):
        for r in results:
            if (r.dataset, r.budget) != (dataset, budget) or not r.trajectory:
                continue
            xs = [t for t, _ in r.trajectory]
            ys = [c for _, c in r.trajectory]
            ax.step(
                xs,
                ys,
                where="post",
                color=colors[r.arm],
                alpha=0.8,
                label=r.arm if r.seed == min(x.seed for x in results) else None,
            )
        ax.set_title(f"{dataset}, {budget}")
        ax.set_xlabel("search time (s)")
        ax.set_ylabel("incumbent validation cost")
        ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(cells) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _report(started: float, result: ArmResult, note: str) -> None:
    print(
        f"[{time.monotonic() - started:6.0f}s] {result.dataset:14s} {result.budget:>4s} seed {result.seed} "
        f"{result.arm:9s} test={result.test_score} val={result.validation_score} trials={result.trials}"
        + (f" ({note})" if note else ""),
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument("--budgets", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="4 datasets, 45s and 90s, seed 0")
    parser.add_argument("--out", type=Path, default=Path("benchmark-results/suggest_quality"))
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="read back the seeds whose three searches already finished in --out instead of re-running them "
        "(resume an interrupted benchmark, add seeds to earlier ones)",
    )
    args = parser.parse_args(argv)
    datasets = args.datasets or (QUICK_DATASETS if args.quick else DATASETS)
    budgets = args.budgets or (["45s", "90s"] if args.quick else ["1m", "3m"])
    seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1, 2])
    args.out.mkdir(parents=True, exist_ok=True)

    import metaconf
    from metaconf.errors import DataError

    available = metaconf.demos()
    results: list[ArmResult] = []
    started = time.monotonic()
    for dataset in datasets:
        if dataset not in available:
            print(f"skip {dataset}: not a bundled dataset here", file=sys.stderr)
            continue
        for budget in budgets:
            for seed in seeds:
                finished = load_finished(dataset, budget, seed, args.out) if args.reuse else None
                if finished is not None:
                    results.extend(finished)
                    for result in finished:
                        _report(started, result, "reused")
                    continue
                try:
                    suggested = _suggested_config(dataset, budget, seed, args.out)
                except DataError as error:
                    print(f"skip {dataset}: {error}", file=sys.stderr)
                    break
                for arm in ARMS:
                    result = run_arm(dataset, budget, seed, arm, _arm_config(suggested, arm), args.out)
                    results.append(result)
                    _report(started, result, "")
    rows = summarise(results)
    with (args.out / "quality.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["dataset"])
        writer.writeheader()
        writer.writerows(rows)
    with (args.out / "runs.csv").open("w", newline="", encoding="utf-8") as handle:
        fields = [
            "dataset",
            "budget",
            "seed",
            "arm",
            "test_score",
            "validation_score",
            "final_cost",
            "trials",
            "search_s",
            "walltime_s",
        ]
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for r in results:
            writer.writerow({f: getattr(r, f) for f in fields})
    print_table(rows)
    if results:
        plot(results, args.out / "quality.png")
        print(f"\nwrote {args.out / 'quality.csv'}, {args.out / 'runs.csv'} and {args.out / 'quality.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
