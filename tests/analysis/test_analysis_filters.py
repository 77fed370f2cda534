"""Filters and their composition."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pytest_agentopt.analysis import (
    Experiment,
    Field,
    FilterChain,
    First,
    Last,
    Model,
    Run,
    Since,
    Slice,
    TaskCode,
    TrialTable,
    load_trials,
)
from tests.analysis.ledger_factory import trial, write_run


@pytest.fixture
def table(tmp_path: Path) -> TrialTable:
    records = [
        trial(
            seq=i,
            task=("gpu_race", "coupon", "stock")[i % 3],
            model=("gpt-5", "gpt-5-mini")[i % 2],
            experiment_id=("exp_a", "exp_b")[i // 5],
            cost=None if i == 4 else 0.01 * i,
            started_at=f"2026-11-{10 + i:02d}T12:00:00.000Z",
            steps=i if i % 2 else None,
        )
        for i in range(10)
    ]
    write_run(tmp_path, "r1", records)
    return load_trials(tmp_path)


def seqs(table: TrialTable) -> list[int]:
    return [int(value) for value in table.array("seq")]


def test_index_filters_slice_in_ledger_order(table: TrialTable) -> None:
    assert seqs(Last(3).apply(table)) == [7, 8, 9]
    assert seqs(First(2).apply(table)) == [0, 1]
    assert seqs(Slice(2, 5).apply(table)) == [2, 3, 4]
    assert seqs(Slice(-2, None).apply(table)) == [8, 9]
    assert seqs(Last(0).apply(table)) == []
    assert seqs(Last(50).apply(table)) == list(range(10))
    with pytest.raises(ValueError, match="n >= 0"):
        Last(-1)


def test_field_comparisons_work_on_categorical_and_numeric_columns(table: TrialTable) -> None:
    assert seqs((Field("task_code") == "coupon").apply(table)) == [1, 4, 7]
    assert seqs((Field("task_code") != "coupon").apply(table)) == [0, 2, 3, 5, 6, 8, 9]
    assert seqs(Field("task_code").isin(["coupon", "stock"]).apply(table)) == [1, 2, 4, 5, 7, 8]
    assert seqs((Field("cost_usd") >= 0.05).apply(table)) == [5, 6, 7, 8, 9]
    assert seqs((Field("cost_usd") < 0.02).apply(table)) == [0, 1]
    assert seqs((Field("cost_usd") == None).apply(table)) == [4]  # noqa: E711 - a null test, not identity
    assert seqs((Field("steps") > 4).apply(table)) == [5, 7, 9]
    assert seqs(Field("seq").isin([3, 30]).apply(table)) == [3]
    assert seqs((Field("model") > "gpt-5").apply(table)) == [1, 3, 5, 7, 9]
    assert seqs((Field("task_code") == "nothing").apply(table)) == []


def test_the_shorthands_equal_their_field_expressions(table: TrialTable) -> None:
    assert TaskCode("gpu_race") == (Field("task_code") == "gpu_race")
    assert Experiment("exp_a") == (Field("experiment_id") == "exp_a")
    assert Model("gpt-5") == (Field("model") == "gpt-5")
    assert Run("r1") == (Field("run_id") == "r1")
    assert seqs(Experiment("exp_b").apply(table)) == [5, 6, 7, 8, 9]
    assert len(Run("r2").apply(table)) == 0


def test_since_takes_dates_naive_and_aware_times(table: TrialTable) -> None:
    assert seqs(Since(date(2026, 11, 18)).apply(table)) == [8, 9]
    assert seqs(Since(datetime(2026, 11, 18, 12, 0)).apply(table)) == [8, 9]
    assert seqs(Since(datetime(2026, 11, 18, 12, 0, 1)).apply(table)) == [9]
    two_hours_east = timezone(timedelta(hours=2))
    assert seqs(Since(datetime(2026, 11, 18, 14, 0, tzinfo=two_hours_east)).apply(table)) == [8, 9]
    assert seqs(Since("2026-11-19").apply(table)) == [9]
    assert seqs(Since(datetime(2030, 1, 1, tzinfo=UTC)).apply(table)) == []


def test_a_chain_applies_its_filters_left_to_right(table: TrialTable) -> None:
    last_of_model = FilterChain(Model("gpt-5"), Last(2))
    model_among_last = FilterChain(Last(2), Model("gpt-5"))
    assert seqs(last_of_model.apply(table)) == [6, 8]
    assert seqs(model_among_last(table)) == [8]
    assert seqs(FilterChain().apply(table)) == list(range(10))
    assert seqs(last_of_model.then(TaskCode("stock")).apply(table)) == [8]
