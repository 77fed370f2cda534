"""The figures behind docs/statistics.md's two-sided bound (``scripts/two_sided_bound.py``) are exact.

The bound is research code outside the plugin, so these checks run with ``pytest tests -m slow``. Small problems
(delta 0.3, a few dozen pairs) keep each backward induction to milliseconds.
"""

from __future__ import annotations

import pytest

from pytest_agentopt.stats.paired_oc import paired_test_oc
from pytest_agentopt.stats.planning import asn_lower_bounds_trinomial, paired_outcome_probabilities
from scripts.two_sided_bound import dual_point, least_favourable_alternatives, two_sided_bound

pytestmark = pytest.mark.slow

NULL = paired_outcome_probabilities(0.6, 0.6)
DELTA = 0.3
PLUS, MINUS = least_favourable_alternatives(NULL, DELTA)
MAX_PAIRS = 60


@pytest.mark.parametrize(("lam_alpha", "lam_beta"), [(5.0, 5.0), (40.0, 20.0), (300.0, 150.0)])
def test_the_backward_value_equals_the_forward_figures_of_its_rule(lam_alpha: float, lam_beta: float) -> None:
    # V(lam) from the backward induction must be exactly E0[N] + lam_alpha * sum(alpha) + lam_beta * sum(beta)
    # of the rule it returns, computed independently by propagating the probability forward.
    point = dual_point(NULL, PLUS, MINUS, lam_alpha, lam_beta, MAX_PAIRS)
    recomputed = (
        point.asn_null
        + lam_alpha * (point.alpha_better + point.alpha_worse)
        + lam_beta * (point.beta_better + point.beta_worse)
    )
    assert point.objective == pytest.approx(recomputed, rel=1e-10)


@pytest.mark.parametrize(("lam_alpha", "lam_beta"), [(10.0, 10.0), (60.0, 30.0), (200.0, 100.0), (500.0, 400.0)])
def test_no_test_beats_the_optimum_not_even_the_plugins_own(lam_alpha: float, lam_beta: float) -> None:
    # Weak duality, checked against an independent test: the plugin's paired GSPRT truncated at the same cap
    # (an inconclusive run counts as a miss under either alternative, never as a false positive).
    point = dual_point(NULL, PLUS, MINUS, lam_alpha, lam_beta, MAX_PAIRS)
    under_null, under_plus, under_minus = (
        paired_test_oc(truth, alpha=0.05, beta=0.10, delta=DELTA, max_pairs=MAX_PAIRS) for truth in (NULL, PLUS, MINUS)
    )
    ours = (
        under_null.asn
        + lam_alpha * (under_null.better + under_null.worse)
        + lam_beta * ((1.0 - under_plus.better) + (1.0 - under_minus.worse))
    )
    assert point.objective <= ours + 1e-9


def test_the_bound_is_met_by_its_own_test_and_lies_between_the_one_sided_bound_and_ours() -> None:
    result = two_sided_bound(NULL, DELTA, alpha=0.05, beta=0.10, max_pairs=MAX_PAIRS, steps=7)
    best = result.best
    # Every evaluated point is a valid bound; the reported one is the largest.
    assert result.bound == max(point.bound(0.05, 0.10) for point in result.points)
    # The optimal test of the best multipliers nearly meets the constraints, and its E0[N] is the bound up to
    # the slack of the bisection.
    assert max(best.alpha_better, best.alpha_worse) == pytest.approx(0.05, abs=0.01)
    assert max(best.beta_better, best.beta_worse) == pytest.approx(0.10, abs=0.02)
    assert best.asn_null == pytest.approx(result.bound, rel=0.05)
    # A two-sided test is also a one-sided one, so it cannot beat the one-sided planning bound; and the plugin's
    # test (its exact error rates are within the constraints) cannot beat the two-sided bound.
    one_sided, _ = asn_lower_bounds_trinomial(NULL, PLUS, DELTA, 0.05, 0.10)
    ours = paired_test_oc(NULL, alpha=0.05, beta=0.10, delta=DELTA, max_pairs=MAX_PAIRS)
    assert one_sided < result.bound < ours.asn
