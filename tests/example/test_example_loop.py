"""The SGR agent loop: step limit, bookkeeping, usage sums, invalid replies, and the prompt it sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from benchmarks.storeagent import TASKS_BY_CODE, ModelReply, ScriptedClient, make_client, run_agent
from benchmarks.storeagent.actions import Action, AddToBasket, Checkout, Done, SearchProducts, ViewBasket
from benchmarks.storeagent.llm import Message, estimate_prompt_tokens, estimate_text_tokens
from benchmarks.storeagent.prompts import guidelines_in, initial_messages
from benchmarks.storeagent.simulated import SimulatedModel
from pytest_agentopt.configs.model import AgentConfig
from pytest_agentopt.recording.usage import TokenUsage

CABLE_TASK = TASKS_BY_CODE["buy_usb_cable"]


def _config(**fields: Any) -> AgentConfig:
    return AgentConfig.model_validate({"experiment_id": "loop", "model_id": "gpt-4.1-mini", **fields})


def test_it_stops_at_max_steps_without_a_final_answer() -> None:
    client = ScriptedClient([ViewBasket()])
    result = run_agent(CABLE_TASK, _config(max_steps=5), seed=0, client=client)
    assert (result.steps, result.tool_calls, len(client.calls)) == (5, 5, 5)
    assert not result.success
    assert result.failure_reason == "no final answer within max_steps=5"
    assert not result.claimed_done
    assert not result.refused
    assert result.final_message is None


def test_it_stops_at_the_final_answer_and_counts_steps_tool_calls_and_errors() -> None:
    script: list[Action] = [
        SearchProducts(query="USB-C cable"),
        AddToBasket(sku="NO-SUCH-SKU", quantity=1),
        AddToBasket(sku="CBL-USBC1", quantity=1),
        Checkout(),
        Done(message="Ordered."),
        ViewBasket(),  # never reached
    ]
    client = ScriptedClient(script)
    result = run_agent(CABLE_TASK, _config(), seed=0, client=client)
    assert result.success
    assert (result.steps, result.tool_calls, result.tool_errors) == (5, 4, 1)
    assert result.claimed_done
    assert result.final_message == "Ordered."
    assert [step.ok for step in result.transcript] == [True, False, True, True, True]
    assert result.transcript[1].detail == "no product with sku 'NO-SUCH-SKU'"
    assert len(client.calls) == 5


def test_it_sums_the_usage_of_every_model_call() -> None:
    client = ScriptedClient(CABLE_TASK.policy, model="scripted-model")
    result = run_agent(CABLE_TASK, _config(), seed=0, client=client)
    assert result.usage is not None
    assert result.usage.input_tokens == sum(estimate_prompt_tokens(call) for call in client.calls)
    assert result.usage.output_tokens > 0
    assert result.usage.model == "scripted-model"


class _UsageFreeClient:
    """Reports no usage on its second call, like an OpenAI-compatible server that omits it."""

    def __init__(self) -> None:
        self.inner = ScriptedClient(CABLE_TASK.policy)

    def complete(
        self, messages: Sequence[Message], *, response_schema: dict[str, Any], temperature: float, seed: int
    ) -> ModelReply:
        reply = self.inner.complete(messages, response_schema=response_schema, temperature=temperature, seed=seed)
        return ModelReply(reply.text, None if len(self.inner.calls) == 2 else reply.usage)


def test_a_call_without_usage_makes_the_run_usage_unknown_not_a_partial_sum() -> None:
    result = run_agent(CABLE_TASK, _config(), seed=0, client=_UsageFreeClient())
    assert result.success
    assert result.usage is None


def test_an_invalid_reply_costs_a_step_and_is_answered_with_the_error() -> None:
    client = ScriptedClient(['{"state": "oops"', *CABLE_TASK.policy])
    result = run_agent(CABLE_TASK, _config(), seed=0, client=client)
    assert result.success
    assert result.invalid_replies == 1
    assert result.steps == CABLE_TASK.optimal_steps + 1
    assert result.transcript[0].action == "invalid reply"
    correction = client.calls[1][-1]
    assert correction["role"] == "user"
    assert correction["content"].startswith("Invalid reply (")


def test_tool_results_are_appended_as_user_messages_after_the_assistant_reply() -> None:
    client = ScriptedClient(CABLE_TASK.policy)
    run_agent(CABLE_TASK, _config(), seed=0, client=client)
    second_call = client.calls[1]
    assert [m["role"] for m in second_call] == ["system", "user", "assistant", "user"]
    assert second_call[3]["content"].startswith("TOOL RESULT search_products: [")


def test_the_system_prompt_carries_the_config_parts_guidelines_and_tools() -> None:
    config = _config(system_prompt=["You shop."], guidelines=["Check coupon limits first", "Be\nbrief"])
    messages = initial_messages(config, "Buy a cable.")
    system = messages[0]["content"]
    assert system.startswith("You shop.")
    assert "- get_coupon(code)" in system
    assert guidelines_in(messages) == ["Check coupon limits first", "Be brief"]
    assert messages[1]["content"] == "Today is 2025-03-14. Task: Buy a cable."
    assert guidelines_in(initial_messages(_config(), "x")) == []


def test_the_simulated_backend_is_the_default_and_unknown_params_are_rejected() -> None:
    assert isinstance(make_client(_config(), CABLE_TASK), SimulatedModel)
    with pytest.raises(ValueError, match=r"config loop: params.sim_latncy_s: Extra inputs are not permitted"):
        make_client(_config(params={"sim_latncy_s": 1}), CABLE_TASK)


def test_token_estimates_follow_the_documented_rule() -> None:
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens("abcd") == 1
    assert estimate_text_tokens("abcde") == 2
    # 3 for the reply priming, then 4 per message plus ceil(chars / 4).
    assert estimate_prompt_tokens([{"role": "user", "content": "abcde"}]) == 3 + 4 + 2


def test_the_result_holds_a_token_usage_of_the_shared_type() -> None:
    result = run_agent(CABLE_TASK, _config(), seed=3)
    assert isinstance(result.usage, TokenUsage)
    assert result.usage.model == "gpt-4.1-mini"
