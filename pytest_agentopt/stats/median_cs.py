"""Time-uniform confidence sequence for a median, with no assumption on the distribution (no bounded support).

The construction is that of Howard & Ramdas (2022, Bernoulli 28(3), "Sequential estimation of quantiles with
applications to A/B-testing and best-arm identification"; arXiv:1906.09712): a confidence sequence for a quantile
is a boundary for a Bernoulli process, read off the order statistics.

For observations x_1, x_2, ... drawn independently from one distribution with median m* (any m* with
P(X < m*) <= 1/2 <= P(X <= m*)), the indicators ``1{x_i < m*}`` are Bernoulli with a success probability of at
most 1/2. The likelihood ratio of "probability q" against "1/2", mixed over q uniform on (1/2, 1),

    M_t(k) = 2^(t+1) * integral_{1/2}^{1} q^k (1 - q)^(t-k) dq
           = 2^(t+1) * B(k+1, t-k+1) * I_{1/2}(t-k+1, k+1)                (k successes in t trials),

is a nonnegative supermartingale with initial value 1 whenever the probability is at most 1/2, so by Ville's
inequality ``P(exists t: M_t >= 2/alpha) <= alpha/2``. M_t(k) increases with k, so the event is "k reaches
k_t", the least k with ``M_t(k) >= 2/alpha`` (a boundary that depends on t and alpha only). Hence:

* a candidate m is rejected as too high at time t when ``#{i <= t: x_i < m} >= k_t``, i.e. when m exceeds the
  k_t-th smallest observation: the upper limit at time t is the k_t-th smallest of x_1..x_t;
* symmetrically (the indicators ``1{x_i > m*}``), the lower limit is the k_t-th largest;
* with probability at least 1 - alpha no median is ever rejected, so the running intersection of these
  intervals covers m* at every time simultaneously, hence also at a data-dependent stopping time.

Ties and atoms are allowed (the strict inequalities above keep the guarantee), infinities too: the limits are
order statistics, so they are observations. Before ``k_t <= t`` (8 observations at alpha 0.05) there is no
finite limit. ``tests/unit/stats/test_stats_median_cs.py`` checks by exact dynamic programming over the lattice
that the boundary's crossing probability under a fair coin is at most alpha/2.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.special import betainc, betaln

__all__ = ["median_boundary", "median_confidence_path", "median_confidence_sequence", "pairs_for_bounds"]

IntArray = npt.NDArray[np.int64]


def _log_mixture(t: npt.NDArray[np.float64], k: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """log M_t(k) (module doc), vectorised over matching arrays of t and k (k >= t/2)."""
    with np.errstate(divide="ignore"):
        tail = np.log(betainc(t - k + 1.0, k + 1.0, 0.5))
    result: npt.NDArray[np.float64] = (t + 1.0) * math.log(2.0) + betaln(k + 1.0, t - k + 1.0) + tail
    return result


@functools.lru_cache(maxsize=16)
def _boundary(horizon: int, alpha: float) -> tuple[int, ...]:
    """k_t for t = 1..horizon (``t + 1`` where no count up to t reaches it).

    Starts from Laplace's approximation of the mixture, ``log M_t(t/2 + d) ~ 2 d^2 / t - log(t / 2 pi) / 2``,
    which is within one of the answer from t = 8 on (alpha 0.05), and moves every k, vectorised, until
    ``M_t(k) >= 2/alpha > M_t(k - 1)``: the exact least k, in a few steps where a bisection over [t/2, t]
    would evaluate every t log2(t) times.
    """
    t = np.arange(1, horizon + 1, dtype=np.float64)
    threshold = math.log(2.0 / alpha)
    reachable = _log_mixture(t, t) >= threshold
    guess = t / 2.0 + np.sqrt(t / 2.0 * np.maximum(0.0, threshold + 0.5 * np.log(t / (2.0 * np.pi))))
    k = np.clip(np.ceil(guess), np.ceil(t / 2.0), t)
    k = np.where(reachable, k, t)
    while True:  # up while M_t(k) is below the threshold (k = t always reaches it where reachable)
        low = reachable & (_log_mixture(t, k) < threshold)
        if not low.any():
            break
        k = np.where(low, k + 1.0, k)
    while True:  # down while M_t(k - 1) still reaches it (never below t/2: M_t(k) < 1 there)
        high = reachable & (k - 1.0 >= t / 2.0) & (_log_mixture(t, np.maximum(k - 1.0, t / 2.0)) >= threshold)
        if not high.any():
            break
        k = np.where(high, k - 1.0, k)
    return tuple(int(v) for v in np.where(reachable, k, t + 1.0))


def median_boundary(horizon: int, alpha: float = 0.05) -> IntArray:
    """The boundary ``k_t`` for t = 1..horizon; ``k_t = t + 1`` means no finite limit yet at time t."""
    _check_alpha(alpha)
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    # Cache by a rounded-up horizon so a growing run reuses one computation.
    size = max(64, 1 << max(0, horizon - 1).bit_length())
    return np.asarray(_boundary(size, float(alpha))[:horizon], dtype=np.int64)


@functools.lru_cache(maxsize=16)
def pairs_for_bounds(alpha: float = 0.05) -> int:
    """The fewest observations with a finite limit: the least t with ``M_t(t) >= 2/alpha``."""
    _check_alpha(alpha)
    t = 1
    while _log_mixture(np.array([float(t)]), np.array([float(t)]))[0] < math.log(2.0 / alpha):
        t += 1
    return t


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")


class _RankTracker:
    """The r-th smallest of the values seen so far, for a rank r that may change after each value (two heaps)."""

    def __init__(self) -> None:
        self._low: list[float] = []  # the r smallest, negated (a max-heap)
        self._high: list[float] = []  # the rest (a min-heap)

    def add(self, value: float) -> None:
        if self._low and value <= -self._low[0]:
            heapq.heappush(self._low, -value)
        else:
            heapq.heappush(self._high, value)

    def at_rank(self, rank: int) -> float:
        while len(self._low) > rank:
            heapq.heappush(self._high, -heapq.heappop(self._low))
        while len(self._low) < rank:
            heapq.heappush(self._low, -heapq.heappop(self._high))
        return -self._low[0]


def median_confidence_path(xs: Sequence[float], alpha: float = 0.05) -> tuple[list[float], list[float]]:
    """The running-intersection limits ``(lower_t, upper_t)`` for t = 1..n (``-inf`` / ``inf``: no limit yet)."""
    values = [float(x) for x in xs]
    if any(math.isnan(x) for x in values):
        raise ValueError("observations must not be NaN")
    boundary = median_boundary(len(values), alpha)
    below, above = _RankTracker(), _RankTracker()
    lower, upper = -math.inf, math.inf
    lowers: list[float] = []
    uppers: list[float] = []
    for t, (x, k) in enumerate(zip(values, boundary, strict=True), start=1):
        below.add(x)
        above.add(-x)
        if k <= t:
            upper = min(upper, below.at_rank(int(k)))
            lower = max(lower, -above.at_rank(int(k)))
        lowers.append(lower)
        uppers.append(upper)
    return lowers, uppers


def median_confidence_sequence(xs: Sequence[float], alpha: float = 0.05) -> tuple[float, float]:
    """The (1 - alpha) confidence sequence for the median at the last observation, as ``(lower, upper)``.

    ``-inf`` / ``inf`` where there is no finite limit yet. When the running intersection is empty (the limits
    crossed, which happens with probability at most alpha), the interval of the last time alone is returned:
    it is itself a (1 - alpha) confidence sequence, only not intersected with the earlier ones.
    """
    if not xs:
        return (-math.inf, math.inf)
    lowers, uppers = median_confidence_path(xs, alpha)
    lower, upper = lowers[-1], uppers[-1]
    if lower <= upper:
        return (lower, upper)
    t = len(xs)
    k = int(median_boundary(t, alpha)[-1])
    ordered = sorted(float(x) for x in xs)
    return (ordered[t - k], ordered[k - 1])
