"""The distribution-free confidence sequence for a median: exact boundary, exact crossing probability, coverage."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest

from pytest_agentopt.stats.median_cs import (
    median_boundary,
    median_confidence_path,
    median_confidence_sequence,
    pairs_for_bounds,
)


def _exact_mixture(t: int, k: int) -> Fraction:
    """M_t(k) = 2^(t+1) * integral_{1/2}^{1} q^k (1-q)^(t-k) dq, exactly (binomial expansion of (1-q)^(t-k))."""
    integral = Fraction(0)
    for j in range(t - k + 1):
        power = k + j + 1
        integral += Fraction(math.comb(t - k, j) * (-1) ** j, power) * (1 - Fraction(1, 2**power))
    return Fraction(2 ** (t + 1)) * integral


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_the_boundary_is_the_least_count_whose_exact_mixture_reaches_two_over_alpha(alpha: float) -> None:
    threshold = Fraction(2) / Fraction(alpha)
    boundary = median_boundary(60, alpha)
    for t in range(1, 61):
        exact = next((k for k in range(t + 1) if _exact_mixture(t, k) >= threshold), t + 1)
        assert boundary[t - 1] == exact, t


def _exact_boundary(horizon: int, alpha: float) -> list[int]:
    """k_t in integers: ``M_t(k) = S(n, k) / ((n - k) C(n, k))`` with n = t + 1 and S the binomial partial sum
    (module doc), compared with ``2 / alpha`` exactly (alpha as the binary fraction it is)."""
    numerator, denominator = Fraction(alpha).as_integer_ratio()
    boundary = []
    for t in range(1, horizon + 1):
        n = t + 1
        partial, k = 0, None
        for j in range(t + 1):
            partial += math.comb(n, j)
            if partial * numerator >= 2 * denominator * (n - j) * math.comb(n, j):
                k = j
                break
        boundary.append(t + 1 if k is None else k)
    return boundary


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2, 0.01, 0.025, 1e-6])
def test_the_walk_gives_the_exact_boundary_of_the_binomial_form(alpha: float) -> None:
    assert list(median_boundary(400, alpha)) == _exact_boundary(400, alpha)


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2, 0.01])
def test_the_boundary_is_the_one_scipy_special_gives(alpha: float) -> None:
    """The mixture as the incomplete beta function (``scipy.special.betainc``, ``betaln``), far beyond the
    horizons the exact checks reach: at every t, M_t(k_t) reaches 2/alpha and M_t(k_t - 1) does not."""
    from scipy.special import betainc, betaln

    horizon = 1 << 15
    boundary = np.array(median_boundary(horizon, alpha), dtype=np.float64)
    t = np.arange(1, horizon + 1, dtype=np.float64)

    def log_mixture(k: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            tail = np.log(betainc(t - k + 1.0, k + 1.0, 0.5))
        result: np.ndarray = (t + 1.0) * math.log(2.0) + betaln(k + 1.0, t - k + 1.0) + tail
        return result

    threshold = math.log(2.0 / alpha)
    finite = boundary <= t
    assert (log_mixture(np.minimum(boundary, t))[finite] >= threshold).all()
    assert (log_mixture(t)[~finite] < threshold).all()
    below = np.maximum(boundary - 1.0, 0.0)
    assert (log_mixture(below)[finite & (boundary >= 1)] < threshold).all()


def test_eight_pairs_are_needed_for_a_bound_at_alpha_five_percent() -> None:
    # M_8(8) = (2^9 - 1) / 9 = 56.8 >= 40 while M_7(7) = (2^8 - 1) / 8 = 31.9 < 40
    assert _exact_mixture(8, 8) == Fraction(511, 9)
    assert _exact_mixture(7, 7) == Fraction(255, 8)
    assert pairs_for_bounds(0.05) == 8
    assert list(median_boundary(9)) == [2, 3, 4, 5, 6, 7, 8, 8, 9]


@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_the_exact_probability_that_a_fair_coin_ever_crosses_the_boundary_is_at_most_half_alpha(alpha: float) -> None:
    """Dynamic programming over the lattice of (t, count): the one-sided error of the sequence, exactly."""
    horizon = 3000
    boundary = median_boundary(horizon, alpha)
    alive = np.zeros(horizon + 2)
    alive[0] = 1.0
    crossed = 0.0
    for t in range(1, horizon + 1):
        alive = 0.5 * alive + 0.5 * np.concatenate(([0.0], alive[:-1]))
        k = int(boundary[t - 1])
        if k <= t:
            crossed += float(alive[k:].sum())
            alive[k:] = 0.0
    # Ville's inequality bounds it by alpha / 2 at any horizon; the mixture is not tight (0.0187 at 0.05).
    assert crossed <= alpha / 2
    assert crossed >= alpha / 5  # and not trivially conservative


def _brute_force(xs: list[float], alpha: float) -> tuple[list[float], list[float]]:
    boundary = median_boundary(len(xs), alpha)
    lower, upper = -math.inf, math.inf
    lowers, uppers = [], []
    for t in range(1, len(xs) + 1):
        ordered = sorted(xs[:t])
        k = int(boundary[t - 1])
        if k <= t:
            upper = min(upper, ordered[k - 1])
            lower = max(lower, ordered[t - k])
        lowers.append(lower)
        uppers.append(upper)
    return lowers, uppers


def test_the_path_is_the_running_intersection_of_the_order_statistics_with_ties_and_infinities() -> None:
    rng = random.Random(5)
    for _ in range(30):
        xs = [rng.choice([-math.inf, math.inf, 0.0, 1.0, 2.0, rng.gauss(0, 1)]) for _ in range(rng.randrange(1, 90))]
        assert median_confidence_path(xs) == _brute_force(xs, 0.05)


def test_no_limit_before_eight_observations_and_a_point_when_every_value_is_equal() -> None:
    assert median_confidence_sequence([3.0] * 7) == (-math.inf, math.inf)
    assert median_confidence_sequence([3.0] * 8) == (3.0, 3.0)
    assert median_confidence_sequence([]) == (-math.inf, math.inf)
    with pytest.raises(ValueError, match="NaN"):
        median_confidence_sequence([1.0, math.nan])


def _ever_excluded(rng: np.random.Generator, runs: int, draw: object, truth: float) -> int:
    misses = 0
    for _ in range(runs):
        xs = list(draw(rng))  # type: ignore[operator]
        lowers, uppers = median_confidence_path(xs)
        misses += not lowers[-1] <= truth <= uppers[-1]  # the running intersection: excluded at some time
    return misses


def test_it_covers_the_median_of_a_skewed_distribution_with_atoms_at_every_time() -> None:
    """Seeded: 600 runs of 150 observations from a skewed law with an atom at its median, far outside [-10, 10].

    The running intersection at the end excludes the median iff some interval along the way did, so this is the
    time-uniform error. For continuous laws it is exactly the two crossing probabilities (0.0187 + 0.0187 up to
    any horizon, at most 0.05); an atom only lowers it. The check allows the 1e-4 upper tail of Binomial(600, 0.05).
    """
    rng = np.random.default_rng(20240601)

    def draw(rng: np.random.Generator) -> np.ndarray:
        values = 40.0 + rng.lognormal(0.0, 1.5, 150)
        values[rng.random(150) < 0.3] = 40.0 + math.exp(0.0)  # an atom near the middle
        return values

    # median of 40 + X where X = lognormal with P = 0.7, and an atom at 41 (= 40 + the lognormal's median)
    misses = _ever_excluded(rng, 600, draw, 41.0)
    assert misses <= 48  # P(Binomial(600, 0.05) > 48) < 1e-4
