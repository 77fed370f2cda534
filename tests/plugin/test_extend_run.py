"""Extending an inconclusive run: ``--agent-resume RUN --agent-trials N`` with N above the run's cap."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.helpers import read_trials, write_configs, write_suite

SEED = "--agent-seed=5"
COMMON = ["--agent-config=configs/improved.json", "--sprt", SEED, "-p", "no:randomly"]
SMALL, LARGE = 2, 30


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    write_suite(pytester, p_control=0.45, p_test=0.7, tasks=6)
    return pytester


def _runs(pytester: pytest.Pytester, agent_dir: str) -> list[Path]:
    return sorted((pytester.path / agent_dir / "runs").iterdir())


def _summary(run_dir: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return summary


def _replayed(run_dir: Path) -> tuple[str, int]:
    import contextlib
    import io

    from pytest_agentopt.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["replay", str(run_dir / "trials.jsonl"), "--json"]) == 0
    replayed = json.loads(out.getvalue())
    return replayed["verdict"], replayed["pairs_used"]


def _keys(records: list[dict[str, Any]]) -> Counter[tuple[str, str, int]]:
    return Counter((r["task_id"], r["arm"], r["trial"]) for r in records)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["single", "xdist"])
def test_an_extended_inconclusive_run_decides_as_an_uninterrupted_run_with_that_cap(
    suite: pytest.Pytester, workers: list[str]
) -> None:
    reference = suite.runpytest(*COMMON, f"--agent-trials={LARGE}", "--agent-dir=reference", *workers)
    assert reference.ret == pytest.ExitCode.OK
    (reference_dir,) = _runs(suite, "reference")
    expected = _summary(reference_dir)
    assert expected["verdict"] != "inconclusive"
    assert expected["pairs_used"] > 6 * SMALL  # the small cap ends before the uninterrupted run decides

    small = suite.runpytest(*COMMON, f"--agent-trials={SMALL}", "--agent-dir=extended", "-q", *workers)
    assert small.ret == pytest.ExitCode.OK
    (run_dir,) = _runs(suite, "extended")
    advice = _summary(run_dir)["extension"]
    assert _summary(run_dir)["verdict"] == "inconclusive"
    assert advice["trials"] == 145  # 868 pairs, the calibrated design's cap that always ends with a claim
    assert advice["command"].startswith(f"pytest --agent-resume {run_dir.name} ")
    assert advice["command"].endswith(" --agent-trials=145")
    assert advice["expected_further_pairs"] > 0
    assert advice["expected_usd"] > 0
    small.stdout.fnmatch_lines(["agentopt: to decide, extend it to 145 trials per task: expected * more pairs*"])
    before = read_trials(run_dir)
    # The undecided run's ledger replays to its own end: inconclusive after its 12 pairs, the last look included.
    assert _replayed(run_dir) == ("inconclusive", 6 * SMALL)

    extended = suite.runpytest(
        f"--agent-resume={run_dir.name}",
        f"--agent-trials={LARGE}",
        "--agent-dir=extended",
        "-p",
        "no:randomly",
        *workers,
    )
    assert extended.ret == pytest.ExitCode.OK
    extended.stdout.fnmatch_lines([f"*extending run {run_dir.name} from {SMALL} to {LARGE} trials per task*"])
    summary = _summary(run_dir)
    assert (summary["verdict"], summary["pairs_used"]) == (expected["verdict"], expected["pairs_used"])
    assert summary["llr"] == expected["llr"]
    records = read_trials(run_dir)
    assert max(_keys(records).values()) == 1  # no trial ran twice
    assert _keys(before) <= _keys(records)
    decided = json.loads((reference_dir / "decision.json").read_text())["seq"]
    assert {k for k, r in zip(_keys(records), records, strict=True) if r["seq"] <= decided} == {
        k
        for k, r in zip(_keys(read_trials(reference_dir)), read_trials(reference_dir), strict=True)
        if r["seq"] <= decided
    }
    assert _replayed(run_dir) == (expected["verdict"], expected["pairs_used"])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["run"]["trials"] == LARGE
    (extension,) = manifest["extensions"]
    assert (extension["from_trials"], extension["to_trials"]) == (SMALL, LARGE)
    assert extension["finished_trials"] == len(before)


def test_a_run_cannot_be_shrunk_or_extended_without_sprt(suite: pytest.Pytester) -> None:
    assert suite.runpytest(*COMMON, f"--agent-trials={SMALL}", "--agent-dir=small").ret == pytest.ExitCode.OK
    (run_dir,) = _runs(suite, "small")
    shrunk = suite.runpytest(f"--agent-resume={run_dir.name}", "--agent-trials=1", "--agent-dir=small")
    assert shrunk.ret == pytest.ExitCode.USAGE_ERROR
    shrunk.stderr.fnmatch_lines(["*--agent-trials=1 conflicts with the resumed run*"])
    fixed = ["--agent-config=configs/improved.json", SEED, "-p", "no:randomly", "--agent-trials=2", "--agent-dir=fixed"]
    assert suite.runpytest(*fixed).ret == pytest.ExitCode.OK
    (fixed_dir,) = _runs(suite, "fixed")
    refused = suite.runpytest(f"--agent-resume={fixed_dir.name}", "--agent-trials=5", "--agent-dir=fixed")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*--agent-trials=5: run * cannot be extended: a fixed-sample run*"])
