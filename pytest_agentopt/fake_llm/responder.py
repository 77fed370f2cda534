"""From one HTTP request to one answer: route, take the next scripted reply, render it, record the request.

This module knows nothing about sockets: ``Responder.answer`` takes the request line, headers and body and
returns an ``Answer`` (status, headers, a JSON body or SSE events, and the latency to wait before sending it).
The request is recorded before the answer is returned, so a client that got its response always finds its
request in the log.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias
from urllib.parse import parse_qsl, urlsplit

from pytest_agentopt.fake_llm.recorded import Endpoint, RecordedRequest, redact_headers, redact_query
from pytest_agentopt.fake_llm.render_chat import chat_completion, chat_completion_chunks
from pytest_agentopt.fake_llm.render_errors import ApiFamily, error_body, error_headers
from pytest_agentopt.fake_llm.render_messages import message_events, message_object
from pytest_agentopt.fake_llm.render_models import anthropic_model, anthropic_models, openai_model, openai_models
from pytest_agentopt.fake_llm.render_responses import response_events, response_object
from pytest_agentopt.fake_llm.replies import ErrorReply, TextReply, ToolCallReply
from pytest_agentopt.fake_llm.script import Script
from pytest_agentopt.fake_llm.sse import SseEvent
from pytest_agentopt.fake_llm.tokens import usage_for

_POST_ROUTES: dict[str, Endpoint] = {
    "/chat/completions": "chat.completions",
    "/responses": "responses",
    "/messages": "messages",
}
ModelEndpoint: TypeAlias = Literal["chat.completions", "responses", "messages"]
KNOWN_ENDPOINTS = "POST /v1/chat/completions, POST /v1/responses, POST /v1/messages, GET /v1/models"


@dataclass(frozen=True)
class Answer:
    """What to send back: a JSON ``body`` or, when ``events`` is set, a chunked SSE stream."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    events: tuple[SseEvent, ...] | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class _Route:
    endpoint: Endpoint | None
    model_id: str | None = None


def _route(path: str) -> _Route:
    """The endpoint of ``path``, with or without its ``/v1`` prefix."""
    trimmed = path.rstrip("/")
    trimmed = trimmed.removeprefix("/v1")
    if trimmed in _POST_ROUTES:
        return _Route(_POST_ROUTES[trimmed])
    if trimmed == "/models":
        return _Route("models")
    if trimmed.startswith("/models/") and trimmed.count("/") == 2:
        return _Route("models", trimmed.removeprefix("/models/"))
    return _Route(None)


_NOT_JSON = object()


def _decode_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _NOT_JSON


def render_reply(
    endpoint: ModelEndpoint,
    body: dict[str, Any],
    reply: TextReply | ToolCallReply,
    serial: int,
    created: int,
) -> dict[str, Any] | list[SseEvent]:
    """``reply`` to the request ``body`` in ``endpoint``'s shape: a JSON body, or SSE events when streaming."""
    usage = usage_for(body, reply)
    model = str(body.get("model"))
    stream = body.get("stream") is True
    if endpoint == "chat.completions":
        if not stream:
            return chat_completion(reply, usage, model, serial, created)
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return chat_completion_chunks(reply, usage, model, serial, created, include_usage)
    if endpoint == "responses":
        if not stream:
            return response_object(reply, usage, body, serial, created)
        return response_events(reply, usage, body, serial, created)
    if not stream:
        return message_object(reply, usage, model, serial)
    return message_events(reply, usage, model, serial)


class Responder:
    """Turns requests into answers and keeps the request log; safe to call from many threads."""

    def __init__(self, script: Script, models: Sequence[str]) -> None:
        self._script = script
        self._models = tuple(models)
        self._lock = threading.Lock()
        self._log: list[RecordedRequest] = []
        self._serials = itertools.count(1)
        self.latency = 0.0

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    def models(self) -> list[str]:
        return list(dict.fromkeys([*self._models, *self._script.models()]))

    def answer(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        with self._lock:
            serial = next(self._serials)
        split = urlsplit(target)
        clean_headers, key_in_headers = redact_headers(headers)
        clean_query, key_in_query = redact_query(dict(parse_qsl(split.query)))
        route = _route(split.path)
        decoded = _decode_json(body)
        payload = decoded if isinstance(decoded, dict) else {}
        model = payload.get("model") if route.endpoint != "models" else route.model_id
        request = RecordedRequest(
            method=method,
            path=split.path,
            json=None if decoded is _NOT_JSON else decoded,
            headers=clean_headers,
            query=clean_query,
            api_key_present=key_in_headers or key_in_query,
            endpoint=route.endpoint,
            model=model if isinstance(model, str) else None,
            stream=payload.get("stream") is True,
        )
        family: ApiFamily = (
            "anthropic" if route.endpoint == "messages" or "anthropic-version" in clean_headers else "openai"
        )
        context = _Context(request, family, serial, int(time.time()))
        try:
            return self._answer(context, decoded)
        except Exception as error:  # a bug here must reach the test as a 500, not hang the client
            problem = f"fake_llm internal error: {type(error).__name__}: {error}"
            return self._refuse(context, 500, problem)

    def _answer(self, context: _Context, decoded: Any) -> Answer:
        request = context.request
        if request.endpoint is None:
            return self._refuse(
                context,
                404,
                f"fake_llm has no endpoint {request.method} {request.path}; it serves {KNOWN_ENDPOINTS}",
            )
        expected_method = "GET" if request.endpoint == "models" else "POST"
        if request.method != expected_method:
            return self._refuse(
                context,
                405,
                f"fake_llm serves {request.path} with {expected_method} only, got {request.method}",
            )
        if request.endpoint == "models":
            return self._models_answer(context)
        if not isinstance(decoded, dict):
            return self._refuse(context, 400, f"fake_llm expects a JSON object body for {request.path}")
        if request.model is None:
            return self._refuse(context, 400, f"fake_llm: the request to {request.path} names no 'model'")
        served = self._script.take(request)
        delay = self.latency + served.delay
        if isinstance(served.reply, ErrorReply):
            return self._error(context, served.reply, served.problem, delay)
        return self._reply(context, request.endpoint, decoded, served.reply, delay)

    def _models_answer(self, context: _Context) -> Answer:
        models = self.models()
        model_id = context.request.model
        anthropic = context.family == "anthropic"
        if model_id is None:
            body = anthropic_models(models) if anthropic else openai_models(models)
        elif model_id in models:
            body = anthropic_model(model_id) if anthropic else openai_model(model_id)
        else:
            return self._refuse(context, 404, f"fake_llm knows no model {model_id!r}; it lists {models}")
        return self._json(context, 200, body, problem=None, delay=self.latency)

    def _reply(
        self,
        context: _Context,
        endpoint: ModelEndpoint,
        body: dict[str, Any],
        reply: TextReply | ToolCallReply,
        delay: float,
    ) -> Answer:
        request = context.request
        rendered = render_reply(endpoint, body, reply, context.serial, context.created)
        if isinstance(rendered, dict):
            return self._json(context, 200, rendered, None, delay)
        self._record(request, 200, None)
        headers = (("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache"))
        return Answer(200, headers + context.id_headers, events=tuple(rendered), delay=delay)

    def _error(self, context: _Context, error: ErrorReply, problem: str | None, delay: float) -> Answer:
        body = error_body(error, context.family, context.request_id)
        extra = tuple(error_headers(error))
        return self._json(context, error.status, body, problem, delay, extra)

    def _refuse(self, context: _Context, status: int, problem: str) -> Answer:
        return self._error(context, ErrorReply(status, problem, should_retry=False), problem, 0.0)

    def _json(
        self,
        context: _Context,
        status: int,
        body: dict[str, Any],
        problem: str | None,
        delay: float,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Answer:
        self._record(context.request, status, problem)
        headers = (("content-type", "application/json"), *context.id_headers, *extra)
        return Answer(status, headers, json.dumps(body).encode(), delay=delay)

    def _record(self, request: RecordedRequest, status: int, problem: str | None) -> None:
        with self._lock:
            self._log.append(replace(request, status=status, problem=problem))


@dataclass(frozen=True)
class _Context:
    request: RecordedRequest
    family: ApiFamily
    serial: int
    created: int

    @property
    def request_id(self) -> str:
        return f"req_fake{self.serial}"

    @property
    def id_headers(self) -> tuple[tuple[str, str], ...]:
        return (("x-request-id", self.request_id), ("request-id", self.request_id))
