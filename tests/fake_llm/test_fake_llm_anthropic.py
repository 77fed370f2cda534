"""The Messages endpoint, driven by the real ``anthropic`` SDK."""

from __future__ import annotations

import anthropic
from anthropic.types import TextBlock, ToolUseBlock, Usage

from pytest_agentopt.fake_llm import FakeLLM, FakeUsage

USAGE = FakeUsage(input=1000, output=80, cache_read=600, cache_write=150, reasoning=30)
MESSAGES: list[anthropic.types.MessageParam] = [{"role": "user", "content": "Hello?"}]


def _assert_anthropic_usage(usage: Usage) -> None:
    # Anthropic's input_tokens exclude cache reads and writes: 1000 - 600 - 150.
    assert usage.input_tokens == 250
    assert usage.cache_read_input_tokens == 600
    assert usage.cache_creation_input_tokens == 150
    assert usage.output_tokens == 80
    assert usage.output_tokens_details is not None
    assert usage.output_tokens_details.thinking_tokens == 30


def test_it_answers_a_message_with_text_and_usage_that_excludes_the_cache(
    fake_llm: FakeLLM, anthropic_client: anthropic.Anthropic
) -> None:
    fake_llm.reply("Hi, human", usage=USAGE)

    message = anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=MESSAGES)

    assert message.model == "claude-haiku-4-5"
    assert message.stop_reason == "end_turn"
    assert [block.text for block in message.content if isinstance(block, TextBlock)] == ["Hi, human"]
    _assert_anthropic_usage(message.usage)


def test_it_answers_a_tool_use_block_after_optional_text(
    fake_llm: FakeLLM, anthropic_client: anthropic.Anthropic
) -> None:
    fake_llm.reply_tool_call("search", {"q": "gpu"}, text="Let me check.")

    message = anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=MESSAGES)

    assert message.stop_reason == "tool_use"
    text, tool_use = message.content
    assert isinstance(text, TextBlock)
    assert text.text == "Let me check."
    assert isinstance(tool_use, ToolUseBlock)
    assert (tool_use.name, tool_use.input) == ("search", {"q": "gpu"})
    assert tool_use.id.startswith("toolu_")


def test_it_streams_events_with_the_usage_split_between_start_and_delta(
    fake_llm: FakeLLM, anthropic_client: anthropic.Anthropic
) -> None:
    fake_llm.reply("Streaming is fun", usage=USAGE)

    events = list(
        anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=MESSAGES, stream=True)
    )

    assert [event.type for event in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start, delta = events[0], events[-2]
    assert start.type == "message_start"
    assert delta.type == "message_delta"
    assert start.message.usage.input_tokens == 250
    assert start.message.usage.cache_read_input_tokens == 600
    assert start.message.usage.output_tokens == 1
    assert start.message.usage.output_tokens_details is None
    # message_delta usage is cumulative: the final totals, not an increment.
    assert delta.usage.output_tokens == 80
    assert delta.usage.input_tokens == 250
    assert delta.delta.stop_reason == "end_turn"


def test_its_stream_helper_accumulates_text_tool_input_and_final_usage(
    fake_llm: FakeLLM, anthropic_client: anthropic.Anthropic
) -> None:
    fake_llm.reply_tool_call("search", {"q": "gpu", "filters": {"min_memory_gb": 24}}, text="Checking", usage=USAGE)

    with anthropic_client.messages.stream(model="claude-haiku-4-5", max_tokens=100, messages=MESSAGES) as stream:
        streamed_text = "".join(stream.text_stream)
        message = stream.get_final_message()

    assert streamed_text == "Checking"
    tool_uses = [block for block in message.content if isinstance(block, ToolUseBlock)]
    assert [(block.name, block.input) for block in tool_uses] == [
        ("search", {"q": "gpu", "filters": {"min_memory_gb": 24}})
    ]
    _assert_anthropic_usage(message.usage)
