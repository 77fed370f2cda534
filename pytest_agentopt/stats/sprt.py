"""Sequential probability ratio tests: Wald's binomial SPRT and a Fishtest-style trinomial GSPRT for pairs.

Standard library only: used in the per-trial hot path and imported at plugin start-up.

Paired A/B data
---------------
One observation per pair: ``D = success_test - success_control`` in {-1, 0, +1}, counted as losses ``L``
(D = -1), ties ``Z`` (D = 0) and wins ``W`` (D = +1). The hypotheses are about the mean ``mu = E[D] =
p_test - p_control``; the discordance rate ``P(D != 0)`` is a nuisance parameter. As in Fishtest
(``official-stockfish/fishtest``, ``server/fishtest/stats/LLRcalc.py``: ``MLE_expected`` and ``LLR_logistic``)
it is profiled out: the generalized log-likelihood ratio of ``mu1`` against ``mu0`` is

    LLR = N * sum_x phat(x) * log(p1(x) / p0(x))

where ``p0``, ``p1`` are the maximum-likelihood trinomials with mean ``mu0`` and ``mu1`` given the observed
counts (``phat`` = empirical distribution). Fishtest solves a "secular equation" for a Lagrange multiplier and
assumes every cell is non-empty: it replaces zero counts by 1e-3 (``regularize``) before computing anything.

Here the constrained MLE is computed exactly, empty cells included, so no pseudo-counts are needed. With mean
``mu`` fixed, a trinomial is ``(P(L), P(Z), P(W)) = ((d - mu)/2, 1 - d, (d + mu)/2)`` for a discordance
``d`` in ``[|mu|, 1]``; its log-likelihood ``W log(d + mu) + L log(d - mu) + Z log(1 - d)`` is concave in
``d``, and its stationarity condition is the quadratic
``N d^2 - (W (1 + mu) + L (1 - mu)) d + mu (W - L) - Z mu^2 = 0``, which is <= 0 at ``d = |mu|`` and >= 0 at
``d = 1``: the maximiser is its larger root (clipped to the interval for rounding). When a cell is empty the
maximum may sit on the boundary (e.g. all ties and mu = 0.15 gives P(W) = 0.15, P(L) = 0), which the
quadratic also returns. Only observed cells enter the likelihood, and the MLE puts positive mass on every
observed cell, so the LLR is always finite. With all cells non-empty this is exactly Fishtest's MLE.

Error rates of the paired test
------------------------------
Two one-sided GSPRTs run on the same pairs: *improvement* (H0: mu = 0 vs H1: mu = +delta) and *regression*
(H0: mu = 0 vs H1: mu = -delta). Their bounds come from a ``stats.design.PairedDesign``: calibrated by the exact
DP as functions of the observed discordance, so that each directional false claim has probability <= alpha and
a missed difference of delta <= beta at every discordance (Wald's constant bounds, the fallback, exceed both at
some discordances: beta 0.113 at 0.15-0.20, alpha 0.0514 at 0.30), with a calibrated last look at the cap.
When there is no difference, ``better`` and ``worse`` are each declared with probability <= alpha, so "some
difference" with probability <= 2 alpha (the two-sided reading). The profile log-likelihood is concave in mu, so
the two tests can never both favour their H1. ``better`` can only be declared when the improvement test, run on
its own, would have declared it (stopping early for the other direction only removes chances to err), so the
two-sided test's alpha is at most the one-sided test's.

Sample size: ``no_difference`` needs *both* tests to accept H0, so under no difference a run lasts until the
slower of the two has decided: about 1.5x the one-sided average (``docs/statistics.md`` has the exact figures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, cast

from pytest_agentopt.stats.design import wald_design
from pytest_agentopt.stats.wald import DIRECTIONS, Direction, wald_bounds

if TYPE_CHECKING:
    from pytest_agentopt.stats.design import PairedDesign
    from pytest_agentopt.stats.target_design import TargetDesign

__all__ = [
    "DIRECTIONS",
    "Direction",
    "PairedSequentialTest",
    "PairedVerdict",
    "SequentialSettings",
    "TargetSequentialTest",
    "TargetVerdict",
    "TestState",
    "binomial_llr",
    "combine_states",
    "constrained_trinomial_mle",
    "paired_llr",
    "state_of",
    "wald_bounds",
]

PairedVerdict = Literal["better", "worse", "no_difference", "not_better", "not_worse"]
TargetVerdict = Literal["meets_target", "below_target"]
TestState = Literal["running", "accepted_h0", "accepted_h1"]
"""Where one one-sided test stands: still running, or decided for its H0 or its H1."""


def _check_error_rate(name: str, value: float) -> None:
    if not 0.0 < value < 0.5:
        raise ValueError(f"{name} must be in (0, 0.5), got {value!r}")


def _check_probability(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")


def binomial_llr(successes: int, trials: int, p0: float, p1: float) -> float:
    """Log-likelihood ratio of Bernoulli(p1) against Bernoulli(p0) for ``successes`` out of ``trials``."""
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes!r} of {trials!r}")
    _check_probability("p0", p0)
    _check_probability("p1", p1)
    return successes * math.log(p1 / p0) + (trials - successes) * math.log((1.0 - p1) / (1.0 - p0))


def constrained_trinomial_mle(counts: tuple[float, float, float], mean: float) -> tuple[float, float, float]:
    """Maximum-likelihood trinomial on {-1, 0, +1} with the given mean, for counts ``(L, Z, W)``.

    Returns ``(P(-1), P(0), P(+1))``. The counts may be any non-negative weights (the MLE depends only on
    their proportions): with a distribution P as weights, the result is the Q with that mean minimising
    KL(P || Q). Closed form (the larger root of a quadratic in the discordance, see the
    module docstring); handles empty cells exactly, never returns NaN. Raises ``ValueError`` for negative
    counts, all-zero counts (the likelihood is flat: no MLE) or a mean outside (-1, 1).
    """
    losses, ties, wins = counts
    if min(losses, ties, wins) < 0:
        raise ValueError(f"counts must be >= 0, got {counts!r}")
    total = losses + ties + wins
    if total == 0:
        raise ValueError("counts are all zero: the constrained MLE is undefined")
    if not -1.0 < mean < 1.0:
        raise ValueError(f"mean must be in (-1, 1), got {mean!r}")
    linear = wins * (1.0 + mean) + losses * (1.0 - mean)
    constant = mean * (wins - losses) - ties * mean * mean
    discriminant = max(0.0, linear * linear - 4.0 * total * constant)
    discordance = (linear + math.sqrt(discriminant)) / (2.0 * total)
    discordance = min(1.0, max(abs(mean), discordance))
    return ((discordance - mean) / 2.0, 1.0 - discordance, (discordance + mean) / 2.0)


def paired_llr(wins: int, losses: int, ties: int, mu0: float, mu1: float) -> float:
    """Generalized LLR of E[D] = ``mu1`` against E[D] = ``mu0`` (nuisance profiled out); 0.0 with no pairs."""
    counts = (losses, ties, wins)
    if min(counts) < 0:
        raise ValueError(f"counts must be >= 0, got wins={wins!r}, losses={losses!r}, ties={ties!r}")
    if losses + ties + wins == 0:
        return 0.0
    null = constrained_trinomial_mle(counts, mu0)
    alternative = constrained_trinomial_mle(counts, mu1)
    # Observed cells always get positive mass from the MLE, so the logs are finite.
    return sum(
        count * (math.log(p_alt) - math.log(p_null))
        for count, p_null, p_alt in zip(counts, null, alternative, strict=True)
        if count > 0
    )


def state_of(llr: float, bounds: tuple[float, float]) -> TestState:
    """The state of a one-sided test whose LLR is ``llr``: H1 at ``llr >= upper``, H0 at ``llr <= lower``."""
    lower, upper = bounds
    if llr >= upper:
        return "accepted_h1"
    if llr <= lower:
        return "accepted_h0"
    return "running"


def combine_states(improvement: TestState, regression: TestState, direction: Direction) -> PairedVerdict | None:
    """The paired test's verdict from the states of its two one-sided tests; ``None`` while undecided.

    ``direction`` ``"better"`` reads the improvement test alone (``better`` / ``not_better``) and ``"worse"`` the
    regression test alone (``worse`` / ``not_worse``): the state of the other test is ignored. ``"both"``:
    ``better`` or ``worse`` as soon as either test accepts its H1 (the improvement test is read first; the two
    cannot both favour their H1, see the module docstring), ``no_difference`` once both have accepted H0.
    """
    if direction == "better":
        return None if improvement == "running" else "better" if improvement == "accepted_h1" else "not_better"
    if direction == "worse":
        return None if regression == "running" else "worse" if regression == "accepted_h1" else "not_worse"
    if improvement == "accepted_h1":
        return "better"
    if regression == "accepted_h1":
        return "worse"
    if improvement == "accepted_h0" and regression == "accepted_h0":
        return "no_difference"
    return None


@dataclass(frozen=True)
class SequentialSettings:
    """Error rates and the effect size of interest (an absolute difference in success rate)."""

    alpha: float = 0.05
    beta: float = 0.10
    delta: float = 0.15

    def __post_init__(self) -> None:
        _check_error_rate("alpha", self.alpha)
        _check_error_rate("beta", self.beta)
        if not 0.0 < self.delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {self.delta!r}")

    @property
    def bounds(self) -> tuple[float, float]:
        return wald_bounds(self.alpha, self.beta)


@dataclass
class _OneSidedGsprt:
    """One directional GSPRT of mean 0 against ``alternative``; frozen once it has decided."""

    alternative: float
    llr: float = 0.0
    state: TestState = "running"

    def update(self, wins: int, losses: int, ties: int, bounds: tuple[float, float]) -> None:
        if self.state != "running":
            return
        self.llr = paired_llr(wins, losses, ties, 0.0, self.alternative)
        self.state = state_of(self.llr, bounds)


class OneSidedView(Protocol):
    """What the paired tests show of each one-sided test: its LLR and its state."""

    @property
    def llr(self) -> float: ...

    @property
    def state(self) -> TestState: ...


class PairCounts:
    """What every paired test keeps and shows the same way: the counts of wins, losses and ties, the bounds at the
    observed discordance, the last look and the verdict, and each direction's LLR and state.

    A subclass sets ``direction``, ``design`` and the counters in its ``__init__`` (:meth:`_start_counts`), counts
    each pair with :meth:`_count`, and says which one-sided tests answer ``better`` and ``worse``
    (:meth:`_one_sided`).
    """

    direction: Direction
    design: PairedDesign
    _verdict: PairedVerdict | None

    def _start_counts(self) -> None:
        self._wins = 0
        self._losses = 0
        self._ties = 0
        self._bounds = self.design.bounds.for_counts(0, 0, 0)
        self._verdict = None
        self._last_look: tuple[float, float] | None = None
        self._concluded = False

    def _count(self, control_success: bool, test_success: bool) -> int:
        """Count one pair and move the bounds to the new discordance; the pair's difference (-1, 0 or +1)."""
        difference = int(test_success) - int(control_success)
        if difference > 0:
            self._wins += 1
        elif difference < 0:
            self._losses += 1
        else:
            self._ties += 1
        self._bounds = self.design.bounds.for_counts(self._wins, self._losses, self._ties)
        return difference

    def _one_sided(self) -> tuple[OneSidedView, OneSidedView]:
        """The tests of ``better`` and of ``worse``."""
        raise NotImplementedError

    @property
    def verdict(self) -> PairedVerdict | None:
        """``better``, ``worse``, ``no_difference``, ``not_better``, ``not_worse``, or ``None`` while undecided."""
        return self._verdict

    @property
    def last_look(self) -> tuple[float, float] | None:
        """The ``(accept_h0, accept_h1)`` thresholds of the last look, once it was taken."""
        return self._last_look

    @property
    def llr(self) -> dict[str, float | None]:
        """``{"better": LLR of mu=+delta vs 0, "worse": LLR of mu=-delta vs 0}`` (frozen once decided).

        A test that a one-sided ``direction`` does not run has ``None``.
        """
        better, worse = self._one_sided()
        return {
            "better": None if self.direction == "worse" else better.llr,
            "worse": None if self.direction == "better" else worse.llr,
        }

    @property
    def bounds(self) -> tuple[float, float]:
        """The bounds at the observed discordance of the last pair (constant for Wald's design)."""
        return self._bounds

    @property
    def states(self) -> dict[str, TestState | None]:
        """Each one-sided test's state (``None`` for a test the direction does not run)."""
        better, worse = self._one_sided()
        return {
            "better": None if self.direction == "worse" else better.state,
            "worse": None if self.direction == "better" else worse.state,
        }

    @property
    def pairs(self) -> int:
        return self._wins + self._losses + self._ties

    @property
    def wins(self) -> int:
        """Pairs only the test arm solved (D = +1)."""
        return self._wins

    @property
    def losses(self) -> int:
        """Pairs only the control arm solved (D = -1)."""
        return self._losses

    @property
    def ties(self) -> int:
        """Pairs with equal outcomes (D = 0)."""
        return self._ties


class PairedSequentialTest(PairCounts):
    """Control vs test on pairs: two one-sided trinomial GSPRTs run together (see the module docstring).

    The first crossing of an upper bound decides ``better`` (improvement test) or ``worse`` (regression test)
    and is final. A test whose LLR crosses its lower bound has accepted its H0 and freezes: its LLR stays at
    the value where it decided and it never decides again. When both have accepted H0 the verdict is
    ``no_difference`` (no difference of ``delta`` or more, either way). Once a verdict is reached, further
    pairs are ignored.

    ``design`` (``stats.design.PairedDesign``) gives the bounds, as functions of the observed discordance, and
    the last look at the cap; without it the bounds are Wald's constants and there is no last look. The caller
    ends a capped run with :meth:`conclude` (after the last planned pair): with a calibrated design the tests
    still running take their last look, which may decide; otherwise the verdict stays ``None``, reported as
    inconclusive. Nothing else is ever forced.

    ``direction`` asks only one question: ``"better"`` runs the improvement test alone (verdicts ``better`` or
    ``not_better``), ``"worse"`` the regression test alone (``worse`` or ``not_worse``, the CI gate's question).
    A one-sided run stops as soon as its question is answered; the two-sided default must rule out both
    directions before it can say ``no_difference``, which takes about 1.5x as many pairs when there is no
    difference (the later of two negatively correlated stopping times).
    """

    def __init__(
        self, settings: SequentialSettings, direction: Direction = "both", design: PairedDesign | None = None
    ) -> None:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")

        self.settings = settings
        self.direction: Direction = direction
        self.design = design or wald_design(settings.alpha, settings.beta, settings.delta, direction)
        self._improvement = _OneSidedGsprt(settings.delta)
        self._regression = _OneSidedGsprt(-settings.delta)
        self._start_counts()

    def _one_sided(self) -> tuple[OneSidedView, OneSidedView]:
        return self._improvement, self._regression

    def add_pair(self, control_success: bool, test_success: bool) -> None:
        """Feed one pair (both arms of one task and trial index). O(1). Ignored once decided."""
        if self._verdict is not None or self._concluded:
            return
        self._count(control_success, test_success)
        if self.direction != "worse":
            self._improvement.update(self._wins, self._losses, self._ties, self._bounds)
        if self.direction != "better":
            self._regression.update(self._wins, self._losses, self._ties, self._bounds)
        self._verdict = combine_states(self._improvement.state, self._regression.state, self.direction)

    def conclude(self) -> PairedVerdict | None:
        """End the run at its cap: the tests still running take the design's last look (if it has one).

        A test claims H1 at or above the look's ``accept_h1`` (the improvement test is read first), H0 at or
        below ``accept_h0``; with both tests running, ``no_difference`` needs both at or below it. Anything else
        leaves the verdict ``None`` (inconclusive). Further pairs are ignored afterwards.
        """
        if self._verdict is not None or self._concluded:
            return self._verdict
        self._concluded = True
        look = self.design.last_look(self.pairs)
        if look is None:
            return None
        self._last_look = look
        accept_h0, accept_h1 = look
        tests = [
            test
            for test, asked in (
                (self._improvement, self.direction != "worse"),
                (self._regression, self.direction != "better"),
            )
            if asked and test.state == "running"
        ]
        claimed = next((test for test in tests if test.llr >= accept_h1), None)
        if claimed is not None:
            claimed.state = "accepted_h1"
        elif tests and all(test.llr <= accept_h0 for test in tests):
            for test in tests:
                test.state = "accepted_h0"
        self._verdict = combine_states(self._improvement.state, self._regression.state, self.direction)
        return self._verdict

    @property
    def decided_at_last_look(self) -> bool:
        """Whether the verdict came from the last look at the cap (not from a boundary crossing)."""
        return self._verdict is not None and self._last_look is not None

    def snapshot(self) -> dict[str, object]:
        """Plain, JSON-able state for reports and progress lines."""
        lower, upper = self.bounds
        return {
            "verdict": self._verdict,
            "pairs": self.pairs,
            "wins": self._wins,
            "losses": self._losses,
            "ties": self._ties,
            "llr": self.llr,
            "bounds": [lower, upper],
            "tests": {"better": self._improvement.state, "worse": self._regression.state},
            "direction": self.direction,
            "design": self.design.source,
            "last_look": list(self._last_look) if self._last_look is not None else None,
            "alpha": self.settings.alpha,
            "beta": self.settings.beta,
            "delta": self.settings.delta,
        }


class TargetSequentialTest:
    """One config against a target success rate ``P``: Wald's binomial SPRT.

    Orientation: H0: p = P - delta ("below target") against H1: p = P ("meets target"). Accepting H1 gives
    ``meets_target``, accepting H0 gives ``below_target``. So a config whose true rate is P - delta or
    lower is declared ``meets_target`` with probability about <= alpha, and one whose rate is P or higher is
    declared ``below_target`` with probability about <= beta (Wald's bounds are conservative on Bernoulli
    data; the exact rates come from ``pytest_agentopt.stats.oc``). Rates strictly between P - delta and P are
    the indifference zone. ``bounds`` overrides Wald's bounds (e.g. with exactly tuned ones).

    ``design`` (``stats.target_design.TargetDesign``, for these settings and Wald's bounds) gives the last look
    at the cap: :meth:`conclude` (after the last planned trial) then decides on the successes so far, with both
    error rates still at most alpha and beta; without it an undecided run at the cap stays ``None``.
    """

    def __init__(
        self,
        target: float,
        settings: SequentialSettings,
        *,
        bounds: tuple[float, float] | None = None,
        design: TargetDesign | None = None,
    ) -> None:
        _check_probability("target", target)
        if target - settings.delta <= 0.0:
            raise ValueError(f"target - delta must be > 0, got target={target!r}, delta={settings.delta!r}")
        self.settings = settings
        self.target = target
        self.p0 = target - settings.delta
        self.p1 = target
        lower, upper = bounds if bounds is not None else settings.bounds
        if not lower < 0.0 < upper:
            raise ValueError(f"bounds must satisfy lower < 0 < upper, got {(lower, upper)!r}")
        self._bounds = (lower, upper)
        self._success_step = math.log(self.p1 / self.p0)
        self._failure_step = math.log((1.0 - self.p1) / (1.0 - self.p0))
        self._trials = 0
        self._successes = 0
        self._llr = 0.0
        self._verdict: TargetVerdict | None = None
        self.design = design
        self._concluded = False
        self._decided_at_last_look = False

    def add_trial(self, success: bool) -> None:
        """Feed one scored trial. O(1). Ignored once decided or concluded."""
        if self._verdict is not None or self._concluded:
            return
        self._trials += 1
        self._successes += int(success)
        # Recomputed from the counts (not accumulated) so the value never drifts and equals binomial_llr.
        failures = self._trials - self._successes
        self._llr = self._successes * self._success_step + failures * self._failure_step
        lower, upper = self._bounds
        if self._llr >= upper:
            self._verdict = "meets_target"
        elif self._llr <= lower:
            self._verdict = "below_target"

    def conclude(self) -> TargetVerdict | None:
        """End the run at its cap: an undecided run takes the design's last look (if it has one) on its successes.

        Anything the look leaves undecided stays ``None`` (inconclusive). Further trials are ignored afterwards.
        """
        if self._verdict is not None or self._concluded:
            return self._verdict
        self._concluded = True
        if self.design is not None:
            verdict = self.design.last_look(self._trials, self._successes)
            if verdict is not None:
                self._verdict = cast(TargetVerdict, verdict)
                self._decided_at_last_look = True
        return self._verdict

    @property
    def decided_at_last_look(self) -> bool:
        """Whether the verdict came from the last look at the cap (not from a boundary crossing)."""
        return self._decided_at_last_look

    @property
    def verdict(self) -> TargetVerdict | None:
        """``meets_target``, ``below_target``, or ``None`` while still running."""
        return self._verdict

    @property
    def llr(self) -> float:
        return self._llr

    @property
    def bounds(self) -> tuple[float, float]:
        return self._bounds

    @property
    def trials(self) -> int:
        return self._trials

    @property
    def successes(self) -> int:
        return self._successes

    def snapshot(self) -> dict[str, object]:
        """Plain, JSON-able state for reports and progress lines."""
        lower, upper = self._bounds
        return {
            "verdict": self._verdict,
            "target": self.target,
            "p0": self.p0,
            "p1": self.p1,
            "trials": self._trials,
            "successes": self._successes,
            "llr": self._llr,
            "bounds": [lower, upper],
            "alpha": self.settings.alpha,
            "beta": self.settings.beta,
            "delta": self.settings.delta,
        }
