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

The mixture needs no special function. With n = t + 1, the integral is a binomial tail (a Beta(k+1, n-k)
variable exceeds 1/2 exactly when fewer than k + 1 of n fair coins fall below it), which gives

    M_t(k) = S(n, k) / ((n - k) C(n, k)),    S(n, k) = C(n, 0) + C(n, 1) + ... + C(n, k),

and the ratio R = S(n, k) / C(n, k) moves by one rational step when k or n moves by one (Pascal's rule), so the
boundary is walked in O(1) per t in plain floats: standard library only, no numpy or scipy to import at the end
of a run (about 0.35 s of start-up for every paired run that records a cost). The test checks the walk against
the exact rational M_t(k) and against ``scipy.special`` (``betainc``, ``betaln``), which computed it before.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Sequence

__all__ = ["median_boundary", "median_confidence_path", "median_confidence_sequence", "pairs_for_bounds"]


@functools.lru_cache(maxsize=16)
def _boundary(horizon: int, alpha: float) -> tuple[int, ...]:
    """k_t for t = 1..horizon (``t + 1`` where no count up to t reaches it).

    M_t(k) increases with k, so k_t is the least k with ``M_t(k) >= 2/alpha``. The walk keeps k and
    ``ratio = S(n, k) / C(n, k)`` (module doc), so ``M_t(k) = ratio / (n - k)`` and ``M_t(k - 1) = (ratio - 1) / k``;
    at each t it moves k up while M_t(k) is below the threshold and down while M_t(k - 1) still reaches it, then
    moves n to n + 1 at the same k. k_t moves by at most one or two per t, so the whole boundary costs O(horizon).
    """
    threshold = 2.0 / alpha
    boundary: list[int] = []
    k, ratio = 0, 1.0  # n = 2: S(2, 0) = C(2, 0) = 1
    for t in range(1, horizon + 1):
        n = t + 1
        while k < t and ratio < threshold * (n - k):  # up: R(n, k + 1) = R(n, k) (k + 1) / (n - k) + 1
            ratio = ratio * (k + 1) / (n - k) + 1.0
            k += 1
        if ratio < threshold * (n - k):  # k = t and M_t(t) is still below: no finite limit at t
            boundary.append(t + 1)
        else:
            while k > 0 and ratio - 1.0 >= threshold * k:  # down: R(n, k - 1) = (R(n, k) - 1) (n - k + 1) / k
                ratio = (ratio - 1.0) * (n - k + 1) / k
                k -= 1
            boundary.append(k)
        ratio = (2.0 * ratio - 1.0) * (n + 1 - k) / (n + 1)  # n + 1: S(n + 1, k) = 2 S(n, k) - C(n, k)
    return tuple(boundary)


def median_boundary(horizon: int, alpha: float = 0.05) -> tuple[int, ...]:
    """The boundary ``k_t`` for t = 1..horizon; ``k_t = t + 1`` means no finite limit yet at time t."""
    _check_alpha(alpha)
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    # Cache by a rounded-up horizon so a growing run reuses one computation.
    size = max(64, 1 << max(0, horizon - 1).bit_length())
    return _boundary(size, float(alpha))[:horizon]


@functools.lru_cache(maxsize=16)
def pairs_for_bounds(alpha: float = 0.05) -> int:
    """The fewest observations with a finite limit: the least t with ``M_t(t) = (2^(t+1) - 1) / (t + 1) >= 2/alpha``."""
    _check_alpha(alpha)
    t = 1
    while 2 ** (t + 1) - 1 < 2.0 / alpha * (t + 1):
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
            upper = min(upper, below.at_rank(k))
            lower = max(lower, -above.at_rank(k))
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
    k = median_boundary(t, alpha)[-1]
    ordered = sorted(float(x) for x in xs)
    return (ordered[t - k], ordered[k - 1])
