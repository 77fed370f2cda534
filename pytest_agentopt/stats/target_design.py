"""The one-sample test's design: Wald's boundaries, a last look at the cap, and the cap that delivers both rates.

Standard library only, like ``stats.design``: the controller builds it at start-up (a few milliseconds: one
exact pass over the binomial lattice) and the live test reads it once, at the cap.

Why a last look
---------------
``--agent-target P`` runs Wald's binomial SPRT of H0: p = P - delta (``below_target``) against H1: p = P
(``meets_target``). Truncated at a cap of ``n`` scored trials without a last look, a run that has crossed no
boundary ends ``inconclusive``: at p = P the probability of *not* showing ``meets_target`` is beta plus that
undecided mass, and at p = P - delta the probability of not showing ``below_target`` is alpha plus it. So a cap
that is too small silently costs power, whichever error rates the boundaries have.

At the cap the test therefore takes a last look on the number of successes ``s`` (the LLR increases with ``s``):
``meets_target`` when ``s >= meets_from``, ``below_target`` when ``s < below_under``, undecided in between.
Both thresholds come from the exact distribution of the runs still going at ``n`` (computed below, the same
lattice as ``stats.oc.binomial_sprt_oc``): ``meets_from`` is the least threshold with
``P(meets_target | p = P - delta) <= alpha`` (boundary crossings before the cap included), ``below_under`` the
largest with ``P(below_target | p = P) <= beta``. When they overlap there is no undecided zone and a single
threshold, ``meets_from``, decides both ways (it keeps both rates: ``meets_from <= below_under``).

``required_trials`` is the least cap from which every larger cap has no undecided zone: from there both error
rates hold *and* the run always ends with a claim, so the power at p = P is at least 1 - beta and a config at
P - delta is shown ``below_target`` with probability at least 1 - alpha. Without ``--agent-trials`` the plugin
uses it as the cap; with a smaller ``--agent-trials`` it says at start-up what the cap delivers.

Error rates are monotone in the true rate for this test (the LLR is monotone in the successes), so the figures at
p = P - delta and p = P bound those at every rate below and above them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from pytest_agentopt.stats.wald import wald_bounds

__all__ = ["TargetCapFigures", "TargetDesign", "target_design"]

_NEGLIGIBLE_MASS = 1e-15
"""Once the runs still going weigh less than this, no cap beyond is tabulated: its figures are the last ones,
each made worse by that mass (exact at every printed digit)."""


@dataclass(frozen=True)
class TargetCapFigures:
    """What a run capped at ``trials`` scored trials delivers, exactly, last look included."""

    trials: int
    meets_from: int
    """Last look: ``meets_target`` when the successes are at least this (above ``trials``: never)."""
    below_under: int
    """Last look: ``below_target`` when the successes are below this (0: never); ``<= meets_from``."""
    alpha: float
    """P(meets_target) when p = P - delta."""
    beta: float
    """P(below_target) when p = P."""
    miss: float
    """P(no meets_target) when p = P: beta plus an undecided end. The power at the cap is ``1 - miss``."""
    below_miss: float
    """P(no below_target) when p = P - delta: alpha plus an undecided end."""

    @property
    def undecided_zone(self) -> bool:
        return self.below_under < self.meets_from


class TargetDesign:
    """Boundaries, last looks and cap figures of the one-sample test for one target and set of error rates.

    The exact figures are tabulated by walking the binomial lattice one trial at a time, as far as needed: at
    construction up to ``required_trials`` (or until no run is left), and further when a larger cap is asked for.
    """

    def __init__(self, target: float, alpha: float, beta: float, delta: float) -> None:
        if not 0.0 < target - delta < target < 1.0:
            raise ValueError(f"need 0 < target - delta < target < 1, got target={target!r}, delta={delta!r}")
        self.target, self.alpha, self.beta, self.delta = target, alpha, beta, delta
        self.bounds = wald_bounds(alpha, beta)
        self._success_step, self._failure_step = _steps(target - delta, target)
        # _running[k][i]: P(no boundary crossed after n trials, s = _offset + i successes), p = (P - delta, P)[k].
        self._offset = 0
        self._running: tuple[list[float], list[float]] = ([1.0], [1.0])
        self._crossed_h1 = [0.0, 0.0]  # P(meets_target boundary crossed so far), under p = P - delta and P
        self._crossed_h0 = [0.0, 0.0]  # P(below_target boundary crossed so far)
        self._caps: list[TargetCapFigures] = []
        self.required_trials = self._find_required_trials()
        """The least cap from which no larger cap has an undecided zone and both error rates hold: from there a
        run always ends with a claim (``None``: no cap does, the boundaries alone exceed a rate)."""

    @property
    def p0(self) -> float:
        return self.target - self.delta

    @property
    def _residual(self) -> float:
        return max(math.fsum(self._running[0]), math.fsum(self._running[1]))

    def _find_required_trials(self) -> int | None:
        """Walk until every larger cap is certain to hold both rates with no undecided zone, then read the table.

        Certificate: whatever the last look, P(meets_target | P - delta) at any larger cap is at most the mass
        crossed to it so far plus the mass still going (likewise for beta). Once both sums are within alpha and
        beta, the last look at every larger cap finds a single threshold (no undecided zone).
        """
        while True:
            going = (math.fsum(self._running[0]), math.fsum(self._running[1]))
            alpha_bound, beta_bound = self._crossed_h1[0] + going[0], self._crossed_h0[1] + going[1]
            if self._caps and alpha_bound <= self.alpha and beta_bound <= self.beta:
                break
            if going[0] + going[1] < _NEGLIGIBLE_MASS:
                return None  # every run has decided and a rate is above its nominal value
            self._step()
        required: int | None = None
        for figures in reversed(self._caps):
            if figures.undecided_zone or figures.alpha > self.alpha or figures.beta > self.beta:
                break
            required = figures.trials
        return required

    def _step(self) -> None:
        n = len(self._caps) + 1
        grown = []
        for k, p in enumerate((self.p0, self.target)):
            state, q = self._running[k], 1.0 - p
            row = [state[0] * q]
            row.extend(state[i] * q + state[i - 1] * p for i in range(1, len(state)))
            row.append(state[-1] * p)
            grown.append(row)
        lower, upper = self.bounds
        offset, success_step, failure_step = self._offset, self._success_step, self._failure_step
        first, last = 0, len(grown[0]) - 1
        # Same LLR expression as TargetSequentialTest, so the lattice decisions agree exactly.
        while first <= last and (offset + first) * success_step + (n - offset - first) * failure_step <= lower:
            for k in (0, 1):
                self._crossed_h0[k] += grown[k][first]
            first += 1
        while last >= first and (offset + last) * success_step + (n - offset - last) * failure_step >= upper:
            for k in (0, 1):
                self._crossed_h1[k] += grown[k][last]
            last -= 1
        self._running = (grown[0][first : last + 1], grown[1][first : last + 1])
        self._offset += first
        self._caps.append(
            _last_look(n, self._offset, self._running, self._crossed_h1, self._crossed_h0, self.alpha, self.beta)
        )

    def at_cap(self, trials: int) -> TargetCapFigures | None:
        """The exact figures of a run capped at ``trials`` scored trials (``None`` for no trials).

        Tabulated on demand; once less than ``1e-15`` of the runs are still going, a larger cap gets the last
        tabulated figures each made worse by that mass, and the last look ``LLR >= 0``.
        """
        if trials < 1:
            return None
        while len(self._caps) < trials and (not self._caps or self._residual >= _NEGLIGIBLE_MASS):
            if not self._running[0]:
                break
            self._step()
        if trials <= len(self._caps):
            return self._caps[trials - 1]
        last, residual = self._caps[-1], self._residual if self._running[0] else 0.0
        # The least s with s * success_step + (trials - s) * failure_step >= 0.
        threshold = math.ceil(-trials * self._failure_step / (self._success_step - self._failure_step))
        return TargetCapFigures(
            trials=trials,
            meets_from=threshold,
            below_under=threshold,
            alpha=min(1.0, last.alpha + residual),
            beta=min(1.0, last.beta + residual),
            miss=min(1.0, last.beta + residual),
            below_miss=min(1.0, last.alpha + residual),
        )

    def last_look(self, trials: int, successes: int) -> str | None:
        """The verdict of a run that ends after ``trials`` scored trials without a boundary decision."""
        figures = self.at_cap(trials)
        if figures is None:
            return None
        if successes >= figures.meets_from:
            return "meets_target"
        if successes < figures.below_under:
            return "below_target"
        return None


def _steps(p0: float, p1: float) -> tuple[float, float]:
    """The LLR's step for a success and for a failure (same expressions as ``TargetSequentialTest``)."""
    return math.log(p1 / p0), math.log((1.0 - p1) / (1.0 - p0))


@functools.cache
def target_design(target: float, alpha: float, beta: float, delta: float) -> TargetDesign:
    """The design for these settings (one per process: the tabulated caps are shared)."""
    return TargetDesign(target, alpha, beta, delta)


def _last_look(
    n: int,
    offset: int,
    running: tuple[list[float], list[float]],
    crossed_h1: list[float],
    crossed_h0: list[float],
    alpha: float,
    beta: float,
) -> TargetCapFigures:
    """The thresholds and figures of a cap of ``n`` trials, given the runs still going there (``s = offset + i``)."""
    under_p0, under_p1 = running
    width = len(under_p0)
    # meets_from: the least threshold t (offset .. offset + width) with alpha(t) <= alpha; alpha(t) falls with t.
    meets_index = width  # no last-look meets_target
    tail = 0.0
    for i in range(width - 1, -1, -1):
        tail += under_p0[i]
        if crossed_h1[0] + tail > alpha:
            break
        meets_index = i
    # below_under: the largest threshold t with beta(t) <= beta; beta(t) grows with t.
    below_index = 0  # no last-look below_target
    head = 0.0
    for i in range(width):
        head += under_p1[i]
        if crossed_h0[1] + head > beta:
            break
        below_index = i + 1
    below_index = min(below_index, meets_index)
    alpha_at = crossed_h1[0] + math.fsum(under_p0[meets_index:])
    beta_at = crossed_h0[1] + math.fsum(under_p1[:below_index])
    meets_at_p1 = crossed_h1[1] + math.fsum(under_p1[meets_index:])
    below_at_p0 = crossed_h0[0] + math.fsum(under_p0[:below_index])
    if width == 0:  # every run has crossed a boundary: any threshold, nothing is left to decide
        meets_index = below_index = 0
    return TargetCapFigures(
        trials=n,
        meets_from=offset + meets_index,
        below_under=offset + below_index,
        alpha=alpha_at,
        beta=beta_at,
        miss=max(0.0, 1.0 - meets_at_p1),
        below_miss=max(0.0, 1.0 - below_at_p0),
    )
