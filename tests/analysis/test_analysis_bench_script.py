"""Smoke tests of ``scripts/bench_analysis.py`` on a small ledger (timings are measured there, never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_agentopt.analysis import load_runs, load_trials
from pytest_agentopt.records import REQUIRED_FIELDS
from scripts import bench_analysis as bench


def test_the_generated_ledger_has_the_plugins_exact_shape(tmp_path: Path) -> None:
    written = bench.generate(tmp_path, 2000, 4)
    table = load_trials(tmp_path)
    assert len(table) == written
    assert table.problems == ()
    assert len(table.runs) == 4
    first = next((tmp_path / "runs").glob("*/trials.jsonl")).read_text().splitlines()[0]
    record = json.loads(first)
    assert set(record) == REQUIRED_FIELDS
    assert first == json.dumps(record, ensure_ascii=False, separators=(",", ":"))  # what LedgerWriter writes
    runs = load_runs(tmp_path)
    assert sum(run.paired for run in runs) == 3  # every fourth run is a single-config run
    assert {arm.experiment_id for run in runs for arm in run.arms.values()} >= {"baseline", "exp_101"}


def test_measure_and_report_produce_every_figure(tmp_path: Path) -> None:
    bench.generate(tmp_path, 1500, 2)
    result = bench.measure(tmp_path, 50, False)
    assert result["trials"] == len(load_trials(tmp_path))
    assert result["configs"] >= 2
    result.update({"written": result["trials"], "generate_s": 0.1, "cli_s": 1.0, "cli_peak_mb": 100.0})
    result["full"] = bench.measure(tmp_path, 50, True)
    lines = bench.report(result, "python scripts/bench_analysis.py --trials 1500")
    text = "\n".join(lines)
    assert "| **total in process** (target < 10 s) |" in text
    assert "Time: PASS" in text or "Time: FAIL" in text
    assert "KPI: Best success rate" in text
