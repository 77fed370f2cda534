"""Collection is deterministic: the same planned order on every worker, whatever reorders the tests."""

from __future__ import annotations

import pytest

from tests.plugin.helpers import only_run, read_trials

ARGS = ["--agent-config=configs/improved.json", "--agent-trials=2", "--agent-seed=9"]


def agent_ids(result: pytest.RunResult) -> list[str]:
    return [line for line in result.stdout.lines if "::test_task[" in line]


def test_the_planned_order_survives_pytest_randomly(agent_suite: pytest.Pytester) -> None:
    agent_suite.makepyfile(test_more="def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    first = agent_suite.runpytest(*ARGS, "--collect-only", "-q", "-p", "randomly", "--randomly-seed=1")
    second = agent_suite.runpytest(*ARGS, "--collect-only", "-q", "-p", "randomly", "--randomly-seed=2")
    assert agent_ids(first) == agent_ids(second)
    assert len(agent_ids(first)) == 6 * 2 * 2
    ids = agent_ids(first)
    # pairs adjacent, control first, trial-major
    assert all(a.endswith(f"-control-{a[-2]}]") for a in ids[::2])
    assert [i.rsplit("-", 1)[1] for i in ids] == sorted(i.rsplit("-", 1)[1] for i in ids)


def test_workers_collect_identical_lists_under_randomly(agent_suite: pytest.Pytester) -> None:
    result = agent_suite.runpytest(*ARGS, "-n", "2", "-p", "randomly")
    assert result.ret == pytest.ExitCode.OK
    assert "Different tests collected" not in result.stdout.str()
    assert len(read_trials(only_run(agent_suite))) == 24


def test_a_keyword_selection_plans_only_what_is_left(agent_suite: pytest.Pytester) -> None:
    result = agent_suite.runpytest(*ARGS, "-k", "t1 or t2", "--sprt")
    assert result.ret == pytest.ExitCode.OK
    records = read_trials(only_run(agent_suite))
    assert {r["task_id"] for r in records} <= {"test_suite.py::test_task[t1]", "test_suite.py::test_task[t2]"}
    assert sorted(r["seq"] for r in records) == list(range(len(records)))
