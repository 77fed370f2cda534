"""What the controller sends every worker about a resumed run: the finished trials, compactly, round-tripped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_agentopt.run.stop import StopSignal
from pytest_agentopt.storage.run_context import RunContext
from tests.unit.test_summary import context, record


def test_finished_trials_reach_the_workers_as_a_few_integers_each() -> None:
    resumed = [record(seq, ("control", "test")[seq % 2], seq // 2 % 10, seq // 20, "success") for seq in range(2000)]
    controller = context(resumed=resumed)
    payload = controller.to_payload()
    assert "resumed" not in payload
    size = len(json.dumps(payload["finished"]))
    assert size < 16 * len(resumed)  # about 12 characters per trial, not a dict with the task id each
    worker = RunContext.from_payload(payload)
    assert sorted(worker.finished_positions()) == sorted(controller.finished_positions())
    assert len(set(worker.finished_positions())) == 2000
    assert (("t3", "test", 2), 47) in set(worker.finished_positions())
    assert worker.has_finished_trials
    assert not context().has_finished_trials


def test_execnet_sends_the_finished_trials_without_a_chunk_per_integer() -> None:
    """execnet's serializer appends a few small bytes objects per list element: for a list of integers it held
    about 1.5 KB per finished trial while it encoded the message (300 MB per worker for 200,000 trials, in the
    controller and in each worker); a string per task is one chunk."""
    import tracemalloc

    gateway_base = pytest.importorskip("execnet.gateway_base")
    resumed = [record(seq, ("control", "test")[seq % 2], seq // 2 % 10, seq // 20, "success") for seq in range(20_000)]
    payload = context(resumed=resumed).to_payload()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        message = gateway_base.dumps_internal(payload["finished"])
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 100 * len(resumed), peak / len(resumed)  # the message itself and its chunks: about 40 bytes each
    assert sorted(RunContext.from_payload(payload).finished_positions()) == sorted(
        RunContext.from_payload({**payload, "finished": gateway_base.loads_internal(message)}).finished_positions()
    )


def test_a_remote_worker_gets_no_stop_flag_path_and_never_looks_for_one(tmp_path: Path) -> None:
    controller = context()
    assert controller.stop_path is not None
    local = RunContext.from_payload(controller.to_payload())
    assert local.stop_path == controller.stop_path
    payload = controller.to_payload(stop_flag=False)
    assert payload["stop_path"] is None
    json.dumps(payload)  # execnet sends only builtins
    remote = RunContext.from_payload(payload)
    assert remote.stop_path is None
    # everything else a worker needs travels all the same
    assert {key: value for key, value in payload.items() if key != "stop_path"} == {
        key: value for key, value in controller.to_payload().items() if key != "stop_path"
    }
    # a stop signal without a file: publishing and reading stay in memory, nothing is written anywhere
    signal = StopSignal(remote.stop_path)
    assert signal.reason() is None
    signal.publish("decided")
    assert signal.reason() == "decided"
    signal.remove()


def test_a_local_worker_reads_the_published_flag(tmp_path: Path) -> None:
    published = StopSignal(tmp_path / "stop-1", watch_file=False)
    watching = StopSignal(tmp_path / "stop-1")
    assert watching.reason() is None
    published.publish("agentopt: sequential test decided 'better'")
    assert watching.reason() == "agentopt: sequential test decided 'better'"
