"""Each candidate's design and cap in a run with several candidates, and what its start-up warning says."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.run.sequential_design import assess_cap, candidate_design, derived_cap_pairs, design_for
from pytest_agentopt.stats.design import calibrated_design

PATHS = tuple(Path(f"configs/c{i}.json") for i in range(10))
CALIBRATED_K = tuple(range(2, 9))
"""Every K from 2 to 8: the shipped table holds alpha / K at the default alpha, beta and effect."""


@pytest.mark.parametrize("direction", ["both", "worse", "better"])
@pytest.mark.parametrize("k", CALIBRATED_K)
def test_with_a_calibrated_alpha_over_k_the_cap_is_its_required_pairs_and_every_rate_holds(
    k: int, direction: str
) -> None:
    design = calibrated_design(0.05 / k, 0.10, 0.15, direction)  # type: ignore[arg-type]
    assert design is not None
    assert design_for(0.05 / k, 0.10, 0.15, direction) == design
    assert candidate_design(k, 0.05, 0.10, 0.15, direction) == design
    assert design.required_pairs is not None
    options = RunOptions(config_path=PATHS[0], candidate_paths=PATHS[:k], sprt=True)
    assert derived_cap_pairs(options, paired=True, direction=direction) == design.required_pairs
    figures = design.at_cap(design.required_pairs)
    assert figures is not None
    assert figures.alpha <= 0.05 / k
    assert figures.beta <= 0.10
    assert figures.miss <= 0.10
    assert not figures.undecided_zone
    # At the derived cap the run states the exact figures and warns of nothing.
    tasks = 10
    at_cap = assess_cap(design, tasks=tasks, trials=math.ceil(design.required_pairs / tasks), candidate_count=k)
    assert at_cap.warning() is None
    section = at_cap.as_dict()
    assert section["boundaries"] == "calibrated"
    assert section["required_pairs"] == design.required_pairs
    rounded_up = design.at_cap(section["cap_pairs"])
    assert rounded_up is not None
    assert rounded_up.alpha <= 0.05 / k
    assert rounded_up.miss <= 0.10
    assert (section["alpha_at_cap"], section["miss_at_cap"]) == (rounded_up.alpha, rounded_up.miss)


@pytest.mark.parametrize("direction", ["both", "worse"])
def test_nine_candidates_keep_walds_bounds_the_trials_default_and_say_so(direction: str) -> None:
    """Beyond the calibrated counts a run is like any other setting without a calibration: Wald's bounds, no
    derived cap (``--agent-trials``' default), no exact figures, and a start-up warning that says so."""
    design = candidate_design(9, 0.05, 0.10, 0.15, direction)
    assert design.source == "wald"
    options = RunOptions(config_path=PATHS[0], candidate_paths=PATHS[:9], sprt=True)
    assert derived_cap_pairs(options, paired=True, direction=direction) is None
    at_cap = assess_cap(design, tasks=10, trials=50, candidate_count=9)
    section = at_cap.as_dict()
    assert section["boundaries"] == "wald"
    assert section["required_pairs"] is None
    assert section["trials_needed"] is None
    assert (section["alpha_at_cap"], section["beta_at_cap"], section["miss_at_cap"], section["power_at_cap"]) == (
        None,
        None,
        None,
        None,
    )
    warning = at_cap.warning()
    assert warning is not None
    assert warning.startswith("each of the 9 candidates' tests runs at alpha/9: ")
    assert "with alpha 0.00555556, beta 0.1, effect 0.15 it uses Wald's bounds" in warning


def test_other_family_wise_settings_without_a_calibration_derive_no_cap() -> None:
    other = RunOptions(config_path=PATHS[0], candidate_paths=PATHS[:3], sprt=True, effect=0.2)
    assert derived_cap_pairs(other, paired=True, direction="both") is None
    explicit = RunOptions(config_path=PATHS[0], candidate_paths=PATHS[:3], sprt=True, sources={"--agent-trials": "cli"})
    assert derived_cap_pairs(explicit, paired=True, direction="both") is None


def test_a_calibrated_candidates_cap_too_small_for_beta_is_said_per_candidate_with_the_trials_that_fix_it() -> None:
    design = design_for(0.0125, 0.10, 0.15, "both")
    assert design.source == "calibrated"
    small = assess_cap(design, tasks=10, trials=10, candidate_count=4)
    figures = design.at_cap(100)
    assert figures is not None
    needed = design.pairs_for_miss(0.10)
    assert needed is not None
    assert small.warning() == (
        "with 10 tasks x 10 trials (100 pairs) each of the 4 candidates' tests (alpha/4 = 0.0125, calibrated "
        f"boundaries) misses a difference of 0.15 (either way) up to {100 * figures.miss:.0f} % of the time (at the "
        f"least favourable discordance); --agent-trials={math.ceil(needed / 10)} gives at most 10 %"
    )
    section = small.as_dict()
    assert section["boundaries"] == "calibrated"
    assert (section["alpha_at_cap"], section["miss_at_cap"]) == (figures.alpha, figures.miss)
    assert design.required_pairs is not None
    enough = assess_cap(design, tasks=10, trials=math.ceil(design.required_pairs / 10), candidate_count=4)
    assert enough.warning() is None
