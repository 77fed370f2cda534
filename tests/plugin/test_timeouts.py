"""``--agent-timeout`` and ``agent_task(timeout=...)``: a hung trial is recorded as ``timeout`` and the run finishes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

# Trial 1 of task t1 hangs in both arms; "stubborn" hangs where no exception reaches it (it swallows them all).
HANGING_SUITE = """
import random
import time

import pytest

STUBBORN = {stubborn}

@pytest.mark.parametrize("task", ["t0", "t1", "t2"])
def test_task(task, agent_config, agent_trial):
    agent_trial.record_usage(input_tokens=100, output_tokens=10)
    if task == "t1" and agent_trial.index == 1:
        while True:
            try:
                time.sleep(30)
            except BaseException:
                if not STUBBORN:
                    raise
    assert random.Random(agent_trial.seed).random() < 0.7
"""
ARGS = ("--agent-config=configs/improved.json", "-p", "no:randomly", "--agent-seed=1", "--agent-trials=3")
HANG_S = 240
HUNG = {("test_suite.py::test_task[t1]", "control", 1), ("test_suite.py::test_task[t1]", "test", 1)}


def hanging_suite(pytester: pytest.Pytester, *, stubborn: bool) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_suite=HANGING_SUITE.format(stubborn=stubborn))


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())
    return data


def timed_out(records: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {(r["task_id"], r["arm"], r["trial"]): r for r in records if r["outcome"] == "timeout"}


def test_a_hung_trial_is_ended_and_recorded_as_timeout(pytester: pytest.Pytester) -> None:
    hanging_suite(pytester, stubborn=False)
    result = pytester.runpytest_subprocess(*ARGS, "--agent-timeout=0.5", timeout=HANG_S)  # they never end alone
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    records = read_trials(only_run(pytester))
    assert len(records) == 18
    hung = timed_out(records)
    assert set(hung) == HUNG
    for record in hung.values():
        assert record["error_type"] == "pytest_agentopt.TrialTimeout"
        assert record["message"] == "the trial ran longer than its timeout of 0.5 s"
        assert record["tokens"]["input"] == 100  # what the trial recorded before it hung is kept
        assert record["latency_s"] >= 0.5
    summary = summary_of(pytester)
    assert summary["arms"]["test"]["timeouts"] == 1
    assert summary["arms"]["test"]["trials"] == 9  # a timeout is the agent's failure: it is scored
    result.stdout.fnmatch_lines(["*2 agent_timeout*"])


def test_the_task_s_marker_sets_its_own_timeout(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(
        test_suite="""
        import time
        import pytest

        @pytest.mark.agent_task(timeout=0.3)
        def test_slow(agent_trial):
            time.sleep(10)

        @pytest.mark.agent_task(timeout=None)
        def test_quick(agent_trial):
            time.sleep(0.4)
        """
    )
    result = pytester.runpytest_subprocess(*ARGS, "--agent-trials=1", "--agent-timeout=0.2", timeout=HANG_S)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    outcomes = {(r["task_id"], r["arm"]): r["outcome"] for r in read_trials(only_run(pytester))}
    assert outcomes == {
        ("test_suite.py::test_slow", "control"): "timeout",
        ("test_suite.py::test_slow", "test"): "timeout",
        ("test_suite.py::test_quick", "control"): "success",  # timeout=None: no timeout for this task
        ("test_suite.py::test_quick", "test"): "success",
    }


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (("--agent-timeout=0",), "--agent-timeout=0.0: must be a positive number of seconds"),
        (("--agent-timeout=soon",), "--agent-timeout=soon: must be a number"),
        (("-o", "agent_timeout=-1"), "agent_timeout = -1.0 (*): must be a positive number of seconds"),
    ],
)
def test_a_bad_timeout_is_a_usage_error(pytester: pytest.Pytester, where: tuple[str, ...], expected: str) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=1)
    result = pytester.runpytest(*ARGS, *where)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {expected}*"])


def test_a_bad_marker_timeout_is_a_usage_error_naming_the_task(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(
        test_suite="""
        import pytest

        @pytest.mark.agent_task(timeout="soon")
        def test_task(agent_trial):
            pass
        """
    )
    result = pytester.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: test_suite.py::test_task: @pytest.mark.agent_task(timeout='soon'): the timeout must be a positive*"]
    )


def test_under_xdist_a_trial_that_cannot_be_interrupted_costs_only_its_worker(pytester: pytest.Pytester) -> None:
    hanging_suite(pytester, stubborn=True)
    result = pytester.runpytest_subprocess(*ARGS, "--agent-timeout=0.5", "-n", "2", timeout=HANG_S)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    records = read_trials(only_run(pytester))
    keys = [(r["task_id"], r["arm"], r["trial"]) for r in records]
    assert len(keys) == len(set(keys)) == 18  # recorded once each: no crash record on top of the timeout
    hung = timed_out(records)
    assert set(hung) == HUNG
    for record in hung.values():
        assert record["message"] == (
            f"the trial ran longer than its timeout of 0.5 s and could not be interrupted; its process "
            f"({record['worker']}) was ended"
        )
    assert "replacing crashed worker" in result.stdout.str()


def test_without_xdist_a_trial_that_cannot_be_interrupted_ends_the_run_resumably(pytester: pytest.Pytester) -> None:
    hanging_suite(pytester, stubborn=True)
    first = pytester.runpytest_subprocess(*ARGS, "--agent-timeout=0.5", "-q", timeout=HANG_S)
    assert first.ret == pytest.ExitCode.INTERRUPTED, first.stdout.str()
    run_id = only_run(pytester).name
    summary = summary_of(pytester)
    assert summary["interrupted"] is True
    assert summary["stopped_by"] == "a trial could not be interrupted after its timeout"
    assert summary["gate"]["passed"] is None
    command = f"pytest --agent-resume {run_id} *-p no:randomly --agent-timeout=0.5 -q"
    first.stdout.fnmatch_lines(
        [
            "agentopt: warning: a trial could not be interrupted after its timeout, so the run stopped*",
            "agentopt: verdict INCONCLUSIVE *: the run stopped early (a trial could not be interrupted after its "
            f"timeout) after * of 18 trials; continue it with {command}",
            "agentopt: gate not evaluated: the run stopped early (a trial could not be interrupted after its timeout)",
            "agentopt: ERROR: a trial could not be interrupted after its timeout; the run stopped (exit 2); continue "
            f"it with {command}",
        ]
    )
    stuck = timed_out(read_trials(only_run(pytester)))
    assert len(stuck) == 1  # recorded before the process ended: a resume does not run it again
    # Each resume gets past one stuck trial; the second stuck trial ends the next session the same way.
    second = pytester.runpytest_subprocess("--agent-resume", run_id, "--agent-timeout=0.5", timeout=HANG_S)
    assert second.ret == pytest.ExitCode.INTERRUPTED, second.stdout.str()
    # the stopped session let go of the run before it ended: the next one resumes it, it does not take it over
    assert "took it over" not in second.stdout.str()
    third = pytester.runpytest_subprocess("--agent-resume", run_id, "--agent-timeout=0.5", timeout=HANG_S)
    assert third.ret == pytest.ExitCode.OK, third.stdout.str()
    records = read_trials(only_run(pytester))
    keys = [(r["task_id"], r["arm"], r["trial"]) for r in records]
    assert len(keys) == len(set(keys)) == 18
    assert set(timed_out(records)) == HUNG
