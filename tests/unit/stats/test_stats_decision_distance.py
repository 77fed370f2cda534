"""The fewest observations before a sequential test can decide, against exhaustive enumeration."""

from __future__ import annotations

import random

import pytest

from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.stats.decision_distance import paired_margins, pairs_before_decision, trials_before_decision
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest


def earliest_paired_decision(test: PairedSequentialTest, limit: int = 80) -> int:
    """The fewest further pairs after which some running one-sided test can sit on or beyond a bound: every
    reachable count (wins, losses, ties added) is tried, nearest first."""
    wins, losses, ties = test.wins, test.losses, test.ties
    for k in range(1, limit):
        for won in range(k + 1):
            for lost in range(k + 1 - won):
                counts = (wins + won, losses + lost, ties + k - won - lost)
                margins = paired_margins(*counts, delta=test.settings.delta, test=test)
                if any(min(margin) <= 0.0 for margin in margins):
                    return k
    return limit


def random_states(direction: str, settings: SequentialSettings, seed: int) -> list[PairedSequentialTest]:
    """Copies of one seeded run's test after every third pair, until it decides or reaches 90 pairs."""
    rng = random.Random(seed)
    discordance = rng.choice([0.05, 0.15, 0.3, 0.6, 1.0])
    mean = rng.choice([-settings.delta, 0.0, settings.delta]) * min(1.0, discordance / settings.delta)
    design = design_for(settings.alpha, settings.beta, settings.delta, direction)
    outcomes: list[tuple[bool, bool]] = []
    states = []
    while len(outcomes) < 90:
        test = PairedSequentialTest(settings, direction, design)  # type: ignore[arg-type]
        for control, treated in outcomes:
            test.add_pair(control, treated)
        if test.verdict is not None:
            break
        if len(outcomes) % 3 == 0:
            states.append(test)
        draw = rng.random()
        win, loss = (discordance + mean) / 2, (discordance - mean) / 2
        outcomes.append((False, True) if draw < win else (True, False) if draw < win + loss else (True, True))
    return states


@pytest.mark.parametrize("direction", ["both", "worse", "better"])
@pytest.mark.parametrize(
    "settings", [SequentialSettings(), SequentialSettings(0.05, 0.2, 0.2)], ids=["default", "wide"]
)
def test_the_paired_distance_never_exceeds_the_exact_earliest_decision(
    direction: str, settings: SequentialSettings
) -> None:
    checked = 0
    for seed in range(6):
        for test in random_states(direction, settings, seed):
            distance = pairs_before_decision(test)
            assert distance is not None
            assert 1 <= distance <= earliest_paired_decision(test), (test.wins, test.losses, test.ties)
            checked += 1
    assert checked >= 40


def test_the_paired_distance_is_large_far_from_a_boundary_and_one_next_to_it() -> None:
    settings = SequentialSettings()
    design = design_for(0.05, 0.10, 0.15, "both")
    test = PairedSequentialTest(settings, "both", design)
    at_start = pairs_before_decision(test)
    assert at_start is not None
    assert at_start >= 5
    last = at_start
    while test.verdict is None:
        last = pairs_before_decision(test)  # type: ignore[assignment]
        test.add_pair(False, True)  # wins only: straight to "better"
    assert last == 1
    assert test.verdict == "better"
    assert pairs_before_decision(test) is None


def test_the_target_distance_is_exact() -> None:
    settings = SequentialSettings()
    test = TargetSequentialTest(0.8, settings)
    for successes in ([True] * 3 + [False]) * 2:
        distance = trials_before_decision(test)
        assert distance is not None
        # Exactly that many successes (or failures) decide; one fewer of either does not.
        assert min(_trials_until_decided(test, True), _trials_until_decided(test, False)) == distance
        test.add_trial(successes)


def _trials_until_decided(test: TargetSequentialTest, success: bool) -> int:
    copy = TargetSequentialTest(test.target, test.settings)
    for index in range(test.trials):
        copy.add_trial(index < test.successes)
    added = 0
    while copy.verdict is None:
        copy.add_trial(success)
        added += 1
    return added
