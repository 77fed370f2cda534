"""The ledger: one line per record, torn lines tolerated and reported, atomic JSON files, run lookup."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.errors import LedgerError
from pytest_agentopt.storage.ledger import (
    LedgerWriter,
    RunPaths,
    iso_timestamp,
    new_run_id,
    read_ledger,
    resolve_run,
    update_hash_dictionary,
    write_json_atomic,
)
from pytest_agentopt.storage.trial_record import LEDGER_SCHEMA


def record(seq: int) -> dict[str, Any]:
    return {
        "schema": LEDGER_SCHEMA,
        "run_id": "r",
        "arm": "test",
        "task_id": "t",
        "trial": seq,
        "seq": seq,
        "outcome": "success",
        "message": "ünïcode ✓",
    }


def test_it_appends_one_line_per_record_and_reads_them_back(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with LedgerWriter(path) as ledger:
        for seq in range(3):
            ledger.append(record(seq))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[1])["seq"] == 1
    # Compact, and unicode kept as is (one readable line per trial).
    assert lines[0] == json.dumps(record(0), ensure_ascii=False, separators=(",", ":"))
    assert "ünïcode ✓" in lines[0]
    read = read_ledger(path)
    assert [r["seq"] for r in read.records] == [0, 1, 2]
    assert read.problems == []


def test_a_torn_last_line_is_skipped_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with LedgerWriter(path) as ledger:
        ledger.append(record(0))
    with path.open("ab") as handle:
        handle.write(json.dumps(record(1)).encode()[:25])
    read = read_ledger(path)
    assert [r["seq"] for r in read.records] == [0]
    assert read.problems == [f"{path}:2: skipped a torn last line (25 bytes)"]


def test_appending_after_a_torn_line_starts_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    path.write_bytes(json.dumps(record(0)).encode() + b"\n" + b'{"schema": 1, "ru')
    with LedgerWriter(path) as ledger:
        ledger.append(record(2))
    read = read_ledger(path)
    assert [r["seq"] for r in read.records] == [0, 2]
    assert read.problems == [f"{path}:2: skipped an unreadable line (17 bytes)"]


def test_a_missing_ledger_reads_as_empty(tmp_path: Path) -> None:
    assert read_ledger(tmp_path / "none.jsonl").records == []


def test_records_of_a_newer_schema_are_not_read_as_trials(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    path.write_text(json.dumps({**record(0), "schema": LEDGER_SCHEMA + 1}) + "\n")
    read = read_ledger(path)
    assert read.records == []
    assert len(read.problems) == 1


def test_json_files_are_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "summary.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["summary.json"]


def test_runs_are_found_by_id_or_path_and_a_typo_lists_recent_runs(tmp_path: Path) -> None:
    run_id = new_run_id("exp_042")
    assert "-exp_042-" in run_id
    run = tmp_path / "runs" / run_id
    write_json_atomic(run / "manifest.json", {"schema": 1})
    assert resolve_run(run_id, tmp_path) == RunPaths(run)
    assert resolve_run(str(run), tmp_path) == RunPaths(run)
    with pytest.raises(LedgerError, match=run_id):
        resolve_run("nope", tmp_path)


def test_the_hash_dictionary_merges_across_runs(tmp_path: Path) -> None:
    update_hash_dictionary(tmp_path, {"a": "first"})
    update_hash_dictionary(tmp_path, {"b": "second"})
    assert json.loads((tmp_path / "hashes.json").read_text()) == {"a": "first", "b": "second"}


def test_known_components_need_no_lock_and_no_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    update_hash_dictionary(tmp_path, {"a": "first", "b": "second"})
    path = tmp_path / "hashes.json"
    before = path.stat().st_mtime_ns

    def no_lock(*args: object, **kwargs: object) -> None:
        raise AssertionError("took the lock")

    monkeypatch.setattr("pytest_agentopt.storage.ledger.FileLock", no_lock)
    update_hash_dictionary(tmp_path, {"a": "first"})
    assert path.stat().st_mtime_ns == before
    with pytest.raises(AssertionError, match="took the lock"):  # a new component is merged under the lock
        update_hash_dictionary(tmp_path, {"c": "third"})
    monkeypatch.undo()
    update_hash_dictionary(tmp_path, {"a": "changed text"})  # same key, other text: merged (last wins)
    assert json.loads(path.read_text()) == {"a": "changed text", "b": "second"}


def test_trial_timestamps_are_utc_iso_with_truncated_milliseconds() -> None:
    start = datetime(2026, 11, 23, 15, 55, 1, tzinfo=UTC).timestamp()
    assert iso_timestamp(start + 0.25) == "2026-11-23T15:55:01.250Z"
    assert iso_timestamp(start + 0.9999) == "2026-11-23T15:55:01.999Z"
    # Within a second and across seconds, in any order.
    assert [iso_timestamp(start + offset) for offset in (0.0, 0.5, 1.0, 0.75, 61.125)] == [
        "2026-11-23T15:55:01.000Z",
        "2026-11-23T15:55:01.500Z",
        "2026-11-23T15:55:02.000Z",
        "2026-11-23T15:55:01.750Z",
        "2026-11-23T15:56:02.125Z",
    ]


def test_records_read_back_share_their_keys_and_repeated_values(tmp_path: Path) -> None:
    """A resumed run holds every record in memory: equal strings are one object, not one per line."""
    path = tmp_path / "trials.jsonl"
    with LedgerWriter(path) as ledger:
        for seq in range(4):
            ledger.append(record(seq) | {"tokens": {"input": seq, "output": 1}, "started_at": f"2026-01-0{seq + 1}"})
    records: list[dict[str, Any]] = [dict(r) for r in read_ledger(path).records]
    first, *others = records
    for other in others:
        assert other == {**first, **{k: other[k] for k in ("trial", "seq", "tokens", "started_at")}}
        assert next(iter(other)) is next(iter(first))  # the same key object
        for field in ("run_id", "arm", "task_id", "outcome"):
            assert other[field] is first[field], field
        assert next(iter(other["tokens"])) is next(iter(first["tokens"]))
    assert others[0]["started_at"] is not first["started_at"]  # unique values are left alone
