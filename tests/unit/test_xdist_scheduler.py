"""The sequential xdist scheduler keeps one copy of the collection and finds node ids without scanning it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("xdist")

from pytest_agentopt.shell.xdist_scheduler import SequentialScheduling


@dataclass(eq=False)
class FakeGateway:
    id: str


@dataclass(eq=False)
class FakeNode:
    """What the scheduler uses of xdist's ``WorkerController``."""

    name: str
    sent: list[int] = field(default_factory=list)
    shutting_down: bool = False

    @property
    def gateway(self) -> FakeGateway:
        return FakeGateway(self.name)

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


class FakeHook:
    def __init__(self) -> None:
        self.collect_reports: list[Any] = []

    def pytest_collectreport(self, report: Any) -> None:
        self.collect_reports.append(report)


class FakeConfig:
    def __init__(self, workers: int) -> None:
        self.hook = FakeHook()
        self._tx = [f"{workers}*popen"]

    def getvalue(self, name: str) -> Any:
        assert name == "tx"
        return self._tx


def scheduler(workers: int) -> tuple[SequentialScheduling, list[FakeNode], FakeConfig, list[str]]:
    config = FakeConfig(workers)
    logged: list[str] = []
    scheduling = SequentialScheduling(
        config,  # type: ignore[arg-type]
        lambda *args: logged.append(" ".join(map(str, args))),
        4,
    )
    nodes = [FakeNode(f"gw{index}") for index in range(workers)]
    for node in nodes:
        scheduling.add_node(node)
    return scheduling, nodes, config, logged


def ids(count: int) -> list[str]:
    return [f"test_a.py::test_task[t0-control-{trial}]" for trial in range(count)]


def test_every_node_shares_the_first_nodes_collection_once_they_are_equal() -> None:
    scheduling, nodes, config, logged = scheduler(3)
    received = [ids(50) for _ in nodes]  # each worker's ids arrive as a list of its own
    for node, collection in zip(nodes, received, strict=True):
        scheduling.add_node_collection(node, collection)
    assert scheduling.collection_is_completed
    scheduling.schedule()
    kept = {id(collection) for collection in scheduling.node2collection.values()}
    assert kept == {id(received[0])}  # one copy, not one per node
    assert scheduling.collection is received[0]
    assert not config.hook.collect_reports
    assert not logged
    assert sum(len(node.sent) for node in nodes) > 0


def test_a_node_whose_collection_differs_is_reported_at_scheduling_and_nothing_is_dispatched() -> None:
    scheduling, nodes, config, logged = scheduler(2)
    scheduling.add_node_collection(nodes[0], ids(10))
    scheduling.add_node_collection(nodes[1], ids(9))
    scheduling.schedule()
    (report,) = config.hook.collect_reports
    assert report.nodeid == "gw1"
    assert report.failed
    assert "Different tests were collected between gw0 and gw1" in str(report.longrepr)
    assert logged
    assert all(not node.sent for node in nodes)


class NoScan(list[str]):
    """A collection that fails a linear search (``list.index`` is a scan of up to every planned trial)."""

    def index(self, *args: Any) -> int:
        raise AssertionError("the collection was scanned for a node id")


def test_a_requeued_item_is_found_by_its_node_id_without_scanning_the_collection() -> None:
    scheduling, nodes, _, _ = scheduler(2)
    collection = NoScan(ids(30))
    for node in nodes:
        scheduling.add_node_collection(node, collection)
    scheduling.schedule()
    scheduling.stop()
    # after the stop, a crashed worker's pending item is never dispatched again: it is told by its node id
    scheduling.mark_test_pending(collection[17])
    assert scheduling.never_dispatched[-1] == collection[17]
