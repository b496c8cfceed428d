"""guidance 0.3 + llama.cpp: the default backend (llguidance enforces the whole schema while decoding).

Do not install ``guidance[llamacpp]``: it pins an older llama-cpp-python than the one metaconf builds."""

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
            lm = guidance.models.LlamaCpp(llm, echo=False, enable_monitoring=False)
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
