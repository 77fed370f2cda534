"""Sharded runs (``--agent-shard I/N``) and ``agentopt merge``: the shards merged are the unsharded run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.cli.main import main
from tests.plugin.helpers import read_trials, write_configs, write_suite

ARGS = ["--agent-config=configs/improved.json", "--agent-trials=4", "--agent-seed=7", "-p", "no:randomly"]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    write_suite(pytester, p_control=0.4, p_test=0.8, tasks=5)
    return pytester


def run_shard(pytester: pytest.Pytester, shard: str, *extra: str) -> Path:
    before = set(runs(pytester))
    result = pytester.runpytest(*ARGS, f"--agent-shard={shard}", *extra)
    assert result.ret == 0, result.stdout.str()
    (created,) = set(runs(pytester)) - before
    return created


def runs(pytester: pytest.Pytester) -> list[Path]:
    directory = pytester.path / ".agentopt" / "runs"
    return sorted(directory.iterdir()) if directory.is_dir() else []


def trial_keys(run_dir: Path) -> list[tuple[Any, ...]]:
    fields = ("task_id", "arm", "trial", "seq", "seed", "outcome", "tokens", "cost_usd")
    return sorted(tuple(json.dumps(record[field]) for field in fields) for record in read_trials(run_dir))


def merge(*args: str) -> int:
    return main(["merge", *args])


def test_two_shards_merged_give_exactly_the_trials_and_the_verdict_of_the_unsharded_run(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_shard(suite, "1/2")
    second = run_shard(suite, "2/2", "-n", "2")  # one shard under xdist: its workers shard alike
    whole = suite.runpytest(*ARGS, "--agent-json=whole.json")
    assert whole.ret == 0
    unsharded = json.loads((suite.path / "whole.json").read_text())

    first_tasks = {record["task_id"] for record in read_trials(first)}
    second_tasks = {record["task_id"] for record in read_trials(second)}
    assert (len(first_tasks), len(second_tasks)) == (3, 2)
    assert not first_tasks & second_tasks  # whole tasks

    capsys.readouterr()
    assert merge(first.name, second.name, "--json", "merged.json") == 0
    out = capsys.readouterr().out
    merged = json.loads((suite.path / "merged.json").read_text())
    merged_dir = suite.path / ".agentopt" / "runs" / merged["run_id"]
    assert trial_keys(merged_dir) == trial_keys(suite.path / ".agentopt" / "runs" / unsharded["run_id"])
    assert {record["run_id"] for record in read_trials(merged_dir)} == {merged["run_id"]}
    for key in ("verdict", "verdict_reason", "decided_by", "pairs", "pairs_used", "mcnemar_p", "effect", "tasks"):
        assert merged[key] == unsharded[key], key
    for arm in ("control", "test"):
        for key in ("trials", "successes", "success_ci", "tokens", "cost_usd", "spent_usd"):
            assert merged["arms"][arm][key] == unsharded["arms"][arm][key], (arm, key)
    assert merged["trials_planned"] == unsharded["trials_planned"] == 40
    assert merged["merged_from"] == [first.name, second.name]
    assert json.loads((merged_dir / "summary.json").read_text())["run_id"] == merged["run_id"]
    assert json.loads((merged_dir / "manifest.json").read_text())["merged_from"] == [first.name, second.name]
    assert f"verdict {unsharded['verdict'].upper()} (fixed)" in out
    assert "a sequential verdict needs one controller" in out


def test_a_shard_says_what_it_ran_and_runs_whole_tasks(suite: pytest.Pytester) -> None:
    run_dir = run_shard(suite, "2/3")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["shard"]["shard"] == "2/3"
    assert summary["shard"]["tasks"] == ["test_suite.py::test_task[t1]", "test_suite.py::test_task[t4]"]
    assert summary["shard"]["tasks_total"] == 5
    assert summary["trials_planned"] == 2 * 2 * 4
    assert json.loads((run_dir / "manifest.json").read_text())["run"]["shard"] == "2/3"


@pytest.mark.parametrize("value", ["0/2", "3/2", "x", "1/0", "1/"])
def test_a_bad_shard_is_a_usage_error_naming_the_option(suite: pytest.Pytester, value: str) -> None:
    result = suite.runpytest(*ARGS, f"--agent-shard={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --agent-shard={value}: *I/N*"])
    assert not runs(suite)


def test_a_shard_refuses_the_sequential_test_and_says_why(suite: pytest.Pytester) -> None:
    result = suite.runpytest(*ARGS, "--agent-shard=1/2", "--sprt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --agent-shard=1/2 cannot be combined with --sprt: *one controller*"])


def test_a_resumed_shard_keeps_its_shard(suite: pytest.Pytester) -> None:
    run_dir = run_shard(suite, "1/2")
    result = suite.runpytest(*ARGS[1:], f"--agent-resume={run_dir.name}", "--agent-shard=2/2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --agent-shard=2/2 conflicts with the resumed run * (shard = 1/2)*"])


def test_other_shards_of_the_same_seed_are_no_replay(suite: pytest.Pytester) -> None:
    run_shard(suite, "1/2")
    result = suite.runpytest(*ARGS, "--agent-shard=2/2")
    assert "repeats run" not in result.stdout.str()
    again = suite.runpytest(*ARGS, "--agent-shard=2/2")
    assert "repeats run" in again.stdout.str()  # the same shard again does repeat its trials


class TestMergeRefuses:
    def test_shards_with_different_seeds(self, suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
        first = run_shard(suite, "1/2")
        second = run_shard(suite, "2/2", "--agent-seed=8")
        assert merge(first.name, second.name) == 2
        err = capsys.readouterr().err
        assert f"run {second.name} (shard 2/2) differs from run {first.name} (shard 1/2) in run.seed: 8 against" in err
        assert len(runs(suite)) == 2  # nothing written

    def test_shards_with_different_configs(self, suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
        first = run_shard(suite, "1/2")
        second = run_shard(suite, "2/2", "--agent-set=temperature=0.9")
        assert merge(first.name, second.name) == 2
        assert "in the test config (its config hash)" in capsys.readouterr().err

    def test_overlapping_shards(self, suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
        first = run_shard(suite, "1/2")
        again = run_shard(suite, "1/2")
        run_shard(suite, "2/2")
        assert merge(first.name, again.name) == 2
        assert f"runs {first.name} and {again.name} are both shard 1/2: shards overlap" in capsys.readouterr().err

    def test_a_missing_shard(self, suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
        first = run_shard(suite, "1/3")
        third = run_shard(suite, "3/3")  # run ids made in the same second do not sort by time
        assert merge(first.name, third.name) == 2
        assert "shard 2/3 of 3 missing" in capsys.readouterr().err

    def test_a_different_number_of_shards(self, suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
        first = run_shard(suite, "1/2")
        other = run_shard(suite, "2/3")
        assert merge(first.name, other.name) == 2
        assert "in the number of shards: 3 against 2" in capsys.readouterr().err

    def test_a_run_that_is_not_a_shard(self, suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
        assert suite.runpytest(*ARGS).ret == 0
        (whole,) = runs(suite)
        assert merge(whole.name) == 2
        assert "is not a shard (it was not run with --agent-shard I/N)" in capsys.readouterr().err

    def test_an_unfinished_shard(self, suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
        first = run_shard(suite, "1/2")
        second = run_shard(suite, "2/2")
        (second / "summary.json").unlink()
        assert merge(first.name, second.name) == 2
        assert f"shard 2/2 (run {second.name}) has not finished" in capsys.readouterr().err

    def test_a_shard_whose_summary_was_edited(self, suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
        first = run_shard(suite, "1/2")
        second = run_shard(suite, "2/2")
        summary = json.loads((second / "summary.json").read_text())
        summary["trials_skipped"] = "none"  # a figure the merged summary would add up
        (second / "summary.json").write_text(json.dumps(summary))
        assert merge(first.name, second.name) == 2
        err = capsys.readouterr().err
        assert "summary.json: field 'trials_skipped': expected int, got 'none'" in err
        assert f"shard 2/2 (run {second.name}) has a summary without the shape docs/summary.md describes" in err
