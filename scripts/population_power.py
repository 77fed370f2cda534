"""What it would cost the PR gate to catch a regression *in the population of tasks* with probability 1 - beta.

Run ``python scripts/population_power.py`` (about 3 minutes of CPU per calibrated beta, 15 minutes in all on an
idle core; ``--processes`` spreads the betas over processes). ``docs/validation.md`` ("The PR gate with the default
settings") holds its output and what it means; ``tests/unit/test_population_power_script.py`` runs it on a tiny
configuration.

The gate's guarantee is about the suite it runs: a regression of the effect size *on these tasks* fails it with
probability at least 1 - beta. A regression of the effect size in a population of tasks, seen through a suite of
a few tasks drawn from it, is caught less often: each suite has its own drop, and the power, concave in the drop
near 1 - beta, averages below its value at the mean drop. Closing that gap means calibrating the boundaries to a
smaller beta than the user's. This script measures both sides of that trade, exactly (no simulation of runs):

* the boundaries calibrated by ``stats.calibration.calibrate_bounds`` (what ``scripts/calibrate_paired.py
  calibrate`` runs) with beta targets below 0.10, next to the shipped design (calibrated to 0.10);
* for each: the exact DP (``stats.gsprt_dp.lattice_dp``, direction ``worse``, capped at the shipped cap for 10
  tasks, no last look) of the pairs used under no change at control 0.60 without and with task spread, against
  the least any one-sided test with alpha 0.05 and beta 0.10 can use (``stats.planning``); the power on the suite;
  and the power in the population, averaged over drawn suites (each suite's own pair distribution, as
  ``scripts/validate_gate.py`` draws them);
* the least pairs *any* test needs under no change at that beta, relative to beta 0.10: the part of the cost no
  design can avoid.

A second table reads the shipped design in the population at other control rates, spreads and suite sizes.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tabulate import tabulate

if __package__ in (None, ""):  # run as ``python scripts/population_power.py``: make ``scripts`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.shell.trial_expansion import trials_for
from pytest_agentopt.stats.calibration import calibrate_bounds
from pytest_agentopt.stats.design import DiscordanceBounds
from pytest_agentopt.stats.gsprt_dp import lattice_dp
from pytest_agentopt.stats.planning import asn_lower_bounds_trinomial, paired_outcome_probabilities
from scripts.validate_gate import suite_pair_distributions

ALPHA, BETA, EFFECT = 0.05, 0.10, 0.15
CONTROL = 0.60
TASKS = 10
CALIBRATION_PAIRS = 1500
"""The calibration's horizon (``scripts/calibrate_paired.py``'s ``MAX_PAIRS``)."""
BETAS = (0.095, 0.09, 0.085, 0.08)
POPULATIONS = ((10, 1.0), (10, 2.0), (20, 2.0))
"""(tasks, sigma) of the population readings of the first table."""
SPREAD_CONTROLS = (0.30, 0.45, 0.60, 0.75)
SPREAD_POPULATIONS = ((10, 1.0), (10, 2.0), (20, 2.0), (40, 2.0))


@dataclass(frozen=True)
class Candidate:
    label: str
    target_beta: float | None
    """None: the shipped design."""


@dataclass(frozen=True)
class Calibrated:
    candidate: Candidate
    bounds: DiscordanceBounds
    worst_alpha: float
    worst_beta: float


def gate_cap() -> int:
    """The cap in pairs the plugin derives for the default gate on a 10-task suite."""
    design = design_for(ALPHA, BETA, EFFECT, "worse")
    assert design.required_pairs is not None, "the shipped table has no calibrated design for the defaults"
    return TASKS * trials_for(design.required_pairs, TASKS)


def calibrate(candidate: Candidate) -> Calibrated:
    if candidate.target_beta is None:
        design = design_for(ALPHA, BETA, EFFECT, "worse")
        assert design.worst_alpha is not None
        assert design.worst_beta is not None
        return Calibrated(candidate, design.bounds, design.worst_alpha, design.worst_beta)
    bounds, profile = calibrate_bounds(
        alpha=ALPHA, beta=candidate.target_beta, delta=EFFECT, family="one-sided", max_pairs=CALIBRATION_PAIRS
    )
    return Calibrated(candidate, bounds, profile.worst_alpha, profile.worst_beta)


@dataclass(frozen=True)
class Power:
    value: float
    standard_error: float


@dataclass(frozen=True)
class Figures:
    calibrated: Calibrated
    asn_null: tuple[float, float]
    """Exact pairs under no change, sigma 0 and 2."""
    suite_power: tuple[float, float]
    """Exact P(worse) at a regression of the effect size on the suite, sigma 0 and 2."""
    population_power: tuple[Power, ...]
    """Exact P(worse) averaged over drawn suites, one per ``POPULATIONS`` entry."""
    running_at_cap: float
    """The largest probability still undecided at the cap (no last look here)."""


def population_grids(
    controls: Sequence[float], populations: Sequence[tuple[int, float]], suites: int, seed: int
) -> dict[str, np.ndarray]:
    """Drawn suites' own pair distributions at a regression of the effect size, keyed ``"control/tasks/sigma"``."""
    grids = {}
    for control in controls:
        for tasks, sigma in populations:
            rng = np.random.default_rng([seed, zlib.crc32(b"suite spread")])
            distributions, _ = suite_pair_distributions(control, control - EFFECT, sigma, tasks, suites, rng)
            grids[f"{control:g}/{tasks}/{sigma:g}"] = distributions
    return grids


def evaluate(calibrated: Calibrated, suites: int, seed: int) -> Figures:
    grids = {
        f"null {sigma:g}": np.array([paired_outcome_probabilities(CONTROL, CONTROL, sigma)]) for sigma in (0.0, 2.0)
    }
    grids.update(
        {
            f"suite {sigma:g}": np.array([paired_outcome_probabilities(CONTROL, CONTROL - EFFECT, sigma)])
            for sigma in (0.0, 2.0)
        }
    )
    grids.update(population_grids((CONTROL,), POPULATIONS, suites, seed))
    results = lattice_dp(delta=EFFECT, bounds=calibrated.bounds, direction="worse", max_pairs=gate_cap(), grids=grids)
    population = []
    for tasks, sigma in POPULATIONS:
        claims = results[f"{CONTROL:g}/{tasks}/{sigma:g}"].worse
        population.append(Power(float(claims.mean()), float(claims.std(ddof=1)) / math.sqrt(len(claims))))
    return Figures(
        calibrated,
        (float(results["null 0"].asn[0]), float(results["null 2"].asn[0])),
        (float(results["suite 0"].worse[0]), float(results["suite 2"].worse[0])),
        tuple(population),
        max(float(result.undecided.max()) for result in results.values()),
    )


def lower_bound(sigma: float, beta: float) -> float:
    """The least expected pairs under no change of any one-sided test with alpha 0.05 and this beta."""
    null = paired_outcome_probabilities(CONTROL, CONTROL, sigma)
    regression = paired_outcome_probabilities(CONTROL, CONTROL - EFFECT, sigma)
    return asn_lower_bounds_trinomial(null, regression, -EFFECT, ALPHA, beta)[0]


def cost_table(figures: Sequence[Figures]) -> str:
    bounds = (lower_bound(0.0, BETA), lower_bound(2.0, BETA))
    rows = []
    for item in figures:
        calibrated = item.calibrated
        target = calibrated.candidate.target_beta
        beta = BETA if target is None else target
        unavoidable = lower_bound(0.0, beta) / bounds[0] - 1.0
        asn = " / ".join(
            f"{value:.1f} ({100 * (value / bound - 1.0):+.1f} %)"
            for value, bound in zip(item.asn_null, bounds, strict=True)
        )
        rows.append(
            [
                calibrated.candidate.label,
                f"{calibrated.worst_alpha:.4f} / {calibrated.worst_beta:.4f}",
                asn,
                f"{100 * unavoidable:+.1f} %",
                " / ".join(f"{value:.4f}" for value in item.suite_power),
                *(f"{power.value:.4f} ± {power.standard_error:.4f}" for power in item.population_power),
            ]
        )
    headers = [
        "boundaries",
        "worst alpha / beta",
        f"pairs under no change, sigma 0 / 2 (vs {bounds[0]:.1f} / {bounds[1]:.1f})",
        "any test at this beta",
        "power on the suite, sigma 0 / 2",
        *(f"in the population, {tasks} tasks, sigma {sigma:g}" for tasks, sigma in POPULATIONS),
    ]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def spread_table(suites: int, seed: int) -> str:
    """The shipped design's power in the population by control rate, spread and suite size."""
    design = design_for(ALPHA, BETA, EFFECT, "worse")
    grids = population_grids(SPREAD_CONTROLS, SPREAD_POPULATIONS, suites, seed)
    for control in SPREAD_CONTROLS:
        grids[f"{control:g}/suite"] = np.array([paired_outcome_probabilities(control, control - EFFECT, 0.0)])
    cap = gate_cap()
    results = lattice_dp(
        delta=EFFECT,
        bounds=design.bounds,
        direction="worse",
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids=grids,
    )
    rows = []
    for control in SPREAD_CONTROLS:
        row = [f"{control:.2f} -> {control - EFFECT:.2f}", f"{float(results[f'{control:g}/suite'].worse[0]):.4f}"]
        for tasks, sigma in SPREAD_POPULATIONS:
            claims = results[f"{control:g}/{tasks}/{sigma:g}"].worse
            row.append(f"{float(claims.mean()):.4f} ± {float(claims.std(ddof=1)) / math.sqrt(len(claims)):.4f}")
        rows.append(row)
    headers = [
        "control -> test",
        "on the suite, sigma 0",
        *(f"in the population, {tasks} tasks, sigma {sigma:g}" for tasks, sigma in SPREAD_POPULATIONS),
    ]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _figures(job: tuple[Candidate, int, int]) -> Figures:
    candidate, suites, seed = job
    return evaluate(calibrate(candidate), suites, seed)


def run(betas: Sequence[float], suites: int, seed: int, processes: int, *, spread: bool) -> str:
    began = time.perf_counter()
    candidates = [Candidate("shipped (beta 0.10)", None)]
    candidates.extend(Candidate(f"calibrated to beta {beta:g}", beta) for beta in betas)
    jobs = [(candidate, suites, seed) for candidate in candidates]
    if processes > 1:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            figures = pool.map(_figures, jobs, chunksize=1)
    else:
        figures = [_figures(job) for job in jobs]
    running = max(item.running_at_cap for item in figures)
    lines = [
        f"Exact DP, direction `worse`, alpha {ALPHA:g}, effect {EFFECT:g}, control {CONTROL:.2f}, capped at "
        f"{gate_cap()} pairs (the shipped cap for {TASKS} tasks) without a last look (at most {running:.1e} still "
        f"running there); population readings averaged over {suites} drawn suites (seed {seed}), ± their "
        "standard error over the suites. Pairs: the exact average under no change, and its excess over the least "
        "any one-sided test with beta 0.10 can use; 'any test at this beta': how much that least rises at the "
        "calibrated beta (the part of the cost no design avoids).",
        "",
        cost_table(figures),
    ]
    if spread:
        lines.extend(
            [
                "",
                f"The shipped design in the population (exact DP with its last look at {gate_cap()} pairs; a "
                f"regression of {EFFECT:g} in the population, {suites} drawn suites each):",
                "",
                spread_table(suites, seed),
            ]
        )
    lines.extend(["", f"took {time.perf_counter() - began:.0f} s"])
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--betas", type=float, nargs="*", default=list(BETAS), help="beta targets to calibrate (0.095 0.09 0.085 0.08)"
    )
    parser.add_argument("--suites", type=int, default=1000, help="drawn suites per population reading (1000)")
    parser.add_argument("--seed", type=int, default=20261205, help="seed of the drawn suites (20261205)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="calibrations run in parallel")
    parser.add_argument(
        "--no-spread-table", action="store_true", help="skip the shipped design's table by control rate and spread"
    )
    args = parser.parse_args(argv)
    if args.suites < 2 or args.processes < 1 or any(not 0.0 < beta < BETA for beta in args.betas):
        parser.error("--suites must be >= 2, --processes >= 1, and every beta in (0, 0.1)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(run(args.betas, args.suites, args.seed, args.processes, spread=not args.no_spread_table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
