"""The hypothesis registry behind ``agentopt hypotheses``: status, spend, time to decision, velocity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.analysis.hypotheses import hypothesis_registry
from pytest_agentopt.cli.main import main
from tests.analysis.ledger_factory import run_summary


def write_run(
    agent_dir: Path,
    run_id: str,
    hypothesis: str | None,
    *,
    created: str,
    verdict: str | None = None,
    decided: str | None = None,
    finished: str | None = None,
    usd: float | None = 0.5,
    metric: dict[str, Any] | None = None,
) -> None:
    run = agent_dir / "runs" / run_id
    run.mkdir(parents=True)
    settings: dict[str, Any] = {"metric": metric, "hypothesis": {"id": hypothesis} if hypothesis else None}
    manifest = {"schema": 1, "run_id": run_id, "created_at": created, "run": settings, "arms": {}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    if verdict is not None:
        summary = run_summary(
            verdict=verdict,
            trials_started=40,
            spend={"usd": usd, "trials": 40, "unpriced": 0 if usd is not None else 40},
            effect={"estimate": 0.2, "lower": 0.05, "upper": 0.35, "method": "Newcombe 95%"},
            **({"finished_at": finished} if finished is not None else {}),
        )
        (run / "summary.json").write_text(json.dumps(summary))
    if decided is not None:
        (run / "decision.json").write_text(json.dumps({"verdict": verdict, "at": decided}))


def test_status_spend_time_to_decision_and_velocity(tmp_path: Path) -> None:
    agent_dir = tmp_path / ".agentopt"
    write_run(
        agent_dir,
        "r1",
        "h_a",
        created="2026-01-05T10:00:00+00:00",
        verdict="better",
        decided="2026-01-05T10:30:00+00:00",
        finished="2026-01-05T11:00:00+00:00",
    )
    write_run(
        agent_dir,
        "r2",
        "h_b",
        created="2026-01-05T12:00:00+00:00",
        verdict="not_better",
        decided="2026-01-05T12:10:00+00:00",
        finished="2026-01-05T12:20:00+00:00",
        usd=None,
    )
    write_run(
        agent_dir,
        "r3",
        "h_c",
        created="2026-01-13T09:00:00+00:00",
        verdict="inconclusive",
        finished="2026-01-13T10:00:00+00:00",
    )
    write_run(agent_dir, "r4", "h_d", created="2026-01-13T09:30:00+00:00")  # no summary yet
    write_run(agent_dir, "r5", None, created="2026-01-13T09:30:00+00:00", verdict="better")  # no hypothesis
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "next.hypothesis.json").write_text(json.dumps({"id": "h_e", "metric": "cost"}))
    (configs / "broken.hypothesis.json").write_text("{")
    rows, velocity = hypothesis_registry(agent_dir, [configs])
    by_id = {row.id: row for row in rows}
    assert sorted(by_id) == ["h_a", "h_b", "h_c", "h_d", "h_e"]
    assert by_id["h_a"].status == "accepted"
    assert by_id["h_a"].time_to_decision_s == 1800
    assert by_id["h_a"].usd == 0.5
    assert by_id["h_a"].sessions == 40
    assert by_id["h_a"].effect == {"kind": "rate difference", "estimate": 0.2, "lower": 0.05, "upper": 0.35}
    assert by_id["h_b"].status == "rejected"
    assert by_id["h_b"].usd is None  # unknown, not zero
    assert by_id["h_b"].usd_unpriced == 40
    assert by_id["h_c"].status == "inconclusive"
    assert by_id["h_c"].time_to_decision_s is None
    assert by_id["h_d"].status == "running"
    assert by_id["h_e"].status == "not run"
    assert by_id["h_e"].metric == "cost"
    # decided on 2026-01-05 (ISO week 2): two; busy 10:00-11:00, 12:00-12:20 and 09:00-10:00 on the 13th
    assert velocity["decided_per_week"] == {"2026-W02": 2}
    span = (8 * 24 * 60) * 60.0  # 2026-01-05T10:00 to 2026-01-13T10:00
    assert velocity["waiting_share"] == pytest.approx((60 + 20 + 60) * 60.0 / span)


def test_the_command_prints_the_table_and_the_velocity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # not the host's terminal width
    agent_dir = tmp_path / ".agentopt"
    write_run(
        agent_dir,
        "r1",
        "h_a",
        created="2026-01-05T10:00:00+00:00",
        verdict="better",
        decided="2026-01-05T10:30:00+00:00",
        finished="2026-01-05T11:00:00+00:00",
    )
    assert main(["hypotheses", "--agent-dir", str(agent_dir), "--configs", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert "h_a" in out
    assert "accepted" in out
    assert "30.0 min" in out
    assert "+0.200 [+0.050, +0.350]" in out
    assert "hypotheses decided per week: 2026-W02: 1" in out
    assert "share of wall time waiting for decisions: 100.0%" in out


def test_no_hypothesis_says_how_to_add_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".agentopt").mkdir()
    assert main(["hypotheses", "--agent-dir", str(tmp_path / ".agentopt"), "--configs", str(tmp_path)]) == 0
    assert "no hypothesis found" in capsys.readouterr().out


def test_a_summary_without_its_documented_shape_is_an_unknown_status_with_a_note(tmp_path: Path) -> None:
    agent_dir = tmp_path / ".agentopt"
    write_run(agent_dir, "r1", "h_a", created="2026-01-05T10:00:00+00:00", verdict="better")
    summary_path = agent_dir / "runs" / "r1" / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["spend"]["usd"] = "0.5"  # edited by hand: the dollars would otherwise be added up as text
    summary_path.write_text(json.dumps(summary))
    notes: list[str] = []
    (row,), _ = hypothesis_registry(agent_dir, [], notes)
    assert (row.status, row.verdict, row.usd, row.sessions) == ("unknown", None, None, 0)  # not "running", not 0 $
    assert notes == [
        f"{summary_path}: field 'spend.usd': expected float, got '0.5': the run's verdict, spend and effect are unknown"
    ]
