"""Every task is solvable by its reference policy, and every mistake the simulation can make really fails."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.storeagent import TASKS, ScriptedClient, Task, run_agent
from benchmarks.storeagent.actions import Action, Done, Refuse
from benchmarks.storeagent.tasks import Trap
from pytest_agentopt.configs.model import AgentConfig

CONFIG = AgentConfig(experiment_id="scripted", model_id="scripted", max_steps=30)

TRAPS = [
    pytest.param(task, trap, id=f"{task.code}-{trap.step}-{trap.mistake.kind}") for task in TASKS for trap in task.traps
]


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.code)
def test_the_reference_policy_solves_the_task(task: Task) -> None:
    result = run_agent(task, CONFIG, seed=7, client=ScriptedClient(task.policy))
    assert result.success, result.failure_reason
    assert result.steps == task.optimal_steps
    assert result.refused == task.impossible
    assert result.claimed_done == (not task.impossible)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.code)
def test_the_reference_policy_makes_no_failing_tool_call_except_on_purpose(task: Task) -> None:
    result = run_agent(task, CONFIG, seed=7, client=ScriptedClient(task.policy))
    assert result.tool_errors == 0, [step for step in result.transcript if not step.ok]


@pytest.mark.parametrize(("task", "trap"), TRAPS)
def test_every_mistake_fails_the_task(task: Task, trap: Trap) -> None:
    script: list[Action] = [*task.policy[: trap.step], *trap.mistake.actions]
    result = run_agent(task, CONFIG, seed=7, client=ScriptedClient(script))
    assert not result.success, f"{trap.mistake.kind} passed"
    assert result.failure_reason
    if trap.mistake.loops:
        assert result.failure_reason == "no final answer within max_steps=30"
        assert result.steps == CONFIG.max_steps


def test_impossible_tasks_fail_when_the_agent_claims_done_instead_of_refusing() -> None:
    for task in (t for t in TASKS if t.impossible):
        script = [*task.policy[:-1], Done(message="All done.")]
        result = run_agent(task, CONFIG, seed=1, client=ScriptedClient(script))
        assert not result.success
        assert result.false_done
        assert result.failure_reason == "claimed done on an impossible task instead of refusing"


def test_feasible_tasks_fail_when_the_agent_refuses() -> None:
    for task in (t for t in TASKS if not t.impossible):
        result = run_agent(task, CONFIG, seed=1, client=ScriptedClient([Refuse(reason="cannot")]))
        assert not result.success
        assert result.failure_reason == "refused a feasible task"


def test_the_suite_has_at_least_24_tasks_in_all_four_categories() -> None:
    counts = Counter(task.category for task in TASKS)
    assert sum(counts.values()) >= 24
    assert set(counts) == {"trivial", "discriminative", "challenging", "impossible"}
    assert min(counts.values()) >= 5
    assert len({task.code for task in TASKS}) == len(TASKS)


def test_coupon_limit_tasks_are_the_ones_the_coupon_guideline_is_about() -> None:
    coupon_tasks = {task.code for task in TASKS if "coupon_limits" in task.topics}
    assert {
        "coupon_used_up",
        "coupon_expired",
        "desk_coupon_used_up",
        "espresso_coupon_expired",
    } <= coupon_tasks
    assert "gpu_race" not in coupon_tasks
    for task in TASKS:
        for trap in task.traps:
            if "coupon_limits" in trap.mistake.topics:
                assert task.code in coupon_tasks


def test_every_task_has_a_generic_false_done_and_a_looping_trap() -> None:
    for task in TASKS:
        kinds = {trap.mistake.kind for trap in task.traps}
        assert {"false_done", "looping"} <= kinds, task.code
