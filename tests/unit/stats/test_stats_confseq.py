"""The hedged-capital betting confidence sequence (Waudby-Smith & Ramdas 2023)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pytest_agentopt.stats.confseq import (
    betting_confidence_sequence,
    hedged_capital,
    mean_with_confidence_sequence,
)

LOG10 = math.log(10.0)


def test_it_computes_the_hedged_capital_by_hand() -> None:
    # Data 1, 0, 1 on [0, 1], candidate m = 0.25, alpha = 0.05. Clipping c = 1/2 caps the bets at
    # c/m = 2 (upward gambler) and c/(1-m) = 2/3 (downward gambler). The predictable plug-in bets
    # sqrt(2 log(2/alpha) / (sigma2_{t-1} t log(1+t))) are, with sigma2_0 = 1/4,
    # sigma2_1 = (1/4 + (1 - 3/4)^2)/2 = 0.15625 and sigma2_2 = (1/4 + 1/16 + (0 - 1/2)^2)/3 = 0.1875:
    # t=1: sqrt(7.3778 / 0.17329) = 6.525; t=2: sqrt(7.3778 / 0.34331) = 4.636;
    # t=3: sqrt(7.3778 / 0.77972) = 3.076, all above both caps, so the bets are 2 (up) and 2/3 (down)
    # throughout. With y - m = 3/4, -1/4, 3/4:
    #   K+ = 1 + 2(3/4) = 2.5,     2.5 (1 - 2/4) = 1.25,      1.25 (2.5) = 3.125
    #   K- = 1 - (2/3)(3/4) = 0.5, 0.5 (1 + 1/6) = 0.58333,   0.58333 (0.5) = 0.29167
    #   hedged max(K+/2, K-/2) = 1.25, 0.625, 1.5625
    bets = [
        math.sqrt(2 * math.log(40) / (s2 * t * math.log(1 + t))) for t, s2 in ((1, 0.25), (2, 0.15625), (3, 0.1875))
    ]
    assert bets == pytest.approx([6.525, 4.636, 3.076], abs=1e-3)
    assert hedged_capital([1.0, 0.0, 1.0], 0.25, 0.0, 1.0, alpha=0.05) == pytest.approx(
        [1.25, 0.625, 1.5625], rel=1e-12
    )
    # Never rejected (1.5625 < 1/alpha = 20), so 0.25 is inside the confidence sequence.
    lower, upper = betting_confidence_sequence([1.0, 0.0, 1.0], 0.0, 1.0)
    assert lower < 0.25 < upper


def test_it_rescales_observations_to_the_unit_interval() -> None:
    on_unit = hedged_capital([1.0, 0.5, 0.75], 0.6, 0.0, 1.0)
    on_pairs = hedged_capital([1.0, 0.0, 0.5], 0.2, -1.0, 1.0)
    assert on_pairs == pytest.approx(on_unit, rel=1e-12)


def test_it_reports_limits_where_the_capital_crosses_one_over_alpha() -> None:
    rng = np.random.default_rng(41)
    xs = rng.choice([-1.0, 0.0, 1.0], size=150, p=[0.15, 0.55, 0.30]).tolist()
    lower, upper = betting_confidence_sequence(xs, -1.0, 1.0)
    assert -1.0 < lower < upper < 1.0
    # The reported limit is the excluded end of a bracket at most 5e-4 wide: the running maximum of the
    # capital has reached 1/alpha at the limit, and not 5e-4 further in.
    assert max(hedged_capital(xs, lower, -1.0, 1.0)) >= 20.0
    assert max(hedged_capital(xs, upper, -1.0, 1.0)) >= 20.0
    assert max(hedged_capital(xs, lower + 5e-4, -1.0, 1.0)) < 20.0
    assert max(hedged_capital(xs, upper - 5e-4, -1.0, 1.0)) < 20.0


@pytest.mark.parametrize("seed", [1, 2])
def test_it_contains_every_candidate_that_was_never_rejected(seed: int) -> None:
    # Brute force over 1001 candidates on [-log 10, log 10]: every candidate whose capital never reached
    # 1/alpha lies inside the reported interval, and candidates within 1e-3 inside each limit are included
    # (so the reported limits are within 1e-3 of the exact ones).
    rng = np.random.default_rng(seed)
    xs = np.clip(rng.normal(0.1, 0.8, size=int(rng.integers(20, 300))), -LOG10, LOG10).tolist()
    lower, upper = betting_confidence_sequence(xs, -LOG10, LOG10)
    for candidate in np.linspace(-LOG10, LOG10, 1001).tolist():
        if max(hedged_capital(xs, candidate, -LOG10, LOG10)) < 20.0:
            assert lower <= candidate <= upper
    assert max(hedged_capital(xs, lower + 1e-3, -LOG10, LOG10)) < 20.0
    assert max(hedged_capital(xs, upper - 1e-3, -LOG10, LOG10)) < 20.0


def test_it_returns_the_whole_range_without_observations() -> None:
    assert betting_confidence_sequence([], -1.0, 1.0) == (-1.0, 1.0)


def test_it_rejects_observations_outside_the_range() -> None:
    with pytest.raises(ValueError, match="observation"):
        betting_confidence_sequence([0.5, 1.5], 0.0, 1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        betting_confidence_sequence([0.5], 1.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        betting_confidence_sequence([0.5], 0.0, 1.0, alpha=1.0)


def test_it_shrinks_as_observations_accumulate() -> None:
    rng = np.random.default_rng(5)
    xs = rng.choice([-1.0, 0.0, 1.0], size=1600, p=[0.15, 0.55, 0.30]).tolist()
    widths = []
    for n in (25, 100, 400, 1600):
        lower, upper = betting_confidence_sequence(xs[:n], -1.0, 1.0)
        assert lower <= 0.15 <= upper
        widths.append(upper - lower)
    assert widths == sorted(widths, reverse=True)
    # Roughly sqrt(log log n / n): each quadrupling of n at least narrows it by a third.
    assert all(later < 0.67 * earlier for earlier, later in itertools.pairwise(widths))


def test_it_covers_a_degenerate_sample_at_its_value() -> None:
    lower, upper = betting_confidence_sequence([0.3] * 200, 0.0, 1.0)
    assert lower < 0.3 < upper
    assert upper - lower < 0.2


def test_it_summarises_for_reports() -> None:
    summary = mean_with_confidence_sequence([1.0, 0.0, 1.0, 1.0], -1.0, 1.0, alpha=0.05)
    assert summary["estimate"] == 0.75
    assert summary["n"] == 4
    assert summary["lower"] == betting_confidence_sequence([1.0, 0.0, 1.0, 1.0], -1.0, 1.0)[0]
    assert summary["method"] == "time-uniform 95% confidence sequence (betting, Waudby-Smith & Ramdas 2023)"
    assert "90%" in str(mean_with_confidence_sequence([0.0], -1.0, 1.0, alpha=0.1)["method"])


def _ever_excludes_the_truth(xs: list[float], truth: float, lo: float, hi: float) -> bool:
    # The CS at time t is {m : K_s(m) < 1/alpha for all s <= t}: the truth is ever excluded exactly when the
    # capital process at the truth ever reaches 1/alpha.
    return max(hedged_capital(xs, truth, lo, hi)) >= 20.0


def _uniform_miscoverage(runs: int, length: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    effect_misses = sum(
        _ever_excludes_the_truth(rng.choice([-1.0, 0.0, 1.0], size=length, p=[0.15, 0.55, 0.30]).tolist(), 0.15, -1, 1)
        for _ in range(runs)
    )
    # Log cost ratio stand-in with a known mean: 2 log 10 * Beta(2, 5) - log 10.
    truth = -LOG10 + 2 * LOG10 * 2 / 7
    ratio_misses = sum(
        _ever_excludes_the_truth((-LOG10 + 2 * LOG10 * rng.beta(2, 5, size=length)).tolist(), truth, -LOG10, LOG10)
        for _ in range(runs)
    )
    return effect_misses / runs, ratio_misses / runs


def test_it_covers_uniformly_over_time_in_a_seeded_simulation() -> None:
    # 2000 runs x 300 observations. Ville's inequality bounds the fraction of runs whose CS *ever* excludes
    # the truth by alpha = 0.05; the observed count is then at most Binomial(2000, 0.05), whose SE is
    # sqrt(0.05 * 0.95 / 2000) = 0.0049, so alpha + 3 SE = 0.0646 is exceeded with probability < 0.2 % if the
    # method is valid. (Betting CSs are conservative: the observed rate is far below alpha.)
    effect, ratio = _uniform_miscoverage(runs=2000, length=300, seed=2023)
    assert effect <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 2000)
    assert ratio <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 2000)


def _stopped_when_the_naive_interval_misses(rng: np.random.Generator, length: int) -> tuple[list[float], bool]:
    """Adversarial optional stopping: the first n >= 10 where the naive 95% z-interval excludes 0.15."""
    xs = rng.choice([-1.0, 0.0, 1.0], size=length, p=[0.15, 0.55, 0.30])
    n = np.arange(1, length + 1)
    mean = np.cumsum(xs) / n
    sd = np.sqrt(np.maximum(np.cumsum(xs * xs) / n - mean**2, 1e-12))
    misses = (np.abs(mean - 0.15) > 1.96 * sd / np.sqrt(n)) & (n >= 10)
    stop = int(np.argmax(misses)) + 1 if misses.any() else length
    return xs[:stop].tolist(), bool(misses.any())


def _stopped_miscoverage(runs: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    naive_misses = cs_misses = 0
    for _ in range(runs):
        xs, naive_missed = _stopped_when_the_naive_interval_misses(rng, 300)
        naive_misses += naive_missed
        lower, upper = betting_confidence_sequence(xs, -1.0, 1.0)
        cs_misses += not lower <= 0.15 <= upper
    return naive_misses / runs, cs_misses / runs


def test_it_stays_valid_when_stopped_to_make_the_naive_interval_miss() -> None:
    # 300 seeded runs. Stopping as soon as the naive interval excludes the truth makes it miss far more often
    # than 5 %; the CS evaluated at that same stopping time must still miss at most alpha (+ 3 SE = 0.038).
    naive, confidence_sequence = _stopped_miscoverage(runs=300, seed=17)
    assert naive > 0.2
    assert confidence_sequence <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 300)


@pytest.mark.slow
def test_it_stays_valid_under_adversarial_stopping_in_a_large_simulation() -> None:
    # 3000 runs: 3 SE = 0.012.
    naive, confidence_sequence = _stopped_miscoverage(runs=3000, seed=18)
    assert naive > 0.2
    assert confidence_sequence <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 3000)
