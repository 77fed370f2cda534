"""Estimated cost of token usage: config price overrides first, then the ``genai-prices`` data.

``genai-prices`` ships its price table inside the package and works offline. Its ``calc_price`` takes
``input_tokens`` as the total input, cache reads and writes included, the same convention as
:class:`~pytest_agentopt.recording.usage.TokenUsage`. Reasoning tokens are passed as ``output_reasoning_tokens``, which
genai-prices treats as a part of ``output_tokens`` (priced at the output rate unless the model has its own
reasoning rate), so they are never counted twice.

The figures are estimates (list prices, no discounts, no per-request or per-search fees): report them as
"estimated cost". A cost nothing could price is ``None`` with the reason in ``source``, never a zero.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_agentopt.recording.usage import TokenUsage

if TYPE_CHECKING:
    from pytest_agentopt.configs.model import ModelPrices

__all__ = [
    "CONFIG_PRICES",
    "NO_USAGE",
    "UNKNOWN_MODEL",
    "CostEstimate",
    "estimate_cost",
    "estimate_costs",
]

CONFIG_PRICES = "config prices"
UNKNOWN_MODEL = "unknown model"
NO_USAGE = "no usage"
_PER_MILLION = 1_000_000


@dataclass(frozen=True)
class CostEstimate:
    """An estimated cost in US dollars and where the prices came from.

    ``usd`` is ``None`` when no price source knew the model (``source == "unknown model"``) or when there was
    no usage to price; ``detail`` then says why, in the words of the price source where it has them.
    ``notes`` say where a price came from when that is not what the config suggests (a model its ``provider``
    does not list, priced under the provider genai-prices matched by the model's name).
    """

    usd: float | None
    source: str
    detail: str | None = None
    notes: tuple[str, ...] = ()


def _cost_from_prices(usage: TokenUsage, prices: ModelPrices) -> float:
    """Dollars for ``usage`` at config prices (USD per million tokens); cache rates default to ``input``."""
    cache_read_rate = prices.input if prices.cache_read is None else prices.cache_read
    cache_write_rate = prices.input if prices.cache_write is None else prices.cache_write
    uncached_input = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
    return (
        uncached_input * prices.input
        + usage.cache_read_tokens * cache_read_rate
        + usage.cache_write_tokens * cache_write_rate
        + usage.output_tokens * prices.output
    ) / _PER_MILLION


@functools.cache
def _genai_prices_source() -> str:
    import genai_prices

    return f"genai-prices {genai_prices.__version__}"


@functools.lru_cache(maxsize=4096)
def _genai_price(
    model: str, provider_id: str | None, counts: tuple[int, int, int, int, int]
) -> tuple[float | None, str | None, str | None]:
    """``(usd, provider that priced it, None)`` from genai-prices, or ``(None, None, why)`` when it cannot.

    Imported lazily: ``import genai_prices`` takes about 0.3 s and the plugin module is imported in every
    process, most of which never price anything.
    """
    from genai_prices import Usage, calc_price

    input_tokens, output_tokens, cache_read, cache_write, reasoning = counts
    usage = Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_reasoning_tokens=reasoning,
    )
    try:
        if provider_id is None:
            calculation = calc_price(usage, model)
        else:
            calculation = calc_price(usage, model, provider_id=provider_id)
    except LookupError as error:
        return None, None, str(error)
    return float(calculation.total_price), str(calculation.provider.id), None


def estimate_cost(
    usage: TokenUsage,
    model: str | None,
    *,
    overrides: Mapping[str, ModelPrices] | None = None,
    provider_id: str | None = None,
) -> CostEstimate:
    """The estimated cost of ``usage`` on ``model``.

    ``overrides`` (a config's ``prices``, keyed by model id) win over genai-prices. Otherwise the providers are
    tried in turn, each a hint, never a filter: the one that served the call when the response said so
    (``usage.provider``), then ``provider_id`` (a config's ``provider``: needed when the model id alone is
    ambiguous or the client talked to a base URL genai-prices cannot recognise), then none (genai-prices matches
    the model by its name). So an agent that calls a Claude model under a config whose ``provider`` is
    ``"openai"`` still gets Anthropic's price, with a note saying so. Never raises for an unknown model: the
    estimate is then ``usd=None`` with ``source="unknown model"``.
    """
    if not model:
        return CostEstimate(None, UNKNOWN_MODEL, "no model was named")
    if overrides is not None and model in overrides:
        return CostEstimate(_cost_from_prices(usage, overrides[model]), CONFIG_PRICES)
    counts = (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.reasoning_tokens,
    )
    hints = [usage.provider, provider_id]
    tried = [hint for index, hint in enumerate(hints) if hint and hint not in hints[:index]]
    first_failure: str | None = None
    for hint in [*tried, None]:
        usd, provider, why_not = _genai_price(model, hint, counts)
        if usd is None:
            first_failure = first_failure or why_not
            continue
        notes: tuple[str, ...] = ()
        if hint is None and tried:
            notes = (
                f"model {model!r} is not listed under provider {' or '.join(repr(h) for h in tried)} in "
                f"{_genai_prices_source()}; it was priced as {provider}'s {model!r} (matched by its name). Set the "
                'config\'s "provider" (or its "prices") if that is not who served it',
            )
        return CostEstimate(usd, _genai_prices_source(), notes=notes)
    return CostEstimate(None, UNKNOWN_MODEL, f"{_genai_prices_source()}: {first_failure}")


def estimate_costs(
    usage_by_model: Mapping[str, TokenUsage],
    *,
    overrides: Mapping[str, ModelPrices] | None = None,
    provider_id: str | None = None,
) -> CostEstimate:
    """The summed estimate over several models (a trial that called a cheap and an expensive model, say).

    Models with no tokens are skipped. The sum is ``None`` as soon as one model that did use tokens cannot
    be priced (a partial sum would understate the cost); the source lists the distinct sources used. An empty
    mapping has ``usd=None`` and source ``"no usage"``: usage that was not captured is unknown, not free. The
    key ``""`` stands for "model not named" and is never priced.
    """
    if not usage_by_model:
        return CostEstimate(None, NO_USAGE, "no usage was recorded")
    total = 0.0
    sources: list[str] = []
    unpriced: list[str] = []
    notes: list[str] = []
    for model in sorted(usage_by_model):
        usage = usage_by_model[model]
        if usage.is_zero:
            continue
        estimate = estimate_cost(usage, model or None, overrides=overrides, provider_id=provider_id)
        if estimate.source not in sources:
            sources.append(estimate.source)
        notes.extend(estimate.notes)
        if estimate.usd is None:
            unpriced.append(model or "(model not named)")
        else:
            total += estimate.usd
    if not sources:
        return CostEstimate(0.0, "no tokens")
    source = ", ".join(sources)
    if unpriced:
        return CostEstimate(None, source, f"no price for: {', '.join(unpriced)}", tuple(notes))
    return CostEstimate(total, source, notes=tuple(notes))
