"""The Chat Completions endpoint, driven by the real ``openai`` SDK."""

from __future__ import annotations

import json

import openai
import pydantic
from openai.types.chat import ChatCompletionMessageParam

from pytest_agentopt.fake_llm import FakeLLM, FakeUsage, ToolCall

USAGE = FakeUsage(input=100, output=20, cache_read=40, cache_write=10, reasoning=5)
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello?"}]


def _assert_chat_usage(usage: object) -> None:
    assert isinstance(usage, openai.types.CompletionUsage)
    assert usage.prompt_tokens == 100
    assert usage.completion_tokens == 20
    assert usage.total_tokens == 120
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 40
    assert usage.prompt_tokens_details.cache_write_tokens == 10
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 5


def test_it_answers_a_completion_with_the_scripted_text_and_exact_usage(
    fake_llm: FakeLLM, openai_client: openai.OpenAI
) -> None:
    fake_llm.reply("Hello there", usage=USAGE)

    completion = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert completion.model == "gpt-4o"
    assert completion.choices[0].message.content == "Hello there"
    assert completion.choices[0].finish_reason == "stop"
    _assert_chat_usage(completion.usage)


def test_it_omits_cache_write_tokens_when_there_are_none(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.reply("x", usage=FakeUsage(input=10, output=2, cache_read=3))

    completion = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert completion.usage is not None
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 3
    assert completion.usage.prompt_tokens_details.cache_write_tokens is None


def test_it_streams_text_and_reports_usage_in_a_last_chunk_when_asked(
    fake_llm: FakeLLM, openai_client: openai.OpenAI
) -> None:
    fake_llm.reply("The quick brown fox jumps", usage=USAGE)

    chunks = list(
        openai_client.chat.completions.create(
            model="gpt-4o",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "The quick brown fox jumps"
    assert len([chunk for chunk in chunks if chunk.choices and chunk.choices[0].delta.content]) == 5
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert chunks[-1].choices == []
    _assert_chat_usage(chunks[-1].usage)


def test_it_streams_without_usage_unless_asked(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.reply("Hello there", usage=USAGE)

    chunks = list(openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))

    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks)


def test_it_answers_a_tool_call_that_the_sdk_parses(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.reply_tool_call("search", {"q": "gpu", "limit": 3}, call_id="call_abc")

    completion = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert isinstance(call, openai.types.chat.ChatCompletionMessageFunctionToolCall)
    assert call.id == "call_abc"
    assert call.function.name == "search"
    assert json.loads(call.function.arguments) == {"q": "gpu", "limit": 3}


def test_it_streams_parallel_tool_calls_that_the_stream_helper_accumulates(
    fake_llm: FakeLLM, openai_client: openai.OpenAI
) -> None:
    fake_llm.reply_tool_calls(
        [ToolCall("search", {"q": "gpu prices"}), ToolCall("fetch", {"url": "https://example.com/a b"})],
        usage=USAGE,
    )

    with openai_client.chat.completions.stream(
        model="gpt-4o",
        messages=MESSAGES,
        stream_options={"include_usage": True},
    ) as stream:
        for _event in stream:
            pass
        completion = stream.get_final_completion()

    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert [(call.function.name, json.loads(call.function.arguments)) for call in calls] == [
        ("search", {"q": "gpu prices"}),
        ("fetch", {"url": "https://example.com/a b"}),
    ]
    assert len({call.id for call in calls}) == 2
    _assert_chat_usage(completion.usage)


class Verdict(pydantic.BaseModel):
    action: str
    confidence: float


def test_it_answers_structured_json_that_the_sdk_parses_into_a_model(
    fake_llm: FakeLLM, openai_client: openai.OpenAI
) -> None:
    fake_llm.reply_json({"action": "done", "confidence": 0.75})

    completion = openai_client.chat.completions.parse(
        model="gpt-4o",
        messages=MESSAGES,
        response_format=Verdict,
    )

    assert completion.choices[0].message.parsed == Verdict(action="done", confidence=0.75)
    assert fake_llm.requests[0].json["response_format"]["type"] == "json_schema"
