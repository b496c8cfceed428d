"""How well and how fast does the LLM advisor work, per backend, and how do its configs compare with the rules'?

For each backend (guidance and outlines over llama.cpp in process; ``openai`` with --server URL) and each case
(dataset x budget x description variant), ``metaconf.suggest(advisor="llm")`` runs end to end with the model
(default: the bundled SmolLM2-135M, one thread). Reported per backend:

- schema compile time: llguidance compiling the narrowed JSON Schema (``LLMatcher.validate_grammar``) and, for
  outlines, building its generator (schema -> token-level matcher);
- time per suggestion (the LLM part: prompt, decode, merge, lint, repair) and answer tokens per second;
- share of schema-valid answers (every decision present and inside the schema);
- share of values kept / repaired / fallen back to the rules / not used (no effect, or an empty warm start);
- constraint overhead: the constrained generation vs an unconstrained greedy completion of the same prompt that
  produces the same number of tokens (end of text banned), both in a fresh context (aim: < 10%);
- with --downstream: the test score of the LLM config vs the rule config, both run by metaconf's SMAC runner
  (``benchmarks/suggest_quality.py``'s ``run_arm``) with the same budget.

Greedy decoding makes repeated answers to one prompt identical, so generations differ by case, not by
repetition: --cases N cycles through datasets, budgets and description variants. The issue asks for 50; each
generation takes 10-60 s on one core, so the default is a reduced run.

Run (not part of the tests)::

    python benchmarks/llm_advisor.py                                  # 6 cases x guidance, outlines
    python benchmarks/llm_advisor.py --cases 50 --overhead-every 5    # the issue's 50 per backend (~40 min)
    python benchmarks/llm_advisor.py --downstream --datasets breast_cancer german_credit --budgets 1m --cases 2
    python benchmarks/llm_advisor.py --server http://127.0.0.1:8080/v1 --backends openai
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

DATASETS = ["german_credit", "breast_cancer", "titanic", "wine", "iris", "diabetes"]
BUDGETS = ["1m", "2m", "5m", "10m", "30m"]
DESCRIPTIONS: dict[str, list[str | None]] = {
    "german_credit": ["german_credit_description.txt", None],
    "breast_cancer": [
        "Tumour biopsies. Missing a malignant tumour is far worse than a false alarm; the doctors must be able "
        "to read the model.",
        None,
    ],
    "titanic": ["Passenger survival. Use balanced accuracy: both classes matter.", None],
    "wine": ["Wine cultivars from chemical analysis. The model must be interpretable.", None],
    "iris": [None],
    "diabetes": ["Disease progression one year after baseline; judge errors in absolute units (MAE).", None],
}
"""Greedy decoding gives one answer per prompt: 11 description variants x 5 budgets = 55 distinct cases."""


@dataclass
class CaseResult:
    backend: str
    case: str
    ok: bool = False
    error: str = ""
    llm_s: float = 0.0
    generations: int = 0
    generate_s: float = 0.0
    answer_tokens: int = 0
    prompt_tokens: int = 0
    schema_valid: bool = False
    schema_problems: list[str] = field(default_factory=list)
    """The decisions outside the schema (the rule value was used for each)."""
    counts: dict[str, int] = field(default_factory=dict)
    unconstrained_s: float | None = None
    compile: dict[str, float] = field(default_factory=dict)


def _description(variant: str | None) -> str | None:
    if variant is None or not variant.endswith(".txt"):
        return variant
    return (EXAMPLES / variant).read_text(encoding="utf-8")


def cases(n: int, datasets: list[str], budgets: list[str]) -> list[tuple[str, str, str | None]]:
    """``n`` cases, interleaved so that a reduced run still covers every dataset; distinct up to the number of
    combinations (then they repeat, and repeated greedy answers are identical)."""
    per_dataset = [[(d, b, v) for v in DESCRIPTIONS.get(d, [None]) for b in budgets] for d in datasets]
    combos = [c for group in itertools.zip_longest(*per_dataset) for c in group if c is not None]
    return list(itertools.islice(itertools.cycle(combos), n))


def _llama(model_path: Path, *, vocab_only: bool = False) -> Any:
    import llama_cpp

    return llama_cpp.Llama(
        model_path=str(model_path),
        n_ctx=4096,
        n_threads=1,
        n_threads_batch=1,
        verbose=False,
        vocab_only=vocab_only,
    )


def schema_compile_times(schema: dict[str, Any], model_path: Path, backend: str) -> dict[str, float]:
    import llguidance

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    grammar = llguidance.grammar_from("json_schema", json.dumps(schema))
    failed, problems = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)  # (is_error, messages)
    if failed:
        raise ValueError(f"llguidance rejects the schema: {problems}")
    out["llguidance_compile_ms"] = (time.perf_counter() - t0) * 1000
    if backend == "outlines":
        import outlines
        from outlines.types import JsonSchema

        model = outlines.from_llamacpp(_llama(model_path))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            t0 = time.perf_counter()
            outlines.Generator(model, JsonSchema(json.dumps(schema)), backend="llguidance")
            out["outlines_generator_ms"] = (time.perf_counter() - t0) * 1000
    return out


def unconstrained_seconds(model_path: Path, prompt_text: str, n_tokens: int) -> float:
    """A greedy completion of ``prompt_text`` forced to ``n_tokens`` tokens (end of text banned), fresh context."""
    llm = _llama(model_path)
    t0 = time.perf_counter()
    llm.create_completion(
        prompt_text, max_tokens=n_tokens, temperature=0.0, logit_bias={llm.token_eos(): -1e9}
    )
    return time.perf_counter() - t0


def run_case(
    backend: str, case: tuple[str, str, str | None], args: argparse.Namespace, workdir: Path, vocab: Any
) -> tuple[CaseResult, Any, Any, list[dict[str, Any]]]:
    import metaconf

    dataset, budget, variant = case
    label = "none" if variant is None else ("description" if variant.endswith(".txt") else f"text:{variant[:24]}")
    result = CaseResult(backend=backend, case=f"{dataset}/{budget}/{label}")
    trace: list[dict[str, Any]] = []
    options = metaconf.LLMOptions(
        backend=backend,
        model=args.model,
        server=args.server if backend == "openai" else None,
        max_tokens=args.max_tokens,
        timeout_s=args.timeout,
        trace=trace,
    )
    common: dict[str, Any] = {
        "output": workdir / f"{dataset}.yaml",
        "budget": budget,
        "demo": dataset,
        "describe": _description(variant),
        "probe": False,
        "seed": 0,
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rules = metaconf.suggest(**common)
            t0 = time.perf_counter()
            llm = metaconf.suggest(**common, advisor="llm", llm=options)
            result.llm_s = time.perf_counter() - t0
    except Exception as error:  # a benchmark reports every failure and goes on
        result.error = f"{type(error).__name__}: {error}"
        return result, None, None, trace
    result.ok = True
    prov = llm.advice.config.provenance
    notes = [str(n) for n in (prov.inputs.get("llm_notes", []) if prov else [])]
    result.schema_problems = [n.removeprefix("schema: ") for n in notes if n.startswith("schema:")]
    result.schema_valid = not result.schema_problems
    summary = (prov.model or {}).get("values", "") if prov else ""
    for part in summary.split(", "):
        number, _, label = part.partition(" ")
        if number.isdigit():
            result.counts[label.split(" ")[0]] = int(number)
    result.generations = len(trace)
    result.generate_s = sum(t["seconds"] for t in trace)
    if vocab is not None:
        result.answer_tokens = sum(len(vocab.tokenize(t["answer"].encode(), add_bos=False)) for t in trace)
        result.prompt_tokens = sum(len(vocab.tokenize(t["prompt"].encode(), special=True)) for t in trace)
    return result, rules, llm, trace


def _downstream(dataset: str, budget: str, rules: Any, llm: Any, workdir: Path) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from suggest_quality import run_arm  # type: ignore[import-not-found]

    out: dict[str, Any] = {"dataset": dataset, "budget": budget}
    for arm, suggestion in (("rules", rules), ("llm", llm)):
        res = run_arm(dataset, budget, 0, arm, suggestion.config, workdir)
        out[f"{arm}_test"] = None if res.test_score is None else round(res.test_score, 4)
        out[f"{arm}_trials"] = res.trials
        out["metric"] = res.metric
    return out


def report(results: list[CaseResult], downstream: list[dict[str, Any]], backends: list[str]) -> str:
    lines = []
    for backend in backends:
        mine = [r for r in results if r.backend == backend]
        ok = [r for r in mine if r.ok]
        if not mine:
            continue
        lines.append(f"== {backend}: {len(ok)}/{len(mine)} suggestions written (lint-clean)")
        for r in mine:
            if not r.ok:
                lines.append(f"   FAILED {r.case}: {r.error[:300]}")
        if not ok:
            continue
        compile_ms = [r.compile for r in ok if r.compile]
        if compile_ms:
            keys = sorted({k for c in compile_ms for k in c})
            lines.append(
                "   schema compile: "
                + ", ".join(
                    f"{k} median {statistics.median(c[k] for c in compile_ms if k in c):.1f}" for k in keys
                )
            )
        lines.append(
            f"   time per suggestion (LLM part): median {statistics.median(r.llm_s for r in ok):.1f} s "
            f"(min {min(r.llm_s for r in ok):.1f}, max {max(r.llm_s for r in ok):.1f}); "
            f"{sum(r.generations for r in ok)} generations for {len(ok)} suggestions"
        )
        tokens = sum(r.answer_tokens for r in ok)
        seconds = sum(r.generate_s for r in ok)
        if tokens:
            lines.append(
                f"   answer tokens: {tokens} in {seconds:.0f} s of generation (prompt evaluation included: "
                f"{sum(r.prompt_tokens for r in ok)} prompt tokens) = {tokens / seconds:.1f} answer tokens/s"
            )
        lines.append(f"   schema-valid answers: {sum(r.schema_valid for r in ok)}/{len(ok)}")
        fields: dict[str, int] = {}
        for r in ok:
            for problem in r.schema_problems:
                name = problem.split(":", 1)[0]
                fields[name] = fields.get(name, 0) + 1
        if fields:
            lines.append(
                "   decisions outside the schema (the rule value used): "
                + ", ".join(f"{k} x{v}" for k, v in sorted(fields.items(), key=lambda kv: -kv[1]))
            )
        totals = {k: sum(r.counts.get(k, 0) for r in ok) for k in ("kept", "repaired", "fell", "not")}
        n = sum(totals.values()) or 1
        lines.append(
            f"   values: kept {totals['kept'] / n:.0%}, repaired {totals['repaired'] / n:.0%}, fell back to the "
            f"rules {totals['fell'] / n:.0%}, not used {totals['not'] / n:.0%} ({n} values)"
        )
        pairs = [(r.generate_s / max(1, r.generations), r.unconstrained_s) for r in ok if r.unconstrained_s]
        if pairs:
            overheads = [c / u - 1.0 for c, u in pairs]
            lines.append(
                f"   constraint overhead vs unconstrained greedy (same prompt, same token count): median "
                f"{statistics.median(overheads):+.0%} over {len(pairs)} case(s)"
            )
    for row in downstream:
        lines.append("downstream: " + json.dumps(row))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["guidance", "outlines"])
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--budgets", nargs="+", default=BUDGETS)
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file (default: the bundled model)")
    parser.add_argument("--server", default=None, help="an OpenAI-compatible server for the openai backend")
    parser.add_argument("--max-tokens", type=int, default=900)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--no-overhead", action="store_true", help="skip the unconstrained comparison")
    parser.add_argument(
        "--overhead-every", type=int, default=1, help="the unconstrained comparison on every k-th case only"
    )
    parser.add_argument("--downstream", action="store_true", help="also run the LLM and the rule configs")
    parser.add_argument("--out", type=Path, default=Path("benchmark-results/llm_advisor"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    import metaconf

    model_path = metaconf.model_file(args.model) if any(b != "openai" for b in args.backends) else None
    vocab = _llama(model_path, vocab_only=True) if model_path is not None else None
    results: list[CaseResult] = []
    downstream: list[dict[str, Any]] = []
    ran: set[tuple[str, str, str | None]] = set()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for backend in args.backends:
            for case in cases(args.cases, args.datasets, args.budgets):
                result, rules, llm, trace = run_case(backend, case, args, workdir, vocab)
                if (
                    result.ok
                    and trace
                    and model_path is not None
                    and backend != "openai"
                ):
                    result.compile = schema_compile_times(trace[0]["schema"], model_path, backend)
                    index = len([r for r in results if r.backend == backend])
                    if not args.no_overhead and result.answer_tokens and index % args.overhead_every == 0:
                        per_answer = max(1, result.answer_tokens // len(trace))
                        result.unconstrained_s = unconstrained_seconds(
                            model_path, trace[0]["prompt"], per_answer
                        )
                results.append(result)
                state = "ok" if result.ok else "FAILED " + result.error[:160]
                print(
                    f"[{backend}] {result.case}: {state}; {result.llm_s:.1f} s; {result.counts}", flush=True
                )
                # one downstream run per case: the backends decode the same greedy answer from the same model
                if args.downstream and rules is not None and llm is not None and case not in ran:
                    ran.add(case)
                    downstream.append(_downstream(case[0], case[1], rules, llm, workdir))
                    print("   downstream:", downstream[-1], flush=True)
    text = report(results, downstream, args.backends)
    print(text)
    (args.out / "report.txt").write_text(text + "\n")
    (args.out / "cases.json").write_text(json.dumps([asdict(r) for r in results], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
