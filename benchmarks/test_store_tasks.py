"""The store benchmark: every task is one pytest test, run by pytest-agentopt under two configs.

    pytest benchmarks --agent-config=configs/exp_042.json -n 4

The plugin repeats each task for the control arm (the config's parent, here exp_041) and the test arm, several
trials each, with the same seed for both arms of a pair. A failed assertion is an agent failure (data for the
comparison), not a broken test.
"""

from __future__ import annotations

import pytest

from benchmarks.storeagent import TASKS, Task, run_agent
from pytest_agentopt import AgentConfig, AgentTrial


def _task_param(task: Task) -> object:
    mark = pytest.mark.agent_task(
        code=task.code, category=task.category, optimal_steps=task.optimal_steps, impossible=task.impossible
    )
    return pytest.param(task, id=task.code, marks=mark)


@pytest.mark.parametrize("task", [_task_param(task) for task in TASKS])
def test_store_task(task: Task, agent_config: AgentConfig, agent_trial: AgentTrial) -> None:
    result = run_agent(task, agent_config, seed=agent_trial.seed)
    if result.usage is not None:  # a backend that reports no usage leaves it unknown, not zero
        agent_trial.record_usage(result.usage)
    agent_trial.record(
        steps=result.steps,
        tool_calls=result.tool_calls,
        claimed_done=result.claimed_done,
        refused=result.refused,
    )
    assert result.success, result.failure_reason
