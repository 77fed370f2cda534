"""The median-ratio sequential test and cheaper-at-the-same-quality, without pytest machinery."""

from __future__ import annotations

import math
import random

import pytest

from pytest_agentopt.stats.cheaper_same_quality import CheaperSameQualityTest, quality_design
from pytest_agentopt.stats.design import paired_design
from pytest_agentopt.stats.median_cs import median_confidence_path
from pytest_agentopt.stats.paired_ratio import PairedRatioTest, pair_ratio
from pytest_agentopt.stats.sprt import SequentialSettings


def test_pair_ratio_handles_zeros() -> None:
    assert pair_ratio(2.0, 1.0) == 0.5
    assert pair_ratio(0.0, 0.0) == 1.0
    assert pair_ratio(0.0, 1.0) == math.inf
    assert pair_ratio(1.0, 0.0) == 0.0


def test_the_limits_are_those_of_the_median_confidence_sequence() -> None:
    """The incremental limits equal the batch running intersection at level 1 - 2 alpha (exact order statistics)."""
    rng = random.Random(1)
    pairs = [(rng.lognormvariate(0, 1), rng.lognormvariate(0, 1)) for _ in range(300)]
    test = PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=0.8, direction="both")
    ratios = []
    for control, value in pairs:
        test.add_pair(control, value)
        ratios.append(value / control)
        if test.verdict is not None:
            break
    lowers, uppers = median_confidence_path(ratios, 0.10)
    lower, upper = test.interval()
    assert lower == (lowers[-1] if math.isfinite(lowers[-1]) else None)
    assert upper == (uppers[-1] if math.isfinite(uppers[-1]) else None)


def test_higher_is_better_mirrors_lower_is_better() -> None:
    """A ratio above 1 tests control / test: the same verdicts at the same pair, the interval inverted."""
    rng = random.Random(2)
    pairs = [(rng.lognormvariate(0, 0.5), 0.5 * rng.lognormvariate(0, 0.5)) for _ in range(400)]
    lower_better = PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=0.8)
    higher_better = PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=1.25)
    for control, value in pairs:
        lower_better.add_pair(control, value)
        higher_better.add_pair(value, control)  # the same pairs with the arms swapped
    assert lower_better.verdict == higher_better.verdict == "better"
    assert lower_better.pairs == higher_better.pairs
    low, high = lower_better.interval()
    mirrored_low, mirrored_high = higher_better.interval()
    assert None not in (low, high, mirrored_low, mirrored_high)
    assert low is not None
    assert high is not None
    assert mirrored_low == pytest.approx(1 / high)
    assert mirrored_high == pytest.approx(1 / low)


def test_decisions_follow_the_rules() -> None:
    # all ratios 0.5: the upper limit falls below 1 as soon as the sequence has a limit
    test = PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=0.8, direction="better")
    while test.verdict is None:
        test.add_pair(2.0, 1.0)
    assert test.verdict == "better"
    from pytest_agentopt.stats.median_cs import pairs_for_bounds

    assert test.pairs == pairs_for_bounds(0.10)
    # all ratios 1: the improvement of 0.8 is ruled out (lower limit 1 > 0.8), never a "better"
    test = PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=0.8, direction="better")
    while test.verdict is None:
        test.add_pair(1.0, 1.0)
    assert test.verdict == "not_better"
    assert test.pairs == pairs_for_bounds(0.20)
    # both directions: ratios 1 rule out both changes
    test = PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=0.8, direction="both")
    while test.verdict is None:
        test.add_pair(1.0, 1.0)
    assert test.verdict == "no_difference"
    test = PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=0.8, direction="worse")
    while test.verdict is None:
        test.add_pair(1.0, 3.0)
    assert test.verdict == "worse"


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.5, math.inf, math.nan])
def test_bad_effect_ratios_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="effect_ratio"):
        PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=bad)


def test_negative_values_are_refused() -> None:
    test = PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=0.8)
    with pytest.raises(ValueError, match="non-negative"):
        test.add_pair(-1.0, 1.0)


def _false_better_rate(runs: int, seed: int) -> float:
    """Lognormal, heavy-tailed ratios with median exactly 1, 200 pairs each: how often 'better' is claimed."""
    rng = random.Random(seed)
    claims = 0
    for _ in range(runs):
        test = PairedRatioTest(alpha=0.05, beta=0.1, effect_ratio=0.8, direction="better")
        for _ in range(200):
            control = rng.lognormvariate(-6, 1)
            test.add_pair(control, control * rng.lognormvariate(0, 1.5) ** 3)  # median ratio 1, heavy tails
            if test.verdict is not None:
                break
        claims += test.verdict == "better"
    return claims / runs


def test_false_better_rate_is_at_most_alpha_by_simulation() -> None:
    """400 runs: a true rate of 0.05 gives at most 32 claims with probability 0.999 (Binomial(400, 0.05)); the
    crossing probability of one side is below alpha (the exact figure for the batch sequence is 0.0187 per side at
    level 0.95, tests/unit/stats/test_stats_median_cs.py), so the observed rate is well below the limit."""
    assert _false_better_rate(400, seed=11) <= 32 / 400


def test_cheaper_same_quality_combines_the_two_tests() -> None:
    settings = SequentialSettings(alpha=0.05, beta=0.1, delta=0.15)
    # same success, half the cost: both components decide for the claim
    test = CheaperSameQualityTest(settings, cost_ratio=0.8)
    rng = random.Random(3)
    while test.verdict is None and test.pairs < 2000:
        success = rng.random() < 0.7
        test.add_pair(success, success, 1.0, 0.5)
    assert test.verdict == "cheaper_same_quality"
    parts = test.components()
    assert parts["quality"]["verdict"] == "not_worse"
    assert parts["cost"]["verdict"] == "better"
    # far worse success: worse_quality, whatever the cost
    test = CheaperSameQualityTest(settings, cost_ratio=0.8)
    while test.verdict is None:
        test.add_pair(True, False, 1.0, 0.5)
    assert test.verdict == "worse_quality"
    # same cost: a saving of 0.8 is ruled out
    test = CheaperSameQualityTest(settings, cost_ratio=0.8)
    while test.verdict is None:
        test.add_pair(True, True, 1.0, 1.0)
    assert test.verdict == "not_cheaper"


def test_cheaper_same_quality_needs_a_saving() -> None:
    with pytest.raises(ValueError, match="cost_ratio"):
        CheaperSameQualityTest(SequentialSettings(), cost_ratio=1.2)


def test_cheaper_same_quality_runs_its_halves_at_the_levels_that_keep_both_error_rates() -> None:
    """A false claim at most alpha (the quality half's false not_worse at alpha, the cost half's false better at
    alpha) and a missed saving at most beta (each half's wrong verdict at beta / 2)."""
    settings = SequentialSettings(alpha=0.05, beta=0.1, delta=0.15)
    test = CheaperSameQualityTest(settings, cost_ratio=0.8)
    design = test.quality.design
    assert (design.alpha, design.beta, design.delta, design.direction) == (0.05, 0.05, 0.15, "worse")
    assert (test.cost.alpha, test.cost.beta) == (0.05, 0.05)
    assert quality_design(settings) == design
    with pytest.raises(ValueError, match=r"quality half's design must be for alpha 0\.05, beta 0\.05"):
        CheaperSameQualityTest(settings, cost_ratio=0.8, design=paired_design(0.05, 0.1, 0.15, "worse"))


def test_a_false_claim_at_a_quality_drop_happens_as_often_as_the_exact_dp_says() -> None:
    """Success 0.75 -> 0.60 (a drop of the margin, discordance 0.45) with the cost halved on every pair: the cost
    half claims ``better`` within a few pairs, so the claim's rate is the quality half's P(not_worse), which the
    exact DP gives at the same cap of 600 pairs. 800 seeded runs: the Monte Carlo sd is at most
    sqrt(0.06 * 0.94 / 800) = 0.0084; the tolerance is 4 sd. The old halves (quality at beta 0.10) claimed 0.099."""
    import numpy as np

    from pytest_agentopt.stats.gsprt_dp import lattice_dp
    from pytest_agentopt.stats.planning import paired_outcome_probabilities

    settings = SequentialSettings(alpha=0.05, beta=0.1, delta=0.15)
    design = quality_design(settings)
    distribution = paired_outcome_probabilities(0.75, 0.60)
    exact = lattice_dp(
        delta=0.15,
        bounds=design.bounds,
        direction="worse",
        max_pairs=600,
        last_look=design.last_look(600),
        grids={"drop": np.array([distribution])},
        residual=1e-9,
    )["drop"]
    expected = float(exact.no_difference[0])
    assert expected <= 0.05
    rng = random.Random(20)
    claims, runs = 0, 800
    for _ in range(runs):
        test = CheaperSameQualityTest(settings, cost_ratio=0.8)
        while test.verdict is None and test.pairs < 600:
            test.add_pair(rng.random() < 0.75, rng.random() < 0.60, 1.0, 0.5)
        claims += test.verdict == "cheaper_same_quality"
    assert abs(claims / runs - expected) <= 4 * 0.0084


def test_the_quality_half_uses_the_calibrated_entry_for_its_settings_and_walds_bounds_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The shipped table holds the one-sided entry at (alpha 0.05, beta 0.05), the quality half's settings at the
    defaults: it is used. A table without it gives Wald's bounds (said at start-up)."""
    from pytest_agentopt.stats import design as design_module

    settings = SequentialSettings(alpha=0.05, beta=0.1, delta=0.15)
    picked = quality_design(settings)
    assert (picked.source, picked.alpha, picked.beta) == ("calibrated", 0.05, 0.05)
    assert CheaperSameQualityTest(settings, cost_ratio=0.8).quality.design.source == "calibrated"
    shipped = design_module._table()
    without = {**shipped, "designs": [e for e in shipped["designs"] if e["beta"] != 0.05]}
    monkeypatch.setattr(design_module, "_table", lambda: without)
    assert quality_design(settings).source == "wald"
