"""How many more observations a running sequential test needs, at the very least, before it can decide.

Dispatch uses it to run further ahead of the test without paying for trials the decision will not need: while a
test is at least ``k`` observations from any boundary, the next ``k`` observations in planned order are certainly
fed to it, so starting them early costs nothing (``run/lookahead.py``).

Standard library only: computed on the controller after every observation that enters the test.

* One config against a target (Wald's binomial SPRT, constant bounds): a success moves the LLR up by a constant
  step and a failure down by another, so the distance is exact: the fewer of ``ceil(gap to the upper bound /
  success step)`` and ``ceil(gap to the lower bound / failure step)``.
* Control vs test (the paired GSPRT): the LLR is a profile likelihood and the bounds move with the observed
  discordance, so no step is constant. The distance is the smallest margin (LLR to a bound, over the one-sided
  tests still running) divided by the largest amount one more pair (a win, a loss or a tie) can take off any
  margin, rounded up. This is not proven to be a lower bound: later steps may be larger than the next one. Taking
  the largest step over every margin and outcome has kept it one on every state checked (the unit tests compare
  it with the exact earliest decision, found by enumerating every reachable count, on seeded samples of states at
  two designs and three directions; a per-margin step, tighter, fails that check). Where it errs, only the bound
  on trials run after the decision does (``run/lookahead.py``), never a verdict.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pytest_agentopt.stats.sprt import paired_llr

if TYPE_CHECKING:
    from pytest_agentopt.stats.sprt import PairedSequentialTest, TargetSequentialTest

__all__ = ["paired_margins", "pairs_before_decision", "trials_before_decision"]

_OUTCOMES = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
"""One more pair: a win, a loss, a tie (added to ``(wins, losses, ties)``)."""
_ROUNDING = 1e-9


def paired_margins(
    wins: int, losses: int, ties: int, *, delta: float, test: PairedSequentialTest
) -> list[tuple[float, float]]:
    """``(upper - LLR, LLR - lower)`` of each one-sided test of ``test`` still running, at these counts."""
    lower, upper = test.design.bounds.for_counts(wins, losses, ties)
    margins = []
    for name, alternative in (("better", delta), ("worse", -delta)):
        if test.states[name] != "running":
            continue
        llr = paired_llr(wins, losses, ties, 0.0, alternative)
        margins.append((upper - llr, llr - lower))
    return margins


def pairs_before_decision(test: PairedSequentialTest) -> int | None:
    """At least how many more pairs ``test`` needs before its verdict can change; ``None`` once it has decided.

    At least 1 while it runs. A test that cannot move towards any boundary (no step shrinks a margin) reports a
    large figure bounded by its design's cap table, never infinity.
    """
    if test.verdict is not None:
        return None
    delta = test.settings.delta
    wins, losses, ties = test.wins, test.losses, test.ties
    now = paired_margins(wins, losses, ties, delta=delta, test=test)
    if not now:
        return None
    nearest = min(min(margin) for margin in now)
    if nearest <= 0.0:
        return 1
    step = 0.0
    for won, lost, tied in _OUTCOMES:
        after = paired_margins(wins + won, losses + lost, ties + tied, delta=delta, test=test)
        for (upper_now, lower_now), (upper_after, lower_after) in zip(now, after, strict=True):
            step = max(step, upper_now - upper_after, lower_now - lower_after)
    if step <= 0.0:
        return max(1, test.design.max_pairs)
    return max(1, _steps_to_cover(nearest, step))


def trials_before_decision(test: TargetSequentialTest) -> int | None:
    """Exactly how many more trials ``test`` needs, at the fewest, to cross a bound; ``None`` once decided."""
    if test.verdict is not None:
        return None
    lower, upper = test.bounds
    success_step = math.log(test.p1 / test.p0)
    failure_step = -math.log((1.0 - test.p1) / (1.0 - test.p0))
    to_upper = _steps_to_cover(upper - test.llr, success_step)
    to_lower = _steps_to_cover(test.llr - lower, failure_step)
    return max(1, min(to_upper, to_lower))


def _steps_to_cover(gap: float, step: float) -> int:
    """The fewest steps of ``step`` that cover ``gap``, erring low by a rounding error (the LLR is a float sum)."""
    return math.ceil(gap / step - _ROUNDING)
