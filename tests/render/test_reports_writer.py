"""Writing the report files: what is asked for, appended to the job summary, and never an exception."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from pytest_agentopt.report import files as reports
from pytest_agentopt.report.files import STEP_SUMMARY_MINIMUM, write_reports, write_run_reports
from pytest_agentopt.report.render.markdown import GITHUB_STEP_SUMMARY_LIMIT
from pytest_agentopt.report.report_dict import ReportDict
from pytest_agentopt.storage.trial_record import TrialRecord
from tests.render.samples import ab_summary, full_report, pareto, pareto_point
from tests.render.test_render_csv import read, record


def write(report: ReportDict | None, notes: list[str], **paths: Path | None) -> bool:
    options: dict[str, Path | None] = {"md_path": None, "html_path": None, "csv_path": None, "step_summary": None}
    options.update(paths)
    return write_reports(report, trials=lambda: [record()], notes=notes, **options)


def test_it_does_nothing_and_imports_nothing_when_no_output_is_asked_for(tmp_path: Path) -> None:
    code = (
        "import sys, pathlib\n"
        "from pytest_agentopt.report.files import write_run_reports\n"
        "notes = write_run_reports(summary={}, run_dir=pathlib.Path('missing'), agent_dir=pathlib.Path('missing'))\n"
        "heavy = ('pytest_agentopt.report.render', 'pytest_agentopt.analysis')\n"
        "loaded = [m for m in sys.modules if m.startswith(heavy)]\n"
        "print(notes, loaded, 'numpy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60, check=True
    )
    assert result.stdout.strip() == "[] [] False"
    assert list(tmp_path.iterdir()) == []


def test_it_writes_each_requested_file_and_says_so(tmp_path: Path) -> None:
    notes: list[str] = []
    md, html, csv_path = tmp_path / "out" / "r.md", tmp_path / "out" / "r.html", tmp_path / "r.csv"
    assert write(full_report(), notes, md_path=md, html_path=html, csv_path=csv_path)
    assert md.read_text(encoding="utf-8").startswith("# agentopt run")
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert len(read(csv_path)) == 1
    assert notes == [
        f"wrote CSV of 1 trials to {csv_path}",
        f"wrote Markdown report to {md}",
        f"wrote HTML report to {html}",
    ]


def test_an_unwritable_path_becomes_a_note(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    notes: list[str] = []
    ok = write(
        full_report(),
        notes,
        md_path=blocker / "r.md",
        html_path=tmp_path / "r.html",
        csv_path=blocker / "r.csv",
    )
    assert not ok
    assert notes[0].startswith(f"error: could not write {blocker / 'r.csv'}: ")
    assert notes[1].startswith(f"error: could not write {blocker / 'r.md'}: ")
    assert notes[2] == f"wrote HTML report to {tmp_path / 'r.html'}"  # the others are still written


def test_the_step_summary_is_appended_to_never_overwritten(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step output\n", encoding="utf-8")
    notes: list[str] = []
    assert write(full_report(), notes, step_summary=summary)
    assert write(full_report(), notes, step_summary=summary)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step output\n\n# agentopt run")
    assert text.count("# agentopt run") == 2
    assert notes[-1] == f"appended the Markdown summary to $GITHUB_STEP_SUMMARY ({summary})"


def test_the_step_summary_stays_under_githubs_limit(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("x" * (GITHUB_STEP_SUMMARY_LIMIT - 10_000), encoding="utf-8")
    big = full_report()
    big["pareto"] = pareto([pareto_point(f"{'y' * 200}{i}", 0.5, 0.001, on_front=False) for i in range(3000)])
    notes: list[str] = []
    assert write(big, notes, step_summary=summary)
    assert summary.stat().st_size <= GITHUB_STEP_SUMMARY_LIMIT
    assert "cut" in summary.read_text(encoding="utf-8")[GITHUB_STEP_SUMMARY_LIMIT - 10_000 :]

    summary.write_text("x" * (GITHUB_STEP_SUMMARY_LIMIT - STEP_SUMMARY_MINIMUM + 10), encoding="utf-8")
    before = summary.read_text(encoding="utf-8")
    assert not write(big, notes, step_summary=summary)
    assert summary.read_text(encoding="utf-8") == before
    assert "the summary was not appended" in notes[-1]


def test_write_run_reports_never_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_: Any) -> dict[str, Any]:
        raise RuntimeError("analysis exploded")

    monkeypatch.setattr(reports, "build_run_report", broken)
    notes = write_run_reports(
        summary=ab_summary(), run_dir=tmp_path, agent_dir=tmp_path, md_path=tmp_path / "r.md", github_step_summary=None
    )
    assert notes == ["error: could not write the reports: RuntimeError: analysis exploded"]


def test_write_run_reports_writes_the_csv_from_the_runs_ledger(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "run-1"
    run_dir.mkdir(parents=True)
    lines = [json.dumps(record(trial=index)) for index in range(4)]
    (run_dir / "trials.jsonl").write_text("\n".join(lines) + '\n{"torn', encoding="utf-8")
    notes = write_run_reports(summary=ab_summary(), run_dir=run_dir, agent_dir=tmp_path, csv_path=tmp_path / "t.csv")
    assert notes == [f"wrote CSV of 4 trials to {tmp_path / 't.csv'}"]


def test_write_run_reports_uses_the_records_it_is_given_instead_of_reading_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_agentopt import analysis
    from pytest_agentopt.storage import ledger

    run_dir = tmp_path / "runs" / "run-1"
    run_dir.mkdir(parents=True)
    held = [
        cast(TrialRecord, record(trial=index, seq=index, outcome="success" if index % 2 else "failure"))
        for index in range(4)
    ]
    (run_dir / "trials.jsonl").write_text("\n".join(json.dumps(r) for r in held) + "\n", encoding="utf-8")
    manifest = {"schema": 1, "run_id": "run-1", "created_at": "2026-11-20T10:00:00.000Z", "arms": {}, "run": {}}
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    loaded: list[Any] = []
    load_trials = analysis.load_trials

    def counting_load(source: Any, **options: Any) -> Any:
        loaded.append(source)
        return load_trials(source, **options)

    def no_ledger(*_: Any) -> Any:
        raise AssertionError("the run's ledger was read although its records were given")

    monkeypatch.setattr(analysis, "load_trials", counting_load)
    monkeypatch.setattr(ledger, "read_ledger", no_ledger)
    md, csv_path = tmp_path / "r.md", tmp_path / "t.csv"
    summary = ab_summary()
    summary["settings"]["sprt"] = False  # a fixed-sample run: the report needs no sequential test's path
    notes = write_run_reports(
        summary=summary, run_dir=run_dir, agent_dir=tmp_path, md_path=md, csv_path=csv_path, records=held
    )
    assert notes == [f"wrote CSV of 4 trials to {csv_path}", f"wrote Markdown report to {md}"]
    assert loaded == [tmp_path]  # the history, for its Pareto front; the run itself: from memory
    assert [row["seq"] for row in read(csv_path)] == ["0", "1", "2", "3"]
    markdown = md.read_text(encoding="utf-8")
    assert "Trajectory metrics" in markdown
    assert "Failure clusters" in markdown
