"""The ledger: one line per record, torn lines tolerated and reported, atomic JSON files, run lookup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.errors import LedgerError
from pytest_agentopt.ledger import (
    LedgerWriter,
    RunPaths,
    new_run_id,
    read_ledger,
    resolve_run,
    update_hash_dictionary,
    write_json_atomic,
)
from pytest_agentopt.records import LEDGER_SCHEMA


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
    assert read.problems == [f"{path}:2: skipped a unreadable line (17 bytes)"]


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
