"""``FakeLLM``: the scripting facade a test uses, over the reply script, the dispatcher and the server."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from pytest_agentopt.fake_llm.recorded import RecordedRequest
from pytest_agentopt.fake_llm.replies import ErrorReply, FakeUsage, Reply, TextReply, ToolCall, ToolCallReply
from pytest_agentopt.fake_llm.responder import Responder
from pytest_agentopt.fake_llm.script import DefaultReply, Latency, Script
from pytest_agentopt.fake_llm.server import LoopbackServer


class FakeLLM:
    """An OpenAI- and Anthropic-compatible model server on 127.0.0.1, scripted by the test.

    Use it as a context manager (or ``start()``/``close()``)::

        with FakeLLM() as llm:
            llm.reply("Hello", usage=FakeUsage(input=100, output=20, cache_read=40, reasoning=5))
            client = openai.OpenAI(base_url=llm.base_url, api_key="test-key")

    Scripted replies are consumed one per model call, in order, across all endpoints; a reply scripted with
    ``model=`` is only given to requests for that model (which take their own replies first). ``models`` are
    the names ``GET /v1/models`` lists (besides every model given its own replies); ``latency`` is waited
    before every answer; ``default_reply`` answers when no scripted reply is left.
    """

    def __init__(
        self,
        *,
        models: Sequence[str] = ("fake-model",),
        latency: float = 0.0,
        default_reply: DefaultReply | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self._script = Script()
        self._script.set_default(default_reply)
        self._dispatcher = Responder(self._script, models)
        self.latency = latency
        self._host = host
        self._server: LoopbackServer | None = None
        self._closed = False

    # lifecycle

    def start(self) -> FakeLLM:
        """Start serving on a free port (idempotent; a closed FakeLLM cannot start again)."""
        if self._closed:
            raise RuntimeError("this FakeLLM is closed; create a new one")
        if self._server is None:
            self._server = LoopbackServer(self._dispatcher, self._host)
        return self

    def close(self) -> None:
        """Stop serving: the port is released and no thread is left behind. The log stays readable."""
        self._closed = True
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # addresses

    @property
    def port(self) -> int:
        return self._running().port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the server root."""
        server = self._running()
        return f"http://{server.host}:{server.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the ``base_url`` of OpenAI clients (and OpenAI-compatible ones)."""
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the ``base_url`` of Anthropic clients (they add ``/v1`` themselves)."""
        return self.url

    def _running(self) -> LoopbackServer:
        if self._server is None:
            raise RuntimeError("FakeLLM is not started: use `with FakeLLM() as llm:` or call llm.start()")
        return self._server

    # settings

    @property
    def latency(self) -> float:
        """Seconds waited before every answer (on top of any ``delay``)."""
        return self._dispatcher.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {seconds}")
        self._dispatcher.latency = seconds

    def default_reply(self, reply: DefaultReply | None) -> None:
        """What to answer when no scripted reply is left.

        A reply, a text, or a callable ``(RecordedRequest) -> reply | str`` for dynamic agents. ``None``
        restores the 500 naming the problem.
        """
        self._script.set_default(reply)

    # scripting

    def script(self, reply: Reply, *, model: str | None = None, delay: float | None = None) -> None:
        """Queue any reply object (``TextReply``, ``ToolCallReply``, ``ErrorReply``)."""
        if delay is not None:
            self.delay(delay, model=model)
        self._script.push(reply, model)

    def reply(
        self,
        text: str,
        *,
        usage: FakeUsage | None = None,
        model: str | None = None,
        delay: float | None = None,
    ) -> None:
        """Queue a text answer. Without ``usage``, usage follows the length rule of ``fake_llm.tokens``."""
        self.script(TextReply(text, usage), model=model, delay=delay)

    def reply_json(
        self,
        value: Any,
        *,
        usage: FakeUsage | None = None,
        model: str | None = None,
        delay: float | None = None,
    ) -> None:
        """Queue a text answer whose content is ``value`` as JSON text (structured output)."""
        self.script(TextReply(json.dumps(value), usage), model=model, delay=delay)

    def reply_tool_call(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        call_id: str | None = None,
        text: str | None = None,
        usage: FakeUsage | None = None,
        model: str | None = None,
        delay: float | None = None,
    ) -> None:
        """Queue a turn calling tool ``name`` with ``arguments``, rendered as each API's tool call."""
        call = ToolCall(name, dict(arguments or {}), call_id)
        self.script(ToolCallReply((call,), text, usage), model=model, delay=delay)

    def reply_tool_calls(
        self,
        calls: Sequence[ToolCall],
        *,
        text: str | None = None,
        usage: FakeUsage | None = None,
        model: str | None = None,
        delay: float | None = None,
    ) -> None:
        """Queue a turn making several (parallel) tool calls."""
        self.script(ToolCallReply(tuple(calls), text, usage), model=model, delay=delay)

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        message: str | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
        model: str | None = None,
        delay: float | None = None,
    ) -> None:
        """Queue ``times`` HTTP errors with the called API's error body (429, 500, 503, 400...).

        ``retry_after`` sends ``retry-after``/``retry-after-ms``; the SDKs only honour a positive value (0
        makes them use their own backoff of about half a second), so fast tests use ``retry_after=0.001``.
        For an error that never ends, set ``default_reply(ErrorReply(500))`` instead.
        """
        if times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        error = ErrorReply(status, message, retry_after, should_retry)
        for attempt in range(times):
            self.script(error, model=model, delay=delay if attempt == 0 else None)

    def delay(self, seconds: float, *, model: str | None = None) -> None:
        """Make the next reply (taken from the same queue, or the default reply) wait ``seconds`` first."""
        self._script.push(Latency(seconds), model)

    # inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a snapshot), credentials removed."""
        return self._dispatcher.requests

    @property
    def problems(self) -> list[str]:
        """What the server itself refused (no reply left, unknown path, invalid body...), in order."""
        return [request.problem for request in self.requests if request.problem is not None]

    @property
    def remaining_replies(self) -> int:
        """Scripted replies not consumed yet."""
        return self._script.remaining()

    def models(self) -> list[str]:
        """The names ``GET /v1/models`` lists."""
        return self._dispatcher.models()
