"""The grid DP (path counting over the lattice) against the live test, the earlier DP and exact arithmetic."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pytest_agentopt.stats.design import CapFigures, DiscordanceBounds, PairedDesign
from pytest_agentopt.stats.gsprt_dp import bounds_on_lattice, lattice_dp, trinomial_grid
from pytest_agentopt.stats.paired_oc import paired_test_oc
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings
from pytest_agentopt.stats.wald import DIRECTIONS, Direction

# Loose error rates, a large effect and bounds that move with the observed discordance make every kind of path
# appear within eight pairs: crossings of either bound at different discordances, one test freezing while the
# other goes on, and a last look at the cap that claims H1, claims H0 or stays undecided.
SHORT = SequentialSettings(alpha=0.3, beta=0.3, delta=0.5)
CAP = 8
BOUNDS = DiscordanceBounds(knots=(0.2, 0.6, 1.0), lower=(-1.3, -0.7, -1.1), upper=(1.2, 0.8, 1.4))
LAST_LOOK = (-0.15, 0.25)
DISTRIBUTIONS = ((0.2, 0.5, 0.3), (0.35, 0.4, 0.25), (0.05, 0.9, 0.05))  # (loss, tie, win)


def _design(direction: Direction, last_look: tuple[float, float] | None) -> PairedDesign:
    caps: tuple[CapFigures, ...] = ()
    if last_look is not None:
        # Only the cap's entry matters to the live test: thresholds for a run that ends after CAP pairs.
        caps = tuple(
            CapFigures(pairs=n, accept_h0=last_look[0], accept_h1=last_look[1], alpha=0.0, beta=0.0, miss=0.0)
            for n in range(1, CAP + 1)
        )
    return PairedDesign(
        alpha=SHORT.alpha,
        beta=SHORT.beta,
        delta=SHORT.delta,
        direction=direction,
        bounds=BOUNDS,
        source="calibrated",
        caps=caps,
    )


def _enumerate(
    direction: Direction, last_look: tuple[float, float] | None
) -> list[tuple[dict[str | None, float], list[float]]]:
    """Every one of the 3^8 outcome sequences through the live test (ended with ``conclude`` at the cap), weighted
    exactly under each of ``DISTRIBUTIONS``: per distribution, the verdicts' and the stopping probabilities."""
    tallies: list[tuple[dict[str | None, float], list[float]]] = [({}, [0.0] * (CAP + 1)) for _ in DISTRIBUTIONS]
    design = _design(direction, last_look)
    for sequence in itertools.product(range(3), repeat=CAP):  # 0: loss, 1: tie, 2: win
        test = PairedSequentialTest(SHORT, direction, design)
        for outcome in sequence:
            test.add_pair(outcome != 2, outcome != 0)
            if test.verdict is not None:
                break
        if test.verdict is None:
            test.conclude()
        used = sequence[: test.pairs]  # the outcomes after the decision never happen: sum them out
        for (verdicts, stopping), probabilities in zip(tallies, DISTRIBUTIONS, strict=True):
            weight = math.prod(probabilities[outcome] for outcome in sequence)
            verdicts[test.verdict] = verdicts.get(test.verdict, 0.0) + weight
            stopping[len(used)] += weight
    return tallies


@pytest.mark.parametrize("last_look", [None, LAST_LOOK], ids=["no-last-look", "last-look"])
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_grid_dp_equals_a_brute_force_enumeration_of_the_live_test(
    direction: Direction, last_look: tuple[float, float] | None
) -> None:
    results = lattice_dp(
        delta=SHORT.delta,
        bounds=BOUNDS,
        direction=direction,
        max_pairs=CAP,
        grids={"g": np.array(DISTRIBUTIONS)},
        last_look=last_look,
    )["g"]
    accepted_h0 = {"both": "no_difference", "better": "not_better", "worse": "not_worse"}[direction]
    for index, (verdicts, stopping) in enumerate(_enumerate(direction, last_look)):
        assert set(verdicts) <= {"better", "worse", accepted_h0, None}
        assert results.better[index] == pytest.approx(verdicts.get("better", 0.0), abs=1e-12)
        assert results.worse[index] == pytest.approx(verdicts.get("worse", 0.0), abs=1e-12)
        assert results.no_difference[index] == pytest.approx(verdicts.get(accepted_h0, 0.0), abs=1e-12)
        assert results.undecided[index] == pytest.approx(verdicts.get(None, 0.0), abs=1e-12)
        assert list(results.stopping_of(index)) == pytest.approx(stopping, abs=1e-12)
    if last_look is not None:
        # The last look claims on some paths and leaves others undecided: both kinds are exercised.
        without = lattice_dp(
            delta=SHORT.delta, bounds=BOUNDS, direction=direction, max_pairs=CAP, grids={"g": np.array(DISTRIBUTIONS)}
        )["g"]
        assert np.all(results.undecided > 0.0)
        assert np.all(results.undecided < without.undecided / 1.5)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_with_walds_constant_bounds_it_equals_the_one_distribution_dp(direction: Direction) -> None:
    settings = SequentialSettings()
    lower, upper = settings.bounds
    distributions = [(0.24, 0.52, 0.24), (0.3, 0.55, 0.15), (0.05, 0.75, 0.2)]
    grid = lattice_dp(
        delta=0.15,
        bounds=DiscordanceBounds.constant(lower, upper),
        direction=direction,
        max_pairs=150,
        grids={"g": np.array(distributions)},
    )["g"]
    for index, probabilities in enumerate(distributions):
        single = paired_test_oc(probabilities, alpha=0.05, beta=0.10, delta=0.15, max_pairs=150, direction=direction)
        assert grid.better[index] == pytest.approx(single.better, abs=1e-12)
        assert grid.worse[index] == pytest.approx(single.worse, abs=1e-12)
        # paired_oc stops propagating once less than 1e-10 of the probability still runs (this DP runs to the
        # cap), so the two agree to about that.
        assert grid.no_difference[index] == pytest.approx(single.no_difference, abs=1e-9)
        assert grid.asn[index] == pytest.approx(single.asn, abs=1e-6)


def test_every_path_is_accounted_for() -> None:
    # Path counts in logarithms: the probabilities of a 250-pair run add up to 1 at every discordance.
    grid = trinomial_grid(np.linspace(0.05, 1.0, 20), 0.0)
    result = lattice_dp(
        delta=0.15, bounds=DiscordanceBounds.constant(-2.25, 2.89), direction="both", max_pairs=250, grids={"g": grid}
    )["g"]
    total = result.better + result.worse + result.no_difference + result.undecided
    assert np.abs(total - 1.0).max() < 1e-12
    assert np.abs(np.sum(result.stopping, axis=0) - 1.0).max() < 1e-12


def test_the_lattice_bounds_are_bit_identical_to_the_live_bounds() -> None:
    # Same arithmetic in the same order: the DP and the live test compare the LLR with the very same float.
    bounds = DiscordanceBounds(
        knots=(0.05, 0.1, 0.3, 1.0), lower=(-2.3, -2.41, -2.2, -2.19), upper=(2.9, 3.1, 2.95, 2.89)
    )
    for n in range(1, 120):
        discordant = np.arange(n + 1, dtype=float)
        lower, upper = bounds_on_lattice(bounds, discordant, n)
        live = [bounds.at(k / n) for k in range(n + 1)]
        assert lower.tolist() == [low for low, _ in live]
        assert upper.tolist() == [up for _, up in live]


def test_the_trinomial_grid_has_the_mean_and_the_discordance_asked_for() -> None:
    grid = trinomial_grid([0.15, 0.5, 1.0], -0.15)
    assert grid.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0])
    assert (grid[:, 2] - grid[:, 0]) == pytest.approx([-0.15, -0.15, -0.15])
    assert 1.0 - grid[:, 1] == pytest.approx([0.15, 0.5, 1.0])
    with pytest.raises(ValueError, match="discordances must lie in"):
        trinomial_grid([0.1], 0.15)
