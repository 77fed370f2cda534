"""Exact operating characteristic and sample-size distribution of the binomial SPRT, by dynamic programming.

The SPRT of Bernoulli(p1) against Bernoulli(p0) (p0 < p1) after ``n`` trials with ``s`` successes has
``LLR(n, s) = s log(p1/p0) + (n - s) log((1-p1)/(1-p0))``; it continues while ``lower < LLR < upper``. The
probability mass of the states that are still running is propagated one trial at a time over the lattice.
For fixed ``n`` the continuation region is an interval of ``s`` whose width, ``(upper - lower) / log(p1 q0 /
(p0 q1))`` plus one, does not grow with ``n``, so only that band is stored: the cost is O(band x trials).

Truncated (``max_n``): at the cap the run ends undecided. Not truncated: the propagation stops once the mass
still running is below ``1e-12``; that residue is reported as ``undecided``.

Wald's approximations (which ignore the overshoot over the bounds) are given beside the exact figures, and
``tuned_bounds`` finds the bounds whose *exact* error rates are at, not above, the targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_agentopt.stats.wald import wald_bounds

__all__ = [
    "OperatingCharacteristic",
    "binomial_sprt_oc",
    "stopping_quantile",
    "tuned_bounds",
    "wald_asn_approximation",
    "wald_oc_approximation",
]

_RESIDUAL_MASS = 1e-12


@dataclass(frozen=True)
class OperatingCharacteristic:
    """Exact behaviour of one SPRT at one true success rate ``p``."""

    p: float
    accept_h1: float
    accept_h0: float
    undecided: float
    """Probability that the cap was reached (or, untruncated, the < 1e-12 mass left when the DP stopped)."""
    asn: float
    """Expected number of trials (average sample number)."""
    max_trials: int
    """Worst case: the cap when it can be reached, else the largest number of trials with any mass."""
    stopping_probabilities: tuple[float, ...]
    """``stopping_probabilities[n]`` = P(the run ends after exactly ``n`` trials), ``n = 0 .. max_trials``."""

    def quantile(self, q: float) -> int:
        """The smallest ``n`` with P(N <= n) >= ``q`` (e.g. ``q = 0.95`` for the 95th percentile)."""
        return stopping_quantile(self.stopping_probabilities, q)


def stopping_quantile(stopping_probabilities: tuple[float, ...], q: float) -> int:
    """The smallest ``n`` with P(N <= n) >= ``q``, from the probabilities of stopping after exactly ``n``."""
    if not 0.0 < q <= 1.0:
        raise ValueError(f"q must be in (0, 1], got {q!r}")
    cumulative = 0.0
    for n, mass in enumerate(stopping_probabilities):
        cumulative += mass
        # Relative slack for the rounding of the running sum (and the untruncated residue).
        if cumulative >= q - 1e-12:
            return n
    return len(stopping_probabilities) - 1


def _check_hypotheses(p0: float, p1: float) -> None:
    if not 0.0 < p0 < p1 < 1.0:
        raise ValueError(f"need 0 < p0 < p1 < 1, got p0={p0!r}, p1={p1!r}")


def _resolve_bounds(alpha: float, beta: float, bounds: tuple[float, float] | None) -> tuple[float, float]:
    lower, upper = wald_bounds(alpha, beta) if bounds is None else bounds
    if not lower < 0.0 < upper:
        raise ValueError(f"bounds must satisfy lower < 0 < upper, got {(lower, upper)!r}")
    return (lower, upper)


def binomial_sprt_oc(
    p: float,
    p0: float,
    p1: float,
    alpha: float,
    beta: float,
    *,
    max_n: int | None = None,
    bounds: tuple[float, float] | None = None,
) -> OperatingCharacteristic:
    """Exact OC, ASN and stopping distribution of the binomial SPRT when the true rate is ``p``.

    ``bounds`` overrides Wald's bounds from (alpha, beta). ``alpha_exact`` is ``accept_h1`` at ``p = p0``,
    ``beta_exact`` is ``accept_h0`` at ``p = p1``.
    """
    _check_hypotheses(p0, p1)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    if max_n is not None and max_n < 1:
        raise ValueError(f"max_n must be >= 1, got {max_n!r}")
    lower, upper = _resolve_bounds(alpha, beta, bounds)
    success_step = math.log(p1 / p0)
    failure_step = math.log((1.0 - p1) / (1.0 - p0))
    q = 1.0 - p

    # ``running[i]`` = P(still running after n trials with s = offset + i successes). Plain lists: the band is
    # a handful of states for practical effect sizes, where numpy's per-call overhead would dominate.
    offset = 0
    running = [1.0]
    accept_h1 = accept_h0 = 0.0
    stopping = [0.0]
    n = 0
    while True:
        n += 1
        grown = [running[0] * q]
        grown.extend([running[i] * q + running[i - 1] * p for i in range(1, len(running))])
        grown.append(running[-1] * p)
        # LLR increases with s, so the decided states sit at the two ends of the band. Same expression as
        # binomial_llr / TargetSequentialTest, so the lattice decisions agree exactly.
        first, last = 0, len(grown) - 1
        decided_h0 = decided_h1 = 0.0
        while first <= last:
            s = offset + first
            if s * success_step + (n - s) * failure_step > lower:
                break
            decided_h0 += grown[first]
            first += 1
        while last >= first:
            s = offset + last
            if s * success_step + (n - s) * failure_step < upper:
                break
            decided_h1 += grown[last]
            last -= 1
        accept_h0 += decided_h0
        accept_h1 += decided_h1
        stopping.append(decided_h0 + decided_h1)
        running = grown[first : last + 1]
        offset += first
        remaining = sum(running)
        if max_n is not None and n >= max_n:
            stopping[-1] += remaining
            undecided = remaining
            break
        if not running or remaining == 0.0 or (max_n is None and remaining < _RESIDUAL_MASS):
            undecided = remaining
            break
    # Drop trailing zero-mass trials: max_trials is the largest n with mass (the cap stays if reached).
    while len(stopping) > 1 and stopping[-1] == 0.0:
        stopping.pop()
    asn = float(sum(k * m for k, m in enumerate(stopping)))
    return OperatingCharacteristic(
        p=p,
        accept_h1=accept_h1,
        accept_h0=accept_h0,
        undecided=undecided,
        asn=asn,
        max_trials=len(stopping) - 1,
        stopping_probabilities=tuple(stopping),
    )


def _wald_h(p: float, p0: float, p1: float) -> float:
    """Wald's nonzero root ``h`` of ``p (p1/p0)^h + (1-p) ((1-p1)/(1-p0))^h = 1`` (0 at the zero-drift p)."""
    success_step = math.log(p1 / p0)
    failure_step = math.log((1.0 - p1) / (1.0 - p0))
    drift = p * success_step + (1.0 - p) * failure_step
    if abs(drift) < 1e-12:
        return 0.0

    def moment_generating_excess(h: float) -> float:
        return p * math.exp(h * success_step) + (1.0 - p) * math.exp(h * failure_step) - 1.0

    # The function is convex with a zero at h = 0; the other zero has the sign opposite to the drift.
    direction = -1.0 if drift > 0 else 1.0
    near, far = direction * 1e-9, direction * 1.0
    while moment_generating_excess(far) < 0.0:
        far *= 2.0
    for _ in range(200):
        middle = (near + far) / 2.0
        if moment_generating_excess(middle) < 0.0:
            near = middle
        else:
            far = middle
    return (near + far) / 2.0


def wald_oc_approximation(
    p: float,
    p0: float,
    p1: float,
    alpha: float,
    beta: float,
    *,
    bounds: tuple[float, float] | None = None,
) -> float:
    """Wald's approximate probability of accepting H0 (the OC function L(p)), ignoring overshoot."""
    _check_hypotheses(p0, p1)
    lower, upper = _resolve_bounds(alpha, beta, bounds)
    h = _wald_h(p, p0, p1)
    if h == 0.0:
        return upper / (upper - lower)
    # L = (e^{h b} - 1) / (e^{h b} - e^{h a}), computed stably for either sign of h.
    if h > 0:
        return -math.expm1(-h * upper) / (1.0 - math.exp(h * (lower - upper)))
    return math.expm1(h * upper) / (math.exp(h * upper) - math.exp(h * lower))


def wald_asn_approximation(
    p: float,
    p0: float,
    p1: float,
    alpha: float,
    beta: float,
    *,
    bounds: tuple[float, float] | None = None,
) -> float:
    """Wald's approximate expected number of trials at true rate ``p``, ignoring overshoot."""
    _check_hypotheses(p0, p1)
    lower, upper = _resolve_bounds(alpha, beta, bounds)
    success_step = math.log(p1 / p0)
    failure_step = math.log((1.0 - p1) / (1.0 - p0))
    drift = p * success_step + (1.0 - p) * failure_step
    if abs(drift) < 1e-12:
        second_moment = p * success_step**2 + (1.0 - p) * failure_step**2
        return -lower * upper / second_moment
    accept_h0 = wald_oc_approximation(p, p0, p1, alpha, beta, bounds=(lower, upper))
    return (accept_h0 * lower + (1.0 - accept_h0) * upper) / drift


def tuned_bounds(
    p0: float,
    p1: float,
    alpha: float,
    beta: float,
    *,
    max_n: int | None = None,
    tolerance: float = 1e-4,
    max_rounds: int = 20,
) -> tuple[float, float]:
    """Bounds whose exact error rates are at, not above, ``alpha`` and ``beta``.

    Wald's bounds are conservative on Bernoulli data (the LLR overshoots them), so both can move toward 0.
    Coordinate-wise bisection with the exact DP: lower the upper bound as far as exact alpha stays <= alpha,
    then raise the lower bound as far as exact beta stays <= beta, and repeat until neither moves by more than
    ``tolerance``. Each half-step keeps both constraints: raising the lower bound only decreases alpha, and
    lowering the upper bound only decreases beta. Every bisection keeps the end that satisfies its constraint,
    so the result is feasible (within ``tolerance`` of the least conservative bound on each side).
    """
    _check_hypotheses(p0, p1)
    lower, upper = wald_bounds(alpha, beta)

    def exact_alpha(low: float, up: float) -> float:
        return binomial_sprt_oc(p0, p0, p1, alpha, beta, max_n=max_n, bounds=(low, up)).accept_h1

    def exact_beta(low: float, up: float) -> float:
        return binomial_sprt_oc(p1, p0, p1, alpha, beta, max_n=max_n, bounds=(low, up)).accept_h0

    if exact_alpha(lower, upper) > alpha or exact_beta(lower, upper) > beta:
        # Wald only guarantees alpha' <= alpha / (1 - beta); this search moves the bounds inward only.
        raise ValueError("Wald's bounds already exceed the target error rates; cannot tune inward")
    for _ in range(max_rounds):
        # Upper bound: feasible at ``upper``, search down toward (just above) zero.
        feasible, infeasible = upper, tolerance
        if exact_alpha(lower, infeasible) <= alpha:
            feasible = infeasible
        while feasible - infeasible > tolerance:
            middle = (feasible + infeasible) / 2.0
            if exact_alpha(lower, middle) <= alpha:
                feasible = middle
            else:
                infeasible = middle
        new_upper = feasible
        # Lower bound: feasible at ``lower``, search up toward (just below) zero.
        feasible, infeasible = lower, -tolerance
        if exact_beta(infeasible, new_upper) <= beta:
            feasible = infeasible
        while infeasible - feasible > tolerance:
            middle = (feasible + infeasible) / 2.0
            if exact_beta(middle, new_upper) <= beta:
                feasible = middle
            else:
                infeasible = middle
        new_lower = feasible
        moved = abs(new_upper - upper) > tolerance or abs(new_lower - lower) > tolerance
        lower, upper = new_lower, new_upper
        if not moved:
            break
    return (lower, upper)
