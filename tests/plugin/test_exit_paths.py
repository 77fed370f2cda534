"""Every way a session ends early is reported as what really happened: the cause, the trials planned and run, the
gate not evaluated (never "FAILED", never a guessed exit status), in the terminal and in the summary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.helpers import only_run, write_configs, write_suite

ARGS = ["--agent-config=configs/improved.json", "--agent-trials=2", "-p", "no:randomly", "--agent-json=summary.json"]
PLANNED = 6 * 2 * 2  # tasks x arms x trials of write_suite's suite
ORDINARY = """
import pytest

def test_ordinary_one():
    {body}

def test_ordinary_two():
    {body}
"""


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "summary.json").read_text())
    return data


def suite(pytester: pytest.Pytester, body: str) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5)
    # Ordinary tests run before the agent items (the plugin puts them first): they stop the session first.
    pytester.makepyfile(test_a_ordinary=ORDINARY.format(body=body))


def assert_reports_the_stop(result: pytest.RunResult, summary: dict[str, Any], cause: str, started: int) -> None:
    output = result.stdout.str()
    assert summary["interrupted"] is True
    assert summary["stopped_by"] == cause
    assert summary["trials_planned"] == PLANNED
    assert summary["trials_started"] == started
    assert summary["verdict"] == "inconclusive"
    assert f"({cause}) after {started} of {PLANNED} trials" in summary["verdict_reason"]
    assert summary["gate"] == {"passed": None, "reason": f"not evaluated: the run stopped early ({cause})"}
    assert f"agentopt: gate not evaluated: the run stopped early ({cause})" in output
    for wrong in ("agentopt: FAILED", "single config", "no agent task was collected", "pytest exits"):
        assert wrong not in output
        assert wrong not in json.dumps(summary)


def test_x_on_a_failing_ordinary_test_says_what_stopped_the_run(pytester: pytest.Pytester) -> None:
    suite(pytester, "assert False")
    result = pytester.runpytest(*ARGS, "-x")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # pytest's own status for -x: 1, not 2
    assert_reports_the_stop(result, summary_of(pytester), "-x: stopping after 1 failures", 0)


def test_maxfail_is_named_with_its_value(pytester: pytest.Pytester) -> None:
    suite(pytester, "assert False")
    result = pytester.runpytest(*ARGS, "--maxfail=2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert_reports_the_stop(result, summary_of(pytester), "--maxfail=2: stopping after 2 failures", 0)


def test_x_under_xdist_knows_the_plan_from_the_workers(pytester: pytest.Pytester) -> None:
    suite(pytester, "assert False")
    result = pytester.runpytest(*ARGS, "-x", "-n", "2")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # xdist ends a -x session as an interruption
    summary = summary_of(pytester)
    assert_reports_the_stop(result, summary, "-x: stopping after 1 failures", summary["trials_started"])


def test_pytest_exit_in_a_test_is_named_with_its_reason(pytester: pytest.Pytester) -> None:
    suite(pytester, 'pytest.exit("the lab is closed")')
    result = pytester.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert_reports_the_stop(result, summary_of(pytester), "pytest.exit() was called: the lab is closed", 0)


def test_pytest_exit_with_its_own_status_keeps_it(pytester: pytest.Pytester) -> None:
    suite(pytester, 'pytest.exit("the lab is closed", returncode=7)')
    result = pytester.runpytest(*ARGS)
    assert result.ret == 7  # pytest prints no summaries for a status of its own: the summary file says it
    summary = summary_of(pytester)
    assert summary["stopped_by"] == "pytest.exit() was called: the lab is closed"
    assert summary["gate"]["passed"] is None


def test_collection_errors_are_named(pytester: pytest.Pytester) -> None:
    suite(pytester, "pass")
    pytester.makepyfile(test_broken="def test_broken(:\n    pass\n")
    result = pytester.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert_reports_the_stop(result, summary_of(pytester), "1 error during collection", 0)


def test_ctrl_c_is_named(pytester: pytest.Pytester) -> None:
    suite(pytester, "raise KeyboardInterrupt")
    # In a subprocess: pytester re-raises a KeyboardInterrupt of an in-process run in the outer session.
    result = pytester.runpytest_subprocess(*ARGS)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert_reports_the_stop(result, summary_of(pytester), "interrupted with Ctrl-C", 0)


def test_an_ab_run_without_agent_tasks_says_so_and_not_single_config(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["agentopt: no verdict: no agent task was collected: *"])
    assert "single config" not in result.stdout.str()
    summary = json.loads((only_run(pytester) / "summary.json").read_text())
    assert summary["trials_planned"] == 0
    assert summary["stopped_by"] is None


def test_a_usage_error_prints_only_the_error(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5)
    result = pytester.runpytest(*ARGS, "--agent-trials=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--agent-trials=0: must be from 1 to 10,000" in result.stderr.str()
    assert "agentopt: verdict" not in result.stdout.str()
    assert not (pytester.path / "summary.json").exists()
