"""Edge cases a user will hit: interruptions, failing hooks, async tasks, unusable paths, ini values, no tasks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

ARGS = ["--agent-config=configs/improved.json", "-p", "no:randomly"]


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())
    return data


def test_ctrl_c_is_recorded_as_an_interruption_with_a_way_to_continue(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(
        test_suite="""
        import pytest

        COUNT = []

        @pytest.mark.parametrize("task", ["a", "b", "c"])
        def test_task(task, agent_trial):
            COUNT.append(1)
            if len(COUNT) == 7:
                raise KeyboardInterrupt
        """
    )
    # In a subprocess: pytester re-raises a KeyboardInterrupt of an in-process run in the outer session.
    result = pytester.runpytest_subprocess(*ARGS, "--agent-trials=4")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    summary = summary_of(pytester)
    assert summary["interrupted"] is True
    assert summary["verdict"] == "inconclusive"
    assert f"pytest --agent-resume {only_run(pytester).name}" in summary["verdict_reason"]
    assert summary["gate"]["passed"] is None
    assert len(read_trials(only_run(pytester))) == 6  # the six finished trials are kept for the resume


def test_a_failing_user_hook_is_a_note_not_a_crash_even_with_warnings_as_errors(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    pytester.makeconftest(
        """
        def pytest_agentopt_trial_recorded(record, config):
            raise RuntimeError("dashboard is down")
        """
    )
    # In a subprocess: in-process, "-W error" also applies to garbage that earlier tests of this worker left for
    # the collector (an unclosed socket, say), which then fails this run at a random point.
    result = pytester.runpytest_subprocess(*ARGS, "--agent-trials=2", "-W", "error")
    assert result.ret == pytest.ExitCode.OK
    notes = [line for line in result.stdout.lines if "dashboard is down" in line]
    assert len(notes) == 1  # once, however many trials
    assert "pytest_agentopt_trial_recorded hook raised RuntimeError" in notes[0]


def test_async_tasks_are_retried_on_infrastructure_errors(pytester: pytest.Pytester) -> None:
    pytest.importorskip("anyio")
    write_configs(pytester)
    pytester.makepyfile(
        test_suite="""
        import pytest

        CALLS = {}

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        async def test_task(agent_trial):
            key = (agent_trial.arm, agent_trial.index)
            CALLS[key] = CALLS.get(key, 0) + 1
            if CALLS[key] == 1:
                raise TimeoutError("provider timed out")
        """
    )
    result = pytester.runpytest(*ARGS, "--agent-trials=2", "--agent-infra-backoff=0.001")
    assert result.ret == pytest.ExitCode.OK
    records = read_trials(only_run(pytester))
    assert [(r["outcome"], r["attempts"]) for r in records] == [("success", 2)] * 4


def test_an_unwritable_agent_dir_is_a_usage_error(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=1)
    (pytester.path / "afile").write_text("not a directory")
    result = pytester.runpytest(*ARGS, "--agent-dir=afile")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --agent-dir=*afile: cannot write the run directory *"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    ("option", "reason"),
    [
        ("--agent-json=outdir", "is a directory; give a file name"),
        ("--agent-md=afile/report.md", "*afile is not a directory"),
        ("--agent-csv=outdir", "is a directory; give a file name"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_the_first_trial(
    pytester: pytest.Pytester, option: str, reason: str
) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=1)
    (pytester.path / "outdir").mkdir()
    (pytester.path / "afile").write_text("")
    result = pytester.runpytest(*ARGS, "--agent-trials=1", option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    flag = option.split("=")[0]
    result.stderr.fnmatch_lines([f"ERROR: {flag}=*: {reason}; the run would end without the file, so nothing was run"])
    assert not (pytester.path / ".agentopt" / "runs").exists()  # nothing was run, nothing was paid for


@pytest.mark.parametrize("quiet", [False, True])
def test_an_output_that_cannot_be_written_at_the_end_fails_the_run(pytester: pytest.Pytester, quiet: bool) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=1)
    # Writable at start-up, not at the end: a directory appears where the files go while the trials run.
    pytester.makeconftest(
        """
        import os

        def pytest_agentopt_trial_recorded(record, config):
            if record["seq"] == 0:
                os.makedirs("out/summary.json")
                os.makedirs("out/report.md")
        """
    )
    args = [*ARGS, "--agent-trials=1", "--agent-json=out/summary.json", "--agent-md=out/report.md"]
    result = pytester.runpytest(*args, *(["-q"] if quiet else []))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    failed = [line for line in result.stdout.lines if line.startswith("agentopt: FAILED: ")]
    in_run_dir = f"(the summary is in .agentopt/runs/{only_run(pytester).name}/summary.json)"
    assert len(failed) == 2
    assert failed[0].startswith(f"agentopt: FAILED: could not write {pytester.path / 'out' / 'report.md'}: ")
    assert failed[1].startswith(f"agentopt: FAILED: could not write --agent-json={pytester.path / 'out'}")
    assert all(line.endswith(in_run_dir) for line in failed)  # (the system's error message in between)
    summary = summary_of(pytester)
    assert len(summary["output_errors"]) == 2
    assert summary["gate"]["passed"] is True  # the experiment's gate passed: its outputs did not


def test_an_ini_value_is_named_as_an_ini_key(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=1)
    pytester.makeini("[pytest]\nagent_config = configs/improved.json\nagent_trials = ten\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: agent_trials = ten (tox.ini): must be an integer"])


def test_a_resume_ignores_a_different_ini_value_and_says_so(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    pytester.runpytest(*ARGS, "--agent-trials=2", "--agent-seed=3")
    run_id = only_run(pytester).name
    pytester.makeini("[pytest]\nagent_trials = 3\n")
    result = pytester.runpytest(f"--agent-resume={run_id}", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"note: agent_trials = 3 (tox.ini) is ignored: the resumed run {run_id} keeps *"])


def test_a_resumed_decided_run_keeps_its_decision_record(agent_suite: pytest.Pytester) -> None:
    agent_suite.runpytest(*ARGS, "--sprt", "--agent-trials=20", "--agent-seed=1")
    decision = only_run(agent_suite) / "decision.json"
    before = decision.read_text()
    result = agent_suite.runpytest(f"--agent-resume={only_run(agent_suite).name}", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK
    assert decision.read_text() == before
    assert summary_of(agent_suite)["verdict"] == "better"


def test_a_suite_without_agent_tasks_says_so(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest(*ARGS, "--agent-fail-inconclusive")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["note: warning: no agent task was collected: *"])
    assert summary_of(pytester)["verdict"] is None


def test_a_budget_that_cannot_count_unpriced_trials_warns_at_once(pytester: pytest.Pytester) -> None:
    write_configs(pytester, model_id="mystery-model-9")
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    result = pytester.runpytest(*ARGS, "--agent-trials=2", "--agent-budget=1")
    assert result.ret == pytest.ExitCode.OK
    warnings = [line for line in result.stdout.lines if "--agent-budget cannot count" in line]
    assert warnings
    assert warnings[0].startswith("agentopt: warning:")


def test_usage_capture_starts_when_the_agent_imports_opentelemetry_late(pytester: pytest.Pytester) -> None:
    pytest.importorskip("opentelemetry.sdk")
    write_configs(pytester)
    pytester.makepyfile(
        test_suite="""
        def test_task(agent_trial):
            from opentelemetry import trace  # the agent's code imports OpenTelemetry only when it runs

            attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                          "gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30}
            with trace.get_tracer("agent").start_as_current_span("chat gpt-4o-mini", attributes=attributes):
                pass
        """
    )
    # In a subprocess: the tracer provider is process-wide state.
    result = pytester.runpytest_subprocess(*ARGS, "--agent-control=none", "--agent-trials=3")
    assert result.ret == pytest.ExitCode.OK
    tokens = [r["tokens"] for r in sorted(read_trials(only_run(pytester)), key=lambda r: r["seq"])]
    # The first trial imported it during its call, too late for its own capture; the next ones are captured.
    assert tokens[0] is None
    assert tokens[1:] == [{"input": 120, "output": 30, "cache_read": 0, "cache_write": 0, "reasoning": 0}] * 2
