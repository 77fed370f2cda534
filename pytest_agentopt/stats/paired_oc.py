"""Exact operating characteristic of the paired test (two one-sided trinomial GSPRTs), by dynamic programming.

The paired test's state after ``n`` pairs is the count of wins ``w`` and losses ``l`` (ties are ``n - w - l``)
plus which of its two one-sided tests has already accepted its H0 and frozen (see
:class:`~pytest_agentopt.stats.sprt.PairedSequentialTest`). The GLR statistic is a function of the counts only,
so propagating the probability mass of the running states over the ``(w, l)`` lattice, one pair at a time, gives
the exact probabilities of ``better``, ``worse``, ``no_difference`` and of reaching the cap, and the exact
distribution of the number of pairs used. The lattice has O(n^2) states at step ``n``, but the running ones form a band
of width O(sqrt(n)) around the line of no effect, and only those are evaluated.

The LLR is computed here in vectorised form with the same closed-form constrained MLE as ``sprt.paired_llr``,
and the two tests' states are combined into a verdict as ``sprt.combine_states`` does.
``tests/unit/stats/test_stats_paired_oc.py`` checks that ``lattice_llr`` equals ``paired_llr`` bit for bit on
every lattice point with fewer than 60 pairs, and that the whole computation equals a brute-force enumeration of
every outcome sequence fed through :class:`~pytest_agentopt.stats.sprt.PairedSequentialTest` (short runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pytest_agentopt.stats.oc import stopping_quantile
from pytest_agentopt.stats.wald import Direction, wald_bounds

FloatArray = npt.NDArray[np.float64]
_RESIDUAL = 1e-10


@dataclass(frozen=True)
class PairedOperatingCharacteristic:
    probabilities: tuple[float, float, float]
    """The true pair distribution ``(P(D=-1), P(D=0), P(D=+1))``."""
    better: float
    worse: float
    no_difference: float
    undecided: float
    asn: float
    """Expected number of pairs."""
    max_pairs: int
    stopping_probabilities: tuple[float, ...]

    def quantile(self, q: float) -> int:
        """The smallest number of pairs ``n`` with P(N <= n) >= ``q``."""
        return stopping_quantile(self.stopping_probabilities, q)


def lattice_llr(wins: FloatArray, losses: FloatArray, ties: FloatArray, mean: float) -> FloatArray:
    """GLR of E[D] = ``mean`` against E[D] = 0 on arrays of counts (cells with no pairs give 0)."""
    total = wins + losses + ties
    safe_total = np.where(total > 0, total, 1.0)

    def mle(mu: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        linear = wins * (1.0 + mu) + losses * (1.0 - mu)
        constant = mu * (wins - losses) - ties * mu * mu
        discriminant = np.maximum(0.0, linear * linear - 4.0 * safe_total * constant)
        discordance = np.clip((linear + np.sqrt(discriminant)) / (2.0 * safe_total), abs(mu), 1.0)
        return (discordance - mu) / 2.0, 1.0 - discordance, (discordance + mu) / 2.0

    null = mle(0.0)
    alternative = mle(mean)
    llr = np.zeros_like(total)
    with np.errstate(divide="ignore", invalid="ignore"):
        for count, p_null, p_alt in zip((losses, ties, wins), null, alternative, strict=True):
            term = count * (np.log(p_alt) - np.log(p_null))
            llr += np.where(count > 0, term, 0.0)
    result: FloatArray = llr
    return result


def paired_test_oc(
    probabilities: tuple[float, float, float],
    *,
    alpha: float,
    beta: float,
    delta: float,
    max_pairs: int,
    direction: Direction = "both",
) -> PairedOperatingCharacteristic:
    """Exact behaviour of the paired test, truncated at ``max_pairs``, when pairs follow ``probabilities``.

    With a one-sided ``direction`` the other test never runs: ``no_difference`` then means ``not_better``
    (direction ``"better"``) or ``not_worse`` (direction ``"worse"``). The propagation stops early once less than
    1e-10 of the probability is still running; that remainder is reported as ``undecided``.
    """
    p_loss, p_tie, p_win = probabilities
    if min(probabilities) < 0 or not math.isclose(sum(probabilities), 1.0, abs_tol=1e-9):
        raise ValueError(f"probabilities must be a distribution on (-1, 0, +1), got {probabilities!r}")
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be >= 1, got {max_pairs!r}")
    lower, upper = wald_bounds(alpha, beta)
    stride = max_pairs + 2
    # The running states, sparse: lattice points (w, l) and their mass in each of the three test states
    # (0: both tests running, 1: improvement frozen at H0, 2: regression frozen at H0). The continuation
    # region is a narrow band of the lattice, so this stays small.
    cell_w = np.zeros(1, dtype=np.int64)
    cell_l = np.zeros(1, dtype=np.int64)
    # A one-sided run starts with the other test frozen, so only its own test moves.
    start_state = {"both": 0, "better": 2, "worse": 1}[direction]
    mass = np.zeros((3, 1))
    mass[start_state, 0] = 1.0
    outcome = {"better": 0.0, "worse": 0.0, "no_difference": 0.0}
    stopping = [0.0]
    remaining = 1.0
    for n in range(1, max_pairs + 1):
        keys = np.concatenate(((cell_w + 1) * stride + cell_l, cell_w * stride + cell_l + 1, cell_w * stride + cell_l))
        weights = np.concatenate((mass * p_win, mass * p_loss, mass * p_tie), axis=1)
        unique, inverse = np.unique(keys, return_inverse=True)
        grown = np.stack([np.bincount(inverse, weights=weights[state], minlength=len(unique)) for state in range(3)])
        cell_w, cell_l = unique // stride, unique % stride
        wins = cell_w.astype(float)
        losses = cell_l.astype(float)
        ties = n - wins - losses
        better_llr = lattice_llr(wins, losses, ties, delta)
        worse_llr = lattice_llr(wins, losses, ties, -delta)
        better_up, better_low = better_llr >= upper, better_llr <= lower
        worse_up, worse_low = worse_llr >= upper, worse_llr <= lower
        both, imp_frozen, reg_frozen = grown
        step = {"better": 0.0, "worse": 0.0, "no_difference": 0.0}
        # Both running: the improvement test is checked first, as in PairedSequentialTest.add_pair.
        step["better"] += float(both[better_up].sum())
        step["worse"] += float(both[~better_up & worse_up].sum())
        undecided = ~better_up & ~worse_up
        step["no_difference"] += float(both[undecided & better_low & worse_low].sum())
        to_imp_frozen = undecided & better_low & ~worse_low
        to_reg_frozen = undecided & worse_low & ~better_low
        stay_both = undecided & ~better_low & ~worse_low
        # Improvement frozen at H0: only the regression test moves.
        step["worse"] += float(imp_frozen[worse_up].sum())
        step["no_difference"] += float(imp_frozen[worse_low].sum())
        stay_imp = ~worse_up & ~worse_low
        # Regression frozen at H0: only the improvement test moves.
        step["better"] += float(reg_frozen[better_up].sum())
        step["no_difference"] += float(reg_frozen[better_low].sum())
        stay_reg = ~better_up & ~better_low
        mass = np.stack(
            (
                np.where(stay_both, both, 0.0),
                np.where(stay_imp, imp_frozen, 0.0) + np.where(to_imp_frozen, both, 0.0),
                np.where(stay_reg, reg_frozen, 0.0) + np.where(to_reg_frozen, both, 0.0),
            )
        )
        keep = mass.sum(axis=0) > 0.0
        cell_w, cell_l, mass = cell_w[keep], cell_l[keep], mass[:, keep]
        for key, value in step.items():
            outcome[key] += value
        stopping.append(sum(step.values()))
        remaining = float(mass.sum())
        if remaining < _RESIDUAL or not len(cell_w):
            break
    stopping[-1] += remaining
    while len(stopping) > 1 and stopping[-1] == 0.0:
        stopping.pop()
    asn = float(sum(k * m for k, m in enumerate(stopping)))
    return PairedOperatingCharacteristic(
        probabilities=probabilities,
        better=outcome["better"],
        worse=outcome["worse"],
        no_difference=outcome["no_difference"],
        undecided=remaining,
        asn=asn,
        max_pairs=len(stopping) - 1,
        stopping_probabilities=tuple(stopping),
    )
