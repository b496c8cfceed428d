"""Does the decision threshold (``task.decision_threshold: auto``, docs/run.md) serve the user's goal on imbalanced binary tasks?

For each dataset x seed, the table is split 75 / 25 (seeded, stratified); ``metaconf suggest`` (rules, the
dataset's description, the real probe) writes one config for the 75 %; then two runs of that same config, one
after the other in this process, each with ``--save-model``:

- ``tuned``: metaconf as it is: the threshold chosen on validation predictions (for f1 / balanced accuracy /
  expected cost during the search; after ROC AUC / log loss for the saved model, for balanced accuracy);
- ``at 0.5``: the same with ``task.decision_threshold: natural`` (the saved model predicts at probability 0.5,
  or by the cost matrix's Bayes rule for expected cost).

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


def natural(config: Any) -> Any:
    """The same config with the model's own decision (``task.decision_threshold: natural``)."""
    import metaconf

    data = config.model_dump(mode="json", exclude_unset=True)
    data["task"] = {**data.get("task", {}), "decision_threshold": "natural"}
    return metaconf.Config.model_validate(data)


def run_arm(config: Any, run_dir: Path) -> Any:
    import joblib

    import metaconf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = metaconf.run(config, base_dir=run_dir.parent, run_dir=run_dir, overwrite=True, save_model=True)
    return joblib.load(run_dir / "model.joblib"), results


def scores(model: Any, test: Any, target: str, config: Any, labels: list[Any]) -> dict[str, float | None]:
    """Balanced accuracy, F1 of the positive class (the config's, else the minority of ``labels``) and, with
    costs, the expected cost per row, as metaconf scores them."""
    import metaconf

    y = test[target].tolist()
    predicted = list(model.predict(test.drop(columns=[target])))
    names = ["balanced_accuracy", "f1"] + (["expected_cost"] if config.task.cost_matrix is not None else [])
    return {name: metaconf.score(y, predicted, config=config, metric=name, labels=labels) for name in names}


def cell(name: str, seed: int, budget: str, out: Path) -> dict[str, Any]:
    import metaconf

    frame, target, description = load(name)
    train, test = split(frame, target, seed)
    folder = out / f"{name}-s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    suggestion = metaconf.suggest(
        output=folder / "a.yaml", budget=budget, data=folder / "train.csv", target=target, seed=seed, describe=description
    )
    data = suggestion.config.model_dump(mode="json", exclude_unset=True)
    data["data"] = {**data["data"], "path": str(folder / "train.csv")}
    config = metaconf.Config.model_validate(data)
    positive = config.task.positive_label or frame[target].value_counts().idxmin()  # f1's class: the minority
    result: dict[str, Any] = {
        "dataset": name, "seed": seed, "metric": config.effective_metric().value, "positive": str(positive),
    }  # fmt: skip
    arms = ["tuned", "at 0.5"] if seed % 2 == 0 else ["at 0.5", "tuned"]
    for arm in arms:
        run_dir = folder / arm.replace(" ", "_")
        model, results = run_arm(config if arm == "tuned" else natural(config), run_dir)
        result[arm] = scores(model, test, target, config, frame[target].tolist()) | {
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
