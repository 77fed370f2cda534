"""A trial's captured output is not kept once nothing can show it: memory must not grow with the agent's output."""

from __future__ import annotations

import pytest

from tests.plugin.helpers import write_configs

NOISY_SUITE = """
import pytest

@pytest.mark.parametrize("task", ["a", "b"])
def test_task(task, agent_trial):
    print("agent transcript " * 1000)
    assert task == "a"

def test_plain_failure():
    print("plain output")
    assert False
"""
ARGS = ("--agent-config=configs/improved.json", "-p", "no:randomly", "--agent-trials=2")


def captured(report: pytest.TestReport) -> list[str]:
    return [name for name, _ in report.sections if name.startswith("Captured ")]


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["single", "xdist"])
def test_passed_and_agent_failed_trials_keep_no_output(pytester: pytest.Pytester, workers: tuple[str, ...]) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_suite=NOISY_SUITE)
    recorder = pytester.inline_run(*ARGS, *workers)
    reports = recorder.getreports("pytest_runtest_logreport")
    agent = [r for r in reports if "test_task" in r.nodeid]
    assert len(agent) == 2 * 2 * 2 * 3  # every phase of every trial
    assert all(captured(r) == [] for r in agent)
    # a real failure keeps its output for pytest's failure section
    plain = next(r for r in reports if r.nodeid.endswith("test_plain_failure") and r.when == "call")
    assert captured(plain) == ["Captured stdout call"]


def test_output_is_kept_when_pytest_will_show_it(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_suite=NOISY_SUITE)
    recorder = pytester.inline_run(*ARGS, "-rP")
    calls = [r for r in recorder.getreports("pytest_runtest_logreport") if "test_task" in r.nodeid and r.when == "call"]
    assert calls
    assert all(captured(r) == ["Captured stdout call"] for r in calls)
