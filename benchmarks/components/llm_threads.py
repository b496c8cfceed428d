"""How long does the LLM take to read a description with one or two llama.cpp prompt threads?

Each setting runs in a fresh process (OpenMP reads ``OMP_WAIT_POLICY`` once, when it starts) and times
:meth:`metaconf.advise.llm.extract.Extractor.extract` on two descriptions (the churn wording of issue 19 and the
bundled German credit one), model loading apart. Settings:

- ``one``: prompt and generation on one thread (metaconf before 2026-12-05);
- ``passive``: prompt on two threads, OpenMP waiting passively (what metaconf does now when it can);
- ``active``: prompt on two threads with OpenMP's default (spinning) wait.

``--busy`` adds a second CPU-bound process for the whole run, as on a shared machine. Printed: seconds per
description per setting and the ratio to ``one`` measured in the same session.

Usage::

    python benchmarks/components/llm_threads.py
    python benchmarks/components/llm_threads.py --busy --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHURN = (
    "Telecom customers; we want to predict which customers will churn next quarter. A customer we fail to flag "
    "costs us about €300 in lost revenue, a retention offer sent to a loyal customer costs €20."
)
GERMAN = Path(__file__).resolve().parents[2] / "examples" / "german_credit_description.txt"
SETTINGS = {"one": ("ACTIVE", 1), "passive": ("PASSIVE", 2), "active": ("ACTIVE", 2)}
CHILD = """
import json, sys, time
import metaconf.advise.llm.backends as backends
wanted = int(sys.argv[2])
backends.batch_threads = lambda threads, cpus=None: wanted  # the setting under test, whatever the policy
from metaconf.advise.llm.extract import Extractor
extractor = Extractor.open(sys.argv[1])
out = []
for text, classes in json.loads(sys.stdin.read()):
    start = time.perf_counter()
    extractor.extract(text, classes=classes)
    out.append(time.perf_counter() - start)
print(json.dumps({"seconds": out, "prompt_threads": extractor.backend.threads_batch}))
"""
BUSY_LOOP = "import time\nend = time.monotonic() + 3600\nwhile time.monotonic() < end:\n    pass\n"


def run(model: str, policy: str, threads: int, texts: list) -> dict:
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, model, str(threads)],
        input=json.dumps(texts), capture_output=True, text=True, env=env, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-1.5b")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--busy", action="store_true", help="a second CPU-bound process during the run")
    args = parser.parse_args()
    texts = [[CHURN, ["churned", "stayed"]], [GERMAN.read_text(encoding="utf-8"), ["good", "bad"]]]
    hog = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if args.busy else None
    try:
        results: dict[str, list[list[float]]] = {name: [] for name in SETTINGS}
        for _ in range(args.repeats):
            for name, (policy, threads) in SETTINGS.items():
                answer = run(args.model, policy, threads, texts)
                results[name].append(answer["seconds"])
                print(f"{name:8s} prompt threads {answer['prompt_threads']}: "
                      + ", ".join(f"{s:.1f} s" for s in answer["seconds"]), flush=True)
    finally:
        if hog is not None:
            hog.terminate()
            hog.wait(timeout=10)
    base = [min(r[i] for r in results["one"]) for i in range(len(texts))]
    print(f"\n{'busy' if args.busy else 'as is'}: best of {args.repeats}, ratio to `one` (churn, German credit)")
    for name, runs in results.items():
        best = [min(r[i] for r in runs) for i in range(len(texts))]
        print(f"{name:8s} " + ", ".join(f"{b:.1f} s ({b / a:.2f}x)" for b, a in zip(best, base, strict=True)))


if __name__ == "__main__":
    main()
