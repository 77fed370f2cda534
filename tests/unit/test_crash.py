"""A trial whose worker died: its identity from the node id, its planned position, its record, and the hook."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any, cast

import pytest
from execnet import XSpec

from pytest_agentopt.run.trial_order import ARMS_AB, build_plan, trial_seed
from pytest_agentopt.shell.crash import (
    PlanPositions,
    crash_note,
    crash_record,
    exit_status_text,
    parse_trial_nodeid,
    task_fields_of,
)
from pytest_agentopt.shell.xdist_hooks import XdistControllerHooks
from pytest_agentopt.storage.trial_record import REQUIRED_FIELDS
from tests.unit.test_summary import context, record


def test_a_trial_node_id_gives_its_task_arm_and_trial() -> None:
    assert parse_trial_nodeid("t.py::test_a[gpu-race-control-3]") == ("t.py::test_a[gpu-race]", "control", 3)
    assert parse_trial_nodeid("t.py::test_a[test-12]") == ("t.py::test_a", "test", 12)
    assert parse_trial_nodeid("t.py::Suite::test_a[x-test-0]") == ("t.py::Suite::test_a[x]", "test", 0)
    assert parse_trial_nodeid("t.py::test_plain[3]") is None
    # several candidates: test2, test3, ... test12
    assert parse_trial_nodeid("t.py::test_a[x-test2-4]") == ("t.py::test_a[x]", "test2", 4)
    assert parse_trial_nodeid("t.py::test_a[test12-0]") == ("t.py::test_a", "test12", 0)
    assert parse_trial_nodeid("t.py::test_a[x-testing-0]") is None
    assert parse_trial_nodeid("t.py::test_plain") is None


def collection_of(task_ids: list[str], trials: int, seed: int) -> list[str]:
    """Node ids in the order a worker collects them: the planned order."""
    ids = []
    for entry in build_plan(task_ids, ARMS_AB, trials, seed):
        head, _, params = entry.task_id.partition("[")
        suffix = f"{entry.arm}-{entry.trial}"
        ids.append(f"{head}[{params[:-1]}-{suffix}]" if params else f"{head}[{suffix}]")
    return ids


def test_planned_positions_are_the_workers_plan() -> None:
    tasks = ["t.py::test_a[x]", "t.py::test_a[y]", "t.py::test_b"]
    collection = ["t.py::test_plain", *collection_of(tasks, trials=4, seed=7)]
    positions = PlanPositions(collection, context(seed=7, trials=4))
    for seq, entry in enumerate(build_plan(tasks, ARMS_AB, 4, 7)):
        assert positions.seq(entry.key) == seq
    assert positions.seq(("t.py::test_c", "test", 0)) is None


def test_planned_positions_count_the_finished_trials_of_a_resumed_run() -> None:
    tasks = ["t.py::test_a[x]", "t.py::test_a[y]"]
    plan = build_plan(tasks, ARMS_AB, 3, 5)
    finished = plan[:5]  # deselected on the workers: absent from their collection
    collection = collection_of(tasks, trials=3, seed=5)[5:]
    resumed = [record(e.seq, e.arm, 0, e.trial, "success") | {"task_id": e.task_id} for e in finished]
    positions = PlanPositions(collection, context(seed=5, trials=3, resumed=resumed))
    for seq, entry in enumerate(plan):
        assert positions.seq(entry.key) == seq


def test_planned_positions_follow_a_selection_that_removed_trials() -> None:
    tasks = ["t.py::test_a[x]", "t.py::test_a[y]"]
    removed = {("t.py::test_a[x]", "control", 1), ("t.py::test_a[x]", "test", 1)}  # e.g. by -k
    kept = [entry for entry in build_plan(tasks, ARMS_AB, 3, 5) if entry.key not in removed]
    collection = [nodeid for nodeid in collection_of(tasks, 3, 5) if parse_trial_nodeid(nodeid) not in removed]
    positions = PlanPositions(collection, context(seed=5, trials=3))
    for seq, entry in enumerate(kept):
        assert positions.seq(entry.key) == seq


def test_exit_statuses_are_described() -> None:
    assert exit_status_text(-int(signal.SIGKILL)) == ("signal SIGKILL", "was killed by signal 9 (SIGKILL)")
    assert exit_status_text(1) == ("exit code 1", "exited with code 1")
    assert exit_status_text(None) == ("unknown exit status", "died (exit status unknown)")


def test_a_crash_record_is_a_complete_record_with_nothing_invented() -> None:
    ctx = context(seed=3)
    fields = task_fields_of("t1", [record(0, "control", 1, 0, "success")])
    assert fields == {"task_code": "code1", "category": "discriminative", "optimal_steps": None, "impossible": False}
    crashed = crash_record(
        context=ctx,
        key=("t1", "test", 2),
        seq=9,
        worker="gw1",
        returncode=-9,
        started=1_700_000_000.25,
        detected=1_700_000_003.5,
        task_fields=fields,
    )
    assert set(crashed) == REQUIRED_FIELDS
    assert crashed["outcome"] == "worker_crash"
    assert crashed["error_type"] == "signal SIGKILL"
    assert crashed["message"] == "worker gw1 was killed by signal 9 (SIGKILL) while running this trial"
    assert (crashed["task_id"], crashed["arm"], crashed["trial"], crashed["seq"]) == ("t1", "test", 2, 9)
    assert crashed["seed"] == trial_seed(3, "t1", 2)  # the seed the trial had
    assert (crashed["tokens"], crashed["cost_usd"], crashed["price_source"]) == (None, None, None)  # unknown
    assert crashed["latency_s"] == pytest.approx(3.25)
    assert crashed["experiment_id"] == "b"
    assert crashed["config_hash"] == "h1"
    assert crashed["task_code"] == "code1"
    assert task_fields_of("t9", [])["task_code"] is None  # no trial of the task recorded yet: unknown


class FakeGateway:
    def __init__(self, node_id: str) -> None:
        self.id = node_id
        self.spec = XSpec("execmodel=main_thread_only//popen")  # a local worker, as -n N starts


class FakeNode:
    def __init__(self, node_id: str) -> None:
        self.gateway = FakeGateway(node_id)


class FakeScheduler:
    def __init__(self) -> None:
        self.pending: list[str] = []

    def mark_test_pending(self, item: str) -> None:
        self.pending.append(item)


class FakeController:
    def __init__(self) -> None:
        self.records: list[Any] = []
        self.plan_size = 12
        self.plan: dict[str, int] | None = None

    def learn_plan(self, plan: dict[str, int]) -> None:
        self.plan = plan


def crash_report(nodeid: str, worker: str) -> pytest.TestReport:
    report = pytest.TestReport(
        nodeid=nodeid,
        location=("t.py", None, "t.py"),
        keywords={},
        outcome="failed",
        longrepr="crashed",
        when=cast(Any, "???"),  # what xdist gives a crashed item's report
    )
    report.node = FakeNode(worker)  # type: ignore[attr-defined]
    return report


def hooks_with_collection() -> tuple[XdistControllerHooks, list[str]]:
    tasks = ["t.py::test_a[x]", "t.py::test_a[y]"]
    collection = collection_of(tasks, trials=3, seed=2)
    hooks = XdistControllerHooks(context(seed=2, trials=3, run_dir=Path("/tmp/r1")), FakeController())  # type: ignore[arg-type]
    hooks.pytest_xdist_node_collection_finished(FakeNode("gw0"), collection)
    return hooks, collection


def test_the_trial_a_dead_worker_was_running_becomes_its_record() -> None:
    hooks, collection = hooks_with_collection()
    nodeid = collection[4]
    hooks.pytest_runtest_logstart(nodeid, ("t.py", 1, "test_a"))
    report = crash_report(nodeid, "gw1")
    sched = FakeScheduler()
    hooks.pytest_handlecrashitem(nodeid, report, sched)
    payload = report.agentopt
    crashed = payload["record"]
    assert crashed["outcome"] == "worker_crash"
    assert crashed["seq"] == 4
    assert crashed["worker"] == "gw1"
    assert (report.outcome, report.when, report.longrepr) == ("passed", "call", None)  # data, not a failure
    assert sched.pending == []


def test_an_item_the_dead_worker_had_not_started_runs_again() -> None:
    hooks, collection = hooks_with_collection()
    report = crash_report(collection[3], "gw0")
    sched = FakeScheduler()
    hooks.pytest_handlecrashitem(collection[3], report, sched)
    assert sched.pending == [collection[3]]
    assert report.agentopt == {"record": None, "requeued": True}


def test_a_trial_recorded_before_its_worker_died_is_not_recorded_twice() -> None:
    hooks, collection = hooks_with_collection()
    nodeid = collection[0]
    hooks.pytest_runtest_logstart(nodeid, ("t.py", 1, "test_a"))
    reported = pytest.TestReport(
        nodeid=nodeid, location=("t.py", 1, "x"), keywords={}, outcome="passed", longrepr=None, when="call"
    )
    reported.agentopt = {"record": record(0, "control", 0, 0, "timeout")}  # type: ignore[attr-defined]
    hooks.pytest_runtest_logreport(reported)
    report = crash_report(nodeid, "gw0")
    hooks.pytest_handlecrashitem(nodeid, report, FakeScheduler())
    assert report.agentopt == {"record": None, "already_recorded": True}


def test_a_crashed_plain_test_keeps_xdist_s_failure() -> None:
    hooks, _ = hooks_with_collection()
    report = crash_report("t.py::test_plain", "gw0")
    hooks.pytest_handlecrashitem("t.py::test_plain", report, FakeScheduler())
    assert report.outcome == "failed"
    assert not hasattr(report, "agentopt")


def test_the_report_lists_the_first_crashed_trials_and_counts_the_rest() -> None:
    assert crash_note([record(0, "control", 0, 0, "success")]) is None
    crashed = [
        record(seq, "test", seq, 0, "worker_crash") | {"message": f"worker gw{seq} exited with code 1"}
        for seq in range(5)
    ]
    note = crash_note(crashed)
    assert note is not None
    assert note.startswith("warning: 5 trial(s) ended with their worker process (worker_crash) and are kept out")
    assert "t0 [test 0]: worker gw0 exited with code 1; t1 [test 0]" in note
    assert "t3" not in note
    assert note.endswith("; and 2 more")
