"""Wilson interval, exact McNemar p-value and Newcombe's paired-difference interval."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from pytest_agentopt.stats.intervals import (
    exact_mcnemar_one_sided_p,
    exact_mcnemar_p,
    paired_difference_interval,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat Med 17:857-872,
        # method 3 (Wilson score, no continuity correction), printed to 4 decimals.
        (81, 263, (0.2553, 0.3662)),
        (15, 148, (0.0624, 0.1605)),
    ],
)
def test_it_reproduces_newcombes_published_wilson_intervals(
    successes: int, trials: int, expected: tuple[float, float]
) -> None:
    lower, upper = wilson_interval(successes, trials)
    assert round(lower, 4) == expected[0]
    assert round(upper, 4) == expected[1]


def test_it_matches_the_closed_form_wilson_limits() -> None:
    z = 1.959963984540054
    for successes, trials in [(0, 7), (3, 10), (10, 10), (57, 100)]:
        p = successes / trials
        centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
        half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
        lower, upper = wilson_interval(successes, trials)
        assert lower == pytest.approx(max(0.0, centre - half), abs=1e-12)
        assert upper == pytest.approx(min(1.0, centre + half), abs=1e-12)


def test_it_gives_the_uninformative_interval_without_trials() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_it_pins_the_wilson_limits_at_zero_and_all_successes() -> None:
    assert wilson_interval(0, 20)[0] == 0.0
    assert wilson_interval(20, 20)[1] == 1.0


def test_it_widens_the_wilson_interval_with_the_confidence() -> None:
    narrow = wilson_interval(30, 100, 0.80)
    wide = wilson_interval(30, 100, 0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


@pytest.mark.parametrize(("successes", "trials"), [(-1, 5), (6, 5), (1, -2)])
def test_it_rejects_impossible_counts(successes: int, trials: int) -> None:
    with pytest.raises(ValueError, match=r"successes|trials"):
        wilson_interval(successes, trials)


def test_it_rejects_a_confidence_outside_the_unit_interval() -> None:
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 2, 1.0)


def test_it_reproduces_the_published_exact_mcnemar_p_value() -> None:
    # Fagerland, Lydersen & Laake (2017), ch. 8, Cavo et al. (2012) data: 6 vs 16 discordant pairs,
    # "McNemar exact conditional test: P = 0.052479" (R package contingencytables, tests/testthat/test-ch8.R).
    assert round(exact_mcnemar_p(6, 16), 6) == 0.052479


def test_it_matches_the_exact_binomial_test_at_one_half() -> None:
    # Two-sided = min(1, 2 * smaller tail), computed here with exact integers.
    for b, c in [(0, 1), (0, 9), (3, 12), (12, 3), (10, 10), (40, 61), (200, 260)]:
        n = b + c
        tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
        assert exact_mcnemar_p(b, c) == pytest.approx(min(1.0, 2 * tail), rel=1e-11)


def test_it_matches_exact_integers_with_thousands_of_discordant_pairs() -> None:
    # scipy's binomial distribution function loses about n * 1e-16 relative accuracy: 5e-11 holds up to 40,600
    # pairs (1.6e-11 measured at 20,000 vs 20,600) and is far below any figure the reports print (3 digits).
    for b, c in [(5000, 5300), (20000, 20600)]:
        n = b + c
        term = total = 1
        for i in range(1, b + 1):
            term = term * (n - i + 1) // i
            total += term
        exact = float(Fraction(2 * total, 2**n))
        assert exact_mcnemar_p(b, c) == pytest.approx(exact, rel=5e-11)
        assert exact_mcnemar_one_sided_p(c, b) == pytest.approx(exact / 2, rel=5e-11)


def test_it_is_symmetric_and_one_without_discordant_pairs() -> None:
    assert exact_mcnemar_p(0, 0) == 1.0
    assert exact_mcnemar_p(7, 2) == exact_mcnemar_p(2, 7)
    assert exact_mcnemar_p(5, 5) == 1.0


def test_it_handles_large_discordant_counts_without_overflow() -> None:
    p = exact_mcnemar_p(50_000, 51_000)
    assert 0.0 < p < 0.01
    assert math.isfinite(p)


def test_it_reproduces_the_published_newcombe_paired_interval() -> None:
    # Fagerland, Lydersen & Laake (2017), "Statistical Analysis of Contingency Tables", ch. 8, Cavo et al.
    # (2012): table [[59, 6], [16, 80]], "Newcombe square-and-add: estimate = -0.0621 (95% CI -0.1186 to
    # -0.0046)" (also R contingencytables::Newcombe_square_and_add_CI_paired_2x2, tests/testthat/test-ch8.R).
    # The first arm of that table is our test arm: n10 = 6, n01 = 16.
    lower, upper = paired_difference_interval(59, 6, 16, 80)
    assert round(lower, 4) == -0.1186
    assert round(upper, 4) == -0.0046


def test_it_uses_the_corrected_phi_not_the_plain_correlation() -> None:
    # With the plain phi the Cavo interval would be (-0.1174, -0.0059): the published value pins the
    # correction.
    lower, _ = paired_difference_interval(59, 6, 16, 80)
    assert lower == pytest.approx(-0.11862, abs=1e-5)


def test_it_mirrors_the_paired_interval_when_the_arms_swap() -> None:
    lower, upper = paired_difference_interval(20, 9, 3, 18)
    mirrored = paired_difference_interval(20, 3, 9, 18)
    assert mirrored == pytest.approx((-upper, -lower), abs=1e-12)


def test_it_contains_the_estimate_and_stays_in_range() -> None:
    for counts in [(0, 10, 0, 0), (0, 0, 10, 0), (5, 0, 0, 5), (1, 1, 7, 12), (30, 12, 4, 14)]:
        _, n10, n01, _ = counts
        estimate = (n10 - n01) / sum(counts)
        lower, upper = paired_difference_interval(*counts)
        assert -1.0 <= lower <= estimate <= upper <= 1.0


def test_it_gives_the_uninformative_paired_interval_without_pairs() -> None:
    assert paired_difference_interval(0, 0, 0, 0) == (-1.0, 1.0)


def _exact_coverage(n: int, cells: tuple[float, float, float, float]) -> float:
    """P(interval covers p10 - p01) summed over every multinomial table with n pairs."""
    p11, p10, p01, p00 = cells
    truth = p10 - p01
    covered = 0.0
    log_n_factorial = math.lgamma(n + 1)
    for a in range(n + 1):
        for b in range(n + 1 - a):
            for c in range(n + 1 - a - b):
                d = n - a - b - c
                lower, upper = paired_difference_interval(a, b, c, d)
                if lower <= truth <= upper:
                    log_p = log_n_factorial - sum(math.lgamma(k + 1) for k in (a, b, c, d))
                    log_p += sum(k * math.log(p) for k, p in ((a, p11), (b, p10), (c, p01), (d, p00)) if k)
                    covered += math.exp(log_p)
    return covered


# Cell probabilities (n11, n10, n01, n00): control 0.60 vs test 0.75 independent, no difference at 0.60,
# and a correlated table like the one produced by a task-difficulty spread.
_COVERAGE_POINTS = [
    (0.45, 0.30, 0.15, 0.10),
    (0.36, 0.24, 0.24, 0.16),
    (0.45, 0.223, 0.073, 0.254),
]


@pytest.mark.parametrize("cells", _COVERAGE_POINTS)
def test_it_covers_close_to_nominal_exactly_at_thirty_pairs(cells: tuple[float, float, float, float]) -> None:
    # Exact enumeration (no Monte Carlo error). Discrete coverage oscillates with the parameters; Newcombe
    # (1998) reports method 10 close to nominal on average, so +-0.01 around 0.95 is the claim tested here.
    coverage = _exact_coverage(30, cells)
    assert 0.94 <= coverage <= 0.96


@pytest.mark.parametrize("cells", _COVERAGE_POINTS)
def test_it_covers_close_to_nominal_in_a_seeded_simulation(cells: tuple[float, float, float, float]) -> None:
    # 4000 seeded replicates of 80 pairs. Monte Carlo SE = sqrt(0.95 * 0.05 / 4000) = 0.0034; the tolerance is
    # 0.01 for the discreteness of the exact coverage (seen at 30 pairs above) plus 3 SE = 0.0203.
    rng = np.random.default_rng(20240611)
    tables = rng.multinomial(80, cells, size=4000)
    truth = cells[1] - cells[2]
    covered = 0
    for n11, n10, n01, n00 in tables.tolist():
        lower, upper = paired_difference_interval(n11, n10, n01, n00)
        covered += lower <= truth <= upper
    assert abs(covered / 4000 - 0.95) <= 0.01 + 3 * math.sqrt(0.95 * 0.05 / 4000)
