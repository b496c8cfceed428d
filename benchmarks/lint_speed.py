"""How fast is `metaconf lint`? Wall time on one file (a fresh process each time, start-up included) and on
1,000 generated files (one process), next to check-jsonschema with metaconf's JSON Schema on the same files.

    python benchmarks/lint_speed.py [--files 1000] [--repeats 5]

Aims: one file under 1.5 s including start-up; 1,000 files under 10 s. check-jsonschema only checks the
schema (types, ranges, unknown keys); metaconf lint also runs the cross-field, search-space and tool rules,
so the comparison shows what those cost on top of plain schema validation.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "metaconf-config-1.schema.json"
TEMPLATES = sorted((ROOT / "templates").glob("*.yaml"))

MODELS = ["random_forest", "extra_trees", "hist_gradient_boosting", "linear", "svm", "k_nearest_neighbors", "mlp"]
DEMOS = ["breast_cancer", "iris", "wine", "digits"]


def metaconf_command() -> list[str]:
    exe = shutil.which("metaconf")
    return [exe] if exe else [sys.executable, "-m", "metaconf"]


def check_jsonschema_command() -> list[str] | None:
    exe = shutil.which("check-jsonschema")
    return [exe, "--schemafile", str(SCHEMA)] if exe else None


def generate(directory: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` configs: the templates with varied budgets, models, datasets and seeds; about one in ten has a
    mistake (a typo'd key or a bad value), as a real directory of configs would."""
    rng = random.Random(seed)
    texts = [p.read_text(encoding="utf-8") for p in TEMPLATES]
    files = []
    for i in range(n):
        text = texts[i % len(texts)]
        models = rng.sample(MODELS, rng.randint(1, 3))
        text = text.replace("demo: breast_cancer", f"demo: {rng.choice(DEMOS)}")
        text = text.replace("seed: 0", f"seed: {rng.randint(0, 10_000)}")
        for line in text.splitlines():
            if line.strip().startswith("models:"):
                text = text.replace(line, f"  models: [{', '.join(models)}]")
                break
        if i % 10 == 7:
            text = text.replace("  cores: 1", "  corse: 1")
        if i % 10 == 3:
            text = text.replace("  test_size: 0.2", "  test_size: 1.5")
        path = directory / f"config_{i:04d}.yaml"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


def timed(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system of the child) and exit code of one run. CPU time shows the cost
    when the machine is shared and wall time is inflated by other processes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.returncode


def median_of(command: list[str], cwd: Path, repeats: int) -> tuple[float, float, int]:
    runs = [timed(command, cwd) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[-1][2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000, help="number of generated files (default 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per one-file measurement (median)")
    args = parser.parse_args()

    metaconf = metaconf_command()
    baseline = check_jsonschema_command()
    rows: list[tuple[str, str, float, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="metaconf-bench-") as tmp:
        work = Path(tmp)
        one = work / "one" / "metaconf.yaml"
        one.parent.mkdir()
        one.write_text((ROOT / "templates" / "smac-hpo.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        many_dir = work / "many"
        many_dir.mkdir()
        files = generate(many_dir, args.files)

        rows.append(("python -c pass", "process start only", *median_of([sys.executable, "-c", "pass"], work, args.repeats)))
        rows.append(("metaconf --help", "CLI start-up", *median_of([*metaconf, "--help"], work, args.repeats)))
        rows.append(("metaconf lint", "1 file", *median_of([*metaconf, "lint", str(one)], work, args.repeats)))
        schema_only = [*metaconf, "lint", "--select", "MC0,MC1"]
        rows.append(("metaconf lint --select MC0,MC1", "1 file (schema rules only)", *median_of([*schema_only, str(one)], work, args.repeats)))
        if baseline:
            rows.append(("check-jsonschema", "1 file", *median_of([*baseline, str(one)], work, args.repeats)))

        many = f"{len(files)} files, one process"
        rows.append(("metaconf lint", many, *timed([*metaconf, "lint", str(many_dir)], work)))
        rows.append(("metaconf lint --select MC0,MC1", many, *timed([*schema_only, str(many_dir)], work)))
        if baseline:
            rows.append(("check-jsonschema", many, *timed([*baseline, *map(str, files)], work)))

    load = os.getloadavg()[0]
    print(f"metaconf lint speed (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.1f}; "
          f"one-file rows: median of {args.repeats})")
    width = max(len(r[0]) for r in rows)
    case_width = max(len(r[1]) for r in rows)
    print(f"  {'command':<{width}}  {'case':<{case_width}}  {'wall':>7}    {'cpu':>7}")
    for tool, case, wall, cpu, code in rows:
        print(f"  {tool:<{width}}  {case:<{case_width}}  {wall:7.2f} s  {cpu:7.2f} s  exit {code}")
    if not baseline:
        print("  (check-jsonschema is not installed: no baseline)")
    one_file = next(r[2] for r in rows if r[0] == "metaconf lint" and r[1] == "1 file")
    many_wall = next(r[2] for r in rows if r[0] == "metaconf lint" and "one process" in r[1])
    print(f"aim: 1 file < 1.5 s: {'met' if one_file < 1.5 else 'MISSED'} ({one_file:.2f} s); "
          f"{len(files)} files < 10 s: {'met' if many_wall < 10 else 'MISSED'} ({many_wall:.2f} s)")
    if load > (os.cpu_count() or 1):
        print("note: the machine is busy (load above the CPU count); wall times are inflated, see the cpu column")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
