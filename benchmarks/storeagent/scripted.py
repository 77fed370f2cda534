"""A client that replays a fixed list of actions: checks tasks, policies and the loop without a model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pytest_agentopt import TokenUsage

from .actions import Action, NextStep, describe_action
from .llm import Message, ModelReply, estimate_prompt_tokens, estimate_text_tokens


class ScriptedClient:
    """Replies with ``actions`` in order (raw strings are sent as they are, e.g. to test invalid replies).

    When the script runs out it repeats its last reply. Usage is the same estimate the simulated model
    reports.
    """

    def __init__(self, actions: Iterable[Action | str], *, model: str = "scripted") -> None:
        self.replies: list[Action | str] = list(actions)
        if not self.replies:
            raise ValueError("ScriptedClient needs at least one reply")
        self.model = model
        self.calls: list[list[Message]] = []

    def complete(
        self,
        messages: Sequence[Message],
        *,
        response_schema: dict[str, Any],
        temperature: float,
        seed: int,
    ) -> ModelReply:
        index = min(len(self.calls), len(self.replies) - 1)
        self.calls.append([dict(message) for message in messages])
        reply = self.replies[index]
        if isinstance(reply, str):
            text = reply
        else:
            step = NextStep(state=f"scripted step {index + 1}", plan=[describe_action(reply)], action=reply)
            text = step.model_dump_json()
        usage = TokenUsage(
            input_tokens=estimate_prompt_tokens(messages),
            output_tokens=estimate_text_tokens(text),
            model=self.model,
        )
        return ModelReply(text=text, usage=usage)
