"""Ctrl-C at any point leaves the report, ``summary.json`` and the exact resume command (also under ``-q``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

ARGS = ("--agent-config=configs/improved.json", "-p", "no:randomly", "--agent-seed=1", "--agent-trials=2")
HANG_S = 240
# Ctrl-C landing while the controller writes the end of the run: the user's own hook is one place it can land.
CTRL_C_WHILE_REPORTING = """
import os
import signal

def pytest_agentopt_run_finished(summary, config):
    os.kill(os.getpid(), signal.SIGINT)
"""
# Ctrl-C before the test loop ran: while xdist starts its workers, or during collection.
CTRL_C_AT_START = """
import pytest

@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):
        raise KeyboardInterrupt
"""
CTRL_C_IN_COLLECTION = """
import pytest

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    raise KeyboardInterrupt
"""


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())
    return data


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["single", "xdist"])
def test_ctrl_c_while_the_report_is_written_does_not_lose_it(
    pytester: pytest.Pytester, workers: tuple[str, ...]
) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    pytester.makeconftest(CTRL_C_WHILE_REPORTING)
    result = pytester.runpytest_subprocess(*ARGS, *workers, timeout=HANG_S)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    summary = summary_of(pytester)  # written after the hook: the interrupt was held back
    assert summary["interrupted"] is False
    assert summary["trials_started"] == 8
    result.stdout.fnmatch_lines(["*= agentopt =*", "agentopt: verdict *"])
    result.stderr.fnmatch_lines(["agentopt: interrupted while writing the run's report; finishing it*"])
    assert "KeyboardInterrupt" not in result.stdout.str()


@pytest.mark.parametrize(
    ("conftest", "workers"),
    [(CTRL_C_AT_START, ("-n", "2")), (CTRL_C_IN_COLLECTION, ())],
    ids=["xdist-start-up", "collection"],
)
def test_ctrl_c_before_any_trial_still_writes_the_summary_and_the_resume_command(
    pytester: pytest.Pytester, conftest: str, workers: tuple[str, ...]
) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    pytester.makeconftest(conftest)
    result = pytester.runpytest_subprocess(*ARGS, *workers, "-q", timeout=HANG_S)
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    run_id = only_run(pytester).name
    summary = summary_of(pytester)
    assert summary["interrupted"] is True
    assert summary["stopped_by"] == "interrupted with Ctrl-C"
    assert summary["verdict"] == "inconclusive"
    assert summary["gate"]["passed"] is None
    assert not any("no agent task was collected" in note for note in summary["notes"])  # it was not asked yet
    command = f"pytest --agent-resume {run_id} "
    result.stdout.fnmatch_lines(
        [
            "agentopt: verdict INCONCLUSIVE *: the run stopped early (interrupted with Ctrl-C) after 0 of ? trials; "
            f"continue it with {command}*",
            "agentopt: gate not evaluated: the run stopped early (interrupted with Ctrl-C)",
        ]
    )
    assert read_trials(only_run(pytester)) == []
