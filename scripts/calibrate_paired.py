"""Calibrate the paired test by the exact DP, and print its error rates over the discordance and the cap.

Two jobs (``docs/statistics.md``, "Error rates at every discordance", explains the method and holds the output):

``python scripts/calibrate_paired.py calibrate``
    Calibrates the boundaries (as functions of the observed discordance) and the last look of every cap from 1 to
    ``--max-pairs`` for each shipped setting and both families (one-sided, two-sided), and writes the table the
    plugin ships, ``pytest_agentopt/stats/calibrated_paired.json``. Deterministic (no randomness); about 30
    minutes of CPU per setting. Run it with ``nice``.

``python scripts/calibrate_paired.py calibrate --candidates 4 --output k4.json`` then ``... merge k4.json``
    The same for the family-wise alpha / K of several candidates (``--candidates 2 3 4 8``: alpha 0.05 / K with
    the default beta and effect; ``--alphas`` for any alpha), written to a file of its own so that settings can
    run in parallel processes; ``merge`` then puts their designs into the shipped table (replacing a design of
    the same family and settings, keeping the others).

``python scripts/calibrate_paired.py tables``
    The exact DP of the shipped design for each direction at caps of 50 to 1000 pairs: alpha and beta at every
    discordance of 0.05, 0.10, ..., 1.00 (4 decimals), the largest value over a finer grid (step 0.005), the
    worst-case power at each cap and the cap from which both error rates hold. Markdown on stdout; about 15 minutes.

Both use ``pytest_agentopt.stats`` only: ``gsprt_dp`` (the DP), ``calibration`` (the search) and ``design`` (the
table the plugin reads).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from pytest_agentopt.stats.calibration import (
    ROUNDS,
    calibrate_bounds,
    discordance_grid,
    last_look_table,
    table_entry,
)
from pytest_agentopt.stats.design import CALIBRATED_TABLE, PairedDesign, calibrated_design
from pytest_agentopt.stats.gsprt_dp import lattice_dp, trinomial_grid
from pytest_agentopt.stats.wald import DIRECTIONS

SETTINGS = ((0.05, 0.10, 0.15),)
"""(alpha, beta, delta) of the shipped designs: the plugin's defaults."""
MAX_PAIRS = 1500
TABLE_PATH = Path(__file__).resolve().parents[1] / "pytest_agentopt" / "stats" / CALIBRATED_TABLE
TABLE_CAPS = (50, 100, 200, 300, 500, 750, 1000)
TABLE_DISCORDANCES = tuple(round(0.05 * i, 2) for i in range(1, 21))
FINE_STEP = 0.005


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def calibrate(settings: Sequence[tuple[float, float, float]], max_pairs: int, output: Path) -> int:
    designs = []
    for alpha, beta, delta in settings:
        one_sided = None
        for family in ("one-sided", "both"):
            log(f"alpha {alpha:g}, beta {beta:g}, delta {delta:g}, {family}: boundaries")
            # The two-sided test runs the same one-sided tests: it starts from their boundaries and only moves
            # them as far as its own rates need.
            bounds, profile = calibrate_bounds(
                alpha=alpha,
                beta=beta,
                delta=delta,
                family=family,
                max_pairs=max_pairs,
                start=one_sided,
                rounds=0 if family == "both" else ROUNDS,
                progress=log,
            )
            if family == "one-sided":
                one_sided = bounds
            log(f"{family}: last look of every cap")
            looks = last_look_table(
                bounds, alpha=alpha, beta=beta, delta=delta, family=family, max_pairs=max_pairs, progress=log
            )
            designs.append(
                table_entry(
                    alpha=alpha,
                    beta=beta,
                    delta=delta,
                    family=family,
                    bounds=bounds,
                    profile=profile,
                    last_looks=looks,
                )
            )
            # Written after every family: an interrupted run keeps the designs it finished.
            write_table(output, designs)
    write_table(output, designs)
    log(f"wrote {output}")
    return 0


def write_table(path: Path, designs: Sequence[dict[str, Any]]) -> None:
    document = {
        "description": (
            "Calibrated designs of the paired sequential test (scripts/calibrate_paired.py calibrate; "
            "docs/statistics.md). caps[n-1] = [accept_h0, accept_h1, alpha, beta, miss] for a cap of n pairs."
        ),
        "designs": list(designs),
    }
    path.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")


def _setting_key(design: dict[str, Any]) -> tuple[str, float, float, float]:
    return (design["family"], round(design["alpha"], 12), round(design["beta"], 12), round(design["delta"], 12))


def merge_designs(existing: Sequence[dict[str, Any]], added: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``existing`` with ``added`` in: a design of the same family and settings is replaced. Ordered by
    (beta, delta) then alpha from the largest, one-sided before both, so the table reads from the single
    candidate's alpha down to the smallest alpha / K."""
    merged = {_setting_key(design): design for design in existing}
    merged.update({_setting_key(design): design for design in added})
    return sorted(merged.values(), key=lambda d: (d["beta"], d["delta"], -d["alpha"], d["family"] != "one-sided"))


def merge(sources: Sequence[Path], output: Path) -> int:
    existing = json.loads(output.read_text(encoding="utf-8"))["designs"] if output.exists() else []
    added = [design for source in sources for design in json.loads(source.read_text(encoding="utf-8"))["designs"]]
    designs = merge_designs(existing, added)
    write_table(output, designs)
    log(f"wrote {output}: {len(designs)} designs ({len(added)} merged from {len(sources)} files)")
    return 0


def chosen_settings(
    alphas: Sequence[float] | None, candidates: Sequence[int] | None, beta: float | None = None
) -> list[tuple[float, float, float]]:
    """The settings to calibrate: the shipped ones by default, else each alpha (and each alpha / K) with the
    default effect and the default beta, or ``beta`` (e.g. the quality half of ``cheaper_same_quality``: alpha
    0.05, beta 0.05 in the design's terms)."""
    if not alphas and not candidates:
        return list(SETTINGS)
    alpha, default_beta, delta = SETTINGS[0]
    if beta is not None and not 0.0 < beta < 0.5:
        raise SystemExit(f"--beta: must lie in (0, 0.5), got {beta:g}")
    beta = default_beta if beta is None else beta
    chosen = [(value, beta, delta) for value in alphas or ()]
    for count in candidates or ():
        if count < 1:
            raise SystemExit(f"--candidates: each K must be >= 1, got {count}")
        chosen.append((alpha / count, beta, delta))
    for value, _, _ in chosen:
        if not 0.0 < value < 0.5:
            raise SystemExit(f"--alphas: each alpha must lie in (0, 0.5), got {value:g}")
    return chosen


def direction_rates(design: PairedDesign, cap: int) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """alpha and beta at the table's discordances, the largest of each over the fine grid, and the worst miss."""
    delta = design.delta
    sign = -1.0 if design.direction == "worse" else 1.0
    table_null = np.asarray(TABLE_DISCORDANCES)
    table_alt = np.asarray([d for d in TABLE_DISCORDANCES if d >= delta - 1e-12])
    fine_null = discordance_grid(delta, FINE_STEP, alternative=False)
    fine_alt = discordance_grid(delta, FINE_STEP, alternative=True)
    results = lattice_dp(
        delta=delta,
        bounds=design.bounds,
        direction=design.direction,
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids={
            "null": trinomial_grid(np.concatenate((table_null, fine_null)), 0.0),
            "alternative": trinomial_grid(np.concatenate((table_alt, fine_alt)), sign * delta),
        },
    )
    null, alternative = results["null"], results["alternative"]
    # The claim of H1 in the direction asked (for "both", P(better | 0) = P(worse | 0) by symmetry).
    claim_h1_null = null.worse if design.direction == "worse" else null.better
    claim_h1_alt = alternative.worse if design.direction == "worse" else alternative.better
    if design.direction == "both":
        wrong_alt = alternative.no_difference + alternative.worse
    else:
        wrong_alt = alternative.no_difference
    split_null, split_alt = len(table_null), len(table_alt)
    miss = float((1.0 - claim_h1_alt).max())
    return (
        claim_h1_null[:split_null],
        wrong_alt[:split_alt],
        float(claim_h1_null[split_null:].max()),
        float(wrong_alt[split_alt:].max()),
        miss,
    )


def tables(caps: Sequence[int]) -> int:
    alpha, beta, delta = SETTINGS[0]
    started = time.perf_counter()
    print(f"alpha {alpha:g}, beta {beta:g}, delta {delta:g}; exact DP (no simulation), 4 decimals\n")
    summary_rows = []
    for direction in DIRECTIONS:
        design = calibrated_design(alpha, beta, delta, direction)
        if design is None:
            raise SystemExit(f"no calibrated design for {direction}: run 'calibrate' first")
        alpha_rows, beta_rows = [], []
        for cap in caps:
            log(f"{direction}: cap {cap}")
            alphas, betas, fine_alpha, fine_beta, miss = direction_rates(design, cap)
            alpha_rows.append([cap, *(f"{value:.4f}" for value in alphas), f"{fine_alpha:.4f}"])
            beta_rows.append([cap, *(["-"] * (len(TABLE_DISCORDANCES) - len(betas))), *(f"{v:.4f}" for v in betas)])
            beta_rows[-1].append(f"{fine_beta:.4f}")
            figures = design.at_cap(cap)
            summary_rows.append(
                [
                    direction,
                    cap,
                    f"{max(fine_alpha, float(np.max(alphas))):.4f}",
                    f"{max(fine_beta, float(np.max(betas))):.4f}",
                    f"{1.0 - miss:.4f}",
                    "yes" if figures is not None and not figures.undecided_zone else "no",
                ]
            )
        what = {"both": "better (= worse by symmetry)", "better": "better", "worse": "worse"}[direction]
        headers = ["cap", *(f"{d:.2f}" for d in TABLE_DISCORDANCES), "max (step 0.005)"]
        print(f"#### `{direction}`: alpha = P({what} | no difference), by discordance\n")
        print(tabulate(alpha_rows, headers=headers, tablefmt="github", disable_numparse=True))
        wrong = {"both": "no_difference or worse", "better": "not_better", "worse": "not_worse"}[direction]
        truth = "-" if direction == "worse" else "+"
        print(f"\n#### `{direction}`: beta = P({wrong} | effect {truth}{delta:g}), by discordance\n")
        print(tabulate(beta_rows, headers=headers, tablefmt="github", disable_numparse=True))
        print(
            f"\n`{direction}` claims H1 at or above, H0 at or below, the last look's thresholds; from "
            f"{design.required_pairs} pairs on there is no undecided zone.\n"
        )
    print("#### Worst case over the discordance, and the power at each cap\n")
    print(
        tabulate(
            summary_rows,
            headers=["direction", "cap", "max alpha", "max beta", "worst-case power", "always a claim"],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    print(f"\ntook {time.perf_counter() - started:.0f} s")
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="job", required=True)
    cal = sub.add_parser("calibrate", help="calibrate the shipped settings and write the table")
    cal.add_argument("--max-pairs", type=int, default=MAX_PAIRS, help=f"largest cap in the table ({MAX_PAIRS})")
    cal.add_argument("--output", type=Path, default=TABLE_PATH, help="where to write the table")
    cal.add_argument("--alphas", type=float, nargs="+", help="alphas to calibrate (default beta and effect)")
    cal.add_argument("--beta", type=float, help="beta of the --alphas / --candidates settings (default 0.1)")
    cal.add_argument(
        "--candidates", type=int, nargs="+", help="calibrate alpha / K for each K (default alpha, beta, effect)"
    )
    mer = sub.add_parser("merge", help="merge the designs of calibrated files into the shipped table")
    mer.add_argument("sources", type=Path, nargs="+", help="tables written by 'calibrate --output'")
    mer.add_argument("--output", type=Path, default=TABLE_PATH, help="the table to merge into")
    tab = sub.add_parser("tables", help="exact error rates of the shipped design by discordance and cap")
    tab.add_argument("--caps", type=int, nargs="+", default=list(TABLE_CAPS), help="caps in pairs")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.job == "calibrate":
        return calibrate(chosen_settings(args.alphas, args.candidates, args.beta), args.max_pairs, args.output)
    if args.job == "merge":
        return merge(args.sources, args.output)
    return tables(args.caps)


if __name__ == "__main__":
    sys.exit(main())
