"""The look-ahead policy (--agent-lookahead) and the dispatcher that reads it, without pytest's machinery."""

from __future__ import annotations

import heapq
import random
from pathlib import Path

import pytest

from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.run.candidates import CandidateFeeders, candidate_feeders
from pytest_agentopt.run.dispatch import TrialDispatcher, default_window
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.lookahead import (
    AdaptiveLookahead,
    CandidatesLookahead,
    FixedLookahead,
    certainly_needed_items,
    lookahead_for,
)
from pytest_agentopt.run.options import MAX_LOOKAHEAD, RunOptions, parse_lookahead, validate
from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.run.trial_order import ARMS_AB, build_plan
from pytest_agentopt.stats.decision_distance import pairs_before_decision, trials_before_decision
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest


def paired_feeder(plan_size: int | None = None) -> SequentialFeeder:
    test = PairedSequentialTest(SequentialSettings(), "both", design_for(0.05, 0.10, 0.15, "both"))
    return SequentialFeeder(paired_test=test, plan_size=plan_size)


@pytest.mark.parametrize(("text", "expected"), [("auto", None), (" AUTO ", None), ("1", 1), ("32", 32)])
def test_the_option_reads_auto_or_a_whole_number_of_items(text: str, expected: int | None) -> None:
    assert parse_lookahead(text) == expected


@pytest.mark.parametrize("text", ["0", "-3", "2.5", "fast", "", str(MAX_LOOKAHEAD + 1)])
def test_anything_else_is_refused_with_what_would_be_valid(text: str) -> None:
    with pytest.raises(ValueError, match=r"must be 'auto' or a whole number of items from 1 to 1,000,000"):
        parse_lookahead(text)


def test_the_option_needs_sprt_unless_it_resumes_a_run_that_has_it() -> None:
    with pytest.raises(AgentoptUsageError, match=r"--agent-lookahead=8 needs --sprt"):
        validate(RunOptions(config_path=Path("exp.json"), lookahead=8))
    validate(RunOptions(config_path=Path("exp.json"), lookahead=8, sprt=True))
    validate(RunOptions(resume="run-1", lookahead=8))  # --sprt comes from the resumed run's manifest


def test_a_fixed_lookahead_is_what_was_asked() -> None:
    assert lookahead_for(7, workers=4, feeder=paired_feeder()).items == 7
    with pytest.raises(ValueError, match="at least one item"):
        FixedLookahead(0)


def test_auto_adds_to_the_base_window_the_items_the_paired_test_certainly_reads() -> None:
    feeder = paired_feeder()
    lookahead = lookahead_for(None, workers=8, feeder=feeder)
    assert isinstance(lookahead, AdaptiveLookahead)
    assert feeder.paired_test is not None
    pairs = pairs_before_decision(feeder.paired_test)  # type: ignore[arg-type]
    assert pairs is not None
    assert pairs >= 5
    # k pairs span at least 2k - 1 items from the lowest unfinished one (it may be the second half of a pair).
    assert lookahead.items == default_window(8) + 2 * pairs - 1


def test_auto_narrows_to_the_base_window_near_a_boundary_and_after_the_decision() -> None:
    feeder = paired_feeder()
    lookahead = AdaptiveLookahead(4, feeder)
    widest = lookahead.items
    seq = 0
    seen = []
    while feeder.decision is None:  # every pair a win for the test arm: straight to "better"
        feeder.add(seq, task_id="t", arm="control", trial=seq // 2, outcome="failure")
        feeder.add(seq + 1, task_id="t", arm="test", trial=seq // 2, outcome="success")
        seq += 2
        seen.append(lookahead.items)
    assert widest > default_window(4) + 8
    assert seen[-2] == default_window(4) + 1  # one pair from the boundary: that pair's second item
    assert seen[-1] == default_window(4)  # decided
    assert certainly_needed_items(feeder) == 0


def test_auto_against_a_target_counts_trials_exactly() -> None:
    test = TargetSequentialTest(0.8, SequentialSettings())
    feeder = SequentialFeeder(target_test=test)
    lookahead = lookahead_for(None, workers=2, feeder=feeder)
    assert lookahead.items == default_window(2) + trials_before_decision(test)  # type: ignore[operator]


def test_auto_without_a_known_distance_is_the_base_window() -> None:
    class MetricTest:  # a decided-on-a-metric test: no LLR step to measure distance in
        verdict = None

        def add_results(self, control: tuple[str, object], test: tuple[str, object]) -> bool:
            return True

        def conclude(self) -> str | None:
            return None

    feeder = SequentialFeeder(metric_test=MetricTest())
    assert AdaptiveLookahead(3, feeder).items == default_window(3)


def test_the_dispatcher_reads_the_lookahead_at_every_assignment() -> None:
    class Adjustable:
        items = 1

    window = Adjustable()
    dispatcher: TrialDispatcher[str] = TrialDispatcher(total=20, window=window)
    dispatcher.add_node("a")
    dispatcher.add_node("b")
    assert dispatcher.assign() == {"a": [0, 1]}  # b's head would be 2: beyond a window of 1
    window.items = 4
    assert dispatcher.assign() == {"b": [2, 3]}


def run_with_lookahead(items: int | None, workers: int, seed: int) -> tuple[int | None, int, int]:
    """A paired run on ``workers`` simulated xdist workers with heavy-tailed durations: (decision seq, trials run
    beyond it, pairs that decided). A worker starts the item it holds once it holds the next one too."""
    rng = random.Random(seed)
    plan = build_plan([f"t{index}" for index in range(12)], ARMS_AB, 40, seed=seed)
    rates = {"control": 0.6, "test": rng.choice([0.6, 0.75])}
    success = [rng.random() < rates[trial.arm] for trial in plan]
    durations = [rng.lognormvariate(0.0, 1.0) for _ in plan]
    feeder = paired_feeder(len(plan))
    dispatcher: TrialDispatcher[int] = TrialDispatcher(len(plan), lookahead_for(items, workers=workers, feeder=feeder))
    for node in range(workers):
        dispatcher.add_node(node)
    events: list[tuple[float, int, int]] = []
    running: set[int] = set()
    ran: list[int] = []
    now = 0.0

    def start() -> None:
        dispatcher.assign()
        for node, held in dispatcher.node_items.items():
            if node not in running and held and (len(held) == 2 or dispatcher.exhausted) and held[0] not in ran:
                running.add(node)
                ran.append(held[0])
                heapq.heappush(events, (now + durations[held[0]], node, held[0]))

    start()
    while events:
        now, node, index = heapq.heappop(events)
        running.discard(node)
        trial = plan[index]
        outcome = "success" if success[index] else "failure"
        if feeder.add(index, task_id=trial.task_id, arm=trial.arm, trial=trial.trial, outcome=outcome) is not None:
            dispatcher.stop()  # the stop flag: nothing held starts any more
        dispatcher.finish(node, index)
        if not dispatcher.stopped:
            start()
    decision = feeder.decision
    if decision is None:
        return None, 0, feeder.units
    return decision.seq, sum(index > decision.seq for index in ran), decision.units


def test_auto_starts_at_most_the_base_window_beyond_the_decision_and_never_changes_it() -> None:
    widened = 0
    for seed in range(40):
        workers = 2 + seed % 7
        fixed = run_with_lookahead(default_window(workers), workers, seed)
        auto = run_with_lookahead(None, workers, seed)
        single = run_with_lookahead(None, 1, seed)
        assert auto[0] == fixed[0] == single[0]  # the decision point and its pairs do not depend on dispatch
        assert auto[2] == fixed[2] == single[2]
        assert auto[1] <= default_window(workers), (seed, auto)
        widened += auto[1] != fixed[1]
    assert widened > 0  # the adaptive window did change what ran


def test_a_resumed_run_counts_the_finished_trials_its_collection_lacks() -> None:
    # Recorded before the interruption: the control half of pair 0 is committed; trials at 4 and 6 finished ahead of
    # the prefix (look-ahead) and wait. The collection of the resumed run lacks them, so the planned positions the
    # test certainly reads are that many fewer items of it.
    feeder = paired_feeder()
    feeder.add(0, task_id="t0", arm="control", trial=0, outcome="success")
    feeder.add(4, task_id="t2", arm="control", trial=0, outcome="success")
    feeder.add(6, task_id="t3", arm="control", trial=0, outcome="failure")
    assert feeder.waiting == 2
    fresh = AdaptiveLookahead(4, feeder).items
    resumed = AdaptiveLookahead(4, feeder, resumed=True).items
    assert resumed == fresh - 2
    assert resumed >= default_window(4)


def pairs_to_decide(feeder: SequentialFeeder) -> int:
    test = feeder.paired_test
    assert isinstance(test, PairedSequentialTest)
    pairs = pairs_before_decision(test)
    assert pairs is not None
    return pairs


def feed_groups(family: CandidateFeeders, groups: int, outcomes: dict[str, str], start: int = 0) -> int:
    """``groups`` planned groups (control, test, test2) of one task with these outcomes; returns the next seq."""
    seq = start
    for trial in range(start // 3, start // 3 + groups):
        for arm in ("control", "test", "test2"):
            family.add(seq, task_id="t", arm=arm, trial=trial, outcome=outcomes[arm])
            seq += 1
    return seq


def test_with_several_candidates_auto_adds_the_least_needed_over_the_undecided_candidates() -> None:
    family = candidate_feeders(["test", "test2"], alpha=0.05, beta=0.1, effect=0.15, direction="both")
    lookahead = CandidatesLookahead(4, family)
    # k pairs of a candidate span at least (k - 1) * 3 + 1 items (control, test, test2 in each group).
    least = min(pairs_to_decide(feeder) for feeder in family.feeders.values())
    assert lookahead.items == default_window(4) + (least - 1) * 3 + 1
    # test wins every pair, test2 ties: test2 comes nearer to its decision (no difference), and sets the window.
    outcomes = {"control": "failure", "test": "success", "test2": "failure"}
    seq = feed_groups(family, 6, outcomes)
    near, far = pairs_to_decide(family.feeders["test2"]), pairs_to_decide(family.feeders["test"])
    assert near < far
    assert lookahead.items == default_window(4) + (near - 1) * 3 + 1
    while not family.decided("test2"):
        seq = feed_groups(family, 1, outcomes, seq)
    assert not family.decided("test")
    # A decided candidate no longer counts: the window is test's alone.
    assert lookahead.items == default_window(4) + (pairs_to_decide(family.feeders["test"]) - 1) * 3 + 1
