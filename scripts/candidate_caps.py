"""Derive the default cap of a run with several candidates from the exact DP of Wald's bounds at alpha/K.

A run with one candidate at the default settings derives its cap from the calibrated design (its
``required_pairs``), and so does a run with K candidates when the calibrated table
(``stats/calibrated_paired.json``, ``scripts/calibrate_paired.py``) holds alpha/K: both error rates and the power
then hold at that cap by the exact DP. This script covers the other K: each test runs at alpha/K with Wald's
constant bounds and no last look, so there is no ``required_pairs``. What a cap costs such a test is its power:
the probability of missing a true difference of ``delta`` (``miss``: no claim of the right direction, an
undecided end included) falls as the cap grows, towards the miss of the untruncated test.

For the default alpha, beta and effect, each such K from 2 to 8 and each family (``both``; ``one-sided`` serves
``better`` and ``worse``, which are mirror images), this script runs the exact DP (``stats.gsprt_dp.lattice_dp`` with
``stats.design.wald_design(alpha / K, beta, effect, direction)``) over the discordance grid of the calibration
(0.05 .. 1, step 0.05, coarser than the calibration's 0.01 to keep each entry to minutes; under the alternative
from ``delta``), until less than ``--residual`` (0.001) probability is
still running for every distribution of the grid (the no-cap figures, to within that residual), and records:

- ``cap_pairs``: the least cap (in pairs) from which the worst-case miss over the grid is within ``--slack``
  (0.005) of its no-cap value;
- ``alpha_at_cap``: the worst-case P(false claim) per direction at that cap (no last look: an undecided end is
  no claim), and ``alpha_no_cap``: the same without a cap (the running residual counted as error);
- ``miss_at_cap`` and ``miss_no_cap``: the worst-case miss at that cap and without a cap.

It writes ``pytest_agentopt/stats/candidate_caps.json``, which ``run.sequential_design`` reads. Deterministic
(no randomness); minutes per entry on a loaded machine: run it with ``nice``.

``python scripts/candidate_caps.py`` (every K from 2 to 8 whose alpha/K has no calibrated design) or
``--candidates 5 6 --families both`` (a subset, merged into the existing file). Entries for a K whose alpha/K has
a calibrated design are dropped from the file (``--candidates`` with no value only does that).
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
import numpy.typing as npt

from pytest_agentopt.stats.calibration import discordance_grid
from pytest_agentopt.stats.candidate_caps import CANDIDATE_CAPS_TABLE, DEFAULT_SETTINGS, SLACK
from pytest_agentopt.stats.design import calibrated_design, wald_design
from pytest_agentopt.stats.gsprt_dp import RunningCells, lattice_dp, trinomial_grid
from pytest_agentopt.stats.wald import Direction

FloatArray = npt.NDArray[np.float64]
TABLE_PATH = Path(__file__).resolve().parents[1] / "pytest_agentopt" / "stats" / CANDIDATE_CAPS_TABLE
GRID_STEP = 0.05
MAX_PAIRS = 6000
"""A bound on the DP's length only: every entry stops on the residual long before."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def entry_for(candidates: int, family: str, residual: float, slack: float) -> dict[str, Any]:
    """One entry of the table: the DP of Wald's bounds at alpha/K for this family, run to the residual."""
    alpha, beta, delta = DEFAULT_SETTINGS
    per_candidate = alpha / candidates
    direction: Direction = "both" if family == "both" else "better"
    design = wald_design(per_candidate, beta, delta, direction)
    null_d = discordance_grid(delta, GRID_STEP, alternative=False)
    alt_d = discordance_grid(delta, GRID_STEP, alternative=True)
    grids = {"null": trinomial_grid(null_d, 0.0), "up": trinomial_grid(alt_d, delta)}
    if family == "both":
        grids["down"] = trinomial_grid(alt_d, -delta)
    # Per step: the worst-case alpha (either direction) and miss (either alternative) over the grid so far.
    worst_alpha: list[float] = []
    worst_miss: list[float] = []

    def observe(cells: RunningCells) -> None:
        null = cells.results["null"]
        alpha_now = float(np.maximum(null.better, null.worse if family == "both" else 0.0).max())
        miss_now = float((1.0 - cells.results["up"].better).max())
        if family == "both":
            miss_now = max(miss_now, float((1.0 - cells.results["down"].worse).max()))
        worst_alpha.append(alpha_now)
        worst_miss.append(miss_now)
        if cells.n % 100 == 0:
            log(f"K={candidates} {family}: {cells.n} pairs, alpha {alpha_now:.5f}, miss {miss_now:.5f}")

    started = time.perf_counter()
    results = lattice_dp(
        delta=delta,
        bounds=design.bounds,
        direction=direction,
        max_pairs=MAX_PAIRS,
        grids=grids,
        on_step=observe,
        residual=residual,
    )
    still_running = float(max(result.undecided.max() for result in results.values()))
    if still_running >= residual:
        raise SystemExit(f"K={candidates} {family}: {still_running:.2g} still running at {MAX_PAIRS} pairs")
    miss_no_cap = worst_miss[-1]  # an upper bound: the residual still running counts as a miss
    alpha_no_cap = worst_alpha[-1] + still_running
    cap = next(n for n, miss in enumerate(worst_miss, start=1) if miss <= miss_no_cap + slack)
    log(f"K={candidates} {family}: cap {cap} pairs ({time.perf_counter() - started:.0f} s)")
    return {
        "candidates": candidates,
        "family": family,
        "alpha_per_candidate": per_candidate,
        "cap_pairs": cap,
        "alpha_at_cap": round(worst_alpha[cap - 1], 6),
        "miss_at_cap": round(worst_miss[cap - 1], 6),
        "alpha_no_cap": round(alpha_no_cap, 6),
        "miss_no_cap": round(miss_no_cap, 6),
        "pairs_run": len(worst_miss),
    }


def calibrated(candidates: int, family: str) -> bool:
    """Whether alpha/K has a calibrated design for this family (the run then takes its cap from there)."""
    alpha, beta, delta = DEFAULT_SETTINGS
    direction: Direction = "both" if family == "both" else "better"
    return calibrated_design(alpha / candidates, beta, delta, direction) is not None


def write(path: Path, entries: dict[tuple[int, str], dict[str, Any]], slack: float, residual: float) -> None:
    alpha, beta, delta = DEFAULT_SETTINGS
    table = {
        "generated_by": "python scripts/candidate_caps.py",
        "alpha": alpha,
        "beta": beta,
        "delta": delta,
        "grid": [0.05, 1.0, GRID_STEP],
        "slack": slack,
        "residual": residual,
        "entries": [entries[key] for key in sorted(entries)],
    }
    path.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--candidates", type=int, nargs="*", default=list(range(2, 9)))
    parser.add_argument("--families", nargs="+", choices=("both", "one-sided"), default=["both", "one-sided"])
    parser.add_argument("--residual", type=float, default=1e-3, help="stop once less than this is still running")
    parser.add_argument("--slack", type=float, default=SLACK)
    parser.add_argument("--output", type=Path, default=TABLE_PATH)
    args = parser.parse_args(argv)
    existing: list[dict[str, Any]] = []
    if args.output.exists():
        existing = json.loads(args.output.read_text(encoding="utf-8"))["entries"]
    entries = {(e["candidates"], e["family"]): e for e in existing if not calibrated(e["candidates"], e["family"])}
    write(args.output, entries, args.slack, args.residual)
    for family in args.families:
        for candidates in args.candidates:
            if calibrated(candidates, family):
                log(f"K={candidates} {family}: alpha/K has a calibrated design (its required_pairs is the cap)")
                continue
            entries[(candidates, family)] = entry_for(candidates, family, args.residual, args.slack)
            write(args.output, entries, args.slack, args.residual)
    return 0


if __name__ == "__main__":
    sys.exit(main())
