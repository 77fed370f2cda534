"""Exact error rates of extending an undecided paired run to a larger cap (``--agent-resume RUN --agent-trials N``).

Run ``python scripts/extension_rates.py`` (a few minutes on one core; ``--first 26 100 --new 868`` for other
caps). For each first cap and each new cap it prints the exact worst-case alpha and beta, over the calibration's
discordance grid, of the procedure "run to the first cap; if its last look is undecided, go on to the new cap and
take that cap's look", next to each cap's own figures. ``stats.extension.extended_error_rates`` does the DP
(``gsprt_dp.lattice_dp`` with an intermediate look, checked against brute-force enumeration through the live test
in ``tests/unit/stats/test_stats_extension.py``). ``docs/statistics.md`` ("Extending an inconclusive run") holds
the latest output.
"""

from __future__ import annotations

import argparse

from pytest_agentopt.stats.design import paired_design
from pytest_agentopt.stats.extension import extended_error_rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, nargs="+", default=[26, 100, 260, 520])
    parser.add_argument("--new", type=int, nargs="+", default=[868])
    parser.add_argument("--direction", choices=("both", "worse"), default="both")
    args = parser.parse_args(argv)
    design = paired_design(0.05, 0.10, 0.15, args.direction)
    print(f"direction {args.direction}, alpha 0.05, beta 0.10, effect 0.15 ({design.source} design)")
    print("| first cap (pairs) | its alpha / beta | new cap | its alpha / beta | extended: alpha | extended: beta |")
    print("|---|---|---|---|---|---|")
    for new in args.new:
        last = design.at_cap(new)
        assert last is not None
        for first in args.first:
            if first >= new:
                continue
            start = design.at_cap(first)
            assert start is not None
            rates = extended_error_rates(design, first_cap=first, new_cap=new)
            print(
                f"| {first} | {start.alpha:.4f} / {start.beta:.4f} | {new} | {last.alpha:.4f} / {last.beta:.4f} | "
                f"{rates.alpha:.4f} | {rates.beta:.4f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
