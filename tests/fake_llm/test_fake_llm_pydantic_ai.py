"""pydantic-ai agents (built on the openai and anthropic SDKs) run a tool loop against fake_llm."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from pytest_agentopt.fake_llm import FakeLLM, FakeUsage

pytest.importorskip("pydantic_ai")
from pydantic_ai import Agent, RunUsage
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.openai import OpenAIProvider

USAGE = FakeUsage(input=100, output=20, cache_read=40, cache_write=10, reasoning=5)


def _chat(llm: FakeLLM) -> Model:
    return OpenAIChatModel("gpt-4o", provider=OpenAIProvider(base_url=llm.base_url, api_key="k"))


def _responses(llm: FakeLLM) -> Model:
    return OpenAIResponsesModel("gpt-4o", provider=OpenAIProvider(base_url=llm.base_url, api_key="k"))


def _anthropic(llm: FakeLLM) -> Model:
    return AnthropicModel("claude-haiku-4-5", provider=AnthropicProvider(base_url=llm.anthropic_base_url, api_key="k"))


@pytest.mark.parametrize("build_model", [_chat, _responses, _anthropic])
@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.usefixtures("owned_event_loop")
def test_a_tool_calling_agent_sums_the_exact_usage_of_both_turns(
    fake_llm: FakeLLM, build_model: Callable[[FakeLLM], Model], streamed: bool
) -> None:
    fake_llm.reply_tool_call("search", {"q": "gpu"}, usage=USAGE)
    fake_llm.reply("The answer", usage=USAGE)
    searched: list[str] = []

    def search(q: str) -> str:
        searched.append(q)
        return f"results for {q}"

    agent = Agent(build_model(fake_llm), tools=[search])

    async def run() -> tuple[str, RunUsage]:
        async with agent.run_stream("Find GPUs") as stream:
            return await stream.get_output(), stream.usage

    if streamed:
        output, usage = asyncio.run(run())
    else:
        result = agent.run_sync("Find GPUs")
        output, usage = result.output, result.usage

    assert output == "The answer"
    assert searched == ["gpu"]
    assert (usage.requests, usage.input_tokens, usage.output_tokens) == (2, 200, 40)
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (80, 20)
    # pydantic-ai's own reasoning field; its `details` key differs by provider ("reasoning_tokens" for OpenAI,
    # "thinking_tokens" for Anthropic).
    assert usage.output_reasoning_tokens == 10
    assert fake_llm.problems == []
