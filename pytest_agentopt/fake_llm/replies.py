"""What a test scripts the fake server to answer: usage figures and the replies themselves.

Replies are plain frozen dataclasses, independent of any API: each endpoint renders the same reply in its own
wire shape (``render_*`` modules). Usage is given once, in normalised terms (OpenAI's convention: input is the
total including cache reads and writes, output the total including reasoning); each endpoint converts it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias


@dataclass(frozen=True)
class FakeUsage:
    """Token usage a reply reports, in normalised terms.

    ``input`` is the total prompt size including ``cache_read`` and ``cache_write``; ``output`` is the total
    completion size including ``reasoning``. The Anthropic endpoint reports
    ``input - cache_read - cache_write`` as its ``input_tokens``, as Anthropic does.
    """

    input: int
    output: int
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0

    def __post_init__(self) -> None:
        for name in ("input", "output", "cache_read", "cache_write", "reasoning"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"FakeUsage.{name} must be a non-negative int, got {value!r}")
        if self.cache_read + self.cache_write > self.input:
            raise ValueError(
                f"FakeUsage: cache_read ({self.cache_read}) + cache_write ({self.cache_write}) exceed input "
                f"({self.input}); input is the total including cached tokens"
            )
        if self.reasoning > self.output:
            raise ValueError(
                f"FakeUsage: reasoning ({self.reasoning}) exceeds output ({self.output}); "
                "output is the total including reasoning"
            )

    @property
    def uncached_input(self) -> int:
        """Input tokens neither read from nor written to the cache (Anthropic's ``input_tokens``)."""
        return self.input - self.cache_read - self.cache_write


@dataclass(frozen=True)
class ToolCall:
    """One function/tool call the model makes. ``call_id`` defaults to a fresh id per response."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    call_id: str | None = None

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text OpenAI sends (Anthropic sends the object itself)."""
        return json.dumps(dict(self.arguments))


@dataclass(frozen=True)
class TextReply:
    """An assistant message with text content (``reply_json`` puts JSON text here)."""

    text: str
    usage: FakeUsage | None = None


@dataclass(frozen=True)
class ToolCallReply:
    """An assistant turn that calls one or more tools, optionally with some text before the calls."""

    calls: tuple[ToolCall, ...]
    text: str | None = None
    usage: FakeUsage | None = None

    def __post_init__(self) -> None:
        if not self.calls:
            raise ValueError("ToolCallReply needs at least one ToolCall")


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error answered in the called API's own error body shape.

    ``retry_after`` (seconds) sets both ``retry-after`` (whole seconds, rounded up) and ``retry-after-ms``;
    both SDKs prefer ``retry-after-ms``. A value of 0 (or ``None``) makes the SDKs fall back to their own
    exponential backoff (about 0.4-0.5 s for the first retry), so fast tests pass a tiny positive value.
    ``should_retry`` sets the ``x-should-retry`` header both SDKs obey over their status-code rules.
    """

    status: int
    message: str | None = None
    retry_after: float | None = None
    should_retry: bool | None = None

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError(f"ErrorReply.status must be an HTTP error status (400-599), got {self.status}")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError(f"ErrorReply.retry_after must be >= 0, got {self.retry_after}")


Reply: TypeAlias = TextReply | ToolCallReply | ErrorReply


def coerce_reply(value: object) -> Reply:
    """A reply from what a ``default_reply`` callable returned: a reply object, or a string for text."""
    if isinstance(value, TextReply | ToolCallReply | ErrorReply):
        return value
    if isinstance(value, str):
        return TextReply(value)
    raise TypeError(
        f"a fake_llm reply must be a str, TextReply, ToolCallReply or ErrorReply, got {type(value).__name__}: {value!r}"
    )
