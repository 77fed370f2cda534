"""Anthropic Messages: a reply as a ``message`` object or as the Messages stream events.

Usage shape: ``input_tokens`` EXCLUDES the cache (normalised input minus cache reads and writes),
``cache_read_input_tokens``, ``cache_creation_input_tokens`` (with its ``cache_creation`` breakdown, all in
the 5-minute bucket), ``output_tokens`` (reasoning included) and ``output_tokens_details.thinking_tokens``.
A stream is ``message_start`` (the input side of the usage and ``output_tokens`` of at most 1, as Anthropic
sends), a ``ping``, ``content_block_start``/``_delta``/``_stop`` per block, ``message_delta`` whose usage is
the cumulative total, and ``message_stop``.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_agentopt.fake_llm.replies import FakeUsage, TextReply, ToolCallReply
from pytest_agentopt.fake_llm.sse import SseEvent, json_event, stream_pieces


def messages_usage(usage: FakeUsage) -> dict[str, Any]:
    return {
        "input_tokens": usage.uncached_input,
        "cache_read_input_tokens": usage.cache_read,
        "cache_creation_input_tokens": usage.cache_write,
        "cache_creation": {"ephemeral_5m_input_tokens": usage.cache_write, "ephemeral_1h_input_tokens": 0},
        "output_tokens": usage.output,
        "output_tokens_details": {"thinking_tokens": usage.reasoning},
        "service_tier": "standard",
    }


def _content(reply: TextReply | ToolCallReply, serial: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if isinstance(reply, TextReply) or reply.text:
        blocks.append({"type": "text", "text": reply.text or ""})
    if isinstance(reply, ToolCallReply):
        blocks.extend(
            {
                "type": "tool_use",
                "id": call.call_id or f"toolu_fake{serial}_{index}",
                "name": call.name,
                "input": dict(call.arguments),
            }
            for index, call in enumerate(reply.calls)
        )
    return blocks


def _stop_reason(reply: TextReply | ToolCallReply) -> str:
    return "end_turn" if isinstance(reply, TextReply) else "tool_use"


def message_object(reply: TextReply | ToolCallReply, usage: FakeUsage, model: str, serial: int) -> dict[str, Any]:
    """The non-streaming ``message`` body."""
    return {
        "id": f"msg_fake{serial}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _content(reply, serial),
        "stop_reason": _stop_reason(reply),
        "stop_sequence": None,
        "usage": messages_usage(usage),
    }


def _block_events(block: dict[str, Any], index: int) -> list[dict[str, Any]]:
    if block["type"] == "text":
        start = {**block, "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in stream_pieces(block["text"])]
    else:
        start = {**block, "input": {}}
        arguments = json.dumps(block["input"])
        deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in stream_pieces(arguments)]
    return [
        {"type": "content_block_start", "index": index, "content_block": start},
        *({"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas),
        {"type": "content_block_stop", "index": index},
    ]


def message_events(reply: TextReply | ToolCallReply, usage: FakeUsage, model: str, serial: int) -> list[SseEvent]:
    """The full event stream of a message."""
    final = message_object(reply, usage, model, serial)
    # Anthropic's message_start reports the input side and a token or so of output; the totals (and the
    # thinking breakdown, which must not exceed output_tokens) come with message_delta.
    start_usage = {**final["usage"], "output_tokens": min(1, usage.output)}
    del start_usage["output_tokens_details"]
    payloads: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {**final, "content": [], "stop_reason": None, "usage": start_usage},
        },
        {"type": "ping"},
    ]
    for index, block in enumerate(final["content"]):
        payloads.extend(_block_events(block, index))
    delta_usage = {key: value for key, value in final["usage"].items() if key not in ("cache_creation", "service_tier")}
    payloads.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": final["stop_reason"], "stop_sequence": None},
            "usage": delta_usage,
        }
    )
    payloads.append({"type": "message_stop"})
    return [json_event(payload, payload["type"]) for payload in payloads]
