"""Smoke test of scripts/two_sided_bound.py on a tiny configuration (the full run's output is in docs/statistics.md)."""

from __future__ import annotations

import pytest

import scripts.two_sided_bound as script
from pytest_agentopt.stats.paired_oc import paired_test_oc
from pytest_agentopt.stats.planning import paired_outcome_probabilities


def test_it_prints_one_row_per_scenario_with_the_bounds_and_our_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A large effect keeps every computation to a fraction of a second.
    monkeypatch.setattr(script, "SCENARIOS", ((0.5, 0.8, 0.0), (0.5, 0.8, 1.0)))
    assert script.main(["--max-pairs", "40", "--steps", "3"]) == 0
    out = capsys.readouterr().out
    for header in ("one-sided bound", "ours, one-sided", "two-sided bound", "ours, two-sided", "lam_alpha / lam_beta"):
        assert header in out
    rows = [line for line in out.splitlines() if line.startswith("| 0.50 vs 0.80")]
    assert len(rows) == 4  # two scenarios, in the main table and in the details table
    null = paired_outcome_probabilities(0.5, 0.5)
    ours = paired_test_oc(null, alpha=0.05, beta=0.10, delta=0.3, max_pairs=2000, direction="better")
    assert f"| {ours.asn:.1f} (" in rows[0]
    assert "max pairs 40, 3 bisection steps" in out
