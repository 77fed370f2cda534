"""The default usage rule: token counts derived from text lengths when a reply scripts no usage.

Rule (deterministic, documented for users' assertions):

- ``estimate_tokens(text) = ceil(len(text) / 4)``, at least 1 (about four characters a token, the usual rule
  of thumb for English text).
- input = ``estimate_tokens(prompt_text(request body))``, where the prompt text is every string found under
  the body's ``system``, ``instructions``, ``messages`` and ``input`` fields (depth first, in order), except
  the values of the structural keys ``role``, ``type``, ``id``, ``call_id`` and ``tool_call_id``, joined by
  newlines.
- output = ``estimate_tokens(reply text)``; the reply text of a tool call turn is its text (if any) followed
  by, per call, the tool name and the JSON arguments, joined by newlines.
- cache read, cache write and reasoning are 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from pytest_agentopt.fake_llm.replies import FakeUsage, TextReply, ToolCallReply

PROMPT_FIELDS = ("system", "instructions", "messages", "input")
STRUCTURAL_KEYS = frozenset({"role", "type", "id", "call_id", "tool_call_id"})
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """``ceil(len(text) / 4)``, never less than 1."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in STRUCTURAL_KEYS:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def prompt_text(body: object) -> str:
    """The text of a request's prompt fields (see the module docstring for the exact rule)."""
    if not isinstance(body, dict):
        return ""
    return "\n".join(text for name in PROMPT_FIELDS for text in _strings(body.get(name)))


def reply_text(reply: TextReply | ToolCallReply) -> str:
    """The text whose length gives a reply's default output tokens."""
    if isinstance(reply, TextReply):
        return reply.text
    parts = [reply.text] if reply.text else []
    for call in reply.calls:
        parts.extend((call.name, call.arguments_json))
    return "\n".join(parts)


def default_usage(body: object, reply: TextReply | ToolCallReply) -> FakeUsage:
    """The usage reported for ``reply`` to a request with ``body`` when the reply scripts none."""
    return FakeUsage(input=estimate_tokens(prompt_text(body)), output=estimate_tokens(reply_text(reply)))


def usage_for(body: object, reply: TextReply | ToolCallReply) -> FakeUsage:
    """The scripted usage of ``reply`` if any, else the default rule's."""
    return reply.usage if reply.usage is not None else default_usage(body, reply)
