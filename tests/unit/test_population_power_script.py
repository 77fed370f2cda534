"""scripts/population_power.py on tiny configurations (its full output lives in docs/validation.md)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import scripts.population_power as script
import scripts.validate_gate as gate

SHIPPED = script.Candidate("shipped (beta 0.10)", None)


def test_the_shipped_row_is_the_gate_the_plugin_runs_and_the_report_prints_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    figures = script.evaluate(script.calibrate(SHIPPED), suites=2, seed=1)
    assert figures.running_at_cap < 1e-4
    assert script.gate_cap() == gate.TASKS * gate.cap_trials("worse")
    # The exact figures of the gate the plugin runs, as validate_gate.py's DP prints them (docs/validation.md:
    # pairs under no change 87.6 and 57.2, P(worse) at -0.15 0.9009 and 0.9015), against the one-sided bounds
    # 85.2 and 54.2; the worst-case rates are the shipped table's.
    text = script.cost_table([figures])
    assert "(vs 85.2 / 54.2)" in text
    assert "| shipped (beta 0.10) | 0.0495 / 0.0996" in text
    assert "87.6 (+2.8 %) / 57.2 (+5.6 %)" in text
    assert "0.9009 / 0.9015" in text
    monkeypatch.setattr(script, "SPREAD_CONTROLS", (0.60,))
    monkeypatch.setattr(script, "SPREAD_POPULATIONS", ((10, 2.0),))
    spread = script.spread_table(suites=2, seed=1)
    # The same two suites, read with the last look at the cap: the same power to the DP's precision.
    assert f"| {figures.population_power[1].value:.4f} ± " in spread
    assert "| 0.60 -> 0.45      | 0.9009" in spread


def test_a_population_without_spread_reads_as_the_suite() -> None:
    grids = script.population_grids((0.60,), ((10, 1e-9),), suites=3, seed=2)
    (distributions,) = grids.values()
    loss, tie, win = np.asarray(distributions).T
    assert loss == pytest.approx([0.60 * 0.55] * 3, abs=1e-8)
    assert win == pytest.approx([0.45 * 0.40] * 3, abs=1e-8)
    assert tie == pytest.approx(1.0 - loss - win)


def test_the_population_draws_are_validate_gates_own() -> None:
    # The same seed draws the same suites as validate_gate.py's suite-averaged DP, so the two scripts' population
    # readings of the shipped design agree.
    grids = script.population_grids((0.60,), ((10, 2.0),), suites=4, seed=7)
    rng = np.random.default_rng([7, zlib.crc32(b"suite spread")])
    expected, _ = gate.suite_pair_distributions(0.60, 0.45, 2.0, 10, 4, rng)
    assert np.allclose(grids["0.6/10/2"], expected, rtol=0.0, atol=1e-12)


def test_a_smaller_beta_costs_every_test_more_pairs() -> None:
    # The part of the cost no design avoids: the least pairs under no change rise as beta falls.
    bounds = [script.lower_bound(0.0, beta) for beta in (0.10, 0.09, 0.08)]
    assert bounds[0] < bounds[1] < bounds[2]
    assert bounds[2] / bounds[0] - 1.0 > 0.08


def test_its_command_line_refuses_betas_that_are_not_below_the_default() -> None:
    assert script.parse_args(["--betas", "0.09", "--suites", "10"]).betas == [0.09]
    assert script.parse_args(["--betas"]).betas == []
    for bad in (["--betas", "0.1"], ["--betas", "0"], ["--suites", "1"]):
        with pytest.raises(SystemExit):
            script.parse_args(bad)


@pytest.mark.slow
def test_calibrating_to_a_smaller_beta_holds_it_and_costs_pairs() -> None:
    candidate = script.Candidate("calibrated to beta 0.09", 0.09)
    calibrated = script.calibrate(candidate)
    assert calibrated.worst_beta <= 0.09 - 1e-4
    assert calibrated.worst_alpha <= 0.05 - 1e-4
    shipped = script.evaluate(script.calibrate(SHIPPED), suites=200, seed=1)
    smaller = script.evaluate(calibrated, suites=200, seed=1)
    assert smaller.asn_null[0] > shipped.asn_null[0]
    assert smaller.asn_null[1] > shipped.asn_null[1]
    assert all(s.value > p.value for s, p in zip(smaller.population_power, shipped.population_power, strict=True))


@pytest.mark.slow
def test_the_population_floor_validate_gate_checks_is_below_the_exact_reading() -> None:
    # validate_gate.py holds its population row (control 0.60, 10 tasks, sigma 2) to POPULATION_FLOOR: the exact
    # DP averaged over 1000 drawn suites must clear it by more than three standard errors over the suites.
    figures = script.evaluate(script.calibrate(SHIPPED), suites=1000, seed=20261205)
    reading = figures.population_power[script.POPULATIONS.index((10, 2.0))]
    assert reading.value - 3 * reading.standard_error > gate.POPULATION_FLOOR
