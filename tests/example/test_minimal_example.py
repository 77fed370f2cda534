"""The minimal example runs end to end with the command the README's quickstart gives for it."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.stats.gsprt_dp import lattice_dp

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "benchmarks" / "minimal"


def documented_command() -> list[str]:
    """The quickstart's command for the minimal example (an indented line of README.md)."""
    lines = [line.strip() for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()]
    (command,) = [line for line in lines if line.startswith("pytest benchmarks/minimal ")]
    return shlex.split(command)


def test_the_example_names_the_readmes_command() -> None:
    docstring = (EXAMPLE / "test_coin_flip.py").read_text(encoding="utf-8")
    assert shlex.join(documented_command()) in docstring


def test_the_example_stays_minimal() -> None:
    assert len((EXAMPLE / "test_coin_flip.py").read_text(encoding="utf-8").splitlines()) <= 45
    assert sorted(path.name for path in EXAMPLE.glob("*.json")) == ["baseline.json", "careful.json"]


def test_the_store_examples_run_leaves_the_minimal_example_out() -> None:
    command = [sys.executable, "-m", "pytest", "benchmarks", "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*command, "--agent-config=configs/exp_042.json"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_store_tasks.py" in done.stdout
    assert "test_coin_flip" not in done.stdout


def test_the_readmes_command_decides_that_careful_is_better(tmp_path: Path) -> None:
    # Run the command exactly as documented, in a fresh project holding only the example (so that the run's
    # history lands there, not in this repository's .agentopt/).
    shutil.copytree(EXAMPLE, tmp_path / "benchmarks" / "minimal", ignore=shutil.ignore_patterns("__pycache__"))
    program, *arguments = documented_command()
    assert program == "pytest"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *arguments],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    design = design_for(0.05, 0.10, 0.15, "both")
    cap = design.required_pairs
    assert cap is not None
    # No --agent-trials: the cap is the calibrated design's, all of it on the one task.
    assert f"control coin_baseline vs test coin_careful, {cap} trials per task per arm" in output
    assert "params.skill: 0.5 -> 0.8" in output
    (summary_path,) = (tmp_path / ".agentopt" / "runs").glob("*/summary.json")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    # Both arms of a pair flip the same coin: a pair is a tie (probability 0.7) or a win for careful (0.3), never a
    # loss. On such pairs the test ends "better" or, mostly after 15 ties in a row, "no_difference" (about one run
    # in 210, as the README says); "worse" is impossible and an undecided run has a probability below 1e-14 (exact
    # figures below). Any other ending means that the pairing or the test is broken.
    exact = lattice_dp(
        delta=0.15,
        bounds=design.bounds,
        direction="both",
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids={"coin": np.array([[0.0, 0.7, 0.3]])},
    )["coin"]
    assert 1 / 215 < float(exact.no_difference[0]) < 1 / 205  # 0.7^15 plus the rarer paths with a few early wins
    assert float(exact.better[0]) > 0.99
    assert float(exact.worse[0]) == 0.0
    assert float(exact.undecided[0]) < 1e-14
    assert summary["verdict"] in ("better", "no_difference")
    assert summary["pairs"]["control_only"] == 0  # the same seed, so the same coin, for both arms of a pair
    assert f"verdict {summary['verdict'].upper().replace('_', ' ')} (sprt)" in output
