"""How far dispatch may run ahead of the lowest unfinished item: the look-ahead under ``--sprt``.

Results enter the sequential test only as the completed prefix of the planned order (``run/feeding.py``), so a
slow trial holds the prefix back while the other workers want more work. Items started beyond the prefix cost
money when the test decides before it needs them (they are paid for and recorded ``after_decision``); items the
test will certainly read before it can decide cost nothing extra, only earlier.

``--agent-lookahead auto`` (the default, :class:`AdaptiveLookahead`) runs exactly as far ahead as that allows:

    window = base + certainly_needed

* ``base`` = 2 x workers, the fixed window of earlier versions (a running item and the one xdist must hold before
  it starts it, per worker);
* ``certainly_needed`` = the items the test reads before it can possibly decide: at least ``k`` more units (pairs
  or trials) are needed, ``k`` from ``stats/decision_distance.py`` (the LLR's distance to the nearest bound in
  units of the largest one-pair step), and ``k`` pairs span at least ``2k - 1`` items from the lowest unfinished
  one (it may be the second half of a pair), ``k`` trials ``k`` items.

Far from a boundary the window is wide (a slow trial no longer stalls the other workers); near one it is the base.
The lowest unfinished item plus ``certainly_needed`` never passes the decision point while ``k`` is a lower bound
(exact for a target test; for the paired test checked against exhaustive enumeration, see
``stats/decision_distance.py``), so the items started beyond the decision point are at most ``base``, as with the
fixed window. The
decision does not depend on the window at all: the test reads the same prefix in the same order.

With several candidates against one control (:class:`CandidatesLookahead`) every candidate has its own test, and
the window is the base plus the *least* of the undecided candidates' certainly needed items: the nearest decision
bounds how far dispatch may run. A pair of candidate ``c`` completes at ``c``'s position in its group of ``K + 1``
adjacent items (control first, then each candidate), so ``k`` more pairs of ``c`` span at least ``(k - 1)(K + 1)
+ 1`` items from the lowest unfinished one. A decided candidate no longer counts (its items are no longer handed
out, ``run/dispatch.py``); docs/candidates-validation.md bounds the trials a candidate starts after its decision.

``--agent-lookahead N`` (:class:`FixedLookahead`) fixes the window at ``N`` items, for users who trade money for
time (a large ``N`` keeps every worker busy and may start up to ``N`` trials the decision will not read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_agentopt.run.dispatch import Lookahead, default_window
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.stats.decision_distance import pairs_before_decision, trials_before_decision
from pytest_agentopt.stats.sprt import PairedSequentialTest, TargetSequentialTest

if TYPE_CHECKING:
    from pytest_agentopt.run.candidates import CandidateFeeders


@dataclass(frozen=True)
class FixedLookahead:
    """``--agent-lookahead N``: always ``N`` items."""

    items: int

    def __post_init__(self) -> None:
        if self.items < 1:
            raise ValueError("the look-ahead must hold at least one item")


class AdaptiveLookahead:
    """``--agent-lookahead auto``: the base window plus the items the test certainly reads before it can decide.

    Reads the feeder's test on demand and recomputes the distance only when a unit has entered the test (about
    50 microseconds a pair on the paired test), so asking for ``items`` on every dispatch is cheap.
    """

    def __init__(self, workers: int, feeder: SequentialFeeder, *, resumed: bool = False) -> None:
        self.base = default_window(workers)
        self.feeder = feeder
        self.resumed = resumed
        """A resumed run collects only its unfinished trials: the planned positions the test certainly reads are
        fewer items of its collection by the finished ones among them (counted as every result still waiting
        for an earlier one, which may be more)."""
        self._seen: tuple[int, int] | None = None
        self._certainly_needed = 0

    @property
    def items(self) -> int:
        state = (self.feeder.units, self.feeder.waiting if self.resumed else 0)
        if self._seen != state or self.feeder.decision is not None:
            self._seen = state
            needed = certainly_needed_items(self.feeder)
            self._certainly_needed = max(0, needed - state[1])
        return self.base + self._certainly_needed

    @property
    def certainly_needed(self) -> int:
        """The items beyond the lowest unfinished one that the test reads before it can decide (as last computed)."""
        return self._certainly_needed


class CandidatesLookahead:
    """``--agent-lookahead auto`` with several candidates: the base window plus the least of the undecided
    candidates' certainly needed items (see the module doc). Each candidate's distance is recomputed only when a
    pair has entered its test."""

    def __init__(self, workers: int, candidates: CandidateFeeders, *, resumed: bool = False) -> None:
        self.base = default_window(workers)
        self.candidates = candidates
        self.resumed = resumed
        """As for :class:`AdaptiveLookahead`: a resumed run's collection lacks its finished trials."""
        self.arms_per_group = len(candidates.arms) + 1
        self._needed: dict[str, tuple[int, int]] = {}
        """Per candidate: the units its test had and the items it certainly reads, as last computed."""

    @property
    def items(self) -> int:
        least: int | None = None
        for arm, feeder in self.candidates.feeders.items():
            if feeder.decision is not None:
                continue
            seen = self._needed.get(arm)
            if seen is None or seen[0] != feeder.units:
                seen = (feeder.units, certainly_needed_items(feeder, arms_per_group=self.arms_per_group))
                self._needed[arm] = seen
            least = seen[1] if least is None else min(least, seen[1])
        waiting = self.candidates.waiting if self.resumed else 0
        return self.base + max(0, (least or 0) - waiting)


def certainly_needed_items(feeder: SequentialFeeder, *, arms_per_group: int = 2) -> int:
    """Items (planned positions from the lowest unfinished one) the test reads before it can possibly decide.

    ``arms_per_group``: the adjacent items of one task and trial in the plan (control and test: 2; with ``K``
    candidates ``K + 1``): ``k`` more pairs span at least ``(k - 1) * arms_per_group + 1`` items.
    0 once it has decided, and for a test whose distance to its boundaries is not known (``--agent-metric``).
    """
    if feeder.decision is not None:
        return 0
    if isinstance(feeder.paired_test, PairedSequentialTest):
        pairs = pairs_before_decision(feeder.paired_test)
        return 0 if pairs is None else (pairs - 1) * arms_per_group + 1
    if isinstance(feeder.target_test, TargetSequentialTest):
        trials = trials_before_decision(feeder.target_test)
        return 0 if trials is None else trials
    return 0


def lookahead_for(
    items: int | None,
    *,
    workers: int,
    feeder: SequentialFeeder | CandidateFeeders,
    resumed: bool = False,
) -> Lookahead:
    """The look-ahead of a ``--sprt`` run: fixed at ``items``, or adaptive (``None``: ``auto``; with several
    candidates, over the undecided ones)."""
    if items is not None:
        return FixedLookahead(items)
    if isinstance(feeder, SequentialFeeder):
        return AdaptiveLookahead(workers, feeder, resumed=resumed)
    return CandidatesLookahead(workers, feeder, resumed=resumed)
