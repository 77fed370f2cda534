"""The history commands: ``agentopt experiments``, ``pareto``, ``guidelines``, ``tasks`` and ``failures``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.analysis import guideline_impact, load_runs, load_trials, pareto_front
from pytest_agentopt.cli.analysis_common import render_table
from pytest_agentopt.cli.main import main
from tests.analysis.ledger_factory import arm_entry, run_summary, trial, write_run

A = arm_entry("exp_a", "ha", guidelines=["g1"])
B = arm_entry("exp_b", "hb", parent="exp_a", guidelines=["g1", "a rather long guideline " * 4])


@pytest.fixture
def agent_dir(tmp_path: Path) -> Path:
    records: list[dict[str, Any]] = []
    for index in range(12):
        for arm, entry, cost in (("control", A, 0.01), ("test", B, 0.004)):
            outcome = "success" if (index + (arm == "test")) % 3 else "failure"
            records.append(
                trial(run_id="r1", arm=arm, experiment_id=entry["experiment_id"], config_hash=entry["config_hash"],
                      task=f"task_{index % 4}", trial_index=index // 4, seq=len(records), outcome=outcome, cost=cost,
                      model="gpt-5" if arm == "test" else "gpt-4", message=f"expected {index} x SKU-{index}",
                      started_at=f"2026-11-{10 + index:02d}T00:00:00.000Z")
            )  # fmt: skip
    write_run(tmp_path, "r1", records, arms={"control": A, "test": B}, summary=run_summary(verdict="better"))
    return tmp_path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_pareto_json_is_the_api_result(agent_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys, "pareto", "--agent-dir", str(agent_dir), "--bootstrap", "200", "--seed", "5")
    assert result == pareto_front(load_trials(agent_dir), bootstrap=200, seed=5)
    assert [point["experiment_id"] for point in result["points"]] == ["exp_b", "exp_a"]
    assert result["front"] == ["hb"]


def test_each_command_prints_its_api_rows(agent_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    experiments = run_json(capsys, "experiments", "--agent-dir", str(agent_dir))
    assert [(row["experiment_id"], row["lineage"], row["verdict"]) for row in experiments] == [
        ("exp_a", ["exp_a"], None),
        ("exp_b", ["exp_b", "exp_a"], "better"),
    ]
    guidelines = run_json(capsys, "guidelines", "--agent-dir", str(agent_dir))
    assert guidelines == guideline_impact(load_runs(agent_dir), load_trials(agent_dir))
    assert guidelines[0]["pairs"] == 12
    tasks = run_json(capsys, "tasks", "--agent-dir", str(agent_dir))
    assert [row["code"] for row in tasks] == ["task_0", "task_1", "task_2", "task_3"]
    failures = run_json(capsys, "failures", "--agent-dir", str(agent_dir), "--run", "r1", "--limit", "1")
    assert [(row["signature"], row["count"]) for row in failures] == [("expected <n> x <id>", 8)]


def test_filters_select_the_trials(agent_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    only_b = run_json(capsys, "pareto", "--agent-dir", str(agent_dir), "--experiment", "exp_b", "--bootstrap", "20")
    assert [point["experiment_id"] for point in only_b["points"]] == ["exp_b"]
    by_model = run_json(capsys, "experiments", "--agent-dir", str(agent_dir), "--model", "gpt-4")
    assert [row["experiment_id"] for row in by_model] == ["exp_a"]
    recent = run_json(capsys, "pareto", "--agent-dir", str(agent_dir), "--since", "2026-11-20", "--bootstrap", "20")
    assert sum(point["trials"] for point in recent["points"]) == 4  # index 10 and 11, both arms
    one_task = run_json(capsys, "tasks", "--agent-dir", str(agent_dir), "--task", "task_2")
    assert [row["code"] for row in one_task] == ["task_2"]


@pytest.mark.parametrize("command", ["experiments", "pareto", "guidelines", "tasks", "failures"])
def test_tables_fit_the_terminal(
    command: str, agent_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main([command, "--agent-dir", str(agent_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 2
    assert max(len(line) for line in lines) <= 80


def test_render_table_wraps_long_text_first() -> None:
    text = render_table(("name", "figure"), [("word " * 30, "81.2% [64.7, 91.1]")], wrap=(0,), width=40)
    assert max(len(line) for line in text.splitlines()) <= 40
    assert "81.2% [64.7, 91.1]" in text  # the figure did not wrap


def test_render_table_never_breaks_an_identifier() -> None:
    ident = "exp-2026-11-23-baseline-gpt-5-mini"
    rows = [("exp-a <- " + ident, "gpt-5-mini", "a long explanation " * 4)]
    text = render_table(("lineage", "model", "why"), rows, wrap=(2,), width=60)
    assert max(len(line) for line in text.splitlines()) <= 60
    assert [line.split()[0] for line in text.splitlines()[2:4]] == ["exp-a", ident]  # wrapped at a space only
    narrow = render_table(("experiment", "model"), [(ident, "gpt-5-mini")], width=20)
    assert ident in narrow  # too wide for 20 columns: printed wider rather than broken


def test_piped_output_is_not_wrapped_to_80_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = arm_entry("exp-2026-11-23-baseline-gpt-5-mini", "h1")
    child = arm_entry("exp-2026-11-24-coupon-guideline-gpt-5-mini", "h2", parent=parent["experiment_id"])
    records = [
        trial(run_id="r1", arm=arm, experiment_id=entry["experiment_id"], config_hash=entry["config_hash"], seq=seq)
        for seq, (arm, entry) in enumerate([("control", parent), ("test", child)])
    ]
    write_run(tmp_path, "r1", records, arms={"control": parent, "test": child}, summary=run_summary(verdict="better"))
    monkeypatch.delenv("COLUMNS", raising=False)  # capsys's stdout is no terminal, like a pipe or a CI log
    assert main(["experiments", "--agent-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4  # header, rule, one line per experiment
    assert max(len(line) for line in lines) > 80
    assert f"{child['experiment_id']} <- {parent['experiment_id']}" in lines[3]


def test_user_errors_are_one_line_and_exit_2(agent_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pareto", "--agent-dir", str(agent_dir), "--since", "last tuesday"]) == 2
    assert "--since last tuesday: expected an ISO 8601 date" in capsys.readouterr().err
    assert main(["experiments", "--agent-dir", str(agent_dir / "nope")]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert main(["pareto", "--agent-dir", str(agent_dir), "--bootstrap", "0"]) == 2
    assert main(["failures", "--agent-dir", str(agent_dir), "--run", "r9"]) == 2
    assert main(["tasks", "--agent-dir", str(agent_dir), "--low", "0.9", "--high", "0.8"]) == 2


def test_an_empty_history_is_said_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pareto", "--agent-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"no scored trials under {tmp_path}\n"
    assert main(["experiments", "--agent-dir", str(tmp_path), "--model", "x"]) == 0
    assert capsys.readouterr().out == f"no experiments under {tmp_path} with these filters\n"


def test_a_run_whose_summary_lost_its_shape_has_no_verdict_and_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [trial(seq=0, arm="test", experiment_id="exp_b", config_hash="hb")]
    damaged = dict(run_summary(verdict="better"))
    del damaged["spend"]  # the verdict itself still reads, but nothing of this file can be trusted
    run = write_run(tmp_path, "r1", records, summary=damaged)
    (info,) = load_runs(tmp_path)
    assert info.verdict is None
    assert info.summary_problem == f"{run / 'summary.json'}: field 'spend': missing"
    assert "summary_problem" not in info.as_dict()
    experiments = run_json(capsys, "experiments", "--agent-dir", str(tmp_path))
    assert [row["verdict"] for row in experiments] == [None]
    assert main(["experiments", "--agent-dir", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert f"note: {run / 'summary.json'}: field 'spend': missing: the run's verdict is unknown" in err
