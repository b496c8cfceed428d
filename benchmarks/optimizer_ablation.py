"""Random search or BO when few trials fit? (issue 20) The suggested config against the same config with another
optimizer, side by side on the same split, seed, budget and one pinned core.

For each dataset and seed: ``metaconf suggest`` once (as a user would, with the dataset's description), then
``metaconf run --save-model`` on each arm, the saved model scored on the held-out 25 % (the split and headline
score of ``benchmarks/peers.py``: balanced accuracy or R²). Arms:

- ``suggested``: the config exactly as ``suggest`` wrote it;
- ``bo``: the same config with ``optimizer.kind: bo`` and a Sobol initial design of ``--design`` points next to
  the suggested warm starts (what R8 writes when at least 15 trials fit);
- ``random``: the same config with ``optimizer.kind: random`` and a default initial design (R8's choice below
  15 trials).

An arm equal to the suggested config is not run again. Prints one row per cell and wins / ties / losses of each
arm against ``suggested`` (ties within 0.005, as in peers.py).

    python benchmarks/optimizer_ablation.py --datasets ames_houses digits --seeds 0 1 2 --budget 60s \\
        --out /tmp/opt.json --cpu 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import (
    DATASETS,
    compare,
    default_cpu,
    headline_score,
    log_tail,
    metaconf_command,
    metaconf_cwd,
    metaconf_env,
    parse_budget,
    run_pinned,
    write_split,
)

ARMS = ("suggested", "bo", "random")


def variant(config: dict[str, Any], arm: str, design: int) -> dict[str, Any] | None:
    """The config of one arm, or None when it is the suggested config itself."""
    kind = (config.get("optimizer") or {}).get("kind", "bo")
    if arm == "suggested" or kind == arm:
        return None if arm != "suggested" else config
    out = json.loads(json.dumps(config))
    out["optimizer"] = {**(out.get("optimizer") or {}), "kind": arm}
    warm = (out.get("initial_design") or {}).get("warm_start") or []
    if arm == "bo":
        out["initial_design"] = {"kind": "sobol", "size": design, "warm_start": warm}
    else:
        out["initial_design"] = {"kind": "default", "warm_start": warm}
    out.pop("provenance", None)
    return out


def run_arm(folder: Path, config: dict[str, Any], test: Path, target: str, task: str, cpu: int | None,
            budget_s: float) -> dict[str, Any]:
    import joblib
    import pandas as pd
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metaconf.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    log = folder / "metaconf.log"
    log.unlink(missing_ok=True)
    command = [*metaconf_command(), "run", str(path), "--save-model", "--quiet", "--overwrite"]
    code, seconds = run_pinned(command, cpu=cpu, timeout=budget_s * 3 + 60, env=metaconf_env(), log=log,
                               cwd=metaconf_cwd())
    row: dict[str, Any] = {"run_s": round(seconds, 1), "score": None}
    results = sorted(folder.glob("**/results.json"))
    if results:
        data = json.loads(results[0].read_text(encoding="utf-8"))
        row["n_trials"] = (data.get("trials") or {}).get("total")
        row["incumbent_model"] = ((data.get("incumbent") or {}).get("config") or {}).get("model")
    models = sorted(folder.glob("**/model.joblib"))
    if code != 0 or not models:
        row["error"] = f"run exited {code}: {log_tail(log)}"
        return row
    frame = pd.read_csv(test)
    ignored = [c for c in (config.get("data") or {}).get("ignore_columns") or [] if c in frame.columns]
    model = joblib.load(models[0])
    row["score"] = round(headline_score(task, frame[target], model.predict(frame.drop(columns=[target, *ignored]))), 5)
    return row


def main(argv: list[str] | None = None) -> int:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", required=True, choices=sorted(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--design", type=int, default=2, help="Sobol points of the bo arm (besides warm starts)")
    parser.add_argument("--out", type=Path, required=True, help="JSON results; its runs go to OUT's stem + -runs/")
    parser.add_argument("--cpu", type=int, default=default_cpu())
    args = parser.parse_args(argv)

    work = args.out.with_name(args.out.stem + "-runs")
    budget_s = parse_budget(args.budget)
    rows: list[dict[str, Any]] = []
    for name in args.datasets:
        spec = DATASETS[name]
        for seed in args.seeds:
            cell = work / f"{name}-seed{seed}"
            train, test = write_split(name, seed, work / "data" / f"{name}-seed{seed}")
            cell.mkdir(parents=True, exist_ok=True)
            suggested = cell / "suggested.yaml"
            log = cell / "suggest.log"
            command = [*metaconf_command(), "suggest", "--data", str(train), "--target", spec.target,
                       "--budget", args.budget, "--describe", spec.description, "--seed", str(seed),
                       "--output", str(suggested), "--force"]
            code, suggest_s = run_pinned(command, cpu=args.cpu, timeout=budget_s * 2 + 60, env=metaconf_env(),
                                         log=log, cwd=metaconf_cwd())
            if code != 0:
                print(f"{name} seed {seed}: suggest exited {code}: {log_tail(log)}", flush=True)
                continue
            config = yaml.safe_load(suggested.read_text(encoding="utf-8"))
            # the arms' configs sit one folder deeper than suggested.yaml: keep the data path pointing at train.csv
            config.setdefault("data", {})["path"] = str(train.resolve())
            row: dict[str, Any] = {"dataset": name, "seed": seed, "suggest_s": round(suggest_s, 1),
                                   "suggested_kind": (config.get("optimizer") or {}).get("kind", "bo")}
            for arm in args.arms:
                arm_config = variant(config, arm, args.design)
                if arm_config is None:
                    continue
                row[arm] = run_arm(cell / arm, arm_config, test, spec.target, spec.task, args.cpu, budget_s)
            rows.append(row)
            print(json.dumps(row), flush=True)
            args.out.write_text(json.dumps(rows, indent=1), encoding="utf-8")

    print()
    print("| dataset | seed | suggested optimizer | " + " | ".join(args.arms) + " |")
    print("|---|---|---|" + "---|" * len(args.arms))
    for row in rows:
        cells = []
        for arm in args.arms:
            result = row.get(arm)
            cells.append("(same)" if result is None else f"{result['score']} ({result.get('n_trials')} trials, "
                         f"{result.get('incumbent_model')})")
        print(f"| {row['dataset']} | {row['seed']} | {row['suggested_kind']} | " + " | ".join(cells) + " |")
    for arm in args.arms:
        if arm == "suggested":
            continue
        verdicts = [compare(row[arm]["score"], row["suggested"]["score"]) for row in rows
                    if row.get(arm) and row.get("suggested")]
        deltas = [row[arm]["score"] - row["suggested"]["score"] for row in rows
                  if row.get(arm) and row.get("suggested") and row[arm]["score"] is not None
                  and row["suggested"]["score"] is not None]
        if verdicts:
            print(f"{arm} against suggested: {verdicts.count('win')} W / {verdicts.count('tie')} T / "
                  f"{verdicts.count('loss')} L, mean difference {statistics.fmean(deltas):+.4f}"
                  if deltas else f"{arm}: no scores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
