"""What the controller sends every worker about a resumed run: the finished trials, compactly, round-tripped."""

from __future__ import annotations

import json

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
