"""Generalized likelihood ratio for two independent binomials (the ``agentopt sprt`` check without pairs).

When only each arm's successes out of trials are known, the comparison of ``mu = p_test - p_control`` with 0 uses
the profile likelihood: for a fixed ``mu`` the common nuisance (the control rate) is set to its maximum-likelihood
value, and ``LLR(mu1 vs mu0) = l(mu1) - l(mu0)``. The profile log-likelihood is concave in the nuisance, so
scipy's bounded scalar minimiser (Brent's method) finds its maximum; the interval's ends are compared as well, where
a rate of 0 or 1 can be the maximum.
"""

from __future__ import annotations

import math

from scipy.optimize import minimize_scalar

_TOLERANCE = 1e-12


def _log_likelihood(sc: int, fc: int, st: int, ft: int, p_control: float, mu: float) -> float:
    p_test = p_control + mu
    total = 0.0
    for count, probability in ((sc, p_control), (fc, 1 - p_control), (st, p_test), (ft, 1 - p_test)):
        if count:
            if probability <= 0:
                return -math.inf
            total += count * math.log(probability)
    return total


def profile_log_likelihood(sc: int, nc: int, st: int, nt: int, mu: float) -> float:
    """``max over p_control`` of the joint binomial log-likelihood subject to ``p_test = p_control + mu``."""
    if not -1 < mu < 1:
        raise ValueError(f"mu must be in (-1, 1), got {mu!r}")
    for name, successes, trials in (("control", sc, nc), ("test", st, nt)):
        if trials < 0 or not 0 <= successes <= trials:
            raise ValueError(f"{name}: successes must be between 0 and trials, got {successes}/{trials}")
    fc, ft = nc - sc, nt - st
    low, high = max(0.0, -mu), min(1.0, 1.0 - mu)
    found = minimize_scalar(
        lambda p: -_log_likelihood(sc, fc, st, ft, p, mu),
        bounds=(low, high),
        method="bounded",
        options={"xatol": _TOLERANCE},
    )
    candidates = (low, high, float(found.x))
    return max(_log_likelihood(sc, fc, st, ft, x, mu) for x in candidates)


def unpaired_llr(sc: int, nc: int, st: int, nt: int, mu0: float, mu1: float) -> float:
    """``l(mu1) - l(mu0)`` for control ``sc`` of ``nc`` and test ``st`` of ``nt``."""
    return profile_log_likelihood(sc, nc, st, nt, mu1) - profile_log_likelihood(sc, nc, st, nt, mu0)
