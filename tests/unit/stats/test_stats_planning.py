"""Fixed-sample sizes, the task-difficulty model and lower bounds on the average sample size (the reference figures)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from pytest_agentopt.stats.oc import binomial_sprt_oc
from pytest_agentopt.stats.planning import (
    asn_lower_bounds_one_sample,
    asn_lower_bounds_paired,
    asn_lower_bounds_trinomial,
    fixed_n_mcnemar,
    fixed_n_one_sample,
    paired_outcome_probabilities,
)

ALPHA, BETA = 0.05, 0.10


@pytest.mark.parametrize(
    ("p0", "p1", "fixed_n", "lower_bounds"),
    [
        (0.50, 0.65, 92, (42.3, 52.0)),
        (0.70, 0.85, 66, (27.7, 38.9)),
        (0.80, 0.95, 40, (14.3, 25.3)),
    ],
)
def test_it_reproduces_the_reference_figures_for_one_config(
    p0: float, p1: float, fixed_n: int, lower_bounds: tuple[float, float]
) -> None:
    assert fixed_n_one_sample(p0, p1, ALPHA, BETA) == fixed_n
    under_h0, under_h1 = asn_lower_bounds_one_sample(p0, p1, ALPHA, BETA)
    assert (round(under_h0, 1), round(under_h1, 1)) == lower_bounds


@pytest.mark.parametrize(
    ("spread", "fixed_n", "lower_bounds"),
    [
        (0.0, 168, (85.2, 93.2)),
        (2.0, 110, (54.2, 59.7)),
    ],
)
def test_it_reproduces_the_reference_figures_for_pairs(
    spread: float, fixed_n: int, lower_bounds: tuple[float, float]
) -> None:
    assert fixed_n_mcnemar(0.60, 0.75, ALPHA, BETA, spread_sigma=spread) == fixed_n
    under_h0, under_h1 = asn_lower_bounds_paired(0.60, 0.75, ALPHA, BETA, spread_sigma=spread)
    assert (round(under_h0, 1), round(under_h1, 1)) == lower_bounds


def test_it_computes_the_one_sample_n_from_the_normal_formula() -> None:
    z_a, z_b = 1.6448536269514722, 1.2815515655446004
    raw = ((z_a * math.sqrt(0.25) + z_b * math.sqrt(0.65 * 0.35)) / 0.15) ** 2
    assert raw == pytest.approx(91.36, abs=0.01)
    assert fixed_n_one_sample(0.5, 0.65, ALPHA, BETA) == math.ceil(raw)


def test_it_computes_mcnemars_n_from_connors_formula_without_spread() -> None:
    # Independent outcomes: psi = 0.75 * 0.40 + 0.60 * 0.25 = 0.45.
    z_a, z_b = 1.6448536269514722, 1.2815515655446004
    raw = (z_a * math.sqrt(0.45) + z_b * math.sqrt(0.45 - 0.15**2)) ** 2 / 0.15**2
    assert fixed_n_mcnemar(0.6, 0.75, ALPHA, BETA) == math.ceil(raw) == 168


def test_it_gives_independent_pair_probabilities_without_spread() -> None:
    assert paired_outcome_probabilities(0.6, 0.75) == pytest.approx((0.15, 0.55, 0.30), abs=1e-15)


def test_it_keeps_the_marginal_rates_under_a_difficulty_spread() -> None:
    loss, tie, win = paired_outcome_probabilities(0.6, 0.75, spread_sigma=2.0)
    assert loss + tie + win == pytest.approx(1.0, abs=1e-12)
    assert win - loss == pytest.approx(0.15, abs=1e-10)  # E[D] = p_test - p_control
    # Shared difficulty makes the outcomes of a pair agree more often.
    assert loss + win < 0.45


def _logistic(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return result


def test_it_agrees_with_an_independent_quadrature_of_the_spread_model() -> None:
    # Trapezoid rule on a fine grid of the task shift u ~ N(0, 4), with intercepts found by bisection.
    sigma = 2.0
    u = np.linspace(-12 * sigma, 12 * sigma, 24_001)
    density = np.exp(-0.5 * (u / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))

    def intercept(rate: float) -> float:
        low, high = -30.0, 30.0
        for _ in range(60):
            middle = (low + high) / 2
            if np.trapezoid(_logistic(middle + u) * density, u) < rate:
                low = middle
            else:
                high = middle
        return (low + high) / 2

    control, test = _logistic(intercept(0.6) + u), _logistic(intercept(0.75) + u)
    win = np.trapezoid(test * (1 - control) * density, u)
    loss = np.trapezoid(control * (1 - test) * density, u)
    expected = (float(loss), float(1 - win - loss), float(win))
    assert paired_outcome_probabilities(0.6, 0.75, spread_sigma=2.0) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("p0", "p1"), [(0.5, 0.65), (0.7, 0.85), (0.8, 0.95)])
def test_it_bounds_the_exact_asn_of_the_sprt_from_below(p0: float, p1: float) -> None:
    under_h0, under_h1 = asn_lower_bounds_one_sample(p0, p1, ALPHA, BETA)
    assert under_h0 < binomial_sprt_oc(p0, p0, p1, ALPHA, BETA).asn
    assert under_h1 < binomial_sprt_oc(p1, p0, p1, ALPHA, BETA).asn


def test_it_uses_the_nearest_distribution_of_the_other_hypothesis_for_pairs() -> None:
    # Under H1 = (0.15, 0.55, 0.30) the nearest mean-zero trinomial splits the discordance:
    # (0.225, 0.55, 0.225).
    kl = 0.15 * math.log(0.15 / 0.225) + 0.30 * math.log(0.30 / 0.225)
    numerator = 0.9 * math.log(0.9 / 0.05) + 0.1 * math.log(0.1 / 0.95)
    assert asn_lower_bounds_paired(0.6, 0.75, ALPHA, BETA)[1] == pytest.approx(numerator / kl, rel=1e-12)


def test_it_plans_a_regression_as_the_mirror_image_of_an_improvement() -> None:
    # Control 0.60 vs test 0.45: (0.33, 0.49, 0.18), the mirror image of control 0.45 vs test 0.60.
    null = paired_outcome_probabilities(0.6, 0.6)
    regression = paired_outcome_probabilities(0.6, 0.45)
    improvement = paired_outcome_probabilities(0.45, 0.6)
    assert regression == pytest.approx(improvement[::-1], abs=1e-15)
    bounds = asn_lower_bounds_trinomial(null, regression, -0.15, ALPHA, BETA)
    assert bounds == pytest.approx(asn_lower_bounds_trinomial(null[::-1], improvement, 0.15, ALPHA, BETA), rel=1e-12)
    # docs/statistics.md, the row "worse (H1: test at 0.45)".
    assert (round(bounds[0], 1), round(bounds[1], 1)) == (85.2, 106.1)


def test_the_paired_bounds_are_the_trinomial_bounds_of_the_task_model() -> None:
    null = paired_outcome_probabilities(0.6, 0.6, 2.0)
    alternative = paired_outcome_probabilities(0.6, 0.75, 2.0)
    expected = asn_lower_bounds_trinomial(null, alternative, 0.75 - 0.6, ALPHA, BETA)
    assert asn_lower_bounds_paired(0.6, 0.75, ALPHA, BETA, 2.0) == expected


def test_it_needs_fewer_pairs_when_tasks_differ_in_difficulty() -> None:
    assert fixed_n_mcnemar(0.6, 0.75, ALPHA, BETA, 2.0) < fixed_n_mcnemar(0.6, 0.75, ALPHA, BETA)
    spread = asn_lower_bounds_paired(0.6, 0.75, ALPHA, BETA, 2.0)
    independent = asn_lower_bounds_paired(0.6, 0.75, ALPHA, BETA)
    assert spread[0] < independent[0]
    assert spread[1] < independent[1]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fixed_n_one_sample(0.65, 0.5, ALPHA, BETA), "p1"),
        (lambda: fixed_n_one_sample(0.5, 0.65, 0.6, BETA), "alpha"),
        (lambda: fixed_n_mcnemar(0.6, 1.2, ALPHA, BETA), "p_test"),
        (lambda: paired_outcome_probabilities(0.6, 0.75, -1.0), "spread_sigma"),
        (lambda: asn_lower_bounds_paired(0.6, 0.75, ALPHA, 0.0), "beta"),
        (lambda: asn_lower_bounds_trinomial((0.5, 0.5, 0.5), (0.1, 0.6, 0.3), 0.2, ALPHA, BETA), "null"),
        (lambda: asn_lower_bounds_trinomial((0.2, 0.6, 0.2), (0.1, 0.6, -0.3), 0.2, ALPHA, BETA), "alternative"),
        (lambda: asn_lower_bounds_trinomial((0.2, 0.6, 0.2), (0.1, 0.6, 0.3), 0.0, ALPHA, BETA), "alternative_mean"),
        (lambda: asn_lower_bounds_trinomial((0.2, 0.6, 0.2), (0.1, 0.6, 0.3), 0.2, 0.5, BETA), "alpha"),
    ],
)
def test_it_rejects_invalid_planning_inputs(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
