"""The smallest pytest-agentopt experiment: one task, a stand-in agent, two configs.

    pytest benchmarks/minimal --agent-config=benchmarks/minimal/careful.json --sprt

The plugin runs the task under the control config (baseline.json, the parent of careful.json) and the test config
(careful.json), trial after trial, and stops as soon as its sequential test has decided whether careful is better,
worse or no different. The agent is a biased coin whose odds come from its config: replace it with your own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from pytest_agentopt import AgentConfig, AgentTrial


@dataclass(frozen=True)
class Answer:
    solved: bool
    input_tokens: int
    output_tokens: int


def coin_flip_agent(config: AgentConfig, seed: int) -> Answer:
    """Solves the task with probability ``params.skill``. Both arms of a pair get the same seed, so the same coin."""
    coin = random.Random(seed)
    solved = coin.random() < config.params["skill"]
    return Answer(solved, input_tokens=coin.randint(800, 1200), output_tokens=coin.randint(50, 150))


@pytest.mark.agent_task(code="coin_flip")
def test_coin_flip(agent_config: AgentConfig, agent_trial: AgentTrial) -> None:
    answer = coin_flip_agent(agent_config, seed=agent_trial.seed)
    agent_trial.record_usage(
        model=agent_config.model_id, input_tokens=answer.input_tokens, output_tokens=answer.output_tokens
    )
    agent_trial.record(steps=1)
    assert answer.solved, "the coin came up tails"  # a failed assertion is an agent failure: data, not a bug
