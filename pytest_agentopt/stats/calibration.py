"""Calibrating the paired test by the exact DP: boundaries that hold alpha and beta at every discordance, and the
last look of every cap.

Used by ``scripts/calibrate_paired.py`` to build the table the plugin ships (``stats/calibrated_paired.json``,
read by ``stats/design.py``), and by the tests that check a sample of it against a fresh computation. Never
imported by the plugin at run time (numpy).

The problem
-----------
The discordance ``d`` is unknown, so the error rates must hold at the least favourable one. For every
discordance of a grid over [0.05, 1] (the alternatives: [max(0.05, delta), 1]; a mean of ``delta`` needs
``d >= delta``) the exact DP gives the test's alpha(d) = P(claim H1 | mean 0, d) and beta(d) = P(claim H0 |
mean delta, d). The alternatives are the least favourable trinomials of the composite hypotheses: every pair
distribution with mean ``delta`` is one of them, for some ``d``, so bounding the rates over the grid bounds them
over the hypotheses. For the two-sided test ("both"), beta counts the wrong direction too (``worse`` when the
truth is ``+delta``), and by symmetry P(better | 0) = P(worse | 0) and the rates at ``-delta`` mirror those at
``+delta``; one-sided ``better`` and ``worse`` are mirror images of each other.

The boundaries
--------------
Piecewise linear in the observed discordance, with knots ``KNOTS`` (``design.DiscordanceBounds``):

1. *Knot by knot*: starting from Wald's bounds, each knot's upper value moves by ``log(alpha(d)/target)`` and its
   lower value by ``-log(beta(d)/target)`` at the knot's own discordance, damped and clipped, for a fixed number
   of rounds on a coarse grid (a knot whose rate is far below its target is left alone: its discordance is not
   where that error comes from). This spends the slack that Wald's constant bounds leave at most discordances.
2. *Feasibility*: the upper values move up together and the lower values down together until the rates are at
   or below ``nominal - margin`` at every discordance of the fine grid, counting the probability still running
   at ``max_pairs`` as an error (so the figures bound every larger cap too).

The last look
-------------
One more pass over the lattice, with the final boundaries, looks at the running cells after every step ``n``: a
run capped at ``n`` claims H1 for the cells with the largest LLRs as long as alpha, *including the claims made
before n*, stays at or below ``nominal - MARGIN`` at every discordance of the fine grid; likewise H0 for the
smallest LLRs and beta. Where the two sets meet, the run always ends with a claim; before, an undecided zone
remains. The thresholds are placed in gaps of at least ``GAP`` between lattice LLRs (away from a gap the
selection shrinks, which only lowers the error), so the live test, whose LLR may differ in the last bits, takes
the same decisions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_agentopt.stats.design import DiscordanceBounds
from pytest_agentopt.stats.gsprt_dp import (
    BOTH,
    IMPROVEMENT_ONLY,
    REGRESSION_ONLY,
    RunningCells,
    lattice_dp,
    trinomial_grid,
)
from pytest_agentopt.stats.wald import Direction, wald_bounds

FloatArray = npt.NDArray[np.float64]

KNOTS = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 1.00)
FINE_STEP = 0.01
COARSE_STEP = 0.05
LOWEST_DISCORDANCE = 0.05
MARGIN = 1e-4
"""The calibration targets ``nominal - MARGIN`` on the grid, so that the rates between grid points (smooth in the
discordance) stay below nominal too."""
GAP = 1e-8
"""Least distance between a last-look threshold and a lattice LLR (the live LLR agrees with the DP's to 1e-12)."""
ROUNDS = 12
DAMPING = 0.5
MAX_MOVE = 0.05
MAX_DRIFT = 0.4

Family = str  # "one-sided" (better and worse, mirror images) or "both"


def family_of(direction: Direction) -> Family:
    return "both" if direction == "both" else "one-sided"


def _dp_direction(family: Family) -> Direction:
    """The direction the DP runs for a family (one-sided: the improvement test; ``worse`` is its mirror)."""
    return "both" if family == "both" else "better"


def discordance_grid(delta: float, step: float, *, alternative: bool) -> FloatArray:
    """The grid of discordances: [0.05, 1] under H0, [max(0.05, delta), 1] under H1, both ends included."""
    first = max(LOWEST_DISCORDANCE, delta) if alternative else LOWEST_DISCORDANCE
    count = math.floor((1.0 - first) / step + 1e-9)
    grid = first + step * np.arange(count + 1)
    if grid[-1] < 1.0 - 1e-12:
        grid = np.append(grid, 1.0)
    result: FloatArray = np.round(grid, 10)
    return result


@dataclass(frozen=True)
class Profile:
    """Error rates of a design at every discordance of a grid (the running mass at the cap counted as error)."""

    null_discordances: FloatArray
    alternative_discordances: FloatArray
    alpha: FloatArray
    beta: FloatArray
    asn_null: FloatArray
    residual: float
    """The largest probability still running at the cap."""

    @property
    def worst_alpha(self) -> float:
        return float(self.alpha.max())

    @property
    def worst_beta(self) -> float:
        return float(self.beta.max())


def error_profile(bounds: DiscordanceBounds, *, delta: float, family: Family, max_pairs: int, step: float) -> Profile:
    """The sequential part's error rates over the discordance grid, counting what still runs at ``max_pairs``."""
    null_d = discordance_grid(delta, step, alternative=False)
    alt_d = discordance_grid(delta, step, alternative=True)
    results = lattice_dp(
        delta=delta,
        bounds=bounds,
        direction=_dp_direction(family),
        max_pairs=max_pairs,
        grids={"null": trinomial_grid(null_d, 0.0), "alternative": trinomial_grid(alt_d, delta)},
    )
    null, alternative = results["null"], results["alternative"]
    # P(better | 0) (= P(worse | 0) by symmetry for "both"); beta: no_difference or the wrong direction.
    alpha = null.better + null.undecided
    beta = alternative.no_difference + alternative.worse + alternative.undecided
    residual = float(max(null.undecided.max(), alternative.undecided.max()))
    return Profile(null_d, alt_d, alpha, beta, null.asn, residual)


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def calibrate_bounds(
    *,
    alpha: float,
    beta: float,
    delta: float,
    family: Family,
    max_pairs: int,
    start: DiscordanceBounds | None = None,
    rounds: int = ROUNDS,
    progress: Progress = _quiet,
) -> tuple[DiscordanceBounds, Profile]:
    """Knot values whose error rates are at or below nominal at every discordance (see the module docstring).

    ``start``: knot values to start from (default Wald's bounds at every knot); with ``rounds=0`` only the
    feasibility step runs (how the two-sided family starts from the one-sided calibration).
    """
    knots = np.asarray(KNOTS)
    if start is None:
        wald_lower, wald_upper = wald_bounds(alpha, beta)
        lower, upper = np.full(len(knots), wald_lower), np.full(len(knots), wald_upper)
    else:
        lower = (
            np.interp(knots, start.knots, start.lower) if not start.is_constant else np.full(len(knots), start.lower[0])
        )
        upper = (
            np.interp(knots, start.knots, start.upper) if not start.is_constant else np.full(len(knots), start.upper[0])
        )
    origin_lower, origin_upper = lower.copy(), upper.copy()
    target_alpha, target_beta = alpha - MARGIN, beta - MARGIN
    for round_index in range(rounds):
        profile = error_profile(
            _bounds(lower, upper), delta=delta, family=family, max_pairs=max_pairs, step=COARSE_STEP
        )
        at_alpha = np.interp(knots, profile.null_discordances, profile.alpha)
        at_beta = np.interp(knots, profile.alternative_discordances, profile.beta)
        progress(
            f"round {round_index + 1}/{rounds}: worst alpha {profile.worst_alpha:.4f}, worst beta "
            f"{profile.worst_beta:.4f} (coarse grid)"
        )
        upper = upper + _move(at_alpha, target_alpha)
        lower = lower - _move(at_beta, target_beta)
        upper = np.clip(upper, origin_upper - MAX_DRIFT, origin_upper + MAX_DRIFT)
        lower = np.clip(lower, origin_lower - MAX_DRIFT, np.minimum(origin_lower + MAX_DRIFT, -0.05))
    for attempt in range(40):
        profile = error_profile(_bounds(lower, upper), delta=delta, family=family, max_pairs=max_pairs, step=FINE_STEP)
        progress(
            f"feasibility {attempt + 1}: worst alpha {profile.worst_alpha:.5f}, worst beta {profile.worst_beta:.5f}"
        )
        excess_alpha = math.log(profile.worst_alpha / target_alpha)
        excess_beta = math.log(profile.worst_beta / target_beta)
        if excess_alpha <= 0.0 and excess_beta <= 0.0:
            return _bounds(lower, upper), profile
        # Each bound moves its own error rate with a slope of about -1 on the log scale; the extra 0.002 makes
        # every step count even when the rate sits just above its target.
        if excess_alpha > 0.0:
            upper = upper + excess_alpha + 0.002
        if excess_beta > 0.0:
            lower = lower - excess_beta - 0.002
    raise RuntimeError("the feasibility step did not converge")


def _move(rates: FloatArray, target: float) -> FloatArray:
    """A knot's move toward its target: damped, clipped, and none where the rate is far below the target."""
    step = np.clip(DAMPING * np.log(rates / target), -MAX_MOVE, MAX_MOVE)
    result: FloatArray = np.where(rates < 0.5 * target, 0.0, step)
    return result


def _bounds(lower: FloatArray, upper: FloatArray) -> DiscordanceBounds:
    return DiscordanceBounds(
        knots=KNOTS, lower=tuple(round(float(v), 6) for v in lower), upper=tuple(round(float(v), 6) for v in upper)
    )


# -- the last look -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LastLook:
    """One cap's thresholds and exact worst-case figures (``design.CapFigures`` without the pair count)."""

    accept_h0: float
    accept_h1: float
    alpha: float
    beta: float
    miss: float


def last_look_table(
    bounds: DiscordanceBounds,
    *,
    alpha: float,
    beta: float,
    delta: float,
    family: Family,
    max_pairs: int,
    step: float = FINE_STEP,
    progress: Progress = _quiet,
) -> list[LastLook]:
    """The last look of every cap ``n = 1 .. max_pairs`` (see the module docstring), in one pass."""
    null_d = discordance_grid(delta, step, alternative=False)
    alt_d = discordance_grid(delta, step, alternative=True)
    null_grid, alt_grid = trinomial_grid(null_d, 0.0), trinomial_grid(alt_d, delta)
    table: list[LastLook] = []

    def observe(cells: RunningCells) -> None:
        table.append(_choose_last_look(cells, null_grid, alt_grid, alpha=alpha, beta=beta, family=family))
        if cells.n % 100 == 0:
            progress(f"last look: {cells.n}/{max_pairs} pairs")

    lattice_dp(
        delta=delta,
        bounds=bounds,
        direction=_dp_direction(family),
        max_pairs=max_pairs,
        grids={"null": null_grid, "alternative": alt_grid},
        on_step=observe,
    )
    # A run that stopped running early (every path decided) needs no last look at larger caps.
    while len(table) < max_pairs:
        table.append(table[-1])
    return table


def _choose_last_look(
    cells: RunningCells, null_grid: FloatArray, alt_grid: FloatArray, *, alpha: float, beta: float, family: Family
) -> LastLook:
    null_so_far, alt_so_far = cells.results["null"], cells.results["alternative"]
    null_mass = cells.masses(null_grid)  # (distributions, states, cells)
    alt_mass = cells.masses(alt_grid)
    imp, reg = cells.improvement_llr, cells.regression_llr
    if family == "both":
        # H1 side: P(better | 0) from the cells where the improvement test still runs (read first).
        h1_stat = imp
        h1_null = null_mass[:, BOTH] + null_mass[:, IMPROVEMENT_ONLY]
    else:
        h1_stat = imp
        h1_null = null_mass[:, IMPROVEMENT_ONLY]
    # The same margin as the boundaries': the rates between the grid's discordances stay at or below nominal.
    accept_h1, _ = _cut_from_top(h1_stat, h1_null, null_so_far.better, alpha - MARGIN)
    # H0 side, given accept_h1. "both": a wrong claim under +delta is no_difference or worse.
    alt_imp_h1 = imp >= accept_h1
    if family == "both":
        reg_h1 = reg >= accept_h1
        worse_now = (alt_mass[:, BOTH] * (~alt_imp_h1 & reg_h1)).sum(axis=1) + (
            alt_mass[:, REGRESSION_ONLY] * reg_h1
        ).sum(axis=1)
        # no_difference needs every running test at or below accept_h0: the statistic is the larger LLR.
        stats = np.concatenate((np.maximum(imp, reg), reg, imp))
        masses = np.concatenate(
            (
                alt_mass[:, BOTH] * (~alt_imp_h1 & ~reg_h1),
                alt_mass[:, REGRESSION_ONLY] * ~reg_h1,
                alt_mass[:, IMPROVEMENT_ONLY] * ~alt_imp_h1,
            ),
            axis=1,
        )
        already = alt_so_far.no_difference + alt_so_far.worse + worse_now
        better_now = (alt_mass[:, BOTH] * alt_imp_h1).sum(axis=1) + (alt_mass[:, IMPROVEMENT_ONLY] * alt_imp_h1).sum(
            axis=1
        )
        h1_null_claims = h1_null[:, imp >= accept_h1].sum(axis=1)
    else:
        stats = imp
        masses = alt_mass[:, IMPROVEMENT_ONLY] * ~alt_imp_h1
        already = alt_so_far.no_difference
        better_now = (alt_mass[:, IMPROVEMENT_ONLY] * alt_imp_h1).sum(axis=1)
        h1_null_claims = h1_null[:, imp >= accept_h1].sum(axis=1)
    eligible = np.isfinite(stats) & (masses.sum(axis=0) > 0.0) if masses.size else np.zeros(0, dtype=bool)
    accept_h0, h0_claims = _cut_from_bottom(
        stats[eligible], masses[:, eligible], already, beta - MARGIN, ceiling=accept_h1
    )
    worst_alpha = float((null_so_far.better + h1_null_claims).max())
    worst_beta = float((already + h0_claims).max())
    miss = float((1.0 - alt_so_far.better - better_now).max())
    return LastLook(accept_h0=accept_h0, accept_h1=accept_h1, alpha=worst_alpha, beta=worst_beta, miss=max(0.0, miss))


def _groups(values: FloatArray, descending: bool) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    order = np.argsort(-values if descending else values, kind="stable")
    return values[order], order


def _cut_from_top(stat: FloatArray, masses: FloatArray, already: FloatArray, limit: float) -> tuple[float, FloatArray]:
    """The least threshold ``c > 0`` such that claiming the cells with ``stat >= c`` keeps the error of every
    distribution (``already`` + their masses) at or below ``limit``; ``inf`` if no cell can be claimed. The
    threshold sits in a gap of at least ``GAP`` between cell values."""
    positive = np.isfinite(stat) & (stat > 0.0) & (masses.sum(axis=0) > 0.0)
    values, order = _groups(stat[positive], descending=True)
    if not len(values):
        return math.inf, np.zeros(len(already))
    cumulative = np.cumsum(masses[:, positive][:, order], axis=1) + already[:, None]
    feasible = cumulative.max(axis=0) <= limit
    # The prefix may end only where the next value is at least GAP away (or at the end).
    ends_ok = np.append(values[:-1] - values[1:] >= GAP, True)
    candidates = np.flatnonzero(np.logical_and.accumulate(feasible) & ends_ok)
    if not len(candidates):
        return math.inf, np.zeros(len(already))
    last = int(candidates[-1])
    following = values[last + 1] if last + 1 < len(values) else 0.0
    threshold = (values[last] + max(following, 0.0)) / 2.0
    return float(threshold), cumulative[:, last] - already


def _cut_from_bottom(
    stat: FloatArray, masses: FloatArray, already: FloatArray, limit: float, *, ceiling: float
) -> tuple[float, FloatArray]:
    """The largest threshold ``c <= ceiling`` such that claiming H0 for the cells with ``stat <= c`` keeps every
    distribution's error at or below ``limit``; ``-inf`` if none can be claimed. Returns ``ceiling`` itself when
    every cell below it can be claimed (no undecided zone)."""
    below = stat < ceiling
    values, order = _groups(stat[below], descending=False)
    if not len(values):
        return ceiling if math.isfinite(ceiling) else -math.inf, np.zeros(len(already))
    cumulative = np.cumsum(masses[:, below][:, order], axis=1) + already[:, None]
    feasible = cumulative.max(axis=0) <= limit
    prefix = np.logical_and.accumulate(feasible)
    if prefix.all() and math.isfinite(ceiling):
        return ceiling, cumulative[:, -1] - already
    ends_ok = np.append(values[1:] - values[:-1] >= GAP, True)
    candidates = np.flatnonzero(prefix & ends_ok)
    if not len(candidates):
        return -math.inf, np.zeros(len(already))
    last = int(candidates[-1])
    following = values[last + 1] if last + 1 < len(values) else values[last] + 1.0
    return float((values[last] + following) / 2.0), cumulative[:, last] - already


# -- the table -------------------------------------------------------------------------------------------------


def required_pairs(table: Sequence[LastLook]) -> int | None:
    """The least cap from which no cap of the table leaves an undecided zone."""
    required: int | None = None
    for n in range(len(table), 0, -1):
        if table[n - 1].accept_h1 > table[n - 1].accept_h0:
            break
        required = n
    return required


def _finite(value: float) -> float | None:
    return round(value, 9) if math.isfinite(value) else None


def table_entry(
    *,
    alpha: float,
    beta: float,
    delta: float,
    family: Family,
    bounds: DiscordanceBounds,
    profile: Profile,
    last_looks: Sequence[LastLook],
) -> dict[str, Any]:
    """One design of ``calibrated_paired.json`` (read by ``design.design_from_entry``)."""
    return {
        "family": family,
        "alpha": alpha,
        "beta": beta,
        "delta": delta,
        "bounds": {"knots": list(bounds.knots), "lower": list(bounds.lower), "upper": list(bounds.upper)},
        "grid": [LOWEST_DISCORDANCE, 1.0, FINE_STEP],
        "worst_alpha": round(profile.worst_alpha, 6),
        "worst_beta": round(profile.worst_beta, 6),
        "residual": profile.residual,
        "required_pairs": required_pairs(last_looks),
        "caps": [
            [
                _finite(look.accept_h0),
                _finite(look.accept_h1),
                round(look.alpha, 6),
                round(look.beta, 6),
                round(look.miss, 6),
            ]
            for look in last_looks
        ],
    }
