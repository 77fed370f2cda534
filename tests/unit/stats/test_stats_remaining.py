"""The further pairs (trials) to a decision from a running test's state, against brute force and the grid DP."""

from __future__ import annotations

import copy
import itertools
import math

import pytest

from pytest_agentopt.stats.design import DiscordanceBounds, PairedDesign, paired_design
from pytest_agentopt.stats.extension import outlook, running_state
from pytest_agentopt.stats.remaining import paired_remaining, target_remaining
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest
from pytest_agentopt.stats.wald import DIRECTIONS, Direction

# A large effect and loose error rates: within a few pairs the tests cross both bounds at several discordances,
# one test freezes while the other goes on, and some runs reach the cap.
SHORT = SequentialSettings(alpha=0.3, beta=0.3, delta=0.5)
BOUNDS = DiscordanceBounds(knots=(0.2, 0.6, 1.0), lower=(-1.3, -0.7, -1.1), upper=(1.2, 0.8, 1.4))
DISTRIBUTIONS = ((0.2, 0.5, 0.3), (0.35, 0.4, 0.25), (0.05, 0.9, 0.05), (0.0, 0.6, 0.4))  # (loss, tie, win)
PREFIXES = {"from the start": (), "after 3 pairs": (2, 0, 1)}  # 0: loss, 1: tie, 2: win


def _design(direction: Direction) -> PairedDesign:
    return PairedDesign(
        alpha=SHORT.alpha, beta=SHORT.beta, delta=SHORT.delta, direction=direction, bounds=BOUNDS, source="calibrated"
    )


def _add(test: PairedSequentialTest, outcome: int) -> None:
    test.add_pair(outcome != 2, outcome != 0)


def _brute_force(start: PairedSequentialTest, cap: int) -> list[list[float]]:
    """P(the test stops after exactly k more pairs), k = 0 .. cap - pairs, under each of ``DISTRIBUTIONS``, by
    feeding every continuation to a copy of the live test (a run still undecided at the cap stops there)."""
    further = cap - start.pairs
    stopping = [[0.0] * (further + 1) for _ in DISTRIBUTIONS]
    for sequence in itertools.product(range(3), repeat=further):
        test = copy.deepcopy(start)
        used = further
        for index, outcome in enumerate(sequence):
            _add(test, outcome)
            if test.verdict is not None:
                used = index + 1
                break
        for tally, distribution in zip(stopping, DISTRIBUTIONS, strict=True):
            tally[used] += math.prod(distribution[outcome] for outcome in sequence)
    return stopping


@pytest.mark.parametrize("prefix", list(PREFIXES.values()), ids=list(PREFIXES))
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_further_pairs_are_the_brute_force_distribution_of_the_live_test(
    direction: Direction, prefix: tuple[int, ...]
) -> None:
    design = _design(direction)
    start = PairedSequentialTest(SHORT, direction, design)
    for outcome in prefix:
        _add(start, outcome)
    assert start.verdict is None
    cap = start.pairs + 6
    results = paired_remaining(
        design,
        wins=start.wins,
        losses=start.losses,
        ties=start.ties,
        state=running_state(direction, dict(start.states)),
        cap_pairs=cap,
        distributions=DISTRIBUTIONS,
        floor=0.0,
        tolerance=0.0,
    )
    for result, stopping in zip(results, _brute_force(start, cap), strict=True):
        assert result.dropped == 0.0
        assert result.to_cap == 6
        assert result.expected == pytest.approx(sum(k * p for k, p in enumerate(stopping)), abs=1e-12)
        cumulative = list(itertools.accumulate(stopping))
        assert result.p95 == next(k for k, total in enumerate(cumulative) if total >= 0.95 - 1e-12)
        # Still running after the next-to-last pair: the cap ends it (decided there or not).
        assert result.reaches_cap <= stopping[-1] + 1e-12


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_pruned_dp_equals_the_grid_dp_on_the_shipped_design(direction: Direction) -> None:
    design = paired_design(0.05, 0.10, 0.15, direction)
    wins, losses, ties = 6, 4, 14
    live = PairedSequentialTest(SequentialSettings(alpha=0.05, beta=0.10, delta=0.15), direction, design)
    for outcome in [2] * wins + [0] * losses + [1] * ties:
        _add(live, outcome)
    state = running_state(direction, dict(live.states))
    cap = 150
    reference = outlook(design, wins=wins, losses=losses, ties=ties, state=state, cap_pairs=cap, residual=0.0)
    (result,) = paired_remaining(
        design,
        wins=wins,
        losses=losses,
        ties=ties,
        state=state,
        cap_pairs=cap,
        distributions=[(losses / 24, ties / 24, wins / 24)],
    )
    assert result.expected_at_most - result.expected < 0.1
    assert result.expected <= reference.expected_pairs <= result.expected_at_most + 1e-9
    assert result.p95 == reference.p95_pairs


def test_a_coarse_floor_keeps_the_exact_value_between_its_bounds() -> None:
    design = paired_design(0.05, 0.10, 0.15, "both")
    kwargs = {"wins": 3, "losses": 2, "ties": 5, "state": 0, "cap_pairs": 120, "distributions": [(0.2, 0.5, 0.3)]}
    (exact,) = paired_remaining(design, floor=0.0, tolerance=0.0, **kwargs)  # type: ignore[arg-type]
    for floor, tolerance in ((1e-4, 0.0), (0.0, 1.0), (1e-10, 0.05)):
        (coarse,) = paired_remaining(design, floor=floor, tolerance=tolerance, **kwargs)  # type: ignore[arg-type]
        assert coarse.dropped > 0.0  # the floor or the tolerance did drop mass
        assert coarse.expected <= exact.expected <= coarse.expected_at_most
        if floor == 0.0:
            assert coarse.expected_at_most - coarse.expected < tolerance


def _brute_force_target(start: TargetSequentialTest, cap: int, rate: float) -> float:
    further = cap - start.trials
    expected = 0.0
    for sequence in itertools.product((False, True), repeat=further):
        test = copy.deepcopy(start)
        used = further
        for index, success in enumerate(sequence):
            test.add_trial(success)
            if test.verdict is not None:
                used = index + 1
                break
        expected += used * math.prod(rate if success else 1.0 - rate for success in sequence)
    return expected


@pytest.mark.parametrize("rate", [0.3, 0.6, 0.9, 1.0])
def test_the_further_trials_of_a_target_test_are_the_brute_force_expectation(rate: float) -> None:
    settings = SequentialSettings(alpha=0.2, beta=0.2, delta=0.3)
    start = TargetSequentialTest(0.7, settings)
    for success in (True, False, True):
        start.add_trial(success)
    assert start.verdict is None
    cap = start.trials + 12
    result = target_remaining(
        p0=start.p0,
        p1=start.p1,
        bounds=start.bounds,
        trials=start.trials,
        successes=start.successes,
        cap_trials=cap,
        success_rate=rate,
        floor=0.0,
    )
    assert result.expected == pytest.approx(_brute_force_target(start, cap, rate), abs=1e-12)
    assert result.to_cap == 12


def test_bad_arguments_are_refused() -> None:
    design = _design("both")
    with pytest.raises(ValueError, match="cap"):
        paired_remaining(design, wins=1, losses=1, ties=1, state=0, cap_pairs=3, distributions=[(0.2, 0.5, 0.3)])
    with pytest.raises(ValueError, match="three probabilities"):
        paired_remaining(design, wins=1, losses=1, ties=1, state=0, cap_pairs=9, distributions=[(0.2, 0.5, 0.4)])
    with pytest.raises(ValueError, match="not a state"):
        paired_remaining(
            _design("worse"), wins=1, losses=1, ties=1, state=0, cap_pairs=9, distributions=[(0.2, 0.5, 0.3)]
        )
