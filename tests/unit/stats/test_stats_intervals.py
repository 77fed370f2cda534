"""Wilson interval, exact McNemar p-value and Newcombe's paired-difference interval."""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from pytest_agentopt.stats import intervals
from pytest_agentopt.stats.intervals import (
    _binomial_half_lower_tail,
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


def exact_lower_tail(k: int, n: int) -> float:
    """P(X <= k), X ~ Binomial(n, 1/2), as the correctly rounded exact rational (Python's integers)."""
    term = total = 1
    for i in range(1, k + 1):
        term = term * (n - i + 1) // i
        total += term
    return float(Fraction(total, 2**n))


def test_it_matches_exact_integers_with_thousands_of_discordant_pairs() -> None:
    # Up to EXACT_TERM_MAX_N the largest term is exact; the rest is a product of ratios, each rounded once
    # (2^-53): about 2e-13 relative after the ~1,000 terms summed at 40,600 pairs (1e-15 measured). 5e-11 was the
    # bound of scipy's bdtr, used before (it loses about n * 1e-16).
    for b, c in [(5000, 5300), (20000, 20600)]:
        exact = 2 * exact_lower_tail(b, b + c)
        assert exact_mcnemar_p(b, c) == pytest.approx(exact, rel=1e-12)
        assert exact_mcnemar_one_sided_p(c, b) == pytest.approx(exact / 2, rel=1e-12)


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


@pytest.mark.parametrize("n", [*range(1, 60), 101, 1000, 2001])
def test_the_binomial_tail_is_the_exact_rational_sum_on_both_sides_of_the_middle(n: int) -> None:
    for k in sorted({-1, 0, 1, n // 3, n // 2 - 1, n // 2, n // 2 + 1, 2 * n // 3, n - 1, n, n + 1}):
        exact = exact_lower_tail(k, n) if 0 <= k <= n else (0.0 if k < 0 else 1.0)
        assert _binomial_half_lower_tail(k, n) == pytest.approx(exact, rel=1e-13, abs=1e-16), (k, n)
    # the one-sided p-value in either direction, against the exact upper tail P(X >= b) = P(X <= c)
    b, c = n // 3, n - n // 3
    assert exact_mcnemar_one_sided_p(b, c) == pytest.approx(exact_lower_tail(c, n), rel=1e-13)
    assert exact_mcnemar_one_sided_p(c, b) == pytest.approx(exact_lower_tail(b, n), rel=1e-13)


def test_beyond_the_exact_term_log_gamma_keeps_the_tail_within_its_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    # Three log-gammas of at most 2e5 (n = 40,600), each rounded to 2^-53 relative: at most 7e-11 absolute error in
    # the log of the largest term, so 1e-10 relative (2.3e-11 measured); exact rationals to compare with.
    monkeypatch.setattr(intervals, "EXACT_TERM_MAX_N", 0)
    for k, n in [(1400, 3000), (9000, 20000), (10000, 20000), (20000, 40600)]:
        assert _binomial_half_lower_tail(k, n) == pytest.approx(exact_lower_tail(k, n), rel=1e-10)


def test_the_exact_mcnemar_test_imports_neither_numpy_nor_scipy() -> None:
    """A fixed-sample paired run with discordant pairs computes it at its end: importing scipy (with numpy) for it
    cost such a run about 0.35 s of start-up, beyond the plugin's budget (docs/performance.md)."""
    code = (
        "import sys; from pytest_agentopt.stats.intervals import exact_mcnemar_p, exact_mcnemar_one_sided_p; "
        "assert 0 < exact_mcnemar_p(3, 12) < 1 and 0 < exact_mcnemar_one_sided_p(12, 3) < 1; "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
