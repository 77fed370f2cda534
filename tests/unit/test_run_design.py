"""The run's sequential design: its question in CI, the cap derived from the calibrated design, and what a cap
given by the user delivers."""

from __future__ import annotations

import math

from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.run.sequential_design import (
    AUTO_DIRECTION_NOTE,
    assess_cap,
    derived_cap_pairs,
    design_for,
    resolve_direction,
    running_in_ci,
)


def test_ci_is_detected_by_the_variables_pytest_checks() -> None:
    assert running_in_ci({"CI": "true"})
    assert running_in_ci({"BUILD_NUMBER": "12"})
    assert not running_in_ci({"HOME": "/root"})


def test_in_ci_a_paired_sprt_run_asks_only_the_gate_question_unless_told_otherwise() -> None:
    gate = RunOptions(sprt=True)
    assert resolve_direction(gate, paired=True, environ={"CI": "1"}) == ("worse", AUTO_DIRECTION_NOTE)
    assert resolve_direction(gate, paired=True, environ={}) == ("both", None)
    explicit = RunOptions(sprt=True, direction="both", sources={"--agent-direction": "cli"})
    assert resolve_direction(explicit, paired=True, environ={"CI": "1"}) == ("both", None)
    # A fixed-sample run, or one config against a target, has no direction to choose.
    assert resolve_direction(RunOptions(), paired=True, environ={"CI": "1"}) == ("both", None)
    assert resolve_direction(gate, paired=False, environ={"CI": "1"}) == ("both", None)


def test_without_agent_trials_the_cap_is_the_pairs_the_calibrated_design_needs() -> None:
    design = design_for(0.05, 0.10, 0.15, "worse")
    assert design.source == "calibrated"
    assert design.required_pairs is not None
    options = RunOptions(sprt=True)
    assert derived_cap_pairs(options, paired=True, direction="worse") == design.required_pairs
    given = RunOptions(sprt=True, trials=10, sources={"--agent-trials": "cli"})
    assert derived_cap_pairs(given, paired=True, direction="worse") is None
    assert derived_cap_pairs(RunOptions(), paired=True, direction="worse") is None  # fixed sample
    # Settings the table does not calibrate: Wald's design, no derived cap.
    assert derived_cap_pairs(RunOptions(sprt=True, alpha=0.02), paired=True, direction="worse") is None


def test_a_cap_too_small_for_beta_is_said_with_the_power_it_delivers_and_the_trials_that_fix_it() -> None:
    design = design_for(0.05, 0.10, 0.15, "worse")
    small = assess_cap(design, tasks=10, trials=10)
    figures = design.at_cap(100)
    assert figures is not None
    assert small.figures == figures
    needed_pairs = design.pairs_for_miss(0.10)
    assert needed_pairs is not None
    assert small.trials_needed == math.ceil(needed_pairs / 10)
    assert small.warning() == (
        f"with 10 tasks x 10 trials (100 pairs) this run misses a regression of 0.15 up to "
        f"{100 * figures.miss:.0f} % of the time (at the least favourable discordance); "
        f"--agent-trials={small.trials_needed} gives at most 10 %"
    )
    enough = assess_cap(design, tasks=10, trials=small.trials_needed)
    assert enough.figures is not None
    assert enough.figures.miss <= 0.10
    assert enough.warning() is None
    summary = enough.as_dict()
    assert summary["power_at_cap"] == 1.0 - enough.figures.miss
    assert summary["alpha_at_cap"] is not None
    assert summary["alpha_at_cap"] <= 0.05


def test_settings_without_a_calibration_are_said_to_use_walds_bounds() -> None:
    design = design_for(0.02, 0.10, 0.15, "worse")
    assert design.source == "wald"
    warning = assess_cap(design, tasks=10, trials=10).warning()
    assert warning is not None
    assert "calibrated over the discordance for alpha 0.05, beta 0.1, effect 0.15" in warning
    assert "uses Wald's bounds" in warning
