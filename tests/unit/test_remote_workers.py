"""Remote xdist workers: which specs are remote, which arguments xdist cannot send, and a lost remote worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from execnet import XSpec

from pytest_agentopt.shell.remote_workers import (
    args_rewritten,
    is_remote,
    tolerate_lost_remote_workers,
    unsendable_arguments,
)


@pytest.mark.parametrize(
    ("spec", "remote", "rewritten"),
    [
        ("popen", False, False),
        ("popen//python=python3", False, False),
        ("popen//chdir=/srv/suite", False, True),
        ("popen//via=machine1", True, False),
        ("socket=10.0.0.5:8888", True, True),
        ("socket=10.0.0.5:8888//chdir=/srv/suite", True, True),
        ("ssh=ci@runner-2//python=/opt/venv/bin/python", True, True),
    ],
)
def test_which_specs_start_a_worker_elsewhere(spec: str, remote: bool, rewritten: bool) -> None:
    xspec = XSpec(f"execmodel=main_thread_only//{spec}")
    assert is_remote(xspec) is remote
    assert args_rewritten(xspec) is rewritten


def test_file_arguments_xdist_cannot_send(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_agent.py").write_text("")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "test.json").write_text("{}")
    root = tmp_path / "rsynced"
    (root / "sub").mkdir(parents=True)
    args = [
        "tests/test_agent.py",  # a relative path that exists: xdist refuses it
        "tests/test_agent.py::test_task",  # a node id: its path part is what xdist checks
        "--agent-config=configs/test.json",  # option and value in one argument: no path
        "--agent-config",
        "configs/test.json",  # the value as its own argument: a path
        "-k",
        "coupon",
        "missing.py",  # no such file here: passed on as it is
        str(root / "sub"),  # under an rsync root: xdist rewrites it
        str(root),
    ]
    assert unsendable_arguments(args, [root]) == [
        "tests/test_agent.py",
        "tests/test_agent.py::test_task",
        "configs/test.json",
    ]


class _Gateway:
    def __init__(self, gateway_id: str, spec: str) -> None:
        self.id = gateway_id
        self.spec = XSpec(f"execmodel=main_thread_only//{spec}")


class _Node:
    def __init__(self, gateway_id: str, spec: str) -> None:
        self.gateway = _Gateway(gateway_id, spec)


class _DSession:
    """What the guard uses of xdist's DSession: the clone method, the active nodes and the shutdown."""

    def __init__(self, nodes: list[_Node]) -> None:
        self._active_nodes = set(nodes)
        self.shouldstop: str | bool = False
        self.shut_down = False
        self.cloned: list[_Node] = []

    def _clone_node(self, node: _Node) -> _Node:
        if "socket=" in str(node.gateway.spec) or "via=" in str(node.gateway.spec):
            raise ConnectionRefusedError(111, "Connection refused")
        clone = _Node(node.gateway.id + "-clone", "popen")
        self.cloned.append(clone)
        return clone

    def triggershutdown(self) -> None:
        self.shut_down = True


def test_a_lost_remote_worker_leaves_the_run_to_the_others() -> None:
    remote, other = _Node("gw0", "socket=127.0.0.1:9//chdir=/srv/a"), _Node("gw1", "socket=127.0.0.1:10")
    dsession = _DSession([remote, other])
    warnings: list[str] = []
    assert tolerate_lost_remote_workers(dsession, warnings.append)
    assert dsession._clone_node(remote) is None
    assert warnings == [
        "agentopt: warning: cannot replace the crashed remote worker gw0 (socket=127.0.0.1:9//chdir=/srv/a): "
        "ConnectionRefusedError: [Errno 111] Connection refused; the run goes on with 1 worker(s)"
    ]
    assert not dsession.shut_down
    assert dsession.shouldstop is False


def test_the_last_lost_remote_worker_ends_the_run_as_an_interruption() -> None:
    last = _Node("gw3", "popen//via=machine1")
    dsession = _DSession([last])
    warnings: list[str] = []
    tolerate_lost_remote_workers(dsession, warnings.append)
    assert dsession._clone_node(last) is None
    assert dsession.shut_down
    assert isinstance(dsession.shouldstop, str)
    assert dsession.shouldstop.startswith("cannot replace the crashed remote worker gw3 (popen//via=machine1): ")
    assert dsession.shouldstop.endswith("; no worker is left")
    assert warnings == [f"agentopt: warning: {dsession.shouldstop}"]


def test_a_local_worker_is_replaced_by_xdist_unchanged() -> None:
    local = _Node("gw0", "popen")
    dsession = _DSession([local])
    tolerate_lost_remote_workers(dsession, lambda line: None)
    clone = dsession._clone_node(local)
    assert clone is not None
    assert dsession.cloned == [clone]


def test_an_xdist_without_the_clone_method_is_left_alone() -> None:
    class Other:
        pass

    session: Any = Other()
    assert not tolerate_lost_remote_workers(session, lambda line: None)
    assert not hasattr(session, "_clone_node")
