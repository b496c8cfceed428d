"""outlines 1.3 + llama.cpp with the llguidance backend.

Never outlines' default ``outlines_core`` backend: measured here, it does not enforce minimum / maximum, runs
away into endless digits, and without numba silently generates unconstrained text while exiting 0."""

from __future__ import annotations

import json
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


class OutlinesBackend(LlamaCppBackend):
    name = "outlines"

    def generate(self, prompt: Prompt, schema: dict[str, Any], params: DecodingParams) -> str:
        outlines = require("outlines", "outlines")
        require("llguidance", "llguidance")
        from outlines.types import JsonSchema

        text = self.render(prompt)
        llm = self._load(seed=params.seed)
        with self.deadline(llm, params), quiet_native_stderr(), warnings.catch_warnings():
            # outlines' llama.cpp tokenizer calls a deprecated llama-cpp-python function once per vocabulary entry
            warnings.simplefilter("ignore", DeprecationWarning)
            generator = outlines.Generator(
                outlines.from_llamacpp(llm), JsonSchema(json.dumps(schema)), backend="llguidance"
            )
            return str(generator(text, max_tokens=params.max_tokens, temperature=params.temperature))

    def identity(self) -> dict[str, str]:
        return {
            **super().identity(),
            "outlines": package_version("outlines") or "",
            "llguidance": package_version("llguidance") or "",
            "outlines_backend": "llguidance",
        }
