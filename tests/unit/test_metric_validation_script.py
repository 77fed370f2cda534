"""Smoke test of scripts/validate_metric_tests.py: a few seeded runs through the real tests.

The full validation (1000 runs per scenario) is not part of the suite; its output is in
docs/metric-tests-validation.md.
"""

from __future__ import annotations

import pytest

from scripts.validate_metric_tests import Scenario, main, simulate_run


def test_a_clear_saving_is_decided_better_and_the_truth_is_respected() -> None:
    saving = Scenario("numeric", 0.3, 0.75, noise=0.3, task_spread=0.0, runaway=0.0, error="not_better", nominal=0.1)
    verdict, pairs = simulate_run(saving, tasks=12, trials=10, seed=1)
    assert verdict == "better"
    assert pairs < 120
    dearer = Scenario("numeric", 2.0, 0.75, noise=0.3, task_spread=0.0, runaway=0.0, error="better", nominal=0.05)
    verdict, _ = simulate_run(dearer, tasks=12, trials=10, seed=1)
    assert verdict == "not_better"


def test_quality_drop_is_caught_by_cheaper_same_quality() -> None:
    worse = Scenario("csq", 0.5, 0.2, noise=0.3, task_spread=0.0, runaway=0.0, error="x", nominal=0.05)
    verdict, _ = simulate_run(worse, tasks=12, trials=20, seed=2)
    assert verdict == "worse_quality"


def test_the_script_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", "3", "--tasks", "6", "--trials", "5"]) in (0, 1)
    out = capsys.readouterr().out
    assert "command: python scripts/validate_metric_tests.py --runs 3 --tasks 6 --trials 5" in out
    assert out.count("| numeric:") == 4
    assert out.count("| csq:") == 10
