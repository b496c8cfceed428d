"""`metaconf backends install llm`: the exact pip calls when the llama-cpp-python wheel is cached.

The real install runs end to end in CI (the README's test command); this asserts the calls it makes."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from metaconf.advise.llm import install


def test_cached_wheel_is_installed_without_deps_then_its_deps_come_from_pypi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = tmp_path / f"llama_cpp_python-{install.LLAMA_VERSION}-py3-none-linux_x86_64.whl"
    wheel.write_bytes(b"")
    calls: list[list[str]] = []
    real_version = importlib.metadata.version

    def version(name: str) -> str:
        if name == "llama-cpp-python":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setattr(install, "wheel_dir", lambda: tmp_path)
    monkeypatch.setattr(install, "_pip", lambda args, progress, env=None: calls.append(list(args)))
    monkeypatch.setattr(install, "smoke_test", lambda: "ok")
    assert install.install_llm(progress=lambda _: None) == "ok"
    first, second = calls[0], calls[1]
    # --no-index alone fails in a fresh virtualenv: pip cannot resolve diskcache, jinja2, ... offline
    assert first == [
        "install",
        "--no-index",
        "--no-deps",
        "--find-links",
        str(tmp_path),
        f"llama-cpp-python=={install.LLAMA_VERSION}",
    ]
    assert second == [
        "install",
        "--find-links",
        str(tmp_path),
        f"llama-cpp-python[server]=={install.LLAMA_VERSION}",
    ]
