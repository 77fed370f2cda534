"""Exact worst-case error rates of cheaper_same_quality's quality half, by the DP over the discordance.

The quality half (``stats.cheaper_same_quality.quality_design``) must keep a false ``not_worse`` (a success drop of
the effect passed as not worse: the claim's half) at most alpha and a false ``worse`` (a true saving missed on
quality) at most beta / 2. With a calibrated design the table's figures are these; with Wald's bounds (no
calibrated entry for its settings) they are computed here: ``stats.gsprt_dp.lattice_dp`` over the discordance
grid, for each cap given. Quoted in docs/statistics.md ("Cheaper at the same quality").

    python scripts/csq_quality_rates.py                 # defaults: alpha 0.05, beta 0.10, effect 0.15
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from pytest_agentopt.stats.cheaper_same_quality import quality_design
from pytest_agentopt.stats.gsprt_dp import lattice_dp, trinomial_grid
from pytest_agentopt.stats.sprt import SequentialSettings


def worst_rates(settings: SequentialSettings, cap: int, step: float = 0.01) -> dict[str, float]:
    """Worst case over the grid of P(false not_worse) at a drop of delta and of P(false worse) at no change."""
    design = quality_design(settings)
    delta = settings.delta
    drop = np.round(np.arange(max(0.05, delta), 1.0 + 1e-9, step), 10)
    equal = np.round(np.arange(0.05, 1.0 + 1e-9, step), 10)
    result = lattice_dp(
        delta=delta,
        bounds=design.bounds,
        direction="worse",
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids={"drop": trinomial_grid(drop, -delta), "equal": trinomial_grid(equal, 0.0)},
    )
    not_worse, worse = result["drop"].no_difference, result["equal"].worse
    return {
        "false_not_worse": float(not_worse.max()),
        "at_discordance": float(drop[int(np.argmax(not_worse))]),
        "false_worse": float(worse.max()),
        "worse_at_discordance": float(equal[int(np.argmax(worse))]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--beta", type=float, default=0.10)
    parser.add_argument("--effect", type=float, default=0.15)
    parser.add_argument("--caps", type=int, nargs="+", default=[480, 3000], metavar="PAIRS")
    parser.add_argument("--step", type=float, default=0.01, help="the discordance grid's step (default 0.01)")
    args = parser.parse_args(argv)
    settings = SequentialSettings(alpha=args.alpha, beta=args.beta, delta=args.effect)
    design = quality_design(settings)
    print(
        f"quality half of cheaper_same_quality at alpha {args.alpha:g}, beta {args.beta:g}, effect {args.effect:g}: "
        f"design alpha {design.alpha:g} (false worse), beta {design.beta:g} (false not_worse), "
        f"{design.source} boundaries"
    )
    for cap in args.caps:
        rates = worst_rates(settings, cap, args.step)
        print(
            f"cap {cap} pairs: false not_worse at most {rates['false_not_worse']:.4f} (discordance "
            f"{rates['at_discordance']:.2f}), false worse at most {rates['false_worse']:.4f} (discordance "
            f"{rates['worse_at_discordance']:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
