"""A trial that kills its xdist worker is recorded, the run moves on, and it ends with a verdict."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs

# Two trials end their worker: one exits, one is killed by a signal (as the OOM killer does). Outcomes are drawn
# from the trial seed, so the test arm is clearly better and the sequential test decides early.
CRASHING_SUITE = """
import os
import random
import signal

import pytest

@pytest.mark.agent_task(code="crashy")
@pytest.mark.parametrize("task", [f"t{{i}}" for i in range({tasks})])
def test_task(task, agent_config, agent_trial):
    if (task, agent_trial.arm, agent_trial.index) == ("t2", "test", 1):
        os._exit(1)
    if (task, agent_trial.arm, agent_trial.index) == ("t3", "control", 0):
        os.kill(os.getpid(), signal.SIGKILL)
    rng = random.Random(agent_trial.seed)
    assert rng.random() < ({p_test} if agent_config.guidelines else {p_control})
"""
ARGS = ("--agent-config=configs/improved.json", "-p", "no:randomly", "--agent-seed=3")
# A run that hangs is a failure of this test, not of the suite: a generous bound for a loaded machine.
HANG_S = 240


def crashing_suite(pytester: pytest.Pytester, *, tasks: int = 6, p_control: float = 0.3, p_test: float = 0.95) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_suite=CRASHING_SUITE.format(tasks=tasks, p_control=p_control, p_test=p_test))


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())
    return data


def crashes(records: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {(r["task_id"], r["arm"], r["trial"]): r for r in records if r["outcome"] == "worker_crash"}


def test_a_sequential_run_records_a_dead_worker_s_trial_and_still_decides(pytester: pytest.Pytester) -> None:
    crashing_suite(pytester)
    result = pytester.runpytest_subprocess(*ARGS, "--sprt", "--agent-trials=20", "-n", "2", timeout=HANG_S)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    summary = summary_of(pytester)
    assert summary["verdict"] == "better"
    records = read_trials(only_run(pytester))
    crashed = crashes(records)
    assert set(crashed) == {("test_suite.py::test_task[t2]", "test", 1), ("test_suite.py::test_task[t3]", "control", 0)}
    assert {r["error_type"] for r in crashed.values()} == {"exit code 1", "signal SIGKILL"}
    for record in crashed.values():
        assert record["worker"].startswith("gw")
        assert record["message"].startswith(f"worker {record['worker']} ")
        assert record["tokens"] is None
        assert record["cost_usd"] is None
        assert record["task_code"] in ("crashy", None)  # from another trial of the task, when one was recorded
    # every planned position that ran is in the ledger once
    assert len({r["seq"] for r in records}) == len(records)
    assert sum(arm["worker_crashes"] for arm in summary["arms"].values()) == 2
    # the crashed pairs are kept out of the test: fewer pairs used than complete pairs of ledger records
    assert summary["pairs_used"] <= (len(records) - 2) // 2
    output = result.stdout.str()
    assert "replacing crashed worker" in output
    assert "2 trial(s) ended with their worker process (worker_crash)" in output
    result.stdout.fnmatch_lines(["*2 worker_crash*"])


def test_without_sprt_no_trial_vanishes_and_quiet_says_what_was_lost(pytester: pytest.Pytester) -> None:
    crashing_suite(pytester, tasks=4)
    result = pytester.runpytest_subprocess(*ARGS, "--agent-trials=3", "-n", "2", "-q", timeout=HANG_S)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    records = read_trials(only_run(pytester))
    assert len(records) == 4 * 3 * 2  # every planned trial has its line
    assert Counter(r["outcome"] for r in records)["worker_crash"] == 2
    result.stdout.fnmatch_lines(["agentopt: warning: 2 trial(s) ended with their worker process (worker_crash)*"])
    assert "FAILED" not in result.stdout.str()  # a crashed trial is data, not a failed session


def test_when_xdist_stops_replacing_workers_the_run_is_interrupted_and_resumes(pytester: pytest.Pytester) -> None:
    crashing_suite(pytester, tasks=4)
    first = pytester.runpytest_subprocess(
        *ARGS, "--agent-trials=3", "-n", "2", "--max-worker-restart=0", timeout=HANG_S
    )
    assert first.ret == pytest.ExitCode.INTERRUPTED, first.stdout.str()
    summary = summary_of(pytester)
    assert summary["interrupted"] is True
    assert summary["stopped_by"] == "xdist stopped replacing crashed workers: --max-worker-restart reached"
    assert summary["verdict"] == "inconclusive"
    assert summary["gate"]["passed"] is None
    run_id = only_run(pytester).name
    command = summary["verdict_reason"].split("continue it with ", 1)[1]
    # the report ends with one line that says why the run stopped, and how to continue it
    assert (
        f"agentopt: ERROR: {summary['stopped_by']}; the run stopped (exit 2); continue it with {command}"
        in first.stdout.lines
    )
    assert command.startswith(f"pytest --agent-resume {run_id} ")  # then the arguments of this run, but for
    assert command.endswith(" -p no:randomly -n 2 --max-worker-restart=0")  # those the manifest fixes
    assert "--agent-config" not in command
    assert any("planned trials ran" in note for note in summary["notes"])
    before = read_trials(only_run(pytester))
    assert 0 < len(before) < 24
    # the resume runs what is left (crashes included: each is recorded once, then the run goes on)
    second = pytester.runpytest_subprocess("--agent-resume", run_id, "-p", "no:randomly", "-n", "2", timeout=HANG_S)
    assert second.ret in (pytest.ExitCode.OK, pytest.ExitCode.INTERRUPTED), second.stdout.str()
    third = pytester.runpytest_subprocess("--agent-resume", run_id, "-p", "no:randomly", "-n", "2", timeout=HANG_S)
    assert third.ret == pytest.ExitCode.OK, third.stdout.str()
    after = read_trials(only_run(pytester))
    keys = [(r["task_id"], r["arm"], r["trial"]) for r in after]
    assert len(keys) == len(set(keys)) == 24  # nothing lost, nothing twice


def test_a_dead_worker_s_trial_of_a_later_candidate_is_recorded_as_its_crash(pytester: pytest.Pytester) -> None:
    from tests.plugin.test_candidates_run import SUITE, write_candidates

    write_candidates(pytester, ("better", "equal"))
    crashing = SUITE.replace(
        "    draw = random.Random",
        "    if (task, agent_trial.arm, agent_trial.index) == ('t1', 'test2', 0):\n"
        "        import os\n"
        "        os._exit(1)\n"
        "    draw = random.Random",
    )
    pytester.makepyfile(test_suite=crashing)
    result = pytester.runpytest_subprocess(
        "--agent-config=configs/better.json",
        "--agent-config=configs/equal.json",
        "--agent-trials=2",
        "--agent-seed=3",
        "-p",
        "no:randomly",
        "-n",
        "2",
        timeout=HANG_S,
    )
    records = read_trials(only_run(pytester))
    crashed = crashes(records)
    assert set(crashed) == {("test_suite.py::test_task[t1]", "test2", 0)}, result.stdout.str()
    assert crashed[("test_suite.py::test_task[t1]", "test2", 0)]["experiment_id"] == "equal"
    assert len(records) == 10 * 2 * 3  # every planned trial is in the ledger once
