"""``cluster_failures`` and the message normalisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_agentopt.analysis import cluster_failures, load_trials, normalise_message
from tests.analysis.ledger_factory import trial, write_run


@pytest.mark.parametrize(
    ("message", "signature"),
    [
        ("expected 2 x SKU-1042, found 1", "expected <n> x <id>, found <n>"),
        ("total $12.50 exceeds the budget of $10", "total <n> exceeds the budget of <n>"),
        ("order ord_5f3a9c failed on gw3", "order <id> failed on <id>"),
        ("run 3fa85f64-5717-4562-b3fc-2c963f66afa6 timed   out", "run <id> timed out"),
        ("expired on 2025-03-14, checked at 2025-03-14T10:00:00Z", "expired on <date>, checked at <date>"),
        ("placed an order although the task is impossible", "placed an order although the task is impossible"),
        (None, ""),
    ],
)
def test_numbers_and_identifiers_are_replaced(message: str | None, signature: str) -> None:
    assert normalise_message(message) == signature


def test_failures_are_grouped_by_type_and_message_shape(tmp_path: Path) -> None:
    records = [
        trial(seq=0, task="gpu", outcome="failure", message="expected 2 x SKU-1042, found 1", arm="test"),
        trial(seq=1, task="gpu", outcome="failure", message="expected 3 x SKU-77, found 0", arm="control"),
        trial(seq=2, task="desk", outcome="failure", message="expected 1 x SKU-5, found 2", arm="test"),
        trial(seq=3, task="desk", outcome="error", error_type="KeyError", message="'SKU-5'"),
        trial(seq=4, task="desk", outcome="error", error_type="KeyError", message="'SKU-9'"),
        trial(seq=5, task="gpu", outcome="failure", message="expected 4 x SKU-1, found 3", arm="test"),
        trial(seq=6, task="gpu", outcome="infra_error", error_type="openai.RateLimitError", message="429"),
        trial(seq=7, task="gpu", outcome="success"),
    ]
    write_run(tmp_path, "r1", records)
    rows = cluster_failures(load_trials(tmp_path))
    json.dumps(rows, allow_nan=False)
    assert [(row["error_type"], row["signature"], row["count"]) for row in rows] == [
        ("AssertionError", "expected <n> x <id>, found <n>", 4),
        ("KeyError", "'<id>'", 2),
    ]
    first = rows[0]
    assert first["share"] == pytest.approx(4 / 6)
    assert first["example_message"] == "expected 2 x SKU-1042, found 1"
    assert first["tasks"] == ["gpu", "desk"]  # gpu failed 3 times, desk once
    assert first["arms"] == ["test", "control"]
    assert first["experiments"] == ["exp_b"]
    assert len(cluster_failures(load_trials(tmp_path), limit=1)) == 1
    assert cluster_failures(load_trials(tmp_path / "runs" / "r1"), limit=None) == rows


def test_no_failures_give_no_clusters(tmp_path: Path) -> None:
    write_run(tmp_path, "r1", [trial(outcome="success")])
    assert cluster_failures(load_trials(tmp_path)) == []
