"""What the incumbent's final report costs after the search, with and without evaluating its folds again.

After the search `metaconf run` reports the incumbent's validation score, refits it on the search rows, scores
it on the test rows and (with ``--save-model``) refits it on all rows. The validation score used to come from a
second cross-validation of the incumbent, with the trial's own seed: the very number the trial had measured.
The budget does not set that time aside. Now the trial's cost is taken where no decision threshold must be
chosen from the validation predictions.

For every finished metaconf run under the given directories (a `benchmarks/peers.py` workdir, say), this
builds the run's evaluator from its `config.yaml` and times :meth:`Evaluator.test_report` both ways, on the
incumbent and estimator seed of its `results.json`, one after the other in this process. It prints the seconds
of each and checks that both report the same validation cost as the search (the reuse is exact, or it would
change what is reported).

Usage::

    python benchmarks/components/final_report_time.py /tmp/bench/b60-runs/runs/60s --cpu 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path, help="directories searched for metaconf run directories")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")

    from metaconf import load_config
    from metaconf.data.load import load_dataset
    from metaconf.report.results import read_results
    from metaconf.targets.evaluate import Evaluator

    runs = sorted({p.parent for root in args.roots for p in root.glob("**/results.json")})
    rows = []
    for run_dir in runs:
        results = read_results(run_dir)
        incumbent = results.incumbent
        config_path = run_dir / "config.yaml"
        if incumbent is None or incumbent.cost is None or not config_path.exists():
            continue
        config = load_config(config_path)  # the loader's limits, and its file:line:col on a bad file
        # `data.path` is relative to the config the run was started from; results.json has it joined to it
        source, relative = str((results.dataset or {}).get("source", "")), str(config.data.path or "")
        base_dir = Path(source[: -len(relative)]) if relative and source.endswith(relative) else run_dir
        evaluator = Evaluator(config, load_dataset(config, base_dir), seed=int(config.execution.seed or 0))
        seed = incumbent.estimator_seed
        started = time.perf_counter()
        again = evaluator.test_report(incumbent.config, seed=seed)
        evaluated_s = time.perf_counter() - started
        started = time.perf_counter()
        reused = evaluator.test_report(incumbent.config, seed=seed, searched_cost=incumbent.cost)
        reused_s = time.perf_counter() - started
        same = again["validation_cost"] == incumbent.cost == reused["validation_cost"]
        decides = evaluator.decides(incumbent.config)
        label = next((str(run_dir.relative_to(r)) for r in args.roots if run_dir.is_relative_to(r)), str(run_dir))
        rows.append((label, incumbent.config.get("model"), evaluated_s, reused_s, same, decides))
        print(f"{label:50} {incumbent.config.get('model')!s:24} test report: evaluated again {evaluated_s:6.2f} s, "
              f"trial's cost {reused_s:6.2f} s; same validation cost: {same}"
              + ("  (threshold: evaluated again both ways)" if decides else ""), flush=True)
    if not rows:
        print("no finished metaconf runs found", file=sys.stderr)
        return 1
    plain = [r for r in rows if not r[5]]
    saved = [r[2] - r[3] for r in plain]
    print(f"\n{len(rows)} runs, {len(plain)} without a decision threshold; validation cost identical in "
          f"{sum(r[4] for r in rows)} of {len(rows)}")
    if saved:
        print(f"seconds saved per run without a threshold: median {statistics.median(saved):.2f}, "
              f"max {max(saved):.2f}; the test report took a median {statistics.median(r[2] for r in plain):.2f} "
              f"-> {statistics.median(r[3] for r in plain):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
