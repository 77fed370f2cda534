"""Extending a paired run that its cap ended undecided: what the rest would take, and what the error rates become.

Two exact computations over the lattice (``gsprt_dp.lattice_dp``):

* :func:`outlook`: from the run's current state (its wins, losses and ties and which one-sided tests still run),
  the distribution of the further pairs to a decision under a larger cap, when pairs keep coming from the
  observed pair distribution (the plug-in estimate ``(losses, ties, wins) / pairs``): the expected number, its
  95th percentile and the probability of a claim by the new cap. A plug-in forecast, not a guarantee: the true
  rates are unknown, and the figures say what the run's own data predict.
* :func:`extended_error_rates`: the procedure a user follows when extending, "run to ``first_cap``; if the last
  look there leaves it undecided, go on to ``new_cap``", is not the design of either cap: its claims are those
  of the larger design plus the claims the first cap's last look made. Its exact worst-case alpha and beta over
  the discordance grid of the calibration are computed with that intermediate look. The boundaries do not
  depend on the cap (only the last look does), so the only extra error is the first look's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pytest_agentopt.stats.design import PairedDesign
from pytest_agentopt.stats.gsprt_dp import (
    BOTH,
    IMPROVEMENT_ONLY,
    REGRESSION_ONLY,
    StartCell,
    lattice_dp,
    log_path_probabilities,
    trinomial_grid,
)

__all__ = ["ExtendedRates", "Outlook", "extended_error_rates", "outlook", "running_state"]


@dataclass(frozen=True)
class Outlook:
    cap_pairs: int
    expected_pairs: float
    """Expected further pairs until the run ends (a claim, or the new cap)."""
    p95_pairs: int
    decided: float
    """Probability of a claim by the new cap."""


def running_state(direction: str, tests: dict[str, str | None]) -> int:
    """The DP's state of a live test from its one-sided tests' states (``summary["tests"]``)."""
    improvement = direction != "worse" and tests.get("better") == "running"
    regression = direction != "better" and tests.get("worse") == "running"
    if improvement and regression:
        return BOTH
    if improvement:
        return IMPROVEMENT_ONLY
    if regression:
        return REGRESSION_ONLY
    raise ValueError("no one-sided test is still running: the run has decided")


def outlook(
    design: PairedDesign, *, wins: int, losses: int, ties: int, state: int, cap_pairs: int, residual: float = 1e-9
) -> Outlook:
    """The further pairs to a decision from these counts under a cap of ``cap_pairs`` (see the module doc);
    the DP stops once less than ``residual`` is still running (counted as ending there)."""
    pairs = wins + losses + ties
    if pairs == 0 or cap_pairs <= pairs:
        raise ValueError(f"need some pairs and a cap above them, got {pairs} pairs and cap {cap_pairs}")
    distribution = np.array([[losses / pairs, ties / pairs, wins / pairs]])
    win_count, loss_count, tie_count = (np.array([float(count)]) for count in (wins, losses, ties))
    log_weight = -float(log_path_probabilities(win_count, loss_count, tie_count, distribution)[0, 0])
    start = StartCell(wins=wins, losses=losses, ties=ties, state=state, log_weight=log_weight)
    result = lattice_dp(
        delta=design.delta,
        bounds=design.bounds,
        direction=design.direction,
        max_pairs=cap_pairs,
        grids={"plug-in": distribution},
        last_look=design.last_look(cap_pairs),
        start=start,
        residual=residual,
    )["plug-in"]
    stopping = [float(mass[0]) for mass in result.stopping]
    total = math.fsum(stopping)
    cumulative, p95 = 0.0, len(stopping) - 1
    for index, mass in enumerate(stopping):
        cumulative += mass / total
        if cumulative >= 0.95:
            p95 = index
            break
    decided = float(result.better[0] + result.worse[0] + result.no_difference[0])
    return Outlook(
        cap_pairs=cap_pairs,
        expected_pairs=math.fsum(index * mass for index, mass in enumerate(stopping)) / total,
        p95_pairs=p95,
        decided=min(1.0, decided),
    )


@dataclass(frozen=True)
class ExtendedRates:
    first_cap: int
    new_cap: int
    alpha: float
    """Worst case over the discordance of P(a false claim of a difference) when the mean is 0 (per direction)."""
    beta: float
    """Worst case of P(claiming no difference) when the mean is +-delta."""


def extended_error_rates(design: PairedDesign, *, first_cap: int, new_cap: int) -> ExtendedRates:
    """Exact worst-case error rates of "cap at ``first_cap``, extend to ``new_cap`` when undecided"."""
    first, last, step = design.grid
    discordances = np.arange(first, last + step / 2, step)
    grids = {"null": trinomial_grid(discordances, 0.0)}
    alternatives = discordances[discordances >= design.delta]
    if design.direction != "worse":
        grids["better"] = trinomial_grid(alternatives, design.delta)
    if design.direction != "better":
        grids["worse"] = trinomial_grid(alternatives, -design.delta)
    look = design.last_look(first_cap)
    results = lattice_dp(
        delta=design.delta,
        bounds=design.bounds,
        direction=design.direction,
        max_pairs=new_cap,
        grids=grids,
        last_look=design.last_look(new_cap),
        interim_look=(first_cap, look) if look is not None else None,
    )
    null = results["null"]
    alpha = float(max(null.better.max(), null.worse.max()))
    beta = max(float(results[side].no_difference.max()) for side in ("better", "worse") if side in results)
    return ExtendedRates(first_cap=first_cap, new_cap=new_cap, alpha=alpha, beta=beta)
