"""``load_trials`` and ``TrialTable``: columns that give back exactly what the ledger holds."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from pytest_agentopt.analysis import (
    ALL_COLUMNS,
    CONFIG_COLUMNS,
    TrialTable,
    config_table,
    decode,
    load_runs,
    load_trials,
    loading,
    table_from_records,
)
from pytest_agentopt.analysis.loading import REPLAY_KEY
from pytest_agentopt.errors import LedgerError
from pytest_agentopt.storage.ledger import read_ledger
from tests.analysis.ledger_factory import arm_entry, run_summary, trial, write_run


def many_trials(run_id: str, count: int) -> list[dict[str, object]]:
    records = []
    for seq in range(count):
        records.append(
            trial(
                run_id=run_id,
                seq=seq,
                trial_index=seq // 4,
                task=f"t{seq % 4}",
                outcome=("success", "failure", "error", "infra_error")[seq % 4],
                cost=None if seq % 7 == 0 else 0.001 * (seq % 5 + 1),
                tokens=None if seq % 11 == 0 else (100 + seq, 10 + seq % 3),
                steps=None if seq % 3 else seq % 9,
                optimal_steps=4 if seq % 2 else None,
                metrics={"claimed_done": seq % 2 == 0, "score": seq % 3} if seq % 5 else {},
                message=f"expected {seq} items" if seq % 4 == 1 else None,
                started_at=f"2026-11-20T10:{seq % 60:02d}:{seq % 59:02d}.{seq % 1000:03d}Z",
            )
        )
    return records


def test_it_gives_back_exactly_the_records_of_the_ledger(tmp_path: Path) -> None:
    write_run(tmp_path, "r1", many_trials("r1", 40))
    write_run(tmp_path, "r2", many_trials("r2", 7))
    table = load_trials(tmp_path)
    expected = (
        read_ledger(tmp_path / "runs/r1/trials.jsonl").records + read_ledger(tmp_path / "runs/r2/trials.jsonl").records
    )
    assert table.records() == expected
    assert len(table) == 47
    assert table.runs == ["r1", "r2"]
    assert table.records(limit=2) == expected[:2]


def test_it_reports_torn_and_unreadable_lines_as_read_ledger_does(tmp_path: Path) -> None:
    directory = write_run(tmp_path, "r1", many_trials("r1", 600))
    ledger = directory / "trials.jsonl"
    lines = ledger.read_bytes().split(b"\n")
    lines[300] = b'{"schema": 1, "not": "a trial record"}'  # in the second batch of 256 lines
    lines[400] = b"garbage"
    ledger.write_bytes(b"\n".join(lines[:-1]) + b'\n{"schema":1,"run_id":"r1","ex')  # torn last line
    table = load_trials(tmp_path)
    assert list(table.problems) == read_ledger(ledger).problems
    assert len(table.problems) == 3
    assert table.problems[-1].endswith("skipped a torn last line (29 bytes)")
    assert table.records() == read_ledger(ledger).records


def test_it_normalises_records_that_are_not_in_the_plugins_exact_shape(tmp_path: Path) -> None:
    reordered = dict(reversed(list(trial(seq=0).items())))
    partial = {"schema": 1, "run_id": "r1", "arm": "test", "task_id": "t", "trial": 0, "seq": 1, "outcome": "failure"}
    odd = trial(seq=2, metrics={"tags": ["a", "b"]}, code=None)
    odd["cost_usd"] = "0.5"
    ledger = tmp_path / "runs" / "r1" / "trials.jsonl"
    write_run(tmp_path, "r1", [])
    ledger.write_text("\n".join(json.dumps(r) for r in (reordered, partial, odd)) + "\n")
    table = load_trials(tmp_path)
    assert table.problems == ()
    records = table.records()
    assert records[0] == trial(seq=0)
    assert records[1]["task_code"] is None
    assert records[1]["tokens"] is None
    assert records[1]["cost_usd"] is None
    assert records[1]["metrics"] == {}
    assert records[1]["attempts"] == 1
    assert records[2]["metrics"] == {"tags": ["a", "b"]}
    assert records[2]["cost_usd"] == 0.5


def test_records_in_memory_make_the_table_their_ledger_would(tmp_path: Path) -> None:
    records = many_trials("r1", 40)
    records[3] = {**records[3], "metrics": {"tags": ["a", "b"]}}  # unhashable: the normalising path
    write_run(tmp_path, "r1", records)
    from_disk = load_trials(tmp_path)
    from_memory = table_from_records(records)
    assert from_memory.records() == from_disk.records() == read_ledger(tmp_path / "runs/r1/trials.jsonl").records
    for name in ("success", "scored", "tokens_total", "claimed_done", "started_at"):
        np.testing.assert_array_equal(from_memory.array(name), from_disk.array(name))
    narrow = table_from_records(records, columns=CONFIG_COLUMNS)
    assert narrow.loaded == load_trials(tmp_path, columns=CONFIG_COLUMNS, replays=True).loaded
    assert len(table_from_records([])) == 0


def test_a_value_that_is_no_trial_record_is_skipped_and_reported() -> None:
    table = table_from_records([trial(seq=0), {"schema": 1, "what": "not a trial"}, trial(seq=2)])
    assert [record["seq"] for record in table.records()] == [0, 2]
    assert table.problems == ("record 2: skipped: not a trial record",)


def test_a_subset_of_columns_holds_only_those_and_says_what_is_missing(tmp_path: Path) -> None:
    write_run(tmp_path, "r1", many_trials("r1", 30))
    full = load_trials(tmp_path)
    subset = load_trials(tmp_path, columns=CONFIG_COLUMNS)
    tokens = {f"tokens_{c}" for c in ("cache_read", "cache_write", "reasoning")}
    assert subset.loaded == CONFIG_COLUMNS | tokens | REPLAY_KEY  # what finding replays needs, too
    assert load_trials(tmp_path, columns=CONFIG_COLUMNS, replays=True).loaded == CONFIG_COLUMNS | tokens
    assert full.loaded == ALL_COLUMNS
    np.testing.assert_array_equal(subset.array("cost_usd"), full.array("cost_usd"))
    assert subset.column("config_hash") == full.column("config_hash")
    with pytest.raises(KeyError, match="'steps' was not loaded"):
        subset.array("steps")
    with pytest.raises(KeyError, match="'schema' was not loaded"):
        subset.records()
    assert subset.records(fields=["config_hash", "cost_usd", "tokens"]) == [
        {key: record[key] for key in ("config_hash", "cost_usd", "tokens")} for record in full.records()
    ]
    with pytest.raises(ValueError, match="unknown columns"):
        load_trials(tmp_path, columns=["no_such_column"])


def test_parallel_decoding_gives_the_same_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_run(tmp_path, "r1", many_trials("r1", 900))
    monkeypatch.setattr(loading, "BLOCK_BYTES", 20_000)  # many blocks
    # Threads an earlier test of this process left behind (a timeout watchdog, a fake server) would make the
    # loader decode in this process alone; this test is about the forked decoding.
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    alone = load_trials(tmp_path, workers=1)
    assert loading.decoding_processes(tmp_path, workers=2) == 2
    together = load_trials(tmp_path, workers=2)
    assert together.records() == alone.records()


def test_run_ids_and_sources_select_what_is_loaded(tmp_path: Path) -> None:
    write_run(tmp_path, "r1", [trial(run_id="r1")])
    write_run(tmp_path, "r2", [trial(run_id="r2")])
    assert load_trials(tmp_path, run_ids=["r2"]).runs == ["r2"]
    assert load_trials(tmp_path / "runs" / "r1").runs == ["r1"]
    assert load_trials([tmp_path / "runs/r1/trials.jsonl", tmp_path / "runs/r2"]).runs == ["r1", "r2"]
    (tmp_path / "no_runs_yet").mkdir()
    assert len(load_trials(tmp_path / "no_runs_yet")) == 0
    with pytest.raises(LedgerError, match="not found"):
        load_trials(tmp_path / "missing")


def test_derived_columns_follow_the_outcome_usage_and_metrics(tmp_path: Path) -> None:
    records = [
        trial(seq=0, outcome="success", metrics={"claimed_done": True}),
        trial(seq=1, outcome="failure", tokens=None, metrics={}),
        trial(seq=2, outcome="infra_error", metrics={"claimed_done": False}),
    ]
    write_run(tmp_path, "r1", records)
    table = load_trials(tmp_path)
    assert table.array("success").tolist() == [True, False, False]
    assert table.array("scored").tolist() == [True, True, False]
    np.testing.assert_array_equal(table.array("tokens_total"), [110.0, np.nan, 110.0])
    np.testing.assert_array_equal(table.array("claimed_done"), [1.0, np.nan, 0.0])
    assert table.present("outcome") == ["success", "failure", "infra_error"]


def test_an_empty_source_gives_an_empty_table(tmp_path: Path) -> None:
    table = load_trials(tmp_path)
    assert len(table) == 0
    assert table.records() == []
    assert isinstance(TrialTable.empty(), TrialTable)


def test_load_runs_reads_manifests_and_summaries(tmp_path: Path) -> None:
    arms = {
        "control": arm_entry("exp_a", "ha"),
        "test": arm_entry("exp_b", "hb", parent="../configs/exp_a.json", guidelines=["g1"]),
    }
    write_run(
        tmp_path, "r1", [], arms=arms, summary=run_summary(verdict="better", verdict_reason="why", decided_by="sprt")
    )
    (run,) = load_runs(tmp_path)
    assert run.run_id == "r1"
    assert run.paired
    assert run.control_experiment_id == "exp_a"
    assert run.arms["test"].parent == "exp_a"
    assert run.arms["test"].guidelines == ("g1",)
    assert (run.verdict, run.verdict_reason, run.decided_by) == ("better", "why", "sprt")
    data = run.as_dict()
    assert data["arms"]["test"]["prompt_components"] == list(run.arms["test"].prompt_components)
    assert json.loads(json.dumps(data, default=str))["path"] == str(tmp_path / "runs" / "r1")


def test_the_fast_path_and_the_line_by_line_path_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [json.dumps(trial(seq=i, outcome="failure" if i % 3 else "success")).encode() for i in range(20)]
    data = b"\n".join(lines) + b"\n"
    fast = decode.decode_block(data)
    monkeypatch.setattr(decode, "_parse_together", lambda lines, indices: None)
    slow = decode.decode_block(data)
    for name in fast.numeric:
        np.testing.assert_array_equal(fast.numeric[name], slow.numeric[name])
    assert fast.categorical.keys() == slow.categorical.keys()
    for name, (codes, categories) in fast.categorical.items():
        assert [categories[c] for c in codes] == [slow.categorical[name][1][c] for c in slow.categorical[name][0]]


def test_a_subset_load_treats_torn_and_reordered_lines_as_the_full_load_does(tmp_path: Path) -> None:
    directory = write_run(tmp_path, "r1", many_trials("r1", 300))
    ledger = directory / "trials.jsonl"
    lines = ledger.read_bytes().split(b"\n")
    whole = lines[10]
    lines[10] = whole[: whole.index(b',"attempts"')]  # torn after the metrics object: ends with "}"
    lines[20] = json.dumps(dict(reversed(list(json.loads(lines[20]).items())))).encode()
    lines[31] = lines[31].replace(b'"metrics":{', b'"metrics":{"price_source":"x",')  # the key nested, later
    ledger.write_bytes(b"\n".join(lines))
    full = load_trials(tmp_path)
    subset = load_trials(tmp_path, columns=CONFIG_COLUMNS)
    assert len(full.problems) == 1
    assert subset.problems == full.problems
    fields = ["run_id", "experiment_id", "config_hash", "model", "outcome", "cost_usd", "tokens"]
    assert subset.records(fields=fields) == full.records(fields=fields)
    assert len(subset) == 299


def test_a_replayed_trial_is_counted_once(tmp_path: Path) -> None:
    first = [trial(run_id="r1", seq=i, trial_index=i, outcome="success" if i else "failure") for i in range(4)]
    # The same config, tasks and seeds again (a run repeated with the same --agent-seed), and one new trial.
    second = [{**record, "run_id": "r2"} for record in first] + [
        trial(run_id="r2", seq=4, trial_index=4, outcome="failure")
    ]
    write_run(tmp_path, "r1", first, created_at="2026-11-20T10:00:00.000Z")
    write_run(tmp_path, "r2", second, created_at="2026-11-21T10:00:00.000Z")
    table = load_trials(tmp_path)
    assert len(table) == 5
    assert table.replays == 4
    assert table.column("run_id") == ["r1"] * 4 + ["r2"]  # the first of each trial is the one kept
    assert table.where(table.array("success")).replays == 4  # said by every table made from it
    everything = load_trials(tmp_path, replays=True)
    assert (len(everything), everything.replays) == (9, 0)
    (row,) = config_table(load_trials(tmp_path, columns=CONFIG_COLUMNS))
    assert (row["trials"], row["successes"]) == (5, 3)  # not (9, 6)
    # A trial of another config with the same task and seed is no replay; nor are the two arms of an A/A run.
    other = [trial(run_id="r3", seq=0, trial_index=0, config_hash="hz", task="t1")]
    write_run(tmp_path, "r3", other, created_at="2026-11-22T10:00:00.000Z")
    same = [
        trial(run_id="r4", arm=arm, seq=i, trial_index=7, config_hash="hy") for i, arm in enumerate(("control", "test"))
    ]
    write_run(tmp_path, "r4", same, created_at="2026-11-23T10:00:00.000Z")
    assert (len(load_trials(tmp_path)), load_trials(tmp_path).replays) == (8, 4)


def test_replays_are_found_alike_with_the_packed_key_and_without_it() -> None:
    records = [
        trial(run_id=run, seq=i, task=f"t{i % 3}", trial_index=i, config_hash=f"h{i % 2}")
        for run in ("r1", "r2", "r3")
        for i in range(12)
    ]
    for index, record in enumerate(records):
        record["seed"] = index % 5  # many shared seeds; small enough for the packed 64-bit key
    small = loading.first_of_each_trial(table_from_records(records))
    large = loading.first_of_each_trial(table_from_records([{**r, "seed": r["seed"] + 2**40} for r in records]))
    assert small.tolist() == large.tolist()
    expected: list[bool] = []
    seen: dict[tuple[object, object, object], object] = {}
    for record in records:  # by hand: a key first seen in another run is a replay
        key = (record["config_hash"], record["task_id"], record["seed"])
        expected.append(seen.setdefault(key, record["run_id"]) == record["run_id"])
    assert small.tolist() == expected
    assert 0 < sum(expected) < len(expected)


def test_with_another_thread_alive_it_decodes_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_run(tmp_path, "r1", many_trials("r1", 900))
    monkeypatch.setattr(loading, "BLOCK_BYTES", 20_000)
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # forking a threaded process is not safe
    assert loading.decoding_processes(tmp_path, workers=2) == 1
