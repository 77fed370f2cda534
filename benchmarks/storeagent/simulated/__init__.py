"""The simulated backend: an in-process stand-in for a language model (see :mod:`.model`)."""

from __future__ import annotations

from .guidelines import GUIDELINE_EFFECTS, GuidelineEffect, active_effects, guideline_bonus
from .model import SimulatedModel
from .profiles import KNOWN_MODELS, TIER_TRAITS, ModelProfile, Tier, UnknownModelError, profile_for

__all__ = [
    "GUIDELINE_EFFECTS",
    "KNOWN_MODELS",
    "TIER_TRAITS",
    "GuidelineEffect",
    "ModelProfile",
    "SimulatedModel",
    "Tier",
    "UnknownModelError",
    "active_effects",
    "guideline_bonus",
    "profile_for",
]
