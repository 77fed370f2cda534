"""Automatic token usage from OpenTelemetry GenAI spans, for agents that record nothing by hand.

Instrumented clients and frameworks (pydantic-ai, the OpenTelemetry GenAI instrumentations, OpenLLMetry, ...)
put ``gen_ai.usage.*`` attributes on their spans. A span processor added to the tracer provider sums them over
the *leaf model-call spans* that end while a :class:`UsageCapture` is open:

- a model-call span is one whose ``gen_ai.operation.name`` is ``chat``, ``text_completion`` or
  ``generate_content``; without that attribute, one whose OpenLLMetry ``llm.request.type`` is ``chat`` or
  ``completion``, or whose name starts with one of the three words (``"chat gpt-4o"``). Agent, workflow and
  tool spans (``invoke_agent``, ``agent run``, ``execute_tool``) are never counted: they repeat the totals
  of their calls.
- a leaf is a model-call span with usage none of whose descendants is one, so a framework's ``chat`` span
  wrapping a client library's ``chat`` span is counted once, through the inner span.

Attribute names are still in development in the GenAI semantic conventions, so current and older ones are read
(see ``_INPUT`` ... ``_REASONING`` below). The convention says ``gen_ai.usage.input_tokens`` includes cached
tokens; a span whose cache counts exceed its input evidently did not, and its cache counts are added to it
(likewise reasoning that exceeds the output).

Capture is per process: the plugin runs one trial at a time in each pytest process (xdist workers are
separate processes), so one module-level slot holds the capture in progress. Spans that end in any thread of
the process while it is open count (agents run model calls on thread pools); spans that end outside every
capture are ignored. ``opentelemetry-sdk`` is optional: without it this module still imports,
:func:`otel_available` is False, and every capture sees nothing (its total is ``None``: unknown, not zero).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_agentopt.recording.usage import TokenUsage

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

__all__ = [
    "MODEL_CALL_OPERATIONS",
    "NO_MODEL",
    "UsageCapture",
    "install_span_processor",
    "is_model_call",
    "otel_available",
    "usage_from_attributes",
    "usage_span_processor",
]

MODEL_CALL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
"""``gen_ai.operation.name`` values of spans that each stand for one model call."""

_OPENLLMETRY_MODEL_CALL_TYPES = frozenset({"chat", "completion"})

NO_MODEL = ""
"""The ``usage_by_model`` key of spans that name no model."""

# Attribute names, first match wins. Current semantic conventions first, then pydantic-ai's
# (pydantic_ai/usage.py `opentelemetry_attributes`: cache counts under gen_ai.usage.cache_*.input_tokens and
# gen_ai.usage.details.*, reasoning as gen_ai.usage.details.reasoning_tokens or, for Anthropic,
# gen_ai.usage.details.thinking_tokens), then OpenLLMetry's (gen_ai.usage.prompt_tokens / completion_tokens,
# gen_ai.usage.cache_read_input_tokens, gen_ai.usage.reasoning_tokens) and Sentry's.
_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.details.cache_read_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.input_tokens.cached",
)
_CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_write.input_tokens",  # the anthropic SDK's own spans (anthropic 2.x)
    "gen_ai.usage.details.cache_write_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "gen_ai.usage.input_tokens.cache_write",
)
_REASONING = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.details.reasoning_tokens",
    "gen_ai.usage.details.thinking_tokens",
    "gen_ai.usage.reasoning_tokens",
    "gen_ai.usage.output_tokens.reasoning",
)
_MODEL = ("gen_ai.response.model", "gen_ai.request.model")
_PROVIDER = ("gen_ai.provider.name", "gen_ai.system")
"""The provider that served the call (``gen_ai.system`` is the older name); pydantic-ai sets both."""

_SpanKey = tuple[int, int]
"""``(trace_id, span_id)``: span ids alone are unique only within a trace."""


@functools.cache
def otel_available() -> bool:
    """Whether ``opentelemetry-sdk`` can be imported (the capture needs the SDK, not just the API)."""
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        return False
    return True


def _first_count(attributes: Mapping[str, Any], names: tuple[str, ...]) -> int | None:
    for name in names:
        value = attributes.get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _first_text(attributes: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = attributes.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def is_model_call(name: str, attributes: Mapping[str, Any]) -> bool:
    """Whether a span stands for one model call (see the module doc)."""
    operation = attributes.get("gen_ai.operation.name")
    if isinstance(operation, str):
        return operation in MODEL_CALL_OPERATIONS
    request_type = attributes.get("llm.request.type")
    if isinstance(request_type, str):
        return request_type in _OPENLLMETRY_MODEL_CALL_TYPES
    first_word = name.split(" ", 1)[0]
    return first_word in MODEL_CALL_OPERATIONS


def usage_from_attributes(attributes: Mapping[str, Any]) -> TokenUsage | None:
    """The usage a span reports, or ``None`` when it reports neither input nor output tokens."""
    input_tokens = _first_count(attributes, _INPUT)
    output_tokens = _first_count(attributes, _OUTPUT)
    if input_tokens is None and output_tokens is None:
        return None
    input_tokens = input_tokens or 0
    output_tokens = output_tokens or 0
    cache_read = _first_count(attributes, _CACHE_READ) or 0
    cache_write = _first_count(attributes, _CACHE_WRITE) or 0
    reasoning = _first_count(attributes, _REASONING) or 0
    if cache_read + cache_write > input_tokens:
        # Not a total: this instrumentation reported the provider's uncached input (Anthropic's convention).
        input_tokens += cache_read + cache_write
    if reasoning > output_tokens:
        # Not a total: the output was reported without reasoning (as Gemini reports thoughts apart).
        output_tokens += reasoning
    return TokenUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=reasoning,
        model=_first_text(attributes, _MODEL),
        provider=_first_text(attributes, _PROVIDER),
    )


@dataclass(frozen=True)
class _EndedSpan:
    """What the capture keeps of a span: where it hangs and, for a model call, its usage."""

    parent: _SpanKey | None
    usage: TokenUsage | None


class _Collector:
    """The spans that ended during one capture; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: dict[_SpanKey, _EndedSpan] = {}

    def add(self, key: _SpanKey, span: _EndedSpan) -> None:
        with self._lock:
            self._spans[key] = span

    def leaf_usages(self) -> list[TokenUsage]:
        """Usage of every model-call span that has no model-call descendant with usage."""
        with self._lock:
            spans = dict(self._spans)
        calls = {key for key, span in spans.items() if span.usage is not None}
        wrappers: set[_SpanKey] = set()
        for key in calls:
            ancestor = spans[key].parent
            seen: set[_SpanKey] = set()
            while ancestor is not None and ancestor in spans and ancestor not in seen:
                seen.add(ancestor)
                if ancestor in calls:
                    wrappers.add(ancestor)
                ancestor = spans[ancestor].parent
        return [usage for key in calls - wrappers if (usage := spans[key].usage) is not None]


_active_lock = threading.Lock()
_active: _Collector | None = None


def _record_ended_span(span: ReadableSpan) -> None:
    """The processor's ``on_end``: file the span with the capture in progress, if any."""
    collector = _active  # one read: a capture that closes meanwhile just receives one late span
    if collector is None or span.context is None:
        return
    attributes: Mapping[str, Any] = span.attributes or {}
    usage = usage_from_attributes(attributes) if is_model_call(span.name, attributes) else None
    parent = (span.parent.trace_id, span.parent.span_id) if span.parent is not None else None
    collector.add((span.context.trace_id, span.context.span_id), _EndedSpan(parent=parent, usage=usage))


@functools.cache
def usage_span_processor() -> SpanProcessor | None:
    """The process's span processor (one instance), or ``None`` without ``opentelemetry-sdk``.

    :func:`install_span_processor` adds it to the global tracer provider; add it yourself to a provider you
    pass to an instrumentation directly (``provider.add_span_processor(usage_span_processor())``).
    """
    if not otel_available():
        return None
    from opentelemetry.sdk.trace import SpanProcessor

    class UsageSpanProcessor(SpanProcessor):
        """Feeds ended spans to the :class:`UsageCapture` in progress."""

        def on_end(self, span: ReadableSpan) -> None:
            _record_ended_span(span)

    return UsageSpanProcessor()


_install_lock = threading.Lock()
_providers_with_processor: list[object] = []


def install_span_processor() -> bool:
    """Make the global tracer provider feed :class:`UsageCapture`; idempotent.

    An SDK provider already set globally (by the user, logfire, ...) gets the processor added; when only the
    API's default proxy is there, an SDK ``TracerProvider`` with the processor is set as the global provider.
    Returns False when ``opentelemetry-sdk`` is missing or the global provider cannot take span processors.
    """
    processor = usage_span_processor()
    if processor is None:
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    with _install_lock:
        provider: object = trace.get_tracer_provider()
        if isinstance(provider, trace.ProxyTracerProvider):
            # Nothing set yet (the API's default): set an SDK provider. If another thread set one first,
            # set_tracer_provider only logs a warning and the processor goes to the winner below.
            sdk_provider = TracerProvider()
            trace.set_tracer_provider(sdk_provider)
            provider = trace.get_tracer_provider()
        if any(known is provider for known in _providers_with_processor):
            return True
        add_span_processor = getattr(provider, "add_span_processor", None)
        if not callable(add_span_processor):  # a NoOpTracerProvider set on purpose, or a foreign provider
            return False
        add_span_processor(processor)
        _providers_with_processor.append(provider)
        return True


class UsageCapture:
    """Sums the usage of the leaf model-call spans that end while it is open (see the module doc).

    ``with UsageCapture() as capture: run_the_agent()``, then ``capture.total()``. One capture at a time per
    process; opening a second one while another is open is a ``RuntimeError``. Entering calls
    :func:`install_span_processor` (unless ``install=False``: then only providers that were given
    :func:`usage_span_processor` by hand feed it), so spans reach the capture whenever the SDK is installed.
    """

    def __init__(self, *, install: bool = True) -> None:
        self._install = install
        self._collector = _Collector()

    def __enter__(self) -> UsageCapture:
        global _active
        if self._install:
            install_span_processor()
        with _active_lock:
            if _active is not None:
                raise RuntimeError("a UsageCapture is already open in this process: captures cannot nest")
            _active = self._collector
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        global _active
        with _active_lock:
            if _active is self._collector:
                _active = None

    def usage_by_model(self) -> dict[str, TokenUsage]:
        """Summed usage per model name (``NO_MODEL``, the empty string, for spans that name none)."""
        by_model: dict[str, TokenUsage] = {}
        for usage in self._collector.leaf_usages():
            key = usage.model or NO_MODEL
            by_model[key] = by_model[key] + usage if key in by_model else usage
        return by_model

    def total(self) -> TokenUsage | None:
        """Usage summed over every model, or ``None`` when no model-call span with usage was seen."""
        usages = list(self.usage_by_model().values())
        if not usages:
            return None
        total = usages[0]
        for usage in usages[1:]:
            total = total + usage
        return total
