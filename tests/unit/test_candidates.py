"""Several candidates against one control: the pure core (feeders, stop flags, gate, family verdict)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.report.gate import evaluate_gate
from pytest_agentopt.report.summary import family_verdict
from pytest_agentopt.run.candidates import CandidateFeeders, candidate_alpha
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.options import RunOptions, validate
from pytest_agentopt.run.shards import Shard
from pytest_agentopt.run.stop import StopSignal
from pytest_agentopt.run.trial_order import build_plan, candidate_arms, is_candidate_arm
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings
from pytest_agentopt.storage.summary_schema import CandidateResult, RunSummary


def feeders(arms: tuple[str, ...], alpha: float = 0.05) -> CandidateFeeders:
    settings = SequentialSettings(alpha=candidate_alpha(alpha, len(arms)), beta=0.1, delta=0.15)
    return CandidateFeeders(
        {arm: SequentialFeeder(paired_test=PairedSequentialTest(settings), test_arm=arm) for arm in arms}
    )


def test_candidate_arms_keep_test_for_the_first_candidate() -> None:
    assert candidate_arms(1) == ("test",)
    assert candidate_arms(3) == ("test", "test2", "test3")
    assert all(is_candidate_arm(arm) for arm in candidate_arms(12))
    assert not any(is_candidate_arm(arm) for arm in ("control", "test1", "test02", "tests", "x"))


def test_bonferroni_alpha_per_candidate() -> None:
    assert candidate_alpha(0.05, 1) == 0.05
    assert candidate_alpha(0.05, 4) == pytest.approx(0.0125)


def test_each_candidate_is_paired_with_the_control_only() -> None:
    """One candidate always wins, one always loses, one ties: each test sees its own pairs, never another's."""
    arms = ("control", *candidate_arms(3))
    family = feeders(candidate_arms(3))
    outcomes = {"control": "failure", "test": "success", "test2": "failure", "test3": "failure"}
    decided: dict[str, str] = {}
    for entry in build_plan([f"t{i}" for i in range(10)], arms, 10, seed=5):
        outcome = outcomes[entry.arm]
        if entry.arm == "control":
            outcome = "success" if entry.trial % 2 else "failure"  # the control solves half
        if entry.arm == "test3":
            outcome = "failure"
        for made in family.add(entry.seq, task_id=entry.task_id, arm=entry.arm, trial=entry.trial, outcome=outcome):
            decided[made.arm] = made.decision.verdict
    assert decided == {"test": "better", "test2": "worse", "test3": "worse"}
    wins = family.feeders["test"].paired_test
    assert isinstance(wins, PairedSequentialTest)
    assert wins.losses == 0
    assert wins.wins > 0


def test_a_decided_candidate_and_the_control_after_every_decision() -> None:
    family = feeders(("test", "test2"))
    arms = ("control", "test", "test2")
    plan = build_plan(["a", "b", "c"], arms, 40, seed=1)
    for entry in plan:
        outcome = "success" if entry.arm == "test" else ("failure" if entry.arm == "control" else "success")
        family.add(entry.seq, task_id=entry.task_id, arm=entry.arm, trial=entry.trial, outcome=outcome)
        if family.all_decided:
            break
    first, second = family.feeders["test"].decision, family.feeders["test2"].decision
    assert first is not None
    assert second is not None
    last = max(first.seq, second.seq)
    assert family.is_after_decision("test", first.seq + 1)
    assert not family.is_after_decision("test", first.seq)
    assert not family.is_after_decision("control", last)
    assert family.is_after_decision("control", last + 1)


def test_the_last_look_concludes_every_undecided_candidate() -> None:
    family = feeders(("test", "test2"))
    family.set_plan_size(3)
    for seq, arm in enumerate(("control", "test", "test2")):
        family.add(seq, task_id="a", arm=arm, trial=0, outcome="success")
    # Wald's design (alpha/2 is not calibrated) has no last look: both stay undecided, nothing is forced.
    assert family.undecided == ["test", "test2"]
    assert family.conclude_if_complete() == []


def test_a_stop_flag_per_arm_reaches_workers_through_the_file(tmp_path: Path) -> None:
    controller = StopSignal(tmp_path / "stop", watch_file=False, arm_flags=True)
    worker = StopSignal(tmp_path / "stop", arm_flags=True)
    controller.publish_arm("test2", "candidate b decided")
    assert worker.reason_for("test2") == "candidate b decided"
    assert worker.reason_for("test") is None
    assert worker.reason_for("control") is None
    controller.publish("every candidate decided")
    assert worker.reason_for("control") == "every candidate decided"
    controller.remove()
    assert not list(tmp_path.iterdir())


def test_a_run_with_one_candidate_never_looks_for_arm_flags(tmp_path: Path) -> None:
    (tmp_path / "stop.test").write_text("stale")
    assert StopSignal(tmp_path / "stop").reason_for("test") is None


def _candidates(*verdicts: str) -> list[CandidateResult]:
    """Candidates with only the fields the family verdict and the gate read."""
    return [cast("CandidateResult", {"experiment_id": f"c{i}", "verdict": v}) for i, v in enumerate(verdicts)]


def _summary(*verdicts: str) -> RunSummary:
    candidates = _candidates(*verdicts)
    summary: dict[str, Any] = {"verdict": family_verdict(candidates)[0], "candidates": candidates, "arms": {}}
    return cast("RunSummary", summary)


@pytest.mark.parametrize(
    ("rule", "verdicts", "fails"),
    [
        ("any-worse", ("better", "worse"), True),
        ("any-worse", ("better", "no_difference"), False),
        ("all-worse", ("better", "worse"), False),
        ("all-worse", ("worse", "worse"), True),
        ("none-better", ("no_difference", "worse"), True),
        ("none-better", ("better", "worse"), False),
    ],
)
def test_the_gate_rule_for_several_candidates(rule: str, verdicts: tuple[str, ...], fails: bool) -> None:
    gate = evaluate_gate(_summary(*verdicts), RunOptions(gate_rule=rule))
    assert gate.failed is fails
    if fails:
        assert rule in str(gate.reason)


def test_an_undecided_candidate_fails_only_with_fail_inconclusive() -> None:
    summary = _summary("no_difference", "inconclusive")
    assert not evaluate_gate(summary, RunOptions()).failed
    assert evaluate_gate(summary, RunOptions(fail_inconclusive=True)).failed


def test_the_family_verdict_names_every_candidate() -> None:
    verdict, reason = family_verdict(_candidates("better", "inconclusive"))
    assert verdict == "better"
    assert "c0: better" in reason
    assert "c1: inconclusive" in reason
    assert family_verdict(_candidates("not_worse", "not_worse"))[0] == "not_worse"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"metric": "cost", "sources": {"--agent-metric": "cli"}}, "--agent-metric=cost: several candidates"),
        ({"effect_ratio": 0.8, "sources": {"--agent-effect-ratio": "cli"}}, "--agent-effect-ratio=0.8"),
        ({"shard": Shard(1, 2), "sources": {"--agent-shard": "cli"}}, "--agent-shard=1/2: shards of a run with"),
        ({"drift_gate": True, "sources": {"--agent-drift-gate": "cli"}}, "the drift report compares one control"),
    ],
    ids=["metric", "effect-ratio", "shard", "drift-gate"],
)
def test_options_several_candidates_cannot_take_are_usage_errors(extra: dict[str, Any], message: str) -> None:
    paths = (Path("configs/a.json"), Path("configs/b.json"))
    options = RunOptions(config_path=paths[0], candidate_paths=paths, **extra)
    with pytest.raises(AgentoptUsageError) as raised:
        validate(options)
    assert "--agent-config given 2 times (configs/a.json, configs/b.json)" in str(raised.value)
    assert message in str(raised.value)


def test_success_as_the_metric_is_accepted_with_several_candidates() -> None:
    paths = (Path("configs/a.json"), Path("configs/b.json"))
    validate(RunOptions(config_path=paths[0], candidate_paths=paths, metric="success"))
