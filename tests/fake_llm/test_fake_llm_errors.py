"""Scripted HTTP errors and the SDKs' own retries and exception classes."""

from __future__ import annotations

import time
from collections.abc import Callable

import anthropic
import openai
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionMessageParam

from pytest_agentopt.fake_llm import FakeLLM

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello?"}]
ANTHROPIC_MESSAGES: list[MessageParam] = [{"role": "user", "content": "Hello?"}]


def _chat(client: openai.OpenAI) -> str | None:
    completion = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    return completion.choices[0].message.content


def _message(client: anthropic.Anthropic) -> str:
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=ANTHROPIC_MESSAGES)
    block = message.content[0]
    assert block.type == "text"
    return block.text


def test_openai_retries_two_429s_then_succeeds(fake_llm: FakeLLM, make_openai: Callable[..., openai.OpenAI]) -> None:
    fake_llm.fail(429, times=2, retry_after=0.001)
    fake_llm.reply("finally")

    client = make_openai(max_retries=2)
    assert _chat(client) == "finally"

    assert [request.status for request in fake_llm.requests] == [429, 429, 200]
    assert [request.headers["x-stainless-retry-count"] for request in fake_llm.requests] == ["0", "1", "2"]


def test_anthropic_retries_two_429s_then_succeeds(
    fake_llm: FakeLLM, make_anthropic: Callable[..., anthropic.Anthropic]
) -> None:
    fake_llm.fail(429, times=2, retry_after=0.001)
    fake_llm.reply("finally")

    client = make_anthropic(max_retries=2)
    assert _message(client) == "finally"

    assert [request.status for request in fake_llm.requests] == [429, 429, 200]


def test_the_sdks_wait_the_scripted_retry_after(
    fake_llm: FakeLLM,
    make_openai: Callable[..., openai.OpenAI],
    make_anthropic: Callable[..., anthropic.Anthropic],
) -> None:
    fake_llm.fail(429, retry_after=0.3)
    fake_llm.reply("openai")
    fake_llm.fail(429, retry_after=0.3)
    fake_llm.reply("anthropic")

    openai_client, anthropic_client = make_openai(max_retries=1), make_anthropic(max_retries=1)

    started = time.monotonic()
    assert _chat(openai_client) == "openai"
    assert _message(anthropic_client) == "anthropic"
    elapsed = time.monotonic() - started

    assert elapsed >= 0.6


def test_a_persistent_500_raises_the_openai_internal_server_error_after_the_retries(
    fake_llm: FakeLLM, make_openai: Callable[..., openai.OpenAI]
) -> None:
    fake_llm.fail(500, times=3, retry_after=0.001)

    client = make_openai(max_retries=2)
    with pytest.raises(openai.InternalServerError) as raised:
        _chat(client)

    assert raised.value.status_code == 500
    assert raised.value.type == "server_error"
    assert len(fake_llm.requests) == 3


def test_a_persistent_500_raises_the_anthropic_internal_server_error_after_the_retries(
    fake_llm: FakeLLM, make_anthropic: Callable[..., anthropic.Anthropic]
) -> None:
    fake_llm.fail(500, times=3, retry_after=0.001)

    client = make_anthropic(max_retries=2)
    with pytest.raises(anthropic.InternalServerError) as raised:
        _message(client)

    assert raised.value.status_code == 500
    assert raised.value.type == "api_error"
    assert len(fake_llm.requests) == 3


@pytest.mark.parametrize(
    ("status", "openai_error", "anthropic_error"),
    [
        (400, openai.BadRequestError, anthropic.BadRequestError),
        (401, openai.AuthenticationError, anthropic.AuthenticationError),
        (429, openai.RateLimitError, anthropic.RateLimitError),
        (503, openai.InternalServerError, anthropic.ServiceUnavailableError),
        (529, openai.InternalServerError, anthropic.OverloadedError),
    ],
)
def test_each_status_maps_to_the_sdk_exception_class(
    fake_llm: FakeLLM,
    openai_client: openai.OpenAI,
    anthropic_client: anthropic.Anthropic,
    status: int,
    openai_error: type[openai.APIStatusError],
    anthropic_error: type[anthropic.APIStatusError],
) -> None:
    fake_llm.fail(status, times=2, message=f"scripted {status}")

    with pytest.raises(openai_error) as from_openai:
        _chat(openai_client)
    with pytest.raises(anthropic_error) as from_anthropic:
        _message(anthropic_client)

    assert from_openai.value.status_code == status
    assert from_openai.value.message == f"Error code: {status} - scripted {status}"
    assert from_anthropic.value.status_code == status
    assert from_anthropic.value.api_message == f"scripted {status}"
    assert from_anthropic.value.request_id == "req_fake2"


def test_a_400_is_not_retried_by_the_sdk(fake_llm: FakeLLM, make_openai: Callable[..., openai.OpenAI]) -> None:
    fake_llm.fail(400, times=3)

    client = make_openai(max_retries=2)
    with pytest.raises(openai.BadRequestError):
        _chat(client)

    assert len(fake_llm.requests) == 1


def test_should_retry_false_stops_the_sdk_retrying_a_500(
    fake_llm: FakeLLM, make_anthropic: Callable[..., anthropic.Anthropic]
) -> None:
    fake_llm.fail(500, should_retry=False)

    client = make_anthropic(max_retries=2)
    with pytest.raises(anthropic.InternalServerError):
        _message(client)

    assert len(fake_llm.requests) == 1


def test_a_reply_slower_than_the_client_timeout_raises_the_sdk_timeout_errors(
    fake_llm: FakeLLM,
    make_openai: Callable[..., openai.OpenAI],
    make_anthropic: Callable[..., anthropic.Anthropic],
) -> None:
    fake_llm.delay(5.0)
    fake_llm.reply("too late")
    fake_llm.delay(5.0)
    fake_llm.reply("too late")

    openai_client, anthropic_client = make_openai(timeout=0.2), make_anthropic(timeout=0.2)

    with pytest.raises(openai.APITimeoutError):
        _chat(openai_client)
    with pytest.raises(anthropic.APITimeoutError):
        _message(anthropic_client)

    assert issubclass(openai.APITimeoutError, openai.APIConnectionError)
    assert issubclass(anthropic.APITimeoutError, anthropic.APIConnectionError)


def test_an_empty_script_answers_a_500_naming_the_problem_and_records_it(
    fake_llm: FakeLLM, openai_client: openai.OpenAI
) -> None:
    with pytest.raises(openai.InternalServerError) as raised:
        _chat(openai_client)

    assert "no scripted reply left for POST /v1/chat/completions" in raised.value.message
    (request,) = fake_llm.requests
    assert request.status == 500
    assert request.problem is not None
    assert "no scripted reply left" in request.problem
    assert fake_llm.problems == [request.problem]


def test_an_empty_script_is_not_retried_by_the_sdk(
    fake_llm: FakeLLM, make_anthropic: Callable[..., anthropic.Anthropic]
) -> None:
    client = make_anthropic(max_retries=2)
    with pytest.raises(anthropic.InternalServerError, match="no scripted reply left"):
        _message(client)

    assert len(fake_llm.requests) == 1
