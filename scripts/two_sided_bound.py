"""How few pairs can a two-sided paired test use when there is no difference? The bound, and where ours stands.

Run ``python scripts/two_sided_bound.py`` (about 4 minutes on one core; ``--steps 6 --max-pairs 250`` for a rough
look). ``docs/statistics.md`` explains the method and holds the latest output. For each scenario of DESIGN.md
section 6 (no difference, both arms at the control rate) it prints:

- the planning bound for a *one-sided* test (``stats.planning``, Wald 1945 / Hoeffding 1960), the yardstick of the
  issue's acceptance check;
- the least E0[N] of *any two-sided* test with the same error rates per direction (``stats.two_sided_bound``:
  backward induction and Lagrangian duality; a lower bound for every test that stops by ``--max-pairs``);
- the exact average number of pairs of the plugin's own paired test, two-sided (the default) and one-sided
  (``--agent-direction better``), from ``stats.paired_oc`` (no simulation).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from tabulate import tabulate

from pytest_agentopt.stats.paired_oc import paired_test_oc
from pytest_agentopt.stats.planning import asn_lower_bounds_paired, paired_outcome_probabilities
from pytest_agentopt.stats.two_sided_bound import TwoSidedBound, two_sided_bound

SCENARIOS = ((0.60, 0.75, 0.0), (0.60, 0.75, 2.0))
"""(control rate, control rate + delta, task spread sigma): the paired rows of DESIGN.md section 6."""


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
