"""OpenAI Chat Completions: a reply as a ``chat.completion`` object or as ``chat.completion.chunk`` events.

Usage shape: ``prompt_tokens`` is the total input (cached included), ``completion_tokens`` the total output
(reasoning included), ``prompt_tokens_details.cached_tokens`` the cache reads and
``completion_tokens_details.reasoning_tokens`` the reasoning. Cache writes appear as
``prompt_tokens_details.cache_write_tokens`` only when non-zero. When streaming, usage comes only with
``stream_options={"include_usage": true}``, in a last chunk with no choices, as OpenAI does.
"""

from __future__ import annotations

from typing import Any

from pytest_agentopt.fake_llm.replies import FakeUsage, TextReply, ToolCallReply
from pytest_agentopt.fake_llm.sse import SseEvent, json_event, stream_pieces


def chat_usage(usage: FakeUsage) -> dict[str, Any]:
    prompt_details: dict[str, int] = {"cached_tokens": usage.cache_read, "audio_tokens": 0}
    if usage.cache_write:
        prompt_details["cache_write_tokens"] = usage.cache_write
    return {
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _call_ids(reply: ToolCallReply, serial: int) -> list[str]:
    return [call.call_id or f"call_fake{serial}_{index}" for index, call in enumerate(reply.calls)]


def _message(reply: TextReply | ToolCallReply, serial: int) -> dict[str, Any]:
    if isinstance(reply, TextReply):
        return {"role": "assistant", "content": reply.text, "refusal": None, "annotations": []}
    calls = [
        {"id": call_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments_json}}
        for call_id, call in zip(_call_ids(reply, serial), reply.calls, strict=True)
    ]
    return {
        "role": "assistant",
        "content": reply.text,
        "refusal": None,
        "annotations": [],
        "tool_calls": calls,
    }


def _finish_reason(reply: TextReply | ToolCallReply) -> str:
    return "stop" if isinstance(reply, TextReply) else "tool_calls"


def chat_completion(
    reply: TextReply | ToolCallReply, usage: FakeUsage, model: str, serial: int, created: int
) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` body."""
    return {
        "id": f"chatcmpl-fake{serial}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_fake_llm",
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "message": _message(reply, serial),
                "logprobs": None,
                "finish_reason": _finish_reason(reply),
            }
        ],
        "usage": chat_usage(usage),
    }


def _delta_chunks(reply: TextReply | ToolCallReply, serial: int) -> list[dict[str, Any]]:
    """The ``delta`` objects of the choice, in order, before the finishing chunk."""
    text = reply.text
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": "" if text else None, "refusal": None}]
    deltas.extend({"content": piece} for piece in stream_pieces(text or ""))
    if isinstance(reply, ToolCallReply):
        for index, (call_id, call) in enumerate(zip(_call_ids(reply, serial), reply.calls, strict=True)):
            head = {"index": index, "id": call_id, "type": "function"}
            deltas.append({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]})
            deltas.extend(
                {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                for piece in stream_pieces(call.arguments_json)
            )
    return deltas


def chat_completion_chunks(
    reply: TextReply | ToolCallReply,
    usage: FakeUsage,
    model: str,
    serial: int,
    created: int,
    include_usage: bool,
) -> list[SseEvent]:
    """The streamed ``chat.completion.chunk`` events, ending with ``[DONE]``."""
    base: dict[str, Any] = {
        "id": f"chatcmpl-fake{serial}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_fake_llm",
        "service_tier": "default",
    }
    if include_usage:
        base["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> SseEvent:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return json_event({**base, "choices": [choice]})

    events = [chunk(delta) for delta in _delta_chunks(reply, serial)]
    events.append(chunk({}, _finish_reason(reply)))
    if include_usage:
        events.append(json_event({**base, "choices": [], "usage": chat_usage(usage)}))
    events.append(SseEvent("[DONE]"))
    return events
