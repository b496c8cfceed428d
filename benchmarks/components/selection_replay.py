"""Replay the final selection of finished peer-benchmark runs at other ``resampling.selection_margin`` values.

Which configuration a SMAC run keeps is decided after its search (metaconf/targets/selection.py), so the
choice can be replayed on a search that already ran: for every metaconf run under the peer benchmark's work
directories (``benchmarks/peers.py --workdir``, default ``<out>-runs``), each margin's kept configuration is
fitted as ``metaconf run --save-model`` fits it (decision threshold from its validation predictions, every row
of the training file, the trial's estimator seed) and scored on the peer benchmark's held-out test file with
its headline score (balanced accuracy or R²). Same search, same split, same seed: the only difference between
two margins is the configuration kept. This sets the default of ``selection_margin``.

    python benchmarks/components/selection_replay.py /work/bench300/a-runs /work/bench300/b-runs --margins 0 0.5 1

Per run: the headline at each margin and the configuration kept (SMAC's config id, family, its position in
the order the search evaluated configurations); ``reproduced`` compares the margin the run itself used (the one
its config.yaml names; 0 for runs made before the setting existed) with the score the peer benchmark recorded
for its saved model when ``--peers JSON`` is given (the same fit, so it should match, unless the rule changed
since the run).
Then, per margin against margin 0: wins / ties / losses (tie within 0.005, as the peer benchmark) and the mean
difference. About one to three CPU-seconds per run and margin on the suite's tables.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

BENCHMARKS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCHMARKS))

from peers import compare, headline_score  # noqa: E402

from metaconf.config.model import Config  # noqa: E402
from metaconf.data.load import load_dataset  # noqa: E402
from metaconf.targets.evaluate import Evaluator  # noqa: E402
from metaconf.targets.selection import evaluation_order, full_budget_candidates, select  # noqa: E402

SUCCESS = 1
"""SMAC's StatusType.SUCCESS in runhistory.json."""


def replay(cell: Path, margins: list[float]) -> dict[str, Any]:
    """The headline test score of the configuration each margin keeps in the metaconf run of ``cell``."""
    run = cell / "metaconf" / "runs" / "metaconf"
    config = Config.model_validate(yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8")))
    dataset = load_dataset(config, cell / "metaconf")
    evaluator = Evaluator(config, dataset, seed=int(config.execution.seed or 0))
    history = json.loads(next((run / "smac").glob("**/runhistory.json")).read_text(encoding="utf-8"))
    seeds = {row["config_id"]: int(row["seed"]) for row in history["data"]}
    candidates = full_budget_candidates(
        (row["config_id"], row["budget"], float(row["cost"]), float(row["endtime"]))
        for row in history["data"]
        if row["status"] == SUCCESS
    )
    order = evaluation_order(candidates)
    n_rows = evaluator.validation_rows
    test = pd.read_csv(cell.parents[2] / "data" / cell.name / "test.csv")
    target = str(config.task.target)
    X_test, y_test = test.drop(columns=[target]), test[target]
    scored: dict[int, float] = {}
    # the margin the run itself used: its resolved config.yaml names it (runs made before the setting: 0)
    written = "selection_margin" in config.resampling.model_fields_set
    ran_with = float(config.resampling.selection_margin) if written else 0.0
    out: dict[str, Any] = {
        "cell": cell.name, "metric": evaluator.metric.name, "configs": len(candidates), "ran_with": ran_with,
    }  # fmt: skip
    for margin in sorted(set(margins) | {ran_with}):
        kept = select(candidates, margin=margin, metric=evaluator.metric, n_rows=n_rows).kept
        if kept.key not in scored:
            values = history["configs"][str(kept.key)]
            seed = seeds[kept.key]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                threshold = evaluator.evaluate(values, seed=seed, decide=True).threshold
                model = evaluator.refit_all_rows(values, seed=seed, threshold=threshold)
                assert model is not None
                predictions = model.predict(X_test)
            scored[kept.key] = headline_score(evaluator.task_type, y_test.tolist(), list(predictions))
        family = history["configs"][str(kept.key)].get("model", "?")
        out[f"{margin:g}"] = {
            "score": scored[kept.key],
            "config": kept.key,
            "family": family,
            "position": order.index(kept),
            "cost": kept.cost,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdirs", nargs="+", type=Path, help="peer benchmark work directories (<out>-runs)")
    parser.add_argument("--margins", nargs="+", type=float, default=[0.0, 0.5, 1.0])
    parser.add_argument("--peers", nargs="*", type=Path, default=[], help="the peer benchmark's JSON files")
    parser.add_argument("--datasets", nargs="*", default=None, help="only these datasets (default: every run)")
    parser.add_argument("--out", type=Path, default=None, help="write the replay as JSON")
    args = parser.parse_args(argv)
    margins = sorted(set(args.margins) | {0.0})
    recorded: dict[str, float] = {}
    for path in args.peers:
        for record in json.loads(path.read_text(encoding="utf-8"))["records"]:  # scores rounded to 4-5 digits
            if record["system"] == "metaconf" and record.get("score") is not None:
                recorded[f"{record['dataset']}-seed{record['seed']}"] = record["score"]
    cells = sorted(
        {p.parents[3] for w in args.workdirs for p in w.glob("runs/*/*/metaconf/runs/metaconf/results.json")}
    )
    if args.datasets:
        cells = [cell for cell in cells if cell.name.rsplit("-seed", 1)[0] in args.datasets]
    rows = []
    header = "| run | metric | configs | " + " | ".join(f"margin {m:g}" for m in margins) + " | ran with | reproduced |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for cell in cells:
        row = replay(cell, margins)
        rows.append(row)
        kept = " | ".join(
            f"{row[f'{m:g}']['score']:.4f} ({row[f'{m:g}']['family']} #{row[f'{m:g}']['position']})" for m in margins
        )
        was = recorded.get(cell.name)
        own = row[f"{row['ran_with']:g}"]["score"]
        same = "" if was is None else ("yes" if abs(was - own) < 6e-5 else f"no ({was:.4f})")
        print(f"| {cell.name} | {row['metric']} | {row['configs']} | {kept} | {row['ran_with']:g} | {same} |", flush=True)
    print()
    for margin in margins[1:]:
        verdicts = [compare(row[f"{margin:g}"]["score"], row["0"]["score"]) for row in rows]
        diffs = [row[f"{margin:g}"]["score"] - row["0"]["score"] for row in rows]
        mean = statistics.fmean(diffs) if diffs else float("nan")
        print(f"margin {margin:g} vs 0: wins {verdicts.count('win')}  ties {verdicts.count('tie')}  "
              f"losses {verdicts.count('loss')}  mean {mean:+.4f} over {len(diffs)} runs")  # fmt: skip
    if args.out is not None:
        args.out.write_text(json.dumps({"margins": margins, "runs": rows}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
