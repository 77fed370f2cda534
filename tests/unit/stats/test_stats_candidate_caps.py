"""The shipped caps of runs with several candidates (``stats.candidate_caps``) and how a run uses them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.run.sequential_design import assess_cap, candidate_cap_for, derived_cap_pairs, design_for
from pytest_agentopt.stats.candidate_caps import SLACK, candidate_cap
from pytest_agentopt.stats.design import calibrated_design
from pytest_agentopt.stats.gsprt_dp import lattice_dp, trinomial_grid

PATHS = tuple(Path(f"configs/c{i}.json") for i in range(9))
CALIBRATED_K = (2, 3, 4, 5, 6, 8)
"""K whose alpha / K the calibrated table holds (the default beta and effect)."""
WALD_K = tuple(k for k in range(2, 9) if k not in CALIBRATED_K)


@pytest.mark.parametrize("direction", ["both", "worse", "better"])
@pytest.mark.parametrize("k", CALIBRATED_K)
def test_with_a_calibrated_alpha_over_k_the_cap_is_its_required_pairs_and_every_rate_holds(
    k: int, direction: str
) -> None:
    design = calibrated_design(0.05 / k, 0.10, 0.15, direction)  # type: ignore[arg-type]
    assert design is not None
    assert design_for(0.05 / k, 0.10, 0.15, direction) == design
    assert design.required_pairs is not None
    options = RunOptions(config_path=PATHS[0], candidate_paths=PATHS[:k], sprt=True)
    assert derived_cap_pairs(options, paired=True, direction=direction) == design.required_pairs
    # No Wald figures for it: the calibrated table's own figures at the cap are the run's.
    assert candidate_cap_for(k, 0.05, 0.10, 0.15, direction) is None
    assert candidate_cap(k, 0.05, 0.10, 0.15, direction) is None  # type: ignore[arg-type]
    figures = design.at_cap(design.required_pairs)
    assert figures is not None
    assert figures.alpha <= 0.05 / k
    assert figures.beta <= 0.10
    assert figures.miss <= 0.10
    assert not figures.undecided_zone


@pytest.mark.parametrize("direction", ["both", "worse", "better"])
@pytest.mark.parametrize("k", WALD_K)
def test_every_default_family_without_a_calibration_has_a_cap_with_its_exact_figures(k: int, direction: str) -> None:
    assert calibrated_design(0.05 / k, 0.10, 0.15, direction) is None  # type: ignore[arg-type]
    cap = candidate_cap(k, 0.05, 0.10, 0.15, direction)  # type: ignore[arg-type]
    assert cap is not None
    assert candidate_cap_for(k, 0.05, 0.10, 0.15, direction) == cap
    assert cap.alpha_per_candidate == pytest.approx(0.05 / k)
    # The cap's miss is within the slack of the untruncated test's, and larger caps need more pairs.
    assert cap.miss_no_cap <= cap.miss_at_cap <= cap.miss_no_cap + SLACK
    assert 0.09 < cap.miss_no_cap < 0.12
    # Wald's bounds at alpha/K exceed alpha/K at some discordances (4 - 14 % at the cap); the no-cap bound adds
    # what was still running when the DP stopped (under 0.001).
    assert cap.alpha_per_candidate < cap.alpha_at_cap < 1.15 * cap.alpha_per_candidate
    assert cap.alpha_at_cap <= cap.alpha_no_cap < cap.alpha_at_cap + 0.0011
    if k - 1 in WALD_K:
        smaller = candidate_cap(k - 1, 0.05, 0.10, 0.15, direction)  # type: ignore[arg-type]
        assert smaller is not None
        assert smaller.pairs < cap.pairs


def test_other_settings_have_no_shipped_cap() -> None:
    assert candidate_cap(4, 0.10, 0.10, 0.15, "both") is None
    assert candidate_cap(4, 0.05, 0.10, 0.10, "both") is None
    assert candidate_cap(9, 0.05, 0.10, 0.15, "both") is None


def test_a_run_with_several_candidates_without_a_calibration_derives_its_cap_from_the_wald_table() -> None:
    options = RunOptions(config_path=PATHS[0], candidate_paths=PATHS[:7], sprt=True)
    shipped = candidate_cap(7, 0.05, 0.10, 0.15, "both")
    assert shipped is not None
    assert derived_cap_pairs(options, paired=True, direction="both") == shipped.pairs
    # Given settings the table does not hold: the run keeps --agent-trials' default (the start-up note says so).
    other = RunOptions(config_path=PATHS[0], candidate_paths=PATHS[:3], sprt=True, effect=0.2)
    assert derived_cap_pairs(other, paired=True, direction="both") is None
    explicit = RunOptions(config_path=PATHS[0], candidate_paths=PATHS[:3], sprt=True, sources={"--agent-trials": "cli"})
    assert derived_cap_pairs(explicit, paired=True, direction="both") is None


def test_the_design_section_and_the_warning_give_the_shipped_figures_or_say_they_are_missing() -> None:
    shipped = candidate_cap(7, 0.05, 0.10, 0.15, "both")
    assert shipped is not None
    design = design_for(0.05 / 7, 0.10, 0.15, "both")
    assert design.source == "wald"
    tasks = 10
    at_cap = assess_cap(design, tasks=tasks, trials=math.ceil(shipped.pairs / tasks), candidates=shipped)
    section = at_cap.as_dict()
    assert section["miss_at_cap"] == shipped.miss_at_cap
    assert section["power_at_cap"] == pytest.approx(1 - shipped.miss_at_cap)
    assert section["alpha_at_cap"] == shipped.alpha_no_cap
    assert section["trials_needed"] == math.ceil(shipped.pairs / tasks)
    warning = at_cap.warning()
    assert warning is not None
    assert f"at most {100 * shipped.miss_at_cap:.1f} %" in warning
    assert "alpha/7 = 0.007143 with Wald's bounds" in warning
    small = assess_cap(design, tasks=tasks, trials=10, candidates=shipped).as_dict()
    assert small["miss_at_cap"] is None
    assert small["power_at_cap"] is None
    assert small["alpha_at_cap"] is None
    small_warning = assess_cap(design, tasks=tasks, trials=10, candidates=shipped).warning()
    assert small_warning is not None
    assert f"--agent-trials={math.ceil(shipped.pairs / tasks)}" in small_warning


def test_the_shipped_miss_is_the_exact_dp_at_the_cap_for_the_least_favourable_discordances() -> None:
    """Recompute K = 7, direction worse (one-sided), at the table's cap for a few discordances: no grid point
    misses more than the table says, and the worst of them reaches it (at high discordance, where truncation
    costs most)."""
    shipped = candidate_cap(7, 0.05, 0.10, 0.15, "worse")
    assert shipped is not None
    design = design_for(0.05 / 7, 0.10, 0.15, "better")
    discordances = np.array([0.85, 0.9, 0.95, 1.0])
    results = lattice_dp(
        delta=0.15,
        bounds=design.bounds,
        direction="better",
        max_pairs=shipped.pairs,
        grids={"up": trinomial_grid(discordances, 0.15)},
    )
    miss = 1.0 - results["up"].better
    assert miss.max() == pytest.approx(shipped.miss_at_cap, abs=1e-6)


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
