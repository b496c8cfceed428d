"""Measure the constants of metaconf's ``--no-probe`` cost model (``metaconf.profile.probe.COST_MODEL``).

For each task type and built-in model family, fit the family's default configuration (in the run's
preprocessing pipeline, one thread, exactly as the probe does: ``metaconf.profile.probe.time_fit``) on
synthetic data of several sizes and widths, then fit

    seconds = t0 + c * (rows / 1000) ** b * (width / 20) ** e

per family: ``t0`` is the family's fixed overhead (0.8 x its fastest fit), and ``c``, ``b``, ``e`` come from
least squares on ``log(seconds - t0)``. Prints the table as a Python literal to paste into probe.py, and the
median relative error of the fitted model on the measurements.

``width`` counts one-hot columns at a per-family weight ``h`` (``width = numeric + h * one_hot``): a binary
column costs a tree a fraction of a continuous one (few thresholds; constant in most nodes), while a kernel or
linear model pays for it in full. ``h`` comes from fits on all-categorical synthetic data (10 columns of 8
levels, 3 of 24) against the family's curve at 20 numeric columns, measured in the same pass on the same rows,
so the machine's speed cancels: ``h = w / one_hot`` where ``w`` is the numeric width the curve needs to take
as long as the categorical fit.

    python benchmarks/components/cost_model.py                 # ~6 minutes on 2 cores
    python benchmarks/components/cost_model.py --quick         # fewer sizes, for a smoke test
    python benchmarks/components/cost_model.py --onehot        # only h, against the current COST_MODEL (~3 minutes)
    python benchmarks/components/cost_model.py --families lightgbm   # only the named families (a new family's constants)

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

from metaconf.profile.probe import COST_MODEL, EXPONENT_RANGE, default_values, time_fit
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


def categorical(task_type: str, rows: int, columns: int, levels: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """All-categorical data: ``columns`` string columns of ``levels`` equally likely values each."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, levels, size=(rows, columns))
    X = pd.DataFrame({f"c{i}": [f"v{v}" for v in codes[:, i]] for i in range(columns)})
    signal = codes[:, 0] + codes[:, 1 % columns] + rng.integers(0, 3, rows)
    if task_type == "classification":
        return X, pd.Series(np.where(signal % 2 == 0, "yes", "no"), name="y")
    return X, pd.Series(signal.astype(float), name="y")


CATEGORICAL_SHAPES = ((10, 8), (3, 24))
"""(columns, levels) of the categorical data ``h`` is measured on: 80 and 72 one-hot columns."""


def onehot_weight(k: dict[str, float], measured: list[tuple[float, float, float, float]]) -> float:
    """``h`` from (rows, one-hot columns, seconds of the categorical fit, seconds of the 20-numeric-column fit on
    the same rows): the median over the measurements of ``w / one_hot``, where ``w`` is the numeric width at which
    the curve, scaled to this pass's speed, takes as long as the categorical fit. A family whose cost hardly
    depends on the width (``e`` < 0.3) gets ``h`` = 1: the weight would be noise and barely matters."""
    if k["e"] < 0.3:
        return 1.0
    weights = []
    for n, onehot, seconds, numeric in measured:
        speed = numeric / predict(k, n, 20.0)
        variable = max(seconds / speed - k["t0"], 1e-6)
        width = 20.0 * (variable / (k["c"] * (n / 1000.0) ** k["b"])) ** (1.0 / k["e"])
        weights.append(width / onehot)
    return round(min(max(float(np.median(weights)), 0.05), 1.5), 3)


def measure_onehot(task_type: str, family: str, k: dict[str, float], sizes: list[int]) -> float:
    values = default_values(family, task_type)
    measured: list[tuple[float, float, float, float]] = []
    for n in sizes:
        X, y = synthetic(task_type, n, 20)
        numeric = min(time_fit(values, X, y, task_type, seed=0) for _ in range(2))
        for columns, levels in CATEGORICAL_SHAPES:
            X, y = categorical(task_type, n, columns, levels)
            seconds = min(time_fit(values, X, y, task_type, seed=0) for _ in range(2))
            measured.append((n, columns * levels, seconds, numeric))
            print(
                f"{task_type:>14} {family:>24} rows={n:>6} one-hot={columns * levels:>3}: {seconds:8.4f} s "
                f"(20 numeric: {numeric:.4f} s)",
                flush=True,
            )
    return onehot_weight(k, measured)


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
    """The model at ``width`` numeric columns (``metaconf.profile.probe.model_fit_seconds`` without one-hot)."""
    return k["t0"] + k["c"] * (rows / 1000.0) ** k["b"] * (width / 20.0) ** k["e"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two sizes and one width only")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON too")
    parser.add_argument(
        "--onehot", action="store_true", help="measure only the one-hot weight h against the current COST_MODEL"
    )
    parser.add_argument(
        "--refit", metavar="LOG", help="refit the constants from the timing lines of an earlier run's output"
    )
    parser.add_argument(
        "--families", nargs="+", metavar="FAMILY", help="measure only these families (default: all built-in ones)"
    )
    args = parser.parse_args()
    sizes = [500, 2000] if args.quick else [500, 2000, 6000]
    widths = [20] if args.quick else [10, 40]

    if args.refit:
        refit(args.refit)
        return
    started = time.perf_counter()
    if args.onehot:
        weights = {
            task_type: {
                family: measure_onehot(task_type, family, k, [500, 2000]) for family, k in COST_MODEL[task_type].items()
            }
            for task_type in COST_MODEL
        }
        print(f"\n# {platform.node()}, scikit-learn {sklearn.__version__}, {time.perf_counter() - started:.0f} s")
        print("h = " + json.dumps(weights, indent=4))
        return
    table: dict[str, dict[str, dict[str, float]]] = {}
    measurements: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    errors: list[float] = []
    for task_type in ("classification", "regression"):
        table[task_type] = {}
        measurements[task_type] = {}
        for family in families_for(task_type):
            if args.families and family.value not in args.families:
                continue
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
            constants["h"] = measure_onehot(task_type, family.value, constants, sizes[:2])
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
    table = {
        task: {
            # the timing lines carry no categorical fits: keep the current one-hot weight
            family: {**fit_constants(rows), "h": COST_MODEL.get(task, {}).get(family, {}).get("h", 1.0)}
            for family, rows in families.items()
        }
        for task, families in measured.items()
    }
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
