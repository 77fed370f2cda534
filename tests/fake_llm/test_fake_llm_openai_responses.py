"""The Responses endpoint, driven by the real ``openai`` SDK."""

from __future__ import annotations

import json

import openai
from openai.types.responses import ResponseFunctionToolCall, ResponseUsage

from pytest_agentopt.fake_llm import FakeLLM, FakeUsage

USAGE = FakeUsage(input=300, output=50, cache_read=120, cache_write=30, reasoning=12)


def _assert_responses_usage(usage: ResponseUsage | None) -> None:
    assert usage is not None
    assert usage.input_tokens == 300
    assert usage.input_tokens_details.cached_tokens == 120
    assert usage.input_tokens_details.cache_write_tokens == 30
    assert usage.output_tokens == 50
    assert usage.output_tokens_details.reasoning_tokens == 12
    assert usage.total_tokens == 350


def test_it_answers_a_response_with_text_and_exact_usage(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.reply("A short answer", usage=USAGE)

    response = openai_client.responses.create(model="gpt-5", input="Question?", instructions="Be brief.")

    assert response.output_text == "A short answer"
    assert response.status == "completed"
    assert response.model == "gpt-5"
    _assert_responses_usage(response.usage)


def test_it_answers_a_function_call_item(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.reply_tool_call("search", {"q": "gpu"})

    response = openai_client.responses.create(model="gpt-5", input="Find GPUs")

    (item,) = response.output
    assert isinstance(item, ResponseFunctionToolCall)
    assert item.name == "search"
    assert json.loads(item.arguments) == {"q": "gpu"}
    assert item.call_id


def test_it_streams_the_response_events_in_order(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.reply("One two three", usage=USAGE)

    events = list(openai_client.responses.create(model="gpt-5", input="Count", stream=True))

    kinds = [event.type for event in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    completed = events[-1]
    assert completed.type == "response.completed"
    _assert_responses_usage(completed.response.usage)


def test_its_stream_builds_the_final_response_in_the_sdk_helper(
    fake_llm: FakeLLM, openai_client: openai.OpenAI
) -> None:
    fake_llm.reply_tool_call("search", {"q": "gpu"}, text="Looking it up.", usage=USAGE)

    with openai_client.responses.stream(model="gpt-5", input="Find GPUs") as stream:
        deltas = [event.delta for event in stream if event.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()

    assert json.loads("".join(deltas)) == {"q": "gpu"}
    assert final.output_text == "Looking it up."
    calls = [item for item in final.output if item.type == "function_call"]
    assert [(call.name, json.loads(call.arguments)) for call in calls] == [("search", {"q": "gpu"})]
    _assert_responses_usage(final.usage)
