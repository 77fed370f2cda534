"""Automatic usage capture from OpenTelemetry GenAI spans, with the real OpenTelemetry SDK.

Most tests attach the capture's processor to a private TracerProvider (the global provider can be set only
once per process); the global installation is tested in fresh interpreters.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.trace")
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer
from opentelemetry.util.types import AttributeValue

from pytest_agentopt.recording.otel_capture import (
    NO_MODEL,
    UsageCapture,
    is_model_call,
    otel_available,
    usage_from_attributes,
    usage_span_processor,
)
from pytest_agentopt.recording.usage import TokenUsage


@pytest.fixture
def tracer() -> Iterator[Tracer]:
    """A tracer of a private SDK provider that feeds the capture."""
    provider = TracerProvider()
    processor = usage_span_processor()
    assert processor is not None
    provider.add_span_processor(processor)
    yield provider.get_tracer("test")
    provider.shutdown()


def _capture() -> UsageCapture:
    return UsageCapture(install=False)  # the private provider already feeds it; leave the global one alone


Attributes = dict[str, AttributeValue]


def _span(tracer: Tracer, attributes: Attributes, name: str = "chat gpt-4o-mini") -> None:
    """One span that starts and ends at once (a model call, unless its attributes say otherwise)."""
    with tracer.start_as_current_span(name, attributes=attributes):
        pass


CHAT_1: Attributes = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 300,
    "gen_ai.usage.cache_read.input_tokens": 400,
    "gen_ai.usage.reasoning.output_tokens": 120,
}
CHAT_2: Attributes = {
    "gen_ai.operation.name": "chat",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 1500,
    "gen_ai.usage.output_tokens": 50,
    "gen_ai.usage.cache_creation.input_tokens": 200,
}


def test_otel_is_available_with_the_sdk_installed() -> None:
    assert otel_available()


def test_it_sums_the_chat_spans_inside_an_agent_span_that_repeats_the_totals(tracer: Tracer) -> None:
    agent_totals: Attributes = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 2500,
        "gen_ai.usage.output_tokens": 350,
    }
    with _capture() as capture, tracer.start_as_current_span("invoke_agent shop", attributes=agent_totals):
        _span(tracer, CHAT_1)
        _span(tracer, {"gen_ai.operation.name": "execute_tool"}, "execute_tool checkout")
        _span(tracer, CHAT_2)

    expected = TokenUsage(
        input_tokens=2500,
        output_tokens=350,
        cache_read_tokens=400,
        cache_write_tokens=200,
        reasoning_tokens=120,
        model="gpt-4o-mini-2024-07-18",
    )
    assert capture.total() == expected
    assert capture.usage_by_model() == {"gpt-4o-mini-2024-07-18": expected}


def test_an_agent_span_alone_is_never_counted(tracer: Tracer) -> None:
    totals: Attributes = {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 1}
    with _capture() as capture:
        _span(tracer, {**totals, "gen_ai.operation.name": "invoke_agent"}, "invoke_agent a")
        _span(tracer, {**totals, "gen_ai.operation.name": "invoke_workflow"}, "chat workflow")
        _span(tracer, totals, "agent run")

    assert capture.total() is None


def test_it_reads_the_older_prompt_and_completion_token_names(tracer: Tracer) -> None:
    with _capture() as capture:
        _span(tracer, {"gen_ai.usage.prompt_tokens": 70, "gen_ai.usage.completion_tokens": 8}, "chat gpt-4")
        _span(
            tracer,
            {"gen_ai.usage.prompt_tokens": 30, "gen_ai.usage.completion_tokens": 2},
            "text_completion davinci",
        )

    assert capture.total() == TokenUsage(input_tokens=100, output_tokens=10)


def test_it_reads_the_names_pydantic_ai_emits(tracer: Tracer) -> None:
    # pydantic_ai/usage.py `opentelemetry_attributes`: cache counts as gen_ai.usage.cache_*.input_tokens plus
    # gen_ai.usage.details.cache_*_tokens, and provider details (reasoning_tokens) under gen_ai.usage.details.
    with _capture() as capture:
        _span(
            tracer,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "o3-mini",
                "gen_ai.usage.input_tokens": 900,
                "gen_ai.usage.output_tokens": 400,
                "gen_ai.usage.details.cache_read_tokens": 100,
                "gen_ai.usage.details.cache_write_tokens": 50,
                "gen_ai.usage.details.reasoning_tokens": 350,
            },
        )

    assert capture.total() == TokenUsage(900, 400, 100, 50, 350, "o3-mini")


def test_it_reads_the_names_the_anthropic_sdk_emits_with_the_provider(tracer: Tracer) -> None:
    # anthropic 2.x's own "anthropic.messages.create" span (the leaf under pydantic-ai's "chat" span): cache
    # writes as gen_ai.usage.cache_write.input_tokens, input_tokens the total.
    with _capture() as capture:
        _span(
            tracer,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "anthropic",
                "gen_ai.response.model": "claude-haiku-4-5",
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 100,
                "gen_ai.usage.cache_read.input_tokens": 600,
                "gen_ai.usage.cache_write.input_tokens": 100,
                "gen_ai.usage.reasoning.output_tokens": 0,
            },
        )

    assert capture.total() == TokenUsage(1000, 100, 600, 100, 0, "claude-haiku-4-5", "anthropic")


def test_it_reads_openllmetry_spans(tracer: Tracer) -> None:
    # OpenLLMetry's SpanAttributes: LLM_REQUEST_TYPE "llm.request.type", LLM_USAGE_PROMPT_TOKENS
    # "gen_ai.usage.prompt_tokens", LLM_USAGE_CACHE_READ_INPUT_TOKENS "gen_ai.usage.cache_read_input_tokens",
    # LLM_USAGE_REASONING_TOKENS "gen_ai.usage.reasoning_tokens"; spans are named "openai.chat".
    attributes: Attributes = {
        "llm.request.type": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.prompt_tokens": 500,
        "gen_ai.usage.completion_tokens": 60,
        "gen_ai.usage.cache_read_input_tokens": 128,
        "gen_ai.usage.reasoning_tokens": 20,
    }
    with _capture() as capture:
        _span(tracer, attributes, "openai.chat")

    assert capture.total() == TokenUsage(500, 60, 128, 0, 20, "gpt-4o")


def test_an_input_smaller_than_its_cache_counts_is_taken_as_uncached(tracer: Tracer) -> None:
    # An instrumentation that copied Anthropic's raw input_tokens (uncached only): 50 + 800 + 100 in total.
    with _capture() as capture:
        _span(
            tracer,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.usage.input_tokens": 50,
                "gen_ai.usage.output_tokens": 10,
                "gen_ai.usage.cache_read.input_tokens": 800,
                "gen_ai.usage.cache_creation.input_tokens": 100,
            },
        )

    assert capture.total() == TokenUsage(950, 10, 800, 100, 0)


def test_an_output_smaller_than_its_reasoning_is_taken_as_without_reasoning(tracer: Tracer) -> None:
    with _capture() as capture:
        _span(
            tracer,
            {
                "gen_ai.operation.name": "generate_content",
                "gen_ai.usage.input_tokens": 20,
                "gen_ai.usage.output_tokens": 30,
                "gen_ai.usage.reasoning.output_tokens": 100,
            },
        )

    assert capture.total() == TokenUsage(20, 130, 0, 0, 100)


def test_a_chat_span_wrapping_another_chat_span_counts_once(tracer: Tracer) -> None:
    # A framework's model-request span around a client library's span, an HTTP span in between.
    with (
        _capture() as capture,
        tracer.start_as_current_span("chat gpt-4o-mini", attributes=CHAT_1),
        tracer.start_as_current_span("POST /v1/chat/completions"),
    ):
        _span(tracer, {**CHAT_1, "gen_ai.usage.input_tokens": 999})

    total = capture.total()
    assert total is not None
    assert total.input_tokens == 999  # the inner (leaf) span's figure, not 999 + 1000


def test_a_wrapper_without_usage_does_not_hide_its_inner_call(tracer: Tracer) -> None:
    with (
        _capture() as capture,
        tracer.start_as_current_span("chat outer", attributes={"gen_ai.operation.name": "chat"}),
    ):
        _span(tracer, CHAT_2)

    assert capture.total() == TokenUsage(1500, 50, 0, 200, 0, "gpt-4o-mini-2024-07-18")


def test_spans_outside_the_capture_are_ignored(tracer: Tracer) -> None:
    _span(tracer, CHAT_1)
    with _capture() as capture:
        _span(tracer, CHAT_2)
    _span(tracer, CHAT_1)

    assert capture.total() == TokenUsage(1500, 50, 0, 200, 0, "gpt-4o-mini-2024-07-18")


def test_no_model_call_span_means_unknown_usage_not_zero(tracer: Tracer) -> None:
    with _capture() as capture:
        _span(tracer, {"gen_ai.operation.name": "chat"}, "chat gpt-4o")  # a call that reported no usage
        _span(tracer, {}, "GET /health")

    assert capture.total() is None
    assert capture.usage_by_model() == {}


def test_spans_ending_in_other_threads_count(tracer: Tracer) -> None:
    with _capture() as capture, ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: _span(tracer, CHAT_2), range(8)))

    assert capture.total() == TokenUsage(8 * 1500, 8 * 50, 0, 8 * 200, 0, "gpt-4o-mini-2024-07-18")


def test_usage_is_grouped_by_model(tracer: Tracer) -> None:
    with _capture() as capture:
        _span(tracer, CHAT_1)
        _span(
            tracer,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "claude-haiku-4-5",
                "gen_ai.usage.input_tokens": 7,
                "gen_ai.usage.output_tokens": 3,
            },
        )
        _span(
            tracer,
            {
                "gen_ai.operation.name": "generate_content",
                "gen_ai.usage.input_tokens": 5,
                "gen_ai.usage.output_tokens": 1,
            },
        )

    assert capture.usage_by_model() == {
        "gpt-4o-mini-2024-07-18": TokenUsage(1000, 300, 400, 0, 120, "gpt-4o-mini-2024-07-18"),
        "claude-haiku-4-5": TokenUsage(7, 3, model="claude-haiku-4-5"),
        NO_MODEL: TokenUsage(5, 1),
    }
    assert capture.total() == TokenUsage(1012, 304, 400, 0, 120, None)


def test_captures_cannot_nest() -> None:
    with _capture(), pytest.raises(RuntimeError, match="already open"):
        _capture().__enter__()


def test_a_capture_can_be_reopened_after_the_last_one_closed(tracer: Tracer) -> None:
    with _capture():
        pass
    with _capture() as second:
        _span(tracer, CHAT_2)

    assert second.total() is not None


@pytest.mark.parametrize(
    ("name", "attributes", "expected"),
    [
        ("chat gpt-4o", {"gen_ai.operation.name": "chat"}, True),
        ("anything", {"gen_ai.operation.name": "text_completion"}, True),
        ("anything", {"gen_ai.operation.name": "generate_content"}, True),
        ("chat with operation invoke_agent", {"gen_ai.operation.name": "invoke_agent"}, False),
        ("embeddings text-embedding-3-small", {"gen_ai.operation.name": "embeddings"}, False),
        ("chat", {}, True),
        ("generate_content gemini-2.5-flash", {}, True),
        ("chatter", {}, False),
        ("agent run", {}, False),
        ("openai.chat", {"llm.request.type": "chat"}, True),
        ("openai.embeddings", {"llm.request.type": "embedding"}, False),
    ],
)
def test_model_call_spans_are_recognised(name: str, attributes: dict[str, Any], expected: bool) -> None:
    assert is_model_call(name, attributes) is expected


def test_a_span_with_no_token_counts_has_no_usage() -> None:
    assert usage_from_attributes({"gen_ai.request.model": "gpt-4o"}) is None
    assert usage_from_attributes({"gen_ai.usage.input_tokens": "12"}) is None


@pytest.mark.usefixtures("owned_event_loop")
def test_it_captures_a_real_pydantic_ai_run(tracer: Tracer) -> None:
    pytest.importorskip("pydantic_ai")
    from pydantic_ai import Agent
    from pydantic_ai.capabilities import Instrumentation
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.test import TestModel

    provider = TracerProvider()
    processor = usage_span_processor()
    assert processor is not None
    provider.add_span_processor(processor)
    # use_aggregated_usage_attribute_names=False puts the run's totals on the agent span as gen_ai.usage.*,
    # which the capture must not add to the per-request chat spans.
    settings = InstrumentationSettings(tracer_provider=provider, use_aggregated_usage_attribute_names=False)
    agent = Agent(TestModel(), capabilities=[Instrumentation(settings)])

    @agent.tool_plain
    def add(x: int, y: int) -> int:
        return x + y

    with _capture() as capture:
        result = agent.run_sync("add two numbers")

    assert result.usage.requests == 2
    assert capture.total() == TokenUsage(
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        model="test",
        provider="test",  # gen_ai.provider.name / gen_ai.system: who served the call
    )


def _run_fresh(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_installing_sets_an_sdk_provider_when_none_is_set_and_is_idempotent() -> None:
    output = _run_fresh(
        """
        from opentelemetry import trace
        from pytest_agentopt.recording.otel_capture import UsageCapture, install_span_processor
        assert install_span_processor() and install_span_processor()
        provider = trace.get_tracer_provider()
        print(type(provider).__module__, len(provider._active_span_processor._span_processors))
        with UsageCapture() as capture:
            with trace.get_tracer("t").start_as_current_span(
                "chat m", attributes={"gen_ai.usage.input_tokens": 3, "gen_ai.usage.output_tokens": 4}
            ):
                pass
        print(capture.total())
        """
    )

    assert output.splitlines() == [
        "opentelemetry.sdk.trace 1",
        "TokenUsage(input_tokens=3, output_tokens=4, cache_read_tokens=0, cache_write_tokens=0, "
        "reasoning_tokens=0, model=None, provider=None)",
    ]


def test_installing_joins_a_provider_the_user_set_first() -> None:
    output = _run_fresh(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from pytest_agentopt.recording.otel_capture import UsageCapture
        users_provider = TracerProvider()
        exporter = InMemorySpanExporter()
        users_provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(users_provider)
        with UsageCapture() as capture:
            with trace.get_tracer("t").start_as_current_span(
                "x", attributes={"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 5}
            ):
                pass
        exported = len(exporter.get_finished_spans())
        print(trace.get_tracer_provider() is users_provider, exported, capture.total().input_tokens)
        """
    )

    assert output == "True 1 5"


def test_installing_respects_a_no_op_provider_set_on_purpose() -> None:
    output = _run_fresh(
        """
        from opentelemetry import trace
        from pytest_agentopt.recording.otel_capture import install_span_processor
        trace.set_tracer_provider(trace.NoOpTracerProvider())
        print(install_span_processor())
        """
    )

    assert output == "False"


def test_without_the_sdk_the_module_imports_and_captures_nothing() -> None:
    output = _run_fresh(
        """
        import sys
        for name in ("opentelemetry", "opentelemetry.sdk", "opentelemetry.sdk.trace", "opentelemetry.trace"):
            sys.modules[name] = None  # makes `import name` raise ImportError
        from pytest_agentopt.recording.otel_capture import (
            UsageCapture, install_span_processor, otel_available, usage_span_processor,
        )
        with UsageCapture() as capture:
            pass
        print(otel_available(), install_span_processor(), usage_span_processor(), capture.total())
        """
    )

    assert output == "False False None None"
