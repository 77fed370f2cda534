"""How few pairs can a two-sided paired test use when there is no difference? The bound, and where ours stands.

Run ``python scripts/two_sided_bound.py`` (about 4 minutes on one core; ``--steps 6 --max-pairs 250`` for a rough
look). ``docs/statistics.md`` ("How close to optimal is the two-sided test?") explains the method and holds the
latest output. Research code: the plugin never imports it. ``pytest tests -m slow`` checks the computation
(``tests/unit/stats/test_stats_two_sided_bound.py``). For each paired scenario (no difference, both arms at the
control rate) it prints:

- the planning bound for a *one-sided* test (``stats.planning``, Wald 1945 / Hoeffding 1960), the yardstick of
  ``agentopt plan``;
- the least E0[N] of *any two-sided* test with the same error rates per direction (below: backward induction and
  Lagrangian duality; a lower bound for every test that stops by ``--max-pairs``);
- the exact average number of pairs of the plugin's own paired test, two-sided (the default) and one-sided
  (``--agent-direction better``), from ``stats.paired_oc`` (no simulation).

Why. The paired test's default question is two-sided: ``better``, ``worse`` or ``no_difference``. Under H0 (no
difference) it must rule out both +delta and -delta before it may stop. The planning bound of
:func:`~pytest_agentopt.stats.planning.asn_lower_bounds_trinomial` is for one alternative only, so it is not
attainable by a two-sided test, and it is not the right yardstick for one. This script computes the right one.

The problem. Pairs are i.i.d. trinomials on ``(-1, 0, +1)``. Under H0 they follow ``null``; the alternatives
are the trinomials with mean ``+delta`` and ``-delta`` nearest to ``null`` in Kullback-Leibler divergence (the
least favourable points of the composite hypotheses: a test that keeps its error rates over all of H1 keeps them
there, so a bound for these simple alternatives is a bound for the composite problem; the nearest ones are the
hardest to tell from the null, as in the one-sided bound). The error constraints are those of the plugin's
paired test: ``P0(better) <= alpha``, ``P0(worse) <= alpha``, ``P+(not better) <= beta``,
``P-(not worse) <= beta``.

The method (Lagrangian duality). For multipliers ``lam_alpha, lam_beta >= 0``, backward induction over the
lattice of counts ``(wins, losses, ties)`` finds the test that minimises

    E0[N] + lam_alpha * (P0(better) + P0(worse)) + lam_beta * (P+(not better) + P-(not worse))

among all tests that stop by ``max_pairs``: at each count, stop with the cheapest decision or continue, whichever
costs less (costs are expressed relative to the null probability of the path, so they depend only on the
likelihood ratios). Call the minimum ``V(lam)``. Any test meeting the constraints has
``E0[N] >= V(lam) - 2 * lam_alpha * alpha - 2 * lam_beta * beta`` for *every* ``lam``: this is weak duality, and
it makes every evaluated multiplier pair a valid lower bound, however the search goes. The search adjusts the
multipliers until the minimising test's own error rates meet the constraints (the supergradient of the dual is
zero there), where the bound is the optimum itself: the least ``E0[N]`` of any such test truncated at
``max_pairs``. A forward pass computes that test's exact error rates and average numbers of pairs.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from tabulate import tabulate

from pytest_agentopt.stats.paired_oc import paired_test_oc
from pytest_agentopt.stats.planning import asn_lower_bounds_paired, paired_outcome_probabilities
from pytest_agentopt.stats.sprt import constrained_trinomial_mle

FloatArray = npt.NDArray[np.float64]
Trinomial = tuple[float, float, float]
# Decisions in the rule arrays.
BETTER, WORSE, NO_DIFFERENCE, CONTINUE = 0, 1, 2, 3


@dataclass(frozen=True)
class DualPoint:
    """The optimal test for one pair of multipliers, with its exact operating characteristic."""

    lam_alpha: float
    lam_beta: float
    objective: float
    """``V(lam)``, the minimum of the Lagrangian (from the backward induction)."""
    asn_null: float
    asn_better: float
    """Expected pairs when the truth is the +delta alternative."""
    alpha_better: float
    """``P0(better)``."""
    alpha_worse: float
    beta_better: float
    """``P+(not better)``."""
    beta_worse: float
    """``P-(not worse)``."""

    def bound(self, alpha: float, beta: float) -> float:
        """The lower bound on E0[N] that these multipliers give for tests with error rates ``alpha``, ``beta``."""
        return self.objective - 2.0 * self.lam_alpha * alpha - 2.0 * self.lam_beta * beta


@dataclass(frozen=True)
class TwoSidedBound:
    null: Trinomial
    plus: Trinomial
    minus: Trinomial
    alpha: float
    beta: float
    max_pairs: int
    bound: float
    """The best (largest) lower bound on E0[N] found: valid for every test meeting the constraints."""
    best: DualPoint
    """The multipliers that gave it, with their optimal test's figures."""
    points: tuple[DualPoint, ...]


def least_favourable_alternatives(null: Trinomial, delta: float) -> tuple[Trinomial, Trinomial]:
    """The trinomials with mean ``+delta`` and ``-delta`` nearest to ``null`` (KL divergence from ``null``)."""
    return constrained_trinomial_mle(null, delta), constrained_trinomial_mle(null, -delta)


def _log_ratios(alternative: Trinomial, null: Trinomial) -> tuple[float, float, float]:
    """Per-pair log likelihood ratios for a win, a loss and a tie (``-inf`` where the alternative has no mass)."""
    loss, tie, win = (math.log(a / b) if a > 0 else -math.inf for a, b in zip(alternative, null, strict=True))
    return win, loss, tie


def _layer(n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    wins = np.arange(n + 1)[:, None]
    losses = np.arange(n + 1)[None, :]
    return wins, losses, (wins + losses) <= n


def solve(
    null: Trinomial,
    plus: Trinomial,
    minus: Trinomial,
    lam_alpha: float,
    lam_beta: float,
    max_pairs: int,
) -> tuple[float, list[npt.NDArray[np.int8]]]:
    """``V(lam)`` and the optimal rule: per number of pairs ``n``, a ``(n+1, n+1)`` array indexed by
    ``[wins, losses]`` holding BETTER, WORSE, NO_DIFFERENCE or CONTINUE (entries with ``wins + losses > n`` unused).
    """
    if min(null) <= 0.0:
        raise ValueError(f"the null distribution needs mass on every outcome, got {null!r}")
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be >= 1, got {max_pairs!r}")
    p_loss, p_tie, p_win = null
    plus_win, plus_loss, plus_tie = _log_ratios(plus, null)
    minus_win, minus_loss, minus_tie = _log_ratios(minus, null)
    rules: list[npt.NDArray[np.int8]] = []
    following: FloatArray | None = None
    with np.errstate(over="ignore", invalid="ignore"):
        for n in range(max_pairs, -1, -1):
            wins, losses, valid = _layer(n)
            ties = n - wins - losses
            ratio_plus = np.exp(wins * plus_win + losses * plus_loss + ties * plus_tie)
            ratio_minus = np.exp(wins * minus_win + losses * minus_loss + ties * minus_tie)
            stops = np.stack(
                (
                    lam_alpha + lam_beta * ratio_minus,  # better: a false positive under H0, a miss under -delta
                    lam_alpha + lam_beta * ratio_plus,  # worse
                    lam_beta * (ratio_plus + ratio_minus),  # no difference: a miss under either alternative
                )
            )
            decision = np.argmin(stops, axis=0)
            cost = np.min(stops, axis=0)
            if following is not None:
                go_on = 1.0 + (
                    p_win * following[1 : n + 2, : n + 1]
                    + p_loss * following[: n + 1, 1 : n + 2]
                    + p_tie * following[: n + 1, : n + 1]
                )
                keep_going = go_on < cost
                cost = np.where(keep_going, go_on, cost)
                decision = np.where(keep_going, CONTINUE, decision)
            following = np.where(valid, cost, np.inf)
            rules.append(decision.astype(np.int8))
    rules.reverse()
    assert following is not None
    return float(following[0, 0]), rules


def evaluate_rule(rules: list[npt.NDArray[np.int8]], truth: Trinomial) -> tuple[tuple[float, float, float], float]:
    """Exact ``(P(better), P(worse), P(no_difference))`` and expected pairs of a rule when pairs follow ``truth``."""
    p_loss, p_tie, p_win = truth
    mass = np.ones((1, 1))
    decided = [0.0, 0.0, 0.0]
    expected_pairs = 0.0
    for n, rule in enumerate(rules):
        if n > 0:
            grown = np.zeros((n + 1, n + 1))
            grown[1:, :n] += p_win * mass
            grown[:n, 1:] += p_loss * mass
            grown[:n, :n] += p_tie * mass
            mass = grown
        for decision in (BETTER, WORSE, NO_DIFFERENCE):
            decided[decision] += float(mass[rule == decision].sum())
        mass = np.where(rule == CONTINUE, mass, 0.0)
        expected_pairs += float(mass.sum())  # P(N > n)
    return (decided[0], decided[1], decided[2]), expected_pairs


def dual_point(
    null: Trinomial, plus: Trinomial, minus: Trinomial, lam_alpha: float, lam_beta: float, max_pairs: int
) -> DualPoint:
    objective, rules = solve(null, plus, minus, lam_alpha, lam_beta, max_pairs)
    under_null, asn_null = evaluate_rule(rules, null)
    under_plus, asn_plus = evaluate_rule(rules, plus)
    under_minus, _ = evaluate_rule(rules, minus)
    return DualPoint(
        lam_alpha=lam_alpha,
        lam_beta=lam_beta,
        objective=objective,
        asn_null=asn_null,
        asn_better=asn_plus,
        alpha_better=under_null[0],
        alpha_worse=under_null[1],
        beta_better=1.0 - under_plus[0],
        beta_worse=1.0 - under_minus[1],
    )


def two_sided_bound(
    null: Trinomial,
    delta: float,
    *,
    alpha: float = 0.05,
    beta: float = 0.10,
    max_pairs: int = 400,
    steps: int = 10,
) -> TwoSidedBound:
    """The least E0[N] of any two-sided paired test with these error rates that stops by ``max_pairs``.

    Nested bisection on the multipliers (log scale): the inner one sets ``lam_alpha`` so that the optimal
    test's false positive rate meets ``alpha``, the outer one sets ``lam_beta`` for ``beta``. ``steps`` is the
    number of bisection steps of each (at most ``steps**2 + steps`` backward inductions). Every point evaluated is a
    valid bound; the largest is returned.
    """
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta!r}")
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not 0.0 < value < 0.5:
            raise ValueError(f"{name} must be in (0, 0.5), got {value!r}")
    plus, minus = least_favourable_alternatives(null, delta)
    points: list[DualPoint] = []

    def evaluate(lam_alpha: float, lam_beta: float) -> DualPoint:
        point = dual_point(null, plus, minus, lam_alpha, lam_beta, max_pairs)
        points.append(point)
        return point

    def fit_alpha(lam_beta: float) -> DualPoint:
        low, high = math.log(1.0), math.log(1e7)
        meets_alpha: DualPoint | None = None  # the point at ``high`` once the bisection has moved it
        for _ in range(steps):
            middle = (low + high) / 2.0
            point = evaluate(math.exp(middle), lam_beta)
            if max(point.alpha_better, point.alpha_worse) > alpha:
                low = middle
            else:
                high, meets_alpha = middle, point
        return meets_alpha if meets_alpha is not None else evaluate(math.exp(high), lam_beta)

    low, high = math.log(1.0), math.log(1e6)
    for _ in range(steps):
        middle = (low + high) / 2.0
        point = fit_alpha(math.exp(middle))
        if max(point.beta_better, point.beta_worse) > beta:
            low = middle
        else:
            high = middle
    best = max(points, key=lambda point: point.bound(alpha, beta))
    return TwoSidedBound(
        null=null,
        plus=plus,
        minus=minus,
        alpha=alpha,
        beta=beta,
        max_pairs=max_pairs,
        bound=best.bound(alpha, beta),
        best=best,
        points=tuple(points),
    )


# -- the command line -------------------------------------------------------------------------------------------

SCENARIOS = ((0.60, 0.75, 0.0), (0.60, 0.75, 2.0))
"""(control rate, control rate + delta, task spread sigma): the paired scenarios of docs/statistics.md, without
and with a spread of task difficulty."""


def scenario_row(
    p_control: float, p_test: float, sigma: float, *, alpha: float, beta: float, max_pairs: int, steps: int
) -> tuple[list[object], TwoSidedBound]:
    delta = round(p_test - p_control, 10)
    null = paired_outcome_probabilities(p_control, p_control, sigma)
    one_sided_bound, _ = asn_lower_bounds_paired(p_control, p_test, alpha, beta, sigma)
    bound = two_sided_bound(null, delta, alpha=alpha, beta=beta, max_pairs=max_pairs, steps=steps)
    ours_two_sided = paired_test_oc(null, alpha=alpha, beta=beta, delta=delta, max_pairs=2000)
    ours_one_sided = paired_test_oc(null, alpha=alpha, beta=beta, delta=delta, max_pairs=2000, direction="better")
    row: list[object] = [
        f"{p_control:.2f} vs {p_test:.2f}, sigma={sigma:g}",
        f"{one_sided_bound:.1f}",
        f"{ours_one_sided.asn:.1f} ({ours_one_sided.asn / one_sided_bound - 1:+.1%})",
        f"{bound.bound:.1f}",
        f"{ours_two_sided.asn:.1f} ({ours_two_sided.asn / bound.bound - 1:+.1%})",
        f"{bound.bound / one_sided_bound:.2f}",
    ]
    return row, bound


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--alpha", type=float, default=0.05, help="false positive rate per direction (0.05)")
    parser.add_argument("--beta", type=float, default=0.10, help="miss rate per direction (0.10)")
    parser.add_argument("--max-pairs", type=int, default=300, help="truncation of the optimal test (300)")
    parser.add_argument("--steps", type=int, default=10, help="bisection steps per multiplier (10)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    rows = []
    details = []
    for p_control, p_test, sigma in SCENARIOS:
        row, bound = scenario_row(
            p_control, p_test, sigma, alpha=args.alpha, beta=args.beta, max_pairs=args.max_pairs, steps=args.steps
        )
        rows.append(row)
        best = bound.best
        details.append(
            [
                row[0],
                f"{best.lam_alpha:.4g} / {best.lam_beta:.4g}",
                f"{best.asn_null:.1f}",
                f"{max(best.alpha_better, best.alpha_worse):.4f}",
                f"{max(best.beta_better, best.beta_worse):.4f}",
                f"{best.asn_better:.1f}",
                len(bound.points),
            ]
        )
    headers = [
        "scenario (H0: both arms at the control rate)",
        "one-sided bound",
        "ours, one-sided",
        "two-sided bound",
        "ours, two-sided",
        "two-sided / one-sided bound",
    ]
    print(f"alpha {args.alpha} and beta {args.beta} per direction, delta = test - control; pairs under H0")
    print()
    print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    print()
    print("The optimal two-sided test behind each bound (its multipliers, its exact figures, points evaluated):")
    print()
    detail_headers = ["scenario", "lam_alpha / lam_beta", "E0[N]", "alpha", "beta", "E+[N]", "points"]
    print(tabulate(details, headers=detail_headers, tablefmt="github", disable_numparse=True))
    print()
    print(f"max pairs {args.max_pairs}, {args.steps} bisection steps; took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
