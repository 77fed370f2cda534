"""One rule for which ledger records count, applied by resume, the run's reports and every history reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.analysis import load_trials
from pytest_agentopt.cli.main import main
from pytest_agentopt.storage.ledger import RunPaths, iter_ledger_records, read_ledger, read_run_ledger
from pytest_agentopt.storage.ledger_rule import FOREIGN, REPEATED, count_records
from pytest_agentopt.storage.trial_record import normalise_record
from tests.analysis.ledger_factory import trial, write_run


def test_the_first_record_of_each_trial_of_the_owning_run_counts() -> None:
    keys = [
        ("r1", "t", "test", 0, "r1"),
        ("r1", "t", "test", 0, "r1"),  # the same trial again
        ("r2", "t", "test", 0, "r1"),  # another run's record in r1's ledger
        ("r1", "t", "control", 0, "r1"),
        ("r2", "t", "test", 0, None),  # a bare ledger: every run's records count, once
        ("r2", "t", "test", 0, None),
    ]
    assert list(count_records(keys)) == [None, REPEATED, FOREIGN, None, None, REPEATED]


def shared_ledger(agent_dir: Path) -> Path:
    """Run r1's ledger, holding a trial recorded twice and two records of another run (r0)."""
    records = [trial(run_id="r1", seq=seq, task=f"t{seq % 3}", outcome="success") for seq in range(6)]
    records.insert(3, {**records[1], "outcome": "failure"})  # trial 1 again: must not count (the first does)
    records.append(trial(run_id="r0", seq=0, task="t0", outcome="failure"))
    records.append(trial(run_id="r0", seq=1, task="t1", outcome="failure"))
    return write_run(agent_dir, "r1", records)


def test_resume_reports_and_the_history_count_the_same_records(tmp_path: Path) -> None:
    run = shared_ledger(tmp_path)
    resumed = read_ledger(run / "trials.jsonl", owner="r1")  # what a resume rebuilds its state from
    assert [(r["run_id"], r["seq"], r["outcome"]) for r in resumed.records] == [("r1", s, "success") for s in range(6)]
    note = (
        f"{run / 'trials.jsonl'}: not counted: 2 records of other runs, 1 repeated record of a trial (the first counts)"
    )
    assert resumed.problems == [note]
    assert read_run_ledger(RunPaths(run)).records == resumed.records  # the run's reports
    assert list(iter_ledger_records([RunPaths(run)])) == resumed.records  # agentopt report
    table = load_trials(tmp_path)  # every history command and the analysis API
    assert table.records() == resumed.records
    assert table.problems == (note,)
    narrow = load_trials(tmp_path, columns={"outcome", "cost_usd"})
    assert len(narrow) == 6
    assert "arm" not in narrow.loaded  # decoded for the rule, then dropped
    assert "trial" not in narrow.loaded


def test_a_copied_run_directory_is_counted_once_in_the_history(tmp_path: Path) -> None:
    records = [trial(run_id="r1", seq=seq, task="t0") for seq in range(4)]
    write_run(tmp_path, "r1", records)
    write_run(tmp_path, "r1-backup", records)  # a copy: its manifest and records say r1
    manifest = json.loads((tmp_path / "runs/r1-backup/manifest.json").read_text())
    manifest["run_id"] = "r1"
    (tmp_path / "runs/r1-backup/manifest.json").write_text(json.dumps(manifest))
    assert len(load_trials(tmp_path)) == 4


def test_the_experiments_command_counts_what_the_run_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared_ledger(tmp_path)
    assert main(["experiments", "--agent-dir", str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    (row,) = json.loads(captured.out)
    assert (row["trials"], row["successes"]) == (6, 6)
    assert "not counted: 2 records of other runs, 1 repeated record" in captured.err


@pytest.mark.parametrize(
    "change",
    [
        {"run_id": 7},
        {"config_hash": None},
        {"task_id": ["t"]},
        {"arm": None},
        {"outcome": {"x": 1}},
        {"trial": "one"},
        {"seq": None},
        {"seed": 2**70},
        {"schema": 99},
    ],
    ids=["run", "config", "task", "arm", "outcome", "trial", "seq", "seed", "schema"],
)
def test_a_record_with_wrong_identity_types_is_not_a_record_for_any_reader(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    bad = {**trial(seq=1), **change}
    assert normalise_record(bad) is None
    run = write_run(tmp_path, "r1", [trial(seq=0), bad, trial(seq=2)])
    assert [r["seq"] for r in read_ledger(run / "trials.jsonl", owner="r1").records] == [0, 2]
    table = load_trials(tmp_path)
    assert [r["seq"] for r in table.records()] == [0, 2]
    assert table.problems == (
        f"{run / 'trials.jsonl'}:2: skipped an unreadable line ({len(json.dumps(bad, separators=(',', ':')))} bytes)",
    )


@pytest.mark.parametrize("raw", [b"caf\\udce9", b"caf\xed\xb3\xa9"], ids=["escape", "utf8-bytes"])
def test_a_lone_surrogate_in_a_ledger_line_is_read_as_a_replacement_character(tmp_path: Path, raw: bytes) -> None:
    run = write_run(tmp_path, "r1", [trial(seq=0, outcome="failure", message="MARK")])
    ledger = run / "trials.jsonl"
    ledger.write_bytes(ledger.read_bytes().replace(b"MARK", raw))
    (record,) = read_ledger(ledger, owner="r1").records
    assert record["message"] == "caf\N{REPLACEMENT CHARACTER}"
    assert load_trials(tmp_path).records()[0]["message"] == "caf\N{REPLACEMENT CHARACTER}"


def test_a_record_with_a_renamed_field_is_normalised_not_taken_as_written(tmp_path: Path) -> None:
    from pytest_agentopt.report.summary import arm_figures

    damaged = trial(seq=0)
    damaged["tokens+"] = damaged.pop("tokens")  # as many fields as the plugin writes, one of them unknown
    record = normalise_record(damaged)
    assert record is not None
    assert record["tokens"] is None  # unknown, not a crash later
    assert arm_figures([record])["trials"] == 1
