"""Errors of the LLM advisor. Each says what went wrong and how to fix it; `--advisor auto` falls back to the
rule advisor on any of them, `--advisor llm` exits with code 2."""

from __future__ import annotations

from metaconf.errors import MetaconfError

LLM_INSTALL = (
    "pip install 'metaconf[llm]'  (or `metaconf backends install llm`, which builds llama-cpp-python safely)"
)
"""How to get the optional pieces; repeated in every message about a missing library."""


class LLMError(MetaconfError):
    """The LLM advisor cannot run: missing library or model, corrupt model file, server problem, timeout."""


class LLMUnavailableError(LLMError):
    """No model or no library: nothing was tried (``--advisor auto`` uses the rules without a warning)."""


class LLMTimeoutError(LLMError):
    """Generation took longer than the timeout."""
