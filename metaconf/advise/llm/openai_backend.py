"""Any OpenAI-compatible server by URL: llama.cpp's ``llama-server``, ``python -m llama_cpp.server``, vLLM,
Ollama.

The request asks for the standard ``response_format: {"type": "json_schema", ...}``. llama-cpp-python's
server only knows its own variant, ``{"type": "json_object", "schema": ...}``, and rejects the standard one with
HTTP 4xx; then the request is sent again in that form (provenance records which one was used). A server may
still return values outside the schema (its grammar converter may drop keywords such as minimum / maximum):
every answer is checked against the schema afterwards, value by value.

llama-cpp-python's converter is one that drops minimum / maximum (measured: the bundled model wrote
``n_trials: 1`` for an allowed 10-710 and ``initial_design_size: 236`` for 0-5). Every grammar engine enforces
``enum``, so :func:`portable_schema` sends each integer range of at most ``MAX_ENUM_RANGE`` values as the enum of
its values (with a limit of 1,024 values, 17 of 50 answers through that server still had an out-of-range
``n_trials``, whose range is wider). Number ranges stay as they are and rest on the per-value check.

The API key comes from ``METACONF_API_KEY`` or ``OPENAI_API_KEY`` and is never written anywhere. It goes
only over https or to this machine (:func:`check_key_transport`), and no redirect is followed (urllib would
carry the ``Authorization`` header to whatever host a redirect names).
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.request
from typing import Any

from metaconf.advise.llm.backends import DecodingParams
from metaconf.advise.llm.errors import LLMError, LLMTimeoutError
from metaconf.advise.llm.models import ModelRef
from metaconf.advise.llm.prompt import Prompt

API_KEY_VARIABLES = ("METACONF_API_KEY", "OPENAI_API_KEY")
MAX_ENUM_RANGE = 4096
"""Integer ranges up to this many values are sent as an enum: a grammar alternative per value. Measured with
llama-cpp-python's grammar and the bundled model: an enum of 2,991 values (an n_trials range of 10-3,000) adds
0.9 s to a generation, against ~17 s per suggestion; n_trials ranges stop at 3,000 (MAX_TRIALS_RF)."""
SCHEMA_NAME = "metaconf_decisions"


def api_base(url: str) -> str:
    """``http://host:port`` or ``http://host:port/v1`` -> the ``/v1`` base the endpoints hang off."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def portable_schema(schema: Any) -> Any:
    """``schema`` with every bounded integer range of at most :data:`MAX_ENUM_RANGE` values written as the enum
    of its values (same accepted values; enforced by grammars that ignore minimum / maximum)."""
    if isinstance(schema, list):
        return [portable_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: portable_schema(value) for key, value in schema.items()}
    low, high = out.get("minimum"), out.get("maximum")
    if (
        out.get("type") == "integer"
        and isinstance(low, int)
        and isinstance(high, int)
        and not isinstance(low, bool)
        and not isinstance(high, bool)
        and 0 <= high - low < MAX_ENUM_RANGE
    ):
        rest = {k: v for k, v in out.items() if k not in ("type", "minimum", "maximum")}
        return {**rest, "enum": list(range(low, high + 1))}
    return out


class _Redirected(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows redirects and carries every header but the body's over, ``Authorization`` included, to
    whatever host the ``Location`` names. An OpenAI-compatible API has no reason to redirect: stop instead."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise _Redirected(newurl)


_OPENER = urllib.request.build_opener(_NoRedirects())


def check_key_transport(base: str, variable: str) -> None:
    """Refuse to send an API key in clear text to another machine: plain ``http://`` only to this one."""
    import ipaddress
    import urllib.parse

    parsed = urllib.parse.urlsplit(base)
    if parsed.scheme == "https":
        return
    host = (parsed.hostname or "").lower()
    local = host == "localhost" or host.endswith(".localhost")
    if not local:
        with contextlib.suppress(ValueError):
            local = ipaddress.ip_address(host).is_loopback
    if not local:
        raise LLMError(
            f"`{variable}` is set, and --server {base} is plain http to another machine: the key would cross "
            "the network unencrypted",
            "use the server's https:// address, or unset the variable if the server needs no key",
        )


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: ModelRef, *, model_name: str | None = None) -> None:
        assert model.url is not None
        self.model = model
        self.base = api_base(model.url)
        self.model_name = model_name
        self.response_format_used = ""

    # -- HTTP ------------------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict[str, Any] | None, timeout_s: float) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for variable in API_KEY_VARIABLES:
            if os.environ.get(variable):
                check_key_transport(self.base, variable)
                headers["Authorization"] = "Bearer " + os.environ[variable]
                break
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with _OPENER.open(request, timeout=timeout_s) as response:
                raw = response.read()
        except _Redirected as redirect:
            raise LLMError(
                f"the server at {self.base} redirects {path} to {redirect.location}; metaconf does not follow "
                "redirects (the request and its API key would go to another address)",
                "pass the address the server redirects to as --server",
            ) from None
        except urllib.error.HTTPError as error:
            detail = error.read()[:500].decode("utf-8", errors="replace")
            raise _HTTPStatus(error.code, detail) from None
        except TimeoutError:
            raise LLMTimeoutError(
                f"the server at {self.base} did not answer within {timeout_s:g} s",
                "raise --llm-timeout, or check the server's load",
            ) from None
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise LLMError(
                f"cannot reach the server at {self.base}: {reason}",
                "start it (e.g. `python -m llama_cpp.server --model FILE.gguf --port 8080`) or fix --server",
            ) from None
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise LLMError(
                f"the server at {self.base}{path} returned something that is not JSON: {raw[:200]!r}",
                "is --server the base URL of an OpenAI-compatible API (ending in /v1)?",
            ) from None

    def _model_name(self, timeout_s: float) -> str:
        if self.model_name is None:
            try:
                listing = self._request("GET", "/models", None, timeout_s)
                self.model_name = str(listing["data"][0]["id"])
            except _HTTPStatus:
                self.model_name = "default"
            except (KeyError, IndexError, TypeError):
                raise LLMError(
                    f"the server at {self.base}/models lists no model", "load a model in the server"
                ) from None
        return self.model_name

    # -- Backend interface -----------------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        return json.dumps(prompt.messages(), ensure_ascii=False, indent=1)

    def prompt_budget(self, params: DecodingParams) -> tuple[Any, int] | None:
        return None  # the server's tokenizer and context are unknown; it reports an overlong prompt itself

    def generate(self, prompt: Prompt, schema: dict[str, Any], params: DecodingParams) -> str:
        schema = portable_schema(schema)
        body: dict[str, Any] = {
            "model": self._model_name(params.timeout_s),
            "messages": prompt.messages(),
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "seed": params.seed,
        }
        formats = [
            (
                "json_schema",
                {
                    "type": "json_schema",
                    "json_schema": {"name": SCHEMA_NAME, "schema": schema, "strict": True},
                },
            ),
            ("json_object+schema", {"type": "json_object", "schema": schema}),
        ]
        last: _HTTPStatus | None = None
        for label, response_format in formats:
            try:
                reply = self._request(
                    "POST",
                    "/chat/completions",
                    {**body, "response_format": response_format},
                    params.timeout_s,
                )
            except _HTTPStatus as status:
                last = status
                # llama-cpp-python's server refuses the standard form (HTTP 500 with a validation error that
                # names response_format); other servers answer 400 / 422: retry with the llama.cpp variant.
                if label == "json_schema" and (
                    status.code in (400, 422) or "response_format" in status.detail
                ):
                    continue
                raise LLMError(
                    f"the server at {self.base} answered HTTP {status.code}: {status.detail}"
                ) from None
            self.response_format_used = label
            try:
                return str(reply["choices"][0]["message"]["content"])
            except (KeyError, IndexError, TypeError):
                raise LLMError(
                    f"the server's reply has no choices[0].message.content: {str(reply)[:200]}",
                    "is it an OpenAI-compatible chat completions API?",
                ) from None
        assert last is not None
        raise LLMError(
            f"the server at {self.base} accepts no JSON-schema response format (HTTP {last.code}: {last.detail})",
            "use a server with structured output (llama.cpp, vLLM, Ollama), or a local --model",
        )

    def identity(self) -> dict[str, str]:
        return {
            "name": (self.model_name or "").replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".gguf"),
            "source": "server",
            "url": self.base,
            "backend": self.name,
            "response_format": self.response_format_used,
            "sha256": "unknown (served model)",
        }


class _HTTPStatus(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"HTTP {code}")
        self.code = code
        self.detail = detail
