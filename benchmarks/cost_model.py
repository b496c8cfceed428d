"""Measure the constants of metaconf's ``--no-probe`` cost model (``metaconf.profile.probe.COST_MODEL``).

For each task type and built-in model family, fit the family's default configuration (in the run's
preprocessing pipeline, one thread, exactly as the probe does: ``metaconf.profile.probe.time_fit``) on
synthetic data of several sizes and widths, then fit

    seconds = t0 + c * (rows / 1000) ** b * (width / 20) ** e

per family: ``t0`` is the family's fixed overhead (0.8 x its fastest fit), and ``c``, ``b``, ``e`` come from
least squares on ``log(seconds - t0)``. Prints the table as a Python literal to paste into probe.py, and the
median relative error of the fitted model on the measurements.

    python benchmarks/cost_model.py                 # ~3 minutes on 2 cores
    python benchmarks/cost_model.py --quick         # fewer sizes, for a smoke test

Run it on an otherwise idle machine: other processes on the same cores inflate every timing.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import make_classification, make_regression

from metaconf.profile.probe import EXPONENT_RANGE, default_values, time_fit
from metaconf.space.builtin import families_for


def synthetic(task_type: str, rows: int, width: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    if task_type == "classification":
        X, y = make_classification(
            n_samples=rows, n_features=width, n_informative=max(2, width // 3), random_state=seed
        )
        target = pd.Series(np.where(y == 1, "yes", "no"), name="y")
    else:
        X, y = make_regression(n_samples=rows, n_features=width, n_informative=max(2, width // 3), noise=5.0, random_state=seed)
        target = pd.Series(y, name="y")
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(width)]), target


def fit_constants(rows: list[tuple[float, float, float]]) -> dict[str, float]:
    """(rows, width, seconds) -> t0, c, b, e. ``b`` is clamped to the probe's exponent range and ``e`` to
    [0, 2] (more rows or columns never make a fit cheaper; slopes outside come from timing noise), and ``c``
    is refitted after clamping."""
    t0 = 0.8 * min(t for _, _, t in rows)
    A = np.array([[1.0, math.log(n / 1000.0), math.log(w / 20.0)] for n, w, _ in rows])
    target = np.array([math.log(max(t - t0, 1e-5)) for _, _, t in rows])
    (_, b, e), *_ = np.linalg.lstsq(A, target, rcond=None)
    b = min(max(float(b), EXPONENT_RANGE[0]), EXPONENT_RANGE[1])
    e = min(max(float(e), 0.0), 2.0)
    log_c = float(np.mean(target - b * A[:, 1] - e * A[:, 2]))
    return {"t0": round(t0, 4), "c": round(math.exp(log_c), 4), "b": round(b, 3), "e": round(e, 3)}


def predict(k: dict[str, float], rows: float, width: float) -> float:
    return k["t0"] + k["c"] * (rows / 1000.0) ** k["b"] * (width / 20.0) ** k["e"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two sizes and one width only")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON too")
    parser.add_argument(
        "--refit", metavar="LOG", help="refit the constants from the timing lines of an earlier run's output"
    )
    args = parser.parse_args()
    sizes = [500, 2000] if args.quick else [500, 2000, 6000]
    widths = [20] if args.quick else [10, 40]

    if args.refit:
        refit(args.refit)
        return
    started = time.perf_counter()
    table: dict[str, dict[str, dict[str, float]]] = {}
    measurements: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    errors: list[float] = []
    for task_type in ("classification", "regression"):
        table[task_type] = {}
        measurements[task_type] = {}
        for family in families_for(task_type):
            values = default_values(family.value, task_type)
            rows: list[tuple[float, float, float]] = []
            for width in widths:
                for n in sizes:
                    X, y = synthetic(task_type, n, width)
                    seconds = min(time_fit(values, X, y, task_type, seed=0) for _ in range(2))
                    rows.append((n, width, seconds))
                    print(f"{task_type:>14} {family.value:>24} rows={n:>6} width={width:>3}: {seconds:8.4f} s", flush=True)
            if len(widths) == 1:
                rows += [(n, w * 2, t) for n, w, t in rows]  # no width information: e = 0
            constants = fit_constants(rows)
            table[task_type][family.value] = constants
            measurements[task_type][family.value] = rows
            errors += [abs(predict(constants, n, w) - t) / t for n, w, t in rows]

    print(f"\n# {platform.node()} {platform.processor() or platform.machine()}, scikit-learn {sklearn.__version__}, "
          f"{time.perf_counter() - started:.0f} s")
    print(f"# median relative error of the fitted model on its measurements: {np.median(errors):.0%}")
    print("COST_MODEL = " + json.dumps(table, indent=4))
    if args.json:
        print(json.dumps(measurements))


def refit(log: str) -> None:
    """Constants from lines such as ``classification   linear rows=   500 width= 10:   0.0520 s``."""
    import re

    pattern = re.compile(r"^\s*(\w+)\s+(\w+) rows=\s*(\d+) width=\s*(\d+):\s*([\d.]+) s$")
    measured: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    with open(log, encoding="utf-8") as handle:
        for line in handle:
            match = pattern.match(line)
            if match:
                task, family, n, w, t = match.groups()
                measured.setdefault(task, {}).setdefault(family, []).append((float(n), float(w), float(t)))
    table = {task: {family: fit_constants(rows) for family, rows in families.items()} for task, families in measured.items()}
    errors = [
        abs(predict(table[task][family], n, w) - t) / t
        for task, families in measured.items()
        for family, rows in families.items()
        for n, w, t in rows
    ]
    print(f"# median relative error of the fitted model on its measurements: {np.median(errors):.0%}")
    print("COST_MODEL = " + json.dumps(table, indent=4))


if __name__ == "__main__":
    main()
