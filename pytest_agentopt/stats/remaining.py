"""How many more observations a running sequential test takes to decide, from where it stands now.

The exact distribution of the further pairs (or trials) until the test stops, for one assumed distribution of the
observations, by a forward DP from the test's current state to its cap. It answers "how much longer?" for a live
run (``agentopt watch``), so it must be cheap at every refresh: unlike ``gsprt_dp.lattice_dp``, which propagates
path counts over the whole lattice for a grid of distributions at once (O(n^2) cells by the end), it propagates
the probability of each running cell for a few distributions, drops a cell once its probability falls below
``floor`` under all of them, and stops once what still runs could move the expectation by less than
``tolerance`` pairs. Under one distribution the probability concentrates on O(sqrt(n)) discordant counts, so a
step costs O(sqrt(n)) cells. The mass dropped is counted as stopping where it was dropped and its most further
pairs (to the cap) are added up, so the figures carry an exact error bound: the true expectation lies in
``[expected, expected + slack]``. From an early state of the shipped design (alpha 0.05, beta 0.10, effect
0.15) and four distributions it takes a few seconds of CPU, more the larger the cap (the tail of the stopping
time is long when there is no difference; docs/scale.md).

The decisions are ``gsprt_dp``'s (the same ``_classify`` of the test states, the same LLR and bounds arithmetic),
which ``tests/unit/stats/test_stats_gsprt_dp.py`` checks against the live ``sprt.PairedSequentialTest``. The cap
ends the run whatever its last look decides, so the last look does not change how many pairs remain and is not
applied here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pytest_agentopt.stats.design import PairedDesign
from pytest_agentopt.stats.gsprt_dp import STATES_OF, _classify, bounds_on_lattice
from pytest_agentopt.stats.paired_oc import lattice_llr

__all__ = ["DEFAULT_FLOOR", "Remaining", "paired_remaining", "target_remaining"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_FLOOR = 1e-10
"""Cells less likely than this are dropped (their mass is counted in ``Remaining.dropped``); the paired DP lowers
it in proportion beyond a thousand pairs to the cap, since a dropped cell's bound grows with the pairs it could
still take."""
DEFAULT_TOLERANCE = 0.05
"""The paired DP stops once the mass still running, were it all to run to the cap, would move the expectation by
less than this many pairs (that mass is counted in ``Remaining.dropped`` as well)."""
_ROUNDING = 1e-12
"""A cumulative probability this close below 0.95 counts as 0.95 (sums of exact masses in floating point)."""


@dataclass(frozen=True)
class Remaining:
    """The further observations until the test stops (a decision, or the cap), under one distribution."""

    expected: float
    """Expected further observations, the dropped mass counted as stopping where it was dropped (a lower bound,
    see ``expected_at_most``)."""
    to_cap: int
    """The most further observations (to the cap)."""
    reaches_cap: float
    """Probability that the test is still undecided by a bound when it reaches the cap (not counting the dropped
    mass)."""
    p95: int
    """The smallest ``k`` with P(stopping within ``k`` further observations) >= 0.95 (dropped mass counted where it
    was dropped)."""
    dropped: float
    """Probability mass dropped (below the floor, or still running when the DP stopped)."""
    slack: float = 0.0
    """The dropped mass times the further observations it could still have taken (to the cap)."""

    @property
    def expected_at_most(self) -> float:
        """The expectation counting the dropped mass as running to the cap: the exact value lies in between."""
        return self.expected + self.slack


def paired_remaining(
    design: PairedDesign,
    *,
    wins: int,
    losses: int,
    ties: int,
    state: int,
    cap_pairs: int,
    distributions: Sequence[tuple[float, float, float]],
    floor: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> list[Remaining]:
    """The further pairs a running paired test takes, one figure per assumed distribution of a pair:
    ``(P(loss), P(tie), P(win))`` (``gsprt_dp.trinomial_grid``'s order). All distributions share one pass (a
    cell is dropped once it is below ``floor`` under every one of them).

    ``state`` is the DP state of the one-sided tests still running (``extension.running_state``); the test stops
    at the latest after ``cap_pairs`` pairs in all. ``floor`` and ``tolerance`` trade exactness for time, within
    the stated bound (``Remaining.expected_at_most``); both 0: exact.
    """
    start = wins + losses + ties
    if cap_pairs <= start:
        raise ValueError(f"the cap ({cap_pairs} pairs) must lie beyond the pairs already in the test ({start})")
    states = STATES_OF[design.direction]
    if state not in states:
        raise ValueError(f"state {state} is not a state of a {design.direction!r} run")
    for distribution in distributions:
        _check_distribution(distribution)
    if floor is None:
        floor = DEFAULT_FLOOR * min(1.0, 1000 / (cap_pairs - start))
    # One column per outcome (loss, tie, win) and distribution; a move is (wins added, losses added).
    probabilities = np.array(distributions, dtype=np.float64).reshape(-1, 3).T[:, None, :, None]
    moves = ((0, 1), (0, 0), (1, 0))
    uses_improvement = design.direction != "worse"
    uses_regression = design.direction != "better"
    cell_wins = np.array([wins], dtype=np.int64)
    cell_losses = np.array([losses], dtype=np.int64)
    # masses[state, distribution, cell]: P(running in that state at that cell).
    masses = np.zeros((len(states), len(distributions), 1))
    masses[states.index(state), :, 0] = 1.0
    stopping = [np.zeros(len(distributions))]
    dropped = np.zeros(len(distributions))
    slack = np.zeros(len(distributions))
    stride = cap_pairs + 2
    for n in range(start + 1, cap_pairs + 1):
        keys = np.concatenate([(cell_wins + dw) * stride + cell_losses + dl for dw, dl in moves])
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        firsts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
        unique_keys = sorted_keys[firsts]
        spread = np.concatenate(list(masses[None] * probabilities), axis=2)
        merged = np.add.reduceat(spread[:, :, order], firsts, axis=2)
        cell_wins, cell_losses = unique_keys // stride, unique_keys % stride
        w = cell_wins.astype(np.float64)
        lo = cell_losses.astype(np.float64)
        t = n - w - lo
        lower, upper = bounds_on_lattice(design.bounds, w + lo, n)
        imp = lattice_llr(w, lo, t, design.delta) if uses_improvement else np.zeros_like(w)
        reg = lattice_llr(w, lo, t, -design.delta) if uses_regression else np.zeros_like(w)
        with np.errstate(divide="ignore"):
            cells = {s: np.log(merged[i]) for i, s in enumerate(states)}
        claims, running = _classify(cells, imp >= upper, imp <= lower, reg >= upper, reg <= lower)
        stopped = sum(np.exp(claim).reshape(-1, len(unique_keys)).sum(axis=1) for claim in claims.values())
        masses = np.stack([np.exp(running[s]) for s in states])
        if n == cap_pairs:
            at_cap = masses.sum(axis=(0, 2))
            stopping.append(stopped + at_cap)
            return _summaries(stopping, dropped, slack, to_cap=cap_pairs - start, reaches_cap=at_cap)
        total = masses.sum(axis=0)
        keep = (total >= floor).any(axis=0)
        cut = total[:, ~keep].sum(axis=1)
        cell_wins, cell_losses, masses = cell_wins[keep], cell_losses[keep], masses[:, :, keep]
        still = masses.sum(axis=(0, 2))
        if not keep.any() or float(still.max()) * (cap_pairs - n) < tolerance:
            cut += still  # the rest could run to the cap: within ``tolerance`` of the expectation
            keep[:] = False
        dropped += cut
        slack += cut * (cap_pairs - n)
        stopping.append(stopped + cut)
        if not keep.any():
            break
    return _summaries(stopping, dropped, slack, to_cap=cap_pairs - start, reaches_cap=np.zeros(len(distributions)))


def target_remaining(
    *,
    p0: float,
    p1: float,
    bounds: tuple[float, float],
    trials: int,
    successes: int,
    cap_trials: int,
    success_rate: float,
    floor: float = DEFAULT_FLOOR,
) -> Remaining:
    """The further scored trials a running one-sample SPRT (``sprt.TargetSequentialTest``, H0 ``p0`` against H1
    ``p1``, constant ``bounds`` on its LLR) takes when each trial succeeds with probability ``success_rate``."""
    if cap_trials <= trials:
        raise ValueError(f"the cap ({cap_trials} trials) must lie beyond the trials already in the test ({trials})")
    if not 0.0 <= success_rate <= 1.0:
        raise ValueError(f"success_rate must lie in [0, 1], got {success_rate!r}")
    success_step = math.log(p1 / p0)
    failure_step = math.log((1.0 - p1) / (1.0 - p0))
    lower, upper = bounds
    # Running cells: the successes so far, as an offset from ``successes``; a trial adds one or keeps it.
    offsets = np.zeros(1, dtype=np.int64)
    masses = np.ones(1)
    stopping = [0.0]
    dropped = slack = 0.0
    for n in range(trials + 1, cap_trials + 1):
        grown = np.zeros(len(masses) + 1)
        grown[:-1] += masses * (1.0 - success_rate)
        grown[1:] += masses * success_rate
        offsets = np.arange(int(offsets[0]), int(offsets[0]) + len(grown), dtype=np.int64)
        wins = (successes + offsets).astype(np.float64)
        llr = wins * success_step + (n - wins) * failure_step
        running = (llr < upper) & (llr > lower)
        stopped = float(grown[~running].sum())
        masses = np.where(running, grown, 0.0)
        if n == cap_trials:
            stopping.append(stopped + float(masses.sum()))
            at_cap = float(masses.sum())
            return _summary(stopping, dropped, slack, to_cap=cap_trials - trials, reaches_cap=at_cap)
        small = masses < floor
        cut = float(masses[small].sum())
        dropped += cut
        slack += cut * (cap_trials - n)
        masses[small] = 0.0
        alive = np.flatnonzero(masses)
        stopping.append(stopped + cut)
        if len(alive) == 0:
            break
        masses, offsets = masses[alive[0] : alive[-1] + 1], offsets[alive[0] : alive[-1] + 1]
    return _summary(stopping, dropped, slack, to_cap=cap_trials - trials, reaches_cap=0.0)


def _check_distribution(distribution: tuple[float, float, float]) -> None:
    if len(distribution) != 3 or min(distribution) < 0.0 or abs(math.fsum(distribution) - 1.0) > 1e-9:
        raise ValueError(f"distribution must be three probabilities adding up to 1, got {distribution!r}")


def _summaries(
    stopping: list[FloatArray], dropped: FloatArray, slack: FloatArray, *, to_cap: int, reaches_cap: FloatArray
) -> list[Remaining]:
    """One summary per distribution from the stopping masses of every step (``stopping[k][distribution]``)."""
    table = np.array(stopping)
    return [
        _summary(
            [float(m) for m in table[:, i]],
            float(dropped[i]),
            float(slack[i]),
            to_cap=to_cap,
            reaches_cap=float(reaches_cap[i]),
        )
        for i in range(table.shape[1])
    ]


def _summary(stopping: list[float], dropped: float, slack: float, *, to_cap: int, reaches_cap: float) -> Remaining:
    expected = math.fsum(k * mass for k, mass in enumerate(stopping))
    cumulative, p95 = 0.0, to_cap
    for k, mass in enumerate(stopping):
        cumulative += mass
        if cumulative >= 0.95 - _ROUNDING:
            p95 = k
            break
    return Remaining(expected=expected, to_cap=to_cap, reaches_cap=reaches_cap, p95=p95, dropped=dropped, slack=slack)
