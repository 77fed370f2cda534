"""The ``agent_trial`` fixture's object: what a task knows about its trial and what it records."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_agentopt.recording.usage import TokenUsage, bare_usage_shape, usage_from_keywords, usages_of
from pytest_agentopt.run.trial_order import Arm

if TYPE_CHECKING:
    from pytest_agentopt.configs.model import AgentConfig

MetricValue = int | float | bool | str | None


class AgentTrial:
    """One trial of one task under one arm.

    ``seed`` is the same for the control and the test trial of a pair, so both see the same randomness.
    Usage recorded by hand wins over usage captured automatically (OpenTelemetry), so nothing counts twice.
    """

    def __init__(
        self,
        *,
        arm: Arm,
        index: int,
        seed: int,
        task_id: str,
        task_code: str | None,
        seq: int,
        configs: Mapping[str, AgentConfig],
        model_id: str,
    ) -> None:
        self.arm: Arm = arm
        self.index = index
        self.seed = seed
        self.task_id = task_id
        self.task_code = task_code
        self.seq = seq
        self.model_id = model_id
        self._configs = configs
        self._usage_by_model: dict[str, TokenUsage] = {}
        self._metrics: dict[str, MetricValue] = {}
        self._warnings: list[str] = []

    @property
    def config(self) -> AgentConfig:
        """The arm's validated config (the same object the ``agent_config`` fixture gives)."""
        return self._configs[self.arm]

    def __repr__(self) -> str:
        return f"<AgentTrial {self.task_id} arm={self.arm} trial={self.index} seed={self.seed}>"

    def record_usage(self, usage: object = None, /, **keywords: Any) -> None:
        """Add the tokens of one or more model calls; calls add up.

        Pass the whole response, which names the model that served it, so each call is priced as that model::

            agent_trial.record_usage(client.chat.completions.create(...))   # OpenAI Chat Completions
            agent_trial.record_usage(client.responses.create(...))          # OpenAI Responses
            agent_trial.record_usage(client.messages.create(...))           # Anthropic
            agent_trial.record_usage(agent.run_sync(...))                   # pydantic-ai: every model response
            agent_trial.record_usage(chat_model.invoke(...))                # LangChain AIMessage

        A bare usage object (``response.usage``) names no model: it is priced as the config's ``model_id``
        unless ``model=`` names it (``record_usage(msg.usage, model=msg.model)``); when its shape cannot come
        from that model (an Anthropic usage under a GPT config, an OpenAI one under a Claude config) the run
        warns once. Other accepted objects: a pydantic-ai ``RunUsage``, a LangChain ``usage_metadata`` dict, a
        :class:`TokenUsage`, ... (``usage.ACCEPTED_SHAPES``). Or keywords: ``model``, ``input_tokens`` (total,
        cached included), ``output_tokens`` (total, reasoning included), ``cache_read_tokens``,
        ``cache_write_tokens``, ``reasoning_tokens``.
        """
        if usage is None and not keywords:
            raise TypeError(
                "record_usage() needs a usage object or keywords such as input_tokens=..., output_tokens=...; "
                "a trial that records nothing keeps its usage unknown"
            )
        if usage is not None:
            unknown = set(keywords) - {"model"}
            if unknown:
                raise TypeError(f"record_usage() takes a usage object or keywords, not both (got {sorted(unknown)})")
            named = keywords.get("model")
            calls = usages_of(usage, model=named)
            if named is None and all(call.model is None for call in calls):
                self._check_bare_shape(usage)
        else:
            calls = [usage_from_keywords(**keywords)]
        for call in calls:
            self._add(call)

    def _add(self, call: TokenUsage) -> None:
        model = call.model or self.model_id
        added = dataclasses.replace(call, model=model)
        current = self._usage_by_model.get(model)
        self._usage_by_model[model] = added if current is None else current + added

    def _check_bare_shape(self, usage: object) -> None:
        """Warn (once per run, on the controller) when a bare usage cannot come from the config's model."""
        shape = bare_usage_shape(usage)
        if shape is None:
            return
        claude_config = "claude" in self.model_id.lower()
        if (shape == "Anthropic") == claude_config:
            return
        self._warnings.append(
            f"record_usage() got a bare {shape} usage object, which names no model, in a trial whose config "
            f"model is {self.model_id!r}: it was priced as {self.model_id!r}, which cannot have produced it. "
            "Pass the whole response, which names its model (agent_trial.record_usage(response)), or name it "
            "(agent_trial.record_usage(response.usage, model=response.model))"
        )

    @property
    def warnings(self) -> list[str]:
        """What the run must tell the user about this trial's recording (the controller prints each once)."""
        return list(self._warnings)

    def record(self, **metrics: MetricValue) -> None:
        """Record trajectory metrics: ``steps``, ``tool_calls``, ``claimed_done``, or any number, flag or label."""
        for name, value in metrics.items():
            if not isinstance(value, int | float | bool | str) and value is not None:
                raise TypeError(
                    f"record({name}=...): metrics must be numbers, booleans, strings or None, "
                    f"got {type(value).__name__}"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"record({name}=...): metrics must be finite, got {value}")
            if isinstance(value, str) and len(value) > 200:
                raise ValueError(f"record({name}=...): string metrics are labels, at most 200 characters")
            self._metrics[name] = value

    @property
    def usage_by_model(self) -> dict[str, TokenUsage]:
        return dict(self._usage_by_model)

    @property
    def usage(self) -> TokenUsage | None:
        """Total usage over all models, or ``None`` when nothing was recorded (unknown, not zero)."""
        total: TokenUsage | None = None
        for usage in self._usage_by_model.values():
            total = usage if total is None else total + usage
        return total

    @property
    def metrics(self) -> dict[str, MetricValue]:
        return dict(self._metrics)

    def adopt_captured_usage(self, captured: dict[str, TokenUsage]) -> None:
        """Use automatically captured usage when the task recorded none by hand."""
        if self._usage_by_model:
            return
        for usage in captured.values():
            self._add(usage)  # spans that name no model used the arm's model
