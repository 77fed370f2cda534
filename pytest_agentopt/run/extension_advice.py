"""What an inconclusive paired run should do next: the larger cap, what it would take, and the command.

When the cap ends a paired ``--sprt`` run undecided, the summary's ``extension`` section proposes the cap from
which the calibrated design always ends with a claim (``required_pairs``, in trials per task), and says, from the
run's current state (exact DP, ``stats.extension.outlook``, pairs drawn from the run's own pair distribution):

* the expected further pairs to the decision and their 95th percentile, and the probability of a claim by then;
* the expected dollars, from the run's mean cost per pair (unknown when no pair had both costs);
* the exact command that continues the run (``--agent-resume RUN --agent-trials N``);
* the error rates of the extended run. Extending after seeing an undecided last look is a different procedure
  from either cap's design: its claims are the larger design's plus the first look's. So its error rates are
  bounded by the sum of the two caps' (the union of their claims), which the summary states; the exact figures
  for given caps come from ``stats.extension.extended_error_rates`` (``scripts/extension_rates.py``, see
  docs/statistics.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from pytest_agentopt.stats.design import PairedDesign

OUTLOOK_RESIDUAL = 1e-4
"""The DP stops once less than this probability is still running: the expected further pairs are then low by at
most ``1e-4 x`` the pairs left to the cap (< 0.1 pair at the defaults) and ``p_decided`` by at most 1e-4. The
tail is long (a run at a discordance near 0 goes on for hundreds of pairs), and each step costs a few
milliseconds, so a tighter residual buys nothing printable for seconds more at the end of the run."""


class ExtensionAdvice(TypedDict):
    """The summary's ``extension`` section (documented in docs/summary.md)."""

    trials: int
    cap_pairs: int
    expected_further_pairs: float
    p95_further_pairs: int
    p_decided: float
    cost_per_pair_usd: float | None
    expected_usd: float | None
    command: str
    alpha_at_most: float | None
    beta_at_most: float | None
    method: str


def mean_cost_per_pair(records: Sequence[Mapping[str, Any]]) -> float | None:
    """The mean of control + test cost over the pairs where both trials recorded a cost (``None``: none did)."""
    halves: dict[tuple[str, int], dict[str, float]] = {}
    for record in records:
        cost = record.get("cost_usd")
        if cost is not None:
            halves.setdefault((record["task_id"], record["trial"]), {})[record["arm"]] = cost
    totals = [pair["control"] + pair["test"] for pair in halves.values() if len(pair) == 2]
    return math.fsum(totals) / len(totals) if totals else None


def extension_advice(
    *,
    design: PairedDesign,
    wins: int,
    losses: int,
    ties: int,
    tests: dict[str, Any],
    tasks: int,
    trials: int,
    cost_per_pair: float | None,
    command: str,
) -> ExtensionAdvice | None:
    """The ``extension`` section, or ``None`` when there is nothing exact to say (an uncalibrated design, no
    pairs, or a cap already at the required number of pairs)."""
    pairs = wins + losses + ties
    required = design.required_pairs
    if design.source != "calibrated" or required is None or not pairs or not tasks:
        return None
    new_trials = max(trials + 1, math.ceil(required / tasks))
    cap_pairs = pairs + (new_trials - trials) * tasks  # the pairs already in, and every new one
    # Here, not at the top: the controller imports this module's type at start-up, and the exact DP's numpy
    # costs about 0.07 s (scripts/bench_overhead.py).
    from pytest_agentopt.stats.extension import outlook, running_state

    try:
        state = running_state(design.direction, tests)
    except ValueError:
        return None
    forecast = outlook(
        design, wins=wins, losses=losses, ties=ties, state=state, cap_pairs=cap_pairs, residual=OUTLOOK_RESIDUAL
    )
    first, last = design.at_cap(pairs), design.at_cap(cap_pairs)
    alpha_bound = beta_bound = None
    if first is not None and last is not None:
        alpha_bound, beta_bound = min(1.0, first.alpha + last.alpha), min(1.0, first.beta + last.beta)
    return ExtensionAdvice(
        trials=new_trials,
        cap_pairs=cap_pairs,
        expected_further_pairs=forecast.expected_pairs,
        p95_further_pairs=forecast.p95_pairs,
        p_decided=forecast.decided,
        cost_per_pair_usd=cost_per_pair,
        expected_usd=None if cost_per_pair is None else forecast.expected_pairs * cost_per_pair,
        command=f"{command} --agent-trials={new_trials}",
        alpha_at_most=alpha_bound,
        beta_at_most=beta_bound,
        method=(
            "exact DP from the run's state, pairs drawn from its observed pair distribution; error rates of the "
            "extended run bounded by the sum of the two caps' worst cases"
        ),
    )


def advice_text(advice: ExtensionAdvice) -> str:
    """One line: what extending would take and the command."""
    cost = advice["expected_usd"]
    dollars = f"about ${cost:,.2f}" if cost is not None else "dollars unknown (no pair recorded both costs)"
    rates = (
        f"; the extended run's error rates are at most alpha {advice['alpha_at_most']:.3f}, beta "
        f"{advice['beta_at_most']:.3f} (it is a new design)"
        if advice.get("alpha_at_most") is not None
        else ""
    )
    return (
        f"to decide, extend it to {advice['trials']} trials per task: expected {advice['expected_further_pairs']:.0f} "
        f"more pairs (95 % within {advice['p95_further_pairs']}, {dollars}), a claim by then with probability "
        f"{advice['p_decided']:.2f} if the pairs go on as so far{rates}: {advice['command']}"
    )
