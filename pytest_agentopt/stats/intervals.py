"""Fixed-sample intervals and tests for success rates: Wilson, exact McNemar, Newcombe's paired difference.

Standard library only: this module is imported wherever the plugin is, and the exact McNemar test runs at the end of
every fixed-sample paired run with discordant pairs.

These are fixed-sample methods. After a sequential stop they are *labelled* estimates (per-arm rates with
Wilson intervals); the effect itself is reported with the time-uniform confidence sequence of
``pytest_agentopt.stats.confseq``, which stays valid at a data-dependent stopping time.
"""

from __future__ import annotations

import math
from statistics import NormalDist

EXACT_TERM_MAX_N = 100_000
"""Up to this many trials the binomial tail starts from an exact term (``math.comb`` takes 0.13 s at 100,000)."""

__all__ = [
    "exact_mcnemar_one_sided_p",
    "exact_mcnemar_p",
    "paired_difference_interval",
    "two_sided_z",
    "wilson_interval",
]


def two_sided_z(confidence: float) -> float:
    """The standard normal quantile z with P(|Z| <= z) = ``confidence``."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _check_count(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (no continuity correction) for a binomial proportion.

    ``trials == 0`` gives the uninformative ``(0.0, 1.0)``.
    """
    _check_count("successes", successes)
    _check_count("trials", trials)
    if successes > trials:
        raise ValueError(f"successes ({successes}) must not exceed trials ({trials})")
    z = two_sided_z(confidence)
    if trials == 0:
        return (0.0, 1.0)
    n = float(trials)
    p_hat = successes / n
    z2 = z * z
    centre = (p_hat + z2 / (2.0 * n)) / (1.0 + z2 / n)
    half_width = (z / (1.0 + z2 / n)) * math.sqrt(p_hat * (1.0 - p_hat) / n + z2 / (4.0 * n * n))
    lower = 0.0 if successes == 0 else max(0.0, centre - half_width)
    upper = 1.0 if successes == trials else min(1.0, centre + half_width)
    return (lower, upper)


def _binomial_half_lower_tail(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), with the standard library.

    The largest term, C(n, k) / 2^n, is exact and correctly rounded up to ``EXACT_TERM_MAX_N`` trials (Python's
    integers; beyond, ``math.comb`` grows too slow and log-gamma gives it to about n log(n) 2^-53 relative, 2e-9
    at a million trials); the smaller terms follow from the ratio of consecutive ones, i / (n - i + 1), summed
    until the terms left cannot change the sum (each is below the last one added). Above the middle the tail is
    1 minus the other one (the distribution is symmetric). Checked against exact rational sums in
    ``tests/unit/stats/test_stats_intervals.py``. scipy's ``bdtr`` computed it before; importing scipy (with
    numpy) for this one call cost a fixed-sample run with discordant pairs about 0.35 s of start-up, beyond the
    plugin's budget (``docs/performance.md``).
    """
    if k >= n:
        return 1.0
    if k < 0:
        return 0.0
    if 2 * k > n:
        return 1.0 - _binomial_half_lower_tail(n - k - 1, n)
    if n <= EXACT_TERM_MAX_N:
        term = math.comb(n, k) / (1 << n)
    else:
        term = math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2.0))
    total = term
    i = k
    while i > 0 and term * i > total * 2.0**-60:  # the i terms left are each below ``term``
        term *= i / (n - i + 1)
        i -= 1
        total += term
    return min(1.0, total)


def exact_mcnemar_p(b: int, c: int) -> float:
    """Two-sided exact (conditional) McNemar p-value on the discordant pairs.

    ``b`` = pairs only the test arm solved, ``c`` = pairs only the control arm solved. Conditionally on
    ``b + c`` discordant pairs, ``b`` is Binomial(b + c, 1/2) under no difference; the two-sided p-value is
    ``min(1, 2 * P(X <= min(b, c)))``. No discordant pairs gives 1.0.
    """
    _check_count("b", b)
    _check_count("c", c)
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2.0 * _binomial_half_lower_tail(min(b, c), n))


def exact_mcnemar_one_sided_p(b: int, c: int) -> float:
    """One-sided exact McNemar p-value against "the test arm is not better": ``P(X >= b)``, X ~ Binomial(b + c,
    1/2). Swap the arguments for the other direction. No discordant pairs gives 1.0."""
    _check_count("b", b)
    _check_count("c", c)
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, _binomial_half_lower_tail(c, n))


def paired_difference_interval(n11: int, n10: int, n01: int, n00: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval for ``p_test - p_control`` from paired counts: Newcombe (1998), method 10.

    ``n11`` both solved, ``n10`` test solved and control failed, ``n01`` control solved and test failed,
    ``n00`` both failed. Square-and-add of the continuity-free Wilson limits of the two marginal rates,
    with Newcombe's correction for the correlation of the pairs:
    ``phi = C / sqrt(product of the four margins)`` where ``C = n11*n00 - n10*n01`` reduced by ``n/2`` toward
    zero when positive (``C = 0`` if ``0 <= n11*n00 - n10*n01 <= n/2``) and ``phi = 0`` when a margin is
    empty. This is the formulation of Fagerland, Lydersen & Laake (2017, ch. 8, "Newcombe square-and-add")
    and of R's ``contingencytables::Newcombe_square_and_add_CI_paired_2x2``.

    No pairs gives the uninformative ``(-1.0, 1.0)``.
    """
    for name, value in (("n11", n11), ("n10", n10), ("n01", n01), ("n00", n00)):
        _check_count(name, value)
    n = n11 + n10 + n01 + n00
    if n == 0:
        two_sided_z(confidence)  # still validate the confidence
        return (-1.0, 1.0)
    test_solved = n11 + n10
    control_solved = n11 + n01
    p_test = test_solved / n
    p_control = control_solved / n
    difference = p_test - p_control
    lower_test, upper_test = wilson_interval(test_solved, n, confidence)
    lower_control, upper_control = wilson_interval(control_solved, n, confidence)
    phi = _newcombe_phi(n11, n10, n01, n00)
    drop_test = p_test - lower_test
    rise_control = upper_control - p_control
    rise_test = upper_test - p_test
    drop_control = p_control - lower_control
    below = math.sqrt(max(0.0, drop_test**2 - 2.0 * phi * drop_test * rise_control + rise_control**2))
    above = math.sqrt(max(0.0, rise_test**2 - 2.0 * phi * rise_test * drop_control + drop_control**2))
    return (max(-1.0, difference - below), min(1.0, difference + above))


def _newcombe_phi(n11: int, n10: int, n01: int, n00: int) -> float:
    n = n11 + n10 + n01 + n00
    margins = (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
    if margins == 0:
        return 0.0
    cross = n11 * n00 - n10 * n01
    if cross > n / 2.0:
        corrected = cross - n / 2.0
    elif cross >= 0:
        corrected = 0.0
    else:
        corrected = float(cross)
    return corrected / math.sqrt(margins)
