"""Token usage: one normalised shape for what every provider and framework reports.

Convention (OpenAI's): ``input_tokens`` is the total input, cache reads and cache writes included;
``output_tokens`` is the total output, reasoning included. The cache and reasoning classes are kept as their
own counts besides the totals, so ``cache_read_tokens + cache_write_tokens <= input_tokens`` and
``reasoning_tokens <= output_tokens`` always hold. A usage that was not reported is ``None`` where it is
stored, never a zero ``TokenUsage``.

:func:`normalize_usage` recognises the shapes by their attributes or keys (duck typing), so this module
imports no provider SDK. Anthropic is the odd one out: its ``input_tokens`` excludes cache reads and writes,
which are added back here so every ``TokenUsage`` follows the one convention (the same normalisation
pydantic-ai applies, see ``UsageBase.input_tokens`` in ``pydantic_ai/usage.py``).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "ACCEPTED_SHAPES",
    "TokenUsage",
    "UsageShapeError",
    "bare_usage_shape",
    "normalize_usage",
    "usage_from_keywords",
    "usages_of",
]


def _check_count(name: str, value: object) -> int:
    """``value`` as a token count, or a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a non-negative int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value}")
    return value


def _check_classes(
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_write_tokens: int,
    reasoning_tokens: int,
) -> None:
    """The cache classes are part of the input total and reasoning is part of the output total."""
    if cache_read_tokens > input_tokens:
        raise ValueError(
            f"cache_read_tokens ({cache_read_tokens}) cannot exceed input_tokens ({input_tokens}): "
            "input_tokens is the total input, cached tokens included"
        )
    if cache_write_tokens > input_tokens:
        raise ValueError(
            f"cache_write_tokens ({cache_write_tokens}) cannot exceed input_tokens ({input_tokens}): "
            "input_tokens is the total input, cache writes included"
        )
    if cache_read_tokens + cache_write_tokens > input_tokens:
        raise ValueError(
            f"cache_read_tokens + cache_write_tokens ({cache_read_tokens} + {cache_write_tokens}) cannot "
            f"exceed input_tokens ({input_tokens}): input_tokens is the total input, cache reads and writes "
            "included"
        )
    if reasoning_tokens > output_tokens:
        raise ValueError(
            f"reasoning_tokens ({reasoning_tokens}) cannot exceed output_tokens ({output_tokens}): "
            "output_tokens is the total output, reasoning included"
        )


_LABELS = ("model", "provider")


def _agreed(first: str | None, second: str | None) -> str | None:
    """The label two summed usages share: one of them when the other names none, ``None`` when they differ."""
    if first is None:
        return second
    if second is None or first == second:
        return first
    return None


@dataclass(frozen=True)
class TokenUsage:
    """Tokens of one or more model calls (all counts are totals over the calls).

    Construction validates the convention of the module: counts are non-negative ints, the cache classes fit
    in the input total and reasoning fits in the output total (``ValueError`` otherwise).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    model: str | None = None
    provider: str | None = None
    """The provider that served the calls, when the response says so (pydantic-ai's ``provider_name``,
    LangChain's ``model_provider``): priced under it first (genai-prices provider ids)."""

    def __post_init__(self) -> None:
        for name in _LABELS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a str or None, got {type(value).__name__} {value!r}")
        for field in dataclasses.fields(self):
            if field.name not in _LABELS:
                _check_count(field.name, getattr(self, field.name))
        _check_classes(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens,
        )

    def __add__(self, other: TokenUsage) -> TokenUsage:
        """The sum of two usages; the model and the provider survive only when both agree (or one names none)."""
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            model=_agreed(self.model, other.model),
            provider=_agreed(self.provider, other.provider),
        )

    def counts(self) -> dict[str, int]:
        """The ledger's ``tokens`` object: ``{"input": ..., "output": ..., "cache_read": ..., ...}``."""
        return {
            "input": self.input_tokens,
            "output": self.output_tokens,
            "cache_read": self.cache_read_tokens,
            "cache_write": self.cache_write_tokens,
            "reasoning": self.reasoning_tokens,
        }

    @property
    def is_zero(self) -> bool:
        """True when no token of any class was counted."""
        return not any(self.counts().values())


def usage_from_keywords(
    *,
    model: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
) -> TokenUsage:
    """The keyword form of ``agent_trial.record_usage``, validated.

    ``input_tokens`` is the total input (cache reads and writes included) and ``output_tokens`` the total
    output (reasoning included). Every problem is a ``ValueError`` that names the argument.
    """
    return TokenUsage(
        input_tokens=_check_count("input_tokens", input_tokens),
        output_tokens=_check_count("output_tokens", output_tokens),
        cache_read_tokens=_check_count("cache_read_tokens", cache_read_tokens),
        cache_write_tokens=_check_count("cache_write_tokens", cache_write_tokens),
        reasoning_tokens=_check_count("reasoning_tokens", reasoning_tokens),
        model=model,
    )


class UsageShapeError(TypeError):
    """``normalize_usage`` was given something that is not one of :data:`ACCEPTED_SHAPES`."""


ACCEPTED_SHAPES: tuple[str, ...] = (
    "OpenAI Chat Completions usage (prompt_tokens, completion_tokens, prompt_tokens_details.cached_tokens, "
    "completion_tokens_details.reasoning_tokens) or a ChatCompletion carrying it",
    "OpenAI Responses usage (input_tokens, input_tokens_details.cached_tokens, output_tokens, "
    "output_tokens_details.reasoning_tokens) or a Response carrying it",
    "Anthropic usage (input_tokens, cache_read_input_tokens, cache_creation_input_tokens, output_tokens) "
    "or a Message carrying it",
    "pydantic-ai RunUsage / RequestUsage (input_tokens, cache_read_tokens, cache_write_tokens, "
    "output_tokens, output_reasoning_tokens or details['reasoning_tokens']) or a run result carrying it",
    "openai-agents Usage (requests, input_tokens, input_tokens_details, output_tokens, "
    "output_tokens_details) or a RunResult carrying it in context_wrapper.usage",
    "LangChain usage_metadata (input_tokens, output_tokens, input_token_details.cache_read / cache_creation, "
    "output_token_details.reasoning) or an AIMessage carrying it",
    "LiteLLM ModelResponse / Usage (the OpenAI Chat shape, optionally with cache_read_input_tokens and "
    "cache_creation_input_tokens)",
    "a plain dict in any of these shapes, or a TokenUsage",
)

_MISSING = object()


def _get(obj: object, name: str) -> object:
    """``obj[name]`` for a mapping, ``obj.name`` otherwise; ``_MISSING`` when absent (``None`` stays)."""
    if isinstance(obj, Mapping):
        return obj.get(name, _MISSING)
    try:
        return getattr(obj, name, _MISSING)
    except Exception:  # a property that raises is as good as absent
        return _MISSING


def _has(obj: object, *names: str) -> bool:
    return any(_get(obj, name) is not _MISSING for name in names)


def _value(obj: object, name: str) -> object | None:
    value = _get(obj, name)
    return None if value is _MISSING else value


def _count(obj: object, name: str, shape: str) -> int:
    """A token count read from ``obj``: absent or ``None`` is 0, an integral float is accepted (JSON)."""
    value = _value(obj, name)
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageShapeError(
            f"{shape} field {name!r} must be an int token count, got {type(value).__name__} {value!r}"
        )
    if value < 0:
        raise ValueError(f"{shape} field {name!r} is negative ({value})")
    return value


def _detail(obj: object, details_name: str, key: str, shape: str) -> int:
    """``obj.details_name.key`` as a count; 0 when the details object is absent or ``None``.

    A list of detail objects is summed: openai-agents' ``serialize_usage`` writes ``input_tokens_details`` and
    ``output_tokens_details`` as one-element lists (``src/agents/usage.py`` in openai/openai-agents-python).
    """
    details = _value(obj, details_name)
    if details is None:
        return 0
    if isinstance(details, list | tuple):
        return sum(_count(item, key, f"{shape} {details_name}") for item in details)
    return _count(details, key, f"{shape} {details_name}")


def _first_detail(obj: object, candidates: tuple[tuple[str | None, str], ...], shape: str) -> int:
    """The first count reported among ``(details_name, key)`` candidates (``None`` details: top level).

    Providers mirror one count under several names (LiteLLM: ``prompt_tokens_details.cached_tokens`` and
    ``cache_read_input_tokens``), so the first one present is taken, never their sum.
    """
    for details_name, key in candidates:
        if details_name is None:
            if _value(obj, key) is not None:
                return _count(obj, key, shape)
            continue
        details = _value(obj, details_name)
        items = details if isinstance(details, list | tuple) else [] if details is None else [details]
        if any(_value(item, key) is not None for item in items):
            return _detail(obj, details_name, key, shape)
    return 0


def _build(
    shape: str,
    model: str | None,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
) -> TokenUsage:
    try:
        return TokenUsage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens,
            cache_write_tokens=cache_write_tokens,
            reasoning_tokens=reasoning_tokens,
            model=model,
        )
    except ValueError as error:
        raise ValueError(f"inconsistent {shape} usage: {error}") from None


def _from_openai_chat(obj: object, model: str | None) -> TokenUsage:
    # prompt_tokens includes cached tokens (OpenAI). LiteLLM's Usage keeps this convention for every
    # provider: its Anthropic transformation adds cache_read/cache_creation_input_tokens into prompt_tokens
    # and mirrors them in prompt_tokens_details.cached_tokens / cache_creation_tokens (BerriAI/litellm:
    # litellm/llms/anthropic/chat/transformation.py `calculate_usage`, litellm/types/utils.py `class Usage`).
    # DeepSeek's prompt_cache_hit_tokens is also a part of prompt_tokens.
    shape = "OpenAI Chat Completions"
    return _build(
        shape,
        model,
        input_tokens=_count(obj, "prompt_tokens", shape),
        output_tokens=_count(obj, "completion_tokens", shape),
        cache_read_tokens=_first_detail(
            obj,
            (
                ("prompt_tokens_details", "cached_tokens"),
                (None, "cache_read_input_tokens"),
                (None, "prompt_cache_hit_tokens"),
            ),
            shape,
        ),
        cache_write_tokens=_first_detail(
            obj,
            (
                ("prompt_tokens_details", "cache_write_tokens"),
                ("prompt_tokens_details", "cache_creation_tokens"),
                (None, "cache_creation_input_tokens"),
            ),
            shape,
        ),
        reasoning_tokens=_detail(obj, "completion_tokens_details", "reasoning_tokens", shape),
    )


def _from_pydantic_ai(obj: object, model: str | None) -> TokenUsage:
    # pydantic-ai's input_tokens already includes cache reads and writes ("Token counts form inclusive
    # parent/child buckets", UsageBase in pydantic_ai/usage.py, 2.68). Reasoning is the typed
    # output_reasoning_tokens in recent versions and details["reasoning_tokens"] (OpenAI) or
    # details["thinking_tokens"] (Anthropic) in all of them.
    shape = "pydantic-ai"
    reasoning = _count(obj, "output_reasoning_tokens", shape)
    if not reasoning:
        reasoning = _first_detail(obj, (("details", "reasoning_tokens"), ("details", "thinking_tokens")), shape)
    return _build(
        shape,
        model,
        input_tokens=_count(obj, "input_tokens", shape),
        output_tokens=_count(obj, "output_tokens", shape),
        cache_read_tokens=_count(obj, "cache_read_tokens", shape),
        cache_write_tokens=_count(obj, "cache_write_tokens", shape),
        reasoning_tokens=reasoning,
    )


def _from_anthropic(obj: object, model: str | None) -> TokenUsage:
    # Anthropic's input_tokens counts only the uncached input after the last cache breakpoint; the total is
    # input + cache reads + cache writes. Thinking tokens are billed inside output_tokens
    # (anthropic.types.OutputTokensDetails: "Always <= output_tokens").
    shape = "Anthropic"
    cache_read = _count(obj, "cache_read_input_tokens", shape)
    cache_write = _count(obj, "cache_creation_input_tokens", shape)
    return _build(
        shape,
        model,
        input_tokens=_count(obj, "input_tokens", shape) + cache_read + cache_write,
        output_tokens=_count(obj, "output_tokens", shape),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=_detail(obj, "output_tokens_details", "thinking_tokens", shape),
    )


def _from_langchain(obj: object, model: str | None) -> TokenUsage:
    # LangChain UsageMetadata: input_tokens is the "sum of all input token types" and output_tokens the "sum
    # of all output token types"; the details are breakdowns that "do not need to sum" to them
    # (https://reference.langchain.com/python/langchain-core/messages/ai/UsageMetadata, InputTokenDetails).
    shape = "LangChain usage_metadata"
    return _build(
        shape,
        model,
        input_tokens=_count(obj, "input_tokens", shape),
        output_tokens=_count(obj, "output_tokens", shape),
        cache_read_tokens=_detail(obj, "input_token_details", "cache_read", shape),
        cache_write_tokens=_detail(obj, "input_token_details", "cache_creation", shape),
        reasoning_tokens=_detail(obj, "output_token_details", "reasoning", shape),
    )


def _from_openai_responses(obj: object, model: str | None) -> TokenUsage:
    # Also openai-agents' Usage, whose details are the Responses API's InputTokensDetails and
    # OutputTokensDetails (src/agents/usage.py in openai/openai-agents-python). input_tokens includes cached
    # tokens.
    shape = "OpenAI Responses"
    return _build(
        shape,
        model,
        input_tokens=_count(obj, "input_tokens", shape),
        output_tokens=_count(obj, "output_tokens", shape),
        cache_read_tokens=_detail(obj, "input_tokens_details", "cached_tokens", shape),
        cache_write_tokens=_detail(obj, "input_tokens_details", "cache_write_tokens", shape),
        reasoning_tokens=_detail(obj, "output_tokens_details", "reasoning_tokens", shape),
    )


def _from_plain_totals(obj: object, model: str | None) -> TokenUsage:
    # input_tokens / output_tokens with no cache or reasoning breakdown: every convention above agrees.
    shape = "usage"
    return _build(
        shape,
        model,
        input_tokens=_count(obj, "input_tokens", shape),
        output_tokens=_count(obj, "output_tokens", shape),
    )


# Order matters where shapes share names: Anthropic's Usage also has output_tokens_details (thinking),
# LiteLLM's Chat-shaped Usage may carry Anthropic's cache_*_input_tokens names, pydantic-ai has input_tokens.
_RECOGNISERS: tuple[tuple[tuple[str, ...], Callable[[object, str | None], TokenUsage]], ...] = (
    (("prompt_tokens", "completion_tokens"), _from_openai_chat),
    (("cache_read_tokens", "cache_write_tokens", "output_reasoning_tokens"), _from_pydantic_ai),
    (("cache_read_input_tokens", "cache_creation_input_tokens"), _from_anthropic),
    (("input_token_details", "output_token_details"), _from_langchain),
    (("input_tokens_details", "output_tokens_details"), _from_openai_responses),
    (("input_tokens", "output_tokens"), _from_plain_totals),
)

# Objects that carry a usage: (attribute path, what it is). The first found wins.
_CONTAINERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("usage",), "usage"),
    (("usage_metadata",), "LangChain usage_metadata"),
    (("context_wrapper", "usage"), "openai-agents context_wrapper.usage"),
)


def _model_of(obj: object) -> str | None:
    """The model a whole response names: ``model`` (OpenAI, Anthropic, LiteLLM), ``model_name`` (pydantic-ai),
    or LangChain's ``response_metadata["model_name"]``."""
    for name in ("model", "model_name"):
        value = _value(obj, name)
        if isinstance(value, str) and value:
            return value
    metadata = _value(obj, "response_metadata")
    if metadata is not None:
        for name in ("model_name", "model"):
            value = _value(metadata, name)
            if isinstance(value, str) and value:
                return value
    return None


def _provider_of(obj: object) -> str | None:
    """The provider a whole response names: pydantic-ai's ``provider_name``, LangChain's
    ``response_metadata["model_provider"]``. OpenAI and Anthropic SDK responses do not say who served them (an
    OpenAI-compatible endpoint answers in the same shape), so they name none."""
    value = _value(obj, "provider_name")
    if isinstance(value, str) and value:
        return value
    metadata = _value(obj, "response_metadata")
    if metadata is not None:
        value = _value(metadata, "model_provider")
        if isinstance(value, str) and value:
            return value
    return None


def _names_seen(obj: object) -> list[str]:
    """The keys or public attributes of ``obj``, for error messages."""
    if isinstance(obj, Mapping):
        return [str(key) for key in obj]
    if dataclasses.is_dataclass(obj):
        return [field.name for field in dataclasses.fields(obj)]
    fields = getattr(type(obj), "model_fields", None)
    if isinstance(fields, Mapping):
        extra = getattr(obj, "model_extra", None) or {}
        return [str(name) for name in (*fields, *extra)]
    names = vars(obj) if hasattr(obj, "__dict__") else {}
    return [name for name in names if not name.startswith("_")]


def _shape_error(obj: object, reason: str) -> UsageShapeError:
    names = _names_seen(obj)
    shown = ", ".join(names[:25]) + (", ..." if len(names) > 25 else "")
    accepted = "\n".join(f"  - {shape}" for shape in ACCEPTED_SHAPES)
    return UsageShapeError(
        f"cannot read token usage from {type(obj).__name__} ({reason}; "
        f"keys/attributes seen: {shown or 'none'}).\n"
        f"Accepted shapes:\n{accepted}"
    )


def normalize_usage(obj: object, *, model: str | None = None, provider: str | None = None) -> TokenUsage:
    """One :class:`TokenUsage` from any accepted shape (see :data:`ACCEPTED_SHAPES`).

    ``model`` names the model when given; otherwise it is taken from a whole response (``.model``,
    ``.model_name``, LangChain's ``response_metadata``), and so is the provider where the response names it
    (``provider_name``, ``model_provider``). A bare usage object names neither. Unknown shapes raise
    :class:`UsageShapeError`; counts that contradict each other (cached more than the input, say) raise
    ``ValueError``.
    """
    if isinstance(obj, TokenUsage):
        if model is None and provider is None:
            return obj
        return dataclasses.replace(
            obj,
            model=model if model is not None else obj.model,
            provider=provider if provider is not None else obj.provider,
        )
    if obj is None or isinstance(obj, str | bytes | int | float):
        raise _shape_error(obj, "not a usage object")
    for markers, reader in _RECOGNISERS:
        if _has(obj, *markers):
            usage = reader(obj, model)
            return usage if provider is None else dataclasses.replace(usage, provider=provider)
    for path, label in _CONTAINERS:
        holder: object = obj
        for name in path:
            holder = _get(holder, name)
            if holder is _MISSING or holder is None:
                break
        if holder is _MISSING:
            continue
        if holder is None:
            hint = (
                " (a streamed OpenAI Chat Completion reports usage only with stream_options={'include_usage': True})"
                if label == "usage"
                else ""
            )
            raise _shape_error(obj, f"its {label} is None: the response reported no usage{hint}")
        if inspect.ismethod(holder):  # pydantic-ai 0.x: result.usage() was a method
            holder = holder()
        return normalize_usage(
            holder,
            model=model if model is not None else _model_of(obj),
            provider=provider if provider is not None else _provider_of(obj),
        )
    raise _shape_error(obj, "no known token-count fields")


def _model_responses(obj: object) -> list[object]:
    """The model responses of a pydantic-ai run result (``new_messages()``: this run's, not the history it was
    given), each with its own ``usage``, ``model_name`` and ``provider_name``; empty for anything else."""
    new_messages = _value(obj, "new_messages")
    if isinstance(obj, Mapping) or not callable(new_messages):
        return []
    try:
        messages = new_messages()
    except Exception:  # a streamed result that has not finished, say: fall back to its total usage
        return []
    if not isinstance(messages, list | tuple):
        return []
    return [m for m in messages if _value(m, "kind") == "response" and _value(m, "usage") is not None]


def usages_of(obj: object, *, model: str | None = None) -> list[TokenUsage]:
    """The usage of every model call an object reports, each with the model (and provider) that served it.

    A pydantic-ai run result gives one usage per model response of the run, so an agent that called two models
    (a fallback, a cheap router) is priced model by model; anything else is one :func:`normalize_usage`.
    ``model`` overrides the model of every call.
    """
    if model is None:
        responses = _model_responses(obj)
        if responses:
            return [normalize_usage(response) for response in responses]
    return [normalize_usage(obj, model=model)]


BARE_SHAPES: dict[Callable[[object, str | None], TokenUsage], str] = {
    _from_openai_chat: "OpenAI Chat Completions",
    _from_openai_responses: "OpenAI Responses",
    _from_anthropic: "Anthropic",
}
"""Provider-specific usage shapes, by reader: a bare usage object of one of these names no model."""


def bare_usage_shape(obj: object) -> str | None:
    """The provider-specific shape of a *bare* usage object (``response.usage``, not the response), or ``None``.

    Such an object names no model, so the plugin prices it as the config's model; knowing its shape lets the
    recorder warn when that model cannot have produced it.
    """
    if isinstance(obj, TokenUsage) or obj is None or isinstance(obj, str | bytes | int | float):
        return None
    for markers, reader in _RECOGNISERS:
        if _has(obj, *markers):
            return BARE_SHAPES.get(reader)
    return None
