"""The one-sample test's cap: last looks and figures checked against exact values computed another way.

References: enumeration of every success/failure sequence (small caps), scipy's binomial tails (caps below the
first possible boundary crossing), and ``stats.oc.binomial_sprt_oc`` (the boundary crossings before the cap).
"""

from __future__ import annotations

import itertools
import math

import pytest
from scipy.stats import binom

from pytest_agentopt.stats.oc import binomial_sprt_oc
from pytest_agentopt.stats.sprt import SequentialSettings, TargetSequentialTest, wald_bounds
from pytest_agentopt.stats.target_design import TargetDesign, target_design

ALPHA, BETA = 0.05, 0.10
SETTINGS = [(0.65, 0.15), (0.9, 0.15), (0.95, 0.15), (0.5, 0.10), (0.8, 0.05), (0.3, 0.2)]


def enumerated(design: TargetDesign, cap: int, p: float) -> tuple[float, float]:
    """P(meets_target), P(below_target) at true rate ``p`` with a cap, by walking every sequence of outcomes."""
    lower, upper = wald_bounds(ALPHA, BETA)
    success_step = math.log(design.target / design.p0)
    failure_step = math.log((1 - design.target) / (1 - design.p0))
    meets = below = 0.0
    for outcomes in itertools.product((True, False), repeat=cap):
        probability, successes, verdict = 1.0, 0, None
        for n, success in enumerate(outcomes, start=1):
            probability *= p if success else 1 - p
            successes += success
            llr = successes * success_step + (n - successes) * failure_step
            if llr >= upper:
                verdict = "meets_target"
                break
            if llr <= lower:
                verdict = "below_target"
                break
        else:
            verdict = design.last_look(cap, successes)
        # A sequence that decided early is counted once per continuation: weight it by the remaining outcomes.
        if verdict is None:
            continue
        # Probability of the prefix only: the product above stopped at the decision.
        share = probability / (2 ** (cap - n)) if n < cap else probability
        if verdict == "meets_target":
            meets += share
        else:
            below += share
    return meets, below


@pytest.mark.parametrize(("target", "effect"), [(0.9, 0.15), (0.65, 0.15), (0.95, 0.15)])
@pytest.mark.parametrize("cap", [5, 9, 12])
def test_every_small_cap_matches_the_enumeration_of_all_sequences(target: float, effect: float, cap: int) -> None:
    design = target_design(target, ALPHA, BETA, effect)
    figures = design.at_cap(cap)
    assert figures is not None
    meets_p0, below_p0 = enumerated(design, cap, target - effect)
    meets_p1, below_p1 = enumerated(design, cap, target)
    assert figures.alpha == pytest.approx(meets_p0, abs=1e-12)
    assert figures.below_miss == pytest.approx(1 - below_p0, abs=1e-12)
    assert figures.beta == pytest.approx(below_p1, abs=1e-12)
    assert figures.miss == pytest.approx(1 - meets_p1, abs=1e-12)


def test_before_any_boundary_can_be_crossed_the_figures_are_binomial_tails() -> None:
    design = target_design(0.5, ALPHA, BETA, 0.10)
    lower, upper = design.bounds
    success_step = math.log(0.5 / 0.4)
    first_crossing = math.ceil(upper / success_step)  # the fewest trials that can reach the upper bound
    assert first_crossing > 10
    for cap in range(1, min(first_crossing, math.ceil(-lower / -math.log(0.5 / 0.6)))):
        figures = design.at_cap(cap)
        assert figures is not None
        assert figures.alpha == pytest.approx(float(binom.sf(figures.meets_from - 1, cap, 0.4)), abs=1e-12)
        assert figures.beta == pytest.approx(float(binom.cdf(figures.below_under - 1, cap, 0.5)), abs=1e-12)
        assert figures.miss == pytest.approx(float(binom.cdf(figures.meets_from - 1, cap, 0.5)), abs=1e-12)


@pytest.mark.parametrize(("target", "effect"), SETTINGS)
def test_the_last_look_keeps_both_rates_at_every_cap_and_leaves_no_undecided_zone_from_the_required_cap(
    target: float, effect: float
) -> None:
    design = target_design(target, ALPHA, BETA, effect)
    required = design.required_trials
    assert required is not None
    for cap in range(1, 3 * required):
        figures = design.at_cap(cap)
        assert figures is not None
        assert figures.alpha <= ALPHA
        assert figures.beta <= BETA
        assert figures.below_under <= figures.meets_from
        if cap >= required:
            assert not figures.undecided_zone
            assert figures.miss <= BETA  # power at the target at least 1 - beta
            assert figures.below_miss <= ALPHA
    before = design.at_cap(required - 1)
    assert before is not None
    assert before.undecided_zone


@pytest.mark.parametrize(("target", "effect"), [(0.65, 0.15), (0.9, 0.15)])
def test_boundary_crossings_before_the_cap_are_those_of_the_truncated_sprt(target: float, effect: float) -> None:
    design = target_design(target, ALPHA, BETA, effect)
    for cap in (20, 60, 150):
        figures = design.at_cap(cap)
        assert figures is not None
        at_p0 = binomial_sprt_oc(target - effect, target - effect, target, ALPHA, BETA, max_n=cap)
        at_p1 = binomial_sprt_oc(target, target - effect, target, ALPHA, BETA, max_n=cap)
        # The last look only adds claims: each figure lies between the truncated SPRT's and that plus the undecided.
        assert at_p0.accept_h1 - 1e-12 <= figures.alpha <= at_p0.accept_h1 + at_p0.undecided + 1e-12
        assert at_p1.accept_h0 - 1e-12 <= figures.beta <= at_p1.accept_h0 + at_p1.undecided + 1e-12
        assert figures.miss <= 1 - at_p1.accept_h1 + 1e-12


def test_far_beyond_the_table_the_figures_are_the_untruncated_ones() -> None:
    design = target_design(0.65, ALPHA, BETA, 0.15)
    far = design.at_cap(50_000)
    assert far is not None
    untruncated_p0 = binomial_sprt_oc(0.5, 0.5, 0.65, ALPHA, BETA)
    untruncated_p1 = binomial_sprt_oc(0.65, 0.5, 0.65, ALPHA, BETA)
    assert far.alpha == pytest.approx(untruncated_p0.accept_h1, abs=1e-11)
    assert far.beta == pytest.approx(untruncated_p1.accept_h0, abs=1e-11)
    assert far.alpha >= untruncated_p0.accept_h1  # an upper bound, never below the exact figure


def test_the_required_cap_for_the_documented_example() -> None:
    # docs/statistics.md: 0.50 vs 0.65 needs 140 trials for both rates and a claim every time.
    design = target_design(0.65, ALPHA, BETA, 0.15)
    assert design.required_trials == 140
    figures = design.at_cap(140)
    assert figures is not None
    assert (round(figures.alpha, 4), round(1 - figures.miss, 4)) == (0.0494, 0.9034)


def test_the_live_test_takes_the_last_look_at_the_cap() -> None:
    design = target_design(0.9, ALPHA, BETA, 0.15)
    settings = SequentialSettings(alpha=ALPHA, beta=BETA, delta=0.15)
    test = TargetSequentialTest(0.9, settings, design=design)
    for _ in range(12):
        test.add_trial(True)
    assert test.verdict is None  # 12 successes do not reach Wald's upper bound
    assert test.conclude() == "meets_target"
    assert test.decided_at_last_look
    test.add_trial(False)  # ignored after the conclusion
    assert test.trials == 12

    undecided = TargetSequentialTest(0.9, settings, design=design)
    figures = design.at_cap(12)
    assert figures is not None
    assert figures.undecided_zone
    for index in range(12):
        undecided.add_trial(index < figures.below_under)  # successes = below_under: inside the undecided zone
    assert undecided.verdict is None
    assert undecided.conclude() is None

    without = TargetSequentialTest(0.9, settings)
    for _ in range(12):
        without.add_trial(True)
    assert without.conclude() is None  # no design, no last look


def test_settings_outside_the_unit_interval_are_refused() -> None:
    with pytest.raises(ValueError, match="target - delta"):
        TargetDesign(0.1, ALPHA, BETA, 0.15)
