"""One interface over the ways metaconf decodes a schema-constrained answer.

- ``guidance`` (default): guidance 0.3 + llama.cpp; llguidance enforces enum, minimum / maximum, maxItems and
  additionalProperties token by token (measured: 10/10 valid on every model tried).
- ``outlines``: outlines 1.3 + llama.cpp with ``backend="llguidance"`` (its default ``outlines_core`` backend
  does not enforce minimum / maximum and, without numba, silently decodes unconstrained: never used).
- ``openai``: any OpenAI-compatible server by URL, with a JSON-schema response format.

Determinism: greedy decoding (temperature 0), a fixed seed, ``max_tokens`` always set, and for the local
backends a fresh llama.cpp context per call (guidance's greedy output drifted between calls on one model object:
cached prompt state). Threads: generation on one thread; the prompt (most of the time, ~1,500 tokens) on two
when the machine gives this process two CPUs and OpenMP's threads wait passively (``OMP_WAIT_POLICY=PASSIVE``,
set before llama.cpp's OpenMP runtime starts). With the default active waiting, two threads stalled calls for
10-50 s at random on these 2-core machines whenever another process used a core; passive waiting removes the
stall and two prompt threads cut a 1.5B model's read by ~40 % (see :func:`batch_threads`). A generation
timeout is enforced inside llama.cpp (its abort callback stops the decode), so a stuck call ends with a clear
message instead of hanging the CLI.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

from metaconf.advise.llm.errors import LLM_INSTALL, LLMError, LLMTimeoutError, LLMUnavailableError
from metaconf.advise.llm.models import ModelRef, check_gguf
from metaconf.advise.llm.prompt import Prompt

BACKENDS = ("guidance", "outlines", "openai")
DEFAULT_CONTEXT = 4096
"""Context window used with local models (SmolLM2 was trained with 8k; 4k keeps memory and prompt time low)."""
DEFAULT_MAX_TOKENS = 900
DEFAULT_TIMEOUT_S = 180.0
DEFAULT_THREADS = 1
"""llama.cpp generation threads: see the module docstring for why one."""
PROMPT_THREADS = 2
"""llama.cpp prompt-evaluation threads when passive waiting can be ensured (:func:`batch_threads`)."""

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass(frozen=True)
class DecodingParams:
    max_tokens: int = DEFAULT_MAX_TOKENS
    seed: int = 0
    timeout_s: float = DEFAULT_TIMEOUT_S
    temperature: float = 0.0

    def describe(self) -> str:
        return f"greedy (temperature {self.temperature:g}), max_tokens={self.max_tokens}, seed={self.seed}"


class Backend(Protocol):
    name: str
    model: ModelRef

    def render(self, prompt: Prompt) -> str:
        """The exact text (local) or request messages (server) the model receives."""
        ...

    def prompt_budget(self, params: DecodingParams) -> tuple[Any, int] | None:
        """(token counter, tokens the prompt may use) for truncation, or None when unknown."""
        ...

    def generate(self, prompt: Prompt, schema: dict[str, Any], params: DecodingParams) -> str:
        """The model's answer as JSON text, decoded against ``schema``."""
        ...

    def identity(self) -> dict[str, str]:
        """What identifies the model and the decoder in provenance (no secrets)."""
        ...


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def require(module: str, package: str) -> Any:
    """Import an optional library, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise LLMUnavailableError(
            f"the LLM advisor needs `{package}`, which is not installed ({error})", LLM_INSTALL
        ) from None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence llama.cpp's C-level log lines (written to fd 2 even with ``verbose=False``)."""
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(fd, 2)
    finally:
        os.close(fd)


def _openmp_loaded() -> bool:
    """Whether an OpenMP runtime that reads ``OMP_WAIT_POLICY`` only at start-up is already in this process
    (LightGBM and llama.cpp share the system's libgomp; scikit-learn's is a private copy under another name)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return any("/libgomp.so" in line for line in maps)
    except OSError:  # not Linux: no /proc; assume the worst
        return True


def batch_threads(threads: int, cpus: int | None = None) -> int:
    """Threads for prompt evaluation: ``PROMPT_THREADS`` (at most the CPUs this process may use) when OpenMP
    waits passively, else ``threads``.

    Measured (benchmarks/components/llm_threads.py, Qwen2.5-1.5B, two descriptions, 2-core machine, docs/llm.md): one
    thread 20.3 / 24.2 s; prompt on two threads with passive waiting 11.4 / 13.7 s, and 17.0 / 21.4 s beside a
    busy core (one thread there: 18.7 / 24.2 s); two threads spinning (OpenMP's default) beside a busy core
    stalled to 32-36 s in some runs. So two threads only when waiting is passive: either the user set
    ``OMP_WAIT_POLICY=PASSIVE``, or it is unset and no OpenMP runtime has started yet, in which case it is set
    here for this process (and its children, which only run scikit-learn's private copy or single-threaded
    fits)."""
    if cpus is None:
        from metaconf.advise.repeatable import usable_cpus

        cpus = usable_cpus()
    wanted = min(max(PROMPT_THREADS, threads), cpus)
    if wanted <= threads:
        return threads
    policy = os.environ.get("OMP_WAIT_POLICY")
    if policy is None:
        if _openmp_loaded():
            return threads
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        return wanted
    return wanted if policy.strip().upper() == "PASSIVE" else threads


class LlamaCppBackend:
    """Shared by the guidance and outlines backends: loading a GGUF file with safe settings, the chat template,
    token counting and the timeout."""

    name = "llama.cpp"

    def __init__(self, model: ModelRef, *, n_ctx: int = DEFAULT_CONTEXT, threads: int | None = None) -> None:
        if model.path is None:
            raise LLMError("a local backend needs a GGUF file", "use --backend openai with --server")
        check_gguf(model.path)
        self.model = model
        self.n_ctx = n_ctx
        self.threads = threads or DEFAULT_THREADS
        self.threads_batch = batch_threads(self.threads)
        self._vocab: Any = None

    def _load(self, *, seed: int = 0, vocab_only: bool = False) -> Any:
        llama_cpp = require("llama_cpp", "llama-cpp-python")
        assert self.model.path is not None
        try:
            with quiet_native_stderr():
                return llama_cpp.Llama(
                    model_path=str(self.model.path),
                    n_ctx=self.n_ctx,
                    n_threads=self.threads,
                    n_threads_batch=self.threads_batch,
                    seed=seed,
                    verbose=False,
                    vocab_only=vocab_only,
                )
        except (ValueError, RuntimeError, OSError) as error:
            raise LLMError(
                f"llama.cpp cannot load `{self.model.path}`: {error}",
                "the file is corrupt or truncated, or its architecture is newer than llama-cpp-python "
                f"{package_version('llama-cpp-python')}; check its sha256 against the source (`metaconf models`)",
            ) from None

    def _vocab_model(self) -> Any:
        if self._vocab is None:
            self._vocab = self._load(vocab_only=True)
        return self._vocab

    def render(self, prompt: Prompt) -> str:
        """The prompt in the model's own chat template (from the GGUF metadata; ChatML when it has none)."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._vocab_model()
        messages: Any = prompt.messages()
        template = llm.metadata.get("tokenizer.chat_template") or CHATML

        def token_text(token: int) -> str:
            if token < 0:
                return ""
            return str(llm.detokenize([token], special=True).decode("utf-8", errors="replace"))

        try:
            formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=token_text(llm.token_eos()),
                bos_token=token_text(llm.token_bos()),
                add_generation_prompt=True,
            )
            return str(formatter(messages=messages).prompt)
        except Exception:  # a template llama-cpp-python's jinja cannot render: ChatML is the common format
            formatter = Jinja2ChatFormatter(
                template=CHATML, eos_token="", bos_token="", add_generation_prompt=True
            )
            return str(formatter(messages=messages).prompt)

    def count_tokens(self, text: str) -> int:
        return len(self._vocab_model().tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def prompt_budget(self, params: DecodingParams) -> tuple[Any, int] | None:
        # room for the answer and for the chat template's markers around the two messages
        return (self.count_tokens, self.n_ctx - params.max_tokens - 32)

    @contextlib.contextmanager
    def deadline(self, llm: Any, params: DecodingParams) -> Iterator[None]:
        """Abort llama.cpp's decode once ``params.timeout_s`` has passed (its abort callback is polled during
        every graph computation, so even a long prompt evaluation stops)."""
        import llama_cpp

        end = time.monotonic() + params.timeout_s
        fired = [False]

        @llama_cpp.ggml_abort_callback
        def abort(_: Any) -> bool:
            if time.monotonic() > end:
                fired[0] = True
                return True
            return False

        llama_cpp.llama_set_abort_callback(llm._ctx.ctx, abort, None)
        try:
            yield
        except Exception as error:
            if fired[0]:
                raise LLMTimeoutError(
                    f"the model did not finish within {params.timeout_s:g} s ({self.model.name}, {self.name})",
                    "raise --llm-timeout, use a smaller model, or use --advisor auto to fall back to the rules",
                ) from None
            raise LLMError(f"{self.name} generation failed: {error}") from None
        finally:
            llama_cpp.llama_set_abort_callback(llm._ctx.ctx, llama_cpp.ggml_abort_callback(0), None)
            del abort

    def identity(self) -> dict[str, str]:
        assert self.model.path is not None
        out = {
            "name": self.model.name,
            "source": self.model.source,
            "file": self.model.path.name,
            "sha256": self.model.sha256() or "",
            "bytes": str(self.model.size_bytes),
            "backend": self.name,
            "llama_cpp_python": package_version("llama-cpp-python") or "",
            "context_tokens": str(self.n_ctx),
            "threads": str(self.threads),
            "prompt_threads": str(self.threads_batch),
        }
        return out
