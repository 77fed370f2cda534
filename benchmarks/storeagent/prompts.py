"""The conversation the agent starts from: a system prompt built from the config, and the task."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_agentopt import AgentConfig

from .llm import Message
from .store import SIMULATED_TODAY
from .tools import tool_catalogue

DEFAULT_SYSTEM_PROMPT = (
    "You are a shopping agent working for a customer in an online store. Use the store's tools to do what "
    "the customer asks, exactly and nothing more.",
)
GUIDELINES_HEADING = "Guidelines:"

REPLY_FORMAT = (
    "Reply at every step with one JSON object of the NextStep schema: "
    '{"state": "<what you know so far>", "plan": ["<next steps>"], '
    '"action": {"tool": "<name>", ...arguments}}. '
    "The action is exactly one tool call, or a final answer: "
    '{"tool": "done", "message": "<what you did or the answer>"} when the task is complete, or '
    '{"tool": "refuse", "reason": "<why>"} when the request cannot be fulfilled.'
)


def system_prompt(config: AgentConfig) -> str:
    """System prompt parts, then the guidelines block, then the tools and the reply format."""
    parts = list(config.system_prompt or DEFAULT_SYSTEM_PROMPT)
    if config.guidelines:
        parts.append(GUIDELINES_HEADING + "\n" + "\n".join(f"- {_one_line(g)}" for g in config.guidelines))
    parts.append("Tools:\n" + tool_catalogue())
    parts.append(REPLY_FORMAT)
    return "\n\n".join(parts)


def initial_messages(config: AgentConfig, instruction: str) -> list[Message]:
    return [
        {"role": "system", "content": system_prompt(config)},
        {"role": "user", "content": f"Today is {SIMULATED_TODAY.isoformat()}. Task: {instruction}"},
    ]


def guidelines_in(messages: Sequence[Message]) -> list[str]:
    """The guidelines listed in the system message's guidelines block (what a model would read as such)."""
    if not messages or messages[0]["role"] != "system":
        return []
    for block in messages[0]["content"].split("\n\n"):
        if block.startswith(GUIDELINES_HEADING + "\n"):
            return [line[2:] for line in block.splitlines()[1:] if line.startswith("- ")]
    return []


def _one_line(text: str) -> str:
    return " ".join(text.split())
