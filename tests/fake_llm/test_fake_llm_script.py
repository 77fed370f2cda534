"""The pure parts: usage validation, the default usage rule, the reply queue and SSE framing."""

from __future__ import annotations

import subprocess
import sys

import openai
import pytest

from pytest_agentopt.fake_llm import ErrorReply, FakeLLM, FakeUsage, TextReply, ToolCall, ToolCallReply
from pytest_agentopt.fake_llm.recorded import RecordedRequest, redact_headers
from pytest_agentopt.fake_llm.script import Latency, Script
from pytest_agentopt.fake_llm.sse import SseEvent, stream_pieces
from pytest_agentopt.fake_llm.tokens import default_usage, estimate_tokens, prompt_text


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"input": -1, "output": 0}, "input must be a non-negative int"),
        ({"input": 1, "output": 1.5}, "output must be a non-negative int"),
        ({"input": 10, "output": 1, "cache_read": 8, "cache_write": 3}, "exceed input"),
        ({"input": 10, "output": 4, "reasoning": 5}, "reasoning \\(5\\) exceeds output"),
    ],
)
def test_fake_usage_rejects_inconsistent_counts(fields: dict[str, int], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        FakeUsage(**fields)


def test_fake_usage_gives_anthropic_its_uncached_input() -> None:
    assert FakeUsage(input=100, output=1, cache_read=40, cache_write=10).uncached_input == 50


@pytest.mark.parametrize(("text", "tokens"), [("", 1), ("abc", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)])
def test_estimate_tokens_is_a_quarter_of_the_characters_rounded_up(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_prompt_text_collects_the_prompt_fields_without_structural_values() -> None:
    body = {
        "model": "ignored",
        "system": "Be kind.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "result"},
        ],
        "temperature": 0.5,
    }

    assert prompt_text(body) == "Be kind.\nHi\nresult"


def test_default_usage_follows_the_documented_rule() -> None:
    body = {"messages": [{"role": "user", "content": "x" * 41}]}
    reply = ToolCallReply((ToolCall("search", {"q": "gpu"}),), text="ok")

    # output text: "ok\nsearch\n{\"q\": \"gpu\"}" = 2 + 1 + 6 + 1 + 12 = 22 characters -> 6 tokens.
    assert default_usage(body, reply) == FakeUsage(input=11, output=6)


def test_unscripted_usage_reaches_the_sdk_by_the_length_rule(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.reply("y" * 9)

    completion = openai_client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "system", "content": "s" * 20}, {"role": "user", "content": "u" * 19}],
    )

    # prompt "s"*20 + "\n" + "u"*19 = 40 characters -> 10 tokens; reply 9 characters -> 3 tokens.
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (10, 3)
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 0


def _request(model: str | None = None) -> RecordedRequest:
    return RecordedRequest(method="POST", path="/v1/chat/completions", json={}, model=model)


def test_the_script_drains_the_model_queue_before_the_shared_one() -> None:
    script = Script()
    script.push(TextReply("shared"))
    script.push(Latency(0.2), model="m")
    script.push(TextReply("mine"), model="m")

    first, second = script.take(_request("m")), script.take(_request("m"))

    assert (first.reply, first.delay) == (TextReply("mine"), 0.2)
    assert (second.reply, second.delay) == (TextReply("shared"), 0.0)
    assert script.remaining() == 0


def test_a_latency_marker_with_no_reply_after_it_delays_the_default() -> None:
    script = Script()
    script.set_default("fallback")
    script.push(Latency(0.1))

    served = script.take(_request())

    assert (served.reply, served.delay, served.problem) == (TextReply("fallback"), 0.1, None)


def test_an_empty_script_serves_a_non_retryable_500_naming_the_problem() -> None:
    served = Script().take(_request("gpt-4o"))

    assert isinstance(served.reply, ErrorReply)
    assert (served.reply.status, served.reply.should_retry) == (500, False)
    assert served.problem is not None
    assert "(model 'gpt-4o')" in served.problem


def test_a_default_callable_returning_something_else_is_reported() -> None:
    script = Script()
    script.set_default(lambda request: 42)  # type: ignore[arg-type]

    served = script.take(_request())

    assert served.problem is not None
    assert "TypeError" in served.problem


def test_fail_queues_one_error_per_time(fake_llm: FakeLLM) -> None:
    fake_llm.fail(503, times=3)

    assert fake_llm.remaining_replies == 3
    with pytest.raises(ValueError, match="times must be >= 1"):
        fake_llm.fail(503, times=0)
    with pytest.raises(ValueError, match="HTTP error status"):
        fake_llm.fail(200)


def test_redact_headers_drops_every_credential_header_whatever_its_case() -> None:
    headers, present = redact_headers({"Authorization": "Bearer s", "X-Api-Key": "s", "Accept": "x"})

    assert dict(headers) == {"accept": "x"}
    assert present


def test_stream_pieces_concatenate_back_to_the_text() -> None:
    text = "  Hello,  world!\nNew line  "

    assert "".join(stream_pieces(text)) == text
    assert stream_pieces("one two") == ["one ", "two"]
    assert stream_pieces("") == []


def test_sse_events_put_each_data_line_on_its_own_data_field() -> None:
    assert SseEvent("a\nb", "ping").encode() == b"event: ping\ndata: a\ndata: b\n\n"


def test_importing_the_fixture_module_does_not_load_the_server() -> None:
    code = (
        "import sys, pytest_agentopt.fake_llm.fixture as fixture, pytest_agentopt.fake_llm as package;"
        "assert 'http.server' not in sys.modules, 'http.server was imported';"
        "assert sorted(package.__all__) == sorted(package._EXPORTS), 'exports differ'"
    )

    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)

    assert completed.returncode == 0, completed.stderr
