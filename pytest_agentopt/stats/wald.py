"""Wald's boundaries of a sequential probability ratio test, and the questions (directions) a paired test asks."""

from __future__ import annotations

import math
from typing import Literal

Direction = Literal["both", "better", "worse"]
DIRECTIONS: tuple[Direction, ...] = ("both", "better", "worse")


def _check_probability(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")


def wald_bounds(alpha: float, beta: float) -> tuple[float, float]:
    """Wald's SPRT bounds on the log-likelihood ratio: ``(log(beta/(1-alpha)), log((1-beta)/alpha))``.

    Continue while ``lower < LLR < upper``; accept H1 at ``LLR >= upper``, H0 at ``LLR <= lower``.
    """
    _check_probability("alpha", alpha)
    _check_probability("beta", beta)
    if alpha + beta >= 1.0:
        raise ValueError(f"alpha + beta must be < 1, got {alpha!r} + {beta!r}")
    return (math.log(beta / (1.0 - alpha)), math.log((1.0 - beta) / alpha))
