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

``--agent-lookahead N`` (:class:`FixedLookahead`) fixes the window at ``N`` items, for users who trade money for
time (a large ``N`` keeps every worker busy and may start up to ``N`` trials the decision will not read).
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_agentopt.run.dispatch import Lookahead, default_window
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.stats.decision_distance import pairs_before_decision, trials_before_decision
from pytest_agentopt.stats.sprt import PairedSequentialTest, TargetSequentialTest


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


def certainly_needed_items(feeder: SequentialFeeder) -> int:
    """Items (planned positions from the lowest unfinished one) the test reads before it can possibly decide.

    0 once it has decided, and for a test whose distance to its boundaries is not known (``--agent-metric``).
    """
    if feeder.decision is not None:
        return 0
    if isinstance(feeder.paired_test, PairedSequentialTest):
        pairs = pairs_before_decision(feeder.paired_test)
        return 0 if pairs is None else 2 * pairs - 1
    if isinstance(feeder.target_test, TargetSequentialTest):
        trials = trials_before_decision(feeder.target_test)
        return 0 if trials is None else trials
    return 0


def lookahead_for(items: int | None, *, workers: int, feeder: SequentialFeeder, resumed: bool = False) -> Lookahead:
    """The look-ahead of a ``--sprt`` run: fixed at ``items``, or adaptive (``None``: ``auto``)."""
    if items is not None:
        return FixedLookahead(items)
    return AdaptiveLookahead(workers, feeder, resumed=resumed)
