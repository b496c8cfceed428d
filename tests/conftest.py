"""Shared test set-up: every test gets its own probe cache, so no test reuses the costs another measured (the
CLI runs in subprocesses inherit it through the environment)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_probe_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path_factory.mktemp("probe-cache")
    monkeypatch.setenv("METACONF_PROBE_CACHE", str(folder))
    return folder
