"""Feeding results to the sequential test in planned order, never in completion order.

Agent failures usually take longer than successes (they run into turn limits). Feeding results as they complete
would enrich early data in fast successes and inflate the error rates (alpha 0.15 instead of 0.05 at 8 workers in
simulation). So results enter the test only as the completed *prefix* of the planned sequence: a result waits
until every earlier sequence number has finished. The first boundary crossing is final; results beyond the
decision point are kept for the estimates but never enter the decision.

In a paired (A/B) run a pair enters the test when both its trials have been committed; a pair with an infra
error, a setup error or a skipped half is excluded (it says nothing about the agents). In a single-config run
with a target, each scored trial enters the test on its own. A run that decides on another metric than success
(``--agent-metric``) feeds its pairs, outcome and metric value, to a ``metric_pairs.MetricPairs`` instead.

The cap: once the whole plan (``plan_size`` sequence numbers) has been committed without a decision, the test is
asked to conclude: a paired test with a calibrated design takes its last look, which may decide (a decision
``at_cap``); otherwise the run ends undecided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pytest_agentopt.run.outcomes import SCORED_OUTCOMES
from pytest_agentopt.stats.design import PairedDesign
from pytest_agentopt.stats.sprt import TestState


class PairedTest(Protocol):
    """The paired test the feeder drives (``stats.sprt.PairedSequentialTest``), and what its readers read: the
    summary, the progress line, ``agentopt watch`` and the extension advice."""

    def add_pair(self, control_success: bool, test_success: bool) -> None: ...

    def conclude(self) -> str | None: ...

    @property
    def verdict(self) -> str | None: ...

    @property
    def llr(self) -> dict[str, float | None]:
        """``{"better": x, "worse": y}``; ``None`` for a test a one-sided direction does not run."""
        ...

    @property
    def bounds(self) -> tuple[float, float]: ...

    @property
    def states(self) -> dict[str, TestState | None]: ...

    @property
    def last_look(self) -> tuple[float, float] | None: ...

    @property
    def design(self) -> PairedDesign:
        """The boundaries and the last look (``source`` says whether they are calibrated or Wald's)."""
        ...

    @property
    def wins(self) -> int:
        """Pairs only the test arm solved."""
        ...

    @property
    def losses(self) -> int:
        """Pairs only the control arm solved."""
        ...

    @property
    def ties(self) -> int:
        """Pairs with equal outcomes."""
        ...


class MetricTest(Protocol):
    def add_results(self, control: tuple[str, object], test: tuple[str, object]) -> bool: ...

    def conclude(self) -> str | None: ...

    @property
    def verdict(self) -> str | None: ...


class TargetTest(Protocol):
    """The one-config test against a target rate (``stats.sprt.TargetSequentialTest``)."""

    def add_trial(self, success: bool) -> None: ...

    def conclude(self) -> str | None: ...

    @property
    def verdict(self) -> str | None: ...

    @property
    def llr(self) -> float: ...

    @property
    def bounds(self) -> tuple[float, float]: ...

    p0: float
    """The success rate of H0 (the target minus the effect)."""
    p1: float
    """The success rate of H1 (the target)."""

    @property
    def trials(self) -> int:
        """Scored trials in the test."""

    @property
    def successes(self) -> int: ...


def score(outcome: str) -> bool | None:
    """``True``/``False`` for outcomes that count, ``None`` for those kept out of the statistics."""
    if outcome not in SCORED_OUTCOMES:
        return None
    return outcome == "success"


@dataclass(frozen=True)
class Decision:
    verdict: str
    seq: int
    """The last sequence number that entered the decision; later trials are after the decision."""
    units: int
    """Pairs (A/B) or trials (single config) that entered the test when it decided."""
    at_cap: bool = False
    """Decided by the last look at the cap (after the last planned trial), not by a boundary crossing."""


@dataclass
class _Result:
    task_id: str
    arm: str
    trial: int
    outcome: str
    value: object = None
    """The trial's value of the decided metric (``metric_test`` only)."""


@dataclass
class SequentialFeeder:
    """Commits results in planned order and feeds them to a paired or a target test."""

    paired_test: PairedTest | None = None
    target_test: TargetTest | None = None
    metric_test: MetricTest | None = None
    committed: int = 0
    """Length of the committed prefix: sequence numbers ``0 .. committed-1`` have all been fed."""
    plan_size: int | None = None
    """The number of planned sequence numbers, once known: committing all of them concludes the test."""
    decision: Decision | None = None
    concluded: bool = False
    """The whole plan was committed without a boundary decision and the test was asked to conclude."""
    units: int = 0
    test_arm: str = "test"
    """The candidate arm paired with ``control`` (with several candidates each has its own feeder; results of the
    other candidates move the committed prefix on but never enter this test)."""
    _waiting: dict[int, _Result] = field(default_factory=dict)
    _half_pairs: dict[tuple[str, int], _Result] = field(default_factory=dict)

    def add(
        self, seq: int, *, task_id: str, arm: str, trial: int, outcome: str, value: object = None
    ) -> Decision | None:
        """Record the result at ``seq``; return the decision if this result (and those it unblocked) made it."""
        if seq < self.committed or seq in self._waiting:
            return None  # a duplicate report (e.g. a resumed trial) never counts twice
        self._waiting[seq] = _Result(task_id, arm, trial, outcome, value)
        decided_before = self.decision is not None
        while self.committed in self._waiting:
            result = self._waiting.pop(self.committed)
            if self.decision is None:
                self._feed(result, self.committed)
            self.committed += 1
        self.conclude_if_complete()
        if self.decision is not None and not decided_before:
            return self.decision
        return None

    def conclude_if_complete(self) -> Decision | None:
        """At the cap (every planned result committed, no decision yet): the test's last look, once."""
        if self.concluded or self.decision is not None or self.plan_size is None or self.committed < self.plan_size:
            return None
        self.concluded = True
        test = self.metric_test or self.paired_test or self.target_test
        verdict = test.conclude() if test is not None else None
        if verdict is not None:
            self.decision = Decision(verdict=verdict, seq=self.committed - 1, units=self.units, at_cap=True)
        return self.decision

    def is_after_decision(self, seq: int) -> bool:
        return self.decision is not None and seq > self.decision.seq

    def llr_and_bounds(self, target_name: str) -> tuple[dict[str, float | None], tuple[float, float]]:
        """The test's LLRs by name (a paired test's ``better``/``worse``; a target test's under ``target_name``)
        and its current bounds, for the lines that show the test as it runs."""
        if self.paired_test is not None:
            return self.paired_test.llr, self.paired_test.bounds
        if self.target_test is not None:
            return {target_name: self.target_test.llr}, self.target_test.bounds
        raise ValueError("this feeder drives no paired or target test")

    @property
    def waiting(self) -> int:
        """Results that have arrived but wait for an earlier sequence number."""
        return len(self._waiting)

    def _feed(self, result: _Result, seq: int) -> None:
        if self.target_test is not None:
            success = score(result.outcome)
            if success is None:
                return
            self.target_test.add_trial(success)
            self.units += 1
            self._check(self.target_test.verdict, seq)
            return
        if (self.paired_test is None and self.metric_test is None) or result.arm not in ("control", self.test_arm):
            return
        key = (result.task_id, result.trial)
        other = self._half_pairs.pop(key, None)
        if other is None:
            self._half_pairs[key] = result
            return
        control, test = (other, result) if other.arm == "control" else (result, other)
        if self.metric_test is not None:
            if self.metric_test.add_results((control.outcome, control.value), (test.outcome, test.value)):
                self.units += 1
                self._check(self.metric_test.verdict, seq)
            return
        assert self.paired_test is not None
        control_success, test_success = score(control.outcome), score(test.outcome)
        if control_success is None or test_success is None:
            return
        self.paired_test.add_pair(control_success, test_success)
        self.units += 1
        self._check(self.paired_test.verdict, seq)

    def _check(self, verdict: str | None, seq: int) -> None:
        if verdict is not None and self.decision is None:
            self.decision = Decision(verdict=verdict, seq=seq, units=self.units)
