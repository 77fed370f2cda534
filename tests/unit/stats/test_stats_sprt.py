"""Wald bounds, binomial SPRT, trinomial GSPRT (constrained MLE, LLR) and the sequential state objects."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from pytest_agentopt.stats.oc import binomial_sprt_oc
from pytest_agentopt.stats.planning import paired_outcome_probabilities
from pytest_agentopt.stats.sprt import (
    PairedSequentialTest,
    SequentialSettings,
    TargetSequentialTest,
    TestState,
    binomial_llr,
    combine_states,
    constrained_trinomial_mle,
    paired_llr,
    state_of,
    wald_bounds,
)

LOWER, UPPER = math.log(0.10 / 0.95), math.log(0.90 / 0.05)


def test_it_computes_walds_bounds() -> None:
    assert wald_bounds(0.05, 0.10) == pytest.approx((LOWER, UPPER), abs=1e-15)
    assert wald_bounds(0.05, 0.10) == pytest.approx((-2.2512918, 2.8903718), abs=1e-7)


@pytest.mark.parametrize(("alpha", "beta"), [(0.0, 0.1), (0.05, 1.0), (0.6, 0.5)])
def test_it_rejects_impossible_error_rates_for_the_bounds(alpha: float, beta: float) -> None:
    with pytest.raises(ValueError, match=r"alpha|beta"):
        wald_bounds(alpha, beta)


def test_it_computes_the_binomial_llr_from_its_definition() -> None:
    expected = 7 * math.log(0.65 / 0.5) + 3 * math.log(0.35 / 0.5)
    assert binomial_llr(7, 10, 0.5, 0.65) == pytest.approx(expected, abs=1e-14)
    assert binomial_llr(0, 0, 0.5, 0.65) == 0.0


def test_it_rejects_more_successes_than_trials() -> None:
    with pytest.raises(ValueError, match="successes"):
        binomial_llr(4, 3, 0.5, 0.6)


# --- constrained trinomial MLE ------------------------------------------------------------------------------


def _fishtest_style_mle(counts: tuple[int, int, int], mean: float) -> tuple[float, float, float]:
    """Independent method: Fishtest's Lagrange form p_i = phat_i / (1 + x (a_i - mean)), with x the root of
    the secular equation sum_i phat_i (a_i - mean) / (1 + x (a_i - mean)) = 0 (decreasing in x), by bisection.
    Needs every cell non-empty, as Fishtest does."""
    total = sum(counts)
    phat = [c / total for c in counts]
    shifted = [a - mean for a in (-1.0, 0.0, 1.0)]
    low, high = -1.0 / max(shifted) + 1e-15, -1.0 / min(shifted) - 1e-15

    def secular(x: float) -> float:
        return sum(p * a / (1.0 + x * a) for p, a in zip(phat, shifted, strict=True))

    for _ in range(300):
        middle = (low + high) / 2.0
        if secular(middle) > 0.0:
            low = middle
        else:
            high = middle
    x = (low + high) / 2.0
    return tuple(p / (1.0 + x * a) for p, a in zip(phat, shifted, strict=True))  # type: ignore[return-value]


@pytest.mark.parametrize("counts", [(1, 1, 1), (3, 10, 7), (12, 40, 5), (1, 200, 1), (9, 2, 30)])
@pytest.mark.parametrize("mean", [-0.3, -0.15, 0.0, 0.15, 0.42])
def test_it_matches_fishtests_secular_equation_mle_when_every_cell_is_observed(
    counts: tuple[int, int, int], mean: float
) -> None:
    assert constrained_trinomial_mle(counts, mean) == pytest.approx(_fishtest_style_mle(counts, mean), abs=1e-9)


def _log_likelihood(counts: tuple[int, int, int], probabilities: tuple[float, float, float]) -> float:
    return sum(c * math.log(p) for c, p in zip(counts, probabilities, strict=True) if c > 0)


@pytest.mark.parametrize(
    "counts",
    [(0, 0, 9), (9, 0, 0), (0, 9, 0), (0, 5, 3), (4, 6, 0), (2, 0, 3), (0, 1, 0), (1, 0, 0)],
)
@pytest.mark.parametrize("mean", [-0.15, 0.0, 0.15, 0.6])
def test_it_maximises_the_likelihood_with_empty_cells(counts: tuple[int, int, int], mean: float) -> None:
    mle = constrained_trinomial_mle(counts, mean)
    assert sum(mle) == pytest.approx(1.0, abs=1e-12)
    assert mle[2] - mle[0] == pytest.approx(mean, abs=1e-12)
    assert min(mle) >= 0.0
    # Brute force over the one free parameter, the discordance d in [|mean|, 1].
    best = -math.inf
    for step in range(1, 2_000):
        d = abs(mean) + (1.0 - abs(mean)) * step / 2_000
        candidate = ((d - mean) / 2.0, 1.0 - d, (d + mean) / 2.0)
        if all(p > 0 for p, c in zip(candidate, counts, strict=True) if c > 0):
            best = max(best, _log_likelihood(counts, candidate))
    assert _log_likelihood(counts, mle) >= best - 1e-9


def test_it_returns_the_boundary_mle_for_ties_only() -> None:
    assert constrained_trinomial_mle((0, 10, 0), 0.15) == pytest.approx((0.0, 0.85, 0.15), abs=1e-15)
    assert constrained_trinomial_mle((0, 10, 0), 0.0) == pytest.approx((0.0, 1.0, 0.0), abs=1e-15)


def test_it_splits_the_discordant_pairs_evenly_under_no_difference() -> None:
    assert constrained_trinomial_mle((3, 10, 7), 0.0) == pytest.approx((0.25, 0.5, 0.25), abs=1e-15)


def test_it_never_returns_nan_on_extreme_counts() -> None:
    for counts in itertools.product([0, 1, 10**9], repeat=3):
        if sum(counts) == 0:
            continue
        for mean in (-0.999, -0.15, 0.0, 1e-12, 0.15, 0.999):
            mle = constrained_trinomial_mle(counts, mean)  # type: ignore[arg-type]
            assert all(math.isfinite(p) and p >= 0.0 for p in mle)


def test_it_rejects_counts_without_data_and_means_outside_the_range() -> None:
    with pytest.raises(ValueError, match="zero"):
        constrained_trinomial_mle((0, 0, 0), 0.1)
    with pytest.raises(ValueError, match="mean"):
        constrained_trinomial_mle((1, 1, 1), 1.0)
    with pytest.raises(ValueError, match="counts"):
        constrained_trinomial_mle((-1, 1, 1), 0.0)


# --- generalized LLR ----------------------------------------------------------------------------------------


def test_it_computes_the_llr_as_n_times_the_expected_log_ratio() -> None:
    # Fishtest: LLR = N * sum_x phat(x) log(p1(x) / p0(x)).
    wins, losses, ties = 7, 3, 10
    counts = (losses, ties, wins)
    p0, p1 = _fishtest_style_mle(counts, 0.0), _fishtest_style_mle(counts, 0.15)
    n = sum(counts)
    expected = n * sum(c / n * math.log(b / a) for c, a, b in zip(counts, p0, p1, strict=True))
    assert paired_llr(wins, losses, ties, 0.0, 0.15) == pytest.approx(expected, abs=1e-9)


def test_it_gives_hand_computed_llrs_for_one_sided_streams() -> None:
    # All wins: p(W) = 0.575 under mean 0.15 and 0.5 under mean 0; all ties: p(Z) = 0.85 against 1.
    assert paired_llr(5, 0, 0, 0.0, 0.15) == pytest.approx(5 * math.log(1.15), abs=1e-12)
    assert paired_llr(0, 0, 5, 0.0, 0.15) == pytest.approx(5 * math.log(0.85), abs=1e-12)
    assert paired_llr(0, 5, 0, 0.0, -0.15) == pytest.approx(5 * math.log(1.15), abs=1e-12)


def test_it_is_antisymmetric_in_the_hypotheses_and_zero_without_pairs() -> None:
    assert paired_llr(4, 9, 2, 0.0, 0.15) == pytest.approx(-paired_llr(4, 9, 2, 0.15, 0.0), abs=1e-12)
    assert paired_llr(0, 0, 0, 0.0, 0.15) == 0.0


# --- settings -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 0.5}, "alpha"),
        ({"beta": -0.1}, "beta"),
        ({"beta": 0.5}, "beta"),
        ({"delta": 0.0}, "delta"),
        ({"delta": 1.0}, "delta"),
    ],
)
def test_it_rejects_out_of_range_settings_naming_the_parameter(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        SequentialSettings(**kwargs)


def test_it_defaults_to_the_users_numbers() -> None:
    settings = SequentialSettings()
    assert (settings.alpha, settings.beta, settings.delta) == (0.05, 0.10, 0.15)


# --- one-sided states and their combination ---------------------------------------------------------------


def test_it_reads_a_one_sided_tests_state_from_its_llr_with_the_bounds_inclusive() -> None:
    assert state_of(UPPER, (LOWER, UPPER)) == "accepted_h1"
    assert state_of(LOWER, (LOWER, UPPER)) == "accepted_h0"
    assert state_of(math.nextafter(UPPER, 0.0), (LOWER, UPPER)) == "running"
    assert state_of(math.nextafter(LOWER, 0.0), (LOWER, UPPER)) == "running"
    # agentopt sprt --pairs 10,2,18: the regression test has settled "not worse", the improvement test has not.
    assert state_of(paired_llr(10, 2, 18, 0.0, -0.15), (LOWER, UPPER)) == "accepted_h0"
    assert state_of(paired_llr(10, 2, 18, 0.0, 0.15), (LOWER, UPPER)) == "running"


# (improvement state, regression state) -> verdict of the two-sided question: either H1 decides at once (the
# improvement test is read first), "no_difference" needs both H0s.
BOTH_QUESTIONS: dict[tuple[TestState, TestState], str | None] = {
    ("running", "running"): None,
    ("running", "accepted_h0"): None,
    ("running", "accepted_h1"): "worse",
    ("accepted_h0", "running"): None,
    ("accepted_h0", "accepted_h0"): "no_difference",
    ("accepted_h0", "accepted_h1"): "worse",
    ("accepted_h1", "running"): "better",
    ("accepted_h1", "accepted_h0"): "better",
    ("accepted_h1", "accepted_h1"): "better",
}


@pytest.mark.parametrize(("improvement", "regression"), list(BOTH_QUESTIONS))
def test_it_combines_the_two_states_into_the_verdict_of_each_question(
    improvement: TestState, regression: TestState
) -> None:
    assert combine_states(improvement, regression, "both") == BOTH_QUESTIONS[improvement, regression]
    # The one-sided questions read only their own test.
    one_sided_better = {"running": None, "accepted_h0": "not_better", "accepted_h1": "better"}
    one_sided_worse = {"running": None, "accepted_h0": "not_worse", "accepted_h1": "worse"}
    assert combine_states(improvement, regression, "better") == one_sided_better[improvement]
    assert combine_states(improvement, regression, "worse") == one_sided_worse[regression]


# --- paired sequential test ---------------------------------------------------------------------------------


def _feed(test: PairedSequentialTest, outcome: str, times: int) -> None:
    control, treated = {"win": (False, True), "loss": (True, False), "tie": (True, True)}[outcome]
    for _ in range(times):
        test.add_pair(control, treated)


def test_it_declares_better_at_the_first_crossing_of_the_upper_bound() -> None:
    # 20 * log(1.15) = 2.795 < 2.890 <= 21 * log(1.15) = 2.935
    test = PairedSequentialTest(SequentialSettings())
    _feed(test, "win", 20)
    assert test.verdict is None
    _feed(test, "win", 1)
    assert test.verdict == "better"
    assert test.pairs == 21
    assert test.llr["better"] == pytest.approx(21 * math.log(1.15), abs=1e-12)


def test_it_declares_no_difference_when_both_tests_accept_their_null() -> None:
    # 13 * log(0.85) = -2.113 > -2.251 >= 14 * log(0.85) = -2.275, for both directions at once.
    test = PairedSequentialTest(SequentialSettings())
    _feed(test, "tie", 13)
    assert test.verdict is None
    _feed(test, "tie", 1)
    assert test.verdict == "no_difference"


def test_it_declares_worse_after_the_improvement_test_has_accepted_its_null() -> None:
    test = PairedSequentialTest(SequentialSettings())
    _feed(test, "loss", 14)  # improvement: 14 log(0.85) <= lower bound; regression: 14 log(1.15) = 1.96
    assert test.snapshot()["tests"] == {"better": "accepted_h0", "worse": "running"}
    assert test.verdict is None
    _feed(test, "loss", 7)  # regression: 21 log(1.15) >= upper bound
    assert test.verdict == "worse"
    assert test.pairs == 21


def test_it_freezes_a_test_that_accepted_its_null() -> None:
    test = PairedSequentialTest(SequentialSettings())
    _feed(test, "loss", 14)
    frozen = test.llr["better"]
    while test.verdict is None:
        _feed(test, "win", 1)
    # Unfrozen, the improvement test would now favour +delta; frozen, the run ends with no difference.
    assert paired_llr(test.wins, test.losses, test.ties, 0.0, 0.15) > LOWER
    assert test.verdict == "no_difference"
    assert test.llr["better"] == frozen


def test_it_ignores_pairs_after_the_decision() -> None:
    test = PairedSequentialTest(SequentialSettings())
    _feed(test, "win", 21)
    snapshot = test.snapshot()
    _feed(test, "loss", 50)
    assert test.snapshot() == snapshot


def test_it_tracks_the_llr_of_both_directions_from_the_counts() -> None:
    rng = np.random.default_rng(3)
    test = PairedSequentialTest(SequentialSettings(alpha=0.01, beta=0.01, delta=0.05))
    for control, treated in rng.integers(0, 2, size=(60, 2)).tolist():
        test.add_pair(bool(control), bool(treated))
        if test.verdict is not None:
            break
        assert test.wins + test.losses + test.ties == test.pairs
        assert test.llr == pytest.approx(
            {
                "better": paired_llr(test.wins, test.losses, test.ties, 0.0, 0.05),
                "worse": paired_llr(test.wins, test.losses, test.ties, 0.0, -0.05),
            },
            abs=1e-12,
        )


def test_it_snapshots_plain_json_able_state() -> None:
    test = PairedSequentialTest(SequentialSettings())
    _feed(test, "win", 3)
    _feed(test, "tie", 2)
    snapshot = json.loads(json.dumps(test.snapshot()))
    assert snapshot["pairs"] == 5
    assert (snapshot["wins"], snapshot["losses"], snapshot["ties"]) == (3, 0, 2)
    assert snapshot["verdict"] is None
    assert snapshot["bounds"] == pytest.approx([LOWER, UPPER])
    assert set(snapshot["llr"]) == {"better", "worse"}
    assert test.bounds == pytest.approx((LOWER, UPPER))


def _one_sided_improvement_run(rng: np.random.Generator, probabilities: tuple[float, float, float]) -> tuple[int, bool]:
    """The improvement GSPRT alone: (pairs used, accepted H1)."""
    wins = losses = ties = 0
    for outcome in rng.choice(3, size=5000, p=probabilities).tolist():
        wins += outcome == 2
        losses += outcome == 0
        ties += outcome == 1
        llr = paired_llr(wins, losses, ties, 0.0, 0.15)
        if llr >= UPPER or llr <= LOWER:
            return wins + losses + ties, llr >= UPPER
    raise AssertionError("no decision in 5000 pairs")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spread", "asn_h0", "asn_h1", "alpha_max", "beta_range"),
    [
        # Ranges around the exact DP of Wald's constant bounds (docs/statistics.md): 89.3 / 97.6 pairs, alpha
        # 0.0483, beta 0.0958.
        (0.0, (88.0, 90.0), (97.0, 99.0), 0.05, (0.09, 0.10)),
        # With sigma = 2: 56.5 / 62.4 pairs, alpha 0.0514 (within the Monte Carlo slack of 0.05), beta 0.1037.
        (2.0, (55.0, 57.0), (62.0, 63.0), 0.05, (0.10, 0.115)),
    ],
)
def test_it_reproduces_the_reference_figures_of_the_one_sided_paired_gsprt(
    spread: float,
    asn_h0: tuple[float, float],
    asn_h1: tuple[float, float],
    alpha_max: float,
    beta_range: tuple[float, float],
) -> None:
    # 6000 seeded runs per hypothesis; every range is widened by 3 Monte Carlo standard errors.
    runs = 6000
    rng = np.random.default_rng(2024 + int(spread))
    null = paired_outcome_probabilities(0.60, 0.60, spread)
    alternative = paired_outcome_probabilities(0.60, 0.75, spread)
    under_h0 = np.array([_one_sided_improvement_run(rng, null) for _ in range(runs)], dtype=float)
    under_h1 = np.array([_one_sided_improvement_run(rng, alternative) for _ in range(runs)], dtype=float)
    for pairs, (low, high) in ((under_h0[:, 0], asn_h0), (under_h1[:, 0], asn_h1)):
        se = pairs.std() / math.sqrt(runs)
        assert low - 3 * se <= pairs.mean() <= high + 3 * se
    alpha = under_h0[:, 1].mean()
    beta = 1.0 - under_h1[:, 1].mean()
    assert alpha <= alpha_max + 3 * math.sqrt(alpha_max * (1 - alpha_max) / runs)
    beta_se = math.sqrt(beta_range[1] * (1 - beta_range[1]) / runs)
    assert beta_range[0] - 3 * beta_se <= beta <= beta_range[1] + 3 * beta_se


# --- target sequential test ---------------------------------------------------------------------------------


def test_it_orients_the_target_test_with_meets_target_as_h1() -> None:
    test = TargetSequentialTest(0.65, SequentialSettings())
    assert (test.p0, test.p1) == pytest.approx((0.50, 0.65))
    # log(0.65/0.5) = 0.2624 per success: 11 successes give 2.886 < 2.890, 12 give 3.148.
    for _ in range(11):
        test.add_trial(True)
    assert test.verdict is None
    test.add_trial(True)
    assert test.verdict == "meets_target"
    assert test.trials == test.successes == 12


def test_it_declares_below_target_on_failures() -> None:
    # log(0.35/0.5) = -0.3567 per failure: 6 give -2.140 > -2.251, 7 give -2.497.
    test = TargetSequentialTest(0.65, SequentialSettings())
    for _ in range(6):
        test.add_trial(False)
    assert test.verdict is None
    test.add_trial(False)
    assert test.verdict == "below_target"
    test.add_trial(True)
    assert (test.trials, test.successes) == (7, 0)


def test_it_tracks_the_binomial_llr_and_snapshots_it() -> None:
    test = TargetSequentialTest(0.9, SequentialSettings(delta=0.05), bounds=(-9.0, 9.0))
    outcomes = [True, True, False, True, False, True, True]
    for outcome in outcomes:
        test.add_trial(outcome)
    assert test.llr == pytest.approx(binomial_llr(5, 7, 0.85, 0.9), abs=1e-12)
    assert test.bounds == (-9.0, 9.0)
    snapshot = json.loads(json.dumps(test.snapshot()))
    assert (snapshot["trials"], snapshot["successes"], snapshot["verdict"]) == (7, 5, None)


@pytest.mark.parametrize("target", [0.1, 0.15, 1.0, 0.0])
def test_it_rejects_a_target_without_room_for_the_effect(target: float) -> None:
    with pytest.raises(ValueError, match="target"):
        TargetSequentialTest(target, SequentialSettings())


def test_it_rejects_bounds_that_do_not_straddle_zero() -> None:
    with pytest.raises(ValueError, match="bounds"):
        TargetSequentialTest(0.8, SequentialSettings(), bounds=(0.5, 2.0))


def test_it_agrees_with_the_exact_operating_characteristic_in_simulation() -> None:
    # 3000 seeded runs at the true rate p0 = 0.50 (target 0.65): the DP gives alpha = 0.0450 and ASN = 45.73.
    # Tolerances: 3 Monte Carlo SE, sqrt(0.045 0.955 / 3000) = 0.0038 for alpha, sd(N)/sqrt(3000) for the ASN.
    exact = binomial_sprt_oc(0.5, 0.5, 0.65, 0.05, 0.10)
    rng = np.random.default_rng(99)
    runs = 3000
    met = 0
    used = []
    for _ in range(runs):
        test = TargetSequentialTest(0.65, SequentialSettings())
        for success in (rng.random(2000) < 0.5).tolist():
            test.add_trial(success)
            if test.verdict is not None:
                break
        met += test.verdict == "meets_target"
        used.append(test.trials)
    assert abs(met / runs - exact.accept_h1) <= 3 * math.sqrt(exact.accept_h1 * (1 - exact.accept_h1) / runs)
    assert abs(np.mean(used) - exact.asn) <= 3 * np.std(used) / math.sqrt(runs)
