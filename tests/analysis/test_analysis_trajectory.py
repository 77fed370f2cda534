"""``trajectory_metrics`` computed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.analysis import TrialTable, load_trials, trajectory_metrics
from tests.analysis.ledger_factory import trial, write_run


@pytest.fixture
def table(tmp_path: Path) -> TrialTable:
    test: dict[str, Any] = {"arm": "test", "config_hash": "hb", "experiment_id": "exp_b"}
    records = [
        trial(seq=0, task="buy", category="easy", outcome="success", steps=5, optimal_steps=4, tool_calls=4,
              tokens=(100, 10), metrics={"claimed_done": True}, latency=1.0, **test),
        trial(seq=1, task="buy", category="easy", outcome="failure", steps=10, optimal_steps=4, tool_calls=9,
              tokens=(300, 30), metrics={"claimed_done": True}, latency=3.0, **test),
        trial(seq=2, task="refuse", category="impossible", outcome="success", steps=4, optimal_steps=4,
              tool_calls=3, tokens=(100, 10), metrics={"claimed_done": False}, impossible=True, latency=2.0, **test),
        trial(seq=3, task="refuse", category="impossible", outcome="error", tokens=None, impossible=True,
              latency=4.0, **test),
        trial(seq=4, task="buy", category="easy", outcome="infra_error", steps=99, tokens=(1000, 0), latency=60.0,
              **test),
        trial(seq=5, task="buy", category="easy", arm="control", config_hash="ha", experiment_id="exp_a",
              outcome="success", tokens=None, latency=0.5),
    ]  # fmt: skip
    write_run(tmp_path, "r1", records)
    return load_trials(tmp_path)


def test_per_arm_metrics_are_the_ones_computed_by_hand(table: TrialTable) -> None:
    rows = trajectory_metrics(table, "arm")
    json.dumps(rows, allow_nan=False)
    test, control = rows
    assert test == {
        "group": "test",
        "trials": 4,  # the infrastructure error is not the agent's
        "mean_steps": pytest.approx(19 / 3),
        "mean_tool_calls": pytest.approx(16 / 3),
        "step_efficiency": pytest.approx((4 / 5 + 4 / 4) / 2),  # successful trials only
        "under_optimal_rate": 0.0,
        "early_termination_rate": 0.5,  # one of the two impossible trials was refused
        "token_waste": pytest.approx(330 / 550),  # the errored trial recorded no usage
        "false_done_rate": pytest.approx(1 / 3),  # claimed done but failed, of the three that recorded it
        "mean_latency_s": 2.5,
    }
    assert control == {
        "group": "control",
        "trials": 1,
        "mean_steps": None,
        "mean_tool_calls": None,
        "step_efficiency": None,
        "under_optimal_rate": None,
        "early_termination_rate": None,
        "token_waste": None,
        "false_done_rate": None,
        "mean_latency_s": 0.5,
    }


def test_other_groupings_carry_their_labels(table: TrialTable) -> None:
    by_task = trajectory_metrics(table, "task")
    assert [(row["code"], row["category"], row["trials"]) for row in by_task] == [
        ("buy", "easy", 3),
        ("refuse", "impossible", 2),
    ]
    by_category = trajectory_metrics(table, "category")
    assert [row["group"] for row in by_category] == ["easy", "impossible"]
    assert by_category[1]["early_termination_rate"] == 0.5
    by_config = trajectory_metrics(table, "config")
    assert [(row["group"], row["experiment_id"]) for row in by_config] == [("hb", "exp_b"), ("ha", "exp_a")]
    with pytest.raises(ValueError, match="by must be one of"):
        trajectory_metrics(table, "model")  # type: ignore[arg-type]


def test_a_trial_under_the_declared_optimum_counts_as_optimal_not_more(tmp_path: Path) -> None:
    records = [
        trial(seq=0, task="buy", outcome="success", steps=2, optimal_steps=4),  # beat "optimal": 4/2 = 200 %
        trial(seq=1, task="buy", outcome="success", steps=8, optimal_steps=4),  # 50 %
        trial(seq=2, task="buy", outcome="failure", steps=1, optimal_steps=4),  # failures do not count
    ]
    write_run(tmp_path, "r1", records)
    (row,) = trajectory_metrics(load_trials(tmp_path), "arm")
    assert row["step_efficiency"] == pytest.approx((1.0 + 0.5) / 2)  # not (2.0 + 0.5) / 2 = 125 %
    assert row["under_optimal_rate"] == 0.5
