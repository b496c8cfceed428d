"""guidance 0.3 + llama.cpp: the default backend (llguidance enforces the whole schema while decoding).

Do not install ``guidance[llamacpp]``: it pins an older llama-cpp-python than the one metaconf builds.

guidance 0.3.1's llama.cpp engine asks llama.cpp for the logits of *every* token it evaluates, prompt included,
copies them into numpy and then keeps only the last row (unless token probabilities are shown, which metaconf
never asks for). On a 1,457-token prompt with SmolLM2-135M that is 1,457 extra runs of the 49,152-wide output
layer and 286 MB copied per suggestion: most of the constraint overhead measured against an unconstrained
completion (``benchmarks/llm_advisor.py``). :class:`_LastLogitsEngine` asks for the last token's logits only;
everything else is guidance's engine as it is.
"""

from __future__ import annotations

import warnings
from typing import Any

from metaconf.advise.llm.backends import (
    DecodingParams,
    LlamaCppBackend,
    package_version,
    quiet_native_stderr,
    require,
)
from metaconf.advise.llm.prompt import Prompt


def _last_logits_engine_class() -> type:
    """guidance's ``LlamaCppEngine`` with ``get_logits`` computing only the logits it returns (guidance is
    imported lazily, so the class is built on first use)."""
    import llama_cpp
    import numpy as np
    from guidance.models._llama_cpp import LlamaCppEngine

    class _LastLogitsEngine(LlamaCppEngine):
        def get_logits(self, token_ids: list[int], include_all_uncached_tokens: bool = False) -> Any:
            if include_all_uncached_tokens or not token_ids:
                return super().get_logits(token_ids, include_all_uncached_tokens)
            if self.model_obj.n_ctx() <= len(token_ids):
                return super().get_logits(token_ids, include_all_uncached_tokens)  # guidance's own error
            num_cached = 0
            for new, old in zip(token_ids, self._cached_token_ids, strict=False):
                if new != old:
                    break
                num_cached += 1
            if num_cached == len(token_ids):
                if num_cached == len(self._cached_token_ids):
                    return {"logits": self._cached_logits, "n_tokens": len(token_ids), "n_cached": num_cached}
                num_cached -= 1  # at least one token must be evaluated
            ctx = self.model_obj.ctx
            llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), -1, num_cached, -1)
            n_batch = self.model_obj.n_batch
            batch = self._context.batch
            last = len(token_ids) - 1
            for start in range(num_cached, len(token_ids), n_batch):
                n_tokens = min(start + n_batch, len(token_ids)) - start
                batch.n_tokens = n_tokens
                for j in range(n_tokens):
                    batch.token[j] = token_ids[start + j]
                    batch.pos[j] = start + j
                    batch.seq_id[j][0] = 0
                    batch.n_seq_id[j] = 1
                    batch.logits[j] = start + j == last
                ret = llama_cpp.llama_decode(ctx, batch)
                if ret != 0:
                    raise RuntimeError(f"llama_decode returned {ret}")
            row = llama_cpp.llama_get_logits_ith(ctx, -1)
            logits: Any = np.ctypeslib.as_array(row, shape=(1, self._n_vocab)).copy()
            self._cached_token_ids = token_ids.copy()
            self._cached_logits = logits
            return {"logits": logits, "n_tokens": len(token_ids), "n_cached": num_cached}

    return _LastLogitsEngine


_ENGINE: type | None = None


def guidance_model(llm: Any) -> Any:
    """A guidance ``Model`` over a loaded ``llama_cpp.Llama``: what ``guidance.models.LlamaCpp(llm, echo=False,
    enable_monitoring=False)`` builds, with the last-logits engine."""
    global _ENGINE
    from guidance._schema import SamplingParams
    from guidance.models._base import Model
    from guidance.models._engine import EngineInterpreter

    if _ENGINE is None:
        _ENGINE = _last_logits_engine_class()
    engine = _ENGINE(
        llm,
        enable_backtrack=True,
        enable_ff_tokens=True,
        enable_monitoring=False,
        enable_token_probabilities=False,
        enable_top_k=False,
    )
    params = SamplingParams()  # type: ignore[typeddict-item]  # what guidance.models.LlamaCpp passes
    return Model(interpreter=EngineInterpreter(engine), sampling_params=params, echo=False)


class GuidanceBackend(LlamaCppBackend):
    name = "guidance"

    def generate(self, prompt: Prompt, schema: dict[str, Any], params: DecodingParams) -> str:
        guidance = require("guidance", "guidance")
        text = self.render(prompt)
        llm = self._load(
            seed=params.seed
        )  # a fresh context per call: guidance's cached state broke determinism
        with self.deadline(llm, params), warnings.catch_warnings(), quiet_native_stderr():
            warnings.simplefilter("ignore")  # "chat template could not be loaded": we render it ourselves
            lm = guidance_model(llm)
            lm += text + guidance.json(
                name="answer", schema=schema, max_tokens=params.max_tokens, temperature=params.temperature
            )
            return str(lm["answer"])

    def identity(self) -> dict[str, str]:
        return {
            **super().identity(),
            "guidance": package_version("guidance") or "",
            "llguidance": package_version("llguidance") or "",
        }
