"""Planning figures: fixed-sample sizes and lower bounds on the average sample size of any sequential test.

One config against a rate (one-sample, one-sided): H0: p = p0 vs H1: p = p1 = p0 + delta.
Paired A/B: D = success_test - success_control in {-1, 0, +1}, H0: E[D] = 0 vs H1: E[D] = delta.

Task difficulty spread
----------------------
Agent benchmarks mix easy and hard tasks, so the two outcomes of a pair are correlated. The model: each task
has a logit shift ``u ~ N(0, sigma^2)`` shared by both arms, and arm ``a`` succeeds with probability
``expit(c_a + u)``; the intercepts ``c_a`` are calibrated so that the *marginal* rates are the stated ones
(``E[expit(c_a + u)] = p_a``). The pair outcome probabilities are expectations over ``u``, computed with
Gauss-Hermite quadrature (``_QUADRATURE_NODES`` nodes: the integrands are smooth and bounded, and the
figures are stable to many more digits than reported). ``sigma = 0`` is independent outcomes.

Lower bounds on the expected sample size (Wald 1945, Hoeffding 1960)
--------------------------------------------------------------------
Any test with error rates (alpha, beta) needs on average at least
``E0[N] >= ((1-a) log((1-a)/b) + a log(a/(1-b))) / K0`` and
``E1[N] >= ((1-b) log((1-b)/a) + b log(b/(1-a))) / K1`` observations, where K is the Kullback-Leibler
divergence per observation from the true distribution to the *nearest* distribution of the other hypothesis.
For the one-sample test both hypotheses are simple: ``K0 = KL(Bern(p0) || Bern(p1))``,
``K1 = KL(Bern(p1) || Bern(p0))``. For the paired test the hypotheses are composite (the discordance rate is
free): ``K1 = min KL(P1 || Q)`` over trinomials Q with mean 0, and ``K0 = min KL(P0 || Q)`` over trinomials
with mean delta, where P1 is the pair distribution under (p_control, p_test) and P0 the one with *both* arms
at the control rate, under the same task model. The minimiser is the constrained MLE of the trinomial with the
true distribution as "counts" (``constrained_trinomial_mle``). This is the definition that gives the
planning figures of docs/statistics.md (85.2 / 93.2 without spread, 54.2 / 59.7 with sigma = 2).
``asn_lower_bounds_trinomial`` takes P0, P1 and the alternative mean directly, so it also plans a regression test
(a negative mean);
``asn_lower_bounds_paired`` is its improvement case under the task model.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from pytest_agentopt.stats.sprt import constrained_trinomial_mle

__all__ = [
    "asn_lower_bounds_one_sample",
    "asn_lower_bounds_paired",
    "asn_lower_bounds_trinomial",
    "fixed_n_mcnemar",
    "fixed_n_one_sample",
    "logit_intercept",
    "paired_outcome_probabilities",
]

_QUADRATURE_NODES = 96


def _check_rates(name0: str, p0: float, name1: str, p1: float) -> None:
    for name, value in ((name0, p0), (name1, p1)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    if not p0 < p1:
        raise ValueError(f"{name1} must be greater than {name0}, got {name0}={p0!r}, {name1}={p1!r}")


def _check_error_rates(alpha: float, beta: float) -> None:
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not 0.0 < value < 0.5:
            raise ValueError(f"{name} must be in (0, 0.5), got {value!r}")


def _one_sided_z(level: float) -> float:
    return NormalDist().inv_cdf(1.0 - level)


def fixed_n_one_sample(p0: float, p1: float, alpha: float, beta: float) -> int:
    """Trials for the one-sided one-sample test (normal approximation), rounded up.

    ``n = ((z_{1-alpha} sqrt(p0 q0) + z_{1-beta} sqrt(p1 q1)) / (p1 - p0))^2``.
    """
    _check_rates("p0", p0, "p1", p1)
    _check_error_rates(alpha, beta)
    numerator = _one_sided_z(alpha) * math.sqrt(p0 * (1 - p0)) + _one_sided_z(beta) * math.sqrt(p1 * (1 - p1))
    return math.ceil((numerator / (p1 - p0)) ** 2 - 1e-9)


FloatArray = npt.NDArray[np.float64]


def _gauss_hermite() -> tuple[FloatArray, FloatArray]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(_QUADRATURE_NODES)
    return nodes, weights / weights.sum()  # probabilists' weights: E[f(Z)] for Z ~ N(0, 1)


def _expit(x: FloatArray) -> FloatArray:
    result: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))  # the logistic function, without overflow
    return result


def _logit_intercept(rate: float, spread_sigma: float, nodes: FloatArray, weights: FloatArray) -> float:
    """The intercept c with E[expit(c + sigma Z)] = rate (Brent's root finder: the mean is increasing in c)."""
    if spread_sigma == 0.0:
        return math.log(rate / (1.0 - rate))
    bound = 10.0 + 10.0 * spread_sigma
    root: float = brentq(
        lambda c: float(np.dot(weights, _expit(c + spread_sigma * nodes))) - rate, -bound, bound, xtol=1e-14
    )
    return root


def logit_intercept(rate: float, spread_sigma: float) -> float:
    """The logit intercept ``c`` with ``E[expit(c + u)] = rate`` for ``u ~ N(0, spread_sigma^2)`` (the task model)."""
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must be in (0, 1), got {rate!r}")
    if spread_sigma < 0.0:
        raise ValueError(f"spread_sigma must be >= 0, got {spread_sigma!r}")
    nodes, weights = _gauss_hermite()
    return _logit_intercept(rate, spread_sigma, nodes, weights)


def paired_outcome_probabilities(
    p_control: float, p_test: float, spread_sigma: float = 0.0
) -> tuple[float, float, float]:
    """``(P(D = -1), P(D = 0), P(D = +1))`` for the task model of the module docstring."""
    for name, value in (("p_control", p_control), ("p_test", p_test)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    if spread_sigma < 0.0:
        raise ValueError(f"spread_sigma must be >= 0, got {spread_sigma!r}")
    if spread_sigma == 0.0:
        win = p_test * (1.0 - p_control)
        loss = p_control * (1.0 - p_test)
        return (loss, 1.0 - win - loss, win)
    nodes, weights = _gauss_hermite()
    control = _expit(_logit_intercept(p_control, spread_sigma, nodes, weights) + spread_sigma * nodes)
    test = _expit(_logit_intercept(p_test, spread_sigma, nodes, weights) + spread_sigma * nodes)
    win = float(np.dot(weights, test * (1.0 - control)))
    loss = float(np.dot(weights, control * (1.0 - test)))
    return (loss, 1.0 - win - loss, win)


def fixed_n_mcnemar(p_control: float, p_test: float, alpha: float, beta: float, spread_sigma: float = 0.0) -> int:
    """Pairs for the one-sided McNemar test (Connor 1987), rounded up.

    ``n = (z_{1-alpha} sqrt(psi) + z_{1-beta} sqrt(psi - delta^2))^2 / delta^2`` with ``psi`` the
    discordance probability ``P(D != 0)`` and ``delta = p_test - p_control``.
    """
    _check_rates("p_control", p_control, "p_test", p_test)
    _check_error_rates(alpha, beta)
    loss, _, win = paired_outcome_probabilities(p_control, p_test, spread_sigma)
    discordance = loss + win
    delta = win - loss
    numerator = _one_sided_z(alpha) * math.sqrt(discordance) + _one_sided_z(beta) * math.sqrt(
        discordance - delta * delta
    )
    return math.ceil(numerator * numerator / (delta * delta) - 1e-9)


def _wald_hoeffding_numerators(alpha: float, beta: float) -> tuple[float, float]:
    under_h0 = (1 - alpha) * math.log((1 - alpha) / beta) + alpha * math.log(alpha / (1 - beta))
    under_h1 = (1 - beta) * math.log((1 - beta) / alpha) + beta * math.log(beta / (1 - alpha))
    return under_h0, under_h1


def _kl(p: tuple[float, ...], q: tuple[float, ...]) -> float:
    return sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True) if pi > 0.0)


def asn_lower_bounds_one_sample(p0: float, p1: float, alpha: float, beta: float) -> tuple[float, float]:
    """Lower bounds on E[N] under H0 and under H1 for any test of p0 vs p1 with these error rates."""
    _check_rates("p0", p0, "p1", p1)
    _check_error_rates(alpha, beta)
    under_h0, under_h1 = _wald_hoeffding_numerators(alpha, beta)
    bernoulli0, bernoulli1 = (p0, 1.0 - p0), (p1, 1.0 - p1)
    return (under_h0 / _kl(bernoulli0, bernoulli1), under_h1 / _kl(bernoulli1, bernoulli0))


def _check_trinomial(name: str, distribution: tuple[float, float, float]) -> None:
    if min(distribution) < 0.0 or not math.isclose(sum(distribution), 1.0, abs_tol=1e-9):
        raise ValueError(f"{name} must be a distribution on (-1, 0, +1), got {distribution!r}")


def asn_lower_bounds_trinomial(
    null: tuple[float, float, float],
    alternative: tuple[float, float, float],
    alternative_mean: float,
    alpha: float,
    beta: float,
) -> tuple[float, float]:
    """Lower bounds on the expected number of pairs (H0, H1) for any test of E[D] = 0 against E[D] =
    ``alternative_mean`` with these error rates.

    ``null`` and ``alternative`` are the true pair distributions ``(P(D=-1), P(D=0), P(D=+1))`` under H0 and
    H1; the divergences are to the nearest trinomial of the other hypothesis (see the module docstring). A
    negative ``alternative_mean`` plans a regression test.
    """
    _check_trinomial("null", null)
    _check_trinomial("alternative", alternative)
    if not -1.0 < alternative_mean < 1.0 or alternative_mean == 0.0:
        raise ValueError(f"alternative_mean must be in (-1, 1) and not 0, got {alternative_mean!r}")
    _check_error_rates(alpha, beta)
    under_h0, under_h1 = _wald_hoeffding_numerators(alpha, beta)
    divergence_h0 = _kl(null, constrained_trinomial_mle(null, alternative_mean))
    divergence_h1 = _kl(alternative, constrained_trinomial_mle(alternative, 0.0))
    return (under_h0 / divergence_h0, under_h1 / divergence_h1)


def asn_lower_bounds_paired(
    p_control: float, p_test: float, alpha: float, beta: float, spread_sigma: float = 0.0
) -> tuple[float, float]:
    """Lower bounds on the expected number of pairs (H0, H1) for any paired test with these error rates.

    H1: the pair distribution at (p_control, p_test); H0: both arms at p_control. See the module docstring.
    """
    _check_rates("p_control", p_control, "p_test", p_test)
    _check_error_rates(alpha, beta)
    return asn_lower_bounds_trinomial(
        paired_outcome_probabilities(p_control, p_control, spread_sigma),
        paired_outcome_probabilities(p_control, p_test, spread_sigma),
        p_test - p_control,
        alpha,
        beta,
    )
