"""OpenAI Responses: a reply as a ``response`` object or as the ``response.*`` stream events.

Usage shape: ``input_tokens`` is the total input (cached included) with ``input_tokens_details.cached_tokens``
(cache reads) and ``cache_write_tokens``; ``output_tokens`` is the total output with
``output_tokens_details.reasoning_tokens``. A stream is ``response.created``, ``response.in_progress``, per
output item ``output_item.added`` ... ``output_item.done`` (text via ``content_part``/``output_text`` events,
tool calls via ``function_call_arguments`` events), then ``response.completed`` carrying the usage.
"""

from __future__ import annotations

import itertools
from typing import Any

from pytest_agentopt.fake_llm.replies import FakeUsage, TextReply, ToolCallReply
from pytest_agentopt.fake_llm.sse import SseEvent, json_event, stream_pieces


def responses_usage(usage: FakeUsage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input,
        "input_tokens_details": {"cached_tokens": usage.cache_read, "cache_write_tokens": usage.cache_write},
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning},
        "total_tokens": usage.input + usage.output,
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _output_items(reply: TextReply | ToolCallReply, serial: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if isinstance(reply, TextReply) or reply.text:
        items.append(
            {
                "id": f"msg_fake{serial}",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [_text_part(reply.text or "")],
            }
        )
    if isinstance(reply, ToolCallReply):
        items.extend(
            {
                "id": f"fc_fake{serial}_{index}",
                "type": "function_call",
                "call_id": call.call_id or f"call_fake{serial}_{index}",
                "name": call.name,
                "arguments": call.arguments_json,
                "status": "completed",
            }
            for index, call in enumerate(reply.calls)
        )
    return items


def response_object(
    reply: TextReply | ToolCallReply, usage: FakeUsage, request: dict[str, Any], serial: int, created: int
) -> dict[str, Any]:
    """The completed ``response`` object (also the payload of ``response.completed``)."""
    tools = request.get("tools")
    return {
        "id": f"resp_fake{serial}",
        "object": "response",
        "created_at": created,
        "completed_at": created,
        "status": "completed",
        "model": request.get("model"),
        "output": _output_items(reply, serial),
        "parallel_tool_calls": True,
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": tools if isinstance(tools, list) else [],
        "instructions": request.get("instructions"),
        "error": None,
        "incomplete_details": None,
        "metadata": {},
        "text": {"format": {"type": "text"}},
        "usage": responses_usage(usage),
    }


def _item_events(item: dict[str, Any], output_index: int) -> list[dict[str, Any]]:
    """The events that stream one output item, without sequence numbers."""
    location = {"item_id": item["id"], "output_index": output_index}
    if item["type"] == "message":
        text = item["content"][0]["text"]
        part = {**location, "content_index": 0}
        return [
            {
                "type": "response.output_item.added",
                "output_index": output_index,
                "item": {**item, "status": "in_progress", "content": []},
            },
            {"type": "response.content_part.added", **part, "part": _text_part("")},
            *(
                {"type": "response.output_text.delta", **part, "delta": piece, "logprobs": []}
                for piece in stream_pieces(text)
            ),
            {"type": "response.output_text.done", **part, "text": text, "logprobs": []},
            {"type": "response.content_part.done", **part, "part": _text_part(text)},
            {"type": "response.output_item.done", "output_index": output_index, "item": item},
        ]
    arguments = item["arguments"]
    return [
        {
            "type": "response.output_item.added",
            "output_index": output_index,
            "item": {**item, "status": "in_progress", "arguments": ""},
        },
        *(
            {"type": "response.function_call_arguments.delta", **location, "delta": piece}
            for piece in stream_pieces(arguments)
        ),
        {
            "type": "response.function_call_arguments.done",
            **location,
            "name": item["name"],
            "arguments": arguments,
        },
        {"type": "response.output_item.done", "output_index": output_index, "item": item},
    ]


def response_events(
    reply: TextReply | ToolCallReply, usage: FakeUsage, request: dict[str, Any], serial: int, created: int
) -> list[SseEvent]:
    """The full event stream of a response, with increasing ``sequence_number``."""
    final = response_object(reply, usage, request, serial, created)
    pending = {**final, "status": "in_progress", "output": [], "usage": None, "completed_at": None}
    payloads: list[dict[str, Any]] = [
        {"type": "response.created", "response": pending},
        {"type": "response.in_progress", "response": pending},
        *itertools.chain.from_iterable(_item_events(item, index) for index, item in enumerate(final["output"])),
        {"type": "response.completed", "response": final},
    ]
    return [
        json_event({**payload, "sequence_number": number}, payload["type"]) for number, payload in enumerate(payloads)
    ]
