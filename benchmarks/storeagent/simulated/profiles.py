"""What the simulation assumes about each model: a competence tier and a few behavioural traits.

The tiers and traits are invented for the simulation, ordered the way public agent benchmarks usually order
these models; they are not measurements of the real models. Only the model ids and the traits that follow from
public API behaviour are real: reasoning models spend hidden reasoning tokens and ignore ``temperature``;
OpenAI models cache prompt prefixes automatically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Tier = Literal["small", "medium", "large", "frontier"]


@dataclass(frozen=True)
class TierTraits:
    ability: float  # on the logit scale, compared with each mistake's difficulty
    detour_rate: float  # chance per step of a redundant read-only call
    invalid_reply_rate: float  # chance per step of a reply that is not valid NextStep JSON


TIER_TRAITS: dict[Tier, TierTraits] = {
    "small": TierTraits(ability=0.0, detour_rate=0.12, invalid_reply_rate=0.03),
    "medium": TierTraits(ability=1.2, detour_rate=0.07, invalid_reply_rate=0.01),
    "large": TierTraits(ability=2.0, detour_rate=0.05, invalid_reply_rate=0.005),
    "frontier": TierTraits(ability=2.8, detour_rate=0.03, invalid_reply_rate=0.002),
}


@dataclass(frozen=True)
class ModelProfile:
    model_id: str
    tier: Tier
    reasoning_tokens_per_step: int = 0  # mean hidden reasoning tokens per call; 0 for non-reasoning models
    prompt_caching: bool = False  # automatic prefix caching (OpenAI: prompts of 1024+ tokens)
    honours_temperature: bool = True  # reasoning models accept only their default temperature

    @property
    def traits(self) -> TierTraits:
        return TIER_TRAITS[self.tier]


def _openai(model_id: str, tier: Tier, reasoning: int = 0) -> ModelProfile:
    return ModelProfile(model_id, tier, reasoning, prompt_caching=True, honours_temperature=reasoning == 0)


def _anthropic(model_id: str, tier: Tier) -> ModelProfile:
    # Anthropic caches only prompts marked with cache_control, which this agent does not send.
    return ModelProfile(model_id, tier)


KNOWN_MODELS: dict[str, ModelProfile] = {
    profile.model_id: profile
    for profile in (
        _openai("gpt-4.1-nano", "small"),
        _openai("gpt-4o-mini", "small"),
        _openai("gpt-5-nano", "small", reasoning=250),
        _openai("gpt-4.1-mini", "medium"),
        _openai("gpt-4o", "medium"),
        _anthropic("claude-haiku-4-5", "medium"),
        _openai("gpt-4.1", "large"),
        _openai("gpt-5-mini", "large", reasoning=300),
        _openai("gpt-5", "frontier", reasoning=700),
        _anthropic("claude-sonnet-4-5", "frontier"),
        _anthropic("claude-opus-4-1", "frontier"),
    )
}

_PROVIDER_PREFIX = re.compile(r"^[a-z0-9_-]+[:/]")
_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")


class UnknownModelError(ValueError):
    pass


def profile_for(model_id: str, *, tier: Tier | None = None) -> ModelProfile:
    """The profile of ``model_id`` (``openai:`` prefixes and date suffixes ignored); ``tier`` overrides it."""
    name = _DATE_SUFFIX.sub("", _PROVIDER_PREFIX.sub("", model_id.strip().lower()))
    known = KNOWN_MODELS.get(name)
    if known is not None:
        return (
            known
            if tier is None
            else ModelProfile(
                model_id,
                tier,
                known.reasoning_tokens_per_step,
                known.prompt_caching,
                known.honours_temperature,
            )
        )
    if tier is not None:
        return ModelProfile(model_id, tier)
    raise UnknownModelError(
        f"the simulated backend has no profile for model {model_id!r}; known models: "
        f"{', '.join(sorted(KNOWN_MODELS))}; or set params.sim_tier to one of {', '.join(TIER_TRAITS)}"
    )
