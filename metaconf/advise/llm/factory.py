"""Choosing the LLM backend: a local GGUF file decoded by guidance or outlines, or an OpenAI-compatible server.

Kept apart from :mod:`metaconf.advise.llm.backends` (the protocol and the llama.cpp base the decoders build on),
which the decoders import: each decoder's libraries load only when it is chosen.
"""

from __future__ import annotations

from metaconf.advise.llm.backends import BACKENDS, DEFAULT_CONTEXT, Backend
from metaconf.advise.llm.errors import LLMError
from metaconf.advise.llm.models import ModelRef


def make_backend(name: str, model: ModelRef, *, n_ctx: int = DEFAULT_CONTEXT, threads: int | None = None) -> Backend:
    """The backend ``name`` for ``model`` (``openai`` for a server, a local decoder for a GGUF file)."""
    if model.source == "server":
        if name not in ("openai",):
            raise LLMError(
                f"--backend {name} decodes a local GGUF file; a --server is used through `--backend openai`",
                "drop --backend, or pass --backend openai",
            )
        from metaconf.advise.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(model)
    if name == "guidance":
        from metaconf.advise.llm.guidance_backend import GuidanceBackend

        return GuidanceBackend(model, n_ctx=n_ctx, threads=threads)
    if name == "outlines":
        from metaconf.advise.llm.outlines_backend import OutlinesBackend

        return OutlinesBackend(model, n_ctx=n_ctx, threads=threads)
    if name == "openai":
        raise LLMError("--backend openai needs --server URL", "e.g. --server http://127.0.0.1:8080/v1")
    raise LLMError(f"unknown backend `{name}`", "use one of: " + ", ".join(BACKENDS))
