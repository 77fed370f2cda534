"""The simulated model: determinism, competence, guideline effects and costs, tokens, latency."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from benchmarks.storeagent import TASKS, TASKS_BY_CODE, AgentResult, ModelReply, Task, run_agent
from benchmarks.storeagent.llm import Message
from benchmarks.storeagent.prompts import initial_messages
from benchmarks.storeagent.simulated import (
    GUIDELINE_EFFECTS,
    SimulatedModel,
    UnknownModelError,
    active_effects,
    guideline_bonus,
    profile_for,
)
from benchmarks.storeagent.simulated.model import TEMPERATURE_PENALTY
from pytest_agentopt.configs.model import AgentConfig
from pytest_agentopt.recording.usage import TokenUsage

COUPON_GUIDELINE = "Check coupon limits first"


def _config(model_id: str = "gpt-4.1-mini", **fields: Any) -> AgentConfig:
    return AgentConfig.model_validate({"experiment_id": "sim", "model_id": model_id, **fields})


def _success_rate(tasks: Sequence[Task], config: AgentConfig, seeds: range) -> float:
    results = [run_agent(task, config, seed=seed).success for task in tasks for seed in seeds]
    return sum(results) / len(results)


class _Recording:
    """Wraps a simulated model to keep every reply's usage."""

    def __init__(self, inner: SimulatedModel) -> None:
        self.inner = inner
        self.usages: list[TokenUsage] = []

    def complete(
        self, messages: Sequence[Message], *, response_schema: dict[str, Any], temperature: float, seed: int
    ) -> ModelReply:
        reply = self.inner.complete(messages, response_schema=response_schema, temperature=temperature, seed=seed)
        assert reply.usage is not None
        self.usages.append(reply.usage)
        return reply


def _recorded_run(task: Task, config: AgentConfig, seed: int) -> tuple[AgentResult, list[TokenUsage]]:
    client = _Recording(SimulatedModel(task, profile_for(config.model_id), model_id=config.model_id))
    return run_agent(task, config, seed=seed, client=client), client.usages


def test_the_same_config_and_seed_give_the_same_run() -> None:
    config = _config(guidelines=[COUPON_GUIDELINE])
    for task in TASKS:
        first, again = run_agent(task, config, seed=11), run_agent(task, config, seed=11)
        assert first == again


def test_different_seeds_give_different_runs() -> None:
    task = TASKS_BY_CODE["coupon_used_up"]
    outcomes = {run_agent(task, _config(), seed=seed).transcript for seed in range(30)}
    assert len(outcomes) > 3


def test_avoiding_a_mistake_has_the_documented_probability() -> None:
    task = TASKS_BY_CODE["coupon_used_up"]
    trap = next(t for t in task.traps if t.mistake.kind == "skips_coupon_check")
    model = SimulatedModel(task, profile_for("gpt-4.1-mini"))
    with_guideline = _config(guidelines=[COUPON_GUIDELINE], temperature=0.5)
    model.complete(initial_messages(with_guideline, task.instruction), response_schema={}, temperature=0.5, seed=1)
    bonus = sum(e.bonus for e in GUIDELINE_EFFECTS if e.topic == "coupon_limits")
    logit = 1.2 - trap.mistake.difficulty + bonus - TEMPERATURE_PENALTY * 0.5
    assert model.avoid_probability(trap.mistake) == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-12)


def test_reasoning_models_ignore_temperature() -> None:
    task = TASKS_BY_CODE["coupon_used_up"]
    mistake = task.traps[0].mistake
    probabilities = []
    for temperature in (0.0, 1.5):
        model = SimulatedModel(task, profile_for("gpt-5"))
        messages = initial_messages(_config("gpt-5"), task.instruction)
        model.complete(messages, response_schema={}, temperature=temperature, seed=1)
        probabilities.append(model.avoid_probability(mistake))
    assert probabilities[0] == probabilities[1]


def test_the_coupon_guideline_is_recognised_and_helps_only_its_topics() -> None:
    effects = active_effects([COUPON_GUIDELINE])
    assert {e.topic for e in effects} == {"coupon_limits", "coupons"}
    assert guideline_bonus(effects, ["stock"]) == 0
    assert guideline_bonus(effects, ["coupon_limits"]) > 2
    assert active_effects(["Be polite to the customer."]) == ()


def test_stronger_tiers_solve_more_discriminative_tasks() -> None:
    # 10 tasks x 30 seeds = 300 trials per tier: the standard error of a rate is at most 0.029, and the
    # calibrated gaps between tiers are at least 0.2 (benchmarks/README.md): each ordering holds by > 6 SE.
    tasks = [t for t in TASKS if t.category == "discriminative"]
    rates = [_success_rate(tasks, _config(model), range(30)) for model in ("gpt-4.1-nano", "gpt-4.1-mini", "gpt-5")]
    assert rates[0] + 0.1 < rates[1] < rates[2] - 0.1


def test_the_coupon_guideline_lifts_coupon_tasks_and_leaves_the_others_alone() -> None:
    # 40 seeds per task. Coupon-limit tasks: 12 x 40 = 480 trials per arm, SE of the difference <= 0.032; the
    # calibrated lift is about 0.35, so "> 0.2" holds by more than 4 SE. Other tasks: 14 x 40 = 560 per arm,
    # SE <= 0.030, expected difference about 0.02, so "< 0.1" holds by more than 2.5 SE (the seeds are fixed).
    coupon = [t for t in TASKS if "coupon_limits" in t.topics]
    others = [t for t in TASKS if "coupon_limits" not in t.topics]
    control = _config(guidelines=["Before the final answer, verify the checkout result."])
    test = _config(guidelines=["Before the final answer, verify the checkout result.", COUPON_GUIDELINE])
    seeds = range(40)
    assert _success_rate(coupon, test, seeds) - _success_rate(coupon, control, seeds) > 0.2
    assert abs(_success_rate(others, test, seeds) - _success_rate(others, control, seeds)) < 0.1


def test_a_guideline_costs_prompt_tokens_on_every_step() -> None:
    task = TASKS_BY_CODE["buy_usb_cable"]
    plain, guided = _config(), _config(guidelines=[COUPON_GUIDELINE])
    compared = 0
    for seed in range(20):
        plain_result, plain_usage = _recorded_run(task, plain, seed)
        guided_result, guided_usage = _recorded_run(task, guided, seed)
        if [s.action for s in plain_result.transcript] != [s.action for s in guided_result.transcript]:
            continue  # different trajectories: not comparable step by step
        extra = [g.input_tokens - p.input_tokens for g, p in zip(guided_usage, plain_usage, strict=True)]
        assert len(set(extra)) == 1, extra  # the same surcharge at every step...
        assert extra[0] > 0  # ...and a positive one
        compared += 1
    assert compared >= 10


def test_failing_runs_take_more_steps_than_successful_ones() -> None:
    config = _config("gpt-4.1-nano")
    excess: dict[bool, list[int]] = {True: [], False: []}
    for task in TASKS:
        for seed in range(10):
            result = run_agent(task, config, seed=seed)
            excess[result.success].append(result.steps - task.optimal_steps)
    mean_success = sum(excess[True]) / len(excess[True])
    mean_failure = sum(excess[False]) / len(excess[False])
    assert mean_failure > mean_success + 1


def test_reasoning_tokens_only_for_reasoning_models_and_cache_reads_only_for_caching_ones() -> None:
    task = TASKS_BY_CODE["gpu_build"]  # long: prompts pass the 1024-token caching threshold
    for model_id, reasoning, cached in (
        ("gpt-5", True, True),
        ("gpt-4.1-mini", False, True),
        ("claude-sonnet-4-5", False, False),
    ):
        result = run_agent(task, _config(model_id), seed=2)
        assert result.usage is not None
        assert (result.usage.reasoning_tokens > 0) is reasoning, model_id
        assert (result.usage.cache_read_tokens > 0) is cached, model_id
        assert result.usage.cache_read_tokens < result.usage.input_tokens


def test_simulated_latency_sleeps_per_step_and_longer_once_failing() -> None:
    task = TASKS_BY_CODE["coupon_used_up"]
    for seed in range(40):
        sleeps: list[float] = []
        model = SimulatedModel(task, profile_for("gpt-4.1-nano"), latency_s=0.1, sleep=sleeps.append)
        result = run_agent(task, _config("gpt-4.1-nano"), seed=seed, client=model)
        assert len(sleeps) == result.steps
        assert all(0.075 <= s <= 0.125 * 1.6 for s in sleeps)
        if model.failing and max(sleeps) > 0.125:
            return  # a failing run slept longer than any on-track step can
    pytest.fail("no failing run with a slowed-down step in 40 seeds")


def test_model_ids_resolve_with_prefixes_and_dates_and_unknown_ones_need_a_tier() -> None:
    assert profile_for("openai:gpt-4.1-mini-2025-04-14").tier == "medium"
    assert profile_for("claude-sonnet-4-5-20250929").tier == "frontier"
    assert profile_for("gpt-5").reasoning_tokens_per_step > 0
    with pytest.raises(UnknownModelError, match=r"known models: .*gpt-4\.1-nano.*params\.sim_tier"):
        profile_for("my-local-llama")
    assert profile_for("my-local-llama", tier="small").tier == "small"
    assert profile_for("gpt-5", tier="small").reasoning_tokens_per_step > 0
