"""How well does each reader take the facts out of a user's description?

The cases (``benchmarks/describe_cases.yaml``, the format is described at its top) are short descriptions written
the way users write: costs as ratios, as two money amounts, as tables in both orientations and as lists; domain
sentences without "positive" / "negative"; numeric labels with a legend; multiclass costs; metric wishes and
negations; regression metrics and task words; time limits; interpretability; plain descriptions that state
nothing; distractors. Each has the gold facts: task type, metric, excluded metrics, cost matrix, positive
class, total and per-trial time limits, interpretability.

Readers:

- ``rules``: the regex parser alone, as ``suggest --advisor rules`` reads
  (:func:`metaconf.read_description` without a model);
- ``llm:NAME``: the LLM's constrained questions alone (``metaconf.open_llm(NAME).read``), NAME a model name
  (``qwen2.5-1.5b``, ``qwen2.5-0.5b``, ``smollm2``) or a GGUF path;
- ``default:NAME``: what ``suggest --advisor auto`` reads with that model, the parser and the LLM cross-checked
  (:func:`metaconf.read_description` with ``llm=``); ``default`` alone uses the recommended model.

Printed per reader: cases fully right (every fact), per-fact accuracy, facts invented on the plain cases (and
on all cases: a value where the gold has none), for the combined reader the facts the parser had right and the
combination lost, and seconds per case (model loading apart). ``--json`` writes every case's answers.

Run (not part of the tests)::

    python benchmarks/describe_quality.py --readers rules
    python benchmarks/describe_quality.py --readers rules llm:qwen2.5-1.5b default:qwen2.5-1.5b --json out.json
    python benchmarks/describe_quality.py --readers default --cases churn-money-yesno tumour-legend-ten -v
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CASES_FILE = Path(__file__).with_name("describe_cases.yaml")
FACTS = (
    "task_type",
    "metric",
    "excluded",
    "cost_matrix",
    "positive_class",
    "time_limit_s",
    "trial_time_limit_s",
    "interpretable",
)
EMPTY: dict[str, Any] = {
    "task_type": None,
    "metric": None,
    "excluded": [],
    "cost_matrix": None,
    "positive_class": None,
    "time_limit_s": None,
    "trial_time_limit_s": None,
    "interpretable": False,
}


@dataclass(frozen=True)
class Case:
    id: str
    tags: tuple[str, ...]
    text: str
    classes: tuple[Any, ...] | None
    """The target's classes as the data spells them; None for a regression target."""
    target: str | None
    gold: dict[str, Any]

    @property
    def task(self) -> str:
        return "regression" if self.classes is None else "classification"


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    cases = []
    for item in raw:
        unknown = set(item.get("gold") or {}) - set(FACTS)
        if unknown:
            raise ValueError(f"case {item['id']}: unknown gold keys {sorted(unknown)}")
        if ("classes" in item) == bool(item.get("regression")):
            raise ValueError(f"case {item['id']}: give either classes or regression: true")
        cases.append(
            Case(
                id=item["id"],
                tags=tuple(item.get("tags") or ()),
                text=item.get("text") or "",
                classes=tuple(item["classes"]) if "classes" in item else None,
                target=item.get("target"),
                gold={**EMPTY, **(item.get("gold") or {})},
            )
        )
    return cases


# ------------------------------------------------------------------------------------------------ answers


def answers_of(facts: Any) -> dict[str, Any]:
    """The benchmark's facts from a reading's ``.facts`` (any reader's)."""
    hint = facts.suggested_metric
    matrix = facts.cost_matrix
    task = getattr(facts, "task_type", None)
    return {
        "task_type": None if task is None else task.value,
        "metric": None if hint is None else hint.metric,
        "excluded": sorted({h.metric for h in facts.metric_hints if h.strength == "negated"}),
        "cost_matrix": None
        if matrix is None
        else {"labels": list(matrix.labels), "costs": [list(row) for row in matrix.costs]},
        "positive_class": None if facts.positive_class is None else facts.positive_class.value,
        "time_limit_s": facts.time_limit_s,
        "trial_time_limit_s": facts.trial_time_limit_s,
        "interpretable": bool(facts.wants_interpretability),
    }


def _normalised_matrix(matrix: dict[str, Any], order: Sequence[str]) -> list[list[float]] | None:
    labels = [str(label).lower() for label in matrix["labels"]]
    if sorted(labels) != sorted(order) or len(set(labels)) != len(labels):
        return None
    index = [labels.index(label) for label in order]
    costs = [[float(matrix["costs"][i][j]) for j in index] for i in index]
    top = max((c for row in costs for c in row), default=0.0)
    return [[c / top for c in row] for row in costs] if top > 0 else costs


def fact_right(name: str, gold: Any, answer: Any) -> bool:
    if name == "cost_matrix":
        if gold is None or answer is None:
            return gold is None and answer is None
        order = [str(label).lower() for label in gold["labels"]]
        expected = _normalised_matrix(gold, order)
        got = _normalised_matrix(answer, order)
        return (
            got is not None
            and expected is not None
            and all(abs(a - b) <= 1e-6 for ra, rb in zip(expected, got, strict=True) for a, b in zip(ra, rb, strict=True))
        )
    if name in ("time_limit_s", "trial_time_limit_s"):
        if gold is None or answer is None:
            return gold is None and answer is None
        return abs(float(gold) - float(answer)) <= 0.01 * float(gold)
    if name == "excluded":
        return sorted(gold) == sorted(answer)
    if name == "positive_class":
        return (gold is None and answer is None) or (
            gold is not None and answer is not None and str(gold).lower() == str(answer).lower()
        )
    return bool(gold == answer)


def invented(name: str, gold: Any, answer: Any) -> bool:
    """A value where the gold has none."""
    return gold in (None, [], False) and answer not in (None, [], False)


# -------------------------------------------------------------------------------------------------- readers


@dataclass
class Reader:
    name: str
    read: Callable[[Case], Any]
    """Case -> DescriptionFacts, or a result with ``.facts`` (and ``.answers``, the LLM's, kept in the JSON)."""
    load_seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


def make_reader(name: str, *, backend: str, threads: int) -> Reader:
    import metaconf

    if name == "rules":
        return Reader(name, lambda case: metaconf.read_description(case.text, classes=case.classes, task=case.task))
    kind, _, model = name.partition(":")
    if kind not in ("llm", "default"):
        raise SystemExit(f"unknown reader `{name}`: use rules, llm:MODEL or default[:MODEL]")
    llm = metaconf.open_llm(model or None, backend=backend, threads=threads)
    details = {"model": llm.identity}
    if kind == "llm":

        def read_llm(case: Case) -> Any:
            return llm.read(case.text, classes=case.classes, task=case.task, target=case.target)

        return Reader(name, read_llm, llm.load_seconds, details)

    def read_default(case: Case) -> Any:
        return metaconf.read_description(case.text, classes=case.classes, task=case.task, target=case.target, llm=llm)

    return Reader(name, read_default, llm.load_seconds, details)


# ---------------------------------------------------------------------------------------------------- scoring


def score(
    reader: Reader, cases: Sequence[Case], *, verbose: bool, baseline: dict[str, dict[str, Any]] | None
) -> dict[str, Any]:
    per_fact = {name: 0 for name in FACTS}
    fully_right = 0
    invented_plain = 0
    invented_all = 0
    lost = 0
    seconds: list[float] = []
    cpu_seconds: list[float] = []
    rows = []
    for case in cases:
        t0, c0 = time.perf_counter(), time.process_time()
        result = reader.read(case)
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - c0
        cpu_seconds.append(cpu)
        facts = getattr(result, "facts", result)
        llm_answers = [
            {"key": a.key, "answer": a.answer, "seconds": round(a.seconds, 2)} for a in getattr(result, "answers", [])
        ]
        seconds.append(elapsed)
        answer = answers_of(facts)
        wrong = [name for name in FACTS if not fact_right(name, case.gold[name], answer[name])]
        made_up = [name for name in FACTS if invented(name, case.gold[name], answer[name])]
        for name in FACTS:
            per_fact[name] += name not in wrong
        fully_right += not wrong
        invented_all += len(made_up)
        if "plain" in case.tags:
            invented_plain += len(made_up)
        lost_here = []
        if baseline is not None:
            before = baseline[case.id]["answer"]
            lost_here = [
                name
                for name in FACTS
                if fact_right(name, case.gold[name], before[name]) and name in wrong
            ]
            lost += len(lost_here)
        rows.append(
            {
                "id": case.id,
                "answer": answer,
                "wrong": wrong,
                "invented": made_up,
                "lost": lost_here,
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "llm_answers": llm_answers,
                "notes": list(getattr(result, "notes", [])),
            }
        )
        if verbose and (wrong or lost_here):
            shown = {name: answer[name] for name in wrong}
            golds = {name: case.gold[name] for name in wrong}
            print(f"  {reader.name} {case.id} ({elapsed:.1f} s): got {shown} want {golds}", file=sys.stderr)
        elif verbose:
            print(f"  {reader.name} {case.id} ({elapsed:.1f} s): right", file=sys.stderr)
    n = len(cases)
    return {
        "reader": reader.name,
        "cases": n,
        "fully_right": fully_right,
        "fully_right_share": fully_right / n if n else 0.0,
        "per_fact": {name: per_fact[name] / n for name in FACTS},
        "invented_plain": invented_plain,
        "invented_all": invented_all,
        "lost_vs_rules": lost if baseline is not None else None,
        "seconds_per_case_median": statistics.median(seconds) if seconds else 0.0,
        "seconds_per_case_mean": statistics.fmean(seconds) if seconds else 0.0,
        "seconds_per_case_max": max(seconds) if seconds else 0.0,
        "cpu_seconds_per_case_median": statistics.median(cpu_seconds) if cpu_seconds else 0.0,
        "cpu_seconds_per_case_max": max(cpu_seconds) if cpu_seconds else 0.0,
        "questions_per_case": statistics.fmean(len(row["llm_answers"]) for row in rows) if rows else 0.0,
        "load_seconds": reader.load_seconds,
        "details": reader.details,
        "rows": rows,
    }


def print_table(results: Sequence[dict[str, Any]]) -> None:
    short = {
        "task_type": "task",
        "metric": "metric",
        "excluded": "excl",
        "cost_matrix": "costs",
        "positive_class": "pos",
        "time_limit_s": "time",
        "trial_time_limit_s": "trial",
        "interpretable": "interp",
    }
    header = (
        f"{'reader':<24} {'fully right':>13} "
        + " ".join(f"{short[name]:>6}" for name in FACTS)
        + f" {'invented plain/all':>18} {'lost':>5} {'s/case med (max)':>17} {'CPU s med (max)':>16} {'q/case':>6}"
    )
    print(header)
    for r in results:
        right = f"{r['fully_right']}/{r['cases']} {r['fully_right_share']:.0%}"
        lost = "-" if r["lost_vs_rules"] is None else str(r["lost_vs_rules"])
        print(
            f"{r['reader']:<24} {right:>13} "
            + " ".join(f"{r['per_fact'][name]:>6.0%}" for name in FACTS)
            + f" {str(r['invented_plain']) + '/' + str(r['invented_all']):>18} {lost:>5}"
            + f" {r['seconds_per_case_median']:>8.2f} ({r['seconds_per_case_max']:.1f})"
            + f" {r['cpu_seconds_per_case_median']:>8.2f} ({r['cpu_seconds_per_case_max']:.1f})"
            + f" {r['questions_per_case']:>6.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", nargs="+", default=["rules"])
    parser.add_argument("--cases", nargs="*", help="only these case ids")
    parser.add_argument("--tags", nargs="*", help="only cases with one of these tags")
    parser.add_argument("--backend", default="guidance", choices=["guidance", "outlines"])
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: metaconf's)")
    parser.add_argument("--json", type=Path, help="write every case's answers here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case as it is read")
    args = parser.parse_args(argv)

    cases = load_cases()
    if args.cases:
        wanted = set(args.cases)
        missing = wanted - {c.id for c in cases}
        if missing:
            raise SystemExit(f"unknown case ids: {sorted(missing)}")
        cases = [c for c in cases if c.id in wanted]
    if args.tags:
        cases = [c for c in cases if set(c.tags) & set(args.tags)]

    results = []
    baseline: dict[str, dict[str, Any]] | None = None
    rules_needed = any(name.startswith("default") for name in args.readers) and "rules" not in args.readers
    names = (["rules"] if rules_needed else []) + list(args.readers)
    for name in names:
        reader = make_reader(name, backend=args.backend, threads=args.threads)
        result = score(
            reader, cases, verbose=args.verbose, baseline=baseline if name.startswith("default") else None
        )
        if name == "rules":
            baseline = {row["id"]: row for row in result["rows"]}
        results.append(result)
        del reader
        print_table([result])
        sys.stdout.flush()
        if args.json:  # after each reader: a long run that fails later keeps what it measured
            args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    print()
    print_table(results)
    if args.json:
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
