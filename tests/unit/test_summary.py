"""The run summary and the gate, from hand-made trial records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.configs.model import AgentConfig
from pytest_agentopt.report.gate import evaluate_gate, infra_share
from pytest_agentopt.report.summary import build_summary
from pytest_agentopt.report.terminal import render_summary
from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.storage.run_context import ConfigSet, RunContext
from pytest_agentopt.storage.summary_schema import BudgetState, RunSummary
from pytest_agentopt.storage.trial_record import TrialRecord


def context(**overrides: Any) -> RunContext:
    values: dict[str, Any] = {
        "run_id": "r1",
        "run_dir": Path("/tmp/r1"),
        "seed": 1,
        "trials": 10,
        "arms": ("control", "test"),
        "configs": ConfigSet(
            {
                "control": AgentConfig(experiment_id="a", model_id="gpt-4o-mini"),
                "test": AgentConfig(experiment_id="b", model_id="gpt-4o-mini", guidelines=["g"]),
            }
        ),
        "hashes": {"control": "h0", "test": "h1"},
        "sprt": False,
        "alpha": 0.05,
        "beta": 0.10,
        "effect": 0.15,
        "target": None,
        "direction": "both",
        "stop_path": Path("/tmp/r1/stop"),
        "infra_exceptions": (),
        "infra_retries": 0,
        "infra_backoff": 0.0,
        "budget_usd": None,
    }
    values.update(overrides)
    return RunContext(**values)


def record(seq: int, arm: str, task: int, trial: int, outcome: str, cost: float | None = 0.002) -> TrialRecord:
    return {
        "schema": 1,
        "run_id": "r1",
        "experiment_id": "a" if arm == "control" else "b",
        "arm": arm,
        "config_hash": "h",
        "task_id": f"t{task}",
        "task_code": f"code{task}",
        "category": "discriminative",
        "optimal_steps": None,
        "impossible": False,
        "trial": trial,
        "seq": seq,
        "seed": 0,
        "outcome": outcome,
        "error_type": None,
        "message": None,
        "tokens": {"input": 100, "output": 10, "cache_read": 0, "cache_write": 0, "reasoning": 0},
        "model": "gpt-4o-mini",
        "cost_usd": cost,
        "price_source": "genai-prices",
        "latency_s": 0.5,
        "steps": 3,
        "tool_calls": 1,
        "metrics": {},
        "attempts": 1,
        "worker": "main",
        "started_at": "",
        "finished_at": "",
        "after_decision": False,
    }


def pairs(outcomes: list[tuple[str, str]]) -> list[TrialRecord]:
    records: list[TrialRecord] = []
    for index, (control, test) in enumerate(outcomes):
        records.append(record(2 * index, "control", index % 5, index // 5, control))
        records.append(record(2 * index + 1, "test", index % 5, index // 5, test))
    return records


def summarize(records: list[TrialRecord], **overrides: Any) -> RunSummary:
    return build_summary(
        records=records,
        context=context(**overrides),
        feeder=None,
        plan_size=len(records),
        skipped_by_stop=0,
        interrupted=False,
        notes=[],
    )


S, F = "success", "failure"


def test_per_arm_figures() -> None:
    records = [*pairs([(S, S)] * 3 + [(F, S)] * 2), record(10, "test", 0, 9, "infra_error", cost=0.5)]
    summary = summarize(records)
    test = summary["arms"]["test"]
    assert (test["trials"], test["successes"], test["infra_errors"]) == (5, 5, 1)
    assert test["success_rate"] == 1.0
    assert test["cost_usd"] == pytest.approx(0.010)
    assert test["cost_per_trial_usd"] == pytest.approx(0.002)
    assert test["cost_per_success_usd"] == pytest.approx(0.002)
    assert test["infra_cost_usd"] == pytest.approx(0.5)
    control = summary["arms"]["control"]
    assert control["cost_per_success_usd"] == pytest.approx(0.002 * 5 / 3)
    assert control["mean_tokens"] == {"input": 100, "output": 10}
    assert summary["config_diff"][0]["text"] == 'guidelines: +"g"'


def test_a_significant_mcnemar_test_decides_better_or_worse() -> None:
    # 12 discordant pairs all for the test arm: exact one-sided p = 1 / 2^12 (alpha per direction, as --sprt)
    summary = summarize(pairs([(F, S)] * 12 + [(S, S)] * 8))
    assert summary["verdict"] == "better"
    assert summary["mcnemar_p"] == pytest.approx(1 / 2**12)
    assert summary["mcnemar_direction"] == "better"
    assert summary["pairs"] == {"both": 8, "test_only": 12, "control_only": 0, "neither": 0}
    assert summary["effect"] is not None
    assert summary["effect"]["estimate"] == pytest.approx(12 / 20)
    worse = summarize(pairs([(S, F)] * 12 + [(S, S)] * 8))
    assert worse["verdict"] == "worse"
    gate = evaluate_gate(worse, RunOptions())
    assert gate.failed
    assert gate.reason is not None
    assert gate.reason.startswith("regression proven: one-sided exact McNemar test p = ")


def test_no_difference_needs_equivalence_not_just_no_significance() -> None:
    few = summarize(pairs([(S, F), (F, S)] + [(S, S)] * 4))
    assert few["verdict"] == "inconclusive"
    many = summarize(pairs([(S, F), (F, S)] * 2 + [(S, S)] * 196))
    assert many["verdict"] == "no_difference"
    assert "equivalence within +/-0.15" in str(many["verdict_reason"])


def test_the_budget_makes_an_unfinished_run_inconclusive() -> None:
    budget = BudgetState(limit_usd=0.01, spent_usd=0.012, exhausted=True, unpriced_trials=0)
    summary = build_summary(
        records=pairs([(F, S)] * 12),
        context=context(),
        feeder=None,
        plan_size=100,
        skipped_by_stop=76,
        interrupted=False,
        notes=[],
        budget=budget,
    )
    assert summary["verdict"] == "inconclusive"
    assert "budget of $0.01 was exhausted" in str(summary["verdict_reason"])
    assert not evaluate_gate(summary, RunOptions()).failed
    assert evaluate_gate(summary, RunOptions(fail_inconclusive=True)).failed


def test_an_unpriced_model_is_one_warning_note() -> None:
    records = [r | {"cost_usd": None, "model": "mystery"} for r in pairs([(S, S)] * 3)]
    notes = summarize(records)["notes"]
    assert len([n for n in notes if "estimated cost unknown for model 'mystery'" in n]) == 1


def test_the_terminal_report_shows_the_verdict_and_the_gate() -> None:
    summary = summarize(pairs([(S, F)] * 12 + [(S, S)] * 8))
    summary["gate"] = evaluate_gate(summary, RunOptions()).as_dict()
    lines = render_summary(summary, verbosity=0, width=120, details={})
    assert lines[0].count("=") > 10
    assert any(line.startswith("control  a ") for line in lines)
    assert lines[-2].startswith("agentopt: verdict WORSE (fixed): one-sided exact McNemar test")
    assert lines[-1].startswith("agentopt: FAILED: regression")
    quiet = render_summary(summary, verbosity=-1, width=120, details={})
    assert len(quiet) == 2


def test_timeouts_are_scored_failures_and_crashes_count_against_the_infra_share() -> None:
    records = [*pairs([(S, S)] * 8), record(16, "control", 0, 9, "timeout"), record(17, "test", 0, 9, S)]
    records += [record(18, "control", 1, 9, S), record(19, "test", 1, 9, "worker_crash", cost=None)]
    summary = summarize(records)
    control, test = summary["arms"]["control"], summary["arms"]["test"]
    assert (control["trials"], control["successes"], control["timeouts"]) == (10, 9, 1)
    assert (test["trials"], test["worker_crashes"]) == (9, 1)
    assert summary["pairs"] == {"both": 8, "test_only": 1, "control_only": 0, "neither": 0}
    assert infra_share(summary) == pytest.approx(1 / 20)
    gate = evaluate_gate(summary, RunOptions(infra_max_share=0.04))
    assert gate.failed
    assert gate.reason is not None
    assert "infrastructure errors or worker crashes" in gate.reason


def test_an_interrupted_run_says_how_to_continue_even_before_anything_was_collected() -> None:
    summary = build_summary(
        records=[],
        context=context(),
        feeder=None,
        plan_size=None,
        skipped_by_stop=0,
        interrupted=True,
        stopped_by="interrupted with Ctrl-C",
        notes=[],
        resume_command="pytest --agent-resume r1 tests -n 2",
    )
    assert summary["verdict"] == "inconclusive"
    assert summary["verdict_reason"] == (
        "the run stopped early (interrupted with Ctrl-C) after 0 of ? trials; continue it with "
        "pytest --agent-resume r1 tests -n 2"
    )
    assert not any("no agent task was collected" in note for note in summary["notes"])
    summary["gate"] = {"passed": None, "reason": "not evaluated: the run stopped early (interrupted with Ctrl-C)"}
    lines = render_summary(summary, verbosity=-1, width=120, details={})
    assert lines == [
        "agentopt: verdict INCONCLUSIVE (fixed): the run stopped early (interrupted with Ctrl-C) after 0 of ? "
        "trials; continue it with pytest --agent-resume r1 tests -n 2",
        "agentopt: gate not evaluated: the run stopped early (interrupted with Ctrl-C)",
    ]


# --- what a sequential verdict says -----------------------------------------------------------------------------


def sequential_summary(outcomes: list[tuple[str, str]], *, direction: str = "both") -> RunSummary:
    """A summary of a sequential A/B run fed through the live test with the shipped calibrated design."""
    from pytest_agentopt.run.feeding import SequentialFeeder
    from pytest_agentopt.run.sequential_design import design_for
    from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings

    records = pairs(outcomes)
    settings = SequentialSettings()
    design = design_for(settings.alpha, settings.beta, settings.delta, direction)
    feeder = SequentialFeeder(paired_test=PairedSequentialTest(settings, direction, design))  # type: ignore[arg-type]
    for r in records:
        feeder.add(r["seq"], task_id=r["task_id"], arm=r["arm"], trial=r["trial"], outcome=r["outcome"])
    return build_summary(
        records=records,
        context=context(sprt=True, direction=direction),
        feeder=feeder,
        plan_size=1000,
        skipped_by_stop=0,
        interrupted=False,
        notes=[],
    )


# Win, tie, win, loss, tie, over and over: the improvement test crosses its upper bound after 83 pairs, where the
# effect's time-uniform confidence sequence still includes 0.
BETTER_RUN = ([(F, S), (S, S), (F, S), (S, F), (F, F)] * 17)[:83]


def test_a_better_verdict_says_what_the_test_rejected_not_that_the_effect_was_accepted() -> None:
    summary = sequential_summary(BETTER_RUN)
    assert summary["verdict"] == "better"
    reason = summary["verdict_reason"]
    assert reason is not None
    assert "'no difference' rejected" in reason
    assert "favouring an improvement of 0.15 over none" in reason
    assert "accepted" not in reason
    assert "false 'better' at most 0.05" in reason  # the calibrated design's rate holds at every discordance


def test_no_fixed_n_p_value_is_reported_after_a_sequential_stop() -> None:
    summary = sequential_summary(BETTER_RUN)
    assert summary["mcnemar_p"] is None
    lines = render_summary(summary, verbosity=0, width=200, details={})
    assert not any("McNemar" in line for line in lines)


def test_after_a_sequential_stop_the_arm_intervals_are_confidence_sequences() -> None:
    summary = sequential_summary(BETTER_RUN)
    for figures in summary["arms"].values():
        assert "confidence sequence" in str(figures["success_ci_method"])
    lines = render_summary(summary, verbosity=0, width=200, details={})
    assert any("success [95% conf. seq.]" in line for line in lines)
    assert not any("Wilson" in line for line in lines)


def test_the_sequential_line_never_says_between_bounds_for_a_test_that_crossed_one() -> None:
    summary = sequential_summary(BETTER_RUN)
    assert summary["tests"] is not None
    assert summary["tests"]["better"] == "accepted_h1"
    (line,) = [line for line in render_summary(summary, verbosity=0, width=200, details={}) if line.startswith("sprt")]
    assert "between bounds" not in line
    assert "better +" in line
    assert "(reached the upper bound)" in line


def test_a_verdict_next_to_an_interval_that_includes_0_says_in_one_line_why() -> None:
    summary = sequential_summary(BETTER_RUN)
    assert summary["effect"] is not None
    assert summary["effect"]["lower"] < 0.0 < summary["effect"]["upper"]
    why = [line for line in render_summary(summary, verbosity=0, width=200, details={}) if line.startswith("why")]
    assert len(why) == 1
    assert "time-uniform confidence sequence" in why[0]
    assert "alpha 0.05 per direction" in why[0]


def test_in_a_fixed_sample_run_alpha_is_the_rate_of_each_directional_claim() -> None:
    # 9 vs 2 discordant pairs: two-sided exact p = 0.065, one-sided 0.033. --agent-alpha 0.05 is, as under
    # --sprt, the rate of a false 'better' (and, separately, of a false 'worse'): this is 'better'.
    summary = summarize(pairs([(F, S)] * 9 + [(S, F)] * 2 + [(S, S)] * 9))
    assert summary["verdict"] == "better"
    assert summary["mcnemar_p"] == pytest.approx(67 / 2048)
    assert summary["effect"] is not None
    assert "90%" in summary["effect"]["method"]


def target_summary(outcomes: list[str], target: float = 0.8) -> RunSummary:
    from pytest_agentopt.run.feeding import SequentialFeeder
    from pytest_agentopt.stats.sprt import SequentialSettings, TargetSequentialTest

    records = [record(i, "test", i % 5, i // 5, outcome) for i, outcome in enumerate(outcomes)]
    feeder = SequentialFeeder(target_test=TargetSequentialTest(target, SequentialSettings()))
    for r in records:
        feeder.add(r["seq"], task_id=r["task_id"], arm=r["arm"], trial=r["trial"], outcome=r["outcome"])
    single = ConfigSet({"test": AgentConfig(experiment_id="b", model_id="gpt-4o-mini")})
    return build_summary(
        records=records,
        context=context(sprt=True, target=target, arms=("test",), configs=single, hashes={"test": "h1"}),
        feeder=feeder,
        plan_size=1000,
        skipped_by_stop=0,
        interrupted=False,
        notes=[],
    )


def test_meets_target_is_worded_with_alpha_and_below_target_with_beta() -> None:
    # H0: p = target - effect (0.65), H1: p = target (0.8). A false 'meets_target' (a config at 0.65) is the
    # type I error, alpha; a false 'below_target' (a config at 0.8) is the type II error, beta.
    meets = target_summary([S] * 40)
    assert meets["verdict"] == "meets_target"
    assert "'p <= 0.65' rejected" in str(meets["verdict_reason"])
    assert "passes at most 0.05 of the time" in str(meets["verdict_reason"])
    assert "beta" not in str(meets["verdict_reason"])
    below = target_summary([F, S] * 30)
    assert below["verdict"] == "below_target"
    reason = below["verdict_reason"]
    assert reason is not None
    assert "'p >= 0.8' rejected" in reason
    assert "fails at most 0.1 of the time" in reason
    # Not "at most 0.65": the test does not show that, only that the target is not met.
    assert "at most 0.65" not in reason
    assert "rates between 0.65 and 0.8 may end either way" in reason


def test_a_target_run_reports_a_confidence_sequence_for_the_rate() -> None:
    summary = target_summary([F, S] * 30)
    figures = summary["arms"]["test"]
    assert figures["success_ci_method"] is not None
    assert figures["success_ci"] is not None
    assert figures["success_rate"] is not None
    assert "confidence sequence" in figures["success_ci_method"]
    lower, upper = figures["success_ci"]
    assert lower < figures["success_rate"] < upper


def test_the_spend_counts_every_trial_that_ran_and_says_when_it_is_a_lower_bound() -> None:
    records = [
        *pairs([(S, S)] * 3 + [(F, S)] * 2),  # 10 trials at $0.002
        record(10, "test", 0, 9, "infra_error", cost=0.5),  # an infrastructure error costs what it used
        record(11, "control", 1, 9, "setup_error", cost=None),  # no known cost
    ]
    summary = summarize(records)
    assert summary["spend"] == {"usd": pytest.approx(0.52), "trials": 12, "unpriced": 1}
    assert summary["arms"]["test"]["spent_usd"] == pytest.approx(0.51)
    assert summary["arms"]["test"]["trials_unpriced"] == 0
    assert summary["arms"]["control"]["spent_usd"] == pytest.approx(0.01)
    assert summary["arms"]["control"]["trials_unpriced"] == 1
    lines = render_summary(summary, verbosity=0, width=200, details={})
    header = next(line for line in lines if line.startswith("arm "))
    column = header.index("est.$ spent")
    rows = {
        line.split()[0]: line[column:].split()[0:2]
        for line in lines
        if line.split()[:1] in (["control"], ["test"], ["total"])
    }
    assert rows["test"][0] == "$0.5100"
    assert rows["control"][:2] == [">=", "$0.0100"]  # a lower bound: one trial has no known cost
    assert rows["total"][:2] == [">=", "$0.5200"]
    nothing = summarize([record(0, "control", 0, 0, S, cost=None), record(1, "test", 0, 0, S, cost=None)])
    assert nothing["spend"] == {"usd": None, "trials": 2, "unpriced": 2}  # unknown, never $0


def test_a_cost_ratio_of_21x_is_reported_as_21x_with_an_interval_that_holds_it() -> None:
    records = pairs([(S, S)] * 40)
    for item in records:
        item["cost_usd"] = 0.0024 if item["arm"] == "control" else 0.0512
    ratio = summarize(records)["cost_ratio"]
    assert ratio is not None
    assert ratio["lower"] is not None
    assert ratio["upper"] is not None
    assert ratio["estimate"] == pytest.approx(0.0512 / 0.0024)
    assert ratio["lower"] <= 0.0512 / 0.0024 <= ratio["upper"]
    assert ratio["pairs"] == 40
    assert ratio["estimand"] == "median of the per-pair cost ratio test / control"


def test_an_arm_whose_cost_covers_part_of_its_trials_says_which_and_why() -> None:
    records = pairs([(S, S), (S, F), (F, S), (S, S)])
    tests = [r for r in records if r["arm"] == "test"]
    tests[0]["tokens"], tests[0]["cost_usd"] = None, None  # recorded no usage
    tests[1]["cost_usd"] = None  # usage of a model without a price
    summary = summarize(records)
    assert summary["coverage"] == [
        "test arm: cost covers 2 of 4 trials (1 recorded no usage, 1 had no price); est. $/trial is the mean over "
        "those 2 and est. $/success extrapolates it to all 4; record usage with agent_trial.record_usage(response)"
    ]
    lines = render_summary(summary, verbosity=-1, width=120, details={})
    assert f"agentopt: {summary['coverage'][0]}" in lines  # under -q too
    assert summarize(pairs([(S, S)]))["coverage"] == []


def test_every_kind_of_summary_the_builder_writes_has_the_typed_shape() -> None:
    """summary.json read back conforms to ``RunSummary`` (every nested section too): the type its readers check a
    file against is the shape the builder writes."""
    from pytest_agentopt.storage.summary_schema import RunSummary
    from pytest_agentopt.storage.typed_json import conforms

    outcomes = [("failure", "success")] * 30 + [("success", "success")] * 10
    summaries = [
        summarize(pairs(outcomes)),
        summarize(pairs([("success", "failure"), ("success", "success")])),
        sequential_summary(outcomes),
        sequential_summary([("success", "failure")] * 40, direction="worse"),
        target_summary(["success"] * 30),
        target_summary(["failure", "success"] * 20),
    ]
    for summary in summaries:
        assert conforms(json.loads(json.dumps(summary)), RunSummary), summary
