"""Extending an undecided run: the DP from a run's state and with an intermediate look, against brute force."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest

from pytest_agentopt.stats.design import paired_design
from pytest_agentopt.stats.extension import extended_error_rates, outlook, running_state
from pytest_agentopt.stats.gsprt_dp import lattice_dp, trinomial_grid
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings

DESIGN = paired_design(0.05, 0.10, 0.15, "both")
SETTINGS = SequentialSettings(alpha=0.05, beta=0.10, delta=0.15)
OUTCOMES = ((False, False), (False, True), (True, False))  # tie, win, loss (control, test)


def _live(prefix: list[tuple[bool, bool]]) -> PairedSequentialTest:
    test = PairedSequentialTest(SETTINGS, "both", DESIGN)
    for control, treated in prefix:
        test.add_pair(control, treated)
    assert test.verdict is None
    return test


def _brute_force_further_pairs(start: PairedSequentialTest, cap: int, p: dict[str, float]) -> tuple[float, float]:
    """E[further pairs] and P(claim) by enumerating every continuation through the live test."""
    expected = decided = 0.0
    further = cap - start.pairs
    for sequence in itertools.product(OUTCOMES, repeat=further):
        test = copy.deepcopy(start, {id(DESIGN): DESIGN})
        probability = 1.0
        used = 0
        for control, treated in sequence:
            probability *= p["win"] if treated > control else p["loss"] if control > treated else p["tie"]
            test.add_pair(control, treated)
            used += 1
            if test.verdict is not None:
                break
        if test.verdict is None:
            test.conclude()
        # Sequences that stopped early are counted once per continuation: divide by the paths they stand for.
        weight = 3.0 ** (further - used)
        expected += probability * used / weight
        decided += probability * (test.verdict is not None) / weight
    return expected, decided


def test_the_outlook_from_a_runs_state_is_the_brute_force_expectation() -> None:
    prefix = [(False, True)] * 3 + [(True, False)] * 2 + [(False, False)] * 5
    start = _live(prefix)
    state = running_state("both", dict(start.states))
    cap = start.pairs + 8
    result = outlook(DESIGN, wins=3, losses=2, ties=5, state=state, cap_pairs=cap, residual=0.0)
    p = {"win": 0.3, "loss": 0.2, "tie": 0.5}
    expected, decided = _brute_force_further_pairs(start, cap, p)
    assert result.expected_pairs == pytest.approx(expected, abs=1e-12)
    assert result.decided == pytest.approx(decided, abs=1e-12)


def test_an_intermediate_look_is_the_extended_procedure() -> None:
    # Run to 4 pairs, take that cap's last look; undecided runs go on to 8 pairs and that cap's look.
    first, last = 4, 8
    distribution = np.array([[0.2, 0.45, 0.35]])
    result = lattice_dp(
        delta=0.15,
        bounds=DESIGN.bounds,
        direction="both",
        max_pairs=last,
        grids={"one": distribution},
        last_look=DESIGN.last_look(last),
        interim_look=(first, DESIGN.last_look(first)),  # type: ignore[arg-type]
    )["one"]
    probability = {OUTCOMES[0]: 0.45, OUTCOMES[1]: 0.35, OUTCOMES[2]: 0.2}
    claims = {"better": 0.0, "worse": 0.0, "no_difference": 0.0}
    for sequence in itertools.product(OUTCOMES, repeat=last):
        test = PairedSequentialTest(SETTINGS, "both", DESIGN)
        for n, pair in enumerate(sequence, start=1):
            test.add_pair(*pair)
            if test.verdict is None and n == first:
                look = copy.deepcopy(test, {id(DESIGN): DESIGN})
                if look.conclude() is not None:
                    test = look
            if test.verdict is not None:
                break
        if test.verdict is None:
            test.conclude()
        if test.verdict is not None:
            claims[test.verdict] += math.prod(probability[pair] for pair in sequence)
    for outcome, mass in claims.items():
        assert getattr(result, outcome)[0] == pytest.approx(mass, abs=1e-12)


def test_extending_after_an_undecided_look_costs_error_rate() -> None:
    # The extended procedure is not either cap's design: with a first cap of 12 pairs its false claims exceed
    # alpha (the first look's claims add to the larger design's), and the sum of the two caps' bounds it.
    rates = extended_error_rates(DESIGN, first_cap=12, new_cap=200)
    first, last = DESIGN.at_cap(12), DESIGN.at_cap(200)
    assert first is not None
    assert last is not None
    assert rates.alpha > DESIGN.alpha
    assert rates.alpha <= first.alpha + last.alpha + 1e-9
    assert rates.beta <= first.beta + last.beta + 1e-9
    grid = trinomial_grid([0.5], 0.0)
    assert grid.shape == (1, 3)
