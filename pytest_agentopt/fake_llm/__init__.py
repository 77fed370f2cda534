"""A scriptable fake LLM server for tests: OpenAI- and Anthropic-compatible, on 127.0.0.1, stdlib only.

It speaks HTTP on loopback, so the real ``openai`` and ``anthropic`` SDKs (and anything built on them) talk
to it unchanged::

    from pytest_agentopt.fake_llm import FakeLLM, FakeUsage

    with FakeLLM() as llm:
        llm.reply("Hello", usage=FakeUsage(input=100, output=20, cache_read=40, reasoning=5))
        client = openai.OpenAI(base_url=llm.base_url, api_key="test-key")
        ...
        assert llm.requests[0].endpoint == "chat.completions"

Endpoints (with or without the ``/v1`` prefix):

- ``POST /v1/chat/completions``: OpenAI Chat Completions, plain or streamed (``stream_options.include_usage``
  adds the usage chunk);
- ``POST /v1/responses``: OpenAI Responses, plain or streamed;
- ``POST /v1/messages``: Anthropic Messages, plain or streamed;
- ``GET /v1/models`` and ``GET /v1/models/{id}``: OpenAI's list shape, Anthropic's when the request carries an
  ``anthropic-version`` header.

Errors (scripted with ``fail`` or the server's own, e.g. no reply left) come in the called API's error shape.
The SDKs map them to: 429 -> ``openai.RateLimitError`` / ``anthropic.RateLimitError``; 5xx ->
``openai.InternalServerError`` / ``anthropic.InternalServerError`` (Anthropic has subclasses for 503
``ServiceUnavailableError``, 504 ``GatewayTimeoutError``, 529 ``OverloadedError``); a client-side timeout ->
``openai.APITimeoutError`` / ``anthropic.APITimeoutError`` (subclasses of ``APIConnectionError``).

The user's guide, with runnable examples, is ``docs/fake_llm.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentopt.fake_llm.fake import FakeLLM
    from pytest_agentopt.fake_llm.fixture import fake_llm_fixture
    from pytest_agentopt.fake_llm.recorded import RecordedRequest
    from pytest_agentopt.fake_llm.replies import ErrorReply, FakeUsage, Reply, TextReply, ToolCall, ToolCallReply
    from pytest_agentopt.fake_llm.tokens import default_usage, estimate_tokens

# Lazy exports, on purpose: the plugin's entry point imports `fake_llm.fixture` in every pytest process, and the server
# (http.server, email, ...) costs about 0.1 s to import; it is only loaded when a test asks for it.
_EXPORTS = {
    "ErrorReply": ".replies",
    "FakeLLM": ".fake",
    "FakeUsage": ".replies",
    "RecordedRequest": ".recorded",
    "Reply": ".replies",
    "TextReply": ".replies",
    "ToolCall": ".replies",
    "ToolCallReply": ".replies",
    "default_usage": ".tokens",
    "estimate_tokens": ".tokens",
    "fake_llm_fixture": ".fixture",
}

__all__ = [
    "ErrorReply",
    "FakeLLM",
    "FakeUsage",
    "RecordedRequest",
    "Reply",
    "TextReply",
    "ToolCall",
    "ToolCallReply",
    "default_usage",
    "estimate_tokens",
    "fake_llm_fixture",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
