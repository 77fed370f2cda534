"""The CSV export: one row per trial, every ledger field, tokens and metrics flattened, nothing rounded."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pytest_agentopt.report.render.csv import ledger_columns, write_trials_csv
from pytest_agentopt.storage.trial_record import TrialRecord


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": 1,
        "run_id": "run-1",
        "experiment_id": "exp_042",
        "arm": "test",
        "config_hash": "d87ca8368ac732b6",
        "task_id": "bench/test_store.py::test_store_task[gpu_race]",
        "task_code": "gpu_race",
        "category": "discriminative",
        "optimal_steps": 4,
        "impossible": False,
        "trial": 0,
        "seq": 1,
        "seed": 123,
        "outcome": "failure",
        "error_type": "AssertionError",
        "message": 'wrong item, "quoted", with a comma\nand a newline',
        "tokens": {"input": 1000, "output": 200, "cache_read": 100, "cache_write": 0, "reasoning": 7},
        "model": "gpt-4.1-mini",
        "cost_usd": 0.1 + 0.2,  # 0.30000000000000004: must survive the round trip
        "price_source": "genai-prices 0.2.3",
        "latency_s": 1.0 / 3.0,
        "steps": 5,
        "tool_calls": 4,
        "metrics": {"claimed_done": True},
        "attempts": 1,
        "worker": "gw0",
        "started_at": "2026-11-23T16:40:54.893Z",
        "finished_at": "2026-11-23T16:40:55.041Z",
        "after_decision": False,
    }
    assert set(base) == set(TrialRecord.__annotations__)
    base.update(changes)
    return base


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_it_writes_every_ledger_field_with_tokens_flattened_in_place(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    assert write_trials_csv([record()], path) == 1
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == [*ledger_columns(), "metric_claimed_done"]
    tokens_at = header.index("tokens_input")
    assert header[tokens_at - 1 : tokens_at + 6] == [
        "message",
        "tokens_input",
        "tokens_output",
        "tokens_cache_read",
        "tokens_cache_write",
        "tokens_reasoning",
        "model",
    ]
    assert "tokens" not in header
    assert "metrics" not in header


def test_values_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    original = record()
    write_trials_csv([original], path)
    (row,) = read(path)
    assert float(row["cost_usd"]) == original["cost_usd"]  # the same float, bit for bit
    assert float(row["latency_s"]) == original["latency_s"]
    assert row["message"] == original["message"]  # commas, quotes and newlines are quoted, not lost
    assert row["tokens_reasoning"] == "7"
    assert row["impossible"] == "false"
    assert row["metric_claimed_done"] == "true"
    assert row["optimal_steps"] == "4"


def test_unknown_values_are_empty_never_zero(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    write_trials_csv([record(tokens=None, cost_usd=None, task_code=None, steps=None, metrics={})], path)
    (row,) = read(path)
    for column in ("tokens_input", "tokens_output", "tokens_cache_read", "tokens_cache_write", "tokens_reasoning"):
        assert row[column] == ""
    assert row["cost_usd"] == ""
    assert row["task_code"] == ""
    assert row["steps"] == ""


def test_metric_columns_are_the_union_over_trials(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    rows = [
        record(metrics={"claimed_done": True, "refused": False}),
        record(trial=1, metrics={"coupon": "BAGS15", "detail": {"k": [1, 2]}}),
    ]
    write_trials_csv(rows, path)
    first, second = read(path)
    assert [name for name in first if name.startswith("metric_")] == [
        "metric_claimed_done",
        "metric_coupon",
        "metric_detail",
        "metric_refused",
    ]
    assert first["metric_coupon"] == ""
    assert second["metric_coupon"] == "BAGS15"
    assert second["metric_detail"] == '{"k": [1, 2]}'


def test_it_takes_a_trial_table_as_well_as_records(tmp_path: Path) -> None:
    class Table:
        def records(self, limit: int | None = None) -> list[dict[str, Any]]:
            return [record(trial=index) for index in range(3)]

    path = tmp_path / "nested" / "trials.csv"
    assert write_trials_csv(Table(), path) == 3
    assert [row["trial"] for row in read(path)] == ["0", "1", "2"]


def test_no_trials_give_just_the_header(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    assert write_trials_csv([], path) == 0
    assert path.read_bytes().decode("utf-8") == ",".join(ledger_columns()) + "\r\n"


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR", "'quoted", "''twice"]


def test_text_a_spreadsheet_would_evaluate_is_neutralised_with_a_quote(tmp_path: Path) -> None:
    """OWASP CSV injection: no text cell starts with = + - @ tab or CR; numbers stay numbers."""
    from pytest_agentopt.report.render.csv import FORMULA_TRIGGERS

    records = [
        record(seq=i, trial=i, message=text, error_type=text, metrics={"label": text, "delta": -3})
        for i, text in enumerate(FORMULAS)
    ]
    path = tmp_path / "trials.csv"
    write_trials_csv(records, path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row, text in zip(rows, FORMULAS, strict=True):
        for column in ("message", "error_type", "metric_label"):
            assert row[column] == "'" + text
            assert not row[column].startswith(FORMULA_TRIGGERS)
        assert row["metric_delta"] == "-3"  # a number is not text: it stays a number


def test_neutralised_text_reads_back_exactly(tmp_path: Path) -> None:
    from pytest_agentopt.report.render.csv import read_trials_csv

    records = [
        record(seq=i, trial=i, message=text, task_code=text, metrics={"label": text, "n": -1.5, "s": "-4"})
        for i, text in enumerate([*FORMULAS, "plain", "a=b"])
    ]
    path = tmp_path / "trials.csv"
    write_trials_csv(records, path)
    assert read_trials_csv(path) == records
