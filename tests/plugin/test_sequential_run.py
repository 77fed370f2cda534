"""Sequential runs end to end: early stop, never-run trials (deselected, with a line), verdicts and the CI gate."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

SLOW_SUITE = """
import random
import time
import pytest

@pytest.mark.parametrize("task", [f"t{i}" for i in range(20)])
def test_task(task, agent_config, agent_trial):
    rng = random.Random(agent_trial.seed)
    p = 0.95 if agent_config.guidelines else 0.2
    time.sleep(0.03)
    assert rng.random() < p
"""


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())
    return data


def test_a_clearly_better_test_arm_stops_early_with_better(agent_suite: pytest.Pytester) -> None:
    result = agent_suite.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-trials=20", "--agent-seed=1", "-rs"
    )
    assert result.ret == pytest.ExitCode.OK
    summary = summary_of(agent_suite)
    assert summary["verdict"] == "better"
    assert summary["decided_by"] == "sprt"
    assert set(summary["llr"]) == {"better", "worse"}
    lower, upper = summary["bounds"]
    assert summary["llr"]["better"] >= upper
    # The calibrated bounds at the observed discordance of the pairs that entered the test (all of them here).
    from pytest_agentopt.stats.design import calibrated_design

    design = calibrated_design(0.05, 0.10, 0.15, "both")
    assert design is not None
    pairs = summary["pairs"]
    ties = pairs["both"] + pairs["neither"]
    assert (lower, upper) == design.bounds.for_counts(pairs["test_only"], pairs["control_only"], ties)
    assert summary["tests"]["better"] == "accepted_h1"
    assert summary["effect"]["method"].startswith("time-uniform 95% confidence sequence")
    records = read_trials(only_run(agent_suite))
    planned = 6 * 20 * 2
    assert summary["trials_planned"] == planned
    assert summary["trials_started"] == len(records) < planned
    assert summary["trials_skipped"] == planned - len(records)
    assert summary["pairs_used"] <= len(records) // 2
    # in a single process nothing runs after the decision
    assert summary["trials_after_decision"] == 0
    decision = json.loads((only_run(agent_suite) / "decision.json").read_text())
    assert decision["verdict"] == "better"
    assert max(r["seq"] for r in records) == decision["seq"]
    # pytest counts the never-run trials once, as deselected; the plugin's line says how many and why
    assert result.parseoutcomes()["deselected"] == summary["trials_skipped"]
    result.stdout.fnmatch_lines(
        [
            f"agentopt: {summary['trials_skipped']} planned trials never ran (pytest counts them as deselected): "
            "sequential test decided 'better' after * pairs"
        ]
    )
    result.stdout.no_fnmatch_line("SKIPPED *")


def test_with_four_workers_it_stops_every_worker_at_once(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_suite=SLOW_SUITE)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-trials=10", "--agent-seed=2", "-n", "4", "-rs"
    )
    assert result.ret == pytest.ExitCode.OK
    run_dir = only_run(pytester)
    summary = summary_of(pytester)
    assert summary["verdict"] == "better"
    records = read_trials(run_dir)
    decided_at = json.loads((run_dir / "decision.json").read_text())["at"]
    started_after = [r for r in records if r["started_at"] > decided_at]
    assert len(started_after) <= 4, started_after  # at most one trial per worker after the decision
    assert summary["trials_skipped"] == 400 - len(records)
    outcomes = result.parseoutcomes()
    # never dispatched: deselected, in one call; already held by a worker when the stop came: skipped there
    never_dispatched = outcomes["deselected"]
    assert never_dispatched + outcomes.get("skipped", 0) == summary["trials_skipped"]
    result.stdout.fnmatch_lines(
        [f"agentopt: {never_dispatched:,} planned trials never ran (*deselected): sequential test decided 'better'*"]
    )
    # after-decision trials are flagged in the ledger and counted in the summary, never in the decision
    decision_seq = json.loads((run_dir / "decision.json").read_text())["seq"]
    assert summary["trials_after_decision"] == sum(r["seq"] > decision_seq for r in records)


def test_the_final_progress_figure_counts_the_never_run_trials(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_suite=SLOW_SUITE)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-trials=10", "--agent-seed=2", "-n", "2"
    )
    assert result.ret == pytest.ExitCode.OK
    assert summary_of(pytester)["trials_skipped"] > 0
    progress = [line for line in result.outlines if line.rstrip().endswith("%]")]
    assert [line.split()[-1] for line in progress] == ["[100%]"], progress


def test_a_proven_regression_fails_the_run_with_one_line(agent_suite: pytest.Pytester) -> None:
    result = agent_suite.runpytest(
        "--agent-config=configs/base.json", "--agent-control=configs/improved.json", "--sprt", "--agent-seed=1"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert summary_of(agent_suite)["verdict"] == "worse"
    failed = [line for line in result.stdout.lines if line.startswith("agentopt: FAILED: ")]
    assert len(failed) == 1
    # One clean sentence: the label is not repeated ("regression: regression proven: ..."), and it says what the
    # test showed.
    assert re.fullmatch(
        r"agentopt: FAILED: regression proven: test is worse than control: 'no difference' rejected after \d+ pairs, "
        r"the evidence favouring a regression of 0\.15 over none \(false 'worse' at most 0\.05\)",
        failed[0],
    )
    assert summary_of(agent_suite)["gate"] == {"passed": False, "reason": failed[0].removeprefix("agentopt: FAILED: ")}


def test_a_failed_gate_ends_with_a_red_line_and_a_red_bar(agent_suite: pytest.Pytester) -> None:
    result = agent_suite.runpytest(
        "--agent-config=configs/base.json",
        "--agent-control=configs/improved.json",
        "--sprt",
        "--agent-seed=1",
        "--color=yes",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    red = "\x1b[31m"
    (failed,) = [line for line in result.stdout.lines if "agentopt: FAILED: " in line]
    assert failed.startswith(red)
    last = result.stdout.lines[-1]
    assert last.startswith(red)  # pytest's final bar: red, as for any run that exits 1
    assert not re.search(r"\d+ failed", re.sub(r"\x1b\[[0-9;]*m", "", last))  # no invented "1 failed" count


def test_inconclusive_passes_unless_asked_to_fail(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    args = ["--agent-config=configs/improved.json", "--sprt", "--agent-trials=2", "--agent-seed=1"]
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.OK
    summary = summary_of(pytester)
    assert summary["verdict"] == "inconclusive"
    assert "cap was reached" in summary["verdict_reason"]
    result = pytester.runpytest(*args, "--agent-fail-inconclusive")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["agentopt: FAILED: inconclusive (--agent-fail-inconclusive)*"])


@pytest.mark.parametrize(
    ("p_test", "verdict", "status"),
    [(0.97, "meets_target", pytest.ExitCode.OK), (0.4, "below_target", pytest.ExitCode.TESTS_FAILED)],
)
def test_a_single_config_is_tested_against_a_target(
    pytester: pytest.Pytester, p_test: float, verdict: str, status: pytest.ExitCode
) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=p_test, p_test=p_test, tasks=6)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-target=0.9", "--agent-trials=30", "--agent-seed=5"
    )
    assert result.ret == status
    summary = summary_of(pytester)
    assert summary["verdict"] == verdict
    assert summary["mode"] == "single"
    assert set(summary["llr"]) == {"target"}


def test_the_regression_question_alone_says_not_worse(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.6, p_test=0.6, tasks=6)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--sprt",
        "--agent-direction=worse",
        "--agent-trials=40",
        "--agent-seed=3",
    )
    assert result.ret == pytest.ExitCode.OK
    summary = summary_of(pytester)
    assert summary["verdict"] == "not_worse"
    assert summary["llr"]["better"] is None
