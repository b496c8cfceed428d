"""Does the decision threshold (``metaconf/targets/threshold.py``) serve the user's goal on imbalanced binary tasks?

For each dataset x seed, the table is split 75 / 25 (seeded, stratified); ``metaconf suggest`` (rules, the
dataset's description, the real probe) writes one config for the 75 %; then two runs of that same config, one
after the other in this process, each with ``--save-model``:

- ``tuned``: metaconf as it is: the threshold chosen on validation predictions (for f1 / balanced accuracy /
  expected cost during the search; after ROC AUC / log loss for the saved model, for balanced accuracy);
- ``at 0.5``: the same with threshold tuning switched off (the saved model predicts at probability 0.5, or by
  the cost matrix's Bayes rule for expected cost).

The saved model of each run predicts the held-out 25 %; reported: test balanced accuracy, F1 of the positive
class, and for tasks with costs the expected cost per row; the paired difference tuned - at 0.5 and the wins /
ties / losses over all cells (tie within 0.005). Arms alternate order by seed so load drift favours neither.

Run (slow; needs ``pip install -e ".[bench]"`` for the peer datasets)::

    python benchmarks/threshold_ablation.py --datasets credit_default caravan churn rare_cancer --budget 60s --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

TIE = 0.005


def rare_cancer() -> tuple[Any, str, str]:
    """Breast cancer with 5 % malignant rows, four features (the test suite's imbalanced case)."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    y = pd.Series(np.where(bunch.target == 0, "malignant", "benign"), name="diagnosis")
    rng = np.random.default_rng(0)
    rows = np.sort(np.concatenate([np.flatnonzero(y == "benign"), rng.choice(np.flatnonzero(y == "malignant"), 19, replace=False)]))
    frame = bunch.data.iloc[rows, :4].reset_index(drop=True).assign(diagnosis=y.iloc[rows].to_numpy())
    return frame, "diagnosis", "Tumour measurements; find the rare malignant tumours."


def load(name: str) -> tuple[Any, str, str]:
    if name == "rare_cancer":
        return rare_cancer()
    from peer_datasets import DATASETS

    entry = DATASETS[name]
    return entry.load(), entry.target, entry.description


def split(frame: Any, target: str, seed: int) -> tuple[Any, Any]:
    from sklearn.model_selection import train_test_split

    return train_test_split(frame, test_size=0.25, stratify=frame[target], random_state=seed)


def switched_off() -> Any:
    """A context in which metaconf chooses no threshold (what metaconf did before)."""
    import contextlib

    from metaconf.targets import threshold

    @contextlib.contextmanager
    def context() -> Any:
        saved = threshold.TUNED_METRICS, threshold.THRESHOLD_FREE_METRICS
        threshold.TUNED_METRICS, threshold.THRESHOLD_FREE_METRICS = (), ()
        try:
            yield
        finally:
            threshold.TUNED_METRICS, threshold.THRESHOLD_FREE_METRICS = saved

    return context()


def run_arm(config: Any, run_dir: Path) -> Any:
    import joblib

    from metaconf.targets.run_dir import RunRequest
    from metaconf.targets.smac.runner import run_smac

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = run_smac(config, run_dir.parent, run_dir, RunRequest(overwrite=True, progress=False, save_model=True))
    return joblib.load(run_dir / "model.joblib"), outcome.results


def scores(model: Any, test: Any, target: str, positive: Any, config: Any) -> dict[str, float]:
    import numpy as np
    from sklearn.metrics import balanced_accuracy_score, f1_score

    from metaconf.data.labels import label_key, normalize_labels

    y = normalize_labels(test[target]).to_numpy()
    predicted = model.predict(test.drop(columns=[target]))
    out = {
        "balanced_accuracy": float(balanced_accuracy_score(y, predicted)),
        "f1": float(f1_score(y, predicted, pos_label=positive, zero_division=0)),
    }
    matrix = config.task.cost_matrix
    if matrix is not None:
        index = {label_key(label): i for i, label in enumerate(matrix.labels)}
        costs = np.asarray(matrix.costs, dtype=float)
        out["expected_cost"] = float(np.mean([costs[index[label_key(t)], index[label_key(p)]] for t, p in zip(y, predicted, strict=True)]))
    return out


def cell(name: str, seed: int, budget: str, out: Path) -> dict[str, Any]:
    import yaml

    import metaconf
    from metaconf.config.model import Config
    from metaconf.data.labels import normalize_labels
    from metaconf.targets.metrics import default_positive_label

    frame, target, description = load(name)
    train, test = split(frame, target, seed)
    folder = out / f"{name}-s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    suggestion = metaconf.suggest(
        output=folder / "a.yaml", budget=budget, data=folder / "train.csv", target=target, seed=seed, describe=description
    )
    config = Config.model_validate(yaml.safe_load(suggestion.text))
    config = config.model_copy(update={"data": config.data.model_copy(update={"path": str(folder / "train.csv")})})
    y = normalize_labels(frame[target])
    classes = sorted(y.unique().tolist())
    positive = config.task.positive_label or default_positive_label(classes, y)
    result: dict[str, Any] = {"dataset": name, "seed": seed, "metric": config.task.metric.value, "positive": str(positive)}
    arms = ["tuned", "at 0.5"] if seed % 2 == 0 else ["at 0.5", "tuned"]
    for arm in arms:
        run_dir = folder / arm.replace(" ", "_")
        if arm == "tuned":
            model, results = run_arm(config, run_dir)
        else:
            with switched_off():
                model, results = run_arm(config, run_dir)
        result[arm] = scores(model, test, target, positive, config) | {
            "trials": results.n_trials,
            "threshold": (results.incumbent.decision_threshold or {}).get("value") if results.incumbent else None,
        }
    return result


def report(cells: list[dict[str, Any]]) -> None:
    print(f"{'dataset':<16}{'seed':>5} {'metric':<18}{'bal.acc tuned / 0.5':>22}{'F1 tuned / 0.5':>18}{'cost tuned / 0.5':>20}  threshold")
    wins = ties = losses = 0
    diffs = []
    for c in cells:
        t, d = c["tuned"], c["at 0.5"]
        cost = f"{t['expected_cost']:.3f} / {d['expected_cost']:.3f}" if "expected_cost" in t else "-"
        th = f"{t['threshold']:.3f}" if t["threshold"] is not None else "0.5"
        print(
            f"{c['dataset']:<16}{c['seed']:>5} {c['metric']:<18}{t['balanced_accuracy']:>10.3f} / {d['balanced_accuracy']:.3f}"
            f"{t['f1']:>10.3f} / {d['f1']:.3f}{cost:>20}  {th}"
        )
        goal = "expected_cost" if "expected_cost" in t else "balanced_accuracy"
        diff = (d[goal] - t[goal]) if goal == "expected_cost" else (t[goal] - d[goal])
        diffs.append(diff)
        wins, ties, losses = wins + (diff > TIE), ties + (abs(diff) <= TIE), losses + (diff < -TIE)
    if diffs:
        print(
            f"\ntuned vs at 0.5 on the user's goal (expected cost where costs are stated, else balanced accuracy): "
            f"{wins} won, {ties} tied, {losses} lost; median improvement {statistics.median(diffs):+.4f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["credit_default", "caravan", "churn", "rare_cancer"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--out", type=Path, default=Path("threshold-ablation"))
    parser.add_argument("--reuse", action="store_true", help="reprint the table from OUT/cells.json")
    args = parser.parse_args()
    store = args.out / "cells.json"
    if args.reuse:
        report(json.loads(store.read_text(encoding="utf-8")))
        return 0
    cells = []
    for name in args.datasets:
        for seed in args.seeds:
            cells.append(cell(name, seed, args.budget, args.out))
            args.out.mkdir(parents=True, exist_ok=True)
            store.write_text(json.dumps(cells, indent=2), encoding="utf-8")
    report(cells)
    return 0


if __name__ == "__main__":
    sys.exit(main())
