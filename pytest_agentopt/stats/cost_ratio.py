"""The paired cost ratio of an A/B run: what the test arm costs relative to the control, pair by pair.

Estimand: the **median of the per-pair cost ratio** ``cost(test) / cost(control)``, over the pairs a run draws
(a task of the suite and a trial of it, both arms with the same seed). It is reported with a time-uniform,
distribution-free confidence sequence for that median (``stats.median_cs``: Howard & Ramdas 2022), computed on
the log ratios: it needs no bound on the ratio (the former clipped mean of log ratios could not report more than
10x) and stays valid at a data-dependent stop. The estimate is the sample median (with an even count, the
geometric mean of the two middle ratios), moved into the interval in the rare case the running intersection
excludes it.

Beside it, ``mean_ratio`` is the ratio of the mean costs over the same pairs, ``sum(test) / sum(control)``: what
the bill of the two arms compares. It is a point estimate only (an interval for a ratio of means needs a bound on
the costs or a large-sample approximation, neither of which holds at a data-dependent stop without assumptions),
and can differ from the median when a few trials cost far more than the rest.

Pairs count only when both costs are known. A zero cost is a ratio of 0 (test) or infinity (control), and two
zero costs a ratio of 1: order statistics handle them, no pair is dropped for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypedDict

__all__ = ["ESTIMAND", "CostRatio", "geometric_median", "paired_cost_ratio"]


class CostRatio(TypedDict):
    """The summary's ``cost_ratio`` section (``docs/summary.md``), as :func:`paired_cost_ratio` returns it."""

    estimate: float | None
    lower: float | None
    upper: float | None
    level: float
    pairs: int
    pairs_complete: int
    pairs_for_bounds: int
    mean_ratio: float | None
    estimand: str
    method: str


ESTIMAND = "median of the per-pair cost ratio test / control"


def _ratio(control: float, test: float) -> float:
    if control > 0:
        return test / control
    return 1.0 if test == 0 else math.inf


def geometric_median(ratios: Sequence[float]) -> float:
    """The sample median; with an even count the geometric mean of the two middle ratios."""
    ordered = sorted(ratios)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    low, high = ordered[middle - 1], ordered[middle]
    if low == high or high == math.inf:  # an infinite middle ratio makes the median infinite
        return high
    return math.sqrt(low * high)  # 0 when the lower middle ratio is 0


def _finite(value: float) -> float | None:
    """JSON has no infinity: an unbounded ratio is ``None``."""
    return None if value == math.inf else value


def paired_cost_ratio(costs: Sequence[tuple[float | None, float | None]], alpha: float) -> CostRatio | None:
    """The ratio summary from ``(control cost, test cost)`` per complete pair in planned order.

    ``None`` when no pair has both costs known. Keys: ``estimate`` (the median ratio), ``lower`` and ``upper``
    (the confidence sequence; both ``None`` before ``pairs_for_bounds`` pairs, ``upper`` ``None`` when
    unbounded), ``level``, ``pairs`` (pairs with both costs known), ``pairs_complete`` (all complete pairs),
    ``pairs_for_bounds``, ``mean_ratio``, ``estimand`` and ``method``.
    """
    known = [(float(c), float(t)) for c, t in costs if c is not None and t is not None]
    if not known:
        return None
    # The interval's limits are order statistics, so computing it on the ratios or on their logs is the same;
    # on the ratios they are exactly the observed ratios.
    ratios = [_ratio(c, t) for c, t in known]
    # Here, not at the top: the controller imports this module's type at start-up, and the confidence sequence's
    # scipy.special costs about 0.15 s (scripts/bench_overhead.py).
    from pytest_agentopt.stats.median_cs import median_confidence_sequence, pairs_for_bounds

    lower, upper = median_confidence_sequence(ratios, alpha)
    bounded = len(ratios) >= pairs_for_bounds(alpha)
    estimate = min(upper, max(lower, geometric_median(ratios)))
    control_total = sum(c for c, _ in known)
    level = 1.0 - alpha
    return {
        "estimate": _finite(estimate),
        "lower": lower if bounded else None,
        "upper": _finite(upper) if bounded else None,
        "level": level,
        "pairs": len(known),
        "pairs_complete": len(costs),
        "pairs_for_bounds": pairs_for_bounds(alpha),
        "mean_ratio": sum(t for _, t in known) / control_total if control_total > 0 else None,
        "estimand": ESTIMAND,
        "method": (
            f"median of {len(known)} paired cost ratios; time-uniform {100 * level:g}% confidence sequence for "
            "the median, distribution-free (Howard & Ramdas 2022)"
        ),
    }
