"""Smoke test of scripts/validate_gate.py on a few runs (its full output lives in docs/validation.md)."""

from __future__ import annotations

import math

import pytest

import scripts.validate_gate as script
from pytest_agentopt.run.sequential_design import design_for


def test_it_runs_the_default_gate_through_the_real_machinery_and_reports_the_acceptance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenarios = (script.Scenario("worse", 0.60, 0.0, False), script.Scenario("worse", 0.45, 2.0, True))
    monkeypatch.setattr(script, "SCENARIOS", scenarios)
    rows = script.collect(runs=6, seed=5, processes=1)
    assert [row.scenario for row in rows] == list(scenarios)
    for row in rows:
        # Planned-prefix feeding: the 8-worker schedule takes the decisions of a single process, run by run.
        assert row.same == 1.0
        assert 0.0 <= row.fails.value <= 1.0
        assert row.pairs.value >= 1
        # Two sessions per pair used, plus at most 2 x 8 - 1 started beyond them (the dispatch window).
        assert row.started.value <= 2 * row.pairs.value + 15
    design = design_for(0.05, 0.10, 0.15, "worse")
    assert design.required_pairs is not None
    assert script.cap_trials("worse") == math.ceil(design.required_pairs / script.TASKS)
    text = script.report(rows, 6, 5, 1, 1.0)
    assert "no change passes the gate with probability >= 0.95" in text
    assert "a regression of 0.15 fails the gate with probability >= 0.9 (worse: regression -0.15, sigma 2, on" in text


def test_a_suite_calibrated_scenario_has_exactly_the_stated_rates_on_its_own_tasks() -> None:
    import numpy as np

    difficulty = np.random.default_rng(3).normal(0.0, 2.0, script.TASKS)
    for rate in (0.45, 0.60):
        intercept = script.suite_intercept(rate, difficulty)
        mean = float(np.mean(1.0 / (1.0 + np.exp(-(intercept + difficulty)))))
        assert mean == pytest.approx(rate, abs=1e-12)


def test_its_command_line_runs_chosen_scenarios_and_refuses_unknown_ones() -> None:
    label = "worse: regression -0.15, sigma 2, in the population"
    args = script.parse_args(["--runs", "10", "--scenario", label])
    assert args.scenario == [label]
    with pytest.raises(SystemExit):
        script.parse_args(["--scenario", "worse: something else"])


def test_the_dp_averaged_over_suites_is_the_population_dp_when_tasks_do_not_differ() -> None:
    # With (almost) no spread every suite's own pair distribution is the population's: the average over suites
    # equals the exact DP at the population's distribution, and every suite's drop is the population's 0.15.
    nearly_none = script.suite_spread(script.Scenario("worse", 0.45, 1e-6, False), suites=3, seed=1)
    exact = script.reference(script.Scenario("worse", 0.45, 0.0, False)).claim
    assert nearly_none.claim.value == pytest.approx(exact, abs=1e-6)
    assert nearly_none.drop.value == pytest.approx(0.15, abs=1e-6)
    assert [share for _, share, _ in nearly_none.by_drop] == [1.0]
    text = script.spread_report(nearly_none, script.Scenario("worse", 0.45, 1e-6, False))
    assert text.startswith("Exact DP averaged over 3 drawn suites")
