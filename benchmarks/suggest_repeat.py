"""Does `metaconf suggest` with the probe on write the same YAML when run again on the same machine?

For each case (a demo and a budget) the script runs ``metaconf suggest --demo D --budget B -o OUT --force``
``--runs`` times in a row, each a fresh process as a user would run it, all writing to the same path (what a
user does who reruns suggest to check a result, or keeps the YAML in git). It prints how many reruns are
byte-identical to the first run's file and the distinct ``stopping.n_trials`` values seen. Each case runs
twice: on the machine as it is (``idle``; the load average is printed, the machine may be shared), then with
a second CPU-bound process that this script starts (a busy loop in its own Python process with a deadline, so
it stops by itself even if this script is killed, and stopped by its pid when the phase ends).

By default a rerun that overwrites a config measured on this machine for the same data and budget reuses its
recorded costs without probing again. ``--reprobe`` passes ``--reprobe`` to every run: each measures again and
only the grid and its hysteresis against the recorded values keep the file the same. ``--fresh`` writes every
run to a new path instead: no earlier file to keep the recorded costs from (see "Repeatable suggestions" in
docs/advisor.md), which shows what the quantisation alone achieves. Each line also gives the median seconds of
a rerun (runs 2..N), the first run's in brackets.

Usage::

    python benchmarks/suggest_repeat.py                          # 10 runs per case, idle and busy
    python benchmarks/suggest_repeat.py --runs 4 --cases breast_cancer:40s --load idle
    PYTHONPATH=/tmp/before python benchmarks/suggest_repeat.py   # another checkout of metaconf

The metaconf under test is whatever ``python -m metaconf`` imports in a child process (``PYTHONPATH`` is
passed on), so an older commit checked out with ``git worktree add /tmp/before HEAD`` is measured the same way.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CASES = ("breast_cancer:40s", "digits:60s", "titanic:2m")
BUSY_LOOP = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
"""The second CPU-bound process: one core busy until its deadline."""


@dataclass
class CaseResult:
    case: str
    load: str
    runs: int
    identical: int
    """Reruns (runs 2..N) whose file is byte-identical to run 1's."""
    n_trials: list[int]
    """stopping.n_trials of each run, in order."""
    failed: int
    load_average: str
    first_difference: str = ""
    """The first line where the first differing rerun departs from run 1 (both versions)."""
    seconds: list[float] = field(default_factory=list)
    """Walltime of each `suggest` process, in order."""


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


@contextmanager
def cpu_hog(max_seconds: float) -> Iterator[None]:
    """A second CPU-bound process for the duration of the block (and never longer than ``max_seconds``)."""
    hog = subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(seconds=max_seconds)])
    try:
        time.sleep(1.0)  # let it reach full speed before the first measurement
        yield
    finally:
        hog.terminate()
        hog.wait(timeout=10)


def n_trials_of(text: str) -> int:
    """``stopping.n_trials`` of a written config (-1 when it has none)."""
    match = re.search(r"^  n_trials: (\d+)$", text, flags=re.MULTILINE)
    return int(match.group(1)) if match else -1


def suggest_once(demo: str, budget: str, output: Path, advisor: str, extra: tuple[str, ...] = ()) -> str | None:
    """Run `metaconf suggest` in a fresh process; the written file's text, or None when it failed."""
    command = [sys.executable, "-m", "metaconf", "suggest", "--demo", demo, "--budget", budget]
    command += ["--advisor", advisor, "-o", str(output), "--force", *extra]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"    suggest failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return output.read_text()


def run_case(
    case: str, load: str, runs: int, advisor: str, fresh: bool, workdir: Path, extra: tuple[str, ...] = ()
) -> CaseResult:
    demo, budget = case.split(":")
    folder = workdir / f"{demo}-{budget}-{load}"
    folder.mkdir(parents=True)
    texts: list[str | None] = []
    seconds: list[float] = []
    for index in range(runs):
        output = folder / (f"run{index + 1}.yaml" if fresh else "suggested.yaml")
        started = time.perf_counter()
        text = suggest_once(demo, budget, output, advisor, extra)
        seconds.append(time.perf_counter() - started)
        if text is not None and not fresh:
            (folder / f"run{index + 1}.yaml").write_text(text)  # each version, for --keep
        texts.append(text)
    average = load_average()  # at the end: the 1-minute figure then covers most of the runs
    first = texts[0]
    identical = sum(1 for text in texts[1:] if first is not None and text == first)
    differing = next((text for text in texts[1:] if first is not None and text is not None and text != first), None)
    return CaseResult(
        case=case,
        load=load,
        runs=runs,
        identical=identical,
        n_trials=[n_trials_of(text) if text is not None else -1 for text in texts],
        failed=sum(text is None for text in texts),
        load_average=average,
        first_difference=first_difference(first, differing) if first is not None and differing is not None else "",
        seconds=seconds,
    )


def first_difference(first: str, other: str) -> str:
    """The first differing line of two configs, as `run 1: ... | rerun: ...`."""
    for mine, theirs in zip(first.splitlines(), other.splitlines(), strict=False):
        if mine != theirs:
            return f"run 1: {mine.strip()[:100]} | rerun: {theirs.strip()[:100]}"
    return "one file is a prefix of the other"


def report(result: CaseResult) -> str:
    distinct = sorted(set(result.n_trials))
    failed = f", {result.failed} failed" if result.failed else ""
    line = (
        f"{result.case:20s} {result.load:5s} load {result.load_average:15s} "
        f"identical to run 1: {result.identical}/{result.runs - 1} reruns "
        f"({result.identical + 1}/{result.runs} runs agree){failed}; distinct n_trials {distinct}"
    )
    if len(result.seconds) >= 2:
        line += f"; rerun {statistics.median(result.seconds[1:]):.1f} s (first {result.seconds[0]:.1f} s)"
    return line + (f"\n    first difference: {result.first_difference}" if result.first_difference else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="suggest runs per case and load (default 10)")
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES), help="demo:budget pairs, comma-separated")
    parser.add_argument("--load", choices=("idle", "busy", "both"), default="both")
    parser.add_argument("--advisor", default="rules", help="passed to suggest --advisor (default rules)")
    parser.add_argument("--fresh", action="store_true", help="write each run to a new file (no earlier file)")
    parser.add_argument("--reprobe", action="store_true", help="pass --reprobe: every run measures again")
    parser.add_argument("--hog-max-seconds", type=float, default=900.0, help="deadline of the CPU-bound process")
    parser.add_argument("--keep", type=Path, help="write the configs under this directory and keep them")
    args = parser.parse_args(argv)
    # a plain SIGTERM would skip the `finally` that stops the CPU-bound process (its deadline still would)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    loads = ("idle", "busy") if args.load == "both" else (args.load,)
    where = os.environ.get("PYTHONPATH") or "the installed metaconf"
    print(f"suggest_repeat: {args.runs} runs per case, advisor {args.advisor}, "
          f"{'a new file per run' if args.fresh else 'one output path, --force'}"
          f"{', --reprobe' if args.reprobe else ''}; code from {where}")
    extra = ("--reprobe",) if args.reprobe else ()
    with tempfile.TemporaryDirectory(prefix="suggest-repeat-") as tmp:
        root = args.keep or Path(tmp)
        for load in loads:
            for case in cases:
                started = time.perf_counter()
                if load == "busy":
                    with cpu_hog(args.hog_max_seconds):
                        result = run_case(case, load, args.runs, args.advisor, args.fresh, root, extra)
                else:
                    result = run_case(case, load, args.runs, args.advisor, args.fresh, root, extra)
                print(report(result) + f"  [{time.perf_counter() - started:.0f} s]", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
