"""The usage normaliser: every provider's and framework's shape becomes one TokenUsage.

Real SDK classes are used where they are installed (openai 3.x, anthropic 2.x, pydantic-ai); LangChain,
LiteLLM and openai-agents are represented by objects and dicts in their documented shapes (sources cited).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import anthropic.types
import pytest
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion
from openai.types.completion_usage import CompletionTokensDetails, PromptTokensDetails
from openai.types.responses import Response, ResponseUsage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from pytest_agentopt.recording.usage import (
    ACCEPTED_SHAPES,
    TokenUsage,
    UsageShapeError,
    normalize_usage,
    usage_from_keywords,
)


def _openai_chat_usage() -> CompletionUsage:
    return CompletionUsage(
        prompt_tokens=1000,
        completion_tokens=300,
        total_tokens=1300,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=400),
        completion_tokens_details=CompletionTokensDetails(reasoning_tokens=120),
    )


def _anthropic_usage() -> anthropic.types.Usage:
    return anthropic.types.Usage(
        input_tokens=50,
        cache_read_input_tokens=800,
        cache_creation_input_tokens=100,
        output_tokens=200,
        output_tokens_details=anthropic.types.OutputTokensDetails(thinking_tokens=60),
    )


# --- OpenAI Chat Completions


def test_it_reads_openai_chat_usage_with_cached_and_reasoning_tokens() -> None:
    assert normalize_usage(_openai_chat_usage()) == TokenUsage(
        input_tokens=1000, output_tokens=300, cache_read_tokens=400, reasoning_tokens=120
    )


def test_it_reads_openai_chat_usage_whose_details_are_none() -> None:
    usage = CompletionUsage(prompt_tokens=10, completion_tokens=3, total_tokens=13)
    assert usage.prompt_tokens_details is None

    assert normalize_usage(usage) == TokenUsage(input_tokens=10, output_tokens=3)


def test_it_reads_openai_chat_details_whose_counts_are_none() -> None:
    usage = CompletionUsage(
        prompt_tokens=10,
        completion_tokens=3,
        total_tokens=13,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=None, audio_tokens=None),
        completion_tokens_details=CompletionTokensDetails(reasoning_tokens=None),
    )

    assert normalize_usage(usage) == TokenUsage(input_tokens=10, output_tokens=3)


def test_it_reads_openai_chat_cache_writes_as_part_of_the_prompt() -> None:
    usage = CompletionUsage(
        prompt_tokens=1000,
        completion_tokens=5,
        total_tokens=1005,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=300, cache_write_tokens=600),
    )

    assert normalize_usage(usage) == TokenUsage(
        input_tokens=1000, output_tokens=5, cache_read_tokens=300, cache_write_tokens=600
    )


def test_it_takes_usage_and_model_from_a_whole_chat_completion() -> None:
    completion = ChatCompletion(
        id="chatcmpl-1",
        choices=[],
        created=0,
        model="gpt-4o-mini-2024-07-18",
        object="chat.completion",
        usage=_openai_chat_usage(),
    )

    usage = normalize_usage(completion)

    assert usage.model == "gpt-4o-mini-2024-07-18"
    assert usage.counts() == {
        "input": 1000,
        "output": 300,
        "cache_read": 400,
        "cache_write": 0,
        "reasoning": 120,
    }


def test_an_explicit_model_wins_over_the_one_the_response_names() -> None:
    completion = ChatCompletion(
        id="c", choices=[], created=0, model="gpt-4o-mini-2024-07-18", object="chat.completion", usage=None
    )
    completion.usage = _openai_chat_usage()

    assert normalize_usage(completion, model="gpt-4o-mini").model == "gpt-4o-mini"


def test_a_streamed_completion_without_usage_is_an_error_that_names_include_usage() -> None:
    completion = ChatCompletion(id="c", choices=[], created=0, model="gpt-4o", object="chat.completion")

    with pytest.raises(UsageShapeError, match=r"include_usage") as caught:
        normalize_usage(completion)
    assert "ChatCompletion" in str(caught.value)


# --- OpenAI Responses


def _responses_usage() -> ResponseUsage:
    return ResponseUsage(
        input_tokens=900,
        input_tokens_details=InputTokensDetails(cached_tokens=100, cache_write_tokens=50),
        output_tokens=200,
        output_tokens_details=OutputTokensDetails(reasoning_tokens=80),
        total_tokens=1100,
    )


def test_it_reads_openai_responses_usage() -> None:
    assert normalize_usage(_responses_usage()) == TokenUsage(
        input_tokens=900, output_tokens=200, cache_read_tokens=100, cache_write_tokens=50, reasoning_tokens=80
    )


def test_it_takes_usage_and_model_from_a_whole_response() -> None:
    response = Response.model_construct(id="resp_1", model="gpt-5-mini", usage=_responses_usage())

    assert normalize_usage(response) == TokenUsage(
        input_tokens=900,
        output_tokens=200,
        cache_read_tokens=100,
        cache_write_tokens=50,
        reasoning_tokens=80,
        model="gpt-5-mini",
    )


# --- Anthropic


def test_it_adds_anthropic_cache_reads_and_writes_to_the_input_total() -> None:
    # Anthropic's input_tokens (50) excludes the 800 read from and the 100 written to the cache.
    assert normalize_usage(_anthropic_usage()) == TokenUsage(
        input_tokens=950,
        output_tokens=200,
        cache_read_tokens=800,
        cache_write_tokens=100,
        reasoning_tokens=60,
    )


def test_it_reads_anthropic_usage_whose_cache_fields_are_none() -> None:
    usage = anthropic.types.Usage(input_tokens=12, output_tokens=7)
    assert usage.cache_read_input_tokens is None

    assert normalize_usage(usage) == TokenUsage(input_tokens=12, output_tokens=7)


def test_it_takes_usage_and_model_from_a_whole_anthropic_message() -> None:
    message = anthropic.types.Message(
        id="msg_1",
        content=[],
        model="claude-haiku-4-5",
        role="assistant",
        type="message",
        usage=_anthropic_usage(),
    )

    usage = normalize_usage(message)

    assert usage.model == "claude-haiku-4-5"
    assert usage.input_tokens == 950


def test_it_reads_the_cumulative_anthropic_stream_delta_usage() -> None:
    # message_delta.usage: input_tokens may be None, counts are cumulative for the message.
    delta = anthropic.types.MessageDeltaUsage(output_tokens=42, cache_read_input_tokens=None, input_tokens=None)

    assert normalize_usage(delta) == TokenUsage(output_tokens=42)


# --- pydantic-ai


def test_it_reads_pydantic_ai_run_usage_whose_input_already_includes_the_cache() -> None:
    pydantic_ai_usage = pytest.importorskip("pydantic_ai.usage")
    usage = pydantic_ai_usage.RunUsage(
        input_tokens=1000,
        cache_read_tokens=300,
        cache_write_tokens=100,
        output_tokens=200,
        details={"reasoning_tokens": 50},
        requests=2,
    )

    assert normalize_usage(usage, model="gpt-4o") == TokenUsage(
        input_tokens=1000,
        output_tokens=200,
        cache_read_tokens=300,
        cache_write_tokens=100,
        reasoning_tokens=50,
        model="gpt-4o",
    )


def test_it_reads_pydantic_ai_typed_reasoning_tokens() -> None:
    pydantic_ai_usage = pytest.importorskip("pydantic_ai.usage")
    usage = pydantic_ai_usage.RequestUsage(
        input_tokens=10, output_tokens=40, output_reasoning_tokens=30, details={"thinking_tokens": 30}
    )

    assert normalize_usage(usage).reasoning_tokens == 30


@pytest.mark.usefixtures("owned_event_loop")
def test_it_reads_the_usage_of_a_real_pydantic_ai_run() -> None:
    pytest.importorskip("pydantic_ai")
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel

    result = Agent(TestModel()).run_sync("hello")

    usage = normalize_usage(result)

    assert usage.input_tokens == result.usage.input_tokens > 0
    assert usage.output_tokens == result.usage.output_tokens > 0


def test_it_reads_a_pydantic_ai_model_response_with_its_model_name() -> None:
    pydantic_ai_messages = pytest.importorskip("pydantic_ai.messages")
    pydantic_ai_usage = pytest.importorskip("pydantic_ai.usage")
    response = pydantic_ai_messages.ModelResponse(
        parts=[],
        usage=pydantic_ai_usage.RequestUsage(input_tokens=5, output_tokens=6),
        model_name="claude-haiku-4-5",
    )

    assert normalize_usage(response) == TokenUsage(input_tokens=5, output_tokens=6, model="claude-haiku-4-5")


# --- openai-agents (not installed: its documented shape)
# src/agents/usage.py in openai/openai-agents-python: a pydantic dataclass `Usage(requests, input_tokens,
# input_tokens_details: InputTokensDetails, output_tokens, output_tokens_details: OutputTokensDetails,
# total_tokens, request_usage_entries)`; `serialize_usage` writes the details as one-element lists; a
# RunResult carries the run's usage in `context_wrapper.usage`.


@dataclasses.dataclass
class AgentsUsage:
    requests: int = 0
    input_tokens: int = 0
    input_tokens_details: InputTokensDetails = dataclasses.field(
        default_factory=lambda: InputTokensDetails(cached_tokens=0, cache_write_tokens=0)
    )
    output_tokens: int = 0
    output_tokens_details: OutputTokensDetails = dataclasses.field(
        default_factory=lambda: OutputTokensDetails(reasoning_tokens=0)
    )
    total_tokens: int = 0
    request_usage_entries: list[object] = dataclasses.field(default_factory=list)


def _agents_usage() -> AgentsUsage:
    return AgentsUsage(
        requests=3,
        input_tokens=3000,
        input_tokens_details=InputTokensDetails(cached_tokens=1200, cache_write_tokens=0),
        output_tokens=400,
        output_tokens_details=OutputTokensDetails(reasoning_tokens=150),
        total_tokens=3400,
    )


_AGENTS_EXPECTED = TokenUsage(input_tokens=3000, output_tokens=400, cache_read_tokens=1200, reasoning_tokens=150)


def test_it_reads_openai_agents_usage() -> None:
    assert normalize_usage(_agents_usage()) == _AGENTS_EXPECTED


def test_it_reads_openai_agents_serialized_usage_with_list_details() -> None:
    serialized = {
        "requests": 3,
        "input_tokens": 3000,
        "input_tokens_details": [{"cached_tokens": 1200}],
        "output_tokens": 400,
        "output_tokens_details": [{"reasoning_tokens": 150}],
        "total_tokens": 3400,
        "request_usage_entries": [],
    }

    assert normalize_usage(serialized) == _AGENTS_EXPECTED


def test_it_reads_the_usage_of_an_openai_agents_run_result() -> None:
    run_result = SimpleNamespace(final_output="done", context_wrapper=SimpleNamespace(usage=_agents_usage()))

    assert normalize_usage(run_result, model="gpt-4.1") == dataclasses.replace(_AGENTS_EXPECTED, model="gpt-4.1")


# --- LangChain (not installed: its documented shape)
# langchain_core.messages.ai.UsageMetadata (https://reference.langchain.com/python/langchain-core/messages/ai/
# UsageMetadata): input_tokens is the sum of all input token types, input_token_details {cache_read,
# cache_creation}, output_token_details {reasoning}; AIMessage.usage_metadata and
# AIMessage.response_metadata["model_name"].

_LANGCHAIN_USAGE_METADATA: dict[str, Any] = {
    "input_tokens": 350,
    "output_tokens": 240,
    "total_tokens": 590,
    "input_token_details": {"audio": 10, "cache_creation": 200, "cache_read": 100},
    "output_token_details": {"audio": 10, "reasoning": 200},
}


def test_it_reads_langchain_usage_metadata() -> None:
    assert normalize_usage(_LANGCHAIN_USAGE_METADATA) == TokenUsage(
        input_tokens=350,
        output_tokens=240,
        cache_read_tokens=100,
        cache_write_tokens=200,
        reasoning_tokens=200,
    )


def test_it_reads_langchain_usage_metadata_without_details() -> None:
    metadata = {"input_tokens": 8, "output_tokens": 2, "total_tokens": 10}

    assert normalize_usage(metadata) == TokenUsage(input_tokens=8, output_tokens=2)


@dataclasses.dataclass
class AIMessage:
    content: str
    usage_metadata: dict[str, Any] | None
    response_metadata: dict[str, Any]


def test_it_takes_usage_and_model_from_a_langchain_ai_message() -> None:
    message = AIMessage(
        content="hi",
        usage_metadata=_LANGCHAIN_USAGE_METADATA,
        response_metadata={"model_name": "gpt-4o-mini", "model_provider": "openai"},
    )

    usage = normalize_usage(message)

    assert usage.model == "gpt-4o-mini"
    assert usage.cache_write_tokens == 200


def test_a_langchain_message_without_usage_metadata_is_an_error() -> None:
    message = AIMessage(content="hi", usage_metadata=None, response_metadata={})

    with pytest.raises(UsageShapeError, match=r"AIMessage .*usage_metadata is None"):
        normalize_usage(message)


# --- LiteLLM (not installed: its documented shape)
# BerriAI/litellm: litellm/types/utils.py `class Usage(CompletionUsage)` keeps the OpenAI Chat shape; for
# Anthropic, litellm/llms/anthropic/chat/transformation.py `calculate_usage` adds cache_read_input_tokens and
# cache_creation_input_tokens into prompt_tokens, mirrors them in prompt_tokens_details.cached_tokens /
# cache_creation_tokens, and keeps them as attributes of the same names. ModelResponse carries `.model`.


def test_it_reads_a_litellm_anthropic_usage_without_counting_the_cache_twice() -> None:
    litellm_usage = CompletionUsage(
        prompt_tokens=950,
        completion_tokens=200,
        total_tokens=1150,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=800),
        cache_read_input_tokens=800,  # type: ignore[call-arg]  # LiteLLM's extra attributes
        cache_creation_input_tokens=100,
    )
    model_response = SimpleNamespace(id="chatcmpl-1", model="claude-haiku-4-5", usage=litellm_usage)

    assert normalize_usage(model_response) == TokenUsage(
        input_tokens=950,
        output_tokens=200,
        cache_read_tokens=800,
        cache_write_tokens=100,
        model="claude-haiku-4-5",
    )


def test_it_reads_a_litellm_usage_dict() -> None:
    litellm_usage = {
        "prompt_tokens": 950,
        "completion_tokens": 200,
        "total_tokens": 1150,
        "prompt_tokens_details": {"cached_tokens": 800, "cache_creation_tokens": 100},
        "cache_read_input_tokens": 800,
        "cache_creation_input_tokens": 100,
    }

    assert normalize_usage({"model": "claude-haiku-4-5", "usage": litellm_usage}) == TokenUsage(
        input_tokens=950,
        output_tokens=200,
        cache_read_tokens=800,
        cache_write_tokens=100,
        model="claude-haiku-4-5",
    )


# --- plain dicts: the JSON of every SDK object reads the same as the object


@pytest.mark.parametrize(
    "make",
    [_openai_chat_usage, _responses_usage, _anthropic_usage],
    ids=["openai-chat", "openai-responses", "anthropic"],
)
def test_the_json_dict_of_an_sdk_usage_reads_the_same_as_the_object(make: Any) -> None:
    obj = make()

    assert normalize_usage(obj.model_dump(mode="json")) == normalize_usage(obj)
    assert normalize_usage(obj.model_dump(mode="json", exclude_none=True)) == normalize_usage(obj)


def test_the_dump_of_a_pydantic_ai_usage_reads_the_same_as_the_object() -> None:
    pydantic_ai_usage = pytest.importorskip("pydantic_ai.usage")
    from pydantic import TypeAdapter

    usage = pydantic_ai_usage.RunUsage(
        input_tokens=100,
        cache_read_tokens=30,
        cache_write_tokens=10,
        output_tokens=20,
        details={"reasoning_tokens": 5},
    )

    dumped = TypeAdapter(pydantic_ai_usage.RunUsage).dump_python(usage, mode="json")

    assert (
        normalize_usage(dumped)
        == normalize_usage(usage)
        == usage_from_keywords(
            input_tokens=100,
            cache_read_tokens=30,
            cache_write_tokens=10,
            output_tokens=20,
            reasoning_tokens=5,
        )
    )


def test_integral_floats_from_json_are_accepted() -> None:
    assert normalize_usage({"prompt_tokens": 10.0, "completion_tokens": 2.0}) == TokenUsage(10, 2)


# --- errors


def test_it_rejects_an_unknown_shape_naming_its_type_and_keys_and_the_accepted_shapes() -> None:
    with pytest.raises(UsageShapeError) as caught:
        normalize_usage({"tokens_in": 1, "tokens_out": 2})

    message = str(caught.value)
    assert "dict" in message
    assert "tokens_in, tokens_out" in message
    for shape in ACCEPTED_SHAPES:
        assert shape in message


def test_it_rejects_an_unknown_object_naming_its_attributes() -> None:
    @dataclasses.dataclass
    class Spend:
        dollars: float

    with pytest.raises(UsageShapeError, match=r"Spend .*dollars"):
        normalize_usage(Spend(1.0))


@pytest.mark.parametrize("value", [None, 12, "12 tokens", 1.5])
def test_it_rejects_values_that_are_no_usage_at_all(value: object) -> None:
    with pytest.raises(UsageShapeError, match=type(value).__name__):
        normalize_usage(value)


def test_an_unknown_shape_is_a_type_error() -> None:
    assert issubclass(UsageShapeError, TypeError)


def test_it_rejects_a_token_count_that_is_not_a_number() -> None:
    with pytest.raises(UsageShapeError, match=r"'prompt_tokens' must be an int token count, got str"):
        normalize_usage({"prompt_tokens": "10", "completion_tokens": 2})


def test_it_rejects_a_negative_token_count() -> None:
    with pytest.raises(ValueError, match=r"'output_tokens' is negative"):
        normalize_usage({"input_tokens": 1, "output_tokens": -2})


def test_it_rejects_cached_tokens_beyond_the_prompt() -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 11}}

    with pytest.raises(ValueError, match=r"OpenAI Chat Completions.*cache_read_tokens \(11\).*input_tokens \(10\)"):
        normalize_usage(usage)


# --- keyword form


def test_the_keyword_form_builds_a_usage() -> None:
    usage = usage_from_keywords(
        model="gpt-4o-mini",
        input_tokens=1000,
        output_tokens=300,
        cache_read_tokens=400,
        cache_write_tokens=100,
        reasoning_tokens=120,
    )

    assert usage == TokenUsage(1000, 300, 400, 100, 120, "gpt-4o-mini")


@pytest.mark.parametrize(
    "argument",
    ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens"],
)
@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_the_keyword_form_names_the_argument_that_is_not_a_count(argument: str, bad: object) -> None:
    counts: dict[str, Any] = {"input_tokens": 10, "output_tokens": 10, argument: bad}

    with pytest.raises(ValueError, match=rf"^{argument} must be a non-negative int"):
        usage_from_keywords(**counts)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (
            {"input_tokens": 10, "cache_read_tokens": 11},
            r"cache_read_tokens \(11\) cannot exceed input_tokens",
        ),
        (
            {"input_tokens": 10, "cache_write_tokens": 11},
            r"cache_write_tokens \(11\) cannot exceed input_tokens",
        ),
        (
            {"input_tokens": 10, "cache_read_tokens": 6, "cache_write_tokens": 5},
            r"cache_read_tokens \+ cache_write_tokens \(6 \+ 5\) cannot exceed input_tokens \(10\)",
        ),
        (
            {"output_tokens": 3, "reasoning_tokens": 4},
            r"reasoning_tokens \(4\) cannot exceed output_tokens \(3\)",
        ),
    ],
)
def test_the_keyword_form_rejects_classes_larger_than_their_total(counts: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        usage_from_keywords(**counts)


def test_the_keyword_form_rejects_a_model_that_is_not_a_string() -> None:
    with pytest.raises(ValueError, match=r"model must be a str or None"):
        usage_from_keywords(model=4, input_tokens=1)  # type: ignore[arg-type]


# --- TokenUsage


def test_usages_add_up_class_by_class_and_keep_a_shared_model() -> None:
    first = TokenUsage(100, 10, 40, 20, 5, "gpt-4o")
    second = TokenUsage(50, 30, 10, 0, 25, "gpt-4o")

    assert first + second == TokenUsage(150, 40, 50, 20, 30, "gpt-4o")
    assert (first + TokenUsage(1, 1, model="o3")).model is None
    assert (first + TokenUsage(1, 1)).model == "gpt-4o"
    assert (TokenUsage(1, 1) + first).model == "gpt-4o"


def test_counts_is_the_ledger_tokens_object() -> None:
    assert TokenUsage(10, 6, 3, 4, 5).counts() == {
        "input": 10,
        "output": 6,
        "cache_read": 3,
        "cache_write": 4,
        "reasoning": 5,
    }


def test_a_usage_knows_when_it_counted_nothing() -> None:
    assert TokenUsage(model="gpt-4o").is_zero
    assert not TokenUsage(output_tokens=1).is_zero


def test_a_token_usage_passes_through_and_can_be_renamed() -> None:
    usage = TokenUsage(5, 6, model="a")

    assert normalize_usage(usage) is usage
    assert normalize_usage(usage, model="b") == TokenUsage(5, 6, model="b")


def test_usage_module_imports_no_provider_sdk() -> None:
    code = (
        "import sys, pytest_agentopt.recording.usage; "
        "loaded = [m for m in ('openai', 'anthropic', 'langchain_core', 'litellm', 'pydantic_ai') "
        "if m in sys.modules]; print(loaded)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert completed.stdout.strip() == "[]"
