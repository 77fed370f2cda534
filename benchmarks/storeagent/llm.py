"""The small interface between the agent loop and a language model, and the token estimate it uses.

The loop only needs :class:`LLMClient`: chat messages in, reply text and token usage out. The simulated model
(:mod:`benchmarks.storeagent.simulated`) and the OpenAI-compatible backend
(:mod:`benchmarks.storeagent.openai_backend`) both implement it, so the same loop runs against either.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pytest_agentopt import TokenUsage

Message = dict[str, str]

# OpenAI's published rule of thumb for chat prompts: a few tokens of framing per message and per reply.
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY_PRIMING = 3


@dataclass(frozen=True)
class ModelReply:
    """One model call: the raw reply text (expected to be a ``NextStep`` JSON object) and what it cost.

    ``usage`` is ``None`` when the backend reported none (some OpenAI-compatible servers omit it): unknown,
    not 0.
    """

    text: str
    usage: TokenUsage | None


class LLMClient(Protocol):
    """What the agent loop calls once per step."""

    def complete(
        self,
        messages: Sequence[Message],
        *,
        response_schema: dict[str, Any],
        temperature: float,
        seed: int,
    ) -> ModelReply: ...


def estimate_text_tokens(text: str) -> int:
    """``ceil(len(text) / 4)``: the usual estimate for English text and JSON with BPE tokenizers."""
    return math.ceil(len(text) / 4)


def estimate_prompt_tokens(messages: Sequence[Message]) -> int:
    """Prompt tokens of a chat request: every message's content plus the per-message framing."""
    return TOKENS_PER_REPLY_PRIMING + sum(
        TOKENS_PER_MESSAGE + estimate_text_tokens(message["content"]) for message in messages
    )
