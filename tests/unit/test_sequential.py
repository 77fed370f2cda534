"""Results enter the sequential test in planned order; the first crossing is final."""

from __future__ import annotations

import random

from pytest_agentopt.run.feeding import SequentialFeeder, score
from pytest_agentopt.run.trial_order import ARMS_AB, build_plan
from pytest_agentopt.stats.design import wald_design
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest, TestState


class RecordingPairs:
    """A paired test double that records the pairs it is fed and decides after ``decide_after`` pairs."""

    def __init__(self, decide_after: int = 10**9, at_cap: str | None = None) -> None:
        self.pairs: list[tuple[bool, bool]] = []
        self.decide_after = decide_after
        self.at_cap = at_cap
        self.concluded = 0
        # What the run summary reads from a paired test; the feeder itself never does.
        self.llr: dict[str, float | None] = {"better": None, "worse": None}
        self.bounds = (-1.0, 1.0)
        self.states: dict[str, TestState | None] = {"better": None, "worse": None}
        self.last_look: tuple[float, float] | None = None
        self.design = wald_design(0.05, 0.1, 0.15, "both")

    def add_pair(self, control_success: bool, test_success: bool) -> None:
        self.pairs.append((control_success, test_success))

    def conclude(self) -> str | None:
        self.concluded += 1
        return self.at_cap

    @property
    def verdict(self) -> str | None:
        if self.concluded and self.at_cap is not None:
            return self.at_cap
        return "better" if len(self.pairs) >= self.decide_after else None


def test_results_wait_for_every_earlier_sequence_number() -> None:
    pairs = RecordingPairs()
    feeder = SequentialFeeder(paired_test=pairs)
    feeder.add(1, task_id="a", arm="test", trial=0, outcome="success")
    feeder.add(3, task_id="b", arm="test", trial=0, outcome="failure")
    assert pairs.pairs == []
    assert feeder.waiting == 2
    feeder.add(0, task_id="a", arm="control", trial=0, outcome="failure")
    assert pairs.pairs == [(False, True)]
    assert feeder.committed == 2
    feeder.add(2, task_id="b", arm="control", trial=0, outcome="success")
    assert pairs.pairs == [(False, True), (True, False)]
    assert feeder.committed == 4


def test_completion_order_does_not_change_what_the_test_sees() -> None:
    plan = build_plan([f"t{i}" for i in range(5)], ARMS_AB, trials=4, seed=3)
    outcomes = {entry.seq: random.Random(entry.seq).choice(["success", "failure"]) for entry in plan}

    def fed(order: list[int]) -> list[tuple[bool, bool]]:
        pairs = RecordingPairs()
        feeder = SequentialFeeder(paired_test=pairs)
        for seq in order:
            entry = plan[seq]
            feeder.add(seq, task_id=entry.task_id, arm=entry.arm, trial=entry.trial, outcome=outcomes[seq])
        return pairs.pairs

    in_order = fed(list(range(len(plan))))
    shuffled = list(range(len(plan)))
    random.Random(1).shuffle(shuffled)
    assert fed(shuffled) == in_order
    assert len(in_order) == len(plan) // 2


def test_pairs_with_an_infra_error_or_a_skipped_half_are_excluded_but_do_not_block() -> None:
    pairs = RecordingPairs()
    feeder = SequentialFeeder(paired_test=pairs)
    feeder.add(0, task_id="a", arm="control", trial=0, outcome="infra_error")
    feeder.add(1, task_id="a", arm="test", trial=0, outcome="success")
    feeder.add(2, task_id="b", arm="control", trial=0, outcome="skipped")
    feeder.add(3, task_id="b", arm="test", trial=0, outcome="success")
    feeder.add(4, task_id="c", arm="control", trial=0, outcome="error")
    feeder.add(5, task_id="c", arm="test", trial=0, outcome="success")
    assert pairs.pairs == [(False, True)]  # an agent error counts as a failure
    assert feeder.committed == 6


def test_the_first_decision_is_final_and_later_results_are_after_it() -> None:
    pairs = RecordingPairs(decide_after=2)
    feeder = SequentialFeeder(paired_test=pairs)
    decisions = [
        feeder.add(seq, task_id=f"t{seq // 2}", arm=("control", "test")[seq % 2], trial=0, outcome="success")
        for seq in range(8)
    ]
    assert [d is not None for d in decisions] == [False, False, False, True, False, False, False, False]
    assert feeder.decision is not None
    assert feeder.decision.seq == 3
    assert feeder.decision.units == 2
    assert len(pairs.pairs) == 2  # nothing after the decision entered the test
    assert feeder.is_after_decision(4)
    assert not feeder.is_after_decision(3)


def test_a_duplicate_result_never_counts_twice() -> None:
    pairs = RecordingPairs()
    feeder = SequentialFeeder(paired_test=pairs)
    for _ in range(2):
        feeder.add(0, task_id="a", arm="control", trial=0, outcome="success")
        feeder.add(1, task_id="a", arm="test", trial=0, outcome="success")
    assert pairs.pairs == [(True, True)]


def test_it_drives_the_real_paired_test_to_a_decision() -> None:
    test = PairedSequentialTest(SequentialSettings())
    feeder = SequentialFeeder(paired_test=test)
    seq = 0
    while feeder.decision is None:
        feeder.add(seq, task_id=f"t{seq}", arm="control", trial=0, outcome="failure")
        feeder.add(seq + 1, task_id=f"t{seq}", arm="test", trial=0, outcome="success")
        seq += 2
    # All pairs are wins: the constrained MLEs put P(W) = (1 + mu) / 2, so the LLR after n wins is
    # n * log(0.575 / 0.5) = 0.13976 n, which first reaches log(0.9 / 0.05) = 2.8904 at n = 21.
    assert feeder.decision.verdict == "better"
    assert feeder.decision.units == test.pairs == 21


def test_a_target_test_is_fed_trial_by_trial() -> None:
    test = TargetSequentialTest(0.8, SequentialSettings())
    feeder = SequentialFeeder(target_test=test)
    for seq in range(200):
        if feeder.decision is not None:
            break
        feeder.add(seq, task_id="t", arm="test", trial=seq, outcome="failure" if seq % 2 else "success")
    assert feeder.decision is not None
    assert feeder.decision.verdict == "below_target"


def test_scores() -> None:
    assert score("success") is True
    assert score("failure") is False
    assert score("error") is False
    assert score("infra_error") is None
    assert score("setup_error") is None
    assert score("skipped") is None


def test_a_timeout_counts_as_a_failure_and_a_worker_crash_excludes_its_pair() -> None:
    pairs = RecordingPairs()
    feeder = SequentialFeeder(paired_test=pairs)
    feeder.add(0, task_id="a", arm="control", trial=0, outcome="success")
    feeder.add(1, task_id="a", arm="test", trial=0, outcome="timeout")
    feeder.add(2, task_id="b", arm="control", trial=0, outcome="success")
    feeder.add(3, task_id="b", arm="test", trial=0, outcome="worker_crash")
    feeder.add(4, task_id="c", arm="control", trial=0, outcome="worker_crash")
    feeder.add(5, task_id="c", arm="test", trial=0, outcome="failure")
    assert pairs.pairs == [(True, False)]  # the pairs with a crashed half said nothing about the agents
    assert feeder.committed == 6  # and did not block the prefix
    assert score("timeout") is False
    assert score("worker_crash") is None


def test_when_the_whole_plan_is_committed_the_test_takes_its_last_look_once() -> None:
    plan = build_plan(["a", "b"], ARMS_AB, trials=2, seed=1)
    pairs = RecordingPairs(at_cap="worse")
    feeder = SequentialFeeder(paired_test=pairs, plan_size=len(plan))
    decisions = [
        feeder.add(entry.seq, task_id=entry.task_id, arm=entry.arm, trial=entry.trial, outcome="failure")
        for entry in reversed(plan)  # completion order: the cap is reached only when seq 0 arrives
    ]
    assert decisions[:-1] == [None] * (len(plan) - 1)
    decision = decisions[-1]
    assert decision is not None
    assert (decision.verdict, decision.at_cap, decision.units, decision.seq) == ("worse", True, 4, len(plan) - 1)
    assert pairs.concluded == 1
    assert feeder.conclude_if_complete() is None  # once
    assert pairs.concluded == 1


def test_an_undecided_last_look_leaves_the_run_without_a_decision() -> None:
    pairs = RecordingPairs(at_cap=None)
    feeder = SequentialFeeder(paired_test=pairs, plan_size=2)
    feeder.add(0, task_id="a", arm="control", trial=0, outcome="success")
    assert pairs.concluded == 0  # not before the plan is complete
    assert feeder.add(1, task_id="a", arm="test", trial=0, outcome="success") is None
    assert feeder.decision is None
    assert pairs.concluded == 1
    assert feeder.concluded
