"""Cost estimates: exact dollar figures computed by hand from the published per-million-token prices.

genai-prices computes in Decimal, so its totals are exact; float comparisons use a relative tolerance of
1e-12, far above double rounding (~1e-16 per operation) and far below any price difference that matters.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from decimal import Decimal

import anthropic.types
import genai_prices
import pytest
from genai_prices import Usage, calc_price

from pytest_agentopt.configs.model import ModelPrices
from pytest_agentopt.recording.pricing import (
    CONFIG_PRICES,
    NO_USAGE,
    UNKNOWN_MODEL,
    CostEstimate,
    estimate_cost,
    estimate_costs,
)
from pytest_agentopt.recording.usage import TokenUsage, normalize_usage

GENAI_PRICES = f"genai-prices {genai_prices.__version__}"
EXACT = 1e-12


def _approx(value: float) -> object:
    return pytest.approx(value, rel=EXACT, abs=0)


def test_it_prices_gpt_4o_mini_with_cached_input_by_hand() -> None:
    # gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per million tokens.
    usage = TokenUsage(input_tokens=1000, output_tokens=500, cache_read_tokens=400)

    estimate = estimate_cost(usage, "gpt-4o-mini")

    # 600 uncached * 0.15 + 400 cached * 0.075 + 500 output * 0.60 = 90 + 30 + 300 = 420 per million
    assert estimate == CostEstimate(usd=_approx(420e-6), source=GENAI_PRICES)  # type: ignore[arg-type]


def test_it_names_the_genai_prices_version_as_the_source() -> None:
    estimate = estimate_cost(TokenUsage(10, 10), "gpt-4o-mini", provider_id="openai")

    assert estimate.source == f"genai-prices {genai_prices.__version__}"
    assert estimate.usd == _approx((10 * 0.15 + 10 * 0.60) / 1e6)


def _rate(value: object, fallback: Decimal | None = None) -> Decimal:
    """A flat per-MTok price (the models priced by hand here have no tiers); ``None`` takes ``fallback``."""
    if value is None and fallback is not None:
        return fallback
    assert isinstance(value, Decimal), f"expected a flat price, got {value!r}"
    return value


def _hand_price(model: str, provider_id: str, usage: TokenUsage) -> float:
    """The price from genai-prices' own per-MTok figures, with reasoning at its own rate where one exists."""
    price = calc_price(Usage(input_tokens=1, output_tokens=1), model, provider_id=provider_id).model_price
    input_rate = _rate(price.input_mtok)
    has_reasoning_rate = price.output_reasoning_mtok is not None
    reasoning_apart = usage.reasoning_tokens if has_reasoning_rate else 0
    dollars = (
        (usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens) * input_rate
        + usage.cache_read_tokens * _rate(price.cache_read_mtok, input_rate)
        + usage.cache_write_tokens * _rate(price.cache_write_mtok, input_rate)
        + (usage.output_tokens - reasoning_apart) * _rate(price.output_mtok)
        + reasoning_apart * _rate(price.output_reasoning_mtok, Decimal(0))
    )
    return float(dollars / Decimal(1_000_000))


def test_reasoning_tokens_are_priced_once_as_part_of_the_output() -> None:
    with_reasoning = TokenUsage(input_tokens=2000, output_tokens=900, cache_read_tokens=500, reasoning_tokens=700)
    without_reasoning = TokenUsage(input_tokens=2000, output_tokens=900, cache_read_tokens=500)

    priced = estimate_cost(with_reasoning, "o3-mini", provider_id="openai").usd

    assert priced == _approx(_hand_price("o3-mini", "openai", with_reasoning))
    assert priced == estimate_cost(without_reasoning, "o3-mini", provider_id="openai").usd
    # o3-mini: $1.10 input, $0.55 cached, $4.40 output: 1500*1.10 + 500*0.55 + 900*4.40 = 5885 per million.
    assert priced == _approx(5885e-6)


def test_reasoning_tokens_get_their_own_rate_where_the_model_has_one() -> None:
    # sonar-deep-research lists reasoning separately ($3/MTok against $8/MTok output): reasoning must reach
    # genai-prices as a part of the output, or this price would be 700*8 instead of 200*8 + 500*3.
    usage = TokenUsage(input_tokens=1000, output_tokens=700, reasoning_tokens=500)

    priced = estimate_cost(usage, "sonar-deep-research", provider_id="perplexity").usd

    assert priced == _approx(_hand_price("sonar-deep-research", "perplexity", usage))
    assert priced == _approx((1000 * 2 + 200 * 8 + 500 * 3) / 1e6)


def test_it_prices_a_normalised_anthropic_usage_with_cache_writes_by_hand() -> None:
    # claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 cache write, $5 output per million tokens.
    usage = normalize_usage(
        anthropic.types.Usage(
            input_tokens=50, cache_read_input_tokens=800, cache_creation_input_tokens=100, output_tokens=200
        )
    )

    estimate = estimate_cost(usage, "claude-haiku-4-5", provider_id="anthropic")

    # 50*1 + 800*0.10 + 100*1.25 + 200*5 = 50 + 80 + 125 + 1000 = 1255 per million
    assert estimate.usd == _approx(1255e-6)
    assert estimate.usd == _approx(_hand_price("claude-haiku-4-5", "anthropic", usage))


def test_config_prices_win_over_genai_prices() -> None:
    usage = TokenUsage(input_tokens=1000, output_tokens=500, cache_read_tokens=400, cache_write_tokens=100)
    overrides = {"gpt-4o-mini": ModelPrices(input=1.0, output=2.0, cache_read=0.5, cache_write=1.5)}

    estimate = estimate_cost(usage, "gpt-4o-mini", overrides=overrides)

    # 500 uncached * 1 + 400 * 0.5 + 100 * 1.5 + 500 * 2 = 500 + 200 + 150 + 1000 = 1850 per million
    assert estimate.usd == _approx(1850e-6)
    assert estimate.source == CONFIG_PRICES


def test_config_cache_prices_default_to_the_input_price() -> None:
    usage = TokenUsage(input_tokens=1000, output_tokens=500, cache_read_tokens=400, cache_write_tokens=100)

    estimate = estimate_cost(usage, "my-local-model", overrides={"my-local-model": ModelPrices(input=1, output=2)})

    assert estimate.usd == _approx((1000 * 1 + 500 * 2) / 1e6)
    assert estimate.source == CONFIG_PRICES


def test_config_prices_for_another_model_leave_genai_prices_in_charge() -> None:
    overrides = {"other-model": ModelPrices(input=100, output=100)}

    estimate = estimate_cost(TokenUsage(1000, 0), "gpt-4o-mini", overrides=overrides)

    assert estimate.source == GENAI_PRICES
    assert estimate.usd == _approx(150e-6)


def test_an_unknown_model_has_no_cost_and_says_so_without_raising_or_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimate = estimate_cost(TokenUsage(1000, 100), "no-such-model-xyz")

    assert estimate.usd is None
    assert estimate.source == UNKNOWN_MODEL
    assert estimate.detail is not None
    assert "no-such-model-xyz" in estimate.detail


def test_an_unknown_provider_is_a_hint_the_model_name_still_prices() -> None:
    estimate = estimate_cost(TokenUsage(1000, 100), "gpt-4o-mini", provider_id="no-such-provider")

    assert estimate.usd == pytest.approx((1000 * 0.15 + 100 * 0.60) / 1e6)
    assert estimate.notes == (
        "model 'gpt-4o-mini' is not listed under provider 'no-such-provider' in "
        f"{estimate.source}; it was priced as openai's 'gpt-4o-mini' (matched by its name). Set the config's "
        '"provider" (or its "prices") if that is not who served it',
    )


def test_a_claude_model_under_a_config_whose_provider_is_openai_gets_anthropic_s_price() -> None:
    """The example's configs say "provider": "openai"; --agent-set model_id=claude-sonnet-4-5 must keep a price."""
    usage = TokenUsage(input_tokens=5831, output_tokens=492, cache_read_tokens=1000)
    estimate = estimate_cost(usage, "claude-sonnet-4-5", provider_id="openai")

    # claude-sonnet-4-5: $3 input, $0.30 cache read, $15 output per million
    assert estimate.usd == pytest.approx((4831 * 3.0 + 1000 * 0.30 + 492 * 15.0) / 1e6)
    assert "it was priced as anthropic's 'claude-sonnet-4-5'" in estimate.notes[0]
    costs = estimate_costs({"claude-sonnet-4-5": usage, "gpt-4o-mini": TokenUsage(1000, 100)}, provider_id="openai")
    assert estimate.usd is not None
    assert costs.usd == pytest.approx(estimate.usd + (1000 * 0.15 + 100 * 0.60) / 1e6)
    assert len(costs.notes) == 1


def test_the_provider_that_served_the_call_comes_before_the_config_s_hint() -> None:
    # genai-prices lists gpt-4o at $0 under github-copilot and at list price under openai
    served = estimate_cost(TokenUsage(1000, 100, provider="github-copilot"), "gpt-4o", provider_id="openai")
    hinted = estimate_cost(TokenUsage(1000, 100), "gpt-4o", provider_id="openai")
    assert served.usd == 0.0
    assert hinted.usd == pytest.approx((1000 * 2.5 + 100 * 10.0) / 1e6)
    assert served.notes == ()


@pytest.mark.parametrize("model", [None, ""])
def test_usage_without_a_model_has_no_cost(model: str | None) -> None:
    estimate = estimate_cost(TokenUsage(1000, 100), model)

    assert estimate.usd is None
    assert estimate.source == UNKNOWN_MODEL


def test_the_same_lookup_is_computed_once() -> None:
    from pytest_agentopt.recording import pricing

    usage = TokenUsage(1234, 567)
    estimate_cost(usage, "gpt-4o-mini")
    hits_before = pricing._genai_price.cache_info().hits

    again = estimate_cost(usage, "gpt-4o-mini")

    assert pricing._genai_price.cache_info().hits == hits_before + 1
    assert again.usd == _approx((1234 * 0.15 + 567 * 0.60) / 1e6)


def test_costs_of_several_models_add_up() -> None:
    usage_by_model = {
        "gpt-4o-mini": TokenUsage(1000, 500, cache_read_tokens=400),  # 420 per million, as above
        "claude-haiku-4-5": TokenUsage(2000, 100),  # 2000*1 + 100*5 = 2500 per million
    }

    estimate = estimate_costs(usage_by_model)

    assert estimate.usd == _approx(2920e-6)
    assert estimate.source == GENAI_PRICES


def test_costs_list_every_distinct_source() -> None:
    estimate = estimate_costs(
        {"gpt-4o-mini": TokenUsage(1000, 0), "house-model": TokenUsage(1000, 0)},
        overrides={"house-model": ModelPrices(input=2, output=2)},
    )

    assert estimate.usd == _approx((150 + 2000) / 1e6)
    assert estimate.source == f"{GENAI_PRICES}, {CONFIG_PRICES}"


def test_costs_are_unknown_when_one_model_with_tokens_is_unpriced() -> None:
    estimate = estimate_costs({"gpt-4o-mini": TokenUsage(1000, 0), "no-such-model-xyz": TokenUsage(1, 1)})

    assert estimate.usd is None
    assert UNKNOWN_MODEL in estimate.source
    assert estimate.detail == "no price for: no-such-model-xyz"


def test_costs_skip_unpriced_models_that_used_no_tokens() -> None:
    estimate = estimate_costs({"gpt-4o-mini": TokenUsage(1000, 0), "no-such-model-xyz": TokenUsage()})

    assert estimate.usd == _approx(150e-6)
    assert estimate.source == GENAI_PRICES


def test_costs_of_no_usage_are_unknown_not_zero() -> None:
    assert estimate_costs({}) == CostEstimate(None, NO_USAGE, "no usage was recorded")


def test_costs_of_zero_recorded_tokens_are_zero() -> None:
    assert estimate_costs({"gpt-4o-mini": TokenUsage()}) == CostEstimate(0.0, "no tokens")


def test_tokens_of_an_unnamed_model_are_unpriced() -> None:
    estimate = estimate_costs({"": TokenUsage(10, 10)})

    assert estimate.usd is None
    assert estimate.detail == "no price for: (model not named)"


def test_importing_pricing_does_not_import_genai_prices() -> None:
    code = "import sys, pytest_agentopt.recording.pricing; print('genai_prices' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert completed.stdout.strip() == "False"
