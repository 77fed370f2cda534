"""Smoke test of scripts/validate_drift.py: a few seeded runs through the real sequential test and drift report.

The full validation (1000 runs per scenario) is not part of the suite; its output is in docs/drift-validation.md.
"""

from __future__ import annotations

import pytest

from scripts.validate_drift import Scenario, main, simulate_run


def test_a_planted_step_increase_is_found_in_a_sequential_run() -> None:
    result = simulate_run(Scenario("steps +30 %", step_factor=1.3), seed=3)
    assert result["verdict"] is not None
    assert result["drift"]["status"] == "drift"
    assert "steps" in result["drift"]["moved"]
    assert result["drift"]["pairs"] + result["drift"]["pairs_other_outcome"] == result["pairs"]


def test_the_script_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", "2"]) in (0, 1)
    out = capsys.readouterr().out
    assert "command: python scripts/validate_drift.py --runs 2" in out
    assert out.count("| no change:") == 6
    assert out.count("| steps +30 %:") == 2
