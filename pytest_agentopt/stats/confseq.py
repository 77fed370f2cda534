"""Time-uniform confidence sequence for the mean of bounded observations, by betting.

After a sequential test stops, the stopping time depends on the data, so fixed-sample intervals under-cover.
A confidence sequence (CS) covers the true mean *simultaneously at every time* with probability >= 1 - alpha,
hence also at any data-dependent stopping time. This is the hedged-capital CS of Waudby-Smith & Ramdas (2023,
JRSS-B 86(1), "Estimating means of bounded random variables by betting"; arXiv:2010.09686), with their
predictable plug-in bets, clipping constant ``c = 1/2`` and hedging weight ``theta = 1/2``.

For observations rescaled to ``y`` in [0, 1] and each candidate mean ``m``, two gamblers bet against ``m``:

    K+_t(m) = prod_{i<=t} (1 + lambda+_i(m) (y_i - m)),   K-_t(m) = prod_{i<=t} (1 - lambda-_i(m) (y_i - m)),
    K_t(m) = max(theta K+_t(m), (1 - theta) K-_t(m)),

    lambda_t = sqrt(2 log(2/alpha) / (sigma2_{t-1} t log(1 + t))),
    lambda+_t(m) = min(lambda_t, c/m),   lambda-_t(m) = min(lambda_t, c/(1 - m)),
    mu_t = (1/2 + sum_{i<=t} y_i) / (t + 1),   sigma2_t = (1/4 + sum_{i<=t} (y_i - mu_i)^2) / (t + 1),
    sigma2_0 = 1/4.

The bets only use the past, so each K(m) at the true mean is a nonnegative martingale with initial value 1 and
Ville's inequality gives P(exists t: K_t(mu) >= 1/alpha) <= alpha. The reported set at time T is the running
intersection ``{m : K_t(m) < 1/alpha for every t <= T}``. The clipping keeps every factor >= 1 - c > 0.

Limits: the hedged-capital sets are intervals (Waudby-Smith & Ramdas 2023), so their running intersection is
too. A grid of ``_COARSE_CELLS + 1`` candidates over [lo, hi] finds the candidates still included; each limit
is then bisected between the last excluded and the first included grid point until the bracket is at most
``_RESOLUTION`` (5e-4) wide in the original units. The reported limit is the *excluded* end of that bracket,
so the reported interval contains the exact one and each limit is within 5e-4 (< 1e-3) of the exact limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypedDict

import numpy as np
import numpy.typing as npt

__all__ = ["betting_confidence_sequence", "hedged_capital", "mean_with_confidence_sequence"]

FloatArray = npt.NDArray[np.float64]

_CLIP = 0.5
_THETA = 0.5
_COARSE_CELLS = 64
_RESOLUTION = 5e-4


def _validate(xs: Sequence[float], lo: float, hi: float, alpha: float) -> FloatArray:
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got lo={lo!r}, hi={hi!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    values = np.asarray(xs, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError("xs must be a flat sequence of numbers")
    if values.size and not (np.all(np.isfinite(values)) and values.min() >= lo and values.max() <= hi):
        raise ValueError(f"every observation must lie in [{lo!r}, {hi!r}]")
    return (values - lo) / (hi - lo)


def _predictable_bets(scaled: FloatArray, alpha: float) -> FloatArray:
    """lambda_t for t = 1..T, from the regularised mean and variance of y_1..y_{t-1}."""
    t = np.arange(1, scaled.size + 1, dtype=np.float64)
    running_mean = (0.5 + np.cumsum(scaled)) / (t + 1.0)
    running_variance = (0.25 + np.cumsum((scaled - running_mean) ** 2)) / (t + 1.0)
    previous_variance = np.concatenate(([0.25], running_variance[:-1]))
    bets: FloatArray = np.sqrt(2.0 * math.log(2.0 / alpha) / (previous_variance * t * np.log1p(t)))
    return bets


def _log_hedged_capital(scaled: FloatArray, bets: FloatArray, candidates: FloatArray) -> FloatArray:
    """log K_t(m): one row per candidate m, one column per time t."""
    m = candidates[:, None]
    with np.errstate(divide="ignore"):
        cap_up = np.where(m > 0.0, _CLIP / m, np.inf)
        cap_down = np.where(m < 1.0, _CLIP / (1.0 - m), np.inf)
    excess = scaled[None, :] - m
    log_up = np.cumsum(np.log1p(np.minimum(bets[None, :], cap_up) * excess), axis=1)
    log_down = np.cumsum(np.log1p(-np.minimum(bets[None, :], cap_down) * excess), axis=1)
    hedged: FloatArray = np.maximum(math.log(_THETA) + log_up, math.log(1.0 - _THETA) + log_down)
    return hedged


def hedged_capital(xs: Sequence[float], candidate: float, lo: float, hi: float, alpha: float = 0.05) -> list[float]:
    """The hedged capital ``K_t(candidate)`` for t = 1..T (rejected once it reaches 1/alpha)."""
    scaled = _validate(xs, lo, hi, alpha)
    if not lo <= candidate <= hi:
        raise ValueError(f"candidate must lie in [{lo!r}, {hi!r}], got {candidate!r}")
    if scaled.size == 0:
        return []
    m = np.array([(candidate - lo) / (hi - lo)])
    return [float(v) for v in np.exp(_log_hedged_capital(scaled, _predictable_bets(scaled, alpha), m)[0])]


def _included(scaled: FloatArray, bets: FloatArray, candidates: FloatArray, alpha: float) -> npt.NDArray[np.bool_]:
    """True where the candidate was never rejected up to the last observation (running intersection)."""
    peak = _log_hedged_capital(scaled, bets, candidates).max(axis=1)
    result: npt.NDArray[np.bool_] = peak < math.log(1.0 / alpha)
    return result


def betting_confidence_sequence(xs: Sequence[float], lo: float, hi: float, alpha: float = 0.05) -> tuple[float, float]:
    """The (1 - alpha) confidence sequence at the last observation, as ``(lower, upper)`` in [lo, hi].

    No observations gives ``(lo, hi)``. In the rare event that the running intersection is empty (every
    candidate was rejected at some time; probability <= alpha when the observations are i.i.d.), the result
    is the uninformative ``(lo, hi)`` as well.
    """
    scaled = _validate(xs, lo, hi, alpha)
    if scaled.size == 0:
        return (lo, hi)
    bets = _predictable_bets(scaled, alpha)
    grid = np.linspace(0.0, 1.0, _COARSE_CELLS + 1)
    inside = np.flatnonzero(_included(scaled, bets, grid, alpha))
    if inside.size == 0:
        # The set may fall between two grid points: look finely around the least rejected candidate.
        peak = _log_hedged_capital(scaled, bets, grid).max(axis=1)
        centre = float(grid[int(np.argmin(peak))])
        step = 1.0 / _COARSE_CELLS
        grid = np.linspace(max(0.0, centre - step), min(1.0, centre + step), 2 * _COARSE_CELLS + 1)
        inside = np.flatnonzero(_included(scaled, bets, grid, alpha))
        if inside.size == 0:
            return (lo, hi)
    tolerance = _RESOLUTION / (hi - lo)
    first, last = int(inside[0]), int(inside[-1])
    top = grid.size - 1
    # An included end point of the grid (0 or 1 on the main path) is itself the limit.
    lower = float(grid[0]) if first == 0 else _bisect(scaled, bets, grid[first - 1], grid[first], tolerance, alpha)
    upper = float(grid[top]) if last == top else _bisect(scaled, bets, grid[last + 1], grid[last], tolerance, alpha)
    return (float(lo + lower * (hi - lo)), float(lo + upper * (hi - lo)))


def _bisect(
    scaled: FloatArray, bets: FloatArray, excluded: float, included: float, tolerance: float, alpha: float
) -> float:
    """Bisect between an excluded and an included candidate; return the excluded end (conservative)."""
    while abs(included - excluded) > tolerance:
        middle = (excluded + included) / 2.0
        if _included(scaled, bets, np.array([middle]), alpha)[0]:
            included = middle
        else:
            excluded = middle
    return float(excluded)


class MeanWithConfidenceSequence(TypedDict):
    """What :func:`mean_with_confidence_sequence` returns (the summary's ``effect`` after a sequential run)."""

    estimate: float
    lower: float
    upper: float
    n: int
    method: str


def mean_with_confidence_sequence(
    xs: Sequence[float], lo: float, hi: float, alpha: float = 0.05
) -> MeanWithConfidenceSequence:
    """Plain-data summary for reports: ``estimate``, ``lower``, ``upper``, ``n``, ``method``.

    ``estimate`` is the sample mean (not bias-corrected after a sequential stop; clipped into the interval,
    which is the statement that stays valid).
    """
    lower, upper = betting_confidence_sequence(xs, lo, hi, alpha)
    count = len(xs)
    estimate = float(np.mean(np.asarray(xs, dtype=np.float64))) if count else (lo + hi) / 2.0
    return {
        "estimate": min(upper, max(lower, estimate)),
        "lower": lower,
        "upper": upper,
        "n": count,
        "method": (
            f"time-uniform {100.0 * (1.0 - alpha):g}% confidence sequence (betting, Waudby-Smith & Ramdas 2023)"
        ),
    }
