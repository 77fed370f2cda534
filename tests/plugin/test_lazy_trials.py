"""Trials made on demand: a process makes items for the trials that run, not for every planned one, and the run is
the same as with every trial collected (verdict, ledger, counts), with and without xdist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

TASKS = 5
CAP = 200
PLANNED = TASKS * CAP * 2

COUNTING_CONFTEST = """
import gc
import json

import _pytest.python
import pytest

MADE = [0]
_ORIGINAL_INIT = _pytest.python.Function.__init__


def _counting_init(self, *args, **kwargs):
    MADE[0] += 1
    _ORIGINAL_INIT(self, *args, **kwargs)


def pytest_configure(config):
    _pytest.python.Function.__init__ = _counting_init


def pytest_unconfigure(config):
    _pytest.python.Function.__init__ = _ORIGINAL_INIT


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    gc.collect()  # items hold reference cycles: count the reachable ones
    alive = sum(
        1 for obj in gc.get_objects() if isinstance(obj, _pytest.python.Function) and obj.session is session
    )
    role = getattr(session.config, "workerinput", {}).get("workerid", "main")
    (session.config.rootpath / f"items-{role}.json").write_text(json.dumps({"made": MADE[0], "alive": alive}))
"""

ARGS = (
    "--agent-config=configs/improved.json",
    "--sprt",
    f"--agent-trials={CAP}",
    "--agent-seed=3",
    "-p",
    "no:randomly",
)
EAGER = ("--deselect=test_suite.py::no_such_test",)
"""Any ``--deselect`` collects every planned trial as an item (it could name single trials)."""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    write_suite(pytester, p_control=0.2, p_test=0.95, tasks=TASKS)
    pytester.makeconftest(COUNTING_CONFTEST)
    return pytester


def item_counts(pytester: pytest.Pytester) -> dict[str, dict[str, int]]:
    return {
        path.stem.removeprefix("items-"): json.loads(path.read_text()) for path in pytester.path.glob("items-*.json")
    }


def trial_rows(run_dir: Path) -> list[tuple[Any, ...]]:
    """What a trial's record says about the run (not when or where it ran)."""
    keys = ("task_id", "arm", "trial", "seq", "seed", "outcome", "error_type", "tokens", "after_decision")
    return sorted(tuple(json.dumps(record[key]) for key in keys) for record in read_trials(run_dir))


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["single-process", "xdist-2"])
def test_a_process_makes_items_for_the_trials_that_run_not_for_the_whole_cap(
    suite: pytest.Pytester, workers: list[str]
) -> None:
    # In a subprocess: an in-process run's hook recorder keeps every item it saw.
    result = suite.runpytest_subprocess(*ARGS, *workers)
    assert result.ret == pytest.ExitCode.OK
    summary = json.loads((only_run(suite) / "summary.json").read_text())
    assert summary["verdict"] == "better"
    started = len(read_trials(only_run(suite)))
    assert started < 100  # the test decides after a few dozen pairs of the 2,000 planned trials
    counts = item_counts(suite)
    assert set(counts) == ({"main"} if not workers else {"main", "gw0", "gw1"})
    for role, count in counts.items():
        # One collected item per task and arm, then one per trial the process ran or skipped after the stop
        # (with every planned trial collected, each process made and kept all 2,000).
        assert count["made"] <= 2 * TASKS + started + 2 * 2, (role, count)
        assert count["alive"] <= 2 * TASKS + 4 + 1, (role, count)
    outcomes = result.parseoutcomes()
    # The never-run trials are deselected in one call; a worker skips the few items it held at the stop.
    assert outcomes["deselected"] + outcomes.get("skipped", 0) == summary["trials_skipped"] == PLANNED - started
    if not workers:
        assert "skipped" not in outcomes


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["single-process", "xdist-2"])
def test_the_run_is_the_same_as_with_every_trial_collected(suite: pytest.Pytester, workers: list[str]) -> None:
    runs: dict[str, tuple[Any, ...]] = {}
    for mode, extra in (("lazy", ()), ("eager", EAGER)):
        result = suite.runpytest(*ARGS, *workers, *extra, f"--agent-dir={mode}")
        assert result.ret == pytest.ExitCode.OK
        (run_dir,) = (suite.path / mode / "runs").iterdir()
        summary = json.loads((run_dir / "summary.json").read_text())
        decision = json.loads((run_dir / "decision.json").read_text())
        rows = trial_rows(run_dir)
        if workers:  # which trials start after the decision depends on timing; the decision's prefix does not
            rows = [row for row in rows if int(row[3]) <= decision["seq"]]
        outcomes = result.parseoutcomes()
        runs[mode] = (
            summary["verdict"],
            summary["pairs_used"],
            summary["trials_planned"],
            decision["seq"],
            rows,
            outcomes.get("deselected", 0)
            + outcomes.get("skipped", 0)
            + outcomes.get("passed", 0)
            + outcomes.get("agent_failed", 0),
        )
    assert runs["lazy"] == runs["eager"]
    assert runs["lazy"][2] == PLANNED
    assert runs["lazy"][5] == PLANNED


def test_the_collected_count_and_a_marker_selection_read_as_with_every_trial_collected(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        test_more="""
        import pytest

        @pytest.mark.slow
        @pytest.mark.parametrize("task", ["m0", "m1"])
        def test_marked(task, agent_trial):
            pass

        def test_plain():
            pass
        """
    )
    args = ("--agent-config=configs/improved.json", "--agent-trials=3", "--agent-seed=3", "-p", "no:randomly")
    seen = {}
    for mode, extra in (("lazy", ()), ("eager", EAGER)):
        result = suite.runpytest(*args, "-m", "not slow", f"--agent-dir={mode}", *extra)
        assert result.ret == pytest.ExitCode.OK
        header = [line for line in result.outlines if line.startswith("collected ")]
        seen[mode] = (header, result.parseoutcomes())
    assert seen["lazy"] == seen["eager"]
    # 5 tasks x 2 arms x 3 trials and one plain test selected; 2 marked tasks x 2 arms x 3 trials deselected
    assert seen["lazy"][0] == ["collected 43 items / 12 deselected / 31 selected"]
    assert seen["lazy"][1]["deselected"] == 12


def test_collect_only_lists_every_planned_trial_in_planned_order_as_xdist_workers_announce_them(
    suite: pytest.Pytester,
) -> None:
    suite.makeconftest(
        COUNTING_CONFTEST
        + """

def pytest_xdist_node_collection_finished(node, ids):
    (node.config.rootpath / f"ids-{node.gateway.id}.json").write_text(json.dumps(list(ids)))
"""
    )
    listed = suite.runpytest(*ARGS, "--collect-only", "-q")
    assert listed.ret == pytest.ExitCode.OK
    ids = [line for line in listed.outlines if line.startswith("test_suite.py::")]
    assert len(ids) == PLANNED
    result = suite.runpytest(*ARGS, "-n", "2")
    assert result.ret == pytest.ExitCode.OK
    for worker in ("gw0", "gw1"):
        assert json.loads((suite.path / f"ids-{worker}.json").read_text()) == ids


def test_a_marker_another_plugin_adds_at_collection_holds_for_every_trial(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makeconftest(
        """
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                item.add_marker(pytest.mark.tagged("by-plugin"))
        """
    )
    pytester.makepyfile(
        test_suite="""
        import pytest

        @pytest.mark.parametrize("task", ["a", "b"])
        def test_task(task, request, agent_trial):
            assert request.node.get_closest_marker("tagged").args == ("by-plugin",)
        """
    )
    result = pytester.runpytest("--agent-config=configs/improved.json", "--agent-trials=4", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK
    records = read_trials(only_run(pytester))
    assert len(records) == 2 * 2 * 4
    assert {record["outcome"] for record in records} == {"success"}
