"""The embedded example run for several configs, then the history commands over its agent directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_agentopt.analysis import llr_path, load_runs, load_trials, pareto_front
from pytest_agentopt.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SINGLE = ("exp_041", "exp_043", "exp_044", "exp_045")


@pytest.fixture(scope="module")
def agent_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four single-config runs and one A/B sequential run (exp_041 -> exp_042), run side by side."""
    directory = tmp_path_factory.mktemp("example") / ".agentopt"
    base = [sys.executable, "-m", "pytest", "benchmarks", "-p", "no:randomly", "-p", "no:cacheprovider", "-q"]
    base += [f"--agent-dir={directory}"]
    commands = [
        [*base, f"--agent-config=configs/{config}.json", "--agent-control=none", "--agent-trials=2"]
        for config in SINGLE
    ]
    commands.append([*base, "--agent-config=configs/exp_042.json", "--sprt", "--agent-trials=10"])
    processes = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for command in commands
    ]
    for process in processes:
        output, _ = process.communicate(timeout=300)
        assert process.returncode in (0, 1), output  # agent failures are data, not a broken run
    return directory


def test_agentopt_pareto_shows_the_front_of_the_api(agent_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pareto", "--agent-dir", str(agent_dir), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == pareto_front(load_trials(agent_dir))
    # exp_041 ran alone and as the control of exp_042: one config, both ids' trials
    assert sorted(point["experiment_id"] for point in shown["points"]) == sorted(["exp_042", *SINGLE])
    assert shown["front"]
    assert shown["front"] == [
        p["config_hash"] for p in sorted(shown["points"], key=lambda p: p["cost_per_task_usd"]) if p["on_front"]
    ]
    for point in shown["points"]:
        others = [other for other in shown["points"] if other is not point]
        dominated = any(
            other["success_rate"] >= point["success_rate"]
            and other["cost_per_task_usd"] <= point["cost_per_task_usd"]
            and (
                other["success_rate"] > point["success_rate"] or other["cost_per_task_usd"] < point["cost_per_task_usd"]
            )
            for other in others
        )
        assert point["on_front"] is not dominated
    assert shown["kpi"]["statement"].startswith("Best success rate: ")


def test_the_recomputed_llr_path_ends_at_the_runs_decision(agent_dir: Path) -> None:
    (run,) = [run for run in load_runs(agent_dir) if run.paired]
    decision = json.loads((run.path / "decision.json").read_text())
    path = llr_path(load_trials(run.path).records(), alpha=0.05, beta=0.10, effect=0.15)
    assert (path["decided_at"], path["verdict"]) == (decision["units"], decision["verdict"])
    summary = json.loads((run.path / "summary.json").read_text())
    assert path["points"][-1]["better"] == summary["llr"]["better"]
    assert path["points"][-1]["worse"] == summary["llr"]["worse"]


def test_the_other_commands_run_on_the_example(agent_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("experiments", "guidelines", "tasks", "failures"):
        assert main([command, "--agent-dir", str(agent_dir), "--json"]) == 0
        assert json.loads(capsys.readouterr().out), command
    assert main(["guidelines", "--agent-dir", str(agent_dir), "--json"]) == 0
    guidelines = json.loads(capsys.readouterr().out)
    added = next(row for row in guidelines if row["child"] == "exp_042")
    assert (added["guideline"], added["change"], added["parent"], added["paired"]) == (
        "Check coupon limits first",
        "added",
        "exp_041",
        True,
    )


def test_the_runs_csv_export_replays_to_its_own_verdict_and_pairs(
    agent_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (run,) = [run for run in load_runs(agent_dir) if run.paired]
    exported = tmp_path / "trials.csv"
    assert main(["report", run.path.name, "--agent-dir", str(agent_dir), "--csv", str(exported)]) == 0
    capsys.readouterr()
    summary = json.loads((run.path / "summary.json").read_text())
    for source in (exported, run.path / "trials.jsonl"):
        assert main(["replay", str(source), "--json"]) == 0
        replayed = json.loads(capsys.readouterr().out)
        assert (replayed["verdict"], replayed["pairs_used"]) == (summary["verdict"], summary["pairs_used"])
        assert replayed["llr"] == summary["llr"]
