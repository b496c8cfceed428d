"""llama.cpp's prompt threads: two only when OpenMP waits passively (two spinning threads stalled reads beside
a busy core), and the answer is the same with one or two (benchmarks/components/llm_threads.py measures the time)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from metaconf.advise.llm import backends
from metaconf.advise.llm.backends import batch_threads
from metaconf.advise.llm.models import bundled_model


def test_two_prompt_threads_only_with_passive_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_WAIT_POLICY", "passive")
    assert batch_threads(1, cpus=2) == 2
    assert batch_threads(1, cpus=1) == 1  # never more threads than CPUs
    assert batch_threads(3, cpus=4) == 3  # the user's own thread count stays
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert batch_threads(1, cpus=2) == 1


def test_an_unset_policy_is_set_passive_unless_openmp_already_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setattr(backends, "_openmp_loaded", lambda: True)
    assert batch_threads(1, cpus=2) == 1 and "OMP_WAIT_POLICY" not in os.environ
    monkeypatch.setattr(backends, "_openmp_loaded", lambda: False)
    assert batch_threads(1, cpus=2) == 2 and os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


CHILD = """
import json, sys
import metaconf.advise.llm.backends as backends
wanted = int(sys.argv[2])
backends.batch_threads = lambda threads, cpus=None: wanted
from metaconf.advise.llm.extract import Extractor
extractor = Extractor.open(sys.argv[1])
text = "Missing a fraud costs us ten times more than a false alarm. We need it within 20 minutes."
print(json.dumps([extractor.backend.threads_batch, repr(extractor.extract(text, classes=["ok", "fraud"]).facts)]))
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="metaconf backends install llm")
@pytest.mark.skipif(bundled_model() is None, reason="metaconf backends install llm")
def test_one_or_two_prompt_threads_read_the_same_facts() -> None:
    model = bundled_model()
    assert model is not None and model.path is not None
    answers = []
    for threads in (1, 2):
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(model.path), str(threads)],
            capture_output=True, text=True, env=env, check=False, timeout=600,
        )
        assert done.returncode == 0, done.stderr
        answers.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert [a[0] for a in answers] == [1, 2]
    assert answers[0][1] == answers[1][1]
