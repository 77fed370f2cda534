"""``--agent-budget``: stop starting trials once the estimated spend would exceed the budget.

The projection is the spend so far plus the average cost of a trial for each trial that may still be running
(one per worker) and for the next one. Budget exhaustion is never scored: the verdict of a run stopped by its
budget is ``inconclusive`` (unless the sequential test had already decided).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict


class BudgetState(TypedDict):
    """``--agent-budget`` and what the run spent against it (``budget``)."""

    limit_usd: float
    spent_usd: float
    exhausted: bool
    unpriced_trials: int


@dataclass
class BudgetGuard:
    limit_usd: float
    in_flight: int
    spent_usd: float = 0.0
    priced_trials: int = 0
    unpriced_trials: int = 0
    exhausted: bool = False

    def add(self, cost_usd: float | None) -> bool:
        """Count one finished trial's cost; True the first time the next trial would exceed the budget."""
        if cost_usd is None:
            self.unpriced_trials += 1
            return False
        self.spent_usd += cost_usd
        self.priced_trials += 1
        if self.exhausted:
            return False
        if self.projected_usd() > self.limit_usd:
            self.exhausted = True
            return True
        return False

    def projected_usd(self) -> float:
        if not self.priced_trials:
            return self.spent_usd
        return self.spent_usd + self.spent_usd / self.priced_trials * (self.in_flight + 1)

    def as_dict(self) -> BudgetState:
        return {
            "limit_usd": self.limit_usd,
            "spent_usd": self.spent_usd,
            "exhausted": self.exhausted,
            "unpriced_trials": self.unpriced_trials,
        }
