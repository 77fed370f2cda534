"""Choosing the model backend a config asks for (``params.backend``)."""

from __future__ import annotations

from pytest_agentopt import AgentConfig

from .llm import LLMClient
from .params import example_params
from .simulated import SimulatedModel, profile_for
from .tasks import Task


def make_client(config: AgentConfig, task: Task) -> LLMClient:
    """A fresh client for one run: the simulated model (default) or an OpenAI-compatible endpoint."""
    params = example_params(config)
    if params.backend == "openai":
        from .openai_backend import OpenAIChatClient  # imported lazily: the simulation never needs the SDK

        return OpenAIChatClient.from_config(config, params)
    profile = profile_for(config.model_id, tier=params.sim_tier)
    return SimulatedModel(task, profile, model_id=config.model_id, latency_s=params.sim_latency_s)
