"""Small, real "installed" part packages for the model registry's tests: a site directory on ``sys.path`` with a
``*.dist-info`` per part (found by ``importlib.metadata`` like any pip install) and the part's bytes inside."""

from __future__ import annotations

import importlib
import random
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from metaconf.advise.llm import models

PREFIX = "metaconf-test-part"
VERSION = "1.0"
PART_BYTES = 4096


def gguf_payload(size: int = 10_000, seed: int = 0) -> bytes:
    """Bytes that start like a GGUF v3 file (magic, version), then noise."""
    noise = random.Random(seed).randbytes(size - 8)
    return b"GGUF" + (3).to_bytes(4, "little") + noise


class FakeSite:
    """A site directory holding the parts of one fake registry model, installed or not, part by part."""

    def __init__(self, root: Path, payload: bytes, *, name: str = "tiny-test", prefix: str = PREFIX) -> None:
        import hashlib

        self.root = root
        self.payload = payload
        count = -(-len(payload) // PART_BYTES)
        self.spec = models.ModelSpec(
            name=name,
            title="Tiny Test GGUF",
            file=f"{name}.gguf",
            size_bytes=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(),
            parts=models._byte_split(prefix, VERSION, count),
            part_bytes=PART_BYTES,
            licence="Apache-2.0",
            origin="made by the test",
            chat_format="chatml",
            reads_descriptions=True,
        )

    def chunk(self, index: int) -> bytes:
        return self.payload[index * PART_BYTES : (index + 1) * PART_BYTES]

    def install(self, index: int, *, version: str = VERSION, data: bytes | None = None) -> None:
        """Install part ``index`` (0-based) as pip would: its package directory and its dist-info."""
        part = self.spec.parts[index]
        self.uninstall(index)
        target = self.root / part.relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.chunk(index) if data is None else data)
        info = self.root / f"{part.module}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {part.distribution}\nVersion: {version}\n"
        )
        importlib.invalidate_caches()

    def install_all(self) -> None:
        for index in range(len(self.spec.parts)):
            self.install(index)

    def uninstall(self, index: int) -> None:
        part = self.spec.parts[index]
        shutil.rmtree(self.root / part.module, ignore_errors=True)
        for info in self.root.glob(f"{part.module}-*.dist-info"):
            shutil.rmtree(info)
        importlib.invalidate_caches()

    def with_spec(self, **changes: object) -> models.ModelSpec:
        """Change the registry entry (e.g. a wrong sha256), in the test's registry too."""
        self.spec = replace(self.spec, **changes)  # type: ignore[arg-type]
        models.REGISTRY[self.spec.name] = self.spec
        return self.spec


def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: bytes | None = None) -> FakeSite:
    """A FakeSite on ``sys.path``, its model in the registry as the default, the model directory in tmp, no
    ``$METACONF_LLM_MODEL``. Nothing is installed yet."""
    site = FakeSite(tmp_path / "site", payload or gguf_payload())
    site.root.mkdir()
    monkeypatch.setattr(sys, "path", [str(site.root), *sys.path])
    monkeypatch.setenv(models.MODEL_DIR_ENV, str(tmp_path / "models"))
    monkeypatch.delenv(models.MODEL_ENV, raising=False)
    monkeypatch.setattr(models, "REGISTRY", {site.spec.name: site.spec})
    monkeypatch.setattr(models, "DEFAULT_MODEL", site.spec.name)
    models._HASHES.clear()
    return site
