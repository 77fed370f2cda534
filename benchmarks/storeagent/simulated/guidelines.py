"""Which guidelines the simulated model understands, and which mistakes each one makes less likely.

A guideline is recognised by keywords. Each recognised effect adds ``bonus`` (logit scale) to the chance of
avoiding every mistake that carries its ``topic``; an effect counts once however many guidelines trigger it. A
guideline that matches no effect changes nothing but the prompt length (it still costs tokens on every step).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class GuidelineEffect:
    name: str
    topic: str
    bonus: float
    all_of: tuple[str, ...] = ()  # every pattern must match
    any_of: tuple[str, ...] = ()  # and at least one of these, when given

    def matches(self, guideline: str) -> bool:
        text = guideline.lower()
        if not all(re.search(pattern, text) for pattern in self.all_of):
            return False
        return not self.any_of or any(re.search(pattern, text) for pattern in self.any_of)


GUIDELINE_EFFECTS: tuple[GuidelineEffect, ...] = (
    GuidelineEffect(
        "check coupon limits",
        topic="coupon_limits",
        bonus=2.8,
        all_of=(r"\bcoupons?\b",),
        any_of=(r"\blimit", r"expir", r"\bvalid", r"remaining", r"\buses?\b", r"details"),
    ),
    GuidelineEffect("mind coupons", topic="coupons", bonus=0.6, all_of=(r"\bcoupons?\b",)),
    GuidelineEffect("check stock", topic="stock", bonus=1.2, any_of=(r"\bstock\b", r"availab")),
    GuidelineEffect(
        "respect the budget",
        topic="budget",
        bonus=1.0,
        any_of=(r"budget", r"total price", r"after discounts?", r"cheapest"),
    ),
    GuidelineEffect(
        "refuse the impossible",
        topic="impossible",
        bonus=1.2,
        any_of=(r"\brefuse", r"impossible", r"cannot be (done|fulfilled)"),
    ),
    GuidelineEffect(
        "verify before done",
        topic="verification",
        bonus=1.0,
        any_of=(r"\bverify", r"double-check", r"\bconfirm", r"before (the final answer|claiming|saying)"),
    ),
    GuidelineEffect("tidy basket", topic="basket", bonus=0.8, any_of=(r"\bbasket\b",)),
)


def active_effects(guidelines: Iterable[str]) -> tuple[GuidelineEffect, ...]:
    """The effects that at least one guideline triggers, each once."""
    return _active_effects(tuple(guidelines))


@functools.lru_cache(maxsize=256)
def _active_effects(guidelines: tuple[str, ...]) -> tuple[GuidelineEffect, ...]:
    return tuple(effect for effect in GUIDELINE_EFFECTS if any(effect.matches(text) for text in guidelines))


def guideline_bonus(effects: Sequence[GuidelineEffect], topics: Iterable[str]) -> float:
    """Sum of the bonuses of ``effects`` whose topic is one of ``topics``."""
    wanted = set(topics)
    return sum(effect.bonus for effect in effects if effect.topic in wanted)
