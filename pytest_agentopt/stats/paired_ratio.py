"""A paired sequential test on a numeric metric (cost, tokens, latency, steps...): the median per-pair ratio.

The unit is the pair, as for success: task *t*, trial *k*, both arms with the same seed. Each pair gives the ratio
``x = metric(test) / metric(control)``. The estimand is the **median of x** over the pairs a run draws (for a
cost, "what the typical pair costs under the test config relative to the control"), not the ratio of the means.

The minimal effect is a relative change ``r``: ``r < 1`` when lower is better (``0.8``: 20 % less), ``r > 1``
when higher is better (``1.25``: 25 % more). Internally the ratios are oriented so that lower is better (for
``r > 1`` the test works on ``control / test`` and ``1 / r``); the figures it reports are back in ``test /
control``. In the oriented scale the hypotheses are

* improvement: H0 median >= 1 against H1 median <= r (better by the effect or more);
* regression: H0 median <= 1 against H1 median >= 1 / r.

**The decisions are read off two time-uniform confidence sequences for the median** (``stats.median_cs``:
Howard & Ramdas 2022, distribution-free, valid simultaneously at every time, hence at a data-dependent stop). One,
at level ``1 - 2 alpha`` (each side misses with probability at most ``alpha``), makes the claims of a
difference; the other, at ``1 - 2 beta``, makes the claims of no (sufficient) difference:

* ``better``: the alpha-sequence's upper limit is below 1. A false ``better`` (true median >= 1) needs the upper
  limit below the true median at some time: probability <= alpha;
* ``worse``: the alpha-sequence's lower limit is above 1 (<= alpha under no regression);
* ``not_better`` (direction ``better``), and for ``both`` half of ``no_difference``: the beta-sequence's lower
  limit is above r. When the true median is r or below (an improvement of the effect size or more), that needs
  the lower limit above the truth at some time: probability <= beta;
* ``not_worse`` (direction ``worse``), the other half of ``no_difference``: the beta-sequence's upper limit is
  below 1 / r (<= beta when the true median is 1 / r or above).

The first decision is final. The guarantee holds for every distribution of the pairs' ratios (skewed,
heavy-tailed, with atoms: a ratio of exactly 1, or 0 and infinity from zero values) **assuming the pairs are
independent draws from one distribution** (tasks drawn at random from the suite, the trials' randomness
independent). The plugin's planned order draws the tasks without replacement within each round, which is not
exactly that; ``scripts/validate_metric_tests.py`` measures the error rates under the plugin's own planned order
with lognormal costs and task spread (``docs/metric-tests-validation.md``). There is no last look: a run that
reaches its cap undecided is inconclusive, and the cap, not a calibration, sets the power.

Each pair costs O(log n): four rank trackers (two heaps each) hold the order statistics the limits are.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pytest_agentopt.stats.cost_ratio import geometric_median
from pytest_agentopt.stats.median_cs import _RankTracker, median_boundary, pairs_for_bounds
from pytest_agentopt.stats.wald import DIRECTIONS, Direction

__all__ = ["PairedRatioTest", "RatioVerdict", "pair_ratio"]

RatioVerdict = Literal["better", "worse", "no_difference", "not_better", "not_worse"]


def pair_ratio(control: float, test: float) -> float:
    """``test / control`` for non-negative values; 0/0 is 1 (no change) and x/0 is infinite."""
    if control > 0:
        return test / control
    return 1.0 if test == 0 else math.inf


class _MedianSequence:
    """The running intersection of a time-uniform (1 - level) confidence sequence for the median, incremental."""

    def __init__(self, level_miss: float) -> None:
        self._miss = level_miss
        self._boundary: tuple[int, ...] = ()
        self._below = _RankTracker()
        self._above = _RankTracker()
        self.lower = -math.inf
        self.upper = math.inf
        self.count = 0

    def add(self, value: float) -> None:
        self.count += 1
        if self.count > len(self._boundary):  # doubling: one boundary computation per doubling of the run
            self._boundary = tuple(int(k) for k in median_boundary(max(64, 2 * self.count), self._miss))
        self._below.add(value)
        self._above.add(-value)
        k = self._boundary[self.count - 1]
        if k <= self.count:
            self.upper = min(self.upper, self._below.at_rank(k))
            self.lower = max(self.lower, -self._above.at_rank(k))


class PairedRatioTest:
    """The sequential test of the module docstring; feed pairs with :meth:`add_pair` in planned order."""

    def __init__(self, *, alpha: float, beta: float, effect_ratio: float, direction: Direction = "both") -> None:
        for name, value in (("alpha", alpha), ("beta", beta)):
            if not 0.0 < value < 0.5:
                raise ValueError(f"{name} must be in (0, 0.5), got {value!r}")
        if not (effect_ratio > 0 and math.isfinite(effect_ratio)) or effect_ratio == 1.0:
            raise ValueError(f"effect_ratio must be a positive number other than 1, got {effect_ratio!r}")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        self.alpha = alpha
        self.beta = beta
        self.effect_ratio = effect_ratio
        self.direction: Direction = direction
        self.lower_is_better = effect_ratio < 1.0
        self._r = effect_ratio if self.lower_is_better else 1.0 / effect_ratio  # oriented: below 1
        # Each side of a (1 - 2 alpha) sequence misses with probability at most alpha (Ville's inequality).
        self._claims = _MedianSequence(2.0 * alpha)
        self._rulings_out = _MedianSequence(2.0 * beta)
        self._ratios: list[float] = []  # oriented, for the point estimate at the end
        self._verdict: RatioVerdict | None = None

    def add_pair(self, control: float, test: float) -> None:
        """One pair's non-negative metric values. Ignored once decided."""
        if control < 0 or test < 0 or math.isnan(control) or math.isnan(test):
            raise ValueError(f"ratio metrics must be non-negative numbers, got control={control!r}, test={test!r}")
        if self._verdict is not None:
            return
        ratio = pair_ratio(control, test) if self.lower_is_better else pair_ratio(test, control)
        self._ratios.append(ratio)
        self._claims.add(ratio)
        self._rulings_out.add(ratio)
        self._verdict = self._decide()

    def _decide(self) -> RatioVerdict | None:
        claims, rulings = self._claims, self._rulings_out
        if self.direction != "worse" and claims.upper < 1.0:
            return "better"
        if self.direction != "better" and claims.lower > 1.0:
            return "worse"
        improvement_ruled_out = rulings.lower > self._r
        regression_ruled_out = rulings.upper < 1.0 / self._r
        if self.direction == "better":
            return "not_better" if improvement_ruled_out else None
        if self.direction == "worse":
            return "not_worse" if regression_ruled_out else None
        return "no_difference" if improvement_ruled_out and regression_ruled_out else None

    def conclude(self) -> RatioVerdict | None:
        """At the cap: no last look (the sequences already hold at every time); the verdict as it stands."""
        return self._verdict

    @property
    def verdict(self) -> RatioVerdict | None:
        return self._verdict

    @property
    def pairs(self) -> int:
        return len(self._ratios)

    def _unoriented(self, value: float) -> float:
        if self.lower_is_better:
            return value
        return math.inf if value == 0 else 1.0 / value

    def interval(self) -> tuple[float | None, float | None]:
        """The (1 - 2 alpha) time-uniform interval for the median ratio test / control (``None``: no limit yet)."""
        lower, upper = self._claims.lower, self._claims.upper
        if not self.lower_is_better:  # back from control / test: the limits swap and invert
            lower, upper = (
                (-math.inf if upper == math.inf else math.inf if upper == 0 else 1.0 / upper),
                (math.inf if lower <= 0 else 1.0 / lower),
            )
        return (lower if math.isfinite(lower) else None), (upper if math.isfinite(upper) else None)

    def estimate(self) -> float | None:
        """The sample median of test / control (geometric mean of the middle two for an even count)."""
        if not self._ratios:
            return None
        value = self._unoriented(geometric_median(self._ratios))
        return value if math.isfinite(value) else None

    def snapshot(self) -> dict[str, Any]:
        lower, upper = self.interval()
        return {
            "pairs": self.pairs,
            "estimate": self.estimate(),
            "lower": lower,
            "upper": upper,
            "level": 1.0 - 2.0 * self.alpha,
            "pairs_for_bounds": pairs_for_bounds(2.0 * self.alpha),
            "verdict": self._verdict,
        }
